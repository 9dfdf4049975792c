"""Links to a product's page: every place a product is named links here."""

from __future__ import annotations

import streamlit as st

PRODUCT_PAGE = "views/product.py"


def product_link(product_id: str, label: str | None = None) -> None:
    """A link to the product page (its deep link is `/product?product=<id>`)."""
    st.page_link(PRODUCT_PAGE, label=label or product_id, icon=":material/dataset:",
                 query_params={"product": product_id})


def product_href(product_id: str) -> str:
    """Relative URL of a product's page, for links inside tables and markdown."""
    return f"./product?product={product_id}"
