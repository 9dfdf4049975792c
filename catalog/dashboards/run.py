"""Run a dashboard's tiles for one viewer: governed, filtered, cached, in parallel.

Each tile runs in the viewer's own governed session (from the `sessions` factory the facade passes,
`Mesh.session`), so masking and restricted products apply per viewer. Shared filters wrap the tile
query as a sqlglot subquery with a WHERE on the columns its result has. Results are cached per
(query + filters, role, grants, source fingerprints of the products read): opening a dashboard twice
does not rescan unchanged data, and a changed source file changes its fingerprint, so the next open reads it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol

import polars as pl
from sqlglot import exp

from catalog import sqlutil
from catalog.dashboards import export
from catalog.dashboards.model import (
    AuthorizePin,
    Dashboard,
    DashboardFilter,
    DashboardNotFound,
    Tile,
    TileSlot,
    dashboard_files,
    load_dashboards,
    pin_tile,
    save_dashboard,
)
from catalog.dashboards.result import TileResult
from catalog.descriptors.declared import DeclaredMesh
from catalog.errors import MeshError, QueryFailed, QueryRejected, SourceUnavailable
from catalog.sources import is_derived, modified_at
from catalog.descriptors.model import Problem
from catalog.state.cache import MeshCache
from catalog.state.store import StateStore, utc_now
from catalog.numbers import hours_text

if TYPE_CHECKING:
    from catalog.query.session import Session

__all__ = ["DashboardDesk", "FilterError", "TileResult", "condition", "effective_values",
           "filtered_sql"]

MAX_TILE_ROWS = 5_000
MAX_OPTIONS = 200
TILE_ALIAS = "tile"


class FilterError(MeshError):
    """A filter value that cannot apply (a date range that is not dates, a range that is not numbers)."""


class Sessions(Protocol):
    """Opens a viewer's governed session (`Mesh.session`)."""

    def __call__(self, role: str = ..., user: str | None = ...) -> "Session": ...


@dataclass(frozen=True)
class _Cached:
    frame: pl.DataFrame
    total_rows: int
    truncated: bool
    computed_at: datetime
    duration_ms: float


TILES = "dashboards.tiles"  # the MeshCache namespace of tile results and result columns
MAX_TILES = 512  # least recently used results go first


# ---------------------------------------------------------------- filters as SQL

