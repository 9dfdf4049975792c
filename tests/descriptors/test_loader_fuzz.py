"""Random mutations of valid descriptors never crash the loader and are always located."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import catalog
from minimesh import build_minimesh

TEMPLATE_ROOT: Path | None = None


def _template(tmp_root: Path) -> Path:
    global TEMPLATE_ROOT
    if TEMPLATE_ROOT is None or not TEMPLATE_ROOT.exists():
        TEMPLATE_ROOT = build_minimesh(tmp_root / "template")
    return TEMPLATE_ROOT


JUNK = st.one_of(st.none(), st.integers(), st.floats(allow_nan=False), st.booleans(),
                 st.text(max_size=20), st.lists(st.integers(), max_size=3),
                 st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))


def _paths(data, prefix=()):
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _paths(value, prefix + (i,))


def _mutate(data, path, action, junk):
    if not path:
        return junk if action != "keep" else data
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    key = path[-1]
    if action == "delete":
        del parent[key]
    elif action == "replace":
        parent[key] = junk
    elif action == "rename" and isinstance(parent, dict):
        parent[f"{key}x"] = parent.pop(key)
    return data


PRODUCTS = ["retail/products/customers.yaml", "retail/products/branches.yaml", "risk/products/scores.yaml",
            "risk/products/customer_risk.yaml", "risk/products/limits.yaml", "mesh.yaml", "retail/domain.yaml"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.sampled_from(PRODUCTS), pick=st.integers(min_value=0, max_value=200),
       action=st.sampled_from(["delete", "replace", "rename", "text"]), junk=JUNK,
       cut=st.integers(min_value=0, max_value=400), noise=st.text(max_size=30))
def test_mutated_descriptor_never_raises_and_problems_are_located(tmp_path_factory, which, pick, action, junk,
                                                                   cut, noise):
    template = _template(tmp_path_factory.getbasetemp())
    root = tmp_path_factory.mktemp("fuzz") / "mesh"
    shutil.copytree(template, root)
    target = root / which
    text = target.read_text()
    if action == "text":
        mutated = text[:cut] + noise + text[cut:]
    else:
        data = yaml.safe_load(text)
        paths = list(_paths(data))
        mutated = yaml.safe_dump(_mutate(data, paths[pick % len(paths)], action, junk), sort_keys=False)
    target.write_text(mutated)

    mesh = catalog.open_mesh(root)  # must never raise

    for problem in mesh.problems:
        assert problem.path and problem.line is not None and problem.line >= 1, problem
        assert problem.message
    for product in mesh.products.values():
        if product.broken:
            assert any(p.severity == "error" for p in mesh.problems_of(product.id)), product.id
