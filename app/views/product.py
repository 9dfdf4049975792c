"""Product: everything about one data product: overview, schema, sample rows masked for the role,
quality, usage, one hop of lineage, possible duplicates and the descriptor.

Deep link: `/product?product=<id>`; every place the app names a product links here. An id the viewer may
not see (or that does not exist) shows "not found"; a restricted product listed for discovery shows a locked
page with *Request access* filled in for it; the visibility policy decides which.
"""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st
from sqlglot import exp

from catalog.errors import MeshError
from catalog.lineage.neighbourhood import neighbourhood
from catalog.discover.search import product_hit
from components import context
from components.badges import grade_badge, score_help
from components.cards import ago, usage_text
from components.graph import lineage_chart
from components.links import ACCESS_PAGE, LINEAGE_PAGE, page_link, product_link, workbench_link
from components.tabs import tabbed
from components.text import code, md
from components.viewer import check_results, listed, policy, state

SAMPLE_ROWS = 20

mesh = context.require_mesh()
role = context.current_role(mesh)
user = context.current_user(mesh)
viewer = policy(mesh)


def not_found(asked: str) -> None:
    """The same page whether the id is unknown or hidden from this viewer: a URL never shows another product."""
    st.title("Product not found")
    st.info(f"There is no product {code(asked[:120])} in {md(mesh.title)} for the role **{md(role)}**. Check the "
            "link, or search the catalog.", icon=":material/search_off:")
    page_link("views/discover.py", "Search the catalog", {}, ":material/search:")


def locked_page(product_id: str) -> None:
    """A restricted product listed for discovery: who owns it and what it is, and a pre-filled request; no
    columns, samples, statistics or checks."""
    product = mesh.products[product_id]
    domain = mesh.domains.get(product.domain)
    trust = mesh.trust(product_id)
    st.title(md(product.title or product_id))
    st.markdown(f"{code(product_id)} :orange-badge[:material/lock: Restricted]"
                + (f" :green-badge[:material/verified: Certified by {md(trust.certified_by or '')}]"
                   if trust.certified else ""))
    st.markdown(md(product.description) if product.description else "*No description yet.*")
    overview = st.columns(3)
    overview[0].markdown(f"**Owner**  \n{md(product.owner) or 'none declared'}")
    overview[1].markdown(f"**Domain**  \n{md(domain.title if domain else product.domain)} ({code(product.domain)})")
    if trust.rating_avg:
        overview[2].markdown(f"**Rating**  \n★ {trust.rating_avg:.1f} ({trust.ratings})")
    st.info(f"The role **{md(role)}** may not read this product: its columns, sample rows, statistics and checks "
            "are shown once its owner grants you access.", icon=":material/lock:")
    page_link(ACCESS_PAGE, "Request access", {"product": product_id, "tab": "Request access"}, ":material/key:")


asked = st.query_params.get("product")
if asked is not None and state(mesh, asked, viewer) is None:
    not_found(asked)
    st.stop()
ids = listed(mesh, viewer)
if not ids:
    st.info("This mesh has no data products this role may see.")
    st.stop()
if asked and asked != st.session_state.get("product_asked"):
    st.session_state.product_pick = asked
    st.session_state.product_asked = asked
if st.session_state.get("product_pick") not in ids:
    st.session_state.product_pick = ids[0]
product_id = st.selectbox("Product", ids, key="product_pick", label_visibility="collapsed")
if st.query_params.get("product") != product_id:
    st.query_params["product"] = product_id
    st.session_state.product_asked = product_id
if state(mesh, product_id, viewer) == "locked":
    locked_page(product_id)
    st.stop()
product = mesh.products[product_id]
descriptor = product.descriptor
masked_here = not viewer.sees_pii(product_id)

# ------------------------------------------------------------------ header

hit = product_hit(mesh.search_index, product_id, policy=viewer)
st.title(md(product.title or product_id))
badges = [grade_badge(None if hit is None or hit.grade == "not checked" else hit.grade)]
trust = mesh.trust(product_id)
if trust.certified:
    badges.append(f":green-badge[:material/verified: Certified by {md(trust.certified_by or '')}]")
elif trust.lapsed:
    badges.append(":orange-badge[Certification lapsed]")
if product.pii_columns:
    badges.append(f":violet-badge[PII: {len(product.pii_columns)} column{'s' if len(product.pii_columns) != 1 else ''}]")
if product.broken:
    badges.append(":red-badge[Broken]")
