"""Gradio's own page text in Chinese, whatever the browser's language (login, upload box, status lines).

Gradio translates its built-in strings (登录 / 用户名 / 密码, 将文件拖放到此处, 点击上传 …) by the browser's
language, and its login page is drawn before the app's configuration (and any custom translation) is loaded.
:class:`ChinesePageMiddleware` therefore edits the HTML page Gradio serves: it marks the document ``lang="zh-CN"``,
gives the browser tab the app's title, and runs a small script before Gradio's own that reports the browser
language as ``zh-CN`` and words the few stock messages an official would meet more plainly. JSON, files and the
API are passed through untouched.
"""

from __future__ import annotations

import json
from typing import Any

# Gradio's stock Chinese for a failed login ("凭据不正确") says nothing about throttling; ours does.
REPLACEMENTS = {
    "凭据不正确": "用户名或密码错误（连续失败多次后需稍等片刻再试）。",
    "Incorrect Credentials": "用户名或密码错误（连续失败多次后需稍等片刻再试）。",
}

_SCRIPT = """<script>(() => {
  const langs = ["zh-CN", "zh"];
  try {
    Object.defineProperty(Navigator.prototype, "language", { get: () => "zh-CN", configurable: true });
    Object.defineProperty(Navigator.prototype, "languages", { get: () => langs, configurable: true });
  } catch (e) { /* an old browser: Gradio falls back to its own choice */ }
  document.documentElement.lang = "zh-CN";
  const words = %s;
  const fix = (node) => {
    const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
    for (let t = walker.nextNode(); t; t = walker.nextNode()) {
      const text = t.nodeValue.trim();
      if (Object.prototype.hasOwnProperty.call(words, text)) t.nodeValue = words[text];
    }
  };
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === "characterData") { if (r.target.parentNode) fix(r.target.parentNode); continue; }
      for (const n of r.addedNodes) {
        if (n.nodeType === 1) fix(n); else if (n.nodeType === 3 && n.parentNode) fix(n.parentNode);
      }
    }
  }).observe(document.documentElement, { childList: true, subtree: true, characterData: true });
})();</script>"""


def page_head(title: str) -> bytes:
    """What goes right after ``<head>``: the charset stays first, then the title and the language script."""
    script = _SCRIPT % json.dumps(REPLACEMENTS, ensure_ascii=False)
    return f"<title>{title}</title>{script}".encode()


def rewrite_page(body: bytes, title: str) -> bytes:
    """The page with ``lang="zh-CN"`` and :func:`page_head` inserted after ``<head>``'s charset line."""
    text = body
    text = text.replace(b'lang="en"', b'lang="zh-CN"', 1)
    anchor = b'<meta charset="utf-8" />'
    if anchor in text:
        return text.replace(anchor, anchor + page_head(title), 1)
    return text.replace(b"<head>", b"<head>" + page_head(title), 1)


class HtmlPageMiddleware:
    """ASGI middleware that rewrites Gradio's HTML pages (uncompressed ``text/html`` answers to GET) with
    ``rewrite``; every other answer passes untouched. Written by hand: Starlette's middleware base buffers
    and re-sends streamed answers (the event stream of the page), which this one never touches."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def rewrite(self, body: bytes) -> bytes:
        return body

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "http" or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] | None = None
        chunks: list[bytes] = []

        async def wrapped(message: dict[str, Any]) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                kinds = {k.lower(): v for k, v in message.get("headers", [])}
                html = kinds.get(b"content-type", b"").startswith(b"text/html")
                if html and b"content-encoding" not in kinds:
                    start = message  # held back until the whole page is here
                    return
                await send(message)
                return
            if message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body = self.rewrite(b"".join(chunks))
                headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                headers.append((b"content-length", str(len(body)).encode()))
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": body, "more_body": False})
                return
            await send(message)

        await self.app(scope, receive, wrapped)


class ChinesePageMiddleware(HtmlPageMiddleware):
    """Gradio's HTML pages as :func:`rewrite_page` (Chinese texts, the app's title)."""

    def __init__(self, app: Any, title: str) -> None:
        super().__init__(app)
        self.title = title

    def rewrite(self, body: bytes) -> bytes:
        return rewrite_page(body, self.title)
