"""An ODCS document as Meshwork descriptors: one product per schema object, meaning kept.

A rule keeps its meaning: `nullValues mustBeLessThan: 5, unit: percent` is a not-null check with a 5 %
tolerance, never a strict one; `required`, `unique`, `primaryKey`, `logicalTypeOptions` ranges, lengths and
patterns, `physicalName` and same-contract `relationships` become checks and columns. What Meshwork does not
model is carried verbatim (`x-odcs`, see `carry.py`) and reported; nothing is dropped silently.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import sqlglot
from pydantic import ValidationError
from sqlglot import exp

from catalog.descriptors.model import NAME_RE, DataProduct, ProductDescriptor, column_name
from catalog.interop.odcs import carry, exporting
from catalog.interop.odcs.reading import ContractError

_FROM_LOGICAL = {"string": "VARCHAR", "date": "DATE", "timestamp": "TIMESTAMP", "time": "TIME", "number": "DOUBLE",
                 "integer": "BIGINT", "boolean": "BOOLEAN", "object": "JSON", "array": "JSON", "map": "JSON"}
_SERIAL = {"SMALLSERIAL": "SMALLINT", "SERIAL2": "SMALLINT", "SERIAL": "INTEGER", "SERIAL4": "INTEGER",
           "BIGSERIAL": "BIGINT", "SERIAL8": "BIGINT"}  # Postgres auto-increment columns are integers
_COUNT_METRICS = {"nullValues": "not_null", "duplicateValues": "unique", "invalidValues": "invalid"}
_UNITS = {"h": 1, "hr": 1, "hour": 1, "hours": 1, "d": 24, "day": 24, "days": 24, "m": 1 / 60, "min": 1 / 60,
          "minute": 1 / 60, "minutes": 1 / 60, "w": 168, "week": 168, "weeks": 168}


@dataclass
class Imported:
    """One schema object as a descriptor, and what the import says about it."""

    domain: str
    descriptor: ProductDescriptor
    notes: list[str] = field(default_factory=list)
    carried: list[str] = field(default_factory=list)   # JSON paths kept verbatim, not acted on
    dropped: list[str] = field(default_factory=list)   # what could not be imported at all


def slug(text: str) -> str:
    out = re.sub(r"[^a-z0-9_]+", "_", text.strip().lower()).strip("_")
    return out if out and out[0].isalpha() else f"t_{out}"


def _tolerance(q: dict[str, Any]) -> tuple[bool, dict[str, Any] | None]:
    """(whether the rule's operator has a Meshwork meaning, the tolerance) of a failing-rows count rule."""
    unit = "percent" if q.get("unit") == "percent" else "rows"
    if q.get("mustBe") == 0 or q.get("mustBeLessOrEqualTo") == 0:
        return True, None
    if isinstance(q.get("mustBeLessThan"), (int, float)):
        if unit == "rows" and q["mustBeLessThan"] <= 1:
            return True, None
        return True, {"max": q["mustBeLessThan"], "unit": unit, "strict": True}
    if isinstance(q.get("mustBeLessOrEqualTo"), (int, float)):
        return True, {"max": q["mustBeLessOrEqualTo"], "unit": unit}
    return False, None


def _sql_rule(q: dict[str, Any], table_names: set[str]) -> str | None:
    """`SELECT COUNT(*) FROM <this table> WHERE p` with `mustBe: 0` is the expression `NOT (p)`."""
    try:
        tree = sqlglot.parse_one(str(q.get("query", "")), read="duckdb")
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError):
        return None
    if not isinstance(tree, exp.Select) or len(tree.expressions) != 1 or not isinstance(tree.expressions[0], exp.Count):
        return None
    tables = list(tree.find_all(exp.Table))
    where = tree.args.get("where")
    if where is None or len(tables) != 1 or tables[0].name.lower() not in table_names or tree.args.get("joins"):
        return None
    if any(tree.args.get(k) for k in ("group", "having", "limit")):
        return None
    return f"NOT ({where.this.sql('duckdb')})"


