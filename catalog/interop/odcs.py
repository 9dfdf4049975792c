"""Open Data Contract Standard (ODCS v3) export and import, with the `open-data-contract-standard` models.

What both sides express maps to standard fields (schema, types, keys, descriptions, library quality
metrics, SLA latency, roles, a server for the source), so other ODCS tools read it. What ODCS has no
field for (the PII category, a range or freshness check, a derived product's SQL) travels in
`customProperties` / `custom` checks of engine `meshwork`, which makes the round trip lossless.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import polars as pl
from open_data_contract_standard.model import (
    CustomProperty,
    DataQuality,
    Description,
    OpenDataContractStandard,
    Role,
    SchemaObject,
    SchemaProperty,
    Server,
    ServiceLevelAgreementProperty,
    Team,
    TeamMember,
)
from pydantic import ValidationError

from catalog.errors import MeshError, PublishError
from catalog.governance import policies as governance
from catalog.publish import publish
from catalog.descriptors.model import DataProduct, ProductDescriptor
from catalog.descriptors.yamlio import MAX_BYTES, YamlError, dump_yaml, field_errors, parse_yaml

API_VERSION = "v3.1.0"
ENGINE = "meshwork"

_LOGICAL = {"VARCHAR": "string", "TEXT": "string", "UUID": "string", "DATE": "date", "TIME": "time",
            "BOOLEAN": "boolean", "TINYINT": "integer", "SMALLINT": "integer", "INTEGER": "integer",
            "BIGINT": "integer", "HUGEINT": "integer", "UTINYINT": "integer", "USMALLINT": "integer",
            "UINTEGER": "integer", "UBIGINT": "integer", "FLOAT": "number", "DOUBLE": "number",
            "DECIMAL": "number", "REAL": "number", "NUMERIC": "number"}
_FROM_LOGICAL = {"string": "VARCHAR", "date": "DATE", "timestamp": "TIMESTAMP", "time": "TIME", "number": "DOUBLE",
                 "integer": "BIGINT", "boolean": "BOOLEAN"}


class ContractError(PublishError):
    """An ODCS document that cannot become a product (invalid, or no source Meshwork can read)."""


def logical_type(sql_type: str) -> str:
    base = sql_type.upper().split("(")[0].strip()
    if base.startswith("TIMESTAMP"):
        return "timestamp"
    if base.endswith("[]") or base.startswith("LIST"):
        return "array"
    if base.startswith(("STRUCT", "MAP")):
        return "object"
    return _LOGICAL.get(base, "string")


def _custom(**props: Any) -> list[CustomProperty] | None:
    out = [CustomProperty(property=k, value=v) for k, v in props.items() if v not in (None, "", [], {})]
    return out or None


def _customs(items: list[CustomProperty] | None) -> dict[str, Any]:
    return {c.property: c.value for c in items or [] if c.property}


# --------------------------------------------------------------------------- export

def _check_to_quality(check: Any, position: int) -> tuple[str | None, DataQuality]:
    """(column it belongs to, or None for the table) and the ODCS quality entry of one check."""
    common = {"name": check.name, "severity": check.severity, "description": check.description or None,
              "customProperties": _custom(position=position)}
    kind = check.check
    if kind == "not_null":
        return check.column, DataQuality(type="library", metric="nullValues", mustBe=0, dimension="completeness",
                                         **common)
    if kind == "unique" and len(check.columns) == 1:
        return check.columns[0], DataQuality(type="library", metric="duplicateValues", mustBe=0,
                                             dimension="uniqueness", **common)
    if kind == "unique":
        return None, DataQuality(type="library", metric="duplicateValues", mustBe=0, dimension="uniqueness",
                                 arguments={"properties": list(check.columns)}, **common)
    if kind == "accepted_values":
        return check.column, DataQuality(type="library", metric="invalidValues", mustBe=0, dimension="conformity",
                                         arguments={"validValues": list(check.values)}, **common)
    if kind == "regex":
        return check.column, DataQuality(type="library", metric="invalidValues", mustBe=0, dimension="conformity",
                                         arguments={"pattern": check.pattern}, **common)
    if kind == "row_count" and (check.min is not None or check.max is not None):
        bounds: dict[str, Any] = {}
        if check.min is not None:
            bounds["mustBeGreaterOrEqualTo"] = check.min
        if check.max is not None:
            bounds["mustBeLessOrEqualTo"] = check.max
        return None, DataQuality(type="library", metric="rowCount", dimension="completeness", **bounds, **common)
    column = getattr(check, "column", None)
    implementation = check.model_dump(exclude_defaults=True) | {"check": kind}
    return column, DataQuality(type="custom", engine=ENGINE, implementation=implementation, **common)


def _server(product: DataProduct) -> Server | None:
    source = product.source
    if source.kind in ("parquet", "csv"):
        return Server(server="source", type="local", format=source.kind, path=source.path)
    if source.kind == "duckdb":
        return Server(server="source", type="duckdb", database=source.path, schema=source.db_schema)
    if source.kind == "sqlite":
        return Server(server="source", type="custom", database=source.path, format="sqlite")
    if source.kind == "postgres":
        parts = urlsplit(source.dsn) if "://" in source.dsn else None
        if parts and parts.hostname and "${" not in (parts.hostname + parts.path):
            return Server(server="source", type="postgres", host=parts.hostname, port=parts.port or 5432,
                          database=parts.path.lstrip("/") or "postgres", schema=source.db_schema)
        return Server(server="source", type="custom", format="postgres", schema=source.db_schema)
    return None


def to_contract(mesh: Any, product_id: str) -> OpenDataContractStandard:
    """The ODCS document of one product (as the `open-data-contract-standard` model)."""
    product = mesh.product(product_id)
    d = product.descriptor
    by_column: dict[str | None, list[DataQuality]] = {}
    for position, check in enumerate(d.quality):
        column, quality = _check_to_quality(check, position)
        by_column.setdefault(column if product.column(column or "") else None, []).append(quality)
    properties = [SchemaProperty(
        name=c.name, physicalType=c.type, logicalType=logical_type(c.type), description=c.description or None,
        primaryKey=c.key or None, classification="pii" if c.pii else None,
        customProperties=_custom(piiCategory=c.pii_category if c.pii else None),
        quality=by_column.get(c.name)) for c in d.columns]
    source = d.source.model_dump(by_alias=True, exclude_defaults=True) | {"kind": d.source.kind}
    physical = {"postgres": getattr(d.source, "table", None), "sqlite": getattr(d.source, "table", None),
                "duckdb": getattr(d.source, "table", None)}.get(d.source.kind) or d.name
    schema = SchemaObject(name=d.name, physicalName=physical, logicalType="object",
                          physicalType="view" if d.source.kind == "sql" else "table",
                          businessName=product.title, description=d.description or None, properties=properties,
                          quality=by_column.get(None))
    sla = []
    if d.sla.freshness_hours is not None:
        element = f"{d.name}.{d.sla.timestamp_column}" if d.sla.timestamp_column else None
        sla.append(ServiceLevelAgreementProperty(property="latency", value=d.sla.freshness_hours, unit="h",
                                                 element=element))
    if d.sla.availability:
        sla.append(ServiceLevelAgreementProperty(property="generalAvailability", value=d.sla.availability))
    server = _server(product)
    return OpenDataContractStandard(
        apiVersion=API_VERSION, kind="DataContract", id=product.id.replace(".", "-"), name=d.name,
        version=d.version, status=d.status, domain=product.domain, dataProduct=product.title,
        tags=d.tags or None, description=Description(purpose=d.description) if d.description else None,
        schema=[schema], servers=[server] if server else None,
        team=Team(members=[TeamMember(username=d.owner, role="owner")]) if d.owner else None,
        roles=[Role(role=r, access="read") for r in d.access.roles] or None,
        slaProperties=sla or None,
        customProperties=_custom(meshworkSource=source, meshworkTitle=d.title or None,
                                 meshworkRestricted=d.access.restricted or None,
                                 meshworkAvailability=d.sla.availability),
    )


def contract_dict(contract: OpenDataContractStandard) -> dict[str, Any]:
    return contract.model_dump(exclude_none=True, by_alias=True)


def export_contract(mesh: Any, product_id: str) -> str:
    """ODCS YAML of a product; raises ContractError if the document would not validate."""
    data = contract_dict(to_contract(mesh, product_id))
    errors = validate_contract(data)
    if errors:
        raise ContractError(f"the ODCS export of {product_id} does not validate: {'; '.join(errors[:5])}")
    return dump_yaml(data)


@lru_cache(maxsize=1)
def json_schema() -> dict[str, Any]:
    """The ODCS JSON schema shipped inside the open-data-contract-standard package."""
    return json.loads(resources.files("open_data_contract_standard").joinpath("schema.json").read_text("utf-8"))


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft201909Validator:
    return jsonschema.Draft201909Validator(json_schema())


def validate_contract(data: dict[str, Any]) -> list[str]:
    """Errors of an ODCS document against the package's JSON schema, each with its location."""
    validator = _validator()
    return [f"{'/'.join(map(str, e.absolute_path)) or '(document)'}: {e.message}"
            for e in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))]


