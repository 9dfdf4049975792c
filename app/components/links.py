"""Links to a product's page: every place a product is named links here."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlencode

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

PRODUCT_PAGE = "views/product.py"


def page_link(page: str, label: str, query_params: dict[str, str], icon: str) -> None:
    """st.page_link; a plain Markdown link to the same deep link when the script runs without the app's
    navigation (a page run alone, a notebook app, a test)."""
    try:
        st.page_link(page, label=label, icon=icon, query_params=query_params)
    except StreamlitPageNotFoundError:
        st.markdown(f"[{label.replace('_', chr(92) + '_')}](./{Path(page).stem}?{urlencode(query_params)})")


def product_link(product_id: str, label: str | None = None) -> None:
    """A link to the product page (its deep link is `/product?product=<id>`)."""
    page_link(PRODUCT_PAGE, label or product_id, {"product": product_id}, ":material/dataset:")


def product_href(product_id: str) -> str:
    """Relative URL of a product's page, for links inside tables and markdown."""
    return f"./product?product={product_id}"


def workbench_url(query: str, role: str | None = None) -> str:
    """Relative URL that opens the Workbench with a new cell holding `query` (and, optionally, a role)."""
    url = f"./workbench?sql={quote(query, safe='')}"
    return url + (f"&role={quote(role, safe='')}" if role else "")
