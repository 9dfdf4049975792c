"""The search table as numpy arrays in index document order, built once per signals change, so that a query
that matches thousands of products filters, counts facets and sorts with a few vector operations over
document numbers instead of building and exploding frames (issue 20: p95 < 30 ms on 10,000 products).

A facet column is coded: `values` (what the facet shows) and one int per product (-1 for no value); a list
facet (tags, terms) is flat: one code per element and the document it belongs to, so a count is one
`bincount`. A viewer's locked products are masked at query time exactly as `_for_viewer` masks the frame:
grade `locked`, no kind, PII flag, quality, freshness, tags or terms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import polars as pl

LOCKED_NULL = ("pii", "kind")  # scalar facets a locked product has no value for


@dataclass
class Coded:
    """One value per product: `codes[doc]` indexes `values` (-1: none); `names` are what the facet shows and
    `name_rank` their order, so counts sort as (most frequent, then by name) without a Python key."""

    values: list[Any]
    codes: np.ndarray
    names: list[str]
    name_rank: np.ndarray

    def __post_init__(self) -> None:
        self.name_array = np.array(self.names, dtype=object)  # gathered by code in C, not in a Python loop

    def counted(self, codes: np.ndarray) -> list[tuple[str, int]]:
        """(name, count) of the values of `codes` (-1 ignored), most frequent first, ties by name."""
        counts = np.bincount(codes[codes >= 0], minlength=len(self.values))
        present = np.flatnonzero(counts)
        present = present[np.lexsort((self.name_rank[present], -counts[present]))]
        return list(zip(self.name_array[present].tolist(), counts[present].tolist()))


@dataclass
class Flat:
    """A list per product, flattened: element i is `values[codes[i]]` of product `docs[i]`."""

    coded: Coded
    docs: np.ndarray


def _coded(values: list[Any], codes: np.ndarray, yes_no: bool) -> Coded:
    names = [("yes" if v else "no") if yes_no else str(v) for v in values]
    order = {name: i for i, name in enumerate(sorted(set(names)))}
    return Coded(values, codes, names, np.asarray([order[n] for n in names], dtype=np.int64))


def coded(values: Sequence[Any], extra: Sequence[Any] = (), yes_no: bool = False) -> Coded:
    distinct = list(dict.fromkeys([*extra, *(v for v in values if v is not None)]))
    index = {v: i for i, v in enumerate(distinct)}
    codes = np.fromiter((-1 if v is None else index[v] for v in values), dtype=np.int64, count=len(values))
    return _coded(distinct, codes, yes_no)


def flat(lists: Sequence[Sequence[str] | None]) -> Flat:
    distinct: dict[str, int] = {}
    codes: list[int] = []
    docs: list[int] = []
    for doc, items in enumerate(lists):
        for item in items or ():
            if item is None:
                continue
            codes.append(distinct.setdefault(item, len(distinct)))
            docs.append(doc)
    return Flat(_coded(list(distinct), np.asarray(codes, dtype=np.int64), False), np.asarray(docs, dtype=np.int64))


def ranks(values: Sequence[Any]) -> np.ndarray:
    """The position of each value in ascending order (ties share one), as polars sorts strings."""
    order = {v: i for i, v in enumerate(sorted(set(values)))}
    return np.fromiter((order[v] for v in values), dtype=np.int64, count=len(values))


def nullable(series: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """(values as float64 with 0 for null, null mask): a sort key that puts nulls last."""
    nulls = series.is_null().to_numpy()
    return series.cast(pl.Float64).fill_null(0.0).to_numpy().astype(np.float64), nulls


class DocumentArrays:
    """What the descriptors say of each product (in document order), coded once per index: domain, owner,
    status, kind, PII flag, tags, terms, freshness, and the id and domain sort ranks."""

    def __init__(self, docs: pl.DataFrame, *, scalar_facets: Sequence[str], list_facets: dict[str, str],
                 yes_no: Sequence[str]):
        self.n = docs.height
        ids = docs["product_id"].to_list()
        self.doc_of = {pid: doc for doc, pid in enumerate(ids)}
        names: dict[str, list[int]] = {}
        for doc, name in enumerate(docs["name"].to_list()):
            names.setdefault(name, []).append(doc)
        self.docs_named = names
        self.scalar = {f: coded(docs[f].to_list(), yes_no=f in yes_no) for f in scalar_facets}
        self.lists = {f: flat(docs[column].to_list()) for f, column in list_facets.items()}
        self.id_rank = ranks(ids)
        self.domain_rank = ranks(docs["domain"].to_list())
        self.refreshed, self.refreshed_null = nullable(docs["refreshed_at"].dt.epoch("us"))


class ProductArrays:
    """The documents' arrays plus the signals' (grade, usage, certification, quality, rating) of `table`
    (one row per product, in document order), rebuilt when the signals change."""

    def __init__(self, documents: DocumentArrays, table: pl.DataFrame, *, locked_grade: str,
                 yes_no: Sequence[str]):
        self.documents = documents
        self.table = table
        self.n = documents.n
        self.doc_of = documents.doc_of
        self.docs_named = documents.docs_named
        self.lists = documents.lists
        self.id_rank = documents.id_rank
        self.domain_rank = documents.domain_rank
        self.refreshed, self.refreshed_null = documents.refreshed, documents.refreshed_null
        self.scalar = dict(documents.scalar)
        self.scalar["grade"] = coded(table["grade"].to_list(), (locked_grade,))
        self.scalar["certified"] = coded(table["certified"].to_list(), yes_no="certified" in yes_no)
        self.locked_grade = 0  # `locked_grade` is the first value of the grade facet
        self.queries = table["queries"].cast(pl.Int64).to_numpy().astype(np.float64)
        self.certified = table["certified"].cast(pl.Float64).to_numpy().astype(np.float64)
        self.quality, self.quality_null = nullable(table["quality"])
        self.rating, self.rating_null = nullable(table["rating"])
        self._rows: dict[int, dict[str, Any]] = {}

    def row(self, doc: int) -> dict[str, Any]:
        """A copy of `table`'s row of one document (read from the frame once, then kept)."""
        row = self._rows.get(doc)
        if row is None:
            row = self._rows[doc] = self.table.row(doc, named=True)
        return dict(row)
