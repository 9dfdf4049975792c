"""Ranked search over a mesh's products, with facets and sorts (the Discover page, `meshwork search`).

Ranking is BM25 from Tantivy (an in-memory index; English Snowball stemmer, so plurals match
singulars) over the product id, title, description, tags, owner, domain and column names and
descriptions, and the approved glossary terms linked to the product or its columns (their names, synonyms and
abbreviations); a word in the id, title, tags or a linked term weighs twice. A query that names a term (by
name, synonym or abbreviation: "EAD", "on-time delivery") ranks the products linking it first, and the
`term` facet filters by linked term. A query word the index has never seen
is replaced by the closest words of the index vocabulary (Jaro-Winkler, in DuckDB), which is what
makes typos still find the product. Any text is safe: it is cut to lower-case words of letters
before it reaches either engine, so no query syntax survives.
DuckDB's own `fts` extension ranked the same way first, at tens of milliseconds a query on 10,000
products against about one for Tantivy (bench/results/search.md), hence the library.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Iterator

import duckdb
import numpy as np
import polars as pl

from catalog.access.policy import Policy, product_for
from catalog.descriptors.declared import DeclaredMesh
from catalog.discover.columnar import LOCKED_NULL, DocumentArrays, ProductArrays
from catalog.engines.extensions import load_extension
from catalog.errors import MeshError
from catalog.glossary.terms import TermMatcher, badges, labels
from catalog.sources import refreshed_at
from catalog.state.store import StateStore

if TYPE_CHECKING:
    import tantivy

Frame = Callable[[], pl.DataFrame]

FACETS = ("domain", "tag", "term", "owner", "status", "grade", "pii", "kind", "certified")
LIST_FACETS = {"tag": "tags", "term": "terms"}  # facets over a list column: a product counts once per value
SIGNAL_FACETS = ("grade", "certified")  # facets the state store's signals decide, not the descriptors
YES_NO = ("pii", "certified")  # boolean facets, shown and filtered as yes / no
SORTS = ("relevance", "usage", "quality", "freshness", "trust")
FIELDS = ("ident", "title", "description", "tags_text", "owner_text", "domain_text", "columns", "glossary")
LOCKED_FIELDS = ("ident", "title", "description", "owner_text", "domain_text")  # what a locked product shows
LOCKED = "locked"  # the grade facet value of a locked product (its checks are not shown)
BOOSTS = {"ident": 2.0, "title": 2.0, "tags_text": 2.0, "glossary": 2.0}
TERM_BONUS = 50.0  # added to a product that links a term the query names: it ranks above mere word matches
PRODUCT_TERM_BONUS = 60.0  # ... and more when the product itself is about the term, not one of its columns
NOT_CHECKED = "not checked"
MAX_TEXT = 1000  # characters of a query that are read; the rest is ignored
MAX_WORDS = 24
TYPO_SIMILARITY = 0.86  # Jaro-Winkler above which a vocabulary word stands in for an unknown query word
SIGNALS_TTL_S = 2.0
SIGNAL_TABLES = ("quality_runs", "usage_events", "certifications", "ratings", "comments")
"""What the signals are read from: only a row stored in one of these re-reads them (and rebuilds the arrays). Any
other write (the workbench's history, the audit log, the monitor's bookkeeping) leaves the search as it is, on
SQLite and PostgreSQL alike."""
SCORE_CACHE = 256  # recent queries whose BM25 scores are kept (the descriptors do not change under an index)

_WORD = re.compile(r"[a-z]+")
_LETTERS = re.compile(r"[A-Za-z]+")


def words(text: str) -> list[str]:
    """The words the index sees: lower case, accents stripped, letters only (as the fts tokenizer)."""
    folded = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode("ascii")
    return _WORD.findall(folded)


@dataclass
class Hit:
    """One ranked product: `score` is the BM25 relevance (0 when the query was empty)."""

    product_id: str
    score: float
    title: str
    domain: str
    owner: str
    description: str
    grade: str
    quality: float | None
    queries: int
    trend: str
    refreshed_at: datetime | None
    certified: bool
    rating: float | None
    pii: bool
    kind: str
    status: str
    tags: list[str]
    snippet: str = ""
    snippet_field: str = ""
    marks: list[tuple[int, int]] = field(default_factory=list)  # spans of `snippet` that matched
    locked: bool = False  # restricted and listed: no columns, quality or freshness; *Request access* instead


@dataclass
class SearchResults:
    """The hits of one page, the total count, and facet counts over every match."""

    query: str
    hits: list[Hit]
    total: int
    facets: dict[str, list[tuple[str, int]]]
    sort: str
    terms: list[str]  # the words searched for after typo correction
    corrections: dict[str, list[str]]  # query word -> vocabulary words it was read as
    elapsed_ms: float = 0.0

    def __iter__(self) -> Iterator[Hit]:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    def __getitem__(self, i: int) -> Hit:
        return self.hits[i]

    @property
    def ids(self) -> list[str]:
        return [h.product_id for h in self.hits]

    def frame(self) -> pl.DataFrame:
        """The hits as a table (for notebooks and the CLI)."""
        return pl.DataFrame(
            [{"product_id": h.product_id, "score": round(h.score, 3), "title": h.title, "domain": h.domain,
              "owner": h.owner, "grade": h.grade, "queries_30d": h.queries, "snippet": h.snippet} for h in self.hits],
            schema={"product_id": pl.String, "score": pl.Float64, "title": pl.String, "domain": pl.String,
                    "owner": pl.String, "grade": pl.String, "queries_30d": pl.Int64, "snippet": pl.String})


class SearchIndex:
    """The full-text index and the facet table of one loaded mesh; build once, query many times.

    The signals a card shows and results sort by come from `quality` (latest runs: product_id, grade, score,
    checked_at), `usage` (usage metrics: product_id, queries, trend_label) and `trust` (trust signals:
    product_id, certified, rating_avg), re-read when a row is stored in one of `SIGNAL_TABLES`.
    """

    def __init__(self, mesh: DeclaredMesh, state: StateStore, *, quality: Frame, usage: Frame, trust: Frame):
        self.mesh = mesh
        self.state = state
        self._sources = (quality, usage, trust)
        self._lock = threading.Lock()
        self.docs = _documents(mesh)
        self.ids: list[str] = self.docs["product_id"].to_list()
        self._id_series = self.docs["product_id"]
        self._doc_of = {pid: doc for doc, pid in enumerate(self.ids)}
        self.term_products, self.term_product_level = _term_links(mesh)
        self.term_matcher = TermMatcher(mesh)
        self.glossary_text: dict[str, str] = dict(self.docs.select("product_id", "glossary").iter_rows())
        self.documents = DocumentArrays(self.docs, list_facets=LIST_FACETS, yes_no=YES_NO,
                                        scalar_facets=[f for f in FACETS if f not in LIST_FACETS and f not in SIGNAL_FACETS])
        self.index = _tantivy_index(self.docs)
        self.searcher = self.index.searcher()
        self.con = duckdb.connect(":memory:", config={"threads": 1})
        # Inside Jupyter DuckDB refuses to touch the setting without ipywidgets (and draws no bar there)
        with contextlib.suppress(duckdb.InvalidInputException):
            self.con.execute("SET enable_progress_bar = false")
        load_extension(self.con, "fts")  # stem() and the vocabulary's Jaro-Winkler matching
        vocabulary = sorted({w for text in self.docs.select(FIELDS).to_numpy().ravel() for w in words(str(text))})
        self.con.execute("CREATE TABLE vocab AS SELECT w, stem(w, 'english') AS s FROM unnest($w) t(w)",
                         {"w": vocabulary})
        self.stems: dict[str, str] = dict(self.con.execute("SELECT w, s FROM vocab").fetchall())
        self.words_of_stem: dict[str, list[str]] = {}
        for word, stem in self.stems.items():
            self.words_of_stem.setdefault(stem, []).append(word)
        self.vocabulary = set(self.stems)
        self.stem_set = set(self.stems.values())
        self._signals: pl.DataFrame | None = None
        self._signals_key: tuple[Any, ...] | None = None
        self._signals_checked = 0.0
        self._table: tuple[pl.DataFrame, pl.DataFrame, ProductArrays] | None = None
        self._scores: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]] = {}
        self._masks: dict[tuple[frozenset[str], frozenset[str]], tuple[np.ndarray, np.ndarray]] = {}
        self._vocabularies: dict[tuple[frozenset[str], frozenset[str]], set[str]] = {}

    # ------------------------------------------------------------------ query words

    def vocabulary_for(self, policy: Policy | None) -> set[str] | None:
        """The words a viewer may be told exist: every field of the products they see in full, the shown
        fields of locked ones; None for the unfiltered view (the whole vocabulary)."""
        if policy is None or policy.unfiltered:
            return None
        key = (policy.allowed, policy.locked)
        with self._lock:
            if key not in self._vocabularies:
                vocabulary: set[str] = set()
                for row in self.docs.select("product_id", *FIELDS).iter_rows(named=True):
                    pid = row["product_id"]
                    fields = FIELDS if pid in policy.allowed else LOCKED_FIELDS if pid in policy.locked else ()
                    for name in fields:
                        vocabulary.update(words(str(row[name] or "")))
                self._vocabularies[key] = vocabulary
                while len(self._vocabularies) > SCORE_CACHE:
                    self._vocabularies.pop(next(iter(self._vocabularies)))
            return self._vocabularies[key]

    def expand(self, text: str, policy: Policy | None = None) -> tuple[list[str], dict[str, list[str]]]:
        """Query words known to the index, plus close vocabulary words for unknown ones (typos); a viewer is
        only offered words of what they may see."""
        allowed = self.vocabulary_for(policy)
        out: list[str] = []
        corrections: dict[str, list[str]] = {}
        for word in dict.fromkeys(words(text[:MAX_TEXT])[:MAX_WORDS * 4]):
            if len(out) >= MAX_WORDS:
                break
            if word in self.vocabulary:
                out.append(word)
                continue
            stem = self._stem(word)
            if stem in self.stem_set:
                out.append(word)
                continue
            if len(word) < 3:
                continue
            near = self._near(word, allowed)
            if near:
                corrections[word] = near
                out.extend(w for w in near if w not in out)
        return out, corrections

    def _stem(self, word: str) -> str:
        with self._lock:
            return self.con.execute("SELECT stem($w, 'english')", {"w": word}).fetchone()[0]

    def _near(self, word: str, allowed: set[str] | None = None) -> list[str]:
        with self._lock:
            rows = self.con.execute(
                "SELECT w, jaro_winkler_similarity(w, $q) AS sim FROM vocab "
                "WHERE abs(length(w) - length($q)) <= 2 AND sim >= $min ORDER BY sim DESC, w",
                {"q": word, "min": TYPO_SIMILARITY}).fetchall()
        rows = [r for r in rows if allowed is None or r[0] in allowed][:3]
        if not rows:
            return []
        best = rows[0][1]
        return [w for w, sim in rows if sim >= best - 0.03]

    def hits(self, terms: list[str], fields: tuple[str, ...] = FIELDS) -> tuple[np.ndarray, np.ndarray]:
        """(document numbers, BM25 scores) of every product matching any of `terms` in `fields` (id, title,
        tags and terms count twice); cached per words, since a facet click, sort or page reruns them."""
        if not terms:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        key = (*terms, "\x00", *fields)
        with self._lock:  # app sessions share one index
            cached = self._scores.get(key)
            if cached is not None:
                return cached
            # `terms` are lower-case letters only, so the query parser sees plain words, never syntax.
            query = self.index.parse_query(" ".join(terms), list(fields),
                                           field_boosts={k: v for k, v in BOOSTS.items() if k in fields})
            found = self.searcher.search(query, limit=max(1, len(self.ids))).hits
            if self.searcher.num_segments == 1:  # documents are numbered in insertion order, as `docs`
                docs = np.array([a.doc for _, a in found], dtype=np.int64)
            else:
                docs = np.array([self._doc_of[self.searcher.doc(a)["product_id"][0]] for _, a in found],
                                dtype=np.int64)
            scored = (docs, np.array([score for score, _ in found], dtype=np.float64))
            self._scores[key] = scored
            while len(self._scores) > SCORE_CACHE:
                self._scores.pop(next(iter(self._scores)))
            return scored

    def scores(self, terms: list[str], fields: tuple[str, ...] = FIELDS) -> pl.DataFrame:
        """product_id, score for every product matching any of `terms` in `fields` (as `hits`, as a frame)."""
        docs, scores = self.hits(terms, fields)
        return pl.DataFrame({"product_id": self._id_series.gather(docs),
                             "score": pl.Series(scores, dtype=pl.Float64)})

    # ------------------------------------------------------------------ signals (quality, usage, trust)

    def signals(self) -> pl.DataFrame:
        """Latest grade, usage and trust per product, re-read when a table they come from has a new row."""
        now = time.monotonic()
        if self._signals is not None and now - self._signals_checked < SIGNALS_TTL_S:
            return self._signals
        self._signals_checked = now
        key = self.state.revision(*SIGNAL_TABLES)
        if self._signals is None or key != self._signals_key:
            self._signals = _signals(self.mesh, *self._sources)
            self._signals_key = key
        return self._signals

    def table(self) -> pl.DataFrame:
        """One row per product, in document order: facet values and signals (rebuilt when the signals change)."""
        return self._current()[1]

    def arrays(self) -> ProductArrays:
        """The table as coded facets and sort keys (built with it, once per signals change)."""
        return self._current()[2]

    def _current(self) -> tuple[pl.DataFrame, pl.DataFrame, ProductArrays]:
        signals = self.signals()
        current = self._table
        if current is None or current[0] is not signals:
            table = self.docs.drop(FIELDS).join(signals, on="product_id", how="left", maintain_order="left") \
                .with_columns(pl.col("grade").fill_null(NOT_CHECKED), pl.col("queries").fill_null(0),
                              pl.col("trend").fill_null("none"), pl.col("certified").fill_null(False))
            arrays = ProductArrays(self.documents, table, locked_grade=LOCKED, yes_no=YES_NO)
            current = self._table = (signals, table, arrays)
        return current

    def masks(self, policy: Policy) -> tuple[np.ndarray, np.ndarray]:
        """(listed, locked) per document for a viewer: a hidden product is in neither. Listed is an allow-list
        (shown in full, or locked), so a product the policy does not name is never found: it fails closed."""
        key = (policy.allowed, policy.locked)
        with self._lock:
            if key not in self._masks:
                listed = np.zeros(len(self.ids), dtype=bool)
                locked = np.zeros(len(self.ids), dtype=bool)
                listed[[self._doc_of[p] for p in policy.allowed | policy.locked if p in self._doc_of]] = True
                locked[[self._doc_of[p] for p in policy.locked if p in self._doc_of]] = True
                self._masks[key] = (listed, locked & listed)
                while len(self._masks) > SCORE_CACHE:
                    self._masks.pop(next(iter(self._masks)))
            return self._masks[key]

    def close(self) -> None:
        self.con.close()


def search(index: SearchIndex, text: str = "", *, policy: Policy | None = None, sort: str = "relevance",
           limit: int | None = 20, offset: int = 0, **filters: Any) -> SearchResults:
    """Rank the products matching `text` (every product when empty), filtered by facet values.

    `filters` are facet names (`domain`, `tag`, `owner`, `status`, `grade`, `pii`, `kind`, `certified`) with one
    value or a list. The viewer's `policy` decides what is found: hidden products never, locked ones only by
    what a locked card shows (id, title, description, owner, domain), with no quality, freshness, tags, kind or
    PII flag; no policy is the steward's view of everything.
    """
    viewer = policy if policy is not None and not policy.unfiltered else None
    started = time.perf_counter()
    text = text if isinstance(text, str) else str(text or "")
    if sort not in SORTS:
        raise MeshError(f"unknown sort {sort!r}; sort by one of: {', '.join(SORTS)}")
    unknown = [k for k in filters if k not in FACETS]
    if unknown:
        raise MeshError(f"unknown search filter(s) {', '.join(unknown)}; filter by: {', '.join(FACETS)}")
    arrays = index.arrays()
    terms, corrections = index.expand(text, viewer)
    listed, locked = index.masks(viewer) if viewer is not None else (None, None)
    if text.strip():
        docs, scores = _scored(index, arrays, text, terms, viewer, listed, locked)
    else:
        docs = np.arange(arrays.n) if listed is None else np.flatnonzero(listed)
        scores = np.zeros(len(docs), dtype=np.float64)
    is_locked = locked[docs] if locked is not None else np.zeros(len(docs), dtype=bool)
    keep = _filter_mask(arrays, docs, is_locked, filters)
    if keep is not None:
        docs, scores, is_locked = docs[keep], scores[keep], is_locked[keep]
    facets = _counted(arrays, docs, is_locked)
    order = _order(arrays, docs, scores, is_locked, sort if text.strip() or sort != "relevance" else "title")
    total = len(docs)
    start = offset if offset >= 0 else max(0, total + offset)  # as DataFrame.slice reads an offset
    chosen = order[start:] if limit is None else order[start:start + max(0, limit)]
    stems = {index.stems.get(t) or index._stem(t) for t in terms}
    candidates = {w for stem in stems for w in index.words_of_stem.get(stem, ())}
    hits = [_hit(row, stems, index, viewer, candidates)
            for row in _rows(arrays, docs[chosen], scores[chosen], is_locked[chosen])]
    return SearchResults(query=text[:MAX_TEXT], hits=hits, total=total, facets=facets, sort=sort, terms=terms,
                         corrections=corrections, elapsed_ms=(time.perf_counter() - started) * 1000)


def _scored(index: SearchIndex, arrays: ProductArrays, text: str, terms: list[str], viewer: Policy | None,
            listed: np.ndarray | None, locked: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(documents, scores) matching `text` that this viewer may find: BM25 over every field (over a locked
    product's shown fields only), +100 for the exact id or name, + the bonus of a linked term the query names;
    a product linking such a term is found by it even when no word of the query is in its text."""
    docs, scores = index.hits(terms)
    if locked is not None and listed is not None:
        if locked.any():
            locked_docs, locked_scores = index.hits(terms, LOCKED_FIELDS)
            full = ~locked[docs]
            shown = locked[locked_docs]
            docs = np.concatenate([docs[full], locked_docs[shown]])
            scores = np.concatenate([scores[full], locked_scores[shown]])
        seen = listed[docs]
        docs, scores = docs[seen], scores[seen]
    exact_text = text.strip().lower()
    exact = np.zeros(arrays.n, dtype=np.float64)
    exact[[*arrays.docs_named.get(exact_text, ()), *([arrays.doc_of[exact_text]] if exact_text in arrays.doc_of
                                                    else ())]] = 100.0
    linking = _linking(index, text, viewer)
    bonus = np.zeros(arrays.n, dtype=np.float64)
    if linking:
        bonus[[arrays.doc_of[p] for p in linking]] = list(linking.values())
    scores = (scores + exact[docs]) + bonus[docs]
    if linking:
        found = np.zeros(arrays.n, dtype=bool)
        found[docs] = True
        missing = np.asarray([d for d in (arrays.doc_of[p] for p in linking) if not found[d]
                              and (listed is None or listed[d])], dtype=np.int64)
        docs = np.concatenate([docs, missing])
        scores = np.concatenate([scores, bonus[missing]])
    return docs, scores


