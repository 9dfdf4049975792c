"""Stored free text cannot forge a line (refused control characters, one event per printed line), exported CSV
runs no spreadsheet formula, and per-user storage is keyed injectively."""

from __future__ import annotations

import csv
import io
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import catalog
from catalog.cli import app as cli
from catalog.dashboards.model import DashboardDescriptor, Tile
from catalog.errors import MeshError
from catalog.workbench.notebook import Cell, Notebook, NotebookStore, user_key
from catalog.text import check_text, csv_cell, one_line
from minimesh import build_minimesh

CONSUMER = "bo@bank.example"
FORGERIES = ["Need it\n2026-12-01T00:00:00.000+00:00  ok      access.approve  rui.costa@bank.example",
             "Need it for Q3\r\x1b[2K2026-12-01  ok  access.approve", "quarterly review\u2028approved by rui",
             "review \u202eevorppa", "audit\x00trail review", "credit review\x85next line", "tab\tseparated purpose"]


@pytest.fixture
def mesh(tmp_path):
    return catalog.open_mesh(build_minimesh(tmp_path / "mini"))


@pytest.mark.parametrize("purpose", FORGERIES)
def test_a_purpose_with_control_characters_is_refused_and_nothing_is_requested(mesh, purpose):
    with pytest.raises(MeshError, match="the purpose contains .* one line of ordinary text"):
        mesh.agreements.request(CONSUMER, "risk.limits", "sql", purpose, 7)
    assert mesh.agreements.agreements().is_empty()
    audit = mesh.access.audit()
    assert audit["outcome"].to_list() == ["refused"] and "\n" not in audit["reason"][0]


def test_reasons_comments_and_notes_refuse_control_characters(mesh):
    made = mesh.agreements.request(CONSUMER, "risk.limits", "sql", "Credit line review for Q3", 30)
    with pytest.raises(MeshError, match="the reason contains a line break"):
        mesh.agreements.reject(made.id, "rui.costa@bank.example", "no\napproved")
    assert mesh.agreements.get(made.id).status == "requested"
    mesh.agreements.approve(made.id, "rui.costa@bank.example")
    with pytest.raises(MeshError, match="the reason contains"):
        mesh.agreements.revoke(made.id, "rui.costa@bank.example", "done\x1b[31m")
    assert mesh.agreements.get(made.id).status == "active"
    with pytest.raises(MeshError, match="the comment contains"):
        mesh.trust_desk.comment("retail.customers", CONSUMER, "nice\u2029fake line")
    with pytest.raises((MeshError, ValueError), match="title contains"):
        Notebook(title="Churn\nnotes")
    with pytest.raises((MeshError, ValueError), match="title contains"):
        Tile(title="Scores\u202e", query="SELECT 1 AS x")
    with pytest.raises((MeshError, ValueError), match="title contains"):
        DashboardDescriptor(title="Board\r")


def test_text_already_stored_prints_as_one_line_per_event(mesh):
    """A row written before the rule (or by another tool) is escaped on the way out: one event, one line."""
    made = mesh.agreements.request(CONSUMER, "risk.limits", "sql", "Credit line review for Q3", 30)  # `access list`
    with mesh.state.transaction() as con:  # lists agreements: an access request is one
        con.execute("UPDATE agreements SET purpose = ? WHERE id = ?", (FORGERIES[0], made.id))
        mesh.access._audit(con, CONSUMER, "access.request", "ok", product_id="risk.limits", reason=FORGERIES[1])
    runner = CliRunner()
    listed = runner.invoke(cli, ["access", "list", str(mesh.root), "--role", "steward"])
    assert listed.exit_code == 0, listed.output
    lines = [line for line in listed.stdout.splitlines() if line]
    assert len(lines) == 1 and "access.approve" in lines[0] and "\\n2026-12-01" in lines[0]
    audit = runner.invoke(cli, ["audit", str(mesh.root), "--role", "steward"])
    events = mesh.access.audit().height
    assert len([line for line in audit.stdout.splitlines() if line]) == events
    assert "\x1b" not in audit.stdout and "\\x1b[2K" in audit.stdout


ALPHABET = st.characters(codec="utf-8", exclude_categories=["Cs"])
TEXT = st.one_of(st.text(ALPHABET, max_size=60),
                 st.text(st.sampled_from(list("ab \n\r\t\x1b\x00\x7f\x85\u2028\u2029\u202e\u2066\u200f=+-@")),
                         max_size=30),
                 st.text(ALPHABET, min_size=2500, max_size=3000))
