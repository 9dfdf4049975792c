"""Tabs whose bodies run only when open.

Streamlit's default tabs run and send every tab on every rerun, so a page with seven tabs paid for seven. Lazy
tabs send only the open one (a tab switch is a short rerun instead), and the open tab lives in the URL
(`?tab=Quality`), so a tab can be linked to and survives a reload. Labels must therefore stay the same from run
to run: put counts in the page, not in a label.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import streamlit as st
from streamlit.elements.lib.mutable_tab_container import TabContainer

TAB_PARAM = "tab"


def lazy_tabs(labels: Sequence[str], key: str = TAB_PARAM) -> list[TabContainer]:
    """st.tabs that reruns on a switch and binds the open tab to `?tab=`; check `tab.open` before drawing."""
    return list(st.tabs(list(labels), key=key, on_change="rerun", bind="query-params"))


def tabbed(sections: Mapping[str, Callable[[], None]], key: str = TAB_PARAM) -> None:
    """Lazy tabs, one per section, drawing only the open section. They are a fragment: a tab switch, or a
    widget inside a tab, reruns only the tabs, not the sidebar and the page's header (a section that changes
    what the rest of the page shows calls `st.rerun()`, which reruns the whole page)."""

    @st.fragment
    def sections_fragment() -> None:
        for tab, draw in zip(lazy_tabs(list(sections), key=key), sections.values()):
            if tab.open:
                with tab:
                    draw()

    sections_fragment()
