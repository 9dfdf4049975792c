"""Owner review: pick an owner (or a domain); see their products, what changed since the last review and the
action items in priority order; download the review as Markdown or as a self-contained HTML report.
"""

from __future__ import annotations

import streamlit as st

from catalog.scorecards import charts as scorecard_charts
from catalog.errors import MeshError
from catalog.scorecards.review import Review, export, review
from catalog.numbers import format_percent, format_score
from components import context, page
from components.badges import grade_badge, score_help
from components.tabs import lazy_tabs
from components.text import code, md
from components.viewer import policy, queryable

REVIEW_READS = ("quality_runs", "usage_events", "changelog", "owner_reviews")  # what a review is read from


@st.cache_data(ttl=120, max_entries=32, show_spinner=False)
def cached_review(_mesh, key: tuple, _viewer, viewer_key: tuple, owner: str | None = None,
                  domain: str | None = None) -> Review:
    """The review as this viewer may read it (only products shown to them in full; locked ones named), as of
    its first view in the last two minutes, unless something it reads was stored since."""
    return review(_mesh.evidence(), owner=owner, domain=domain, policy=_viewer)


mesh = context.require_mesh()
page.title("Owner review")
st.caption("Prepare a periodic review: what changed since the last one, and what to do next.", help=score_help())
user = context.current_user(mesh)
viewer = policy(mesh)
allowed = set(queryable(mesh, viewer))
viewer_key = (viewer.role, viewer.user, tuple(sorted(viewer.grants)))

owners = [o for o, ids in mesh.owners().items() if o != "(no owner)" and allowed.intersection(ids)]
if not owners and not mesh.domains:
    st.info("This mesh has no products with an owner yet.")
    page.end()
pick = st.columns([1, 2])
asked_owner, asked_domain = st.query_params.get("owner"), st.query_params.get("domain")
if asked_domain and st.session_state.get("rv_asked") != ("domain", asked_domain):
    st.session_state.rv_asked = ("domain", asked_domain)
    st.session_state.rv_by = "Domain"
    if asked_domain in mesh.domains:
        st.session_state.rv_domain = asked_domain
elif asked_owner and st.session_state.get("rv_asked") != ("owner", asked_owner):
    st.session_state.rv_asked = ("owner", asked_owner)
    st.session_state.rv_by = "Owner"
    if asked_owner in owners:
        st.session_state.rv_owner = asked_owner
if (asked_owner and asked_owner not in owners) or (asked_domain and asked_domain not in mesh.domains):
    st.info("This link names an owner or domain with no products you may see here; pick one below.",
            icon=":material/search_off:")
if not owners:
    st.session_state.rv_by = "Domain"
by = pick[0].segmented_control("Review by", ["Owner", "Domain"], default="Owner", key="rv_by", required=True)
if by == "Owner" and owners:
    if st.session_state.get("rv_owner") not in owners:
        st.session_state.rv_owner = user if user in owners else owners[0]
    who = pick[1].selectbox("Owner", owners, key="rv_owner")
    done = cached_review(mesh, context.stored_state(mesh, *REVIEW_READS), viewer, viewer_key, owner=who)
else:
    who = pick[1].selectbox("Domain", sorted(mesh.domains), key="rv_domain")
    done = cached_review(mesh, context.stored_state(mesh, *REVIEW_READS), viewer, viewer_key, domain=who)
params = {"owner": who} if by == "Owner" else {"domain": who}
for name in ("owner", "domain"):
    if params.get(name) and st.query_params.get(name) != params[name]:
        st.query_params[name] = params[name]
    elif not params.get(name) and name in st.query_params:
        del st.query_params[name]
st.session_state.rv_asked = next(iter(params.items()))
hidden_count = len(done.locked)

st.subheader(md(done.title))
st.caption(f"Changes {md(done.baseline)}." + (f" Restricted, not reviewed here: {', '.join(code(p) for p in done.locked)}."
                                            if hidden_count else ""))
scored = [p.score for p in done.products if p.score is not None]
top = st.columns(4)
top[0].metric("Products", len(done.products))
unchecked = len(done.products) - len(scored)
top[1].metric("Lowest score", format_score(min(scored)) if scored else "–", help=score_help(),
              delta=f"{unchecked} not checked, left out" if unchecked else None, delta_color="off")
top[2].metric("Action items", len(done.actions))
top[3].metric("Fix now", sum(a.priority == 1 for a in done.actions))

st.markdown("#### Action items")
if not done.actions:
    st.success("Nothing to do: every check passes and every product is documented, fresh and used.")
for n, item in enumerate(done.actions, 1):
    colour = {1: "red", 2: "orange", 3: "blue", 4: "gray"}[item.priority]
    st.markdown(f"{n}\\. :{colour}-badge[{md(item.urgency)}] {code(item.product_id)} — {md(item.action)}")
    st.caption(md(item.why))

st.markdown("#### Products")
for p in done.products:
    cols = st.columns([3, 1, 3])
    cols[0].markdown(f"**{md(p.title)}**  \n{code(p.product_id)}")
    cols[1].markdown(grade_badge(p.grade))
    change = "" if p.score_change is None else f" ({p.score_change:+.1f})"
    cols[2].caption(f"score {format_score(p.score)}{change} · {len(p.failing)} failing · {p.queries} queries "
                    f"({p.queries - p.previous_queries:+d}) · freshness {md(p.freshness)} · docs {format_percent(p.documentation)}")
    notes = ([f"new failure: {f}" for f in p.new_failures] + [f"fixed: {f}" for f in p.fixed] + p.schema_changes)
    if p.unused_30d and p.previous_queries:
        notes.append("stopped being used")
    if notes:
        cols[2].markdown(":violet[" + md(" · ".join(notes)) + "]")

quality_tab, usage_tab = lazy_tabs(["Quality trend", "Usage trend"])
if quality_tab.open:
    with quality_tab:
        if done.history.height:
            st.altair_chart(scorecard_charts.score_trend(done.history, title="Quality score, last 90 days"),
                            width="stretch")
        else:
            st.caption("No check runs in the last 90 days.")
if usage_tab.open:
    with usage_tab:
        if done.daily_usage.height:
            st.altair_chart(scorecard_charts.usage_trend(done.daily_usage), width="stretch")
        else:
            st.caption("No queries in the last 90 days.")

st.markdown("#### Export and sign off")
name = f"review-{who.replace('@', '-at-')}-{done.as_of:%Y%m%d}"
cols = st.columns(3)
cols[0].download_button("Download Markdown", lambda: export(done, "md"), file_name=f"{name}.md", mime="text/markdown",
                        icon=":material/description:", on_click="ignore", key="rv_md")
cols[1].download_button("Download HTML report", lambda: export(done, "html"), file_name=f"{name}.html",
                        mime="text/html", icon=":material/download:", on_click="ignore", key="rv_html",
                        help="one self-contained page with the charts, to mail or archive")
if cols[2].button("Mark as reviewed", icon=":material/task_alt:", key="rv_record",
                  help="the next review of this owner or domain shows what changed since now"):
    # recorded as of now (the review shown may come from the cache): the next one compares with this moment
    try:
        mesh.reviews.record(review(mesh.evidence(), **params), user)
    except MeshError as exc:
        st.error(md(exc))
    else:
        st.toast(f"Review of {md(who)} recorded by {md(user)}.")
        st.rerun()
if st.toggle("Preview the Markdown", key="rv_preview"):
    with st.container(border=True):
        st.code(export(done, "md"), language="markdown", wrap_lines=True)  # the file as it will be, never rendered