USERS = (f"user{i}@bank.example" for i in itertools.count())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
@example(text="\\")  # a backslash is accepted and shown doubled
def test_every_stored_free_text_is_refused_clearly_or_rendered_faithfully_on_one_line(mesh, text):
    user = next(USERS)
    padded = f"Purpose: {text}"
    outcomes = []
    try:
        made = mesh.agreements.request(user, "risk.limits", "sql", padded, 7)
        stored = mesh.agreements.get(made.id).purpose
        assert stored == padded.strip(" ")
        outcomes.append(stored)
    except MeshError as exc:
        assert ("purpose" in str(exc) or "what you need it for" in str(exc)) and "\n" not in str(exc)
    for build in (lambda: Notebook(title=f"N {text}"), lambda: Cell(title=text or None),
                  lambda: Tile(title=f"T {text}", query="SELECT 1 AS x"), lambda: DashboardDescriptor(title=f"D {text}")):
        try:
            outcomes.append(build().title)
        except (MeshError, ValueError) as exc:
            assert "title" in str(exc)
    try:
        mesh.trust_desk.comment("retail.customers", user, f"C {text}")
        outcomes.append(mesh.trust_desk.comments("retail.customers")["text"][-1])
    except MeshError as exc:
        assert "comment" in str(exc)
    for value in outcomes:
        if value is None:
            continue
        rendered = one_line(value)
        assert "\n" not in rendered and "\r" not in rendered and "\x1b" not in rendered
        # what was accepted holds nothing that needs escaping; a backslash is doubled so that an escape shown
        # can always be told from the same characters typed
        assert rendered == value.replace("\\", "\\\\")
    for line in (one_line(text), one_line(padded)):
        assert len(line.splitlines() or [""]) == 1 and "\u2028" not in line and "\u202e" not in line


@given(text=st.text(ALPHABET, max_size=40))
def test_one_line_is_reversible_so_nothing_is_hidden(text):
    rendered = one_line(text)
    assert rendered.encode("ascii", "backslashreplace").decode("unicode_escape") == text or "\\" in text


# ---------------------------------------------------------------- CSV exports

@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+cmd|' /C calc'!A0", "-2+3",
                                  "@SUM(A1)", "\t=1", "\r=1"])
def test_formula_cells_are_neutralized(cell):
    assert csv_cell(cell) == "'" + cell and csv_cell("plain") == "plain" and csv_cell(-3) == -3


def test_audit_and_result_exports_run_no_formula(mesh, tmp_path):
    mesh.access.record(CONSUMER, "agreement.request", reason="=HYPERLINK(\"http://evil.example\",\"Click\")")
    rows = list(csv.reader(io.StringIO(mesh.access.audit_csv())))
    assert rows[1][rows[0].index("reason")] == "'=HYPERLINK(\"http://evil.example\",\"Click\")"
    out = tmp_path / "result.csv"
    session = mesh.session(role="steward")
    session.export("SELECT '=1+1' AS a, '@cmd' AS b, 'ok' AS c, -5 AS n", out, "csv")
    exported = list(csv.reader(out.open()))
    assert exported[1] == ["'=1+1", "'@cmd", "ok", "-5"]
    cli_csv = CliRunner().invoke(cli, ["audit", str(mesh.root), "--format", "csv", "--role", "steward"])
    assert "'=HYPERLINK" in cli_csv.stdout and ",=HYPERLINK" not in cli_csv.stdout


# ---------------------------------------------------------------- per-user storage

@pytest.mark.parametrize("a,b", [("ana.silva@bank.example", "ana-silva@bank.example"),
                                 ("ana_silva@bank.example", "ana.silva@bank.example"),
                                 ("a+b@x.example", "a-b@x.example")])
def test_users_whose_names_slugify_alike_do_not_share_notebooks_or_history(mesh, a, b):
    assert user_key(a) != user_key(b)
    NotebookStore(mesh.state_dir, a).save(Notebook(title="Secret churn analysis"))
    mesh.query_history(a).add("SELECT 'secret'", "steward", 1, 1.0, "ok")
    assert NotebookStore(mesh.state_dir, b).list() == [] and mesh.query_history(b).recent() == []
    assert [s.title for s in NotebookStore(mesh.state_dir, a).list()] == ["Secret churn analysis"]


def test_the_same_user_written_differently_keeps_one_folder(mesh):
    assert user_key("Ana.Silva@Bank.Example ") == user_key("ana.silva@bank.example")
    assert Path(NotebookStore(mesh.state_dir, "ana.silva@bank.example").folder).name.startswith("ana-silva-bank-example-")


def test_check_text_trims_and_caps_length():
    assert check_text("  fine  ", "note") == "fine"
    with pytest.raises(MeshError, match="under 10"):
        check_text("x" * 11, "note", 10)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(purpose=TEXT)
def test_the_cli_refuses_with_exit_2_or_stores_faithfully_never_a_traceback(mesh, purpose):
    user = next(USERS)
    done = CliRunner().invoke(cli, ["access", "request", str(mesh.root), "risk.limits", "--user", user,
                                    "--purpose", f"Purpose: {purpose}"])
    assert done.exit_code in (0, 2), done.output
    assert done.exception is None or isinstance(done.exception, SystemExit)
    if done.exit_code == 0:
        listed = CliRunner().invoke(cli, ["access", "list", str(mesh.root), "--role", "steward"])
        mine = [line for line in listed.stdout.splitlines() if user in line]
        assert len(mine) == 1 and mine[0].endswith(one_line(f"Purpose: {purpose}".strip(" ")))
    else:
        assert "error:" in done.output and "Traceback" not in done.output
