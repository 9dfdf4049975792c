"""Product: everything about one data product: overview, schema, sample rows masked for the role,
quality, usage, one hop of lineage, possible duplicates and the descriptor.

Deep link: `/product?product=<id>`; every place the app names a product links here. An id the viewer may
not see (or that does not exist) shows "not found"; a restricted product listed for discovery shows a locked
page with *Request access* filled in for it; the visibility policy decides which.
"""

from __future__ import annotations

import streamlit as st
from sqlglot import exp

from catalog.discover.search import product_hit
from catalog.numbers import hours_text
from components import context, page, product_tabs
from components.badges import grade_badge, latest_cap
from components.cards import ago, usage_text
from components.links import ACCESS_PAGE, LINEAGE_PAGE, page_link, workbench_link
from components.text import code, md
from components.viewer import listed, policy, state

mesh = context.require_mesh()
role = context.current_role(mesh)
user = context.current_user(mesh)
viewer = policy(mesh)


def not_found(asked: str) -> None:
    """The same page whether the id is unknown or hidden from this viewer: a URL never shows another product."""
    page.title("Product not found")
    st.info(f"There is no product {code(asked[:120])} in {md(mesh.title)} for the role **{md(role)}**. Check the "
            "link, or search the catalog.", icon=":material/search_off:")
    page_link("views/discover.py", "Search the catalog", {}, ":material/search:")


def locked_page(product_id: str) -> None:
    """A restricted product listed for discovery: who owns it and what it is, and a pre-filled request; no
    columns, samples, statistics or checks."""
    product = mesh.products[product_id]
    domain = mesh.domains.get(product.domain)
    trust = mesh.trust(product_id)
    page.title(md(product.title or product_id))
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
    page.end()
ids = listed(mesh, viewer)
if not ids:
    st.info("This mesh has no data products this role may see.")
    page.end()
if asked and asked != st.session_state.get("product_asked"):
    st.session_state.product_pick = asked
    st.session_state.product_asked = asked
if st.session_state.get("product_pick") not in ids:
    st.session_state.product_pick = ids[0]
product_id = st.session_state.product_pick  # the picker's choice; the picker is drawn after the heading:
picker = st.container()  # above it on the page, filled once the heading is on its way (components/page.py)


def draw_picker() -> None:
    picker.selectbox("Product", ids, key="product_pick", label_visibility="collapsed")


if st.query_params.get("product") != product_id:
    st.query_params["product"] = product_id
    st.session_state.product_asked = product_id
if state(mesh, product_id, viewer) == "locked":
    locked_page(product_id)
    draw_picker()
    page.end()
product = mesh.products[product_id]
descriptor = product.descriptor

# ------------------------------------------------------------------ header

page.title(md(product.title or product_id))  # first: the heading is drawn before the index is read
draw_picker()
hit = product_hit(mesh.search_index, product_id, policy=viewer)
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
capped = latest_cap(mesh, product_id)
if capped:
    st.caption(f":orange[:material/info: {md(capped)} (the grade is capped at B while it fails).]")
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
sla_text = (f"fresh within {hours_text(sla.freshness_hours)}" + (f" (by {code(sla.timestamp_column)})" if sla.timestamp_column else "")
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


product_tabs.draw(mesh, product, viewer, role, user)
