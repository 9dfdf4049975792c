"""Links to a product's page: every place a product is named links here."""

from __future__ import annotations

from urllib.parse import quote

import streamlit as st

PRODUCT_PAGE = "views/product.py"


def product_link(product_id: str, label: str | None = None) -> None:
    """A link to the product page (its deep link is `/product?product=<id>`)."""
    st.page_link(PRODUCT_PAGE, label=label or product_id, icon=":material/dataset:",
                 query_params={"product": product_id})


def product_href(product_id: str) -> str:
    """Relative URL of a product's page, for links inside tables and markdown."""
    return f"./product?product={product_id}"


def workbench_url(query: str, role: str | None = None) -> str:
    """Relative URL that opens the Workbench with a new cell holding `query` (and, optionally, a role)."""
    url = f"./workbench?sql={quote(query, safe='')}"
    return url + (f"&role={quote(role, safe='')}" if role else "")
