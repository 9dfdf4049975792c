"""Workbench notebooks: editing cells, saved notebooks, the shipped examples, and `.ipynb` export that runs
the same analysis through the catalog API."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

import catalog
from catalog.charts import ChartSpec, render_chart
from catalog.workbench.ipynb import ipynb_bytes, to_ipynb
from catalog.workbench.notebook import Notebook, NotebookError, NotebookStore, example_notebooks

REPO = Path(__file__).resolve().parents[2]
JOIN = ("SELECT c.age, s.score FROM retail.customers c\nJOIN risk.scores s USING (customer_id)\nORDER BY c.age")


def _notebook() -> Notebook:
    notebook = Notebook(title="Scores by age")
    notebook.add("Customers joined with their **credit score**.", kind="markdown")
    notebook.add(JOIN, chart=ChartSpec(mark="point", x="age", y="score"), title="Score against age")
    notebook.add("SELECT email FROM retail.customers WHERE age > 30 ORDER BY age")
    return notebook


def test_cells_are_added_moved_and_removed():
    notebook = _notebook()
    first, second, third = (c.id for c in notebook.cells)
    inserted = notebook.add("SELECT 1", after=first)
    assert [c.id for c in notebook.cells] == [first, inserted.id, second, third]
    notebook.move(third, -10)
    assert notebook.cells[0].id == third
    notebook.move(third, 1)
    assert [c.id for c in notebook.cells][:2] == [inserted.id, third] or notebook.index(third) == 1
    notebook.remove(inserted.id)
    assert len(notebook.cells) == 3 and inserted.id not in [c.id for c in notebook.cells]
    with pytest.raises(NotebookError, match="no cell"):
        notebook.move("nope", 1)


def test_a_notebook_round_trips_through_yaml():
    notebook = _notebook()
    again = Notebook.from_yaml(notebook.to_yaml())
    assert [(c.kind, c.source, c.chart, c.title) for c in again.cells] == \
        [(c.kind, c.source, c.chart, c.title) for c in notebook.cells]
    assert "id:" not in notebook.to_yaml(), "ids are per session, not noise in the file"


def test_a_bad_notebook_file_names_the_line_and_field():
    text = "title: Broken\ncells:\n  - source: SELECT 1\n  - source: SELECT 2\n    chart: {mark: pie, x: a}\n"
    with pytest.raises(NotebookError, match=r"nb.yaml:5: cells.1.chart.mark"):
        Notebook.from_yaml(text, "nb.yaml")
    with pytest.raises(NotebookError, match=r"nb.yaml:1: invalid YAML"):
        Notebook.from_yaml("title: [unclosed", "nb.yaml")


def test_saved_notebooks_are_per_user_in_the_state_folder(minimesh):
    mesh = catalog.open_mesh(minimesh)
    ana, bo = NotebookStore(mesh.state_dir, "ana@bank.example"), NotebookStore(mesh.state_dir, "bo@bank.example")
    path = ana.save(_notebook())
    assert path.is_relative_to(mesh.state_dir) and not (minimesh / "notebooks").exists()
    assert [s.title for s in ana.list()] == ["Scores by age"] and bo.list() == []
    assert ana.load("scores-by-age").cells[1].chart == ChartSpec(mark="point", x="age", y="score")
    ana.delete("scores-by-age")
    with pytest.raises(NotebookError, match="none yet"):
        ana.load("scores-by-age")


def test_a_saved_notebook_that_is_not_text_is_listed_as_unreadable(minimesh):
    store = NotebookStore(catalog.open_mesh(minimesh).state_dir, "ana@bank.example")
    store.save(_notebook())
    (store.folder / "binary.yaml").write_bytes(b"title: \xff\xfe\n")
    assert sorted(s.title for s in store.list()) == ["Scores by age", "binary (unreadable)"]
    with pytest.raises(NotebookError, match="binary.yaml:1: invalid YAML: not UTF-8"):
        store.load("binary")


def test_bad_example_files_are_problems_not_crashes(minimesh):
    folder = minimesh / "notebooks"
    folder.mkdir()
    (folder / "good.yaml").write_text(_notebook().to_yaml())
    (folder / "bad.yaml").write_text("title: Bad\ncells:\n  - sourse: SELECT 1\n")
    notebooks, problems = example_notebooks(catalog.open_mesh(minimesh).declared)
    assert [n.title for n in notebooks] == ["Scores by age"]
    assert len(problems) == 1 and problems[0].line == 3 and problems[0].field == "cells.0.sourse"


@pytest.mark.parametrize("sample", ["banking", "life_sciences", "supply_chain"])
def test_every_example_notebook_runs_for_an_analyst(sample, tmp_path):
    mesh = catalog.open_mesh(REPO / "sample_data" / sample, state_dir=tmp_path)
    notebooks, problems = example_notebooks(mesh.declared)
    assert len(notebooks) >= 2 and not problems
    session = mesh.session("analyst", "ana@example.com")
    for notebook in notebooks:
        assert len({p.split(".")[0] for c in notebook.sql_cells() for p in session.vet(c.source).products}) >= 2, \
            f"{notebook.title} is a cross-domain question"
        for cell in notebook.sql_cells():
            frame = session.sql(cell.source)
            assert frame.height > 0, f"{notebook.title}: {cell.title} returns rows"
            if cell.chart:
                render_chart(frame, cell.chart).to_dict()


def test_ipynb_export_runs_the_same_analysis_through_the_catalog_api(minimesh, monkeypatch):
    (minimesh / "notebooks").mkdir(exist_ok=True)
    monkeypatch.chdir(minimesh / "notebooks")  # where a downloaded notebook belongs: it names the mesh as ".."
    notebook = _notebook()
    document = json.loads(ipynb_bytes(notebook, minimesh, "analyst", "ana@bank.example"))
    assert document["nbformat"] == 4 and all("id" in c for c in document["cells"])
    kinds = [c["cell_type"] for c in document["cells"]]
    assert kinds == ["markdown", "code", "markdown", "markdown", "code", "code", "code"]
    scope: dict = {}
    for cell in document["cells"]:
        if cell["cell_type"] == "code":
            exec("".join(cell["source"]), scope)  # what Jupyter would run, in order
    expected = catalog.open_mesh(minimesh).session("analyst").sql(JOIN)
    assert scope["df1"].equals(expected)
    assert scope["df2"]["email"].to_list() == ["***@bank.example", "***@mail.example"], "still masked"
    assert type(scope["session"]).__name__ == "Session" and scope["session"].role == "analyst"


def test_ipynb_quotes_awkward_sql_exactly(minimesh, monkeypatch):
    monkeypatch.setenv("MESHWORK_MESH", str(minimesh))
    notebook = Notebook(title="Quotes")
    notebook.add('SELECT \'a\\b\' AS x, """ AS y FROM retail.branches'.replace('"""', "'\"\"\"'"))
    code = "".join(to_ipynb(notebook, minimesh, "analyst")["cells"][2]["source"])
    scope: dict = {}
    exec("".join(to_ipynb(notebook, minimesh, "analyst")["cells"][1]["source"]), scope)
    exec(code, scope)
    assert scope["df1"].row(0) == ("a\\b", '"""')
    assert isinstance(scope["df1"], pl.DataFrame)


