"""A popover holding a form, whose open state the server keeps.

Streamlit's default popover keeps its open state in the browser only: a rerun asked for by a widget inside it
(a choice, a committed text) could redraw the element and close it under the person's hand on a loaded
server (a browser test caught it). With a key and `on_change="rerun"` the server knows it is open and redraws
it open; and a closed one draws none of its content, so it costs nothing on the page's other reruns."""

from __future__ import annotations

import streamlit as st


def form_popover(label: str, key: str, icon: str | None = None):
    """The popover's container while it is open, else None (draw its content only when it is given)."""
    popover = st.popover(label, icon=icon, key=key, on_change="rerun")
    return popover if popover.open else None