def _filter_mask(arrays: ProductArrays, docs: np.ndarray, is_locked: np.ndarray,
                 filters: dict[str, Any]) -> np.ndarray | None:
    """Which of `docs` every facet filter keeps (None: no filter), reading a locked product as its card."""
    keep: np.ndarray | None = None
    for facet, wanted in filters.items():
        if wanted is None or wanted == [] or wanted == ():
            continue
        values = [wanted] if isinstance(wanted, (str, bool)) else list(wanted)
        if facet in LIST_FACETS:
            column = arrays.lists[facet]
            names = {str(v) for v in values}
            codes = [i for i, v in enumerate(column.coded.values) if v in names]
            having = np.zeros(arrays.n, dtype=bool)
            having[column.docs[np.isin(column.coded.codes, codes)]] = True
            ok = having[docs] & ~is_locked
        else:
            coded = arrays.scalar[facet]
            if facet in YES_NO:
                flags = {v if isinstance(v, bool) else str(v).lower() in ("yes", "true", "1") for v in values}
                codes = [i for i, v in enumerate(coded.values) if v in flags]
            else:
                names = {str(v) for v in values}
                codes = [i for i, v in enumerate(coded.values) if v in names]
            ok = np.isin(_facet_codes(arrays, facet, docs, is_locked), codes)
        keep = ok if keep is None else keep & ok
    return keep