# --------------------------------------------------------------------------- import

def _quality_to_check(q: DataQuality, column: str | None, notes: list[str]) -> dict[str, Any] | None:
    common = {k: v for k, v in {"name": q.name, "severity": q.severity if q.severity in ("error", "warning", "info")
                                else None}.items() if v}
    if q.description:
        common["description"] = q.description
    position = _customs(q.customProperties).get("position")
    if isinstance(position, int):
        common["_position"] = position
    if q.type == "custom" and q.engine == ENGINE and isinstance(q.implementation, dict):
        return {**q.implementation, **common}
    metric = q.metric or q.rule
    args = q.arguments or {}
    if metric == "nullValues" and column:
        return {"check": "not_null", "column": column, **common}
    if metric == "duplicateValues":
        columns = args.get("properties") or ([column] if column else None)
        if columns:
            return {"check": "unique", "columns": list(columns), **common}
    if metric == "invalidValues" and column and "validValues" in args:
        return {"check": "accepted_values", "column": column, "values": list(args["validValues"]), **common}
    if metric == "invalidValues" and column and "pattern" in args:
        return {"check": "regex", "column": column, "pattern": args["pattern"], **common}
    if metric == "rowCount":
        low = q.mustBeGreaterOrEqualTo if q.mustBeGreaterOrEqualTo is not None else (
            q.mustBeGreaterThan + 1 if isinstance(q.mustBeGreaterThan, int) else None)
        high = q.mustBeLessOrEqualTo if q.mustBeLessOrEqualTo is not None else (
            q.mustBeLessThan - 1 if isinstance(q.mustBeLessThan, int) else None)
        if q.mustBeBetween:
            low, high = q.mustBeBetween
        if low is not None or high is not None:
            return {"check": "row_count", **({"min": int(low)} if low is not None else {}),
                    **({"max": int(high)} if high is not None else {}), **common}
    notes.append(f"quality {q.name or metric or q.type!r}{f' on {column}' if column else ''} has no Meshwork "
                 "equivalent and was left out")
    return None


