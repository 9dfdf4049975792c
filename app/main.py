"""Meshwork app entry: the sidebar (mesh picker, role) and the page navigation."""

from __future__ import annotations

import streamlit as st

from pathlib import Path

from components import context

# A file of our own, served by this server: a `:material/...:` page icon makes the browser fetch the favicon
# from an outside font host, which fails offline and tells that host who opened the app.
ICON = Path(__file__).with_name("static") / "meshwork.png"
st.set_page_config(page_title="Meshwork", page_icon=str(ICON), layout="wide")

PAGES = [
    st.Page("views/home.py", title="Home", icon=":material/home:", url_path="home", default=True),
    st.Page("views/discover.py", title="Discover", icon=":material/search:", url_path="discover"),
    st.Page("views/product.py", title="Product", icon=":material/dataset:", url_path="product"),
    st.Page("views/lineage.py", title="Lineage", icon=":material/account_tree:", url_path="lineage"),
    st.Page("views/glossary.py", title="Glossary", icon=":material/menu_book:", url_path="glossary"),
    st.Page("views/workbench.py", title="Workbench", icon=":material/terminal:", url_path="workbench"),
    st.Page("views/marketplace.py", title="Access & alerts", icon=":material/storefront:", url_path="marketplace"),
    st.Page("views/dashboards.py", title="Dashboards", icon=":material/dashboard:", url_path="dashboards"),
    st.Page("views/scorecards.py", title="Scorecards", icon=":material/scoreboard:", url_path="scorecards"),
    st.Page("views/review.py", title="Owner review", icon=":material/rate_review:", url_path="review"),
    st.Page("views/incidents.py", title="Incidents", icon=":material/crisis_alert:", url_path="incidents"),
    st.Page("views/governance.py", title="Governance", icon=":material/policy:", url_path="governance"),
    st.Page("views/publish.py", title="Publish", icon=":material/publish:", url_path="publish"),
]

navigation = st.navigation(PAGES)
context.sidebar()
navigation.run()