st.markdown(f"{code(product_id)} " + " ".join(badges))
if product.broken:
    st.error(f"This product cannot be read: {md(mesh.problem_summary(product_id))}")
query = exp.select(exp.Star()).from_(exp.table_(product.name, db=product.domain)).limit(100).sql("duckdb")
with st.container(horizontal=True):
    workbench_link(query, disabled=product.broken)
    page_link(LINEAGE_PAGE, "Lineage", {"product": product_id}, ":material/account_tree:")
    page_link(ACCESS_PAGE, "Request access", {"product": product_id, "tab": "Request access"}, ":material/key:")

# ------------------------------------------------------------------ overview

st.markdown(md(product.description) if product.description else "*No description yet.*")
domain = mesh.domains.get(product.domain)
sla = descriptor.sla
sla_text = (f"fresh within {sla.freshness_hours:g} h" + (f" (by {code(sla.timestamp_column)})" if sla.timestamp_column else "")
            if getattr(sla, "freshness_hours", None) else "none declared")
overview = st.columns(4)
overview[0].markdown(f"**Owner**  \n{md(product.owner) or 'none declared'}")
overview[1].markdown(f"**Domain**  \n{md(domain.title if domain else product.domain)} ({code(product.domain)})")
overview[2].markdown(f"**Status · version**  \n{md(str(descriptor.status))} · v{md(descriptor.version)}")
overview[3].markdown(f"**SLA**  \n{sla_text}")
facts = [f"source **{md(product.kind)}**", f"refreshed {ago(hit.refreshed_at) if hit else 'unknown'}",
         usage_text(hit.queries, hit.trend) if hit else ""]
if trust.rating_avg:
    facts.append(f"★ {trust.rating_avg:.1f} ({trust.ratings} rating{'s' if trust.ratings != 1 else ''})")
st.caption(" · ".join(f for f in facts if f) + ("  \nTags: " + ", ".join(code(t) for t in product.tags)
                                                 if product.tags else ""))


def schema_tab() -> None:
    columns = pl.DataFrame(
        [{"column": c.name, "type": c.type, "PII": c.pii_category if c.pii else "", "key": "key" if c.key else "",
          "description": c.description} for c in product.columns],
        schema={"column": pl.String, "type": pl.String, "PII": pl.String, "key": pl.String, "description": pl.String})
    if columns.is_empty():
        st.info("No columns declared.")
    else:
        st.dataframe(columns, hide_index=True, width="stretch",
                     column_config={"PII": st.column_config.TextColumn("PII", help="personal data category")})
        if product.pii_columns:
            st.caption(" ".join(f":violet-badge[{md(c.name)}: {md(c.pii_category)}]" for c in product.pii_columns)
                       + (f" · masked for **{md(role)}**" if masked_here else f" · visible to **{md(role)}**"))


def sample_rows_tab() -> None:
    if product.broken:
        st.info("No sample: the product is broken.")
    else:
        try:
            database = mesh.engine.database_for(role, user)
            database.ensure({product_id})
            view = exp.table_(product.name, db=product.domain, catalog="memory", quoted=True)
            cursor = database.cursor()
            try:
                sample = cursor.execute(exp.select(exp.Star()).from_(view).limit(SAMPLE_ROWS).sql("duckdb")).pl()
            finally:
                cursor.close()
            st.dataframe(sample, hide_index=True, width="stretch")
            masked = [c.name for c in product.pii_columns if c.name in sample.columns]
            st.caption(f"First {len(sample)} rows as the role **{md(role)}** sees them"
                       + (f"; personal data masked in: {md(', '.join(masked))}." if masked and masked_here else "."))
        except MeshError as exc:
            st.warning(f"Cannot read a sample: {md(exc)}")