def _rule(q: dict[str, Any], column: str | None, tables: set[str]) -> dict[str, Any] | None:
    """The Meshwork check of one ODCS quality rule (None: no equivalent)."""
    common: dict[str, Any] = {}
    if isinstance(q.get("name"), str) and not re.search(r"[<>\"'`\x00-\x1f]", q["name"]):
        common["name"] = q["name"]
    if q.get("severity") in ("error", "warning", "info"):
        common["severity"] = q["severity"]
    if isinstance(q.get("description"), str):
        common["description"] = q["description"]
    kind, metric, args = q.get("type", "library"), q.get("metric") or q.get("rule"), q.get("arguments") or {}
    if kind == "custom" and q.get("engine") == exporting.ENGINE and isinstance(q.get("implementation"), dict):
        return {**q["implementation"], **common}
    if kind == "sql":
        expression = _sql_rule(q, tables)
        ok, tolerance = _tolerance(q)
        if expression and ok:
            return {"check": "expression", "expression": expression, **common,
                    **({"tolerance": tolerance} if tolerance else {})}
        return None
    if kind not in ("library", None):
        return None
    if metric in _COUNT_METRICS:
        ok, tolerance = _tolerance(q)
        if not ok:
            return None
        extra = {"tolerance": tolerance} if tolerance else {}
        if metric == "nullValues" and column:
            return {"check": "not_null", "column": column, **common, **extra}
        if metric == "duplicateValues":
            columns = args.get("properties") or ([column] if column else None)
            if columns:
                return {"check": "unique", "columns": [str(c).rsplit(".", 1)[-1] for c in columns], **common, **extra}
        if metric == "invalidValues" and column and isinstance(args.get("validValues"), list):
            return {"check": "accepted_values", "column": column, "values": args["validValues"], **common, **extra}
        if metric == "invalidValues" and column and isinstance(args.get("pattern"), str):
            return {"check": "regex", "column": column, "pattern": args["pattern"], **common, **extra}
        return None
    if metric == "rowCount":
        low = q.get("mustBeGreaterOrEqualTo")
        if low is None and isinstance(q.get("mustBeGreaterThan"), int):
            low = q["mustBeGreaterThan"] + 1
        high = q.get("mustBeLessOrEqualTo")
        if high is None and isinstance(q.get("mustBeLessThan"), int):
            high = q["mustBeLessThan"] - 1
        if isinstance(q.get("mustBeBetween"), list) and len(q["mustBeBetween"]) == 2:
            low, high = q["mustBeBetween"]
        if low is not None or high is not None:
            return {"check": "row_count", **({"min": int(low)} if low is not None else {}),
                    **({"max": int(high)} if high is not None else {}), **common}
        return None
    if metric == "between" and column:  # v3.0's rule: between, bounds in customProperties
        bounds = {p.get("property"): p.get("value") for p in q.get("customProperties") or [] if isinstance(p, dict)}
        if bounds.get("min") is not None or bounds.get("max") is not None:
            return {"check": "range", "column": column, **{k: bounds[k] for k in ("min", "max")
                                                            if bounds.get(k) is not None}, **common}
    return None


def _option_checks(column: str, options: dict[str, Any]) -> list[dict[str, Any]]:
    """`logicalTypeOptions` as checks: inclusive bounds a range, exclusive ones and lengths expressions."""
    out: list[dict[str, Any]] = []
    bounds = {k: options[k] for k in ("minimum", "maximum") if options.get(k) is not None}
    if bounds:
        out.append({"check": "range", "column": column, **{k[:3]: v for k, v in bounds.items()}})
    quoted = f'"{column}"'
    for key, op in (("exclusiveMinimum", ">"), ("exclusiveMaximum", "<")):
        value = options.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out.append({"check": "expression", "expression": f"{quoted} {op} {value}", "name": f"{column} {key}"})
        elif isinstance(value, str):
            literal = "'" + value.replace("'", "''") + "'"
            out.append({"check": "expression", "expression": f"{quoted} {op} {literal}", "name": f"{column} {key}"})
    for key, op in (("minLength", ">="), ("maxLength", "<=")):
        if isinstance(options.get(key), int):
            out.append({"check": "expression", "expression": f"length(CAST({quoted} AS VARCHAR)) {op} {options[key]}",
                        "name": f"{column} {key}"})
    if isinstance(options.get("pattern"), str):
        out.append({"check": "regex", "column": column, "pattern": options["pattern"]})
    return out


