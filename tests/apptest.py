"""One way to open the app in Streamlit's AppTest, shared by the test_app_* files."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app" / "main.py")


def open_app(mesh: Path, page: str | None = None, params: dict[str, str | None] | None = None,
             timeout: float = 90, **state) -> AppTest:
    """Run `page` (or, with None, the app entry with its sidebar) on `mesh`, with session state and query
    params set first; params whose value is None are left out."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.session_state["mesh_path"] = str(mesh)
    for key, value in state.items():
        at.session_state[key] = value
    if page:
        at.switch_page(page)
    for key, value in (params or {}).items():
        if value is not None:
            at.query_params[key] = value
    return at.run()


def plain(text: str) -> str:
    """Markdown source as a reader sees it: the backslash escapes the app puts before user text removed."""
    return re.sub(r"\\(.)", r"\1", text)


def page_links(at: AppTest) -> list[dict[str, str]]:
    """Every page link as {label, page, and its query parameters}."""
    out = []
    for link in at.get("page_link"):
        entry = dict(parse_qsl(link.proto.query_string))
        out.append({**entry, "label": plain(link.proto.label), "page": link.proto.page})
    return out