def quality_tab() -> None:
    history = mesh.quality_history(product_id)
    if history.is_empty():
        st.info(f"Not checked yet. Run {code(f'meshwork check {mesh.root} {product_id}')} or open the Scorecards page.")
    else:
        last = history.row(-1, named=True)
        cols = st.columns(3)
        cols[0].metric("Quality score", f"{last['score']:.1f}" if last["score"] is not None else "–",
                       help=score_help())
        cols[1].metric("Grade", last["grade"] or "–")
        cols[2].metric("Failing checks", last["failed"])
        st.caption(f"Latest run {ago(last['ts'])} ({last['ts']:%Y-%m-%d %H:%M} UTC).")
        runs = mesh.quality_runs.runs(product_id, limit=1)
        if runs:
            results = pl.DataFrame([{"check": r.get("name"), "status": r.get("status"), "severity": r.get("severity"),
                                     "failing rows": r.get("failing"), "message": r.get("message") or ""}
                                    for r in check_results(mesh, product_id, runs[0]["results"], viewer)],
                                   schema={"check": pl.String, "status": pl.String, "severity": pl.String,
                                           "failing rows": pl.Int64, "message": pl.String})
            st.dataframe(results, hide_index=True, width="stretch")
        if history.height > 1:
            st.altair_chart(alt.Chart(history.select("ts", "score", "grade")).mark_line(point=True).encode(
                x=alt.X("ts:T", title=None), y=alt.Y("score:Q", title="score", scale=alt.Scale(domain=[0, 100])),
                tooltip=["ts:T", "score:Q", "grade:N"]).properties(height=200, title="Quality score over time"),
                width="stretch")


def usage_tab() -> None:
    metrics = mesh.usage_metrics(product_id)
    events = mesh.usage(product_id)
    events = events.filter(pl.col("status") == "ok") if "status" in events.columns else events
    if events.is_empty():
        st.info("Nobody has queried this product yet.")
    else:
        row = metrics.row(0, named=True) if metrics.height else {}
        cols = st.columns(3)
        cols[0].metric("Queries (30 days)", row.get("queries", 0))
        cols[1].metric("Users (30 days)", row.get("users", 0))
        cols[2].metric("Consuming domains", row.get("consuming_domains", 0))
        weekly = (events.with_columns(pl.col("ts").dt.truncate("1w").alias("week"))
                  .group_by("week").agg(queries=pl.len(), users=pl.col("user").n_unique()).sort("week"))
        long = weekly.unpivot(index="week", on=["queries", "users"], variable_name="measure", value_name="count")
        st.altair_chart(alt.Chart(long).mark_line(point=True).encode(
            x=alt.X("week:T", title=None), y=alt.Y("count:Q", title=None), color=alt.Color("measure:N", title=None),
            tooltip=["week:T", "measure:N", "count:Q"]).properties(height=200, title="Queries and users per week"),
            width="stretch")
        consumers = (events.group_by(pl.col("consumer_domain").fill_null("(unknown)").alias("consuming domain"))
                     .agg(queries=pl.len(), users=pl.col("user").n_unique()).sort("queries", descending=True))
        st.dataframe(consumers, hide_index=True, width="stretch")


def lineage_tab() -> None:
    graph = neighbourhood(mesh.lineage_index, product_id, up=1, down=1, policy=viewer)
    if graph.number_of_nodes() <= 1:
        st.info("No upstream or downstream products.")
    else:
        lineage_chart(graph, key="product_lineage")
    for label, others in (("Reads from", sorted(mesh.upstreams(product_id))),
                          ("Read by", sorted(mesh.downstreams(product_id)))):
        shown = [o for o in others if state(mesh, o, viewer)]
        if others:
            st.markdown(f"**{label}**")
            for other in shown:
                product_link(other)
            if len(shown) < len(others):
                st.caption(f"and {len(others) - len(shown)} restricted product(s) you may not see")


def duplicates_tab() -> None:
    dupes = mesh.duplicates(product_id, role=viewer.role, user=viewer.user)
    if dupes.is_empty():
        st.success("No product of another domain looks like a copy of this one.")
    else:
        st.caption("Products kept by other domains that share most columns and, on a sample, the same key values.")
        for row in dupes.iter_rows(named=True):
            product_link(row["duplicate_id"], label=f"{row['duplicate_id']} · {row['score']:.0%} similar")
            st.caption(md(row["reason"]))


def descriptor_tab() -> None:
    try:
        text = product.path.read_text(encoding="utf-8")
    except OSError as exc:
        text = f"# cannot read {product.path}: {exc.strerror}\n"
    st.code(text, language="yaml")
    st.download_button("Download descriptor", text, file_name=product.path.name, mime="application/x-yaml",
                       icon=":material/download:", key="download_descriptor")
    shown = product.path.relative_to(mesh.root) if product.path.is_relative_to(mesh.root) else product.path
    st.caption(f"{code(shown)} in mesh {md(mesh.name)}")


tabbed({"Schema": schema_tab, "Sample rows": sample_rows_tab, "Quality": quality_tab, "Usage": usage_tab,
        "Lineage": lineage_tab, "Possible duplicates": duplicates_tab, "Descriptor": descriptor_tab})
