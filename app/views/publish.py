"""Publish: register a product from an upload, a PostgreSQL table or SQL over products, without a central team."""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st
from sqlglot import exp

from catalog.interop import odcs as contracts
from catalog.publish import publish as pub
from catalog.errors import MeshError
from catalog.numbers import rows_text
from components import context, page
from components.text import code, md
from components.links import product_link
from components.tables import show_table

mesh = context.require_mesh()
user = context.current_user(mesh)

page.title("Publish a data product")
st.caption("Meshwork reads your data, infers the schema, suggests personal-data classes and quality checks, and "
           "checks the draft against the mesh's policies. Review the YAML, then publish: the descriptor (and an "
           "uploaded file) go into the domain's folder and the product is searchable and queryable at once.")
st.caption(f"You publish as **{md(user)}**: a new product needs a member of its domain's team, replacing a product "
           "needs its owner, and a new domain needs a steward.")

for kind, text in st.session_state.pop("publish_flash", []):
    getattr(st, kind)(text)

NEW_DOMAIN = "➕ new domain…"
SOURCES = {"upload": "Upload a CSV or Parquet file", "postgres": "A PostgreSQL table",
           "sql": "SQL over existing products", "contract": "An ODCS data contract"}

source_kind = st.radio("Source", list(SOURCES), format_func=SOURCES.get, horizontal=True, key="pub_source")
with st.form("publish_form"):
    c1, c2 = st.columns(2)
    domains = [*sorted(mesh.domains), NEW_DOMAIN]
    domain_choice = c1.selectbox("Domain", domains, key="pub_domain")
    new_domain = c1.text_input("New domain name", key="pub_new_domain", placeholder="lower_snake_case",
                               help="only used with “new domain…”; only a steward may add a domain")
    name = c2.text_input("Product name", key="pub_name", placeholder="e.g. branch_visits",
                         help="lower-case letters, digits and _; the product's SQL name is domain.name")
    owner = c2.text_input("Owner e-mail", value=user if "@" in user else "", key="pub_owner")
    title = c1.text_input("Title", key="pub_title")
    version = c2.text_input("Version", key="pub_version", placeholder="1.0.0",
                            help="to replace an existing product, give a higher version than its current one")
    description = st.text_area("Description", key="pub_description", placeholder="What the data is, for whom")
    upload = dsn = table = sql = contract = None
    own_domain = False
    if source_kind == "contract":
        contract = st.file_uploader("ODCS v3 document", type=["yaml", "yml", "json"], key="pub_contract",
                                    help="validated against the ODCS JSON schema; its name, owner, schema, checks, "
                                         "SLA and source become the product")
        own_domain = st.checkbox("Use the contract's own domain", value=True, key="pub_contract_domain")
        st.caption("Name, owner, title, description and source come from the contract; Domain applies when "
                   "the box is unticked, Version to replace an existing product.")
    elif source_kind == "upload":
        upload = st.file_uploader("File", type=["csv", "parquet"], key="pub_file",
                                  help=f"at most {pub.MAX_UPLOAD_BYTES // 1_000_000} MB; kept as uploaded in "
                                       "the domain's data/ folder")
    elif source_kind == "postgres":
        dsn = st.text_input("Connection string", key="pub_dsn", placeholder="postgresql://user@host:5432/db",
                            help="used exactly as typed (nothing is expanded); leave the password out: "
                                 "the server's PGPASSWORD or ~/.pgpass supplies it")
        table = st.text_input("Table", key="pub_table", placeholder="schema.table")
    else:
        sql = st.text_area("SELECT over products", key="pub_sql", height=120,
                           placeholder="SELECT c.customer_id, count(*) AS accounts\nFROM retail.customers c "
                                       "JOIN retail.accounts a USING (customer_id)\nGROUP BY ALL")
        st.caption(f"Runs as your role ({context.current_role(mesh)}) to profile the result; columns named like "
                   "an upstream column inherit its PII class.")
    submitted = st.form_submit_button("Draft the product", icon=":material/draft:", type="primary")

if submitted:
    domain = (new_domain or "").strip() if domain_choice == NEW_DOMAIN else domain_choice
    common = {"domain": domain, "name": (name or "").strip(), "owner": owner, "description": description or "",
              "title": title or "", "version": (version or "").strip() or None}
    try:
        with st.spinner("Reading and profiling the data…"):
            if source_kind == "upload":
                if upload is None:
                    raise MeshError("choose a .csv or .parquet file to upload")
                draft = mesh.publisher.draft_from_upload(upload.getvalue(), upload.name, **common)
            elif source_kind == "contract":
                if contract is None:
                    raise MeshError("choose an ODCS contract (.yaml or .json) to import")
                draft = contracts.draft_from_contract(
                    mesh, contract.getvalue().decode("utf-8", errors="replace"), contract.name,
                    domain=None if own_domain else domain, version=common["version"])
            elif source_kind == "postgres":
                schema, _, table_name = (table or "").strip().rpartition(".")
                draft = mesh.publisher.draft_from_postgres((dsn or "").strip(), table_name, schema=schema or "public",
                                                **common)
            else:
                draft = mesh.publisher.draft_from_sql(sql or "", role=context.current_role(mesh), user=user, **common)
    except MeshError as exc:
        st.session_state.pop("pub_draft", None)
        st.error(md(exc))
    else:
        st.session_state["pub_draft"] = draft
        st.session_state["pub_yaml"] = draft.yaml()

