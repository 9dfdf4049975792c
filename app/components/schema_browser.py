"""The schema browser beside the workbench: the products this role can see, by domain, with their columns,
types and how personal data appears to the role; a click on a product's or a column's name inserts it into the
query being written, and "New cell" starts a cell over a product.

A product's columns are drawn only while its expander is open: every column is a button, and drawing them all
for every product (hundreds of elements) made each workbench rerun, a query's included, cost seconds in the
browser."""

from __future__ import annotations

from typing import Callable

import polars as pl
import streamlit as st

from components.text import code, md


def schema_browser(schema: pl.DataFrame, on_pick: Callable[[str], None], on_insert: Callable[[str], None] | None = None,
                   key: str = "wb_schema") -> None:
    """`schema` is `Session.schema()`; `on_pick(product_id)` runs when a product's "New cell" is clicked,
    `on_insert(name)` when a product's or column's name is."""
    needle = st.text_input("Find a product or column", key=f"{key}_find", placeholder="e.g. customers, email",
                           label_visibility="collapsed").strip().lower()
    if needle:
        hit = (pl.col("product_id").str.contains(needle, literal=True)
               | pl.col("column").str.to_lowercase().str.contains(needle, literal=True)
               | pl.col("title").str.to_lowercase().str.contains(needle, literal=True))
        schema = schema.filter(pl.col("product_id").is_in(schema.filter(hit)["product_id"].unique().implode()))
    if schema.is_empty():
        st.caption("No product matches." if needle else "This role can see no products.")
        return
    for domain in schema["domain"].unique(maintain_order=True).to_list():
        st.markdown(f"**{md(domain)}**")
        products = schema.filter(pl.col("domain") == domain)
        for product_id in products["product_id"].unique(maintain_order=True).to_list():
            columns = products.filter(pl.col("product_id") == product_id)
            masked = int(columns["masked"].sum())
            label = md(product_id.split('.', 1)[1]) + (f"  · :orange[{masked} masked]" if masked else "")
            box = st.expander(label, expanded=bool(needle) and schema["product_id"].n_unique() <= 2,
                              key=f"{key}_open_{product_id}", on_change="rerun")
            if not box.open:  # drawn only once opened: a closed product costs the page one element, not 30
                continue
            with box:
                st.caption(md(columns["title"][0]))
                if on_insert is not None:
                    st.button(product_id, key=f"{key}_ins_{product_id}", type="tertiary", on_click=on_insert,
                              args=(product_id,), icon=":material/input:",
                              help="insert this product's name into the query")
                for row in columns.iter_rows(named=True):
                    flag = f" :orange[masked: {md(row['mask'])}]" if row["masked"] else (
                        " :green[personal data, unmasked]" if row["pii"] else "")
                    if on_insert is None:
                        st.markdown(f"- {code(row['column'])} {md(row['type'].lower())}{flag}")
                        continue
                    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
                        st.button(row["column"], key=f"{key}_ins_{product_id}_{row['column']}", type="tertiary",
                                  on_click=on_insert, args=(row["column"],), help="insert this column's name")
                        st.caption(f"{md(row['type'].lower())}{flag}")
                st.button("New cell", key=f"{key}_{product_id}", icon=":material/add:", on_click=on_pick,
                          args=(product_id,), help=f"a new cell with SELECT * FROM {product_id} LIMIT 100")