@functools.lru_cache(maxsize=256)
def _duckdb_knows(type_sql: str) -> bool:
    """Whether DuckDB itself accepts the type: sqlglot also renders Postgres-only types (NAME, XML) that it lacks.

    Called only with a string the type regex in `_column_type` already matched, so no SQL can ride along.
    """
    with duckdb.connect() as con:
        try:
            con.execute(f"SELECT CAST(NULL AS {type_sql})")
        except duckdb.Error:
            return False
    return True


def _column_type(prop: dict[str, Any]) -> str:
    """A type DuckDB reads: the physicalType when DuckDB knows it, else the logicalType's.

    A length written `varchar[15]` (as Postgres catalog exports do) is `VARCHAR(15)`; `serial` is the integer it
    stands for; a type DuckDB does not know (a Postgres domain such as `Name`, `xml`) falls back to the logicalType.
    """
    physical = prop.get("physicalType")
    if isinstance(physical, str) and physical.strip():
        own = re.sub(r"\[(\d+)\]", r"(\1)", physical.strip().upper())
        if own in _SERIAL:
            return _SERIAL[own]
        try:
            parsed = exp.DataType.build(own, dialect="postgres", udt=True)
            if parsed.this != exp.DataType.Type.USERDEFINED:
                rendered = own if re.fullmatch(r"[A-Z ]+(\(\d+(, *\d+)?\))?", own) else parsed.sql("duckdb").upper()
                if (re.fullmatch(r"[A-Z ]+(\(\d+(, *\d+)?\))?(\[\])?", rendered) and "2147483647" not in rendered
                        and _duckdb_knows(rendered)):
                    return rendered
        except (sqlglot.errors.ParseError, ValueError):
            pass
    return _FROM_LOGICAL.get(str(prop.get("logicalType") or "string"), "VARCHAR")


def _source(doc: dict[str, Any], obj: dict[str, Any], domain: str, table: str,
            source: dict[str, Any] | None) -> dict[str, Any] | None:
    if source is not None:
        return {k: (v.replace("{table}", table) if isinstance(v, str) else v) for k, v in source.items()}
    custom = {p.get("property"): p.get("value") for p in doc.get("customProperties") or [] if isinstance(p, dict)}
    if isinstance(custom.get("meshworkSource"), dict) and len(doc.get("schema") or []) == 1:
        return custom["meshworkSource"]
    in_domain = (lambda p: p.removeprefix(f"{domain}/") if isinstance(p, str) else p)
    for server in doc.get("servers") or []:
        kind = server.get("type")
        if kind == "local" and server.get("path") and server.get("format") in ("parquet", "csv"):
            path = str(server["path"])
            if len(doc.get("schema") or []) > 1 and "{model}" not in path and "{table}" not in path:
                continue
            path = path.replace("{model}", table).replace("{table}", table)
            return {"kind": server["format"], "path": in_domain(path)}
        if kind in ("postgres", "postgresql") and server.get("host"):
            dsn = f"postgresql://{server['host']}:{server.get('port') or 5432}/{server.get('database') or 'postgres'}"
            return {"kind": "postgres", "dsn": dsn, "schema": server.get("schema") or "public", "table": table}
        if kind == "duckdb" and (server.get("database") or server.get("path")):
            out = {"kind": "duckdb", "path": in_domain(server.get("database") or server.get("path")), "table": table}
            return out | ({"schema": server["schema"]} if server.get("schema") else {})
    return None


