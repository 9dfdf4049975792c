"""How an industry module declares a sample mesh: products, columns that generate their own values,
quality checks, and the defects seeded on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterator, Sequence

import polars as pl

from catalog.samples._gen import DTYPES, Gen, salt_of

ANCHOR = datetime(2026, 11, 20, 6, 0)
"""The shipped samples are a snapshot taken at this moment; fresh products end here."""
FRESH_SLA_HOURS = 2160
"""SLA of the fresh products: 90 days, so the 2026-11-20 snapshot stays within SLA until 2027-02-18."""
STALE_DAYS = 80
"""A stale product's last timestamp is this many days before the anchor (2026-09-01 for the default)."""


# --------------------------------------------------------------------------- checks

def not_null(column: str, **kw: Any) -> dict:
    return {"check": "not_null", "column": column, **kw}


def unique(*columns: str, **kw: Any) -> dict:
    return {"check": "unique", "columns": list(columns), **kw}


def accepted(column: str, values: Sequence[Any], **kw: Any) -> dict:
    return {"check": "accepted_values", "column": column, "values": list(values), **kw}


def in_range(column: str, min: Any = None, max: Any = None, **kw: Any) -> dict:
    bounds = {k: v for k, v in (("min", min), ("max", max)) if v is not None}
    return {"check": "range", "column": column, **bounds, **kw}


def regex(column: str, pattern: str, **kw: Any) -> dict:
    return {"check": "regex", "column": column, "pattern": pattern, **kw}


def row_count(min: int | None = None, max: int | None = None, **kw: Any) -> dict:
    return {"check": "row_count", **{k: v for k, v in (("min", min), ("max", max)) if v is not None}, **kw}


def fresh(**kw: Any) -> dict:
    return {"check": "freshness", **kw}


def references(column: str, product: str, to_column: str | None = None, **kw: Any) -> dict:
    return {"check": "references", "column": column, "product": product, "to_column": to_column or column, **kw}


def expression(sql: str, **kw: Any) -> dict:
    return {"check": "expression", "expression": sql, **kw}


def sla(column: str, hours: float = FRESH_SLA_HOURS) -> dict:
    return {"freshness_hours": hours, "timestamp_column": column}


# --------------------------------------------------------------------------- model

@dataclass(frozen=True)
class Col:
    name: str
    type: str
    description: str = ""
    pii: str | None = None
    key: bool = False
    gen: Gen | None = None

    def descriptor(self) -> dict:
        out: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.description:
            out["description"] = self.description
        if self.pii:
            out["pii"] = self.pii
        if self.key:
            out["key"] = True
        return out


DEFECT_KINDS = ("nulls", "duplicate_keys", "out_of_range", "orphans", "pattern_violation", "rule_violation",
                "stale", "undocumented", "unclassified_pii", "duplicate_product")


@dataclass(frozen=True)
class Defect:
    """A flaw seeded on purpose; `count` rows are affected, at any scale."""

    kind: str  # see DEFECT_KINDS
    description: str
    columns: tuple[str, ...] = ()
    check: str | None = None  # label of the check that catches it
    rows: tuple[int, ...] = ()
    value: Any = None  # what the rows get: None (NULL), a literal, a list (one per row) or a polars expression
    copy_of: str | None = None  # duplicate_product: the product this one copies

    @property
    def column(self) -> str | None:
        return self.columns[0] if self.columns else None

    @property
    def count(self) -> int | None:
        return len(self.rows) or None

    def __str__(self) -> str:
        return self.description

    def apply(self, df: pl.DataFrame, product: "Product") -> pl.DataFrame:
        lo, hi = df["__i"][0], df["__i"][-1]
        rows = [r for r in self.rows if lo <= r <= hi]
        if not rows:
            return df
        hit = pl.col("__i").is_in(rows)
        for name in self.columns:
            dtype = df.schema[name]
            if self.kind == "duplicate_keys":  # the row takes the key of the row before it
                gen = product.column(name).gen
                new = gen(pl.col("__i") - 1, salt_of(product.seed, name))
            elif isinstance(self.value, pl.Expr):
                new = self.value
            elif isinstance(self.value, (list, tuple)):
                new = pl.col("__i").replace_strict(list(self.rows), list(self.value), default=None)
            else:
                new = pl.lit(self.value)
            df = df.with_columns(pl.when(hit).then(new.cast(dtype)).otherwise(pl.col(name)).alias(name))
        return df


