"""Export a workbench notebook as a Jupyter notebook (`.ipynb`, nbformat 4) that runs the same analysis
through the `catalog` API: open the mesh, open a governed session for the same role, one code cell per
SQL cell (and the chart it had), markdown cells as they are.
"""

from __future__ import annotations

import json
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


def to_ipynb(notebook: Notebook, mesh_path: str | Path, role: str, user: str | None = None,
             timeout_s: float = 60.0) -> dict[str, Any]:
    """The notebook as an nbformat-4 document (a dict ready for json.dumps)."""
    heading = f"# {notebook.title}\n\n{notebook.description}".strip()
    cells = [_markdown(heading + "\n\nExported from the Meshwork workbench. Every query runs through a governed "
                                 f"session as the role `{role}`: the same products, masking and usage records "
                                 "as in the app.")]
    who = f", user={user!r}" if user else ""
    cells.append(_code(f"import catalog\n\nmesh = catalog.open_mesh({str(mesh_path)!r})\n"
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
    path = Path(path)
    path.write_bytes(ipynb_bytes(notebook, mesh_path, role, user))
    return path