def _team(doc: dict[str, Any]) -> list[dict[str, Any]]:
    team = doc.get("team")
    members = team.get("members") if isinstance(team, dict) else team
    return [m for m in members or [] if isinstance(m, dict)]


def _owner(doc: dict[str, Any]) -> str:
    """The current owner among the stakeholders (no dateOut), else the first current member."""
    current = [m for m in _team(doc) if m.get("username") and not m.get("dateOut")]
    owner = next((m for m in current if str(m.get("role", "")).lower() in ("owner", "data owner", "product owner")),
                 None)
    return str((owner or (current[0] if current else {})).get("username", ""))


def _sla(doc: dict[str, Any], obj_name: str, names: dict[str, str]) -> dict[str, Any]:
    sla: dict[str, Any] = {}
    physical = {v: k for k, v in names.items()}
    for item in doc.get("slaProperties") or []:
        if item.get("property") in ("latency", "freshness") and isinstance(item.get("value"), (int, float)):
            hours = float(item["value"]) * _UNITS.get(str(item.get("unit") or "d").lower(), 24)
            element = item.get("element") or doc.get("slaDefaultElement")
            table, _, col = str(element or "").rpartition(".")
            if table and table != obj_name:
                continue  # this latency is another table's
            sla["freshness_hours"] = hours
            if col:
                sla["timestamp_column"] = physical.get(col, col)
    return sla


def from_document(doc: dict[str, Any], where: str = "contract", domain: str | None = None,
                  name: str | None = None, source: dict[str, Any] | None = None) -> list[Imported]:
    """Every schema object of a validated document as a descriptor (ContractError when none can be)."""
    objects = [o for o in doc.get("schema") or [] if isinstance(o, dict)]
    if not objects:
        raise ContractError(f"{where}: $.schema: the contract has no schema object, so there is no table to "
                            "publish (it may still be a useful contract: nothing was imported)")
    shapeless = [f"$.schema[{i}] ({o.get('name')!r})" for i, o in enumerate(objects) if not o.get("properties")]
    objects = [o for o in objects if o.get("properties")]
    if not objects:
        raise ContractError(f"{where}: {', '.join(shapeless)}: no properties, so no columns to publish (a topic or "
                            "table whose fields the contract does not list; nothing was imported)")
    domain = domain or doc.get("domain")
    if not domain:
        raise ContractError(f"{where}: $.domain: the contract names no domain; give one (--domain)")
    domain = slug(str(domain))
    if name and len(objects) > 1:
        raise ContractError(f"{where}: --name names one product, but the contract has {len(objects)} schema "
                            "objects (each becomes a product named after it)")
    custom = {p.get("property"): p.get("value") for p in doc.get("customProperties") or [] if isinstance(p, dict)}
    table_names = {str(o.get("name", "")).lower() for o in objects} | {
        str(o.get("physicalName", "")).lower() for o in objects}
    product_of = {str(o.get("name")): slug(str(o.get("name"))) for o in objects}
    out = []
    for index, obj in enumerate(objects):
        single = len(objects) == 1
        product_name = slug(name or (doc.get("name") if single and doc.get("name") else obj.get("name", "")))
        out.append(_one(doc, obj, index, where, domain, product_name, source, custom, table_names, product_of,
                        single))
    for item in out:
        item.dropped += [f"{s}: no properties, so no product" for s in shapeless]
    return out