def _facet_codes(arrays: ProductArrays, facet: str, docs: np.ndarray, is_locked: np.ndarray) -> np.ndarray:
    """The codes of a scalar facet for `docs`, as a viewer sees them (a locked product: grade locked, no kind
    or PII flag)."""
    codes = arrays.scalar[facet].codes[docs]
    if is_locked.any():
        if facet == "grade":
            codes = np.where(is_locked, arrays.locked_grade, codes)
        elif facet in LOCKED_NULL:
            codes = np.where(is_locked, -1, codes)
    return codes


def _counted(arrays: ProductArrays, docs: np.ndarray, is_locked: np.ndarray) -> dict[str, list[tuple[str, int]]]:
    """Value -> number of matching products, per facet, most frequent first (ties by value): one bincount
    over the documents' codes each (a list facet counts every element, as `facet_counts` explodes them)."""
    out: dict[str, list[tuple[str, int]]] = {}
    for facet in FACETS:
        if facet in LIST_FACETS:
            column = arrays.lists[facet]
            chosen = np.zeros(arrays.n, dtype=bool)
            chosen[docs[~is_locked]] = True
            out[facet] = column.coded.counted(column.coded.codes[chosen[column.docs]])
        else:
            out[facet] = arrays.scalar[facet].counted(_facet_codes(arrays, facet, docs, is_locked))
    return out


