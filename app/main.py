"""Meshwork app entry: the sidebar (mesh picker, role) and the page navigation."""

from __future__ import annotations

import streamlit as st

from pathlib import Path

from components import context, page
from navigation import DEFAULT, PAGES as PAGE_SPECS

# A file of our own, served by this server: a `:material/...:` page icon makes the browser fetch the favicon
# from an outside font host, which fails offline and tells that host who opened the app.
ICON = Path(__file__).with_name("static") / "meshwork.png"
st.set_page_config(page_title="Meshwork", page_icon=str(ICON), layout="wide")

PAGES = [st.Page(spec.script, title=spec.title, icon=spec.icon, url_path=spec.url_path, default=spec is DEFAULT)
         for spec in PAGE_SPECS]

chosen = st.navigation(PAGES)
mesh = context.settle()  # this run's mesh and role (a link may change them), and what a link did not get
try:
    page.run(chosen)
finally:  # after the page, so its heading is drawn first (components/page.py); also after a page's error
    context.sidebar(mesh)
