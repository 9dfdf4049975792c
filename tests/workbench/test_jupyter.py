"""The README's "In a notebook" cells run in a real Jupyter kernel (nbclient + ipykernel), where DuckDB
behaves differently (it refuses progress-bar settings without ipywidgets)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbclient
import nbformat

ROOT = Path(__file__).resolve().parents[2]


def readme_notebook_cells() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## In a notebook", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    return [cell.strip() for cell in block.split("\n\n") if cell.strip()]


def test_readme_notebook_cells_run_in_a_jupyter_kernel(tmp_path):
    mesh = tmp_path / "banking"
    shutil.copytree(ROOT / "sample_data" / "banking", mesh, ignore=shutil.ignore_patterns(".meshwork"))
    cells = [c.replace('"sample_data/banking"', repr(str(mesh))) for c in readme_notebook_cells()]
    assert any("mesh.search(" in c for c in cells)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"import sys; sys.path.insert(0, {str(ROOT)!r})")] + [
        nbformat.v4.new_code_cell(c) for c in cells] + [nbformat.v4.new_code_cell(
            "hits = mesh.search('customer churn', role='analyst', user='ana@bank.example').hits\nprint(len(hits))")]
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
                            ).execute()
    errors = [o for cell in nb.cells for o in cell.outputs if o.output_type == "error"]
    assert errors == []
    assert int(nb.cells[-1].outputs[0]["text"].strip()) > 0


def test_an_exported_notebook_runs_from_a_moved_mesh_and_its_charts_render_offline(tmp_path):
    """The .ipynb names the mesh relative to itself (so a clone elsewhere runs it) and its chart output
    carries the Vega JavaScript instead of loading it from a CDN."""
    from catalog.charts import ChartSpec
    from catalog.workbench.ipynb import write_ipynb
    from catalog.workbench.notebook import Notebook

    original = tmp_path / "here" / "banking"
    shutil.copytree(ROOT / "sample_data" / "banking", original, ignore=shutil.ignore_patterns(".meshwork"))
    notebook = Notebook(title="States")
    notebook.add("SELECT state, count(*) AS n FROM retail.customers GROUP BY ALL ORDER BY state",
                 chart=ChartSpec(mark="bar", x="state", y="n"))
    (original / "notebooks").mkdir(exist_ok=True)
    write_ipynb(notebook, original / "notebooks" / "states.ipynb", original, "analyst")
    moved = tmp_path / "elsewhere" / "banking"
    shutil.move(str(original), moved)  # a clone on another machine
    nb = nbformat.read(moved / "notebooks" / "states.ipynb", as_version=4)
    assert str(tmp_path) not in "".join(c.source for c in nb.cells)
    nb.cells.insert(0, nbformat.v4.new_code_cell(f"import sys; sys.path.insert(0, {str(ROOT)!r})"))
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(moved / "notebooks")}}).execute()
    assert [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"] == []
    html = next(o["data"]["text/html"] for o in nb.cells[-1].outputs if "text/html" in o.get("data", {}))
    assert "vega" in html and "<script src=" not in html.replace("<script src=\"data:", "")
    assert "cdn.jsdelivr" not in html