def _order(arrays: ProductArrays, docs: np.ndarray, scores: np.ndarray, is_locked: np.ndarray,
           sort: str) -> np.ndarray:
    """Positions of `docs` in result order: the sort's keys descending with nulls last, then the id (a
    locked product has no quality or freshness)."""
    ident = arrays.id_rank[docs]
    if sort == "title":
        return np.lexsort((ident, arrays.domain_rank[docs]))
    keys: list[np.ndarray] = [ident, -scores]  # least significant first, as lexsort reads them
    if sort == "usage":
        keys.append(-arrays.queries[docs])
    elif sort == "quality":
        keys += _nulls_last(-arrays.quality[docs], arrays.quality_null[docs] | is_locked)
    elif sort == "freshness":
        keys += _nulls_last(-arrays.refreshed[docs], arrays.refreshed_null[docs] | is_locked)
    elif sort == "trust":
        keys += [*_nulls_last(-arrays.rating[docs], arrays.rating_null[docs]), -arrays.certified[docs]]
    return np.lexsort(keys)


def _nulls_last(values: np.ndarray, nulls: np.ndarray) -> list[np.ndarray]:
    """Two lexsort keys: the values, then (more significant) the null flag; nulls tie with each other."""
    return [np.where(nulls, 0.0, values), nulls]


