"""The sample meshes: deterministic, valid against the model, readable by DuckDB, defects really seeded.

These tests read the shipped meshes in `sample_data/` with plain DuckDB views (not the engine),
so they pin down the samples themselves; other modules' tests can then rely on them.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from pathlib import Path

import duckdb
import networkx as nx
import pytest
import sqlglot
import yaml
from sqlglot import exp

from catalog.descriptors.model import DomainDescriptor, MeshDescriptor, ProductDescriptor
from catalog.samples._spec import ANCHOR
from catalog.samples.build import SAMPLES, build_sample
from catalog.samples.synthetic import build_synthetic_catalog
from catalog.samples._spec import FRESH_SLA_HOURS, PII_COLUMN_PATTERN

ROOT = Path(__file__).resolve().parents[2] / "sample_data"
MESHES = sorted(SAMPLES)
DATA_DEFECTS = {"nulls", "duplicate_keys", "out_of_range", "orphans", "pattern_violation", "rule_violation"}


# --------------------------------------------------------------------------- helpers

def descriptors(mesh_dir: Path) -> dict[str, tuple[ProductDescriptor, Path]]:
    """product id -> (validated descriptor, domain folder)."""
    out = {}
    for path in sorted(mesh_dir.glob("*/products/*.yaml")):
        descriptor = ProductDescriptor.model_validate(yaml.safe_load(path.read_text()))
        out[f"{path.parent.parent.name}.{descriptor.name}"] = (descriptor, path.parent.parent)
    return out


def upstreams(sql: str) -> set[str]:
    tree = sqlglot.parse_one(sql, read="duckdb")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return {f"{t.db}.{t.name}" for t in tree.find_all(exp.Table) if t.name and (t.db or t.name not in ctes)}


def dependency_graph(products: dict[str, tuple[ProductDescriptor, Path]]) -> nx.DiGraph:
    graph = nx.DiGraph()
    for product_id, (descriptor, _) in products.items():
        graph.add_node(product_id)
        if descriptor.source.kind == "sql":
            graph.add_edges_from((up, product_id) for up in upstreams(descriptor.source.sql))
    return graph


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _load_sqlite(con: duckdb.DuckDBPyConnection) -> None:
    from catalog.engines.extensions import load_extension

    load_extension(con, "sqlite_scanner")


def connect(mesh_dir: Path) -> tuple[duckdb.DuckDBPyConnection, dict]:
    """An in-memory DuckDB with one view per product, named by its id, built in dependency order."""
    products = descriptors(mesh_dir)
    con = duckdb.connect()
    _load_sqlite(con)
    attached: dict[Path, str] = {}
    for domain in sorted({pid.split(".")[0] for pid in products}):
        con.execute(f'CREATE SCHEMA "{domain}"')
    for product_id in nx.topological_sort(dependency_graph(products)):
        descriptor, domain_dir = products[product_id]
        source = descriptor.source
        domain, name = product_id.split(".")
        if source.kind == "sql":
            body = source.sql
        elif source.kind in ("parquet", "csv"):
            reader = "read_parquet" if source.kind == "parquet" else "read_csv"
            extra = ", header = true" if source.kind == "csv" else ""
            body = f"SELECT * FROM {reader}({_quote(str(domain_dir / source.path))}{extra})"
        else:
            path = domain_dir / source.path
            if path not in attached:
                attached[path] = f"src{len(attached)}"
                con.execute(f"ATTACH {_quote(str(path))} AS {attached[path]} (TYPE {source.kind}, READ_ONLY)")
            body = f'SELECT * FROM {attached[path]}.main."{source.table}"'
        con.execute(f'CREATE VIEW "{domain}"."{name}" AS {body}')
    return con, products


def failures(con: duckdb.DuckDBPyConnection, product_id: str, check, sla, anchor: datetime) -> int:
    """How many rows break `check` (0 passes); row_count and freshness give 1 when they fail."""
    view = ".".join(f'"{p}"' for p in product_id.split("."))

    def count(where: str) -> int:
        return con.execute(f"SELECT count(*) FROM {view} WHERE {where}").fetchone()[0]

    kind = check.check
    if kind == "not_null":
        return count(f'"{check.column}" IS NULL')
    if kind == "unique":
        cols = ", ".join(f'"{c}"' for c in check.columns)
        total, distinct = con.execute(f"SELECT count(*), count(DISTINCT ({cols})) FROM {view}").fetchone()
        return total - distinct
    if kind == "accepted_values":
        values = ", ".join(_quote(v) if isinstance(v, str) else str(v) for v in check.values)
        return count(f'"{check.column}" NOT IN ({values})')
    if kind == "range":
        def literal(v):
            return _quote(v) if isinstance(v, str) else str(v)
        bounds = [f'"{check.column}" < {literal(check.min)}' if check.min is not None else None,
                  f'"{check.column}" > {literal(check.max)}' if check.max is not None else None]
        return count(" OR ".join(b for b in bounds if b))
    if kind == "regex":
        return count(f'NOT regexp_matches(CAST("{check.column}" AS VARCHAR), {_quote(check.pattern)})')
    if kind == "row_count":
        n = con.execute(f"SELECT count(*) FROM {view}").fetchone()[0]
        return int((check.min is not None and n < check.min) or (check.max is not None and n > check.max))
    if kind == "freshness":
        column = check.column or sla.timestamp_column
        hours = check.max_age_hours or sla.freshness_hours
        newest = con.execute(f'SELECT max("{column}") FROM {view}').fetchone()[0]
        return int(newest is None or (anchor - newest).total_seconds() / 3600 > hours)
    if kind == "references":
        target = ".".join(f'"{p}"' for p in check.product.split("."))
        to = check.to_column or check.column
        return count(f'"{check.column}" IS NOT NULL AND "{check.column}" NOT IN '
                     f'(SELECT t."{to}" FROM {target} AS t WHERE t."{to}" IS NOT NULL)')
    if kind == "expression":
        return count(f"NOT ({check.expression})")
    raise AssertionError(f"unknown check kind {kind}")


def tree_digest(mesh_dir: Path) -> dict[str, str]:
    """File -> digest; DuckDB files by their tables' contents (DuckDB does not promise identical bytes)."""
    out = {}
    for path in sorted(p for p in mesh_dir.rglob("*") if p.is_file()):
        rel = str(path.relative_to(mesh_dir))
        if path.suffix == ".duckdb":
            with duckdb.connect(str(path), read_only=True) as con:
                tables = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
                rows = [(t, con.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables]
            out[rel] = hashlib.sha256(repr(rows).encode()).hexdigest()
        else:
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module", params=MESHES)
def shipped(request):
    mesh_dir = ROOT / request.param
    con, products = connect(mesh_dir)
    yield request.param, mesh_dir, con, products
    con.close()


# --------------------------------------------------------------------------- generator

def test_generator_is_deterministic_and_matches_the_shipped_samples(tmp_path):
    for name in MESHES:
        first = build_sample(name, tmp_path / "a" / name)
        second = build_sample(name, tmp_path / "b" / name)
        digest = tree_digest(first)
        assert digest == tree_digest(second), f"{name}: two runs differ"
        shipped = {k: v for k, v in tree_digest(ROOT / name).items() if not k.startswith(".")}
        assert digest == shipped, f"{name}: sample_data/{name} is out of date; run `meshwork sample {name}`"


def test_scale_multiplies_rows_and_keeps_defect_counts(tmp_path):
    mesh_dir = build_sample("banking", tmp_path / "banking", scale=3)
    con, _ = connect(mesh_dir)
    assert con.execute("SELECT count(*) FROM retail.transactions").fetchone()[0] == 60_000
    assert con.execute("SELECT count(*) FROM retail.customers WHERE email IS NULL").fetchone()[0] == 7
    assert con.execute("SELECT count(*) FROM retail.customers").fetchone()[0] == 3000


def test_rebuilding_refuses_a_folder_that_is_not_a_mesh(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        build_sample("banking", tmp_path)


# --------------------------------------------------------------------------- shipped meshes

def test_mesh_has_domains_products_and_source_kinds(shipped):
    name, mesh_dir, _, products = shipped
    mesh = MeshDescriptor.model_validate(yaml.safe_load((mesh_dir / "mesh.yaml").read_text()))
    assert mesh.name == name and {"analyst", "steward"} < set(mesh.roles)
    assert len(mesh.roles) >= 3
    domains = [DomainDescriptor.model_validate(yaml.safe_load(p.read_text()))
               for p in sorted(mesh_dir.glob("*/domain.yaml"))]
    assert len(domains) >= 4 and all(d.owner for d in domains)
    assert len(products) >= 12
    kinds = {d.source.kind for d, _ in products.values()}
    assert len(kinds) >= 4 and "sql" in kinds and "postgres" not in kinds
    assert (mesh_dir / "README.md").is_file()
    for product_id, (descriptor, domain_dir) in products.items():
        assert (domain_dir / "products" / f"{descriptor.name}.yaml").is_file(), product_id
        for role in descriptor.access.roles:
            assert role in mesh.roles, f"{product_id}: role {role} not declared in mesh.yaml"
    assert any(d.access.restricted for d, _ in products.values())
    owners = {d.owner for d, _ in products.values() if d.owner}
    assert len(owners) >= 4


def test_file_sources_exist_inside_the_mesh(shipped):
    _, mesh_dir, _, products = shipped
    for product_id, (descriptor, domain_dir) in products.items():
        if descriptor.source.kind != "sql":
            path = (domain_dir / descriptor.source.path).resolve()
            assert path.is_file() and mesh_dir.resolve() in path.parents, product_id


def test_sql_products_read_existing_products_across_domains(shipped):
    _, _, _, products = shipped
    graph = dependency_graph(products)
    assert set(graph.nodes) == set(products), "SQL names a product that does not exist"
    assert nx.is_directed_acyclic_graph(graph)
    assert nx.dag_longest_path_length(graph) >= 2, "no derived product builds on another derived product"
    assert any(len({u.split(".")[0] for u in graph.predecessors(p)} | {p.split(".")[0]}) >= 3
               for p in graph.nodes), "no derived product joins three domains"


def test_every_product_reads_with_its_declared_schema(shipped):
    _, _, con, products = shipped
    for product_id, (descriptor, _) in products.items():
        domain, name = product_id.split(".")
        actual = [(c, t) for c, t, *_ in con.execute(f'DESCRIBE "{domain}"."{name}"').fetchall()]
        declared = [(c.name, c.type) for c in descriptor.columns]
        assert actual == declared, product_id


def test_contracts_cover_every_check_kind_pii_and_keys(shipped):
    _, _, _, products = shipped
    checks = [c for d, _ in products.values() for c in d.quality]
    assert {c.check for c in checks} >= {"not_null", "unique", "accepted_values", "range", "regex",
                                         "row_count", "freshness", "references", "expression"}
    assert any(c.check == "unique" and len(c.columns) > 1 for c in checks)
    assert any(c.check == "references" and c.product.split(".")[0] != pid.split(".")[0]
               for pid, (d, _) in products.items() for c in d.quality)
    assert {c.severity for c in checks} >= {"error", "warning"}
    columns = [c for d, _ in products.values() for c in d.columns]
    categories = {c.pii_category for c in columns if c.pii}
    assert categories >= {"email", "name"} and len(categories) >= 3
    assert any(c.key for c in columns)
    for product_id, (descriptor, _) in products.items():
        known = {c.name for c in descriptor.columns}
        for check in descriptor.quality:
            named = list(getattr(check, "columns", []) or []) + [getattr(check, "column", None)]
            assert set(filter(None, named)) <= known, f"{product_id}: {check.label}"
            if check.check == "references":
                target = products[check.product][0]
                assert check.to_column in {c.name for c in target.columns}, f"{product_id}: {check.label}"
        if descriptor.sla.timestamp_column:
            assert descriptor.sla.timestamp_column in known, product_id


def test_checks_fail_exactly_where_defects_are_seeded(shipped):
    name, _, con, products = shipped
    seeded = {(pid, d.check): d for pid, ds in SAMPLES[name].DEFECTS.items() for d in ds if d.check}
    failing = {}
    for product_id, (descriptor, _) in products.items():
        for check in descriptor.quality:
            n = failures(con, product_id, check, descriptor.sla, ANCHOR)
            if n:
                failing[(product_id, check.label)] = n
    assert set(failing) == set(seeded)
    for key, defect in seeded.items():
        if defect.kind in DATA_DEFECTS:
            assert failing[key] == defect.count, f"{key}: {failing[key]} rows fail, DEFECTS says {defect.count}"


def test_seeded_defects_are_really_in_the_data(shipped):
    name, _, con, products = shipped
    defects = SAMPLES[name].DEFECTS
    kinds = {d.kind for ds in defects.values() for d in ds}
    assert kinds >= {"nulls", "duplicate_keys", "out_of_range", "orphans", "stale", "undocumented",
                     "duplicate_product"}
    for product_id, product_defects in defects.items():
        descriptor, _ = products[product_id]
        view = '"{}"."{}"'.format(*product_id.split("."))
        for defect in product_defects:
            column = defect.column
            if defect.kind == "nulls":
                got = con.execute(f'SELECT count(*) FROM {view} WHERE "{column}" IS NULL').fetchone()[0]
                assert got == defect.count, product_id
            elif defect.kind == "duplicate_keys":
                cols = ", ".join(f'"{c}"' for c in defect.columns)
                got = con.execute(f"SELECT count(*) - count(DISTINCT ({cols})) FROM {view}").fetchone()[0]
                assert got == defect.count, product_id
            elif defect.kind == "stale":
                newest = con.execute(f'SELECT max("{column}") FROM {view}').fetchone()[0]
                assert (ANCHOR - newest).days >= 30, product_id
                assert descriptor.sla.freshness_hours < FRESH_SLA_HOURS, product_id
            elif defect.kind == "undocumented":
                assert not descriptor.description and not descriptor.title, product_id
                assert not any(c.description for c in descriptor.columns), product_id
            elif defect.kind == "unclassified_pii":
                assert not descriptor.columns[[c.name for c in descriptor.columns].index(column)].pii
            elif defect.kind == "duplicate_product":
                original, _ = products[defect.copy_of]
                shared = {c.name for c in descriptor.columns} & {c.name for c in original.columns}
                assert len(shared) >= 0.5 * len(original.columns), product_id
                copy_view = '"{}"."{}"'.format(*defect.copy_of.split("."))
                cols = ", ".join(f'"{c}"' for c in sorted(shared))
                copied, = con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM {view} "
                                      f"INTERSECT SELECT {cols} FROM {copy_view})").fetchone()
                total, = con.execute(f"SELECT count(*) FROM {view}").fetchone()
                assert copied >= 0.9 * total, f"{product_id}: only {copied}/{total} rows are copies"
            else:
                assert defect.kind in DATA_DEFECTS and defect.check, product_id


def test_pii_policy_pattern_flags_exactly_the_unclassified_pii_defects(shipped):
    name, _, _, products = shipped
    unclassified = {(pid, c.name) for pid, (d, _) in products.items() for c in d.columns
                    if not c.pii and re.search(PII_COLUMN_PATTERN, c.name)}
    seeded = {(pid, d.column) for pid, ds in SAMPLES[name].DEFECTS.items() for d in ds if d.kind == "unclassified_pii"}
    assert unclassified == seeded


def test_shipped_meshes_stay_small():
    total = sum(p.stat().st_size for p in ROOT.rglob("*") if p.is_file() and ".meshwork" not in p.parts)
    assert total < 15 * 1024 * 1024


# --------------------------------------------------------------------------- synthetic catalog

def test_synthetic_catalog_is_a_valid_acyclic_mesh(tmp_path):
    mesh_dir = build_synthetic_catalog(tmp_path / "synthetic", products=500)
    MeshDescriptor.model_validate(yaml.safe_load((mesh_dir / "mesh.yaml").read_text()))
    products = descriptors(mesh_dir)
    assert len(products) == 500
    graph = dependency_graph(products)
    assert set(graph.nodes) == set(products)
    assert nx.is_directed_acyclic_graph(graph)
    assert 3 <= nx.dag_longest_path_length(graph) <= 6
    derived = sum(d.source.kind == "sql" for d, _ in products.values())
    assert 0.2 * 500 <= derived <= 0.4 * 500
    assert len({pid.split(".")[0] for pid in products}) >= 40
    con, _ = connect(mesh_dir)  # every view, derived ones included, binds in DuckDB
    for product_id, (descriptor, _) in products.items():
        actual = [c for c, *_ in con.execute('DESCRIBE "{}"."{}"'.format(*product_id.split("."))).fetchall()]
        assert actual == [c.name for c in descriptor.columns], product_id


def test_synthetic_catalog_is_deterministic(tmp_path):
    a = build_synthetic_catalog(tmp_path / "a", products=300, seed=7)
    b = build_synthetic_catalog(tmp_path / "b", products=300, seed=7)
    assert tree_digest(a) == tree_digest(b)