def _as_date(value: Any, name: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise FilterError(f"filter {name!r}: {value!r} is not a date (use YYYY-MM-DD)") from None


def _as_number(value: Any, name: str) -> float | int | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        raise FilterError(f"filter {name!r}: {value!r} is not a number") from None


def _pair(value: Any, name: str) -> tuple[Any, Any]:
    if value is None:
        return None, None
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return value[0], value[1]
    raise FilterError(f"filter {name!r}: expected a [from, to] pair, got {value!r}")


def condition(spec: DashboardFilter, column: str, value: Any) -> exp.Expression | None:
    """The WHERE condition a filter value means on `column`; None when the value selects everything."""
    col = exp.column(column, table=TILE_ALIAS, quoted=True)
    if spec.kind == "select":
        values = [v for v in (value if isinstance(value, (list, tuple, set)) else [value]) if v not in (None, "")]
        return col.isin(*[exp.convert(v) for v in values]) if values else None
    low, high = _pair(value, spec.name)
    if spec.kind == "date_range":
        low, high = _as_date(low, spec.name), _as_date(high, spec.name)
        target: exp.Expression = exp.cast(col, "DATE")
        bound = lambda d: exp.cast(exp.convert(d.isoformat()), "DATE")  # noqa: E731
    else:
        low, high = _as_number(low, spec.name), _as_number(high, spec.name)
        target, bound = col, exp.convert
    parts = []
    if low is not None:
        parts.append(exp.GTE(this=target.copy(), expression=bound(low)))
    if high is not None:
        parts.append(exp.LTE(this=target.copy(), expression=bound(high)))
    return exp.and_(*parts) if parts else None


def filtered_sql(query: str, conditions: list[exp.Expression]) -> str:
    """`SELECT * FROM (<query>) AS tile WHERE ...`, built as a sqlglot tree (never by pasting strings)."""
    tree = sqlutil.parse_one_select(query)
    if not conditions:
        return tree.sql(sqlutil.DIALECT)
    wrapped = exp.select("*").from_(tree.subquery(TILE_ALIAS)).where(exp.and_(*conditions))
    return wrapped.sql(sqlutil.DIALECT)


def effective_values(board: Dashboard, values: dict[str, Any] | None) -> dict[str, Any]:
    """The viewer's filter values, falling back to each filter's declared default."""
    values = values or {}
    return {f.name: values.get(f.name, f.default) for f in board.filters}


# ---------------------------------------------------------------- running

class DashboardDesk:
    """`mesh.dashboards`: list, open, run, pin and export dashboards; holds the mesh's tile cache
    (one per mesh, shared by every viewer: entries are keyed by role, grants and fingerprints).

    It receives what it uses: the declared mesh, the state store (it owns `dashboard_views`), a session
    factory, the engine's source fingerprints and the rule of who may pin."""

    def __init__(self, mesh: DeclaredMesh, state: StateStore, sessions: Sessions,
                 fingerprint: Callable[[str], str | None], authorize: AuthorizePin,
                 cache: MeshCache, max_workers: int = 4):
        self.mesh = mesh
        self.state = state
        self.sessions = sessions
        self.fingerprint = fingerprint
        self.authorize = authorize
        self.cache = cache
        self.max_workers = max_workers
        self._listed: tuple[tuple, dict[str, Dashboard]] | None = None

    # ------------------------------------------------------------ files

    def list(self) -> dict[str, Dashboard]:
        """Every dashboard by id, with problems on each; read again whenever a dashboard file is added, removed
        or changed (a pin or a git pull shows at once), else served from memory: pages ask on every rerun."""
        signature = tuple((str(path), *_stamp(path)) for _, path in dashboard_files(self.mesh))
        if self._listed is None or self._listed[0] != signature:
            self._listed = (signature, load_dashboards(self.mesh))
        return self._listed[1]

    def get(self, dashboard_id: str) -> Dashboard:
        boards = self.list()
        if dashboard_id not in boards:
            known = ", ".join(boards) or "none yet"
            raise DashboardNotFound(f"no dashboard {dashboard_id!r} in mesh {self.mesh.name!r} (dashboards: {known})")
        return boards[dashboard_id]

    def pin(self, dashboard_id: str, tile: Tile, title: str | None = None, user: str | None = None) -> Path:
        """Pin a tile, as `user`, to a new or existing dashboard `<domain>.<name>`; returns the YAML file written.
        A new dashboard belongs to whoever pins; an existing one takes pins from its owner and editors."""
        return pin_tile(self.mesh, self.authorize, dashboard_id, tile, title, user=user)

    def save(self, board: Dashboard, user: str | None = None) -> Path:
        """Write a whole (valid) dashboard back as `user`, its owner or an editor (see `save_dashboard`)."""
        return save_dashboard(self.mesh, self.authorize, board, user=user)

    def problems(self) -> list[Problem]:
        return [p for board in self.list().values() for p in board.problems]

    # ------------------------------------------------------------ last view (state store)

    def record_view(self, dashboard_id: str, user: str | None, role: str) -> None:
        with self.state.transaction() as con:
            con.execute("INSERT INTO dashboard_views (ts, dashboard_id, user, role) VALUES (?,?,?,?)",
                        (utc_now(), dashboard_id, user or "anonymous", role))

    def last_views(self) -> dict[str, tuple[str, str]]:
        """dashboard id -> (when, who) of its latest view."""
        rows = self.state.query("SELECT dashboard_id, ts, user FROM dashboard_views v WHERE id = "
                                     "(SELECT max(id) FROM dashboard_views w WHERE w.dashboard_id = v.dashboard_id)")
        return {r[0]: (r[1], r[2]) for r in rows}

    def catalog(self) -> pl.DataFrame:
        """One row per dashboard: id, domain, title, owner, tiles, broken tiles, last view and who."""
        views = self.last_views()
        rows = [{"id": b.id, "domain": b.domain, "title": b.title, "owner": b.owner, "tiles": len(b.slots),
                 "broken_tiles": sum(s.broken for s in b.slots) + int(b.unreadable),
                 "last_viewed": views.get(b.id, (None, None))[0], "last_viewed_by": views.get(b.id, (None, None))[1]}
                for b in self.list().values()]
        return pl.DataFrame(rows, schema={"id": pl.String, "domain": pl.String, "title": pl.String,
                                          "owner": pl.String, "tiles": pl.Int64, "broken_tiles": pl.Int64,
                                          "last_viewed": pl.String, "last_viewed_by": pl.String})

    # ------------------------------------------------------------ running

    def _fingerprints(self, products: frozenset[str]) -> tuple[tuple[str, str], ...] | None:
        out = []
        for product_id in sorted(products):
            fingerprint = self.fingerprint(product_id)
            if fingerprint is None:
                return None  # no cheap change marker (a live database): never served from the cache
            out.append((product_id, fingerprint))
        return tuple(out)

    def _sources(self, products: frozenset[str] | list[str]) -> set[str]:
        """The products whose sources these products read, through derived products' upstreams."""
        seen: set[str] = set()
        todo = list(products)
        while todo:
            product_id = todo.pop()
            if product_id in seen or product_id not in self.mesh.products:
                continue
            seen.add(product_id)
            todo.extend(self.mesh.upstreams(product_id))
        return {p for p in seen if not is_derived(self.mesh.products[p])}

    def _freshness(self, result: TileResult) -> None:
        now = time.time()
        newest = None
        for product_id in sorted(self._sources(result.products)):
            product = self.mesh.products[product_id]
            mtime = modified_at(product)
            if mtime is None:
                continue
            newest = mtime if newest is None else max(newest, mtime)
            hours = product.descriptor.sla.freshness_hours
            if hours and (now - mtime) / 3600 > hours:
                result.stale.append(f"{product_id} past its SLA of {hours_text(hours)}")
        result.data_as_of = datetime.fromtimestamp(newest, timezone.utc) if newest is not None else None

    def _blocked(self, session: "Session", query: str) -> str | None:
        """Why this viewer cannot run the tile at all, in their words (removed or unseen product)."""
        tree = sqlutil.parse_one_select(query)
        visible = set(session.database.visible)
        hidden = getattr(self.mesh.descriptor, "discovery", "listed") == "hidden"
        for table in sorted(sqlutil.referenced_tables(tree)):
            product = self.mesh.products.get(table)
            if product is None or (hidden and table not in visible and not product.broken):  # hidden: as unknown
                return f"This tile reads {table}, which is no longer a product of this mesh (removed or renamed)."
            if table not in visible:
                if self.mesh.products[table].broken:
                    return f"This tile reads {table}, which is broken: {self.mesh.problem_summary(table)}"
                return (f"This tile reads {table}, which your role ({session.role}) may not see. "
                        "Ask its owner for access on the Access & alerts page.")
        return None

    def _columns(self, session: "Session", query: str, key: tuple[Any, ...] | None) -> list[str]:
        """The tile result's column names (a DESCRIBE of the vetted query: binds it, scans nothing)."""
        cache_key = ("columns", *key) if key else None
        if cache_key and (hit := self.cache.peek(TILES, cache_key)) is not None:
            return hit
        if not hasattr(session.database, "cursor"):  # another engine (Spark): ask it for an empty result
            tree = exp.select("*").from_(sqlutil.parse_one_select(query).subquery(TILE_ALIAS)).limit(0)
            columns = session.run(tree.sql(sqlutil.DIALECT), max_rows=0).frame.columns
            if cache_key:
                self.cache.put(TILES, cache_key, columns, limit=MAX_TILES)
            return columns
        vetted = session.vet(query)
        try:
            session.database.ensure(set(vetted.products))
            cursor = session.database.cursor()
            try:
                rows = cursor.execute(f"DESCRIBE {vetted.tree.sql('duckdb')}").fetchall()
            finally:
                cursor.close()
        except SourceUnavailable as exc:
            raise QueryFailed(f"A product in this tile cannot be read: {exc}") from None
        except Exception as exc:  # duckdb.Error: the binder names the missing column or product
            message = str(exc).split("\n\nLINE")[0].strip()
            raise QueryFailed(f"The query failed: {message}") from None
        columns = [row[0] for row in rows]
        if cache_key:
            self.cache.put(TILES, cache_key, columns, limit=MAX_TILES)
        return columns

    def run_tile(self, board: Dashboard, slot: TileSlot, role: str, user: str | None,
                 values: dict[str, Any] | None = None) -> TileResult:
        """One tile for one viewer; a tile that cannot run carries a message instead of raising."""
        result = TileResult(slot=slot)
        if slot.tile is None or slot.broken:
            result.error = f"This tile cannot be shown: {slot.message()}"
            return result
        tile = slot.tile
        values = effective_values(board, values)
        try:
            session = self.sessions(role=role, user=user)
            if (blocked := self._blocked(session, tile.query)) is not None:
                result.error = blocked
                return result
            vetted = session.vet(tile.query)
            result.products = sorted(vetted.products)
            fingerprints = self._fingerprints(vetted.products)
            base_key = ((tile.query, role, session.database.grants, fingerprints)
                        if fingerprints is not None else None)
            columns = self._columns(session, tile.query, base_key)
            conditions = []
            for spec in board.filters:
                bound = tile.filters.get(spec.name)
                column = bound or spec.target
                if column not in columns:
                    if bound:
                        result.error = (f"The filter {spec.name!r} is bound to the column {bound!r}, which this "
                                        f"tile's result does not have (it has {', '.join(columns)}). Fix "
                                        f"tiles[{slot.index}].filters in {board.path.name}.")
                        return result
                    result.not_applied.append(spec.name)
                    continue
                where = condition(spec, column, values.get(spec.name))
                if where is not None:
                    conditions.append(where)
                    result.applied.append(spec.name)
            result.sql = filtered_sql(tile.query, conditions)
            key = ("rows", result.sql, role, session.database.grants, fingerprints) if fingerprints is not None else None
            hit: _Cached | None = self.cache.peek(TILES, key) if key else None
            if hit is None:
                ran = session.run(result.sql, max_rows=MAX_TILE_ROWS)
                hit = _Cached(ran.frame, ran.total_rows, ran.truncated, datetime.now(timezone.utc), ran.duration_ms)
                if key:
                    self.cache.put(TILES, key, hit, limit=MAX_TILES)
            else:
                result.cached = True
                session.record_cached(result.sql, hit.total_rows)
            result.frame, result.total_rows, result.truncated = hit.frame, hit.total_rows, hit.truncated
            result.computed_at, result.duration_ms = hit.computed_at, hit.duration_ms
            self._freshness(result)
        except (QueryRejected, QueryFailed, FilterError, MeshError) as exc:
            result.error = str(exc)
        return result

    def run(self, board: Dashboard, role: str, user: str | None, values: dict[str, Any] | None = None,
            on_tile: Callable[[TileResult, int, int], None] | None = None) -> list[TileResult]:
        """Every tile, in parallel; `on_tile(result, done, total)` is called in the caller's thread as each
        finishes (for a progress bar). Results come back in display order."""
        slots = board.tiles
        results: dict[int, TileResult] = {}
        workers = max(1, min(self.max_workers, len(slots)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tile") as pool:
            futures = {pool.submit(self.run_tile, board, slot, role, user, values): slot for slot in slots}
            for done, future in enumerate(as_completed(futures), start=1):
                result = future.result()
                results[result.index] = result
                if on_tile is not None:
                    on_tile(result, done, len(slots))
        return [results[slot.index] for slot in slots]

    def filter_options(self, board: Dashboard, spec: DashboardFilter, role: str, user: str | None) -> list[Any]:
        """Choices of a select filter: its declared options, else the distinct values of the first tile
        whose result has its column (in the viewer's session, so masked values stay masked)."""
        if spec.options is not None:
            return list(spec.options)
        session = self.sessions(role=role, user=user)
        for slot in board.tiles:
            if slot.tile is None or slot.broken or self._blocked(session, slot.tile.query):
                continue
            column = slot.tile.filters.get(spec.name) or spec.target
            try:
                vetted = session.vet(slot.tile.query)
                fingerprints = self._fingerprints(vetted.products)
                base = ((slot.tile.query, role, session.database.grants, fingerprints)
                        if fingerprints is not None else None)
                if column not in self._columns(session, slot.tile.query, base):
                    continue
                key = ("options", column, *base) if base else None
                if key and (hit := self.cache.peek(TILES, key)) is not None:
                    return hit
                col = exp.column(column, table=TILE_ALIAS, quoted=True)
                tree = (exp.select(col).distinct().from_(sqlutil.parse_one_select(slot.tile.query).subquery(TILE_ALIAS))
                        .where(col.is_(exp.null()).not_()).order_by(col).limit(MAX_OPTIONS))
                options = session.sql(tree.sql(sqlutil.DIALECT)).to_series().to_list()
            except MeshError:
                continue
            if key:
                self.cache.put(TILES, key, options, limit=MAX_TILES)
            return options
        return []

    def export_html(self, board: Dashboard, role: str, user: str | None, path: Any = None,
                    values: dict[str, Any] | None = None) -> str:
        """The dashboard as one self-contained HTML file (charts as inline SVG) for this viewer."""
        return export.export_html(board, self.run(board, role, user, values), role, user, path, values)

    def export_data(self, board: Dashboard, folder: Any, role: str, user: str | None, fmt: str = "csv",
                    values: dict[str, Any] | None = None) -> dict[str, Any]:
        """One CSV or Parquet file per tile in `folder` (tile title -> path, or why that tile could not run)."""
        return export.export_data(board, folder, fmt,
                                  lambda slot, path: self.export_tile(board, slot, role, user, path, fmt, values))

    def export_tile(self, board: Dashboard, slot: TileSlot, role: str, user: str | None, path: Any,
                    fmt: str = "csv", values: dict[str, Any] | None = None) -> int:
        """Stream the tile's full (filtered, governed) result to CSV or Parquet; returns the row count."""
        result = self.run_tile(board, slot, role, user, values)
        if result.error:
            raise MeshError(f"{board.id} tile {slot.title!r}: {result.error}")
        return self.sessions(role=role, user=user).export(result.sql, path, fmt)


def _stamp(path: Path) -> tuple[int, int]:
    """(mtime in ns, size) of a file, or (-1, -1) once it is gone."""
    try:
        stat = path.stat()
    except OSError:
        return -1, -1
    return stat.st_mtime_ns, stat.st_size
