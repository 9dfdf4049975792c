"""Workbench notebooks: ordered cells of governed SQL (each with an optional chart) and markdown notes.

A notebook is a small YAML file a person can read and diff. Example notebooks ship with a mesh in
`<mesh>/notebooks/*.yaml` (written by the sample generator); a user's saved notebooks live in the
mesh's state folder (`<state>/notebooks/<user>/<slug>.yaml`), never among the descriptors. The store
and the history receive that folder, not the mesh.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from catalog.access.identity import ANONYMOUS, normalize_user
from catalog.charts import ChartSpec
from catalog.descriptors.declared import DeclaredMesh
from catalog.errors import MeshError
from catalog.descriptors.model import Problem
from catalog.text import title_field
from catalog.descriptors.yamlio import DocumentInvalid, dump_yaml, load_file, load_text, slug as file_slug, write_atomic

if TYPE_CHECKING:
    from catalog.query.session import QueryResult, Session

EXAMPLES_FOLDER = "notebooks"
NOTEBOOK_TOP = "a mapping with title and cells"  # what the top of a notebook file is


class NotebookError(MeshError):
    """A notebook file that cannot be read, or a cell that does not exist; the message says where."""


def _new_id() -> str:
    return uuid.uuid4().hex[:8]


class Cell(BaseModel):
    """One cell: governed SQL (with the chart drawn from its result) or markdown."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=_new_id)
    kind: Literal["sql", "markdown"] = "sql"
    source: str = ""
    title: str | None = None
    chart: ChartSpec | None = None

    @field_validator("title")
    @classmethod
    def _one_line_title(cls, value: str | None) -> str | None:
        return title_field(value, "cell title")


class Notebook(BaseModel):
    """An ordered list of cells, with a title; `role` is the role its queries were written for."""

    model_config = ConfigDict(extra="forbid")

    title: str
    description: str = ""
    role: str | None = None
    cells: list[Cell] = Field(default_factory=list)

    @field_validator("title")
    @classmethod
    def _title_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a notebook needs a title")
        return title_field(value.strip(), "notebook title")

    @property
    def slug(self) -> str:
        return slugify(self.title)

    # ---------------------------------------------------------------- editing

    def index(self, cell_id: str) -> int:
        for i, cell in enumerate(self.cells):
            if cell.id == cell_id:
                return i
        raise NotebookError(f"no cell {cell_id!r} in notebook {self.title!r}")

    def cell(self, cell_id: str) -> Cell:
        return self.cells[self.index(cell_id)]

    def add(self, source: str = "", kind: Literal["sql", "markdown"] = "sql", after: str | None = None,
            chart: ChartSpec | None = None, title: str | None = None) -> Cell:
        """Add a cell at the end, or right after the cell `after`; returns it."""
        cell = Cell(kind=kind, source=source, chart=chart, title=title)
        position = len(self.cells) if after is None else self.index(after) + 1
        self.cells.insert(position, cell)
        return cell

    def move(self, cell_id: str, offset: int) -> None:
        """Move a cell up (negative offset) or down; it stops at either end."""
        i = self.index(cell_id)
        j = max(0, min(len(self.cells) - 1, i + offset))
        self.cells.insert(j, self.cells.pop(i))

    def remove(self, cell_id: str) -> Cell:
        return self.cells.pop(self.index(cell_id))

    def sql_cells(self) -> list[Cell]:
        return [c for c in self.cells if c.kind == "sql" and c.source.strip()]

    # ---------------------------------------------------------------- files

    def to_yaml(self) -> str:
        data: dict = {"title": self.title}
        if self.description:
            data["description"] = self.description
        if self.role:
            data["role"] = self.role
        data["cells"] = []
        for cell in self.cells:
            out: dict = {"title": cell.title} if cell.title else {}
            if cell.kind != "sql":
                out["kind"] = cell.kind
            out["source"] = cell.source
            if cell.chart is not None:
                out["chart"] = cell.chart.model_dump(exclude_none=True)
            data["cells"].append(out)
        return dump_yaml(data)

    @classmethod
    def from_yaml(cls, text: str, path: str = "<notebook>") -> "Notebook":
        """Parse a notebook; NotebookError names the file, line and field of the first problem."""
        try:
            return load_text(cls, text, path, what=NOTEBOOK_TOP)
        except DocumentInvalid as exc:
            raise NotebookError(str(exc)) from None

    @classmethod
    def read(cls, path: Path) -> "Notebook":
        """A notebook file (within yamlio's size bounds); NotebookError names its line and field, OSError when
        it cannot be read."""
        try:
            return load_file(cls, path, what=NOTEBOOK_TOP)
        except DocumentInvalid as exc:
            raise NotebookError(str(exc)) from None


