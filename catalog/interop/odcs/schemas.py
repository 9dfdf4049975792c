"""The official ODCS JSON schema of each standard version, and validation against the document's own one.

A v3.0.2 contract is judged by the v3.0.2 schema, not by the newest: later versions added and renamed
fields, so the newest schema refuses valid older documents (and would accept fields an older reader does
not know). The schemas are vendored in `schemas/` (see `schemas/SOURCE.md`).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

import jsonschema

# Every version the standard has published a v3 schema for, and the file that validates it.
SCHEMA_FILES = {"v3.0": "odcs-json-schema-v3.0.2.json", "v3.1": "odcs-json-schema-v3.1.0.json",
                "v3.2": "odcs-json-schema-v3.2.0.json"}
SUPPORTED = ("v3.0.0", "v3.0.1", "v3.0.2", "v3.1.0", "v3.2.0")
_VERSION = re.compile(r"^v(3)\.(\d+)\.\d+$")


def schema_file(api_version: Any) -> str | None:
    """The vendored schema file for an `apiVersion` (None: a version Meshwork has no schema for)."""
    match = _VERSION.match(api_version) if isinstance(api_version, str) else None
    return SCHEMA_FILES.get(f"v{match.group(1)}.{match.group(2)}") if match else None


@lru_cache(maxsize=None)
def json_schema(filename: str = SCHEMA_FILES["v3.2"]) -> dict[str, Any]:
    return json.loads(resources.files(__package__).joinpath("schemas", filename).read_text("utf-8"))


@lru_cache(maxsize=None)
def _validator(filename: str) -> jsonschema.protocols.Validator:
    schema = json_schema(filename)
    return jsonschema.validators.validator_for(schema, default=jsonschema.Draft201909Validator)(schema)


def json_path(path: Any) -> str:
    """`$.schema[0].properties[2].logicalType`: the JSON path people paste into a search."""
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def validate(data: dict[str, Any], filename: str | None = None) -> list[str]:
    """Errors of a document against the schema of its own apiVersion, each as `JSON path: reason`."""
    api_version = data.get("apiVersion") if isinstance(data, dict) else None
    filename = filename or schema_file(api_version)
    if filename is None:
        return [f"$.apiVersion: {api_version!r} is not an ODCS version Meshwork reads "
                f"(one of {', '.join(SUPPORTED)})"]
    errors = sorted(_validator(filename).iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{json_path(e.absolute_path)}: {_reason(e)}" for e in errors]


def later_schema_that_accepts(data: dict[str, Any]) -> str | None:
    """The first later schema a document that fails its own version's validates against (the official
    examples of v3.0.2 already use v3.1's `metric`), or None."""
    own = schema_file(data.get("apiVersion"))
    files = list(SCHEMA_FILES.values())
    for filename in files[files.index(own) + 1:] if own in files else []:
        if not validate(data, filename):
            return filename
    return None


def _reason(error: jsonschema.ValidationError) -> str:
    """The schema's own reason, cut to what a person reads (a whole sub-document in a message helps no one)."""
    message = error.message
    return message if len(message) <= 300 else message[:297] + "..."