def _one(doc: dict[str, Any], obj: dict[str, Any], index: int, where: str, domain: str, product_name: str,
         source: dict[str, Any] | None, custom: dict[str, Any], tables: set[str], product_of: dict[str, str],
         single: bool) -> Imported:
    at = f"$.schema[{index}]"
    notes: list[str] = []
    dropped: list[str] = []
    mine = custom if single else {}
    checks: list[dict[str, Any]] = []
    columns: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    for i, prop in enumerate(obj.get("properties") or []):
        logical = str(prop.get("name", ""))
        physical = str(prop.get("physicalName") or logical)
        try:
            column = column_name(physical)
        except ValueError as exc:
            dropped.append(f"{at}.properties[{i}] ({logical!r}): {exc}; it is carried, not queryable")
            continue
        if logical != column:
            names[column] = logical
        own = {p.get("property"): p.get("value") for p in prop.get("customProperties") or [] if isinstance(p, dict)}
        pii_category = own.get("piiCategory")
        pii = bool(pii_category) or str(prop.get("classification", "")).lower() in ("pii", "personal", "sensitive")
        columns.append({"name": column, "type": _column_type(prop), "description": prop.get("description") or "",
                        "pii": pii, "pii_category": pii_category if pii else None, "key": bool(prop.get("primaryKey")),
                        "terms": [str(t) for t in own.get("meshworkTerms") or [] if isinstance(t, str)]})
        if prop.get("required") is True:
            checks.append({"check": "not_null", "column": column})
        if prop.get("unique") is True:
            checks.append({"check": "unique", "columns": [column]})
        if isinstance(prop.get("logicalTypeOptions"), dict):
            checks += _option_checks(column, prop["logicalTypeOptions"])
        enum = [e.get("value") for e in prop.get("enum") or [] if isinstance(e, dict) and "value" in e]
        rules = [dict(q, arguments={**(q.get("arguments") or {}), "validValues": enum})
                 if enum and q.get("metric") == "invalidValues" and not (q.get("arguments") or {}) else q
                 for q in prop.get("quality") or []]
        if enum and not any(q.get("metric") == "invalidValues" for q in rules):
            checks.append({"check": "accepted_values", "column": column, "values": enum})
        for rel in prop.get("relationships") or []:
            target, _, to_column = str(rel.get("to", "")).rpartition(".")
            if target in product_of and not isinstance(rel.get("to"), list):
                checks.append({"check": "references", "column": column, "product": f"{domain}.{product_of[target]}",
                               "to_column": to_column})
            else:
                notes.append(f"{at}.properties[{i}].relationships: the reference to {rel.get('to')!r} is outside "
                             "this contract; carried, not checked")
        for j, q in enumerate(rules):
            check = _rule(q, column, tables)
            if check is None:
                notes.append(f"{at}.properties[{i}].quality[{j}] ({q.get('metric') or q.get('rule') or q.get('type')}"
                             f"): no Meshwork equivalent; carried verbatim, not checked by Meshwork")
            else:
                checks.append(check)
    for j, q in enumerate(obj.get("quality") or []):
        check = _rule(q, None, tables)
        if check is None:
            notes.append(f"{at}.quality[{j}] ({q.get('metric') or q.get('rule') or q.get('type')}): no Meshwork "
                         "equivalent; carried verbatim, not checked by Meshwork")
        else:
            checks.append(check)
    if isinstance(mine.get("meshworkChecks"), list):
        checks = list(mine["meshworkChecks"])  # Meshwork's own export: its exact checks, its rules restated
        notes = []
    physical_table = str(obj.get("physicalName") or obj.get("name"))
    src = _source(doc, obj, domain, physical_table, source)
    if src is None:
        raise ContractError(f"{where}: $.servers: no server Meshwork can read for {obj.get('name')!r} (a local "
                            "parquet/csv path, postgres or duckdb); add one under `servers:` or give a source "
                            "(--source-path)")
    description = (doc.get("description") or {}).get("purpose") if single else None
    roles = [str(r["role"]) for r in doc.get("roles") or [] if isinstance(r, dict) and r.get("role")]
    tags = [t for t in (doc.get("tags") or []) + (obj.get("tags") or []) if isinstance(t, str)]
    status = doc.get("status") if doc.get("status") in ("draft", "active", "deprecated") else "active"
    data = {
        "name": product_name,
        "title": (mine.get("meshworkTitle") or "") if "meshworkSource" in mine else obj.get("businessName") or "",
        "description": description or obj.get("description") or "",
        "owner": _owner(doc), "version": str(doc.get("version") or "1.0.0"), "status": status,
        "tags": list(dict.fromkeys(tags)), "source": src, "columns": columns, "quality": checks,
        "sla": _sla(doc, str(obj.get("name")), names) | (
            {"availability": mine["meshworkAvailability"]} if mine.get("meshworkAvailability") else {}),
        "access": {"restricted": bool(mine.get("meshworkRestricted", False)), "roles": roles},
        "terms": [str(t) for t in mine.get("meshworkTerms") or [] if isinstance(t, str)],
    }
    if isinstance(mine.get("meshworkPorts"), dict):
        data["ports"] = mine["meshworkPorts"]
    if not NAME_RE.match(product_name):
        raise ContractError(f"{where}: {at}.name: {product_name!r} cannot be a product name; give one (--name)")
    try:
        descriptor = ProductDescriptor.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ContractError(f"{where}: {at}: {'.'.join(map(str, err['loc']))}: "
                            f"{err['msg'].removeprefix('Value error, ')}") from None
    return _with_carried(Imported(domain, descriptor, notes, [], dropped), doc, obj, names)


