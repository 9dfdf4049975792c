"""MeshCache: the one per-mesh cache, invalidated by state revisions, bounded per namespace."""

from __future__ import annotations

from catalog.state.cache import MeshCache
from catalog.state.store import StateStore
from catalog.quality.runs import QualityRuns


def test_a_value_is_recomputed_once_the_table_it_depends_on_gets_a_row(tmp_path, state_url):
    state = StateStore(tmp_path, url=state_url)
    cache, calls = MeshCache(state, "r1"), []
    compute = lambda: calls.append(1) or len(calls)  # noqa: E731
    assert cache.get("scores", "p", compute, tables=("quality_runs",)) == 1
    assert cache.get("scores", "p", compute, tables=("quality_runs",)) == 1  # served from the cache
    QualityRuns(state).record("d.p", "1.0.0", None, 90.0, True, 1.0, [])
    assert cache.get("scores", "p", compute, tables=("quality_runs",)) == 2  # a new run: recomputed
    assert cache.hits == 1 and cache.misses == 2


def test_a_bounded_namespace_drops_its_least_recently_used_entries_only(tmp_path, state_url):
    cache = MeshCache(StateStore(tmp_path, url=state_url))
    cache.put("other", "kept", "x")
    for n in range(5):
        cache.put("tiles", n, n, limit=3)
    assert cache.peek("tiles", 0) is None and cache.peek("tiles", 1) is None
    assert [cache.peek("tiles", n) for n in (2, 3, 4)] == [2, 3, 4]
    assert cache.size("tiles") == 3 and cache.peek("other", "kept") == "x"


def test_forgetting_a_namespace_leaves_the_others(tmp_path, state_url):
    cache = MeshCache(StateStore(tmp_path, url=state_url))
    cache.put("a", 1, "one")
    cache.put("b", 1, "uno")
    cache.forget("a")
    assert cache.peek("a", 1) is None and cache.peek("b", 1) == "uno"
