"""One owner per state table: only the module `migrations.OWNERS` names runs SQL on a table, and every table is
created in catalog/state/migrations.py, nowhere else (the sources of catalog/ and app/ are scanned: a page
reads state through the library, never with SQL of its own)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import catalog
from catalog.state.migrations import MIGRATIONS, OWNERS

PACKAGE = Path(catalog.__file__).parent
APP = PACKAGE.parent / "app"
MIGRATIONS_MODULE = "catalog.state.migrations"
DDL = re.compile(r"\b(?:CREATE|ALTER|DROP)\s+(?:OR\s+REPLACE\s+)?(?:TEMP(?:ORARY)?\s+)?(?:UNIQUE\s+)?"
                 r"(?:TABLE|INDEX|TRIGGER|VIEW)\b")
USES_STATE = re.compile(r"\bstate\.(?:query|frame|transaction)\(|\bStateStore\(")


def _sources() -> dict[str, str]:
    return {".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts): path.read_text(encoding="utf-8")
            for path in sorted([*PACKAGE.rglob("*.py"), *APP.rglob("*.py")])}


def _names(table: str) -> re.Pattern[str]:
    """SQL naming `table`: after FROM, JOIN, INTO, UPDATE, TABLE or (an index's) ON, quoted or not."""
    return re.compile(rf'\b(?:FROM|JOIN|INTO|UPDATE|TABLE|ON)\s+"?{table}"?\b')


def _created() -> set[str]:
    tables = {"meta"}  # migrations.META
    for script in MIGRATIONS:
        tables |= set(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", script))
    return tables


def test_every_table_the_migrations_create_has_an_owner_module_that_exists():
    assert set(OWNERS) == _created()
    for module in set(OWNERS.values()):
        importlib.import_module(module)


# Tables a migration made and a later design retired: kept (old migrations are never edited, old rows stay),
# but no code reads or writes them. access_requests: a request is an access agreement now (issue 20).
RETIRED = {"access_requests"}


def test_every_table_is_read_and_written_by_exactly_its_owner():
    sources = _sources()
    for table, owner in OWNERS.items():
        naming = {module for module, text in sources.items()
                  if module != MIGRATIONS_MODULE and _names(table).search(text)}
        if table in RETIRED:
            assert naming == set(), f"{table} is retired: nothing reads or writes it, found SQL in {sorted(naming)}"
            continue
        assert naming == {owner}, f"SQL on {table} belongs in {owner} only; found it in {sorted(naming)}"


def test_all_ddl_of_the_state_store_lives_in_the_migrations():
    for module, text in _sources().items():
        if module == MIGRATIONS_MODULE:
            continue
        for table in OWNERS:
            for statement in DDL.finditer(text):
                tail = text[statement.end():statement.end() + 200]
                assert not re.match(rf'\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?\w*\s*(?:ON\s+)?"?{table}"?\b', tail), (
                    f"{module} creates or alters the state table {table}: move it to {MIGRATIONS_MODULE}")
        # DuckDB and Spark views, a sample's SQLite source: DDL is fine only where no state SQL runs.
        if DDL.search(text) and USES_STATE.search(text):
            assert False, f"{module} runs SQL on the state store and holds DDL: the schema is {MIGRATIONS_MODULE}'s"
