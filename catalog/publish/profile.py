"""A profile of a table's data, and what it suggests: PII columns and quality checks.

Used by self-serve publishing: the draft of a new product gets a schema, PII
classifications (from column names and from value patterns) and checks (from nulls,
uniqueness, ranges and small value sets) that its owner then reviews.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any

import polars as pl

from catalog.descriptors.model import Column
from catalog.numbers import format_percent, hours_text

VALUE_SAMPLE = 500
PATTERN_SHARE = 0.8          # share of sampled values that must match a value pattern
MAX_ACCEPTED_VALUES = 12

# Column-name hints, most specific first: (category, pattern).
NAME_HINTS: list[tuple[str, re.Pattern[str]]] = [(c, re.compile(p, re.I)) for c, p in [
    ("email", r"e_?mail"),
    ("ssn", r"(^|_)(ssn|social_security|national_id|tax_id|nino)(_|$)"),
    ("phone", r"phone|mobile|(^|_)(fax|tel|msisdn)(_|$)"),
    ("birth_date", r"birth|(^|_)dob(_|$)"),
    ("account_number", r"iban|account_(number|no|num)|card_(number|no|num)|(^|_)pan(_|$)"),
    ("ip_address", r"(^|_)ip(_?addr(ess)?)?(_|$)"),
    ("address", r"address|street|(^|_)(zip|zip_code|postcode|postal_code)(_|$)"),
    ("name", r"(full|first|last|given|family|middle|contact|patient|holder|customer|manager|driver|operator"
             r"|person|employee|member)_?name"),
    ("health", r"diagnos|medication|(^|_)(icd\d*|condition|symptom|allergy)(_|$)"),
    ("free_text", r"narrative|(^|_)(notes?|comments?|free_text|remarks)(_|$)"),
    ("identifier", r"(^|_)(customer|patient|person|user|member|employee|subject|client|account_holder)_id$"),
]]

# Value patterns: (category, what a person reads, regex on the stripped text value).
VALUE_HINTS: list[tuple[str, str, re.Pattern[str]]] = [
    ("email", "e-mail addresses", re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")),
    ("ssn", "US social security numbers", re.compile(r"^\d{3}-\d{2}-\d{4}$")),
    ("ip_address", "IP addresses", re.compile(r"^(\d{1,3}\.){3}\d{1,3}$|^[0-9a-f]{0,4}(:[0-9a-f]{0,4}){2,7}$", re.I)),
    ("account_number", "IBANs", re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")),
    ("account_number", "payment card numbers", re.compile(r"^\d{4}([ -]?\d{4}){2}[ -]?\d{1,7}$")),
    ("phone", "phone numbers", re.compile(r"^\+?[\d\s().-]{7,20}$")),
]

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_KEY_NAME = re.compile(r"(^id$|_id$|_key$|_code$|^code$|_no$|_number$)", re.I)
_TIME_NAME = re.compile(r"(updated|modified|created|loaded|ingested|event|recorded|measured)_?(at|time|ts|on)?$"
                        r"|_at$|_ts$|timestamp|_time$|(^|_)date$", re.I)


@dataclass
class ColumnProfile:
    name: str
    type: str
    nulls: int
    distinct: int
    min: Any = None
    max: Any = None
    values: list[Any] = field(default_factory=list)   # all distinct values when there are few
    pii_category: str | None = None
    pii_reason: str = ""

    @property
    def numeric(self) -> bool:
        return _is_numeric(self.type)

    @property
    def temporal(self) -> bool:
        return self.type.upper().startswith(("DATE", "TIMESTAMP"))


@dataclass
class Profile:
    rows: int                     # rows in the whole source
    profiled_rows: int            # rows the profile read (a prefix when the source is large)
    columns: list[ColumnProfile]

    def column(self, name: str) -> ColumnProfile | None:
        return next((c for c in self.columns if c.name == name), None)

    def frame(self) -> pl.DataFrame:
        """One row per column, for display."""
        return pl.DataFrame([{"column": c.name, "type": c.type, "nulls": c.nulls, "distinct": c.distinct,
                              "min": None if c.min is None else str(c.min),
                              "max": None if c.max is None else str(c.max),
                              "pii": c.pii_category or "", "why": c.pii_reason} for c in self.columns],
                            schema={"column": pl.String, "type": pl.String, "nulls": pl.Int64, "distinct": pl.Int64,
                                    "min": pl.String, "max": pl.String, "pii": pl.String, "why": pl.String})


def _is_numeric(sql_type: str) -> bool:
    return sql_type.upper().split("(")[0] in {
        "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
        "FLOAT", "DOUBLE", "DECIMAL", "REAL", "NUMERIC", "INT", "INT4", "INT8", "FLOAT8"}


_POLARS_TYPES = {
    pl.Int8: "TINYINT", pl.Int16: "SMALLINT", pl.Int32: "INTEGER", pl.Int64: "BIGINT", pl.UInt8: "UTINYINT",
    pl.UInt16: "USMALLINT", pl.UInt32: "UINTEGER", pl.UInt64: "UBIGINT", pl.Float32: "FLOAT", pl.Float64: "DOUBLE",
    pl.Boolean: "BOOLEAN", pl.String: "VARCHAR", pl.Date: "DATE", pl.Time: "TIME", pl.Binary: "BLOB",
}


def sql_type(dtype: pl.DataType) -> str:
    """The DuckDB type name of a polars dtype (for products whose types come from a query result)."""
    if isinstance(dtype, pl.Datetime):
        return "TIMESTAMP WITH TIME ZONE" if dtype.time_zone else "TIMESTAMP"
    if isinstance(dtype, pl.Decimal):
        return f"DECIMAL({dtype.precision},{dtype.scale})"
    if isinstance(dtype, pl.Duration):
        return "INTERVAL"
    return _POLARS_TYPES.get(dtype.base_type(), "VARCHAR")  # type: ignore[call-overload]


def suggest_pii(name: str, values: pl.Series | None = None) -> tuple[str | None, str]:
    """(category, why) for a column: a name hint wins; else a value pattern most sampled values match."""
    for category, pattern in NAME_HINTS:
        if pattern.search(name):
            return category, f"the name looks like {category.replace('_', ' ')}"
    if values is None or values.dtype != pl.String:
        return None, ""
    stripped = values.drop_nulls().str.strip_chars()
    sample = stripped.filter(stripped != "").head(VALUE_SAMPLE).to_list()
    if len(sample) < 3:
        return None, ""
    for category, label, pattern in VALUE_HINTS:
        hits = sum(1 for v in sample if pattern.match(v))
        if hits / len(sample) >= PATTERN_SHARE and (category != "phone" or _mostly_digits(sample)):
            if label == "payment card numbers" and not sum(_luhn(v) for v in sample) / len(sample) >= PATTERN_SHARE:
                continue
            return category, f"{format_percent(100 * hits / len(sample))} of the values look like {label}"
    return None, ""


def _mostly_digits(sample: list[str]) -> bool:
    # E.164 numbers have at most 15 digits; ISO dates and times are digits and dashes too
    return all(7 <= sum(ch.isdigit() for ch in v) <= 15 and not _ISO_DATE.match(v) for v in sample)


def _luhn(text: str) -> bool:
    digits = [int(ch) for ch in text if ch.isdigit()]
    total = 0
    for i, digit in enumerate(reversed(digits)):
        if i % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def profile_frame(frame: pl.DataFrame, types: dict[str, str] | None = None, total_rows: int | None = None) -> Profile:
    """Profile a (prefix of a) table; `types` are the source's SQL types (else derived from polars)."""
    types = types or {}
    columns = []
    for name in frame.columns:
        series = frame[name]
        col_type = types.get(name) or sql_type(series.dtype)
        nulls = series.null_count()
        try:
            distinct = series.n_unique() - (1 if nulls else 0)
        except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError):
            distinct = -1
        profile = ColumnProfile(name=name, type=col_type, nulls=nulls, distinct=distinct)
        orderable = series.dtype.is_numeric() or series.dtype.is_temporal() or series.dtype == pl.String
        if orderable and nulls < len(series):
            profile.min, profile.max = series.min(), series.max()
        if 0 < distinct <= MAX_ACCEPTED_VALUES and series.dtype in (pl.String, pl.Boolean) or (
                0 < distinct <= MAX_ACCEPTED_VALUES and series.dtype.is_integer()):
            profile.values = sorted(series.drop_nulls().unique().to_list())
        profile.pii_category, profile.pii_reason = suggest_pii(name, series)
        columns.append(profile)
    return Profile(rows=frame.height if total_rows is None else total_rows, profiled_rows=frame.height,
                   columns=columns)


