"""Schema checks: the data's columns and types against the declared ones, on every run, before any row is read.

A renamed or dropped upstream column, or a column whose type changed (`BIGINT` data now `VARCHAR`), is found
by the run that meets it, not by the first query that fails. The actual schema comes from the source's own
metadata (a parquet footer, DuckDB's binder, the PostgreSQL catalog, a derived product's SQL as bound): the
checker reads it with a `LIMIT 0` query it already makes. Types are compared by `catalog.sqltypes.fits_declared`
(the compatibility table), and only for columns whose type the descriptor states.

The schema checks are whole checks (they pass or fail as a whole) of error severity; a product may also ask
for undeclared new columns to count (`undeclared_columns: warn | fail`).
"""

from __future__ import annotations

from typing import Mapping

from catalog.descriptors.model import DataProduct
from catalog.quality.report import CheckResult
from catalog.sqltypes import fits_declared

COLUMNS_PRESENT = "schema: declared columns present"
COLUMN_TYPES = "schema: declared types"
NO_UNDECLARED = "schema: no undeclared columns"
SOURCE_READABLE = "source readable"
SCHEMA_KINDS = frozenset({"schema_columns", "schema_types", "schema_undeclared", "source"})
"""Check kinds computed from the schema or the source itself: they read no values, so they are never
sensitive and never have example rows."""
DRIFT_KINDS = frozenset({"schema_columns", "schema_types", "schema_undeclared"})
"""The schema checks whose failure is a change of what consumers read: alerted like a breaking change."""


def _names(columns: list[str]) -> str:
    return ", ".join(f"`{c}`" for c in columns)


def schema_results(product: DataProduct, actual: Mapping[str, str | None]) -> list[CheckResult]:
    """The schema checks of `product` against the data's `actual` columns (name -> type as the engine says;
    None when the engine does not say, and then the type is not compared)."""
    declared = product.columns
    if not declared:
        return []
    found = {name.lower(): (name, kind) for name, kind in actual.items()}
    missing = [c.name for c in declared if c.name.lower() not in found]
    results = [_present(declared, missing, found)]
    typed = [c for c in declared if "type" in c.model_fields_set and found.get(c.name.lower(), ("", None))[1]]
    if typed:
        wrong = [(c, found[c.name.lower()][1]) for c in typed if not fits_declared(c.type, found[c.name.lower()][1])]
        if wrong:
            message = "; ".join(f"column `{c.name}` is declared {c.type} but the data has {kind}" for c, kind in wrong)
            results.append(CheckResult(COLUMN_TYPES, "schema_types", "error", "fail", failing=len(wrong),
                                       message=message, observed={c.name: kind for c, kind in wrong}))
        else:
            results.append(CheckResult(COLUMN_TYPES, "schema_types", "error", "pass", failing=0,
                                       message=f"all {len(typed)} declared types fit the data", observed={}))
    mode = product.descriptor.undeclared_columns
    if mode != "allow":
        known = {c.name.lower() for c in declared}
        extra = [name for key, (name, _) in found.items() if key not in known]
        severity = "error" if mode == "fail" else "warning"
        results.append(CheckResult(
            NO_UNDECLARED, "schema_undeclared", severity, "fail" if extra else "pass", failing=len(extra),
            message=(f"the data has undeclared column{'s' if len(extra) > 1 else ''} {_names(extra)}: declare "
                     f"{'them' if len(extra) > 1 else 'it'} or set undeclared_columns: allow") if extra
            else "every column of the data is declared", observed=extra))
    return results


def _present(declared: list, missing: list[str], found: Mapping[str, tuple[str, str]]) -> CheckResult:
    if not missing:
        return CheckResult(COLUMNS_PRESENT, "schema_columns", "error", "pass", failing=0,
                           message=f"all {len(declared)} declared columns are in the data", observed=[])
    known = {c.name.lower() for c in declared}
    undeclared = [name for key, (name, _) in found.items() if key not in known]
    hint = f"; the data has undeclared {_names(undeclared)} (renamed?)" if undeclared else ""
    what = (f"column `{missing[0]}` is declared but the data has no such column" if len(missing) == 1
            else f"columns {_names(missing)} are declared but the data has no such columns")
    return CheckResult(COLUMNS_PRESENT, "schema_columns", "error", "fail", failing=len(missing),
                       message=what + hint, observed=missing)


def unreadable(reason: str) -> CheckResult:
    """The one failing check of a product whose source cannot be read at all."""
    return CheckResult(SOURCE_READABLE, "source", "error", "fail", failing=1, message=f"source unreadable: {reason}")