def slugify(title: str) -> str:
    """A notebook's file name from its title: 'Churn: Q3' -> 'churn-q3' (at most 60 characters)."""
    return file_slug(title, "-", default="notebook", max_length=60)


def user_key(user: str | None) -> str:
    """The folder name of one user's storage: readable slug plus a hash of the exact normalized name, so two
    users whose names slugify alike (ana.silva@x, ana-silva@x) never share a folder."""
    name = normalize_user(user) or ANONYMOUS
    return f"{slugify(name)[:40]}-{hashlib.sha256(name.encode('utf-8')).hexdigest()[:16]}"


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text)


# ---------------------------------------------------------------- example notebooks (shipped with a mesh)

def example_notebooks(mesh: DeclaredMesh) -> tuple[list[Notebook], list[Problem]]:
    """The mesh's ready-made notebooks (`<mesh>/notebooks/*.yaml`), and a problem per file that is bad."""
    notebooks: list[Notebook] = []
    problems: list[Problem] = []
    for path in sorted((mesh.root / EXAMPLES_FOLDER).glob("*.y*ml")):
        try:
            notebooks.append(load_file(Notebook, path, what=NOTEBOOK_TOP))
        except DocumentInvalid as exc:
            first = exc.errors[0]
            problems.append(Problem(path=str(path), line=first.line, field=first.field, message=first.message))
        except OSError as exc:
            problems.append(Problem(path=str(path), line=None, field="", message=str(exc)))
    return notebooks, problems


def write_examples(dest: Path, notebooks: list[dict]) -> list[Path]:
    """Write example notebooks (plain dicts, as a person would write them) into `<mesh>/notebooks/`;
    each is validated first so the generator never ships a broken one."""
    paths = []
    for data in notebooks:
        notebook = Notebook.model_validate(data)
        path = Path(dest) / EXAMPLES_FOLDER / f"{notebook.slug}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(notebook.to_yaml(), encoding="utf-8")
        paths.append(path)
    return paths


# ---------------------------------------------------------------- a user's saved notebooks

@dataclass(frozen=True)
class SavedNotebook:
    slug: str
    title: str
    modified: datetime
    path: Path


class NotebookStore:
    """One user's saved notebooks in the mesh's state folder (`Mesh.state_dir`); writes are atomic (a crash
    keeps the old file)."""

    def __init__(self, state_dir: Path, user: str):
        self.user = user
        self.folder = Path(state_dir) / EXAMPLES_FOLDER / user_key(user)

    def list(self) -> list[SavedNotebook]:
        out = []
        for path in sorted(self.folder.glob("*.yaml")):
            try:
                title = Notebook.read(path).title
            except (NotebookError, OSError):
                title = f"{path.stem} (unreadable)"
            modified = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)
            out.append(SavedNotebook(path.stem, title, modified, path))
        return sorted(out, key=lambda s: s.modified, reverse=True)

    def save(self, notebook: Notebook) -> Path:
        path = self.folder / f"{notebook.slug}.yaml"
        _write_atomic(path, notebook.to_yaml())
        return path

    def load(self, slug: str) -> Notebook:
        path = self.folder / f"{slugify(slug)}.yaml"
        if not path.is_file():
            raise NotebookError(f"no saved notebook {slug!r} for {self.user}; saved: "
                                f"{', '.join(s.slug for s in self.list()) or 'none yet'}")
        return Notebook.read(path)

    def delete(self, slug: str) -> None:
        (self.folder / f"{slugify(slug)}.yaml").unlink(missing_ok=True)

    def choices(self, examples: list[Notebook]) -> dict[str, str]:
        """Reference -> label of every notebook this user can open: the mesh's examples, then their saved ones.
        A reference is `example:<slug>` or `saved:<slug>`; `open` takes it back."""
        options = {f"example:{n.slug}": f"Example · {n.title}" for n in examples}
        options.update({f"saved:{s.slug}": f"Saved · {s.title}" for s in self.list()})
        return options

    def open(self, reference: str, examples: list[Notebook]) -> Notebook:
        """A private copy of the notebook `reference` names (see `choices`), to edit without touching the file."""
        kind, _, slug = reference.partition(":")
        if kind == "example":
            found = next((n for n in examples if n.slug == slug), None)
            if found is None:
                raise NotebookError(f"no example notebook {slug!r}")
            return found.model_copy(deep=True)
        return self.load(slug)