def _source_from(contract: OpenDataContractStandard, schema: SchemaObject, where: str) -> dict[str, Any]:
    custom = _customs(contract.customProperties)
    if isinstance(custom.get("meshworkSource"), dict):
        return custom["meshworkSource"]
    for server in contract.servers or []:
        if server.type == "local" and server.path and server.format in ("parquet", "csv"):
            return {"kind": server.format, "path": server.path}
        if server.type in ("postgres", "postgresql") and server.host:
            dsn = f"postgresql://{server.host}:{server.port or 5432}/{server.database or 'postgres'}"
            return {"kind": "postgres", "dsn": dsn, "schema": server.schema_ or "public",
                    "table": schema.physicalName or schema.name}
        if server.type == "duckdb" and server.database:
            return {"kind": "duckdb", "path": server.database, "table": schema.physicalName or schema.name,
                    **({"schema": server.schema_} if server.schema_ else {})}
    raise ContractError(f"{where}: no server Meshwork can read (a local parquet/csv path, postgres or duckdb); "
                        "add one under `servers:`")


def from_contract(contract: OpenDataContractStandard, where: str = "contract",
                  domain: str | None = None) -> tuple[str, ProductDescriptor, list[str]]:
    """(domain, descriptor, notes on what did not map) of an ODCS document's first schema object."""
    notes: list[str] = []
    if not contract.schema_:
        raise ContractError(f"{where}: the contract has no `schema:` object, so there is no table to publish")
    if len(contract.schema_) > 1:
        notes.append(f"the contract has {len(contract.schema_)} schema objects; only {contract.schema_[0].name!r} "
                     "was imported")
    schema = contract.schema_[0]
    custom = _customs(contract.customProperties)
    domain = domain or contract.domain
    if not domain:
        raise ContractError(f"{where}: the contract names no `domain`; give one (--domain)")
    columns, quality = [], []
    for prop in schema.properties or []:
        pii_category = _customs(prop.customProperties).get("piiCategory")
        pii = bool(pii_category) or (prop.classification or "").lower() in ("pii", "personal", "sensitive")
        physical = prop.physicalType or _FROM_LOGICAL.get(prop.logicalType or "string", "VARCHAR")
        columns.append({"name": prop.name, "type": physical, "description": prop.description or "",
                        "pii": pii, "pii_category": pii_category if pii else None, "key": bool(prop.primaryKey)})
        quality += [c for q in prop.quality or [] if (c := _quality_to_check(q, prop.name, notes))]
    quality += [c for q in schema.quality or [] if (c := _quality_to_check(q, None, notes))]
    quality.sort(key=lambda c: c.pop("_position", len(quality)))
    sla: dict[str, Any] = {}
    for item in contract.slaProperties or []:
        if item.property in ("latency", "freshness") and isinstance(item.value, (int, float)):
            factor = {"h": 1, "hour": 1, "hours": 1, "d": 24, "day": 24, "days": 24, "m": 1 / 60, "min": 1 / 60}
            sla["freshness_hours"] = float(item.value) * factor.get((item.unit or "h").lower(), 1)
            if item.element and "." in item.element:
                sla["timestamp_column"] = item.element.rsplit(".", 1)[1]
    if custom.get("meshworkAvailability"):
        sla["availability"] = custom["meshworkAvailability"]
    members = contract.team.members if isinstance(contract.team, Team) else (contract.team or [])
    owner = next((m.username for m in members or [] if (m.role or "").lower() == "owner"), None) or next(
        (m.username for m in members or [] if m.username), "")
    roles = [r.role for r in contract.roles or [] if r.role]
    name = schema.name if contract.name is None else contract.name
    data = {
        "name": name, "title": custom.get("meshworkTitle") or "",
        "description": (contract.description.purpose if contract.description else None) or schema.description or "",
        "owner": owner or "", "version": contract.version or "1.0.0",
        "status": contract.status if contract.status in ("draft", "active", "deprecated") else "active",
        "tags": contract.tags or [], "source": _source_from(contract, schema, where), "columns": columns,
        "quality": quality, "sla": sla,
        "access": {"restricted": bool(custom.get("meshworkRestricted", False)), "roles": roles},
    }
    try:
        return domain, ProductDescriptor.model_validate(data), notes
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ContractError(f"{where}: {'.'.join(map(str, err['loc']))}: "
                            f"{err['msg'].removeprefix('Value error, ')}") from None


