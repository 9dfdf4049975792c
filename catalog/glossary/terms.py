"""Reading the glossary: terms, where each is linked, the badges a column shows, and what a word means.

Terms are declared in `glossary/*.yaml` and loaded with the descriptors (`DeclaredMesh.terms`); products and
columns link them with `terms:`. Only approved terms badge a column or a product: a draft is a proposal still
being discussed, and a deprecated term is kept for history but no longer vouched for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from catalog.descriptors.declared import DeclaredMesh
from catalog.descriptors.model import DataProduct, Term
from catalog.errors import MeshError

TERM_SCHEMA = {"id": pl.String, "name": pl.String, "definition": pl.String, "synonyms": pl.String,
               "abbreviations": pl.String, "related": pl.String, "steward": pl.String, "status": pl.String,
               "products": pl.Int64, "columns": pl.Int64}
USE_SCHEMA = {"term_id": pl.String, "product_id": pl.String, "column": pl.String}


class UnknownTerm(MeshError):
    """A term id the glossary does not define."""


@dataclass(frozen=True)
class Use:
    """One link of a term: a product (column None) or one of its columns."""

    term_id: str
    product_id: str
    column: str | None = None


def uses(mesh: DeclaredMesh) -> list[Use]:
    """Every `terms:` link of every product and column, in the mesh's order."""
    out: list[Use] = []
    for product in mesh.products.values():
        out += [Use(t, product.id) for t in product.descriptor.terms]
        out += [Use(t, product.id, c.name) for c in product.columns for t in c.terms]
    return out


def term(mesh: DeclaredMesh, term_id: str) -> Term:
    try:
        return mesh.terms[term_id]
    except KeyError:
        raise UnknownTerm(f"there is no term {term_id!r} in the glossary of mesh {mesh.name!r}; "
                          "`meshwork glossary list` shows the terms") from None


def terms_frame(mesh: DeclaredMesh, status: str | None = None, listed: set[str] | None = None) -> pl.DataFrame:
    """One row per term (name order) with how many products and columns link it; `listed` limits the counts
    to the products a viewer may list."""
    counts: dict[str, tuple[set[str], int]] = {}
    for use in uses(mesh):
        if listed is not None and use.product_id not in listed:
            continue
        products, columns = counts.get(use.term_id, (set(), 0))
        if use.column is None:
            products.add(use.product_id)
        counts[use.term_id] = (products | {use.product_id}, columns + (use.column is not None))
    rows = []
    for t in sorted(mesh.terms.values(), key=lambda t: t.name.lower()):
        if status and t.status != status:
            continue
        products, columns = counts.get(t.id, (set(), 0))
        rows.append({"id": t.id, "name": t.name, "definition": t.definition, "synonyms": ", ".join(t.synonyms),
                     "abbreviations": ", ".join(t.abbreviations), "related": ", ".join(t.related),
                     "steward": t.steward, "status": t.status, "products": len(products), "columns": columns})
    return pl.DataFrame(rows, schema=TERM_SCHEMA)


def where_used(mesh: DeclaredMesh, term_id: str, listed: set[str] | None = None) -> pl.DataFrame:
    """term_id, product_id, column (null for the product itself) of each link of one term."""
    term(mesh, term_id)
    rows = [{"term_id": u.term_id, "product_id": u.product_id, "column": u.column} for u in uses(mesh)
            if u.term_id == term_id and (listed is None or u.product_id in listed)]
    return pl.DataFrame(rows, schema=USE_SCHEMA)


def badges(mesh: DeclaredMesh, product: DataProduct) -> dict[str, list[Term]]:
    """Column name ("" for the product) -> the approved terms it links, in the order written."""
    out: dict[str, list[Term]] = {}
    for name, ids in [("", product.descriptor.terms), *((c.name, c.terms) for c in product.columns)]:
        approved = [mesh.terms[t] for t in ids if t in mesh.terms and mesh.terms[t].status == "approved"]
        if approved:
            out[name] = approved
    return out


_WORD = re.compile(r"[a-z0-9]+")


def labels(t: Term) -> list[str]:
    """What a person may call a term: its name, synonyms and abbreviations."""
    return [t.name, *t.synonyms, *t.abbreviations]


def normalized(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


MAX_LABEL_WORDS = 8


class TermMatcher:
    """The approved terms' labels, normalized once: a query is matched by looking up each of its phrases
    (n-grams up to the longest label), so the cost grows with the query, not with the glossary."""

    def __init__(self, mesh: DeclaredMesh, approved_only: bool = True):
        self.terms = mesh.terms
        self.labels: dict[str, set[str]] = {}
        longest = 1
        for t in mesh.terms.values():
            if approved_only and t.status != "approved":
                continue
            for label in map(normalized, labels(t)):
                if label:
                    self.labels.setdefault(label, set()).add(t.id)
                    longest = max(longest, label.count(" ") + 1)
        self.longest = min(longest, MAX_LABEL_WORDS)

    def match(self, text: str) -> list[Term]:
        """Terms a query names by name, synonym or abbreviation (the whole phrase, or a phrase inside it:
        "otif by carrier" names OTIF), longest label first."""
        tokens = normalized(text).split()[:64]
        best: dict[str, int] = {}
        for size in range(min(self.longest, len(tokens)), 0, -1):
            for i in range(len(tokens) - size + 1):
                for term_id in self.labels.get(" ".join(tokens[i:i + size]), ()):
                    best.setdefault(term_id, size)
        return [self.terms[tid] for tid, _ in sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))]


def matching_terms(mesh: DeclaredMesh, text: str, approved_only: bool = True) -> list[Term]:
    """Terms a query names (see TermMatcher; build one to match many queries)."""
    return TermMatcher(mesh, approved_only).match(text)