@dataclass
class Product:
    domain: str
    name: str
    title: str
    description: str
    owner: str
    kind: str  # parquet | csv | sqlite | duckdb | sql
    columns: list[Col]
    path: str = ""  # relative to the domain folder
    table: str = ""
    sql: str = ""
    rows: int = 0  # at scale 1
    seed: str = ""  # salt namespace; a copy of another product reuses the original's id
    version: str = "1.0.0"
    status: str = "active"
    tags: list[str] = field(default_factory=list)
    quality: list[dict] = field(default_factory=list)
    sla: dict = field(default_factory=dict)
    access: dict = field(default_factory=dict)
    defects: list[Defect] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.seed = self.seed or self.id

    @property
    def id(self) -> str:
        return f"{self.domain}.{self.name}"

    def column(self, name: str) -> Col:
        return next(c for c in self.columns if c.name == name)

    def descriptor(self) -> dict:
        out: dict[str, Any] = {"name": self.name}
        for key in ("title", "description", "owner", "version"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.status != "active":
            out["status"] = self.status
        if self.tags:
            out["tags"] = list(self.tags)
        if self.kind == "sql":
            out["source"] = {"kind": "sql", "sql": self.sql.strip() + "\n"}
        elif self.kind in ("sqlite", "duckdb"):
            out["source"] = {"kind": self.kind, "path": self.path, "table": self.table}
        else:
            out["source"] = {"kind": self.kind, "path": self.path}
        out["columns"] = [c.descriptor() for c in self.columns]
        for key in ("quality", "sla", "access"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out

    def chunks(self, scale: int, chunk_rows: int) -> Iterator[pl.DataFrame]:
        """The product's rows at `scale`, `chunk_rows` at a time, with the defects applied."""
        total = self.rows * scale
        for start in range(0, total, chunk_rows):
            df = pl.DataFrame({"__i": pl.int_range(start, min(total, start + chunk_rows), eager=True)})
            for col in self.columns:
                df = df.with_columns(col.gen(pl.col("__i"), salt_of(self.seed, col.name)).alias(col.name))
            for defect in self.defects:
                df = defect.apply(df, self)
            yield df.select(pl.col(c.name).cast(DTYPES[c.type]) for c in self.columns)


@dataclass
class DomainSpec:
    name: str
    title: str
    description: str
    owner: str
    team: list[str]
    policies: list[dict] = field(default_factory=list)

    def descriptor(self) -> dict:
        out = {"name": self.name, "title": self.title, "description": self.description,
               "owner": self.owner, "team": list(self.team)}
        if self.policies:
            out["policies"] = self.policies
        return out


@dataclass
class MeshSpec:
    name: str
    title: str
    description: str
    story: str  # README prose
    roles: dict[str, dict]
    domains: list[DomainSpec]
    products: list[Product]
    policies: list[dict] = field(default_factory=lambda: list(GLOBAL_POLICIES))
    dashboards: dict[str, dict] = field(default_factory=dict)  # `<domain>.<name>` -> dashboard YAML data
    notebooks: list[dict] = field(default_factory=list)  # example notebooks, as a person would write them

    def descriptor(self) -> dict:
        return {"name": self.name, "title": self.title, "description": self.description,
                "roles": self.roles, "policies": self.policies}

    def defects(self) -> dict[str, list[Defect]]:
        return {p.id: list(p.defects) for p in self.products if p.defects}


def roles(**extra: tuple[str, bool]) -> dict[str, dict]:
    """analyst and steward (every mesh has them) plus extra roles given as (description, sees PII)."""
    out = {"analyst": {"description": "Business analyst: every unrestricted product, personal data masked",
                       "pii": False},
           "steward": {"description": "Data steward: sees personal data unmasked", "pii": True}}
    return out | {name: {"description": d, "pii": pii} for name, (d, pii) in extra.items()}


PII_COLUMN_PATTERN = (r"(?i)(email|phone|ssn|birth|address|narrative"
                      r"|(full|first|last|contact|driver|manager|operator|holder|patient)_name)")
"""Column names that suggest personal data; the pii_classified policy flags them when unclassified."""


def policy(id: str, rule: str, description: str, severity: str = "error", **params: Any) -> dict:
    out = {"id": id, "rule": rule, "description": description, "severity": severity}
    return out | ({"params": params} if params else {})


GLOBAL_POLICIES = [
    policy("owner-required", "has_owner", "Every data product names an accountable owner (a person's e-mail)."),
    policy("description-required", "has_description",
           "Every product and every column is described so consumers can use it without asking.", "warning"),
    policy("pii-classified", "pii_classified",
           "Columns that hold personal data carry a PII category, so masking applies.",
           column_pattern=PII_COLUMN_PATTERN),
    policy("quality-checks", "has_quality_checks",
           "Every product declares at least one quality check in its contract.", "warning", min=1),
    policy("freshness-sla", "has_freshness_sla", "Every product states how fresh its data is promised to be.",
           "warning"),
    policy("naming", "naming_convention", "Product names are lower_snake_case nouns of 3 to 40 characters.",
           "info", pattern="^[a-z][a-z0-9_]{2,39}$"),
    policy("restricted-roles", "restricted_names_roles",
           "A restricted product names the roles that may see it, and those roles exist."),
]


def stale_end(anchor: datetime) -> datetime:
    return anchor - timedelta(days=STALE_DAYS)
