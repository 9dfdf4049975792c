"""The Product page's tabs: schema, sample rows, quality, usage, lineage, duplicates and the descriptor.

Each tab reads from `catalog` for one viewer and draws; the page (views/product.py) only picks the product and
lays out its header. A tab never decides visibility: the viewer's policy and the library do.
"""

from __future__ import annotations

from datetime import date

import altair as alt
import polars as pl
import streamlit as st
from sqlglot import exp

import catalog
from catalog.access.policy import Policy
from catalog.charts import PALETTE, zoomed_domain
from catalog.descriptors.model import DataProduct
from catalog.errors import MeshError
from catalog.lineage.neighbourhood import neighbourhood
from catalog.numbers import format_percent
from catalog.scorecards.usage import consumers, weekly_usage
from components.badges import score_help
from components.cards import ago
from components.graph import lineage_chart
from components.links import ACCESS_PAGE, page_link, product_link
from components.tables import show_table
from components.tabs import tabbed
from components.text import code, md
from components.viewer import check_results, state

SAMPLE_ROWS = 20


def schema_frame(product: DataProduct) -> pl.DataFrame:
    """column, type, PII category, key, description: the declared schema as a table."""
    return pl.DataFrame(
        [{"column": c.name, "type": c.type, "PII": c.pii_category if c.pii else "", "key": "key" if c.key else "",
          "description": c.description} for c in product.columns],
        schema={"column": pl.String, "type": pl.String, "PII": pl.String, "key": pl.String, "description": pl.String})


def sample_rows(mesh: catalog.Mesh, product: DataProduct, role: str, user: str | None,
                limit: int = SAMPLE_ROWS) -> pl.DataFrame:
    """The first rows of the product's view as this viewer's role database serves it (masked as they see it);
    read from the view directly, so browsing a sample records no usage event."""
    database = mesh.engine.database_for(role, user)
    database.ensure({product.id})
    view = exp.table_(product.name, db=product.domain, catalog="memory", quoted=True)
    cursor = database.cursor()
    try:
        return cursor.execute(exp.select(exp.Star()).from_(view).limit(limit).sql("duckdb")).pl()
    finally:
        cursor.close()


def schema_tab(product: DataProduct, viewer: Policy, role: str) -> None:
    columns = schema_frame(product)
    if columns.is_empty():
        st.info("No columns declared.")
        return
    show_table(columns, config={"PII": st.column_config.TextColumn("PII", help="personal data category")})
    if product.pii_columns:
        masked = not viewer.sees_pii(product.id)
        st.caption(" ".join(f":violet-badge[{md(c.name)}: {md(c.pii_category)}]" for c in product.pii_columns)
                   + (f" · masked for **{md(role)}**" if masked else f" · visible to **{md(role)}**"))


def sample_rows_tab(mesh: catalog.Mesh, product: DataProduct, viewer: Policy, role: str, user: str | None) -> None:
    if product.broken:
        st.info("No sample: the product is broken.")
        return
    try:
        sample = sample_rows(mesh, product, role, user)
    except MeshError as exc:
        st.warning(f"Cannot read a sample: {md(exc)}")
        return
    show_table(sample, human=False)
    masked = [c.name for c in product.pii_columns if c.name in sample.columns]
    st.caption(f"First {len(sample)} rows as the role **{md(role)}** sees them"
               + (f"; personal data masked in: {md(', '.join(masked))}."
                  if masked and not viewer.sees_pii(product.id) else "."))


