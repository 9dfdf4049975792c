"""Links between the app's pages. Every link carries the session's mesh and role (`?mesh=`, `?role=`), so
it lands on the same mesh as the same role in this tab, after a reload, in a new tab or in another browser;
page links navigate in the same tab.

A link only fills a page (a product to show, a cell's text, a form's product): what a page runs or writes
waits for the person's click, so a link someone else made cannot act in your name.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import polars as pl
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from components import context
from components.text import md

PRODUCT_PAGE = "views/product.py"
WORKBENCH_PAGE = "views/workbench.py"
LINEAGE_PAGE = "views/lineage.py"
ACCESS_PAGE = "views/marketplace.py"


def params(**page_params: str | None) -> dict[str, str]:
    """The page's own parameters plus the session's mesh and role."""
    return {**context.state_params(), **{k: v for k, v in page_params.items() if v is not None}}


def href(page: str, **page_params: str | None) -> str:
    """Relative URL of a page with its parameters and the session's mesh and role (tables, exports)."""
    return f"./{Path(page).stem}?{urlencode(params(**page_params))}"


def page_link(page: str, label: str, query_params: dict[str, str], icon: str, disabled: bool = False) -> None:
    """st.page_link (same tab) with the mesh and role added; a plain Markdown link to the same deep link when
    the script runs without the app's navigation (a page run alone, a notebook app, a test). `label` is shown
    as typed."""
    full = params(**query_params)
    try:
        st.page_link(page, label=md(label), icon=icon, query_params=full, disabled=disabled)
    except StreamlitPageNotFoundError:
        st.markdown(f"[{md(label)}](./{Path(page).stem}?{urlencode(full)})")


def product_link(product_id: str, label: str | None = None) -> None:
    """A link to the product page (its deep link is `/product?product=<id>`)."""
    page_link(PRODUCT_PAGE, label or product_id, {"product": product_id}, ":material/dataset:")


def product_href(product_id: str) -> str:
    """URL of a product's page, for link columns in tables."""
    return href(PRODUCT_PAGE, product=product_id)


def product_hrefs(column: str) -> pl.Expr:
    """A column of product page URLs from a column of product ids (ids are `[a-z0-9_.]`, nothing to encode);
    the mesh and role are read here, in the script's thread, not in Polars' worker threads."""
    return (pl.lit(f"{href(PRODUCT_PAGE)}&product=") + pl.col(column)).alias(column)


def workbench_link(query: str, label: str = "Open in workbench", disabled: bool = False) -> None:
    """A same-tab link to the Workbench with a new cell holding `query`, ready to run (not run)."""
    page_link(WORKBENCH_PAGE, label, {"sql": query}, ":material/terminal:", disabled=disabled)


def workbench_url(query: str) -> str:
    """URL of the Workbench with a new cell holding `query` (filled, not run)."""
    return href(WORKBENCH_PAGE, sql=query)