def test_examples_and_saved_notebooks_open_by_reference_as_private_copies(minimesh):
    mesh = catalog.open_mesh(minimesh)
    example = _notebook()
    store = NotebookStore(mesh.state_dir, "ana@bank.example")
    store.save(Notebook(title="My churn look", cells=[]))
    choices = store.choices([example])
    assert choices == {f"example:{example.slug}": f"Example · {example.title}",
                       "saved:my-churn-look": "Saved · My churn look"}
    opened = store.open(f"example:{example.slug}", [example])
    opened.cells.clear()
    assert example.cells, "editing the opened copy leaves the example as it was"
    assert store.open("saved:my-churn-look", [example]).title == "My churn look"
    with pytest.raises(NotebookError, match="no example notebook 'nope'"):
        store.open("example:nope", [example])


def test_history_records_every_run_whether_it_returns_rows_or_is_refused(minimesh):
    mesh = catalog.open_mesh(minimesh)
    history = mesh.query_history("ana@bank.example")
    session = mesh.session("analyst", user="ana@bank.example")
    result = history.run(session, "SELECT age FROM retail.customers", max_rows=2)
    refused = history.run(session, "SELECT * FROM read_csv('x.csv')", max_rows=2)
    assert result.total_rows == 3 and result.frame.height == 2
    assert isinstance(refused, catalog.QueryRejected)
    newest, oldest = history.recent(2)
    assert (newest["status"], newest["rows"]) == ("QueryRejected", None)
    assert (oldest["status"], oldest["rows"], oldest["role"]) == ("ok", 3, "analyst")