def quality_tab(mesh: catalog.Mesh, product: DataProduct, viewer: Policy) -> None:
    history = mesh.quality_history(product.id)
    if history.is_empty():
        st.info(f"Not checked yet. Run {code(f'meshwork check {mesh.root} {product.id}')} or open the Scorecards page.")
        return
    last = history.row(-1, named=True)
    cols = st.columns(3)
    cols[0].metric("Quality score", f"{last['score']:.1f}" if last["score"] is not None else "–", help=score_help())
    cols[1].metric("Grade", last["grade"] or "–")
    cols[2].metric("Failing checks", last["failed"])
    st.caption(f"Latest run {ago(last['ts'])} ({last['ts']:%Y-%m-%d %H:%M} UTC).")
    runs = mesh.quality_runs.runs(product.id, limit=1)
    if runs:
        results = pl.DataFrame([{"check": r.get("name"), "status": r.get("status"), "severity": r.get("severity"),
                                 "failing rows": r.get("failing"), "message": r.get("message") or ""}
                                for r in check_results(mesh, product.id, runs[0]["results"], viewer)],
                               schema={"check": pl.String, "status": pl.String, "severity": pl.String,
                                       "failing rows": pl.Int64, "message": pl.String})
        show_table(results)
    if history.height > 1:
        st.altair_chart(alt.Chart(history.select("ts", "score", "grade")).mark_line(point=True, color=PALETTE[0]).encode(
            x=alt.X("ts:T", title=None), y=alt.Y("score:Q", title="score", scale=alt.Scale(
                domain=zoomed_domain(history["score"].to_list()), nice=False)),
            tooltip=["ts:T", "score:Q", "grade:N"]).properties(height=200, title="Quality score over time"),
            width="stretch")


def usage_summary(mesh: catalog.Mesh, product_id: str) -> tuple[dict, pl.DataFrame, pl.DataFrame] | None:
    """(30-day metrics, queries and users per week, consumers) of a product, or None when nobody queried it;
    cached per newest usage event (and day, as the 30 days move), so a tab switch does not re-read them."""
    def compute() -> tuple[dict, pl.DataFrame, pl.DataFrame] | None:
        metrics = mesh.usage_metrics(product_id)
        events = mesh.usage(product_id)
        events = events.filter(pl.col("status") == "ok") if "status" in events.columns else events
        if events.is_empty():
            return None
        return (metrics.row(0, named=True) if metrics.height else {}), weekly_usage(events), consumers(events)

    return mesh.cache.get("app_usage_tab", (product_id, date.today()), compute, tables=("usage_events",))


def usage_tab(mesh: catalog.Mesh, product: DataProduct) -> None:
    summary = usage_summary(mesh, product.id)
    if summary is None:
        st.info("Nobody has queried this product yet.")
        return
    row, weekly, consuming = summary
    cols = st.columns(3)
    cols[0].metric("Queries (30 days)", row.get("queries", 0))
    cols[1].metric("Users (30 days)", row.get("users", 0))
    cols[2].metric("Consuming domains", row.get("consuming_domains", 0))
    st.altair_chart(alt.Chart(weekly).mark_line(point=True).encode(
        x=alt.X("week:T", title=None), y=alt.Y("count:Q", title=None), color=alt.Color("measure:N", title=None, scale=alt.Scale(range=list(PALETTE))),
        tooltip=["week:T", "measure:N", "count:Q"]).properties(height=200, title="Queries and users per week"),
        width="stretch")
    show_table(consuming)


def lineage_tab(mesh: catalog.Mesh, product: DataProduct, viewer: Policy) -> None:
    graph = neighbourhood(mesh.lineage_index, product.id, up=1, down=1, policy=viewer)
    if graph.number_of_nodes() <= 1:
        st.info("No upstream or downstream products.")
    else:
        lineage_chart(graph, key="product_lineage")
    for label, others in (("Reads from", sorted(mesh.upstreams(product.id))),
                          ("Read by", sorted(mesh.downstreams(product.id)))):
        shown = [o for o in others if state(mesh, o, viewer)]
        if others:
            st.markdown(f"**{label}**")
            for other in shown:
                product_link(other)
            if len(shown) < len(others):
                st.caption(f"and {len(others) - len(shown)} restricted product(s) you may not see")