def suggest_columns(profile: Profile, inherited: dict[str, Column] | None = None) -> list[Column]:
    """The schema of a draft: types from the source, PII from the profile (or from the upstream column)."""
    inherited = inherited or {}
    out = []
    for c in profile.columns:
        upstream = inherited.get(c.name)
        category = upstream.pii_category if upstream and upstream.pii else c.pii_category
        out.append(Column(name=c.name, type=c.type, description=upstream.description if upstream else "",
                          pii=bool(category), pii_category=category,
                          key=bool(upstream.key) if upstream else False))
    return out


def suggest_checks(profile: Profile) -> list[dict[str, Any]]:
    """Checks the data already passes and that guard what looks intended: a row count, no nulls where there
    are none, unique keys, accepted values of small categorical sets, non-negative or bounded numbers."""
    checks: list[dict[str, Any]] = [{"check": "row_count", "min": 1}]
    if profile.profiled_rows == 0:
        return checks
    sampled = profile.profiled_rows < profile.rows
    for i, c in enumerate(profile.columns):
        if c.nulls == 0:
            checks.append({"check": "not_null", "column": c.name})
        if (c.nulls == 0 and c.distinct == profile.profiled_rows and not sampled and not c.temporal
                and (_KEY_NAME.search(c.name) or (i == 0 and not c.numeric))):
            checks.append({"check": "unique", "columns": [c.name]})
        elif c.values and c.pii_category is None and profile.profiled_rows >= 2 * len(c.values) and not c.numeric:
            checks.append({"check": "accepted_values", "column": c.name, "values": c.values})
        if c.numeric and c.min is not None and not _KEY_NAME.search(c.name):
            low, high = float(c.min), float(c.max)
            if math.isfinite(low) and low >= 0:
                bounds: dict[str, Any] = {"min": 0}
                if high <= 1 and c.type.upper() not in ("BIGINT", "INTEGER"):
                    bounds["max"] = 1
                elif re.search(r"pct|percent", c.name, re.I) and high <= 100:
                    bounds["max"] = 100
                checks.append({"check": "range", "column": c.name, **bounds})
        if c.pii_category == "email":
            checks.append({"check": "regex", "column": c.name, "pattern": r"^[^@\s]+@[^@\s]+$",
                           "severity": "warning"})
    return checks


