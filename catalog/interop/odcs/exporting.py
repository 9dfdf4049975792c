"""Meshwork products as one ODCS document, in standard fields wherever ODCS can say it.

A check becomes what other ODCS tools (datacontract-cli, ...) run: `not_null` is `required`, a single-column
`unique` is `unique`, a range or a pattern is `logicalTypeOptions`, accepted values and tolerances are
library metrics, a reference is a `relationships` entry, an expression is a `type: sql` rule, freshness is
the SLA's latency. The exact checks (names, severities, order) also travel in the `meshworkChecks` custom
property, so Meshwork reads its own export back unchanged; whatever an import carried (`x-odcs`) is laid
over the result, so an imported contract comes back as it came in.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from catalog.descriptors.model import DataProduct
from catalog.interop.odcs import carry

API_VERSION = "v3.1.0"
ENGINE = "meshwork"

_LOGICAL = {"VARCHAR": "string", "TEXT": "string", "UUID": "string", "DATE": "date", "TIME": "time",
            "BOOLEAN": "boolean", "TINYINT": "integer", "SMALLINT": "integer", "INTEGER": "integer",
            "BIGINT": "integer", "HUGEINT": "integer", "UTINYINT": "integer", "USMALLINT": "integer",
            "UINTEGER": "integer", "UBIGINT": "integer", "FLOAT": "number", "DOUBLE": "number",
            "DECIMAL": "number", "REAL": "number", "NUMERIC": "number", "JSON": "object"}
_NUMERIC = ("integer", "number")


def version_tuple(api_version: str) -> tuple[int, int]:
    parts = api_version.lstrip("v").split(".")
    return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0


def logical_type(sql_type: str, api_version: str = API_VERSION) -> str:
    base = sql_type.upper().split("(")[0].strip()
    if base.endswith("[]") or base.startswith("LIST"):
        return "array"
    if base.startswith(("STRUCT", "MAP")):
        return "object"
    kind = "timestamp" if base.startswith("TIMESTAMP") else _LOGICAL.get(base, "string")
    if kind in ("timestamp", "time") and version_tuple(api_version) < (3, 1):
        return "date"  # v3.0 has no timestamp or time logical type
    return kind


def _custom(**props: Any) -> list[dict[str, Any]]:
    return [{"property": k, "value": v} for k, v in props.items() if v not in (None, "", [], {})]


def _bounds(tolerance: Any, zero: str = "mustBe") -> dict[str, Any]:
    """The ODCS operator of a failing-rows count: `mustBe: 0`, or the tolerance it may reach."""
    if tolerance is None:
        return {zero: 0}
    out: dict[str, Any] = {"mustBeLessThan" if tolerance.strict else "mustBeLessOrEqualTo": tolerance.max}
    if tolerance.unit == "percent":
        out["unit"] = "percent"
    return out


def _common(check: Any) -> dict[str, Any]:
    out = {"name": check.label, "severity": check.severity}
    if check.description:
        out["description"] = check.description
    return out


class _Place:
    """Where the standard form of each check goes: a property's fields, its quality list, the object's."""

    def __init__(self, columns: list[str]):
        self.fields: dict[str, dict[str, Any]] = {c: {} for c in columns}
        self.quality: dict[str | None, list[dict[str, Any]]] = {}

    def field(self, column: str, key: str, value: Any) -> None:
        self.fields.setdefault(column, {})[key] = value

    def rule(self, column: str | None, rule: dict[str, Any]) -> None:
        self.quality.setdefault(column if column in self.fields else None, []).append(rule)


def _standard(check: Any, place: _Place, product: DataProduct, table: str, api: tuple[int, int]) -> bool:
    """Put one check's standard form in `place`; False when ODCS has no word for it."""
    kind, common, tolerance = check.check, _common(check), check.tolerance
    column = getattr(check, "column", None)
    if column is not None and column not in place.fields:
        return False
    if kind == "not_null":
        if tolerance is None:
            place.field(column, "required", True)
        else:
            place.rule(column, {"type": "library", "metric": "nullValues", **_bounds(tolerance),
                                "dimension": "completeness", **common})
        return True
    if kind == "unique":
        if len(check.columns) == 1 and tolerance is None and check.columns[0] in place.fields:
            place.field(check.columns[0], "unique", True)
            return True
        if len(check.columns) == 1 and check.columns[0] in place.fields:
            place.rule(check.columns[0], {"type": "library", "metric": "duplicateValues", **_bounds(tolerance),
                                          "dimension": "uniqueness", **common})
            return True
        if api < (3, 1):
            return False
        place.rule(None, {"type": "library", "metric": "duplicateValues", **_bounds(tolerance),
                          "arguments": {"properties": list(check.columns)}, "dimension": "uniqueness", **common})
        return True
    if kind == "accepted_values" and api >= (3, 1):
        place.rule(column, {"type": "library", "metric": "invalidValues", **_bounds(tolerance),
                            "arguments": {"validValues": list(check.values)}, "dimension": "conformity", **common})
        return True
    if kind == "regex" and tolerance is None:
        options = place.fields[column].setdefault("logicalTypeOptions", {})
        if "pattern" in options:
            return False
        options["pattern"] = check.pattern
        return True
    if kind == "range" and tolerance is None and logical_type(product.column(column).type) in _NUMERIC \
            and all(isinstance(v, (int, float)) or v is None for v in (check.min, check.max)):
        options = place.fields[column].setdefault("logicalTypeOptions", {})
        if "minimum" in options or "maximum" in options:
            return False
        options.update({k: v for k, v in (("minimum", check.min), ("maximum", check.max)) if v is not None})
        return True
    if kind == "range":
        parts = [f'"{column}" < {_sql_literal(check.min)}' if check.min is not None else "",
                 f'"{column}" > {_sql_literal(check.max)}' if check.max is not None else ""]
        predicate = " OR ".join(p for p in parts if p)
        place.rule(column, {"type": "sql", "query": f"SELECT COUNT(*) FROM {table} WHERE {predicate}",
                            **_bounds(tolerance), "dimension": "accuracy", **common})
        return True
    if kind == "row_count" and (check.min is not None or check.max is not None):
        bounds: dict[str, Any] = {}
        if check.min is not None:
            bounds["mustBeGreaterOrEqualTo"] = check.min
        if check.max is not None:
            bounds["mustBeLessOrEqualTo"] = check.max
        place.rule(None, {"type": "library", "metric": "rowCount", **bounds, "dimension": "completeness", **common})
        return True
    if kind == "references" and api >= (3, 1) and check.product.split(".")[0] == product.domain:
        target = f"{check.product.split('.', 1)[1]}.{check.to_column or check.column}"
        place.field(column, "relationships", [{"type": "foreignKey", "to": target}])
        return True
    if kind == "expression":
        place.rule(None, {"type": "sql", "query": f"SELECT COUNT(*) FROM {table} WHERE NOT ({check.expression})",
                          **_bounds(tolerance), **common})
        return True
    if kind == "freshness":
        return True  # the SLA's latency says it (below)
    return False


