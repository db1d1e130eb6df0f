"""The login page tells a throttled user to wait (尝试过于频繁，请N秒后再试), not that the password is wrong.

``/login`` answers a throttled attempt with HTTP 429, ``{"detail": "尝试过于频繁，请N秒后再试"}`` and
``Retry-After`` (``AuthPolicy.authenticate``). Gradio's login form only reacts to 400 (its fixed
"wrong credentials" line) and shows nothing for any other status, so :class:`LoginNoticeMiddleware`
adds a small script to the HTML page: for a 429 from ``/login`` it lets the form show its message
line and puts the server's text in it (and restores the form's own text for a later 400).
JSON, files and the API pass through untouched.
"""

from __future__ import annotations

from .zh_page import HtmlPageMiddleware

SCRIPT = b"""<script>(() => {
  const original = window.fetch;
  let ownText = null;
  const show = (text) => setTimeout(() => {
    const line = document.querySelector(".creds");
    if (!line) return;
    if (ownText === null) ownText = line.textContent;
    line.textContent = text === null ? ownText : text;
    line.dataset.throttled = text === null ? "" : "1";
  }, 0);
  window.fetch = async (input, init) => {
    const url = typeof input === "string" ? input : (input && input.url) || "";
    const response = await original(input, init);
    if (!/\\/login\\/?$/.test(url.split("?")[0])) return response;
    if (response.status === 429) {
      let text = "\\u5c1d\\u8bd5\\u8fc7\\u4e8e\\u9891\\u7e41\\uff0c\\u8bf7\\u7a0d\\u540e\\u518d\\u8bd5";
      try { text = (await response.clone().json()).detail || text; } catch (e) { /* keep the default */ }
      show(text);
      return new Response(JSON.stringify({ detail: text }), { status: 400, headers: { "Content-Type": "application/json" } });
    }
    if (response.status === 400) show(null);
    return response;
  };
})();</script>"""


def add_script(body: bytes) -> bytes:
    if b"</head>" in body:
        return body.replace(b"</head>", SCRIPT + b"</head>", 1)
    return body


class LoginNoticeMiddleware(HtmlPageMiddleware):
    """ASGI middleware: add :data:`SCRIPT` to Gradio's HTML pages."""

    def rewrite(self, body: bytes) -> bytes:
        return add_script(body)
