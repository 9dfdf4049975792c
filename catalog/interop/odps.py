"""Open Data Product Standard (ODPS v1.1.0) documents of products, out and in.

Out: a product's id, title, version, status, domain, tags, description, team (its owner and its domain's
team), output ports (each port's kind, approval mode and location; the contract by reference: the id of its
ODCS document, `catalog.interop.odcs`) and input ports (the products it reads, each by its contract id and
version). What ODPS has no field for (the source, columns, checks, SLA, access, terms) travels in
`customProperties` as `meshwork*` properties, so a document read back gives the same descriptor.
In: the document is validated against the vendored bitol-io JSON schema (schemas/, with its source), then
becomes a publishing draft published like any other (who may write it, paths, the gate). ODPS fields win
over the carried descriptor, so an edit made in another tool comes through.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import polars as pl

from catalog.descriptors.model import ProductDescriptor
from catalog.descriptors.ports import input_ports, output_ports
from catalog.descriptors.yamlio import MAX_BYTES, YamlError, dump_yaml, parse_yaml, read_document_text
from catalog.errors import MeshError
from catalog.governance import policies as governance
from catalog.publish import publish

API_VERSION = "v1.1.0"
SCHEMA = Path(__file__).parent / "schemas" / "odps-json-schema-v1.1.0.json"
_CARRIED = ("source", "columns", "quality", "sla", "access", "terms")  # fields ODPS has no place for


class OdpsError(MeshError):
    """An ODPS document that does not validate or cannot become a product; the message says where."""


def contract_id(product_id: str) -> str:
    """The id of a product's ODCS document (catalog.interop.odcs writes the same)."""
    return product_id.replace(".", "-")


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft201909Validator:
    return jsonschema.Draft201909Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


def validate_document(data: Any) -> list[str]:
    """Every way `data` breaks the ODPS v1.1.0 schema, each as `path: message` (empty when it validates)."""
    errors = sorted(_validator().iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in errors]


def _custom(**props: Any) -> list[dict[str, Any]]:
    return [{"property": k, "value": v} for k, v in props.items() if v is not None and v != ""]


def to_document(mesh: Any, product_id: str) -> dict[str, Any]:
    """The ODPS document of one product, as a dict that validates against the schema."""
    product = mesh.product(product_id)
    d = product.descriptor
    domain = mesh.domains.get(product.domain)
    carried = publish.descriptor_dict(d)
    members = [{"username": d.owner, "role": "owner"}] if d.owner else []
    for name in ([domain.descriptor.owner, *domain.descriptor.team] if domain else []):
        if name and name not in [m["username"] for m in members]:
            members.append({"username": name, "role": "domain owner" if name == domain.descriptor.owner
                            else "domain team"})
    document: dict[str, Any] = {
        "apiVersion": API_VERSION, "kind": "DataProduct", "id": product.id, "name": d.name, "version": d.version,
        "status": d.status, "domain": product.domain, "type": "aggregate" if d.source.kind == "sql" else "sourceAligned",
        "tags": list(d.tags),
        "outputPorts": [{"name": p.name, "type": p.kind, "version": d.version, "contractId": contract_id(product.id),
                         **({"description": p.description} if p.description else {}),
                         "customProperties": _custom(approval=p.approval, location=p.location)}
                        for p in output_ports(product)],
        "inputPorts": [{"name": p.product, "contractId": contract_id(p.product),
                        "version": mesh.products[p.product].descriptor.version if p.product in mesh.products else "",
                        **({"customProperties": _custom(description=p.description)} if p.description else {})}
                       for p in input_ports(mesh.declared, product.id)],
        "customProperties": _custom(meshworkTitle=d.title, meshworkDeclaredOutput=bool(d.ports.output),
                                    meshworkDeclaredInput=[p.product for p in d.ports.input],
                                    **{f"meshwork{k.title()}": json.loads(json.dumps(carried[k], default=str))
                                       for k in _CARRIED if k in carried}),
    }
    if d.description:
        document["description"] = {"purpose": d.description}
    if members:
        document["team"] = {"name": domain.title if domain else product.domain, "members": members}
    return document


def export_document(mesh: Any, product_id: str, fmt: str = "yaml") -> str:
    """ODPS text (YAML or JSON) of one product; an OdpsError if it would not validate (a bug, never shipped)."""
    document = to_document(mesh, product_id)
    errors = validate_document(document)
    if errors:
        raise OdpsError(f"{product_id}: the ODPS document does not validate: {'; '.join(errors[:5])}")
    return json.dumps(document, indent=2) + "\n" if fmt == "json" else dump_yaml(document)


