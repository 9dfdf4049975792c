"""ODCS documents in and out of a mesh: export validated against the standard, import through the Publisher
(same rules as self-serve publishing: who may write, the SQL gate, paths inside the mesh, restrictions)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from catalog.descriptors.yamlio import dump_yaml
from catalog.governance import policies as governance
from catalog.interop.odcs import carry, exporting, importing, schemas
from catalog.interop.odcs.reading import ContractError, read_document, read_text_file
from catalog.publish import publish


def validate_contract(data: dict[str, Any]) -> list[str]:
    """`JSON path: reason` of every error of a document against its own apiVersion's schema."""
    return schemas.validate(data)


def read_contract(text: str, where: str = "contract") -> dict[str, Any]:
    return read_document(text, where)


def from_contract(doc: dict[str, Any], where: str = "contract", domain: str | None = None,
                  name: str | None = None, source: dict[str, Any] | None = None) -> list[importing.Imported]:
    return importing.from_document(doc, where, domain, name, source)


def export_document(mesh: Any, *product_ids: str) -> dict[str, Any]:
    """One ODCS document of products (one schema object each; the first gives the document's own fields)."""
    return exporting.document([mesh.product(p) for p in product_ids])


def export_contract(mesh: Any, *product_ids: str) -> str:
    """ODCS YAML of products; ContractError if it would not validate against its apiVersion's schema."""
    data = export_document(mesh, *product_ids)
    errors = validate_contract(data)
    if errors and schemas.later_schema_that_accepts(data) is None:
        raise ContractError(f"the ODCS export of {', '.join(product_ids)} does not validate: {'; '.join(errors[:5])}")
    return dump_yaml(data)


def round_trip_share(original: dict[str, Any], exported: dict[str, Any]) -> tuple[int, int]:
    """(leaf fields of `original` back unchanged in `exported`, leaf fields of `original`)."""
    return carry.kept_share(original, exported)


def _source_option(source_path: str | None) -> dict[str, Any] | None:
    """`--source-path data/{table}.parquet`: where the data is, for a contract whose servers do not say."""
    if not source_path:
        return None
    kind = Path(source_path.replace("{table}", "t")).suffix.lstrip(".").lower()
    if kind not in ("parquet", "csv"):
        raise ContractError(f"--source-path {source_path!r}: a .parquet or .csv path (with {{table}} for the "
                            "schema object's physical name)")
    return {"kind": kind, "path": source_path}


def _draft(mesh: Any, item: importing.Imported, where: str, version: str | None,
           read_notes: list[str]) -> publish.Draft:
    descriptor = item.descriptor
    notes = read_notes + list(item.notes)
    if version:
        descriptor = descriptor.model_copy(update={"version": version})
    domain = publish.check_name(item.domain, "domain name")
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
    if item.carried:
        notes.append(f"carried verbatim (exported again, not acted on): {', '.join(item.carried[:12])}"
                     + (f" and {len(item.carried) - 12} more" if len(item.carried) > 12 else ""))
    notes += [f"dropped: {d}" for d in item.dropped]
    return publish.Draft(domain=domain, descriptor=descriptor,
                         profile=publish.Profile(rows=0, profiled_rows=0, columns=[]), preview=pl.DataFrame(),
                         compliance=governance.check_descriptor(mesh, domain, descriptor),
                         notes=[f"imported from the ODCS contract {where}", *notes],
                         creates_domain=domain not in mesh.domains,
                         replaces_version=existing.descriptor.version if existing else None, origin="contract")


def drafts_from_contract(mesh: Any, text: str, where: str = "contract", domain: str | None = None,
                         version: str | None = None, name: str | None = None,
                         source_path: str | None = None) -> list[publish.Draft]:
    """A publishing draft per schema object of an ODCS document, reviewed and published like any other."""
    read_notes: list[str] = []
    doc = read_document(text, where, read_notes)
    items = importing.from_document(doc, where, domain, name, _source_option(source_path))
    return [_draft(mesh, item, where, version, read_notes) for item in items]


def draft_from_contract(mesh: Any, text: str, where: str = "contract", domain: str | None = None,
                        version: str | None = None, name: str | None = None,
                        source_path: str | None = None) -> publish.Draft:
    """The draft of a one-table contract (of the first schema object of a larger one, saying so)."""
    drafts = drafts_from_contract(mesh, text, where, domain, version, name, source_path)
    if len(drafts) > 1:
        drafts[0].notes.append(f"the contract has {len(drafts)} schema objects; this draft is the first. "
                               "`meshwork contract import` publishes one product per schema object")
    return drafts[0]


@dataclass
class ImportReport:
    results: list[Any] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def import_contracts(mesh: Any, text: str, where: str = "contract", domain: str | None = None,
                     version: str | None = None, allow_violations: bool = False, user: str | None = None,
                     name: str | None = None, source_path: str | None = None) -> ImportReport:
    """Publish every schema object of a document as a product as `user`; every draft is built (and so
    validated) before the first is published."""
    drafts = drafts_from_contract(mesh, text, where, domain, version, name, source_path)
    report = ImportReport()
    for draft in drafts:
        report.results.append(mesh.publisher.publish(draft, user=user, allow_violations=allow_violations))
        prefix = f"{draft.domain}.{draft.descriptor.name}: " if len(drafts) > 1 else ""
        report.notes += [prefix + n for n in draft.notes[1:]]
    return report


def import_contract(mesh: Any, text: str, where: str = "contract", domain: str | None = None,
                    version: str | None = None, allow_violations: bool = False, user: str | None = None,
                    **kwargs: Any) -> tuple[Any, list[str]]:
    """Publish an ODCS document (every schema object): (the first product's result, notes)."""
    report = import_contracts(mesh, text, where, domain, version, allow_violations, user, **kwargs)
    return report.results[0], report.notes


def import_contract_file(mesh: Any, path: str | Path, **kwargs: Any) -> tuple[Any, list[str]]:
    return import_contract(mesh, read_text_file(path), where=str(path), **kwargs)