def read_contract(text: str, where: str = "contract") -> OpenDataContractStandard:
    """Parse and validate an ODCS YAML/JSON document; errors say where in it."""
    try:
        doc = parse_yaml(text)
    except YamlError as exc:
        raise ContractError(f"{where}:{exc.line or 1}: invalid YAML: {exc}") from None
    data = doc.data
    if not isinstance(data, dict):
        raise ContractError(f"{where}: expected an ODCS document (a mapping with apiVersion, kind, id, ...)")
    errors = validate_contract(data)
    if errors:
        raise ContractError(f"{where} is not a valid ODCS v3 document: " + "; ".join(errors[:5]))
    try:
        return OpenDataContractStandard.model_validate(data)
    except ValidationError as exc:
        raise ContractError(str(field_errors(exc, doc, where)[0])) from None


def draft_from_contract(mesh: Any, text: str, where: str = "contract", domain: str | None = None,
                        version: str | None = None) -> Any:
    """A publishing draft (catalog.publish.publish.Draft) of an ODCS document: reviewed and published like any other."""
    contract = read_contract(text, where)
    domain, descriptor, notes = from_contract(contract, where, domain)
    if version:
        descriptor = descriptor.model_copy(update={"version": version})
    domain = publish.check_name(domain, "domain name")
    existing = mesh.products.get(f"{domain}.{descriptor.name}")
    if existing is not None:
        notes.append(f"{existing.id} exists (version {existing.descriptor.version}); publishing needs a higher "
                     "version")
    required = mesh.publisher.required_roles(domain, descriptor)
    access = descriptor.access
    if required is not None and not (access.restricted and set(access.roles) <= required):
        roles = sorted(required & set(access.roles)) if access.restricted else sorted(required)
        descriptor = descriptor.model_copy(update={"access": access.model_copy(
            update={"restricted": True, "roles": roles})})
        notes.append(f"it reads restricted data (a restricted product or its source), so it is restricted to "
                     f"the roles that data allows: {', '.join(roles) or 'none'}")
    return publish.Draft(domain=domain, descriptor=descriptor,
                         profile=publish.Profile(rows=0, profiled_rows=0, columns=[]), preview=pl.DataFrame(),
                         compliance=governance.check_descriptor(mesh, domain, descriptor),
                         notes=[f"imported from the ODCS contract {where}", *notes],
                         creates_domain=domain not in mesh.domains,
                         replaces_version=existing.descriptor.version if existing else None, origin="contract")


def import_contract(mesh: Any, text: str, where: str = "contract", domain: str | None = None,
                    version: str | None = None, allow_violations: bool = False, user: str | None = None) -> Any:
    """Publish an ODCS document as a product as `user` (same rules as self-serve publishing: who may write
    it, its SQL through the gate, paths inside the mesh, restrictions inherited): (result, notes)."""
    draft = draft_from_contract(mesh, text, where, domain, version)
    return mesh.publisher.publish(draft, user=user, allow_violations=allow_violations), draft.notes[1:]


def import_contract_file(mesh: Any, path: str | Path, **kwargs: Any) -> Any:
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise ContractError(f"{path}: over {MAX_BYTES:,} bytes, more than a contract may have")
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MeshError(f"{path}: cannot read: {exc}") from None
    return import_contract(mesh, text, where=str(path), **kwargs)
