"""The Workbench page through Streamlit's AppTest: deep link, running cells, refusals, charts, cell editing,
example notebooks, saving, history and the role's masking. (The code editor is a browser component; these
tests use the page's plain text editor, and tests/browser/test_workbench.py types into the real one.)"""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from apptest import open_app

import catalog
from catalog.workbench.notebook import Cell, Notebook, NotebookStore

JOIN = "SELECT c.age, s.score FROM retail.customers c JOIN risk.scores s USING (customer_id) ORDER BY c.age"


def open_workbench(mesh: Path, sql: str | None = None, role: str | None = None, run: bool = True,
                   **state) -> AppTest:
    """The Workbench, with `sql` filled in by the deep link and (with `run`) the person's click on Run."""
    state = {"wb_plain_editor": True, "user": "ana@bank.example", **({"role": role} if role else {}), **state}
    at = open_app(mesh, "views/workbench.py", {"sql": sql or None}, timeout=60, **state)
    if sql and run:
        run_buttons(at)[-1].click()
        at.run()
    return at


def captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


def editors(at: AppTest):
    return [t for t in at.text_area if t.key and t.key.startswith("wb_ed_")]


def run_buttons(at: AppTest):
    return [b for b in at.button if b.key and b.key.endswith("_run") and b.key.startswith("wb_ed_")]


def results(at: AppTest) -> list:
    """Result tables (pandas, as AppTest hands them), without the 'What is masked' table."""
    return [d.value for d in at.dataframe if list(d.value.columns) != ["product_id", "column", "mask"]]


def charts(at: AppTest) -> list:
    return at.get("vega_lite_chart")


def test_deep_link_fills_a_cell_and_runs_nothing_until_the_click(minimesh):
    at = open_workbench(minimesh, sql=JOIN, run=False)
    assert not at.exception
    assert len(editors(at)) == 1 and editors(at)[0].value == JOIN
    assert results(at) == [] and any("press **Run**" in i.value for i in at.info)
    mesh = catalog.open_mesh(minimesh)
    assert mesh.usage().is_empty() and mesh.query_history("ana@bank.example").recent() == []
    mesh.close()
    at.run()  # any rerun (a widget, a reload of the same session) still runs nothing
    assert results(at) == [] and catalog.open_mesh(minimesh).usage().is_empty()
    run_buttons(at)[0].click()
    at.run()
    assert results(at)[0]["score"].tolist() == [580, 700, 640]
    assert "3 rows" in captions(at) and "read retail.customers, risk.scores" in captions(at)
    assert len(charts(at)) == 1, "a default chart is drawn from the result's types"


def test_typing_and_running_a_query_shows_masked_rows(minimesh):
    at = open_workbench(minimesh)
    editors(at)[0].input("SELECT email, age FROM retail.customers ORDER BY age")
    run_buttons(at)[0].click()
    at.run()
    assert results(at)[0]["email"].tolist()[1:] == ["***@bank.example", "***@mail.example"]
    assert "masked" in at.markdown[0].value


def test_refusals_and_syntax_errors_are_explained(minimesh):
    at = open_workbench(minimesh, sql="SELECT * FROM risk.limits")
    assert "Refused." in at.error[0].value and "restricted" in at.error[0].value
    editors(at)[0].input("SELECT age\nFROM retail.customers WHERE (")
    run_buttons(at)[0].click()
    at.run()
    assert "line 2" in at.error[0].value
    assert at.code[0].value.endswith("^"), "the position is marked under the line"


def test_results_are_capped_with_a_note(minimesh):
    at = open_workbench(minimesh, sql="SELECT * FROM range(5000) t(i), retail.branches")
    assert len(results(at)[0]) == 1000
    assert "showing first 1,000 of 10,000 rows" in captions(at)


def test_cells_are_added_reordered_and_deleted(minimesh):
    at = open_workbench(minimesh, sql="SELECT 1 AS one")
    at.button(key="wb_add_sql").click()
    at.run()
    assert len(editors(at)) == 2
    editors(at)[1].input("SELECT 2 AS two")
    at.run()
    second = editors(at)[1].key.split("_")[2]
    at.button(key=f"wb_up_{second}").click()
    at.run()
    assert [e.value for e in editors(at)] == ["SELECT 2 AS two", "SELECT 1 AS one"]
    at.button(key=f"wb_del_{second}").click()
    at.run()
    assert [e.value for e in editors(at)] == ["SELECT 1 AS one"]


def test_the_chart_builder_changes_the_chart(minimesh):
    at = open_workbench(minimesh, sql="SELECT city, count(*) AS n FROM retail.branches GROUP BY city")
    marks = [s for s in at.selectbox if s.key and s.key.endswith("_mark")]
    assert marks[0].value == "bar"
    marks[0].select("arc")
    at.run()
    assert '"arc"' in charts(at)[0].proto.spec