if "pub_yaml_next" in st.session_state:  # a widget's value can only be set before the widget is drawn
    st.session_state["pub_yaml"] = st.session_state.pop("pub_yaml_next")

draft: pub.Draft | None = st.session_state.get("pub_draft")
if draft is not None:
    st.divider()
    st.subheader(f"Draft: {code(draft.product_id)}")
    for note in draft.notes:
        st.caption(md(note))
    if draft.creates_domain:
        st.info(f"Publishing creates the domain **{md(draft.domain)}** with {md(draft.descriptor.owner)} as its owner.")
    tab_review, tab_data, tab_yaml = st.tabs(["Policies & suggestions", "Data & profile", "YAML"])
    with tab_review:
        violations = draft.violations
        if draft.compliance.is_empty():
            st.info("This mesh declares no policies.")
        elif violations.is_empty():
            st.success(f"The draft passes all {draft.compliance.height} policies.")
        else:
            blocking = draft.blocking.height
            (st.error if blocking else st.warning)(
                f"{violations.height} policy violation(s)" + (f", {blocking} of severity error: fix them in the YAML "
                                                              "tab before publishing" if blocking else ""))
        show_table(draft.compliance.select("passed", "severity", "policy", "scope", "message", "fix"))
        pii = [c for c in draft.descriptor.columns if c.pii]
        reasons = {c.name: c.pii_reason for c in draft.profile.columns}
        st.markdown("**Personal data suggested**: " + (", ".join(
            f"{code(c.name)} as {md(c.pii_category)}" + (f" ({md(reasons[c.name])})" if reasons.get(c.name) else "")
            for c in pii) or "none"))
        st.markdown(f"**Quality checks suggested**: {len(draft.descriptor.quality)} — "
                    + md(", ".join(q.label for q in draft.descriptor.quality)))
    with tab_data:
        if not draft.profile.columns:
            st.info("Imported from a contract: no data was read. Publishing checks that the source exists and "
                    "holds the declared columns.")
        show_table(draft.preview, human=False)
        st.caption(f"Profile of {draft.profile.profiled_rows:,} of {rows_text(draft.profile.rows)}")
        show_table(draft.profile.frame())
    with tab_yaml:
        edited = st.text_area("Descriptor", key="pub_yaml", height=420,
                              help="edit descriptions, PII classes, checks, SLA, access; the name and source are "
                                   "fixed by the form")
        if st.button("Apply my edits", icon=":material/edit:"):
            try:
                st.session_state["pub_draft"] = mesh.publisher.edit_draft(draft, edited)
                st.session_state["pub_yaml_next"] = st.session_state["pub_draft"].yaml()
            except MeshError as exc:
                st.error(md(exc))
            else:
                st.rerun()
    if st.session_state.get("pub_yaml") != draft.yaml():
        st.warning("The YAML has edits that are not applied yet: press “Apply my edits” first.")
    c1, c2 = st.columns([1, 4])
    if c1.button("Publish", type="primary", icon=":material/publish:", key="pub_confirm",
                 disabled=not draft.blocking.is_empty() or st.session_state.get("pub_yaml") != draft.yaml()):
        try:
            with st.spinner("Writing the files and re-reading the mesh…"):
                result = mesh.publisher.publish(draft, user=user)
        except MeshError as exc:
            st.error(md(exc))
        else:
            st.session_state.pop("pub_draft", None)
            st.session_state.pop("pub_yaml", None)
            written = f" and `{result.data_path.relative_to(mesh.root)}`" if result.data_path else ""
            st.session_state.setdefault("publish_flash", []).append((
                "success", f"Published **{result.product_id}** v{result.version}: wrote "
                           f"`{result.descriptor_path.relative_to(mesh.root)}`{written}. It is in search, lineage "
                           f"and the workbench now: query it as `SELECT * FROM {result.product_id}`."))
            st.session_state["pub_last"] = result.product_id
            st.rerun()
    if c2.button("Discard the draft", key="pub_discard"):
        st.session_state.pop("pub_draft", None)
        st.rerun()

last = st.session_state.get("pub_last")
if last and last in mesh.products and draft is None:
    product = mesh.products[last]
    with st.container(border=True):
        st.markdown(f"**{md(product.title)}** {code(product.id)} · owner {md(product.owner)} · {len(product.columns)} columns")
        query = exp.select("*").from_(exp.table_(product.name, db=product.domain)).limit(5).sql("duckdb")
        link_cols = st.columns(4)
        with link_cols[0]:
            product_link(last, label="Open its product page")
        link_cols[1].markdown(f"[Open its lineage](./lineage?{urlencode({'product': last})})")
        link_cols[2].markdown(f"[Find it in Discover](./discover?{urlencode({'q': product.title})})")
        link_cols[3].markdown(f"[Query it in the Workbench](./workbench?{urlencode({'sql': query})})")
        try:
            preview = context.session(mesh).run(query, max_rows=5)
        except MeshError as exc:
            st.caption(f"Not queryable as role {md(context.current_role(mesh))}: {md(exc)}")
        else:
            show_table(preview.frame, human=False)
            st.caption(f"First rows as role {context.current_role(mesh)} (personal data masked where the role "
                       "requires)")
