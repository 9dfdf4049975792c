"""Search: the product a business user means ranks first (or in the top 3), facets count what matched,
any text is safe, and sorts by usage, quality and freshness work."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import catalog
from catalog.errors import MeshError

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"

# (mesh, query, product that must rank within `top`, top)
RELEVANCE = [
    ("banking", "retail customers", "retail.customers", 1),
    ("banking", "custmers retail", "retail.customers", 1),          # typo
    ("banking", "churn next best offer", "marketing.customer_360", 1),
    ("banking", "fraud alert", "risk.fraud_alerts", 1),             # singular of "alerts"
    ("banking", "loan application", "risk.loan_applications", 1),
    ("banking", "credit bureau score", "risk.credit_scores", 1),
    ("banking", "consent", "privacy.consents", 3),
    ("banking", "card transaction", "cards.card_transactions", 1),
    ("banking", "retail.customers", "retail.customers", 1),         # the id itself
    ("banking", "data subject requests", "privacy.data_subject_requests", 1),
    ("life_sciences", "adverse event", "safety.adverse_events", 3),
    ("life_sciences", "genomic variant", "research.genomic_variants", 1),
    ("life_sciences", "laboratory results", "lab.results", 1),
    ("life_sciences", "patient", "clinical.patients", 1),          # singular of "patients"
    ("life_sciences", "vital signs", "clinical.visits", 1),         # only in its title
    ("life_sciences", "investigater sites", "clinical.sites", 1),   # typo
    ("life_sciences", "pharmacovigilence", "safety.adverse_events", 3),  # typo in a tag
    ("life_sciences", "biobank samples", "lab.samples", 1),
    ("supply_chain", "warehouse", "inventory.warehouses", 1),
    ("supply_chain", "device telemetry", "iot.telemetry", 1),
    ("supply_chain", "suppliers", "procurement.suppliers", 3),
    ("supply_chain", "purchase order", "procurement.purchase_orders", 1),
    ("supply_chain", "stockout risk", "planning.stockout_risk", 1),
    ("supply_chain", "carrier performance", "planning.carrier_performance", 1),
    ("supply_chain", "shipmnet tracking", "planning.shipment_tracking", 3),  # typo
    ("supply_chain", "stock keeping unit", "inventory.skus", 1),
]


@pytest.fixture(scope="module")
def meshes(tmp_path_factory):
    root = tmp_path_factory.mktemp("search")
    out = {}
    for name in ("banking", "life_sciences", "supply_chain"):
        shutil.copytree(SAMPLES / name, root / name, ignore=shutil.ignore_patterns(".meshwork"))
        out[name] = catalog.open_mesh(root / name)
    yield out
    for mesh in out.values():
        mesh.close()


@pytest.mark.parametrize("mesh_name,query,expected,top", RELEVANCE, ids=[f"{m}:{q}" for m, q, _, _ in RELEVANCE])
def test_the_product_meant_ranks_at_the_top(meshes, mesh_name, query, expected, top):
    ids = meshes[mesh_name].search(query, limit=top).ids
    assert expected in ids, (query, meshes[mesh_name].search(query, limit=5).ids)


def test_a_typo_is_read_as_the_nearest_indexed_word(meshes):
    results = meshes["banking"].search("custmers")
    assert "customers" in results.corrections["custmers"]
    assert "retail.customers" in results.ids


def test_a_column_name_finds_the_products_that_have_it(meshes):
    ids = meshes["banking"].search("ssn", limit=None).ids
    assert ids and all(any(c.name == "ssn" or "ssn" in c.description.lower()
                           for c in meshes["banking"].products[i].columns) or "ssn" in i for i in ids)


def test_an_owner_finds_their_products(meshes):
    mesh = meshes["banking"]
    owner = mesh.products["retail.customers"].owner
    ids = set(mesh.search(owner, limit=None).ids)
    assert {pid for pid, p in mesh.products.items() if p.owner == owner} <= ids


def test_empty_query_lists_every_product_browsable_in_pages(meshes):
    mesh = meshes["supply_chain"]
    first = mesh.search("", limit=10)
    assert first.total == len(mesh.products)
    rest = mesh.search("", limit=None, offset=10)
    assert len(first) == 10 and set(first.ids).isdisjoint(rest.ids)
    assert set(first.ids) | set(rest.ids) == set(mesh.products)


def test_facet_counts_add_up_and_follow_the_filters(meshes):
    mesh = meshes["banking"]
    everything = mesh.search("", limit=None)
    domains = dict(everything.facets["domain"])
    assert domains == {d: sum(p.domain == d for p in mesh.products.values()) for d in mesh.domains}
    assert sum(n for _, n in everything.facets["pii"]) == len(mesh.products)
    assert sum(n for _, n in everything.facets["kind"]) == len(mesh.products)
    assert sum(n for _, n in everything.facets["grade"]) == len(mesh.products)
    assert dict(everything.facets["tag"])["customer"] == sum("customer" in p.tags for p in mesh.products.values())
    marketing = mesh.search("", domain="marketing", limit=None)
    assert marketing.total == domains["marketing"] and marketing.facets["domain"] == [("marketing", domains["marketing"])]
    with_pii = mesh.search("customer", pii=True, limit=None)
    assert with_pii.total and all(mesh.products[i].pii_columns for i in with_pii.ids)
    tagged = mesh.search("", tag=["fraud", "kyc"], limit=None)
    assert set(tagged.ids) == {p.id for p in mesh.products.values() if {"fraud", "kyc"} & set(p.tags)}
    kinds = mesh.search("", kind="sql", limit=None)
    assert kinds.ids and all(mesh.products[i].kind == "sql" for i in kinds.ids)


def test_grade_facet_and_quality_sort_follow_the_latest_runs(meshes):
    mesh = meshes["banking"]
    latest = {r["product_id"]: r["grade"] for r in mesh.latest_quality().iter_rows(named=True)}
    results = mesh.search("", limit=None)
    for grade, n in results.facets["grade"]:
        expected = sum(1 for pid in mesh.products if latest.get(pid, "not checked") == grade)
        assert n == expected, grade
    by_quality = [h.quality for h in mesh.search("", sort="quality", limit=None) if h.quality is not None]
    assert by_quality == sorted(by_quality, reverse=True)


def test_sort_by_usage_puts_the_most_queried_first(meshes):
    mesh = meshes["banking"]
    queries = [h.queries for h in mesh.search("customer", sort="usage", limit=None)]
    assert queries == sorted(queries, reverse=True) and queries[0] > 0


def test_sort_by_freshness_puts_the_latest_refresh_first(meshes):
    mesh = meshes["life_sciences"]
    times = [h.refreshed_at for h in mesh.search("", sort="freshness", limit=None) if h.refreshed_at]
    assert times and times == sorted(times, reverse=True)


def test_hit_carries_what_a_card_shows(meshes):
    hit = meshes["banking"].search("fraud alert")[0]
    assert hit.title == "Fraud alerts" and hit.domain == "risk" and hit.owner
    assert hit.grade and hit.trend and hit.marks
    a, b = hit.marks[0]
    assert hit.snippet[a:b].lower().startswith("fraud") or hit.snippet[a:b].lower().startswith("alert")


@pytest.mark.parametrize("text", [
    "", "   ", "'", '"', "\"unterminated", "'; DROP TABLE docs; --", "SELECT * FROM fts_main_docs.dict",
    ".*[(?<", "\\", "%_%", "x" * 10_000, "custom " * 3_000, "ünïcödé ✓ 数据", "\x00\x01", "a AND OR NOT b",
])
def test_any_text_gives_results_or_an_empty_list_never_an_error(meshes, text):
    results = meshes["banking"].search(text)
    assert results.total >= 0 and len(results) <= 20


def test_unknown_filter_or_sort_is_a_clear_error(meshes):
    with pytest.raises(MeshError, match="unknown search filter"):
        meshes["banking"].search("x", colour="red")
    with pytest.raises(MeshError, match="unknown sort"):
        meshes["banking"].search("x", sort="random")


def test_restricted_products_are_listed_locked_for_roles_they_do_not_name(minimesh):
    mesh = catalog.open_mesh(minimesh)
    restricted = [pid for pid, p in mesh.products.items() if p.descriptor.access.restricted]
    assert restricted
    hits = {h.product_id: h for h in mesh.search("", role="analyst", limit=None)}
    assert set(restricted) <= set(hits) and all(hits[pid].locked for pid in restricted)
    assert all(hits[pid].grade == "locked" and not hits[pid].tags for pid in restricted)
    assert not any(h.locked for pid, h in hits.items() if pid not in restricted)
    assert set(restricted) <= set(mesh.search("", limit=None).ids)
    assert not any(h.locked for h in mesh.search("", limit=None))


def test_hidden_discovery_keeps_restricted_products_out_of_search_and_facets(minimesh):
    (minimesh / "mesh.yaml").write_text((minimesh / "mesh.yaml").read_text() + "\ndiscovery: hidden\n")
    mesh = catalog.open_mesh(minimesh)
    restricted = {pid for pid, p in mesh.products.items() if p.descriptor.access.restricted}
    results = mesh.search("", role="analyst", limit=None)
    assert not restricted & set(results.ids)
    assert sum(n for _, n in results.facets["domain"]) == results.total == len(mesh.products) - len(restricted)


def test_concurrent_searches_share_one_index_safely(meshes):
    from concurrent.futures import ThreadPoolExecutor

    mesh = meshes["supply_chain"]
    queries = ["warehouse", "device telemetry", "suppliers", "stockout risk", "carrier", ""] * 4
    expected = {q: mesh.search(q).ids for q in set(queries)}
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda q: (q, mesh.search(q).ids), queries))
    assert all(ids == expected[q] for q, ids in got)


def test_trust_signals_are_a_facet_and_a_sort(minimesh):
    mesh = catalog.open_mesh(minimesh)
    owner = mesh.products["retail.customers"].owner
    mesh.quality_runs.record("retail.customers", "1.0.0", None, 99.0, True, 3.0, [])
    mesh.trust_desk.certify("retail.customers", owner, "reconciled with the CRM")
    mesh.trust_desk.rate("retail.branches", "bo@bank.example", 4)
    results = mesh.search("", sort="trust", limit=None)
    assert results.ids[:2] == ["retail.customers", "retail.branches"]
    assert dict(results.facets["certified"])["yes"] == 1
    assert mesh.search("", certified=True, limit=None).ids == ["retail.customers"]
    assert "retail.customers" not in mesh.search("", certified="no", limit=None).ids


def test_a_write_that_is_no_signal_leaves_the_search_table_as_built(minimesh, monkeypatch):
    """Bookkeeping (the workbench's history, the audit log, `meta`) is no catalog change: the search keeps the
    table and arrays it built; a stored rating is one, and shows at the next search."""
    from catalog.discover import search as search_module

    monkeypatch.setattr(search_module, "SIGNALS_TTL_S", 0.0)
    mesh = catalog.open_mesh(minimesh)
    index = mesh.search_index
    built = index.arrays()
    mesh.state.set_meta("bookkeeping", "written")
    mesh.access.record("ana@bank.example", "viewed")
    assert index.arrays() is built
    mesh.trust_desk.rate("retail.branches", "bo@bank.example", 4)
    assert index.arrays() is not built
    assert mesh.search("", sort="trust", limit=None).ids[0] == "retail.branches"