def _rows(arrays: ProductArrays, docs: np.ndarray, scores: np.ndarray, is_locked: np.ndarray) -> list[dict[str, Any]]:
    """The table rows of the returned hits only, with their score, a locked one as `_for_viewer` shows it."""
    if not len(docs):
        return []
    rows = [arrays.row(doc) for doc in docs.tolist()]
    for row, score, hidden_fields in zip(rows, scores.tolist(), is_locked.tolist()):
        row["score"] = score
        if hidden_fields:
            row.update(grade=LOCKED, quality=None, refreshed_at=None, pii=None, kind=None, tags=[], terms=[])
    return rows


def product_hit(index: SearchIndex, product_id: str, policy: Policy | None = None) -> Hit:
    """What a result card shows for one product (grade, usage, refresh, trust), without a query; as
    `policy`'s viewer sees it (a locked card, or UnknownProduct for a hidden product)."""
    viewer = policy if policy is not None and not policy.unfiltered else None
    if viewer is not None:
        product_for(index.mesh, product_id, viewer)  # UnknownProduct, for a hidden id as for an unknown one
    table = index.table() if viewer is None else _for_viewer(index.table(), viewer)
    row = table.filter(pl.col("product_id") == product_id).with_columns(pl.lit(0.0).alias("score"))
    if row.is_empty():
        index.mesh.product(product_id)  # raises UnknownProduct
    return _hit(row.row(0, named=True), set(), index, viewer)


