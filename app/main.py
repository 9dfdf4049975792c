"""Meshwork app entry: the sidebar (mesh picker, role) and the page navigation."""

from __future__ import annotations

import streamlit as st

from pathlib import Path

from components import context
from navigation import DEFAULT, PAGES as PAGE_SPECS

# A file of our own, served by this server: a `:material/...:` page icon makes the browser fetch the favicon
# from an outside font host, which fails offline and tells that host who opened the app.
ICON = Path(__file__).with_name("static") / "meshwork.png"
st.set_page_config(page_title="Meshwork", page_icon=str(ICON), layout="wide")

PAGES = [st.Page(page.script, title=page.title, icon=page.icon, url_path=page.url_path, default=page is DEFAULT)
         for page in PAGE_SPECS]

chosen = st.navigation(PAGES)
context.sidebar()
chosen.run()
