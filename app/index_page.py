"""The app's HTML page, told where its server is, so a deep link opens as fast as the front page.

Streamlit's page (index.html) finds its server by trying the page's own URL first: a link to
`/governance?…` asks `/governance/_stcore/health`, gets a 404, waits its 100 ms retry delay, then asks
`/_stcore/health`. Every link to a page but the front one paid that wait before anything was drawn. Streamlit
reads its embedding settings from `window.__streamlit`; one line there, `BACKEND_BASE_URL`, names the server
directly. It is worked out in the browser, from the page's own URL less its page name, so it stays right behind
a proxy that serves the app under a path prefix; a URL that does not end in one of the app's page names (the
front page, anything unknown) is left to Streamlit's own search.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

HEAD = b"<head>"


def base_url_script(page_paths: Iterable[str]) -> bytes:
    """The inline script that sets `window.__streamlit.BACKEND_BASE_URL` on a page URL (see the module doc)."""
    names = json.dumps(sorted(set(page_paths)))
    return ("<script>(() => {"
            "const parts = window.location.pathname.replace(/\\/+$/, '').split('/');"
            f"if (!{names}.includes(parts.pop())) return;"
            "window.__streamlit = Object.assign({}, window.__streamlit, "
            "{BACKEND_BASE_URL: window.location.origin + parts.join('/') + '/'});"
            "})();</script>").encode()


class WithBaseUrl:
    """ASGI wrapper of Streamlit's static files: an HTML answer (index.html, served for every page URL) gets the
    script right after `<head>`, before Streamlit's own module runs; everything else passes through untouched."""

    def __init__(self, app: Any, page_paths: Iterable[str]):
        self.app = app
        self.script = base_url_script(page_paths)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        held: dict[str, Any] = {}
        body = bytearray()

        async def send_with_script(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                if headers.get(b"content-type", b"").startswith(b"text/html") and b"content-encoding" not in headers:
                    held["start"] = message  # sent with the body, once its length is known
                    return
            elif "start" in held and message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
                if message.get("more_body"):
                    return
                page = bytes(body).replace(HEAD, HEAD + self.script, 1)
                start = held.pop("start")
                headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
                await send({**start, "headers": [*headers, (b"content-length", str(len(page)).encode())]})
                await send({"type": "http.response.body", "body": page})
                return
            await send(message)

        await self.app(scope, receive, send_with_script)


def install(app: Any, page_paths: Iterable[str]) -> None:
    """Wrap the static-files mount of the Starlette app Streamlit built (the route it names "static-assets")."""
    paths = list(page_paths)
    for route in app.router.routes:
        if getattr(route, "name", None) == "static-assets":
            route.app = WithBaseUrl(route.app, paths)
            return
    raise RuntimeError("Streamlit's server has no static-assets route to serve the app's page from")
