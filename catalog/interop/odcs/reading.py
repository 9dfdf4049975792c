"""Read an ODCS document: YAML or JSON text to a plain mapping, validated against its own version's schema.

YAML turns an unquoted `2022-08-02` into a date, which no JSON schema accepts as the string it is in the
standard; dates and times are written back as ISO text before validation, so such a document imports.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from catalog.descriptors.yamlio import YamlError, parse_yaml, read_document_text
from catalog.errors import PublishError
from catalog.interop.odcs import schemas


class ContractError(PublishError):
    """An ODCS document that cannot become a product (invalid, or no source Meshwork can read)."""


def _plain(value: Any) -> Any:
    """The document as JSON would hold it: dates and times as ISO text, keys as strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    return value


def read_document(text: str, where: str = "contract", notes: list[str] | None = None) -> dict[str, Any]:
    """The validated document; ContractError names the file, the line, the JSON path and the schema's reason.
    A document its own version's schema refuses but a later one accepts is read, with a note in `notes`."""
    try:
        doc = parse_yaml(text)
    except YamlError as exc:
        raise ContractError(f"{where}:{exc.line or 1}: invalid YAML: {exc}") from None
    data = _plain(doc.data)
    if not isinstance(data, dict):
        raise ContractError(f"{where}: expected an ODCS document (a mapping with apiVersion, kind, id, ...)")
    errors = schemas.validate(data)
    later = schemas.later_schema_that_accepts(data) if errors and schemas.schema_file(data.get("apiVersion")) else None
    if later is not None:
        (notes if notes is not None else []).append(
            f"{where} does not validate against the ODCS {data.get('apiVersion')} schema ({errors[0]}), "
            f"but against {later.removeprefix('odcs-json-schema-').removesuffix('.json')}: read as that")
        errors = []
    if errors:
        first = errors[0]
        line = doc.line_of(_loc(first)) or 1
        more = f" (and {len(errors) - 1} more: {'; '.join(errors[1:4])})" if len(errors) > 1 else ""
        raise ContractError(f"{where}:{line}: not a valid ODCS v3 document (by the schema of its apiVersion "
                            f"{data.get('apiVersion')}): {first}{more}")
    return data


def _loc(error: str) -> tuple[Any, ...]:
    """The YAML location of a `$.a[0].b: reason` error (for its line)."""
    path = error.split(":", 1)[0].removeprefix("$")
    out: list[Any] = []
    for part in path.replace("[", ".[").split("."):
        if not part:
            continue
        out.append(int(part[1:-1]) if part.startswith("[") else part)
    return tuple(out)


def read_text_file(path: str | Path) -> str:
    """A contract file's text (bounded; the refusal names the file)."""
    return read_document_text(path, "a contract", ContractError)
