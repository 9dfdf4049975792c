"""Export a workbench notebook as a Jupyter notebook (`.ipynb`, nbformat 4) that runs the same analysis
through the `catalog` API: open the mesh, open a governed session for the same role, one code cell per
SQL cell (and the chart it had), markdown cells as they are.

The notebook names the mesh by a path relative to where it is saved (`<mesh>/notebooks/` for a download),
so it works in a clone of the mesh's repository on another machine; `MESHWORK_MESH` overrides it. Charts are
rendered with the Vega JavaScript inside the notebook, so they show without a network.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from catalog.charts import chart_code
from catalog.workbench.notebook import Notebook


def _lines(text: str) -> list[str]:
    """nbformat stores a cell's source as a list of lines, each but the last ending in a newline."""
    lines = text.splitlines(keepends=True)
    if lines and lines[-1].endswith("\n"):
        lines[-1] = lines[-1][:-1]
    return lines


def _markdown(text: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "metadata": {}, "source": _lines(text)}


def _code(text: str) -> dict[str, Any]:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": _lines(text)}


def _sql_literal(sql: str) -> str:
    """The query as readable Python: a triple-quoted block when that is exact, else repr()."""
    text = sql.strip()
    if '"""' not in text and "\\" not in text and not text.endswith('"'):
        return f'"""\n{text}\n"""'
    return repr(text)


def mesh_reference(mesh_path: str | Path, saved_in: str | Path | None = None) -> str:
    """The mesh folder as seen from the folder the notebook is saved in (default `<mesh>/notebooks/`)."""
    mesh_path = Path(mesh_path).resolve()
    folder = Path(saved_in).resolve() if saved_in is not None else mesh_path / "notebooks"
    return Path(os.path.relpath(mesh_path, folder)).as_posix()


def to_ipynb(notebook: Notebook, mesh_path: str | Path, role: str, user: str | None = None,
             timeout_s: float = 60.0, saved_in: str | Path | None = None) -> dict[str, Any]:
    """The notebook as an nbformat-4 document (a dict ready for json.dumps), to be saved in `saved_in`
    (default: the mesh's `notebooks/` folder)."""
    heading = f"# {notebook.title}\n\n{notebook.description}".strip()
    cells = [_markdown(heading + "\n\nExported from the Meshwork workbench. Every query runs through a governed "
                                 f"session as the role `{role}`: the same products, masking and usage records "
                                 "as in the app.")]
    who = f", user={user!r}" if user else ""
    where = "this notebook's folder" if saved_in is not None else "the mesh's notebooks/ folder, where it belongs"
    offline = ("import altair as alt\n\n"
               "alt.renderers.enable(\"html\", template=\"inline\")  # charts carry their JavaScript: no network\n"
               if any(c.kind != "markdown" and c.chart is not None for c in notebook.cells) else "")
    cells.append(_code(f"import os\n\nimport catalog\n{offline}\n"
                       f"# The mesh folder, relative to {where}; MESHWORK_MESH overrides it.\n"
                       f"mesh = catalog.open_mesh(os.environ.get(\"MESHWORK_MESH\", "
                       f"{mesh_reference(mesh_path, saved_in)!r}))\n"
                       f"session = mesh.session(role={role!r}{who}, timeout_s={timeout_s:g})"))
    n = 0
    for cell in notebook.cells:
        if cell.kind == "markdown":
            if cell.source.strip():
                cells.append(_markdown(cell.source))
            continue
        if not cell.source.strip():
            continue
        n += 1
        name = f"df{n}"
        if cell.title:
            cells.append(_markdown(f"## {cell.title}"))
        cells.append(_code(f"{name} = session.sql({_sql_literal(cell.source)})\n{name}"))
        if cell.chart is not None:
            cells.append(_code(chart_code(cell.chart, name)))
    for i, out in enumerate(cells):
        out["id"] = f"cell-{i}"  # nbformat 4.5 wants an id per cell; stable ids keep diffs small
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
            "meshwork": {"notebook": notebook.title, "role": role},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def ipynb_bytes(notebook: Notebook, mesh_path: str | Path, role: str, user: str | None = None) -> bytes:
    """The `.ipynb` file's bytes (for a download button)."""
    document = to_ipynb(notebook, mesh_path, role, user)
    return (json.dumps(document, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def write_ipynb(notebook: Notebook, path: str | Path, mesh_path: str | Path, role: str,
                user: str | None = None) -> Path:
    """Save the notebook at `path`; it names the mesh relative to `path`'s folder."""
    path = Path(path)
    document = to_ipynb(notebook, mesh_path, role, user, saved_in=path.parent)
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
