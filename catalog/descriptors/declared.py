"""`DeclaredMesh`: the mesh as its descriptors declare it, and nothing else.

This is the narrow thing feature modules receive instead of the `Mesh` facade: domains, products,
problems and the upstreams of derived products, read once from the folder. It holds no engine, no
state and no viewer, so a feature module that takes it cannot call back up into the facade.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from catalog.descriptors.model import DataProduct, Domain, MeshDescriptor, Problem, Role, Term
from catalog.descriptors.parsecache import ParseCache
from catalog.descriptors.yamlio import YamlDocument
from catalog.errors import UnknownProduct


@dataclass
class DeclaredMesh:
    root: Path
    descriptor: MeshDescriptor
    domains: dict[str, Domain] = field(default_factory=dict)
    products: dict[str, DataProduct] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    upstream_ids: dict[str, set[str]] = field(default_factory=dict)
    documents: dict[Path, YamlDocument] = field(default_factory=dict)  # parsed once, for line look-ups
    cache: ParseCache = field(default_factory=lambda: ParseCache(None))
    source_verdicts: dict[str, str] = field(default_factory=dict)  # source path -> ok | missing | outside
    terms: dict[str, Term] = field(default_factory=dict)  # glossary term id -> term (glossary/*.yaml)
    term_files: dict[str, Path] = field(default_factory=dict)  # term id -> the file that declares it
    revision: str = ""  # digest of the descriptor files' paths, mtimes and sizes (the loader's), for caches

    @property
    def name(self) -> str:
        return self.descriptor.name

    @property
    def title(self) -> str:
        return self.descriptor.title or self.name.replace("_", " ").title()

    @property
    def roles(self) -> dict[str, Role]:
        return self.descriptor.roles

    def product(self, product_id: str) -> DataProduct:
        try:
            return self.products[product_id]
        except KeyError:
            raise UnknownProduct(f"no product {product_id!r} in mesh {self.name!r}") from None

    def upstreams(self, product_id: str) -> set[str]:
        """Products a derived product's SQL reads (empty for source-backed products)."""
        return set(self.upstream_ids.get(product_id, ()))

    def downstreams(self, product_id: str) -> set[str]:
        """Derived products whose SQL reads this product directly."""
        return {pid for pid, ups in self.upstream_ids.items() if product_id in ups}

    def problems_of(self, product_id: str) -> list[Problem]:
        return [p for p in self.problems if p.product_id == product_id]

    def problem_summary(self, product_id: str) -> str:
        errors = [p for p in self.problems_of(product_id) if p.severity == "error"]
        return "; ".join(f"{p.field + ': ' if p.field else ''}{p.message}" for p in errors) or "see its problems"

    @property
    def broken_products(self) -> list[DataProduct]:
        return [p for p in self.products.values() if p.broken]