def _with_carried(item: Imported, doc: dict[str, Any], obj: dict[str, Any], names: dict[str, str]) -> Imported:
    """Compare the document with the descriptor's own export and keep the difference in `x-odcs`."""
    api_version = str(doc.get("apiVersion") or exporting.API_VERSION)
    base: dict[str, Any] = {"apiVersion": api_version}
    if names:
        base["names"] = names
    if obj.get("name") != item.descriptor.name:
        base["object_name"] = obj.get("name")
    descriptor = item.descriptor.model_copy(update={"odcs": base})
    product = DataProduct(id=f"{item.domain}.{descriptor.name}", domain=item.domain, descriptor=descriptor,
                          path=Path("."))
    generated, _ = exporting.generated([product], api_version)
    doc = _servers_from_source(doc, generated)
    contract = carry.difference({k: v for k, v in doc.items() if k != "schema"},
                                {k: v for k, v in generated.items() if k != "schema"})
    object_diff = carry.difference(obj, generated["schema"][0])
    odcs = dict(base)
    if contract:
        odcs["contract"] = contract
    if object_diff:
        odcs["object"] = object_diff
    item.descriptor = descriptor.model_copy(update={"odcs": odcs})
    item.carried = [p for p in carry.carried_paths(contract or {}) if p not in ("$.customProperties",)] + [
        p.replace("$", f"$.schema[{obj.get('name')}]", 1) for p in carry.carried_paths(object_diff or {})]
    return item


_CONNECTION = ("type", "format", "path", "host", "port", "database", "schema")


def _servers_from_source(doc: dict[str, Any], generated: dict[str, Any]) -> dict[str, Any]:
    """The server the product reads says where its source is, after the import as before: its connection
    fields come from the descriptor, never from the carried copy (which would go stale when the source moves)."""
    ours = (generated.get("servers") or [None])[0]
    servers = [s for s in doc.get("servers") or [] if isinstance(s, dict)]
    if ours is None or not servers:
        return doc
    kind = {"local": "local", "postgres": "postgres", "postgresql": "postgres", "duckdb": "duckdb"}
    index = next((i for i, s in enumerate(servers) if kind.get(str(s.get("type"))) == kind.get(ours["type"])), None)
    if index is None:
        return doc
    merged = {k: v for k, v in servers[index].items() if k not in _CONNECTION}
    merged |= {k: ours[k] for k in _CONNECTION if k in ours}
    return doc | {"servers": servers[:index] + [merged] + servers[index + 1:]}
