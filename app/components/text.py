"""Text from descriptors, checks, users and data, made safe for the places Streamlit renders Markdown.

Streamlit renders Markdown in `st.markdown`, `st.caption`, `st.title`, alerts, toasts, expander and widget
labels: a title holding `[x](javascript:…)`, `![](http://…)` or `:red[…]` would become a link, an image that
calls another host, or styling. Every string we did not write goes through `md` (shown as typed) or `code`
(shown in a code span); HTML is never allowed with such text (`unsafe_allow_html` only for our own markup, with
`html.escape` on anything inside it).
"""

from __future__ import annotations

import re

_MARKDOWN = re.compile(r"([\\`*_{}\[\]<>()#+!|~$:])")
_LIST = re.compile(r"^(\s*)(\d+)([.)])|^(\s*)([-=])")  # a leading list marker or rule
_SPACE = re.compile(r"\s+")


def md(text: object) -> str:
    """`text` shown literally inside Streamlit Markdown, on one line (no bold, links, images, HTML, LaTeX,
    lists, headings or colour directives)."""
    if text is None:
        return ""
    escaped = _MARKDOWN.sub(r"\\\1", _SPACE.sub(" ", str(text)))
    return _LIST.sub(lambda m: f"{m[1]}{m[2]}\\{m[3]}" if m[2] else f"{m[4]}\\{m[5]}", escaped)


def code(text: object) -> str:
    """`text` as an inline code span (nothing inside one is Markdown or HTML); backticks become quotes."""
    value = _SPACE.sub(" ", "" if text is None else str(text)).replace("`", "'").strip()
    return f"`{value}`" if value else ""