def test_example_notebooks_open_and_run_all(minimesh):
    (minimesh / "notebooks").mkdir()
    notebook = Notebook(title="Scores")
    notebook.add("Scores by age.", kind="markdown")
    notebook.add(JOIN)
    notebook.add("SELECT city FROM retail.branches")
    (minimesh / "notebooks" / "scores.yaml").write_text(notebook.to_yaml())
    at = open_workbench(minimesh)
    at.selectbox(key="wb_pick").select("example:scores")
    at.run()
    assert [e.value for e in editors(at)] == [JOIN, "SELECT city FROM retail.branches"]
    assert any("Scores by age." in m.value for m in at.markdown)
    at.button(key="wb_run_all").click()
    at.run()
    assert len(results(at)) == 2 and not at.exception


def test_save_keeps_the_notebook_and_history_lists_queries(minimesh):
    at = open_workbench(minimesh, sql=JOIN)
    at.text_input(key=[t.key for t in at.text_input if t.key and t.key.startswith("wb_title_")][0]).input("My scores")
    at.button(key="wb_save").click()
    at.run()
    mesh = catalog.open_mesh(minimesh)
    saved = NotebookStore(mesh.state_dir, "ana@bank.example").load("my-scores")
    assert [c.source for c in saved.cells] == [JOIN] and saved.cells[0].chart is not None
    assert mesh.query_history("ana@bank.example").recent()[0]["sql"] == JOIN
    mesh.close()
    assert "analyst · 3 rows" in captions(at)


def test_a_steward_sees_raw_values_and_nothing_masked(minimesh):
    at = open_workbench(minimesh, sql="SELECT email FROM retail.customers WHERE age = 34", role="steward")
    assert results(at)[0]["email"].tolist() == ["ana@bank.example"]
    assert "personal data unmasked" in at.markdown[0].value


def test_a_link_role_the_user_may_hold_applies_and_a_forged_one_falls_back(minimesh):
    at = open_workbench(minimesh, sql="SELECT 1 AS x", role="analyst")
    at.query_params["role"] = "steward"  # open mode: any role may be chosen
    at.run()
    assert at.session_state["role"] == "steward" and at.selectbox(key="role").value == "steward"
    at.query_params["role"] = "root"
    at.run()
    assert not at.exception and at.session_state["role"] == "steward" and at.query_params["role"] == "steward"
    assert any("role you may not act as" in i.value for i in at.info)


def test_a_notebook_link_opens_it_without_running(minimesh):
    mesh = catalog.open_mesh(minimesh)
    NotebookStore(mesh.state_dir, "ana@bank.example").save(Notebook(title="Scores", cells=[Cell(source=JOIN)]))
    at = open_app(minimesh, "views/workbench.py", {"notebook": "saved:scores"}, wb_plain_editor=True,
                  user="ana@bank.example")
    assert not at.exception and [e.value for e in editors(at)] == [JOIN] and results(at) == []
    assert catalog.open_mesh(minimesh).usage().is_empty()


def test_a_sample_meshes_example_notebook_runs_with_charts(sample_copy):
    at = open_workbench(sample_copy("supply_chain"))
    at.selectbox(key="wb_pick").select("example:device-failure-rates-by-supplier")
    at.run()
    at.button(key="wb_run_all").click()
    at.run()
    assert not at.exception and not at.error
    assert len(results(at)) == 3 and len(charts(at)) == 3
    assert "The 20 suppliers with the most failed trackers" in "".join(m.value for m in at.markdown)


def test_notes_and_a_product_picked_in_the_schema_browser_become_cells(minimesh):
    at = open_workbench(minimesh, **{"wb_schema_open_risk.scores": True})
    at.button(key="wb_add_md").click()
    at.run()
    assert not [t for t in at.text_area if t.key and t.key.startswith("wb_md_")], "the note's editor opens on a click"
    note_cell = at.session_state["wb_notebook"].cells[-1]
    at.session_state[f"wb_md_open_{note_cell.id}"] = True  # the person clicks "Edit note"
    at.run()
    note = next(t for t in at.text_area if t.key and t.key.startswith("wb_md_"))
    note.input("## Why scores matter")
    at.run()
    assert any(m.value == "## Why scores matter" for m in at.markdown)
    at.button(key="wb_schema_risk.scores").click()
    at.run()
    assert editors(at)[-1].value == "SELECT *\nFROM risk.scores\nLIMIT 100"
    assert results(at)[-1].shape == (3, 2), "a picked product runs at once"


