"""Defaults for omitted trailing arguments of the app's REST API (``/gradio_api/call/ask`` …).

Gradio's API page lists defaults for ``api_ask``'s optional parameters, yet a raw REST call that
sends only ``{"data": ["问题"]}`` fails (Gradio wants one value per input and streams
``{"error": null}``). This ASGI middleware pads such a request's ``data`` with the defaults of the
Python function's signature before Gradio sees it; calls that give every value pass unchanged.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

_API_PATH = re.compile(r"^(?:/gradio_api)?/(?:run|api|call(?:/v2)?)/(?P<name>[^/]+)/?$")
_MAX_BODY = 4 * 1024 * 1024
_REQUIRED = object()


def signature_defaults(fn: Callable[..., Any]) -> list[Any]:
    """Per parameter of ``fn``: its default, or a marker for a required parameter."""
    params = [p for p in inspect.signature(fn).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return [_REQUIRED if p.default is inspect.Parameter.empty else p.default for p in params]


def api_defaults(demo: Any) -> dict[str, list[Any]]:
    """api_name → parameter defaults, for the Blocks' functions exposed with ``gr.api``."""
    out: dict[str, list[Any]] = {}
    for block_fn in getattr(demo, "fns", {}).values():
        name, fn = getattr(block_fn, "api_name", None), getattr(block_fn, "fn", None)
        if not name or fn is None:
            continue
        try:
            defaults = signature_defaults(fn)
        except (TypeError, ValueError):
            continue
        if len(defaults) == len(getattr(block_fn, "inputs", []) or []):
            out[str(name)] = defaults
    return out


def pad(data: Any, defaults: list[Any]) -> Any:
    """``data`` extended with the defaults of the omitted trailing parameters (if all have one)."""
    if not isinstance(data, list) or len(data) >= len(defaults):
        return data
    missing = defaults[len(data):]
    if any(d is _REQUIRED for d in missing):
        return data
    return [*data, *missing]


class ApiDefaultsMiddleware:
    def __init__(self, app: Any, defaults: dict[str, list[Any]] | None = None) -> None:
        self.app = app
        self.defaults = defaults or {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        match = _API_PATH.match(scope.get("path", "")) if scope.get("type") == "http" else None
        if match is None or scope.get("method") != "POST" or match.group("name") not in self.defaults:
            await self.app(scope, receive, send)
            return
        body = b""
        more = True
        while more and len(body) <= _MAX_BODY:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if not more:
            try:
                payload = json.loads(body or b"{}")
                if isinstance(payload, dict) and "data" in payload:
                    padded = pad(payload["data"], self.defaults[match.group("name")])
                    if padded is not payload["data"]:
                        payload["data"] = padded
                        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            except ValueError:
                pass  # Gradio answers malformed JSON itself
        if not more:  # the whole body was read (and may have been padded)
            headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            scope = {**scope, "headers": headers}
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": more}
            return await receive()

        await self.app(scope, replay, send)