def _sql_literal(value: Any) -> str:
    return str(value) if isinstance(value, (int, float)) else "'" + str(value).replace("'", "''") + "'"


def _server(product: DataProduct) -> dict[str, Any] | None:
    """The product's source as an ODCS server; file paths relative to the mesh folder (where tools run)."""
    source = product.source
    in_mesh = (lambda p: p if p.startswith("/") else f"{product.domain}/{p}")
    if source.kind in ("parquet", "csv"):
        return {"server": "source", "type": "local", "format": source.kind, "path": in_mesh(source.path)}
    if source.kind == "duckdb":
        return {"server": "source", "type": "duckdb", "database": in_mesh(source.path),
                **({"schema": source.db_schema} if source.db_schema else {})}
    if source.kind == "sqlite":
        return {"server": "source", "type": "custom", "database": in_mesh(source.path), "format": "sqlite"}
    if source.kind == "postgres":
        parts = urlsplit(source.dsn) if "://" in source.dsn else None
        if parts and parts.hostname and "${" not in (parts.hostname + parts.path):
            return {"server": "source", "type": "postgres", "host": parts.hostname, "port": parts.port or 5432,
                    "database": parts.path.lstrip("/") or "postgres", "schema": source.db_schema}
        return {"server": "source", "type": "custom", "format": "postgres", "schema": source.db_schema}
    return None


def _physical_table(product: DataProduct) -> str:
    table = getattr(product.source, "table", None)
    return table or product.descriptor.name