def _linking(index: SearchIndex, text: str, viewer: Policy | None) -> dict[str, float]:
    """Product -> its bonus, for the products linking a term the query names that this viewer may find by it
    (a locked product only by a term on the product itself, never by one on its columns)."""
    out: dict[str, float] = {}
    for found in index.term_matcher.match(text):
        on_product = index.term_product_level.get(found.id, set())
        for pid in index.term_products.get(found.id, ()):
            if viewer is None or pid in viewer.allowed or (pid in viewer.locked and pid in on_product):
                out[pid] = max(out.get(pid, 0.0), PRODUCT_TERM_BONUS if pid in on_product else TERM_BONUS)
    return out


def _term_links(mesh: DeclaredMesh) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Approved term id -> products linking it (on the product or a column); and -> on the product itself."""
    anywhere: dict[str, set[str]] = {}
    product_level: dict[str, set[str]] = {}
    for pid, product in mesh.products.items():
        for where, terms in badges(mesh, product).items():
            for t in terms:
                anywhere.setdefault(t.id, set()).add(pid)
                if where == "":
                    product_level.setdefault(t.id, set()).add(pid)
    return anywhere, product_level


def _for_viewer(table: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """Listed products only; a locked one keeps its card's fields and loses what it measures or declares."""
    if policy.hidden:  # every product is listed, locked or hidden: drop the (few) hidden ones
        table = table.filter(~pl.col("product_id").is_in(list(policy.hidden)))
    if not policy.locked:
        return table
    locked = pl.col("product_id").is_in(list(policy.locked))
    return table.with_columns(
        pl.when(locked).then(pl.lit(LOCKED)).otherwise(pl.col("grade")).alias("grade"),
        *[pl.when(locked).then(None).otherwise(pl.col(c)).alias(c) for c in ("quality", "refreshed_at", "pii", "kind")],
        pl.when(locked).then(pl.lit([], dtype=pl.List(pl.String))).otherwise(pl.col("tags")).alias("tags"),
        pl.when(locked).then(pl.lit([], dtype=pl.List(pl.String))).otherwise(pl.col("terms")).alias("terms"))


