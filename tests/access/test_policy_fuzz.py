"""The policy's invariants over random restrictions, roles, grants and discovery settings (hypothesis).

Any assignment of restrictions to the banking sample's products, any role, any grants: what a viewer may
read is closed under lineage (never a product whose inputs they may not read), every product is exactly
one of open, locked or hidden, the engine's visible set is the policy's, and no surface — search, lineage
at product and column level, DOT — shows a hidden product's id or a closed product's column names.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import catalog
from catalog.lineage.neighbourhood import lineage_graph
from catalog.lineage.dot import to_dot
from catalog.descriptors.model import Access
from tests.samplecopy import opened_sample


@pytest.fixture(scope="module")
def mesh(tmp_path_factory):
    with opened_sample(tmp_path_factory.mktemp("fuzz")) as loaded:
        yield loaded


def _restrict(mesh: catalog.Mesh, assignment: dict[str, list[str] | None], discovery: str) -> None:
    for pid, roles in assignment.items():
        product = mesh.products[pid]
        access = Access() if roles is None else Access(restricted=True, roles=roles)
        product.descriptor = product.descriptor.model_copy(update={"access": access})
    mesh.descriptor = mesh.declared.descriptor = mesh.descriptor.model_copy(update={"discovery": discovery})
    mesh.cache.forget("policy")  # descriptors changed under the Mesh: recompute what derives from them


def _column_words(mesh: catalog.Mesh, pid: str) -> set[str]:
    public = " ".join([pid, mesh.products[pid].title, mesh.products[pid].description]).lower()
    return {c.name for c in mesh.products[pid].columns if c.name.lower() not in public and len(c.name) > 6}


@st.composite
def scenarios(draw, mesh_ids: list[str], roles: list[str]):
    chosen = draw(st.lists(st.sampled_from(mesh_ids), min_size=1, max_size=5, unique=True))
    assignment = {pid: draw(st.lists(st.sampled_from(roles), max_size=2, unique=True)) for pid in chosen}
    grants = draw(st.lists(st.tuples(st.sampled_from(mesh_ids), st.sampled_from(["access", "pii"])), max_size=3))
    return (assignment, draw(st.sampled_from(roles)), frozenset(grants), draw(st.sampled_from(["listed", "hidden"])))


def test_policy_invariants_hold_for_any_restrictions_roles_and_grants(mesh):
    ids, roles = sorted(mesh.products), sorted(mesh.roles)
    original = {pid: p.descriptor for pid, p in mesh.products.items()}
    original_mesh = mesh.descriptor

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(scenarios(ids, roles))
    def check(scenario):
        assignment, role, grants, discovery = scenario
        try:
            _restrict(mesh, {pid: original[pid].access.roles if original[pid].access.restricted else None
                             for pid in ids}, "listed")
            _restrict(mesh, assignment, discovery)
            view = mesh.viewers.policy(role, grants=grants)
            every = set(mesh.products)
            assert view.allowed | view.locked | view.hidden == every
            assert not (view.allowed & view.locked) and not (view.allowed & view.hidden)
            assert not (view.locked & view.hidden)
            assert (not view.hidden) if discovery == "listed" else (not view.locked)
            for pid in view.allowed:  # restrictions follow the data
                assert mesh.upstreams(pid) <= view.allowed, pid
            closed = every - view.allowed
            results = mesh.search("", policy=view, limit=None)
            assert set(results.ids) == view.listed
            assert {h.product_id for h in results if h.locked} == view.locked
            graph = lineage_graph(mesh.lineage_index, policy=view)
            columns = lineage_graph(mesh.lineage_index, columns=True, policy=view)
            text = to_dot(graph) + to_dot(columns) + json.dumps(
                [[n, d] for n, d in [*graph.nodes(data=True), *columns.nodes(data=True)]], default=str)
            for pid in view.hidden:
                assert pid not in text, pid
            for pid in closed:
                assert not any(n.startswith(f"{pid}.") for n in columns), pid
                for word in _column_words(mesh, pid):
                    owners = [q for q in view.allowed if mesh.products[q].column(word) is not None]
                    if not owners:
                        assert not re.search(rf"(?<![\w.]){word}(?!\w)", text), (pid, word)
        finally:
            for pid, descriptor in original.items():
                mesh.products[pid].descriptor = descriptor
            mesh.descriptor = mesh.declared.descriptor = original_mesh
            mesh.cache.forget("policy")

    check()