def read_document(text: str, where: str = "document") -> dict[str, Any]:
    """Parse ODPS YAML or JSON and validate it against the schema; OdpsError naming each problem."""
    if len(text) > MAX_BYTES:
        raise OdpsError(f"{where}: over {MAX_BYTES:,} characters, more than a product document may have")
    try:
        data = parse_yaml(text).data  # JSON is YAML
    except YamlError as exc:
        raise OdpsError(f"{where}:{exc.line or 1}: invalid YAML or JSON: {exc}") from None
    if not isinstance(data, dict):
        raise OdpsError(f"{where}: expected an ODPS document (a mapping with apiVersion, kind, id)")
    errors = validate_document(data)
    if errors:
        raise OdpsError(f"{where}: not a valid ODPS {data.get('apiVersion', API_VERSION)} document: "
                        + "; ".join(errors[:10]))
    return data


def from_document(data: dict[str, Any], where: str = "document") -> tuple[str, ProductDescriptor]:
    """(domain, descriptor) of a validated document: the carried Meshwork fields, with the ODPS ones on top."""
    custom = {c["property"]: c["value"] for c in data.get("customProperties") or []}
    domain, _, name = str(data.get("id", "")).partition(".")
    domain = data.get("domain") or domain
    name = data.get("name") or name
    fields: dict[str, Any] = {k: custom[f"meshwork{k.title()}"] for k in _CARRIED if f"meshwork{k.title()}" in custom}
    if "source" not in fields:
        raise OdpsError(f"{where}: the document carries no Meshwork source (customProperties meshworkSource); "
                        "import its ODCS contract instead (`meshwork contract import`), which holds the schema")
    owners = [m["username"] for m in (data.get("team") or {}).get("members", []) if m.get("role") == "owner"]
    fields.update(name=name, title=custom.get("meshworkTitle", ""), version=data.get("version", "1.0.0"),
                  status=data.get("status", "active"), tags=list(data.get("tags") or []),
                  description=(data.get("description") or {}).get("purpose", ""),
                  owner=owners[0] if owners else "")
    output = []
    if custom.get("meshworkDeclaredOutput", True):
        for port in data.get("outputPorts") or []:
            props = {c["property"]: c["value"] for c in port.get("customProperties") or []}
            output.append({"name": port["name"], "kind": port.get("type", "sql_view"),
                           "description": port.get("description", ""), "location": props.get("location", ""),
                           "approval": props.get("approval", "owner")})
    declared_input = set(custom.get("meshworkDeclaredInput", [p["name"] for p in data.get("inputPorts") or []]))
    inputs = []
    for raw in data.get("inputPorts") or []:
        if raw["name"] not in declared_input:
            continue  # read from the product's SQL, not declared
        described = [c["value"] for c in raw.get("customProperties") or [] if c["property"] == "description"]
        inputs.append({"product": raw["name"], **({"description": described[0]} if described else {})})
    fields["ports"] = {"output": output, "input": inputs}
    try:
        descriptor = ProductDescriptor.model_validate(fields)
    except Exception as exc:  # noqa: BLE001 - pydantic's message names the field
        raise OdpsError(f"{where}: the document does not make a valid product: {exc}") from None
    return domain, descriptor


def draft_from_document(mesh: Any, text: str, where: str = "document") -> Any:
    """A publishing draft of an ODPS document, reviewed and published like any other."""
    domain, descriptor = from_document(read_document(text, where), where)
    domain = publish.check_name(domain, "domain name")
    existing = mesh.products.get(f"{domain}.{descriptor.name}")
    notes = [f"imported from the ODPS document {where}"]
    if existing is not None:
        notes.append(f"{existing.id} exists (version {existing.descriptor.version}); publishing needs a higher "
                     "version")
    return publish.Draft(domain=domain, descriptor=descriptor,
                         profile=publish.Profile(rows=0, profiled_rows=0, columns=[]), preview=pl.DataFrame(),
                         compliance=governance.check_descriptor(mesh, domain, descriptor), notes=notes,
                         creates_domain=domain not in mesh.domains,
                         replaces_version=existing.descriptor.version if existing else None, origin="contract")


def import_document(mesh: Any, text: str, where: str = "document", user: str | None = None,
                    allow_violations: bool = False) -> Any:
    """Publish an ODPS document as a product as `user` (the same rules as self-serve publishing)."""
    draft = draft_from_document(mesh, text, where)
    return mesh.publisher.publish(draft, user=user, allow_violations=allow_violations)


def read_file(path: str | Path) -> str:
    """An ODPS document's text (bounded; the refusal names the file)."""
    return read_document_text(path, "a product document", OdpsError)
