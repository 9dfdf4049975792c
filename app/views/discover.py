"""Discover: ranked search with facets over every product this role may see, and the duplicates report.

Deep link: `/discover?q=<words>`. Reads the mesh, asks `catalog.discover.search`, lays out result cards.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from catalog.discover.search import FACETS, SORTS, YES_NO
from components import context, page
from components.cards import result_card
from components.links import product_hrefs
from components.tables import show_table
from components.text import md
from components.viewer import policy, search

PAGE_SIZE = 10  # cards drawn at once (a screen shows about four); "Show more" adds as many again
FACET_LABELS = {"domain": "Domain", "tag": "Tag", "term": "Glossary term", "owner": "Owner", "status": "Status",
                "grade": "Quality grade", "pii": "Contains PII", "kind": "Source kind", "certified": "Certified by its owner"}
SORT_LABELS = {"relevance": "Relevance", "usage": "Usage (30 days)", "quality": "Quality score",
               "freshness": "Last refresh", "trust": "Trust (certified, then rating)"}

VIEWS = ["Cards", "List"]
FACET_SHOWN = 6  # values of a facet shown as boxes at once; the rest behind "more"


def facet_boxes(facet: str, values: list[tuple[str, int]]) -> list[str]:
    """One checkbox per value with its count in sight (`marketing (5)`); returns the ticked values."""
    if not values:
        return []
    st.caption(FACET_LABELS[facet])
    chosen = []
    first = st.container()  # the first values, then the rest folded below them
    more = st.expander(f"{len(values) - FACET_SHOWN} more") if len(values) > FACET_SHOWN else None
    for n, (value, count) in enumerate(values):
        where = first if n < FACET_SHOWN or more is None else more
        if where.checkbox(f"{value} ({count})", key=f"facet_{facet}_{value}"):
            chosen.append(value)
    return chosen


def result_list(hits: list, viewer) -> None:
    """The compact view: one row per product (a link, its title, domain, grade, usage, owner)."""
    rows = pl.DataFrame([{"product": h.product_id, "title": h.title, "domain": h.domain,
                          "quality": "locked" if viewer.is_locked(h.product_id) else h.grade,
                          "queries (30 d)": h.queries, "owner": h.owner, "certified": h.certified} for h in hits],
                        schema={"product": pl.String, "title": pl.String, "domain": pl.String, "quality": pl.String,
                                "queries (30 d)": pl.Int64, "owner": pl.String, "certified": pl.Boolean})
    show_table(rows.with_columns(product_hrefs("product")), human=False,
               config={"product": st.column_config.LinkColumn("product", display_text=r"product=(.*)$")},
               height=min(38 + 35 * rows.height, 740))


mesh = context.require_mesh()
viewer = policy(mesh)
page.title("Discover")


@st.fragment
def search_and_results() -> None:
    """The search box, facets and result cards: a search reruns only this part of the page, not the sidebar,
    the header or the duplicates report."""
    if "discover_q" not in st.session_state:
        st.session_state.discover_q = st.query_params.get("q", "")
    top = st.columns([6, 2])
    text = top[0].text_input("Search data products", key="discover_q",
                             placeholder="e.g. customer churn, lab results…",
                             help="Words are matched in ids, titles, descriptions, tags, owners, domains and "
                                  "columns; plurals and small typos still match.")
    sort = top[1].selectbox("Sort by", SORTS, format_func=SORT_LABELS.get, key="discover_sort")
    if text:
        st.query_params["q"] = text
    elif "q" in st.query_params:
        del st.query_params["q"]

    if st.session_state.get("discover_indexed") == str(mesh.root):
        options = search(mesh, text, viewer=viewer, limit=0).facets  # values the query alone leaves, for the filters
    else:  # only this session's first search may wait for the index; a spinner starts a thread on every run
        with st.spinner("Indexing the catalog…"):
            options = search(mesh, text, viewer=viewer, limit=0).facets
        st.session_state.discover_indexed = str(mesh.root)
    filters_col, results_col = st.columns([1, 3], gap="large")
    filters: dict[str, list] = {}
    with filters_col:
        st.markdown("**Filter**")
        for facet in FACETS:
            chosen = facet_boxes(facet, options[facet])
            if chosen:
                filters[facet] = [v == "yes" for v in chosen] if facet in YES_NO else chosen

    limit = st.session_state.get("discover_limit", PAGE_SIZE)
    results = search(mesh, text, viewer=viewer, sort=sort, limit=limit, **filters)

    with results_col:
        what = f"for **{md(text.strip()[:80])}**" if text.strip() else "in the catalog"
        st.markdown(f"**{results.total}** product{'s' if results.total != 1 else ''} {what}"
                    + (" with these filters" if filters else "") + f" · {results.elapsed_ms:.0f} ms")
        if results.corrections:
            read_as = ", ".join(f"*{md(w)}* as *{md(' / '.join(c))}*" for w, c in results.corrections.items())
            st.caption(f"Read {read_as}.")
        if not results.hits:
            st.info("No product matches. Try fewer or other words, or clear the filters." if text.strip() or filters
                    else "This mesh has no data products yet.")
        view = st.segmented_control("View", VIEWS, key="discover_view", default=VIEWS[0],
                                    label_visibility="collapsed") or VIEWS[0]
        if view == "List" and results.hits:
            result_list(results.hits, viewer)
        elif results.hits:
            for i, hit in enumerate(results.hits):
                result_card(hit, key=f"{i}", locked=viewer.is_locked(hit.product_id))
        if results.total > len(results.hits):
            st.button(f"Show more ({results.total - len(results.hits)} left)", key="discover_more",
                      on_click=st.session_state.update, kwargs={"discover_limit": limit + PAGE_SIZE})


search_and_results()

st.divider()
st.subheader("Possible duplicates across domains")
st.caption("Products kept by different domains that share most columns (by name and type) and, on a sample, "
           "the same key values: the multi-domain duplication a mesh should converge. A product built from "
           "another one (lineage) is not counted.")
if st.toggle("Look for duplicates", key="discover_duplicates"):
    with st.spinner("Comparing schemas and sampling key values…"):
        report = mesh.duplicates(role=viewer.role, user=viewer.user)  # pairs this viewer sees in full
    if report.is_empty():
        st.success("No likely duplicates between domains.")
    else:
        show_table(
            report.select(
                product_hrefs("product_id").alias("product"),
                product_hrefs("duplicate_id").alias("looks like"),
                (pl.col("score") * 100).round(0).alias("similarity %"), "reason"),
            config={"product": st.column_config.LinkColumn(display_text=r"product=(.*)$"),
                           "looks like": st.column_config.LinkColumn(display_text=r"product=(.*)$")})
