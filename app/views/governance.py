"""Governance: policies as code evaluated on every product, the PII inventory, access rules per role, audit log."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from catalog.interop import odcs as contracts
from catalog.governance import policies as governance
from catalog.access.identity import config as identity_config
from catalog.errors import MeshError
from catalog.numbers import format_percent
from catalog.text import neutralize_frame
from components import context, page
from components.audit import audit_panel
from components.links import product_hrefs
from components.tabs import tabbed
from components.text import code, md
from components.viewer import listed, policy, queryable
from components.tables import show_table

mesh = context.require_mesh()
viewer = policy(mesh)
shown = listed(mesh, viewer)  # policy results are listed for what the viewer may find
readable = queryable(mesh, viewer)  # columns (PII inventory) and contracts only for what they may query

page.title("Governance")
st.caption("Global policies live in `mesh.yaml`, each domain adds its own in `domain.yaml` (federated); Meshwork "
           "evaluates them on every product. Edit a descriptor and this page follows.")

for issue in governance.policy_issues(mesh):
    st.warning(md(issue), icon=":material/rule:")

frame = mesh.compliance(role=viewer.role, user=viewer.user)
failing = frame.filter(~pl.col("passed"))
domain_policies = sum(len(d.descriptor.policies) for d in mesh.domains.values())
cols = st.columns(5)
cols[0].metric("Policies", len(mesh.descriptor.policies) + domain_policies,
               help=f"{len(mesh.descriptor.policies)} global (mesh.yaml), {domain_policies} domain (domain.yaml)")
cols[1].metric("Evaluations", f"{frame.height:,}")
passing = 100 * (frame.height - failing.height) / frame.height if frame.height else None
cols[2].metric("Passing", format_percent(passing))
cols[3].metric("Violations", failing.height, help="failing evaluations of every severity: the Violations tab")
cols[4].metric("Errors to fix", failing.filter(pl.col("severity") == "error").height)


@st.cache_data(show_spinner=False, max_entries=16)
def matrix_spec(grid: pl.DataFrame) -> dict:
    """The domain × policy heat map as a Vega-Lite spec. Altair validates a chart against its schema as it is
    built, a tenth of a second on every visit; the spec of a grid it has seen is reused instead."""
    chart = (alt.Chart(grid)
             .mark_rect(stroke="white", strokeWidth=2)
             .encode(x=alt.X("policy:N", title=None, axis=alt.Axis(labelAngle=-30)),
                     y=alt.Y("domain:N", title=None),
                     color=alt.Color("passing_pct:Q", title="% passing",
                                     scale=alt.Scale(domain=[0, 100], scheme="redyellowgreen")),
                     tooltip=["domain", "policy", "products", "failing",
                              alt.Tooltip("passing_pct:Q", title="% passing")]))
    labels = (alt.Chart(grid).mark_text(fontSize=12)
              .encode(x="policy:N", y="domain:N", text=alt.Text("label:N"),
                      color=alt.condition("datum.passing_pct >= 85", alt.value("white"), alt.value("black")))
              .transform_calculate(label="datum.failing > 0 ? datum.failing + ' failing' : '✓'"))
    height = max(160, 44 * grid["domain"].n_unique())
    return (chart + labels).properties(height=height, title="Share of products passing, per domain and policy"
                                       ).to_dict()


def show_matrix() -> None:
    grid = governance.matrix(frame)
    if grid.is_empty():
        st.info("No policy applies yet: declare `policies:` in mesh.yaml (see `meshwork init`) or in a domain.yaml.")
    else:
        spec = matrix_spec(grid)
        st.vega_lite_chart(spec, width="stretch", height=spec["height"] + 120)
        st.caption("A blank cell: that policy does not apply to that domain (a domain policy of another domain).")


def show_violations() -> None:
    if failing.is_empty():
        st.success("Every product passes every policy that applies to it.")
    else:
        c1, c2 = st.columns(2)
        domains = c1.multiselect("Domain", sorted(failing["domain"].unique().to_list()), key="gov_domains")
        severities = c2.multiselect("Severity", ["error", "warning", "info"], key="gov_severity")
        shown = failing
        if domains:
            shown = shown.filter(pl.col("domain").is_in(domains))
        if severities:
            shown = shown.filter(pl.col("severity").is_in(severities))
        order = {"error": 0, "warning": 1, "info": 2}
        shown = shown.with_columns(pl.col("severity").replace_strict(order, default=3).alias("_rank")).sort(
            "_rank", "product_id").drop("_rank")
        linked = shown.with_columns(product_hrefs("product_id"))
        show_table(linked.select("severity", "product_id", "policy", "scope", "message", "fix"), config={
                         "product_id": st.column_config.LinkColumn("product", display_text=r"product=(.*)$"),
                         "fix": st.column_config.TextColumn("how to fix", width="large")})
        with st.expander("How to fix each one", expanded=shown.height <= 10):
            st.markdown("\n".join(f"- **{md(r['product_id'])}** · {md(r['policy'])} ({md(r['severity'])}): "
                                   f"{md(r['message'])}.  \n  Fix: {md(r['fix'])}"
                                   for r in shown.head(50).iter_rows(named=True)))
        st.caption(f"{shown.height} violation(s). {code(f'meshwork compliance {mesh.root} --failing')} prints the same list; "
                   "it exits 1 while a policy of severity error fails, for a domain's CI.")


def show_pii() -> None:
    inventory = mesh.pii_inventory(role=viewer.role, user=viewer.user)
    st.caption("Which products hold which categories of personal data, and who sees them unmasked: the view a "
               "privacy officer needs to answer data subject requests under laws like the VCDPA.")
    if inventory.is_empty():
        st.info("No column is classified as personal data.")
    else:
        by_category = governance.pii_by_category(inventory)
        bar_height = max(140, 30 * by_category.height)  # room for every category's label
        st.altair_chart(alt.Chart(by_category).mark_bar().encode(
            y=alt.Y("category:N", sort="-x", title=None, axis=alt.Axis(labelOverlap=False)),
            x=alt.X("products:Q", title="products holding it", axis=alt.Axis(tickMinStep=1, format="d")),
            tooltip=["category", "products", "columns", "product_ids"]).properties(
            title="Products holding each category of personal data", height=bar_height),
            width="stretch", height=bar_height + 70)
        per_product = governance.pii_by_product(inventory)
        show_table(per_product.select("product_id", "categories", "columns", "unmasked_roles",
                                        "unmasked_people", "unmasked_users", "restricted", "owner"), config={
                         "product_id": "product", "unmasked_roles": "roles seeing it unmasked",
                         "unmasked_people": "people holding those roles",
                         "unmasked_users": "people with a PII grant"})
        if identity_config(mesh).mode == "open":
            st.caption(":orange[Identity mode is *open*: anyone using the app may pick any role, so everyone can "
                       "see these unmasked. Set `identity.mode: enforced` in mesh.yaml to limit roles to the "
                       "people it names.]")
        category = st.selectbox("Columns of one category", ["all", *by_category["category"].to_list()],
                                key="gov_pii_category")
        columns = inventory if category == "all" else inventory.filter(pl.col("category") == category)
        show_table(columns.select("product_id", "column", "category", "unmasked_roles", "unmasked_users"))
        st.download_button("Download the PII inventory (CSV)", neutralize_frame(inventory).write_csv(),
                           file_name=f"{mesh.name}-pii-inventory.csv", mime="text/csv",
                           icon=":material/download:", key="gov_pii_csv")


def show_access() -> None:
    rules = mesh.access_rules(role=viewer.role, user=viewer.user)
    roles = list(mesh.roles)
    role = st.selectbox("Role", roles, index=roles.index(context.current_role(mesh)), key="gov_role",
                        format_func=lambda r: f"{r} — {mesh.roles[r].description}" if mesh.roles[r].description
                        else r)
    spec = mesh.roles[role]
    st.markdown(f"**{md(role)}** {'sees personal data unmasked' if spec.pii else 'sees personal data masked'}; "
                "restricted products are visible only to the roles they name (or with an approved grant).")
    mine = rules.filter(pl.col("role") == role)
    c1, c2, c3 = st.columns(3)
    c1.metric("Products visible", f"{mine.filter(pl.col('visible')).height} of {mine.height}")
    c2.metric("With personal data unmasked", mine.filter(pl.col("pii_unmasked")).height)
    c3.metric("Hidden (restricted)", mine.filter(~pl.col("visible")).height)
    people = governance.role_holders(mesh).get(role, [])
    if people:
        st.caption(f"Held by {md(', '.join(people))} (mesh.yaml `users:` and `groups:`).")
    show_table(mine.select("domain", "product_id", "visible", "pii_columns", "rule"), config={"product_id": "product"})
    summary = (rules.group_by("role").agg(visible=pl.col("visible").sum(), unmasked=pl.col("pii_unmasked").sum(),
                                          hidden=(~pl.col("visible")).sum()).sort("role"))
    st.caption("Every role at a glance")
    show_table(summary)


def show_policies() -> None:
    show_table(governance.policies_frame(mesh))
    st.caption("Built-in rules: " + ", ".join(code(r) for r in governance.RULES))


def show_contracts() -> None:
    st.caption("Every product as an Open Data Contract Standard (v3) document, validated against the ODCS JSON "
               "schema; import one on the Publish page or with `meshwork contract import`.")
    choices = readable
    if choices:
        wanted = st.query_params.get("product")
        chosen = st.selectbox("Product", choices, key="gov_contract_product",
                              index=choices.index(wanted) if wanted in choices else 0)
        try:
            document = contracts.export_contract(mesh, chosen)
        except MeshError as exc:
            st.error(md(exc))
        else:
            st.download_button("Download the ODCS contract (YAML)", document,
                               file_name=f"{chosen.replace('.', '-')}.odcs.yaml", mime="application/yaml",
                               icon=":material/download:", key="gov_contract_download")
            st.code(document, language="yaml", height=420)


def show_audit() -> None:
    audit_panel(mesh, key="gov_audit")


tabbed({"Domain × policy": show_matrix, "Violations": show_violations, "PII inventory": show_pii,
        "Access rules": show_access, "Policies": show_policies, "Data contracts": show_contracts,
        "Audit log": show_audit})
