"""Glossary: the mesh's business terms, what each means, where it is used, and its history.

Deep link: `/glossary?term=<id>`. Terms are code (`glossary/*.yaml`); a change is a proposal the term's
steward approves or rejects here, on the command line or in a notebook (catalog.glossary.proposals).
"""

from __future__ import annotations

import streamlit as st

from catalog.errors import MeshError
from components import context, page
from components.links import product_link
from components.text import code, md
from components.viewer import policy

mesh = context.require_mesh()
role = context.current_role(mesh)
user = context.current_user(mesh)
viewer = policy(mesh)
STATUS_BADGE = {"approved": ":green-badge[approved]", "draft": ":orange-badge[draft]",
                "deprecated": ":gray-badge[deprecated]"}

page.title("Glossary")
st.caption(f"{len(mesh.declared.terms)} business terms of {md(mesh.title)}. Only approved terms badge columns "
           "and products; search finds products by a term's name, synonyms and abbreviations.")

terms = mesh.terms(role=role, user=user)
wanted = st.text_input("Filter terms", placeholder="name, synonym or abbreviation", key="glossary_filter")
if wanted.strip():
    needle = wanted.strip().lower()
    terms = terms.filter(terms["name"].str.to_lowercase().str.contains(needle, literal=True)
                         | terms["synonyms"].str.to_lowercase().str.contains(needle, literal=True)
                         | terms["abbreviations"].str.to_lowercase().str.contains(needle, literal=True))
st.dataframe(terms.select("name", "abbreviations", "synonyms", "definition", "status", "steward", "products",
                          "columns"), hide_index=True, width="stretch")

ids = terms["id"].to_list()
asked = st.query_params.get("term")
chosen = st.selectbox("Term", ids, index=ids.index(asked) if asked in ids else None,
                      format_func=lambda tid: mesh.declared.terms[tid].name, placeholder="Choose a term",
                      key="glossary_term")
if chosen:
    if st.query_params.get("term") != chosen:
        st.query_params["term"] = chosen
    term = mesh.term(chosen)
    st.subheader(md(term.name))
    st.markdown(f"{code(term.id)} {STATUS_BADGE[term.status]} · steward {md(term.steward or 'none')}")
    st.markdown(md(term.definition))
    for label, values in (("Synonyms", term.synonyms), ("Abbreviations", term.abbreviations)):
        if values:
            st.markdown(f"**{label}:** {md(', '.join(values))}")
    if term.related:
        st.markdown("**Related:** " + ", ".join(md(mesh.declared.terms[r].name) for r in term.related
                                                 if r in mesh.declared.terms))
    uses = mesh.term_uses(chosen, role=role, user=user)
    st.markdown(f"**Used in {uses.height} place(s)**")
    for row in uses.iter_rows(named=True):
        product_link(row["product_id"], label=row["product_id"] + (f" · column {row['column']}" if row["column"]
                                                                     else ""))
    history = mesh.glossary.history(chosen)
    st.markdown("**History**")
    if history.is_empty():
        st.caption("No proposals yet: the term is as its glossary file declares it.")
    else:
        st.dataframe(history, hide_index=True, width="stretch")

pending = mesh.glossary.proposals(status="pending")
st.subheader(f"Pending proposals ({pending.height})")
for row in pending.iter_rows(named=True):
    with st.container(border=True):
        st.markdown(f"**#{row['id']}** {row['change']} term {code(row['term_id'])} by {md(row['proposer'])}"
                    + (f": {md(row['reason'])}" if row["reason"] else ""))
        cols = st.columns([1, 3, 1])
        if cols[0].button("Approve", key=f"approve_{row['id']}", icon=":material/check:"):
            try:
                mesh.glossary.approve(row["id"], user)
                st.success(f"Approved: {row['term_id']} is written to the glossary.")
            except MeshError as exc:
                st.error(md(exc))
        reason = cols[1].text_input("Reason to reject", key=f"reason_{row['id']}", label_visibility="collapsed",
                                    placeholder="reason, if you reject")
        if cols[2].button("Reject", key=f"reject_{row['id']}", icon=":material/close:"):
            try:
                mesh.glossary.reject(row["id"], user, reason)
                st.info(f"Rejected proposal #{row['id']}.")
            except MeshError as exc:
                st.error(md(exc))

with st.expander("Propose a term", icon=":material/add:"):
    with st.form("propose_term"):
        name = st.text_input("Name")
        definition = st.text_area("Definition")
        synonyms = st.text_input("Synonyms (comma separated)")
        abbreviations = st.text_input("Abbreviations (comma separated)")
        related = st.multiselect("Related terms", sorted(mesh.declared.terms), key="propose_related",
                                 format_func=lambda tid: mesh.declared.terms[tid].name)
        steward = st.text_input("Steward (e-mail)", value=user)
        reason = st.text_input("Why")
        if st.form_submit_button("Propose"):
            fields = {"name": name, "definition": definition, "steward": steward, "status": "approved",
                      "synonyms": [s.strip() for s in synonyms.split(",") if s.strip()],
                      "abbreviations": [s.strip() for s in abbreviations.split(",") if s.strip()],
                      "related": list(related)}
            try:
                made = mesh.glossary.propose(user, fields, reason)
                st.success(f"Proposal #{made.id} filed; {md(made.term.steward)} decides.")
            except MeshError as exc:
                st.error(md(exc))
