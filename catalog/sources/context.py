"""What an adapter needs to know about the connection it builds views in."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sqlglot import exp

RAW_CATALOG = "__meshwork_raw"
# The masking function every engine registers on its connections (catalog/engines/tokens.py): no source SQL
# and no user SQL may call it, or tokens of guessed values could be computed and matched.
TOKEN_FUNCTION = "meshwork_token"


@dataclass
class SourceContext:
    root: Path
    load_extension: Callable[[str], None]
    attached: dict[str, str] = field(default_factory=dict)  # attach key -> alias
    product_domains: dict[str, str] = field(default_factory=dict)  # product id -> domain
    expanded: dict[str, list[str]] = field(default_factory=dict)  # glob -> the files it may read (see files.reads)

    def alias_for(self, key: str, prefix: str) -> str:
        if key not in self.attached:
            digest = hashlib.sha1(key.encode()).hexdigest()[:10]
            self.attached[key] = f"__src_{prefix}_{digest}"
        return self.attached[key]


def raw_table(product_id: str) -> exp.Table:
    """The raw (unmasked) view of a product, in the hidden catalog."""
    domain, name = product_id.split(".", 1)
    return exp.table_(name, db=domain, catalog=RAW_CATALOG, quoted=True)


def string_literal(text: str) -> exp.Literal:
    return exp.Literal.string(text)


def shown_path(root: Path, path: Path) -> str:
    """A source path as people read it: relative to the mesh folder, absolute when it lies outside (a file
    under a declared data root)."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(root).as_posix()
    except ValueError:
        return resolved.as_posix()
