"""Dashboards: workbench charts pinned into shared YAML files a domain reviews in git like a product.

A dashboard is `<domain>/dashboards/<name>.yaml` (title, owner, description, shared filters, and
tiles: a query, a chart spec, a size and an order); its id is `<domain>.<name>`. Loading never
raises for bad content: a broken tile or filter is a `Problem` with file:line and the rest still
loads. Running tiles lives in `catalog.dashboards.run`, exports in `catalog.dashboards.export`.
Everything here reads the declared mesh (`DeclaredMesh`) only; who may write a dashboard is decided by the
`authorize` callable the caller passes (the facade wires `catalog.access.authority.check_dashboard_pin`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from catalog import sqlutil
from catalog.charts import ChartSpec
from catalog.errors import MeshError
from catalog.descriptors.model import NAME_PATTERN, NAME_RE, Problem
from catalog.text import check_text, title_field
from catalog.descriptors.declared import DeclaredMesh
from catalog.descriptors.yamlio import (YamlDocument, YamlError, dump_yaml, field_errors, read_yaml, write_atomic,
                                        slug as file_slug)

FOLDER = "dashboards"
GRID_UNITS = 4
SIZES: dict[str, int] = {"small": 1, "medium": 2, "large": 3, "full": 4}  # quarters of a grid row
Size = Literal["small", "medium", "large", "full"]
FilterKind = Literal["select", "date_range", "range"]


class DashboardNotFound(MeshError):
    """No dashboard with that id in the mesh."""


class AuthorizePin(Protocol):
    """Who may pin to (or save) a dashboard: returns the acting user, or raises AccessDenied (audited)."""

    def __call__(self, user: str | None, dashboard_id: str, owner: str | None, editors: list[str],
                 exists: bool, action: str = "dashboard.pin") -> str: ...


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DashboardFilter(_Strict):
    """A shared filter: applied to every tile whose result has `column` (or the column a tile binds it to)."""

    name: str = Field(pattern=NAME_PATTERN)
    column: str | None = Field(default=None, description="result column it filters; defaults to the name")
    kind: FilterKind = "select"
    label: str = ""
    options: list[str | int | float] | None = Field(default=None, description="choices; else read from a tile")
    default: Any = None

    @model_validator(mode="after")
    def _default_fits_kind(self) -> "DashboardFilter":
        value = self.default
        if value is None or self.kind == "select":
            return self
        if not (isinstance(value, list) and len(value) == 2):
            raise ValueError(f"a {self.kind} default is a [from, to] pair, e.g. [2026-01-01, 2026-03-31]")
        for bound in value:
            if bound is None:
                continue
            if self.kind == "date_range":
                try:
                    date.fromisoformat(str(bound))
                except ValueError:
                    raise ValueError(f"{bound!r} is not a date (use YYYY-MM-DD)") from None
            elif not isinstance(bound, (int, float)) or isinstance(bound, bool):
                raise ValueError(f"{bound!r} is not a number")
        return self

    @property
    def target(self) -> str:
        return self.column or self.name

    @property
    def caption(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()


class Tile(_Strict):
    """One pinned chart: its governed query, how to draw it, and where it sits in the grid."""

    title: str
    query: str
    chart: ChartSpec | None = Field(default=None, description="no chart: the tile shows a table")
    size: Size = "medium"
    order: int = 0
    description: str = ""
    filters: dict[str, str] = Field(default_factory=dict,
                                    description="filter name -> this tile's column, when it is named differently")

    @field_validator("title")
    @classmethod
    def _one_line_title(cls, value: str) -> str:
        return title_field(value, "tile title")

    @field_validator("query")
    @classmethod
    def _one_select(cls, value: str) -> str:
        try:
            sqlutil.parse_one_select(value)
        except sqlutil.SqlParseError as exc:
            where = f" (query line {exc.line})" if exc.line else ""
            raise ValueError(f"the query is not one SELECT{where}: {exc}") from None
        return value

    @property
    def units(self) -> int:
        return SIZES[self.size]


class DashboardDescriptor(_Strict):
    title: str
    owner: str = ""
    editors: list[str] = Field(default_factory=list, description="who besides the owner may pin to it")
    description: str = ""
    filters: list[Any] = Field(default_factory=list)
    tiles: list[Any] = Field(default_factory=list)

    @field_validator("title")
    @classmethod
    def _one_line_title(cls, value: str) -> str:
        return title_field(value, "dashboard title")


@dataclass
class TileSlot:
    """A tile as written: `tile` is None when it is broken, and `problems` say why, with their lines."""

    index: int
    title: str
    line: int | None
    tile: Tile | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def broken(self) -> bool:
        return self.tile is None or any(p.severity == "error" for p in self.problems)

    @property
    def order(self) -> int:
        return self.tile.order if self.tile else self.index

    def message(self) -> str:
        return "; ".join(str(p) for p in self.problems if p.severity == "error")


@dataclass
class Dashboard:
    domain: str
    name: str
    path: Path
    title: str
    owner: str = ""
    description: str = ""
    editors: list[str] = field(default_factory=list)
    filters: list[DashboardFilter] = field(default_factory=list)
    slots: list[TileSlot] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unreadable: bool = False

    @property
    def id(self) -> str:
        return f"{self.domain}.{self.name}"

    @property
    def tiles(self) -> list[TileSlot]:
        """Every tile (broken ones too) in display order."""
        return sorted(self.slots, key=lambda s: (s.order, s.index))

    def slot(self, index: int) -> TileSlot:
        for slot in self.slots:
            if slot.index == index:
                return slot
        raise DashboardNotFound(f"dashboard {self.id} has no tile #{index}")

    def filter(self, name: str) -> DashboardFilter | None:
        return next((f for f in self.filters if f.name == name), None)

    def rows(self) -> list[list[TileSlot]]:
        """Tiles packed into grid rows of GRID_UNITS, in order: a tile that does not fit starts a new row."""
        rows: list[list[TileSlot]] = []
        used = GRID_UNITS
        for slot in self.tiles:
            units = slot.tile.units if slot.tile else SIZES["medium"]
            if used + units > GRID_UNITS:
                rows.append([])
                used = 0
            rows[-1].append(slot)
            used += units
        return rows


# ---------------------------------------------------------------- loading

def _problem(path: Path, doc: YamlDocument | None, loc: tuple[Any, ...], message: str,
             severity: str = "error") -> Problem:
    line = doc.line_of(loc) if doc is not None else None
    return Problem(path=str(path), line=line, field=".".join(str(p) for p in loc), message=message,
                   severity=severity)  # type: ignore[arg-type]


def _validation_problems(path: Path, doc: YamlDocument, base: tuple[Any, ...], error: ValidationError,
                         data: Any) -> list[Problem]:
    return [Problem(path=str(path), line=e.line, field=e.field, message=e.message)
            for e in field_errors(error, doc, path, data, base)]


def load_dashboard(mesh: DeclaredMesh, path: Path, domain: str | None = None) -> Dashboard:
    """Read one dashboard file; never raises for bad content (see `Dashboard.problems`)."""
    path = Path(path)
    domain = domain or path.parent.parent.name
    name = path.stem
    owner = mesh.domains[domain].owner if domain in mesh.domains else ""
    board = Dashboard(domain=domain, name=name, path=path, title=name.replace("_", " ").title(), owner=owner)
    if not NAME_RE.match(name):
        board.problems.append(Problem(path=str(path), line=1, field="", message=f"file name {name!r} must be "
                                      "lower-case letters, digits and _ (it is the dashboard's id)"))
    try:
        doc = read_yaml(path)
    except (YamlError, OSError) as exc:
        board.unreadable = True
        board.problems.append(Problem(path=str(path), line=getattr(exc, "line", None), field="",
                                      message=f"invalid YAML: {exc}"))
        return board
    if not isinstance(doc.data, dict):
        board.unreadable = True
        board.problems.append(_problem(path, doc, (), "expected a mapping (title, owner, tiles, ...) at the top"))
        return board
    top = {k: v for k, v in doc.data.items() if k not in ("filters", "tiles")}
    try:
        head = DashboardDescriptor.model_validate({**top, "filters": [], "tiles": []})
    except ValidationError as exc:
        board.problems.extend(_validation_problems(path, doc, (), exc, doc.data))
        head = None
    if head is not None:
        board.title, board.description = head.title, head.description
        board.owner = head.owner or owner
        board.editors = list(head.editors)
    raw_filters, raw_tiles = doc.data.get("filters") or [], doc.data.get("tiles") or []
    for key, raw in (("filters", raw_filters), ("tiles", raw_tiles)):
        if not isinstance(raw, list):
            board.problems.append(_problem(path, doc, (key,), f"{key} must be a list"))
    if isinstance(raw_filters, list):
        _load_filters(board, doc, raw_filters)
    if isinstance(raw_tiles, list):
        for index, raw in enumerate(raw_tiles):
            board.slots.append(_load_tile(mesh, board, doc, index, raw))
            board.problems.extend(board.slots[-1].problems)
    return board


def _load_filters(board: Dashboard, doc: YamlDocument, raw_filters: list[Any]) -> None:
    for index, raw in enumerate(raw_filters):
        try:
            spec = DashboardFilter.model_validate(raw)
        except ValidationError as exc:
            board.problems.extend(_validation_problems(board.path, doc, ("filters", index), exc, raw))
            continue
        if board.filter(spec.name):
            board.problems.append(_problem(board.path, doc, ("filters", index, "name"),
                                           f"filter {spec.name!r} is declared twice"))
            continue
        board.filters.append(spec)


def _load_tile(mesh: DeclaredMesh, board: Dashboard, doc: YamlDocument, index: int, raw: Any) -> TileSlot:
    loc = ("tiles", index)
    title = str(raw.get("title") or f"tile {index + 1}") if isinstance(raw, dict) else f"tile {index + 1}"
    slot = TileSlot(index=index, title=title, line=doc.line_of(loc), tile=None)
    try:
        slot.tile = Tile.model_validate(raw)
    except ValidationError as exc:
        slot.problems = _validation_problems(board.path, doc, loc, exc, raw)
        return slot
    for name in slot.tile.filters:
        if board.filter(name) is None:
            declared = ", ".join(f.name for f in board.filters) or "none"
            slot.problems.append(_problem(board.path, doc, loc + ("filters", name),
                                          f"binds the filter {name!r}, which this dashboard does not declare "
                                          f"(declared: {declared})"))
    tree = sqlutil.parse_one_select(slot.tile.query)
    for table in sorted(sqlutil.referenced_tables(tree)):
        if table not in mesh.products:
            slot.problems.append(_problem(board.path, doc, loc + ("query",),
                                          f"reads {table}, which is not a product of this mesh (removed or "
                                          "renamed?); fix the query or remove the tile"))
        elif mesh.products[table].broken:
            slot.problems.append(_problem(board.path, doc, loc + ("query",),
                                          f"reads {table}, which is broken: {mesh.problem_summary(table)}",
                                          severity="warning"))
    return slot


def dashboard_files(mesh: DeclaredMesh) -> list[tuple[str, Path]]:
    """(domain, path) of every dashboard file in the mesh's domains, sorted."""
    out = []
    for domain in sorted(mesh.domains):
        folder = mesh.root / domain / FOLDER
        if folder.is_dir():
            out.extend((domain, p) for p in sorted(folder.glob("*.y*ml")))
    return out