def _timestamp_column(profile: Profile) -> ColumnProfile | None:
    """The most likely 'last updated' column: a timestamp or date, by name first."""
    temporal = [c for c in profile.columns if c.temporal]
    return next((c for c in temporal if _TIME_NAME.search(c.name)), temporal[0]) if temporal else None


def _age_hours(newest: Any, now: datetime) -> float | None:
    """Hours from `newest` (a date, a datetime or its text) to `now` (naive UTC); None when unreadable."""
    if isinstance(newest, str):
        try:
            newest = datetime.fromisoformat(newest)
        except ValueError:
            return None
    if isinstance(newest, date) and not isinstance(newest, datetime):
        newest = datetime.combine(newest, time.max)
    if not isinstance(newest, datetime):
        return None
    if newest.tzinfo is not None:
        newest = newest.astimezone(timezone.utc).replace(tzinfo=None)
    return (now - newest).total_seconds() / 3600


def suggest_sla(profile: Profile, hours: float = 24, now: datetime | None = None) -> dict[str, Any]:
    """A freshness SLA on the most likely 'last updated' column, only when its newest value is within `hours`
    of now: an SLA the data already misses would fail its first run (`sla_note` says why none was proposed)."""
    best = _timestamp_column(profile)
    if best is None:
        return {}
    age = _age_hours(best.max, now or datetime.now(timezone.utc).replace(tzinfo=None))
    if age is None or age > hours:
        return {}
    return {"freshness_hours": hours, "timestamp_column": best.name}


def sla_note(profile: Profile, hours: float = 24, now: datetime | None = None) -> str | None:
    """Why the draft has no freshness SLA although the data has timestamps (None when one was proposed or the
    data has none)."""
    best = _timestamp_column(profile)
    if best is None or suggest_sla(profile, hours, now):
        return None
    age = _age_hours(best.max, now or datetime.now(timezone.utc).replace(tzinfo=None))
    if age is None:
        return f"no freshness SLA proposed: the newest {best.name} could not be read"
    return (f"no freshness SLA proposed: the newest {best.name} ({best.max}) is {hours_text(age)} old, so an "
            f"SLA of {hours_text(hours)} would fail at once; add `sla: {{freshness_hours: <hours>, timestamp_column: "
            f"{best.name}}}` with a window the data keeps")