def schema_object(product: DataProduct, api_version: str) -> tuple[dict[str, Any], int]:
    """(the ODCS schema object of a product, how many of its checks have no standard form)."""
    d, api = product.descriptor, version_tuple(api_version)
    names = d.odcs.get("names", {}) if isinstance(d.odcs.get("names"), dict) else {}
    table = _physical_table(product)
    place = _Place([c.name for c in d.columns])
    private = sum(1 for check in d.quality if not _standard(check, place, product, table, api))
    properties = []
    for c in d.columns:
        prop: dict[str, Any] = {"name": names.get(c.name, c.name)}
        if prop["name"] != c.name:
            prop["physicalName"] = c.name
        prop |= {"logicalType": logical_type(c.type, api_version), "physicalType": c.type}
        if c.description:
            prop["description"] = c.description
        if c.key:
            prop["primaryKey"] = True
        if c.pii or c.terms:
            if c.pii:
                prop["classification"] = "pii"
            prop["customProperties"] = _custom(piiCategory=c.pii_category, meshworkTerms=list(c.terms))
        prop |= place.fields.get(c.name, {})
        if place.quality.get(c.name):
            prop["quality"] = place.quality[c.name]
        properties.append(prop)
    obj: dict[str, Any] = {"name": d.odcs.get("object_name", d.name), "physicalName": table,
                           "logicalType": "object", "physicalType": "view" if d.source.kind == "sql" else "table"}
    if product.title:
        obj["businessName"] = product.title
    if d.description:
        obj["description"] = d.description
    obj["properties"] = properties
    if place.quality.get(None):
        obj["quality"] = place.quality[None]
    return obj, private


def contract_level(product: DataProduct, api_version: str) -> dict[str, Any]:
    """The document's own fields (everything but `schema`) for a product."""
    d = product.descriptor
    out: dict[str, Any] = {"apiVersion": api_version, "kind": "DataContract", "id": product.id.replace(".", "-"),
                           "name": d.name, "version": d.version, "status": d.status, "domain": product.domain,
                           "dataProduct": product.title}
    if d.tags:
        out["tags"] = list(d.tags)
    if d.description:
        out["description"] = {"purpose": d.description}
    server = _server(product)
    if server:
        out["servers"] = [server]
    if d.owner:
        out["team"] = [{"username": d.owner, "role": "owner"}]
    if d.access.roles:
        out["roles"] = [{"role": r, "access": "read"} for r in d.access.roles]
    sla = []
    if d.sla.freshness_hours is not None:
        item: dict[str, Any] = {"property": "latency", "value": d.sla.freshness_hours, "unit": "h"}
        if d.sla.timestamp_column:
            item["element"] = f"{d.name}.{d.sla.timestamp_column}"
        sla.append(item)
    if d.sla.availability:
        sla.append({"property": "generalAvailability", "value": d.sla.availability})
    if sla:
        out["slaProperties"] = sla
    source = d.source.model_dump(by_alias=True, exclude_defaults=True) | {"kind": d.source.kind}
    checks = [{"check": q.check, **q.model_dump(exclude_defaults=True, exclude={"check"})} for q in d.quality]
    ports = d.ports.model_dump(mode="json", exclude_defaults=True)
    out["customProperties"] = _custom(meshworkSource=source, meshworkTitle=d.title or None,
                                      meshworkRestricted=d.access.restricted or None,
                                      meshworkAvailability=d.sla.availability, meshworkChecks=checks,
                                      meshworkTerms=list(d.terms), meshworkPorts=ports)
    return out


def generated(products: list[DataProduct], api_version: str | None = None) -> tuple[dict[str, Any], int]:
    """Meshwork's own document for `products` (without what imports carried), and its private checks."""
    api_version = api_version or API_VERSION
    doc = contract_level(products[0], api_version)
    objects = [schema_object(p, api_version) for p in products]
    doc["schema"] = [obj for obj, _ in objects]
    return doc, sum(n for _, n in objects)


def document(products: list[DataProduct]) -> dict[str, Any]:
    """The ODCS document of products (one schema object each), with what their import carried laid over it."""
    first = products[0].descriptor.odcs
    api_version = first.get("apiVersion") or API_VERSION
    doc, _ = generated(products, api_version)
    doc = carry.overlay({k: v for k, v in doc.items() if k != "schema"}, first.get("contract"))
    doc["schema"] = [carry.overlay(schema_object(p, api_version)[0], p.descriptor.odcs.get("object"))
                     for p in products]
    return doc


def private_checks(product: DataProduct) -> tuple[int, int]:
    """(checks with no standard ODCS form, checks) of a product."""
    _, private = schema_object(product, API_VERSION)
    return private, len(product.descriptor.quality)