def facet_counts(table: pl.DataFrame) -> dict[str, list[tuple[str, int]]]:
    """Value -> number of matching products, per facet, most frequent first (ties by value). Counted in
    polars, ordered in Python: a frame operation per facet costs more than sorting even 2,000 terms' counts."""
    out: dict[str, list[tuple[str, int]]] = {}
    for facet in FACETS:
        column = LIST_FACETS.get(facet, facet)
        series = table[column].explode() if facet in LIST_FACETS else table[column]
        counts = series.drop_nulls().value_counts(name="n")
        values = counts[counts.columns[0]].to_list()
        names = [("yes" if v else "no") for v in values] if facet in YES_NO else [str(v) for v in values]
        out[facet] = sorted(zip(names, counts["n"].to_list()), key=lambda vc: (-vc[1], vc[0]))
    return out


def _hit(row: dict[str, Any], stems: set[str], index: SearchIndex, policy: Policy | None = None,
         candidates: set[str] | None = None) -> Hit:
    product = index.mesh.products[row["product_id"]]
    locked = policy is not None and policy.is_locked(product.id)
    snippet, where, marks = snippet_for(product, stems, index.stems, locked=locked,
                                        terms_text=index.glossary_text.get(product.id, ""), candidates=candidates)
    return Hit(product_id=row["product_id"], score=float(row["score"] or 0.0), title=product.title,
               domain=row["domain"], owner=row["owner"], description=product.description, grade=row["grade"],
               quality=row["quality"], queries=int(row["queries"] or 0), trend=row["trend"],
               refreshed_at=row["refreshed_at"], certified=bool(row["certified"]), rating=row["rating"],
               pii=bool(row["pii"]), kind=row["kind"] or "", status=row["status"], tags=list(row["tags"] or []),
               snippet=snippet, snippet_field=where, marks=marks, locked=locked)