def duplicates_tab(mesh: catalog.Mesh, product: DataProduct, viewer: Policy) -> None:
    dupes = mesh.duplicates(product.id, role=viewer.role, user=viewer.user)
    if dupes.is_empty():
        st.success("No product of another domain looks like a copy of this one.")
        return
    st.caption("Products kept by other domains that share most columns and, on a sample, the same key values.")
    for row in dupes.iter_rows(named=True):
        similar = format_percent(100 * row["score"])
        product_link(row["duplicate_id"], label=f"{row['duplicate_id']} · {similar} similar")
        st.caption(md(row["reason"]))


def descriptor_tab(mesh: catalog.Mesh, product: DataProduct) -> None:
    try:
        text = product.path.read_text(encoding="utf-8")
    except OSError as exc:
        text = f"# cannot read {product.path}: {exc.strerror}\n"
    st.code(text, language="yaml")
    st.download_button("Download descriptor", text, file_name=product.path.name, mime="application/x-yaml",
                       icon=":material/download:", key="download_descriptor")
    shown = product.path.relative_to(mesh.root) if product.path.is_relative_to(mesh.root) else product.path
    st.caption(f"{code(shown)} in mesh {md(mesh.name)}")


def agreements_of(mesh: catalog.Mesh, product: DataProduct, user: str | None) -> None:
    """The product's access agreements: all of them for its owners, the viewer's own for everyone else."""
    owners = mesh.access.owners_of(product.id)
    mine = user in owners
    frame = mesh.agreements.agreements(product.id, None if mine else (user or "-"))
    st.markdown("**Access agreements**" + ("" if mine else " (yours)"))
    if frame.is_empty():
        st.caption("None yet.")
        return
    show_table(frame.select("id", "requested_by", "consumer", "port", "kind", "status", "purpose", "expires_at"),
               human=False)


def terms_and_ports_tab(mesh: catalog.Mesh, product: DataProduct, user: str | None = None) -> None:
    """Each column's approved glossary terms, the product's own, its output ports (each with a Request access
    link) and agreements, and its input ports."""
    badges = mesh.term_badges(product.id)
    if badges.get(""):
        st.markdown("**Terms:** " + " ".join(f":blue-badge[{md(t.name)}]" for t in badges[""]))
    rows = [{"column": c.name, "terms": ", ".join(t.name for t in badges.get(c.name, [])),
             "definition": " / ".join(t.definition for t in badges.get(c.name, []))} for c in product.columns]
    show_table(pl.DataFrame(rows, schema={"column": pl.String, "terms": pl.String, "definition": pl.String}))
    ports = mesh.ports(product.id)
    st.markdown("**Output ports**")
    st.dataframe(pl.DataFrame([{"port": p.name, "kind": p.kind, "approval": p.approval, "location": p.location,
                                "description": p.description} for p in ports["output"]]),
                 hide_index=True, width="stretch")
    for port in ports["output"]:
        page_link(ACCESS_PAGE, f"Request access to port {port.name}", {"product": product.id, "port": port.name,
                                                                       "tab": "Request access"}, ":material/key:")
    agreements_of(mesh, product, user)
    st.markdown("**Input ports**")
    if not ports["input"]:
        st.caption("None: the product reads its own source.")
    for port in ports["input"]:
        product_link(port.product, label=f"{port.product} · {port.description}" if port.description else None)


def draw(mesh: catalog.Mesh, product: DataProduct, viewer: Policy, role: str, user: str | None) -> None:
    """Every tab of the product for this viewer (role, user and their policy), only the open one drawn."""
    tabbed({"Schema": lambda: schema_tab(product, viewer, role),
            "Sample rows": lambda: sample_rows_tab(mesh, product, viewer, role, user),
            "Quality": lambda: quality_tab(mesh, product, viewer),
            "Usage": lambda: usage_tab(mesh, product),
            "Lineage": lambda: lineage_tab(mesh, product, viewer),
            "Terms & ports": lambda: terms_and_ports_tab(mesh, product, user),
            "Possible duplicates": lambda: duplicates_tab(mesh, product, viewer),
            "Descriptor": lambda: descriptor_tab(mesh, product)})
