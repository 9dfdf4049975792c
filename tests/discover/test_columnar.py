"""Search counts facets, filters and sorts over precomputed arrays (catalog/discover/columnar.py): the counts,
the filtered sets and the order must be what a plain recount over the returned products gives, as each
viewer sees them (a locked product as its card, a hidden one nowhere, not even in a count)."""

from __future__ import annotations

from collections import Counter

import pytest

import catalog
from catalog.discover.search import FACETS, LIST_FACETS, YES_NO
from tests.samplecopy import hide_unlisted, opened_sample

QUERIES = ["", "customer", "risk exposure", "EAD", "PD", "account balance", "custmer", "zzzz"]
VIEWERS = [(None, None), ("analyst", "a@bank.example")]
FILTERS = [{}, {"domain": "risk"}, {"pii": True}, {"pii": "no"}, {"tag": ["customer", "fraud"]},
           {"grade": "locked"}, {"kind": "sql"}, {"certified": False}, {"domain": ["risk", "retail"], "pii": True}]


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    with opened_sample(tmp_path_factory.mktemp("columnar")) as mesh:
        yield mesh


def _rows(mesh, viewer):
    """Each product as this viewer sees it, read straight from the index table."""
    rows = {}
    for row in mesh.search_index.table().iter_rows(named=True):
        if viewer is not None and viewer.is_locked(row["product_id"]):
            row.update(grade="locked", pii=None, kind=None, quality=None, refreshed_at=None, tags=[], terms=[])
        rows[row["product_id"]] = row
    return rows


def _recount(rows, ids):
    counts = {facet: Counter() for facet in FACETS}
    for pid in ids:
        row = rows[pid]
        for facet in FACETS:
            if facet in LIST_FACETS:
                counts[facet].update(row[LIST_FACETS[facet]])
            elif row[facet] is not None:
                counts[facet][("yes" if row[facet] else "no") if facet in YES_NO else str(row[facet])] += 1
    return {facet: sorted(c.items(), key=lambda vc: (-vc[1], vc[0])) for facet, c in counts.items()}


def _keeps(row, filters):
    for facet, wanted in filters.items():
        values = [wanted] if isinstance(wanted, (str, bool)) else list(wanted)
        if facet in YES_NO:
            flags = {v if isinstance(v, bool) else v == "yes" for v in values}
            if row[facet] is None or row[facet] not in flags:
                return False
        elif facet in LIST_FACETS:
            if not set(row[LIST_FACETS[facet]]) & set(values):
                return False
        elif row[facet] not in values:
            return False
    return True


def _key(sort, hit):
    ident = hit.product_id
    return {"relevance": (-hit.score, ident), "title": (hit.domain, ident),
            "usage": (-hit.queries, -hit.score, ident),
            "quality": (hit.quality is None, -(hit.quality or 0.0), -hit.score, ident),
            "freshness": (hit.refreshed_at is None, -(hit.refreshed_at.timestamp() if hit.refreshed_at else 0.0),
                          -hit.score, ident),
            "trust": (not hit.certified, hit.rating is None, -(hit.rating or 0.0), -hit.score, ident)}[sort]


@pytest.mark.parametrize("role,user", VIEWERS, ids=["steward", "analyst"])
def test_facet_counts_and_filters_are_a_plain_recount_of_what_the_viewer_finds(bank, role, user):
    viewer = bank.policy(role, user) if role else None
    rows = _rows(bank, viewer)
    for text in QUERIES:
        everything = bank.search(text, role=role, user=user, limit=None)
        assert everything.facets == _recount(rows, everything.ids), text
        assert everything.total == len(everything.ids) == len(set(everything.ids))
        for filters in FILTERS[1:]:
            filtered = bank.search(text, role=role, user=user, limit=None, **filters)
            assert filtered.ids == [i for i in everything.ids if _keeps(rows[i], filters)], (text, filters)
            assert filtered.facets == _recount(rows, filtered.ids), (text, filters)


@pytest.mark.parametrize("sort", ["relevance", "usage", "quality", "freshness", "trust"])
def test_every_sort_orders_by_its_keys_then_the_id_and_pages_slice_that_order(bank, sort):
    for role, user in VIEWERS:
        for text in QUERIES:
            found = bank.search(text, role=role, user=user, sort=sort, limit=None)
            expected_sort = sort if text.strip() or sort != "relevance" else "title"
            assert found.ids == [h.product_id for h in sorted(found.hits, key=lambda h: _key(expected_sort, h))]
            page = bank.search(text, role=role, user=user, sort=sort, limit=3, offset=2)
            assert page.ids == found.ids[2:5] and page.total == found.total and page.facets == found.facets


def test_a_locked_card_counts_only_what_it_shows(bank):
    viewer = bank.policy("analyst", "a@bank.example")
    assert "risk.customer_exposure" in viewer.locked
    found = bank.search("EAD", role="analyst", user="a@bank.example", limit=None)
    assert found.ids == ["risk.customer_exposure"]
    assert found.facets["grade"] == [("locked", 1)] and found.facets["term"] == [] and found.facets["tag"] == []
    assert found.facets["pii"] == [] and found.facets["kind"] == []
    assert bank.search("EAD", role="analyst", user="a@bank.example", term="Exposure at default").total == 0


def test_a_hidden_product_never_counts(minimesh):
    mesh = catalog.open_mesh(hide_unlisted(minimesh))
    viewer = mesh.policy("analyst", None)
    assert viewer.hidden
    rows = _rows(mesh, viewer)
    for text in ["", "customer", "branch", "transaction"]:
        found = mesh.search(text, role="analyst", limit=None)
        assert not viewer.hidden & set(found.ids)
        assert found.facets == _recount(rows, found.ids)
        assert sum(n for _, n in found.facets["domain"]) == found.total
    mesh.close()
