"""A page's frame: its heading drawn first and alone, and an early end that still leaves the sidebar drawn.

Chromium draws, in one pass, every element that has arrived by the time it starts drawing. A page's script sends
its heading and then, a few milliseconds later, its tabs, tables and charts, so the heading used to wait for
the whole first screen: 150-200 ms of drawing on this project's machines, and half of what separated a page
from a one-line Streamlit page (bench/results/app.md). So `main.py` draws the sidebar after the page, and on a
page's first draw `title()` pauses for a moment after the heading: the browser draws the heading on its own,
then the rest. A rerun of the same page (a widget, a tab) does not pause: its heading is already on screen.

`end()` replaces `st.stop()` in our pages: `st.stop()` would also stop the sidebar drawn after the page, and
with it the mesh picker a person needs when a mesh cannot open.
"""

from __future__ import annotations

import time
from typing import NoReturn

import streamlit as st

FIRST_PAINT_S = 0.04  # long enough for the browser to start drawing the heading before the rest arrives
_FRESH, _LAST = "_page_fresh", "_page_last"


class PageEnd(Exception):
    """The page has shown all it has to say this run (a not-found page, a form that needs an answer first)."""


def end() -> NoReturn:
    """End the page's script here; the frame (the sidebar) is still drawn."""
    raise PageEnd


def run(chosen) -> None:
    """Run the chosen page (an `st.Page`), noting whether this run is its first draw in this session."""
    st.session_state[_FRESH] = st.session_state.get(_LAST) != chosen.url_path
    st.session_state[_LAST] = chosen.url_path
    try:
        chosen.run()
    except PageEnd:
        pass


def title(text: str, **options) -> None:
    """The page's heading (`st.title`), drawn alone on the page's first draw: see the module's docstring."""
    st.title(text, **options)
    if st.session_state.pop(_FRESH, False) and st.context.headers:  # a browser draws it (not AppTest)
        time.sleep(FIRST_PAINT_S)