def snippet_for(product: Any, stems: set[str], vocabulary_stems: dict[str, str],
                width: int = 160, locked: bool = False, terms_text: str = "",
                candidates: set[str] | None = None) -> tuple[str, str, list[tuple[int, int]]]:
    """The first field that holds a query word, cut around it, with the spans of the matching words (of a
    locked product, only the fields its card shows). `candidates`, the vocabulary words of `stems`, lets a field
    none of them is part of be skipped without reading its words."""
    fields: list[tuple[str, str]] = [("description", product.description), ("title", product.title)]
    if not locked:
        fields.append(("tags", ", ".join(product.tags)))
        fields.append(("terms", terms_text))
        fields += [(f"column {c.name}", f"{c.name}: {c.description}" if c.description else c.name)
                   for c in product.columns]
    fields += [("owner", product.owner), ("id", product.id)]
    if stems:
        for where, text in fields:
            if candidates is not None and not any(w in (text or "").lower() for w in candidates):
                continue  # a matching word is a substring of the lower-cased field: none can match here
            spans = [(m.start(), m.end()) for m in _LETTERS.finditer(text or "")
                     if vocabulary_stems.get(m.group().lower()) in stems]
            if spans:
                start = max(0, spans[0][0] - width // 3)
                end = min(len(text), start + width)
                cut = text[start:end]
                prefix = "…" if start else ""
                suffix = "…" if end < len(text) else ""
                shift = len(prefix) - start
                marks = [(a + shift, b + shift) for a, b in spans if a >= start and b <= end]
                return prefix + cut + suffix, where, marks
    text = product.description or product.title
    return (text[:width] + ("…" if len(text) > width else "")), "description", []


# ---------------------------------------------------------------------- building the index


def _documents(mesh: DeclaredMesh) -> pl.DataFrame:
    refreshed = _refresh_times(mesh)
    rows = []
    for pid, p in mesh.products.items():
        domain = mesh.domains.get(p.domain)
        linked = list({t.id: t for ts in badges(mesh, p).values() for t in ts}.values())
        rows.append({
            "product_id": pid, "name": p.name, "domain": p.domain, "owner": p.owner or "(no owner)",
            "status": "broken" if p.broken else str(p.descriptor.status), "kind": p.kind,
            "pii": bool(p.pii_columns), "tags": list(p.tags), "refreshed_at": refreshed.get(pid),
            "ident": pid.replace(".", " ").replace("_", " "),
            "title": p.title, "description": p.description, "tags_text": " ".join(p.tags),
            "owner_text": (p.owner or "").replace("@", " ").replace(".", " ").replace("_", " "),
            "domain_text": " ".join(dict.fromkeys(f"{p.domain.replace('_', ' ')} {domain.title if domain else ''}"
                                                  .lower().split())),
            "columns": " ".join(f"{c.name.replace('_', ' ')} {c.description}" for c in p.columns),
            "terms": [t.name for t in linked], "glossary": "; ".join(", ".join(labels(t)) for t in linked),
        })
    schema = {"product_id": pl.String, "name": pl.String, "domain": pl.String, "owner": pl.String,
              "status": pl.String, "kind": pl.String, "pii": pl.Boolean, "tags": pl.List(pl.String),
              "refreshed_at": pl.Datetime("us", "UTC"), "ident": pl.String, "title": pl.String,
              "description": pl.String, "tags_text": pl.String, "owner_text": pl.String,
              "domain_text": pl.String, "columns": pl.String, "terms": pl.List(pl.String), "glossary": pl.String}
    return pl.DataFrame(rows, schema=schema)  # `tags` and `owner` are facets; the index reads *_text


def _tantivy_index(docs: pl.DataFrame) -> tantivy.Index:
    """An in-memory Tantivy index of the text fields, one document per product, in `docs` order."""
    import tantivy  # heavy native library: loaded on the first search, not by `import catalog`

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("product_id", stored=True, tokenizer_name="raw")
    for name in FIELDS:
        builder.add_text_field(name, stored=False, tokenizer_name="en_stem")
    index = tantivy.Index(builder.build())
    writer = index.writer(heap_size=50_000_000, num_threads=1)
    for row in docs.select("product_id", *FIELDS).iter_rows(named=True):
        writer.add_document(tantivy.Document(**{k: [v or ""] for k, v in row.items()}))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    return index


def _refresh_times(mesh: DeclaredMesh) -> dict[str, datetime]:
    """When each product's data last changed (catalog.sources.refreshed_at): its source, a derived product's
    newest input."""
    out: dict[str, datetime] = {}
    for pid in mesh.products:
        value = refreshed_at(mesh, pid)
        if value is not None:
            out[pid] = datetime.fromtimestamp(value, timezone.utc)
    return out


def _signals(mesh: DeclaredMesh, quality_of: Frame, usage_of: Frame, trust_of: Frame) -> pl.DataFrame:
    """product_id, grade, quality, queries, trend, certified, rating: from the quality, usage and trust stores."""
    schema = {"product_id": pl.String, "grade": pl.String, "quality": pl.Float64, "checked_at": pl.String,
              "queries": pl.Int64, "trend": pl.String, "certified": pl.Boolean, "rating": pl.Float64}
    frame = pl.DataFrame({"product_id": list(mesh.products)}, schema={"product_id": pl.String})
    try:
        quality = pl.DataFrame(quality_of()).select(
            "product_id", "grade", pl.col("score").cast(pl.Float64).alias("quality"),
            pl.col("checked_at").cast(pl.String))
    except (MeshError, AttributeError, ImportError, pl.exceptions.PolarsError):
        quality = pl.DataFrame(schema={k: schema[k] for k in ("product_id", "grade", "quality", "checked_at")})
    try:
        usage = usage_of().select("product_id", "queries", pl.col("trend_label").alias("trend"))
    except (MeshError, AttributeError, ImportError, pl.exceptions.PolarsError):
        usage = pl.DataFrame(schema={k: schema[k] for k in ("product_id", "queries", "trend")})
    try:
        trust = trust_of().select("product_id", "certified", pl.col("rating_avg").alias("rating"))
    except (MeshError, AttributeError, ImportError, pl.exceptions.PolarsError):
        trust = pl.DataFrame(schema={k: schema[k] for k in ("product_id", "certified", "rating")})
    out = (frame.join(quality, on="product_id", how="left").join(usage, on="product_id", how="left")
           .join(trust, on="product_id", how="left"))
    return out.select([pl.col(k).cast(v) for k, v in schema.items()])
