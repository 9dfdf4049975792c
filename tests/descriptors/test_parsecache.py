"""Reopening a mesh reuses parsed descriptors while their files are unchanged, and never serves a stale one."""

from __future__ import annotations

import os
import time
from pathlib import Path

import catalog
from catalog.descriptors.loader import open_descriptors
from catalog.descriptors.parsecache import CACHE_FILE


def _age(root: Path, seconds: float = 60.0) -> None:
    """Back-date every descriptor so the cache may keep it (fresh files are never cached)."""
    past = time.time() - seconds
    for path in root.rglob("*.yaml"):
        os.utime(path, (past, past))


def test_second_open_reads_descriptors_from_the_cache(minimesh: Path, tmp_path: Path):
    _age(minimesh)
    state = tmp_path / "state"
    first = open_descriptors(minimesh, cache_dir=state)
    assert (state / CACHE_FILE).is_file() and first.cache.hits == 0
    second = open_descriptors(minimesh, cache_dir=state)
    assert second.cache.hits == len(first.products)
    assert second.products.keys() == first.products.keys()
    assert second.upstream_ids == first.upstream_ids
    assert [str(p) for p in second.problems] == [str(p) for p in first.problems]


def test_an_edited_descriptor_is_parsed_again(minimesh: Path, tmp_path: Path):
    _age(minimesh)
    state = tmp_path / "state"
    open_descriptors(minimesh, cache_dir=state)
    path = minimesh / "retail/products/customers.yaml"
    path.write_text(path.read_text().replace("title: Retail customers", "title: Retail clients!!"))
    _age(minimesh, 30)
    mesh = catalog.open_mesh(minimesh, state_dir=state)
    assert mesh.products["retail.customers"].title == "Retail clients!!"


def test_a_recently_written_descriptor_is_not_cached(minimesh: Path, tmp_path: Path):
    state = tmp_path / "state"
    open_descriptors(minimesh, cache_dir=state)
    assert open_descriptors(minimesh, cache_dir=state).cache.hits == 0


def test_a_corrupt_cache_is_ignored_and_rebuilt(minimesh: Path, tmp_path: Path):
    _age(minimesh)
    state = tmp_path / "state"
    state.mkdir()
    (state / CACHE_FILE).write_bytes(b"\x00not marshal at all")
    loaded = open_descriptors(minimesh, cache_dir=state)
    assert "retail.customers" in loaded.products
    assert open_descriptors(minimesh, cache_dir=state).cache.hits == len(loaded.products)


def test_broken_sql_stays_a_problem_when_served_from_the_cache(minimesh: Path, tmp_path: Path):
    bad = minimesh / "retail/products/broken_sql.yaml"
    bad.write_text("name: broken_sql\nowner: a@b.example\nsource: {kind: sql, sql: 'SELEC nope FROM'}\n")
    _age(minimesh)
    state = tmp_path / "state"
    for _ in range(2):
        loaded = open_descriptors(minimesh, cache_dir=state)
        problems = [p for p in loaded.problems if p.product_id == "retail.broken_sql"]
        assert problems and "SQL does not parse" in problems[0].message and problems[0].line == 3
        assert loaded.products["retail.broken_sql"].broken