def load_dashboards(mesh: DeclaredMesh) -> dict[str, Dashboard]:
    """Every dashboard of the mesh by id; problems (with file:line) are on each dashboard."""
    boards: dict[str, Dashboard] = {}
    for domain, path in dashboard_files(mesh):
        board = load_dashboard(mesh, path, domain)
        if board.id in boards:
            board.problems.append(Problem(path=str(path), line=1, field="", message=f"duplicate dashboard id "
                                          f"{board.id!r}; also defined in {boards[board.id].path}"))
            continue
        boards[board.id] = board
    return boards


# ---------------------------------------------------------------- writing

def tile_data(tile: Tile) -> dict[str, Any]:
    """A tile as it is written in YAML (defaults left out, the query as a block)."""
    data: dict[str, Any] = {"title": tile.title}
    if tile.description:
        data["description"] = tile.description
    data["query"] = tile.query.strip() + "\n"
    if tile.chart is not None:
        data["chart"] = tile.chart.model_dump(exclude_none=True)
    data["size"] = tile.size
    data["order"] = tile.order
    if tile.filters:
        data["filters"] = dict(tile.filters)
    return data


def write_dashboard(path: Path, data: dict[str, Any]) -> Path:
    """Write a dashboard file atomically (temp file + rename): a crash leaves the old file or the new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(path, dump_yaml(data))


def dashboard_path(mesh: DeclaredMesh, dashboard_id: str) -> Path:
    domain, _, name = dashboard_id.partition(".")
    if domain not in mesh.domains:
        raise MeshError(f"cannot place dashboard {dashboard_id!r}: no domain {domain!r} in mesh {mesh.name!r} "
                        f"(domains: {', '.join(sorted(mesh.domains))})")
    if not NAME_RE.match(name or ""):
        raise MeshError(f"dashboard name {name!r} must be lower-case letters, digits and _, e.g. customer_360")
    return mesh.root / domain / FOLDER / f"{name}.yaml"


def save_dashboard(mesh: DeclaredMesh, authorize: AuthorizePin, board: Dashboard, user: str | None = None) -> Path:
    """Write a whole (valid) dashboard back as `user` (default: the local user), who must be the owner or an
    editor the file on disk names; refuses one whose file had broken tiles, so nothing is lost."""
    on_disk = load_dashboard(mesh, board.path, board.domain) if Path(board.path).exists() else None
    authorize(user, board.id, on_disk.owner if on_disk else None, on_disk.editors if on_disk else [],
              exists=on_disk is not None, action="dashboard.save")
    broken = [s for s in board.slots if s.tile is None]
    if broken or board.unreadable:
        raise MeshError(f"{board.path}: has broken content that saving would drop; fix the file first")
    data: dict[str, Any] = {"title": board.title, "owner": board.owner}
    if board.editors:
        data["editors"] = list(board.editors)
    if board.description:
        data["description"] = board.description
    if board.filters:
        data["filters"] = [f.model_dump(exclude_none=True, exclude_defaults=True) | {"name": f.name}
                           for f in board.filters]
    data["tiles"] = [tile_data(s.tile) for s in board.tiles if s.tile is not None]
    return write_dashboard(board.path, data)


def slug(title: str) -> str:
    """A dashboard name from a title: 'Customer 360 / Risk' -> 'customer_360_risk'."""
    return file_slug(title, "_", default="dashboard", letter_first=True)


def pin_tile(mesh: DeclaredMesh, authorize: AuthorizePin, dashboard_id: str, tile: Tile, title: str | None = None,
             user: str | None = None) -> Path:
    """Add `tile` to the dashboard as `user` (default: the local user), creating it, titled `title` and owned
    by `user`, when it does not exist yet. Pinning to an existing one needs its owner or an editor it names
    (catalog.access.authority; a refusal is audited and writes nothing).

    The file is edited as YAML data, not re-rendered from the model, so tiles that are broken today are kept.
    """
    path = dashboard_path(mesh, dashboard_id)
    domain = dashboard_id.partition(".")[0]
    if path.exists():
        try:
            data = read_yaml(path).data
        except YamlError as exc:
            raise MeshError(f"{path}:{exc.line}: cannot pin to this dashboard, its YAML is invalid ({exc}); "
                            "fix it first") from None
        if not isinstance(data, dict) or not isinstance(data.get("tiles", []) or [], list):
            raise MeshError(f"{path}: cannot pin to this dashboard: it is not a mapping with a list of tiles")
        editors = data.get("editors") if isinstance(data.get("editors"), list) else []
        board_owner = data.get("owner") if isinstance(data.get("owner"), str) else None
        if not board_owner and domain in mesh.domains:
            board_owner = mesh.domains[domain].owner
        authorize(user, dashboard_id, board_owner, [e for e in editors if isinstance(e, str)], exists=True)
    else:
        who = authorize(user, dashboard_id, None, [], exists=False)
        data = {"title": check_text(title or dashboard_id.partition(".")[2].replace("_", " ").title(),
                                    "dashboard title", 200),
                "owner": who, "tiles": []}
    tiles = list(data.get("tiles") or [])
    orders = [t.get("order", i) for i, t in enumerate(tiles) if isinstance(t, dict)]
    pinned = tile.model_copy(update={"order": max([o for o in orders if isinstance(o, int)], default=-1) + 1})
    data["tiles"] = [*tiles, tile_data(pinned)]
    return write_dashboard(path, data)