def test_switching_role_hides_the_other_roles_result(minimesh):
    at = open_workbench(minimesh, sql="SELECT email FROM retail.customers WHERE age = 34", role="steward")
    assert results(at)[0]["email"].tolist() == ["ana@bank.example"]
    at.selectbox(key="role").select("analyst").run()
    assert at.query_params["role"] == "analyst"
    assert results(at) == [] and "its result is hidden" in captions(at)
    run_buttons(at)[0].click()
    at.run()
    assert results(at)[0]["email"].tolist() == ["***@bank.example"]


def test_run_on_an_empty_cell_clears_the_old_error_and_says_why(minimesh):
    at = open_workbench(minimesh, sql="SELECT * FROM retail.nope")
    assert at.error, "the bad query's error is shown first"
    editors(at)[0].input("")
    run_buttons(at)[0].click()
    at.run()
    assert not at.exception
    assert not at.error, "the previous error is cleared"
    assert any("This cell is empty" in i.value for i in at.info)


def test_history_shows_each_query_once_capped_and_searchable(minimesh):
    mesh = catalog.open_mesh(minimesh)
    history = mesh.query_history("ana@bank.example")
    for n in range(30):
        history.add(f"SELECT {n} AS n", "analyst", 1, 1.0, "ok")
    for _ in range(3):
        history.add("SELECT age  FROM retail.customers", "analyst", 3, 1.0, "ok")
        history.add("SELECT age FROM retail.customers", "analyst", 3, 1.0, "ok")
    mesh.close()
    at = open_workbench(minimesh)
    shown = [c.value for c in at.caption if "analyst" in c.value and " row" in c.value]
    assert len(shown) == 15, "capped"
    assert sum("retail.customers" in c for c in shown) == 1 and "ran 6×" in shown[0]
    at.text_input(key="wb_hist_search").input("customers").run()
    shown = [c.value for c in at.caption if "analyst" in c.value and " row" in c.value]
    assert len(shown) == 1 and "retail.customers" in shown[0]
    at.text_input(key="wb_hist_search").input("no such thing").run()
    assert any("No query in your history contains" in c.value for c in at.caption)


def test_the_editor_keeps_enter_for_newlines_and_asks_no_outside_font():
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "app"))
    from components.editor import ACE_THEME, KEYBINDINGS

    moved = KEYBINDINGS["completer"][0]
    assert moved["name"] == "Return" and "Return" not in moved["bindkey"]["win"]
    assert not ACE_THEME.startswith("streamlit")


def test_the_schema_browser_draws_a_products_columns_only_once_it_is_opened(minimesh):
    at = open_workbench(minimesh)
    inserts = [b.key for b in at.button if b.key and b.key.startswith("wb_schema_ins_")]
    assert inserts == [], "closed products draw no column buttons (hundreds of elements on every rerun)"
    at.session_state["wb_schema_open_retail.customers"] = True  # the person opens one product
    at.run()
    inserts = [b.key for b in at.button if b.key and b.key.startswith("wb_schema_ins_")]
    assert "wb_schema_ins_retail.customers_email" in inserts
    assert all(k.startswith("wb_schema_ins_retail.customers") for k in inserts), inserts


def test_clicking_a_product_or_column_in_the_schema_browser_inserts_its_name(minimesh):
    at = open_workbench(minimesh, **{"wb_schema_open_retail.customers": True})
    editors(at)[0].input("SELECT")
    at.button(key="wb_schema_ins_retail.customers_email").click().run()
    assert editors(at)[0].value == "SELECT email"
    editors(at)[0].input("SELECT email FROM ")
    at.button(key="wb_schema_ins_retail.customers").click().run()
    assert not at.exception
    assert editors(at)[0].value == "SELECT email FROM retail.customers"


def test_a_filled_cell_has_its_views_made_before_run_and_nothing_is_recorded(minimesh):
    """The views a deep-linked query names are built while the person reads it (so Run does not wait for them);
    preparing parses the SQL and never runs it: no usage, no history, no audit entry."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "app"))
    from components.jobs import prepare_views

    mesh = catalog.open_mesh(minimesh)
    prepared: set = set()
    texts = [JOIN, "SELECT * FROM risk.limits", "not a query at all"]  # risk.limits is restricted for an analyst
    prepare_views(mesh, "analyst", "ana@bank.example", texts, prepared).join(60)
    database = mesh.engine.database_for("analyst", "ana@bank.example")
    assert {"retail.customers", "risk.scores"} <= database.views.views_ready
    assert "risk.limits" not in database.views.views_ready
    assert prepare_views(mesh, "analyst", "ana@bank.example", texts, prepared) is None, "each text is parsed once"
    assert mesh.usage().is_empty() and mesh.query_history("ana@bank.example").recent() == []
    assert mesh.access.audit().is_empty()
    mesh.close()
