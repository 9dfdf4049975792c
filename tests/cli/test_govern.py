"""`meshwork init`, `publish`, `compliance` and `contract export|import`, end to end through the CLI."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import pytest
import yaml
from typer.testing import CliRunner

import catalog
from catalog.interop import odcs as contracts
from catalog.cli import app as cli
from minimesh import build_minimesh

OWNER = "lea@shop.example"
runner = CliRunner()


@pytest.fixture(autouse=True)
def as_steward(monkeypatch):
    """Lea runs these commands; `meshwork init` makes her the new mesh's steward, and the mini mesh gets her
    as one too (who may publish what: tests/access/test_authority.py)."""
    monkeypatch.setenv("MESHWORK_USER", OWNER)


@pytest.fixture
def minimesh(tmp_path):
    root = build_minimesh(tmp_path / "mini")
    with open(root / "mesh.yaml", "a") as handle:
        handle.write(f"users:\n  {OWNER}: {{roles: [steward]}}\n")
    return root


def run(*args: str):
    return runner.invoke(cli, [str(a) for a in args])


def test_init_publish_csv_and_sql_then_query(tmp_path):
    root = tmp_path / "shop"
    made = run("init", root)
    assert made.exit_code == 0, made.output
    assert "created" in made.output and (root / "mesh.yaml").is_file()
    assert run("init", root).exit_code == 2
    data = tmp_path / "orders.csv"
    data.write_text("order_id,buyer_email,total\nO1,a@x.example,10\nO2,b@y.example,5\nO3,c@z.example,7\n")
    published = run("publish", root, data, "--domain", "sales", "--name", "orders", "--owner", OWNER,
                    "--description", "Web shop orders", "--column-doc", "order_id=Order key")
    assert published.exit_code == 0, published.output
    assert "published sales.orders v1.0.0: sales/products/orders.yaml and sales/data/orders.csv (new domain sales)" \
        in published.output
    assert "{name: order_id, type: VARCHAR, description: Order key}" in published.stdout
    derived = run("publish", root, "sql:SELECT buyer_email, total FROM sales.orders WHERE total > 6", "--domain",
                  "finance", "--name", "big_orders", "--owner", OWNER, "--description", "Orders over 6")
    assert derived.exit_code == 0, derived.output
    mesh = catalog.open_mesh(root)
    assert mesh.upstreams("finance.big_orders") == {"sales.orders"}
    assert mesh.products["finance.big_orders"].column("buyer_email").pii_category == "email"
    out = mesh.session(role="analyst").sql("SELECT count(*) AS n FROM finance.big_orders")
    assert out["n"][0] == 2


def test_publish_refusals_exit_non_zero_and_write_nothing(tmp_path, minimesh):
    before = sorted(minimesh.rglob("*"))
    bad_name = run("publish", minimesh, tmp_path / "x.csv", "--domain", "retail", "--name", "../x", "--owner", OWNER)
    assert bad_name.exit_code == 2 and "invalid product name" in bad_name.output
    missing = run("publish", minimesh, tmp_path / "nope.csv", "--domain", "retail", "--name", "x", "--owner", OWNER)
    assert missing.exit_code == 2 and "no such file" in missing.output
    data = tmp_path / "c.csv"
    data.write_text("customer_id,age\nC9,40\n")
    taken = run("publish", minimesh, data, "--domain", "retail", "--name", "customers", "--owner", OWNER)
    assert taken.exit_code == 2 and "already exists (version 1.0.0" in taken.output
    unreachable = run("publish", minimesh, "postgresql://u:pw@127.0.0.1:1/db?table=public.t", "--domain", "retail",
                      "--name", "remote", "--owner", OWNER)
    assert unreachable.exit_code == 2 and "cannot reach PostgreSQL at postgresql://u:***@" in unreachable.output
    assert "pw@" not in unreachable.output
    dry = run("publish", minimesh, data, "--domain", "retail", "--name", "fresh", "--owner", OWNER, "--dry-run")
    assert dry.exit_code == 0 and "dry run: retail.fresh not written" in dry.output
    assert sorted(p for p in minimesh.rglob("*") if ".meshwork" not in p.parts) == \
        sorted(p for p in before if ".meshwork" not in p.parts)


def test_compliance_lists_violations_and_fails_on_errors(sample_copy):
    root = sample_copy("banking")
    result = run("compliance", root, "--failing")
    assert result.exit_code == 1  # campaign_responses leaves PII unclassified (severity error)
    assert "marketing.campaign_responses: pii-classified (global)" in result.stdout
    assert "->" in result.stdout and "of severity error" in result.output
    table = run("compliance", root, "--format", "csv", "--domain", "retail")
    rows = list(csv.DictReader(io.StringIO(table.stdout)))
    assert {r["domain"] for r in rows} == {"retail"}
    assert set(rows[0]) >= {"domain", "product_id", "policy", "scope", "passed", "message", "fix"}


def test_contract_export_then_import_into_another_mesh(minimesh, tmp_path):
    out = tmp_path / "scores.odcs.yaml"
    exported = run("contract", "export", minimesh, "risk.customer_risk", "-o", out)
    assert exported.exit_code == 0, exported.output
    assert contracts.validate_contract(yaml.safe_load(out.read_text())) == []
    printed = run("contract", "export", minimesh, "risk.customer_risk")
    assert printed.stdout == out.read_text()
    assert run("contract", "export", minimesh, "risk.nope").exit_code == 2
    again = run("contract", "import", minimesh, out)
    assert again.exit_code == 2 and "already exists" in again.output
    bumped = run("contract", "import", minimesh, out, "--version", "1.1.0")
    assert bumped.exit_code == 0 and "imported risk.customer_risk v1.1.0" in bumped.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v3.1.0\nkind: DataContract\n")
    invalid = run("contract", "import", minimesh, bad)
    assert invalid.exit_code == 2 and "not a valid ODCS v3 document" in invalid.output


def test_console_script_is_wired():
    done = subprocess.run([sys.executable, "-c", "from catalog.cli import main; main()", "--help"],
                          capture_output=True, text=True)
    assert done.returncode == 0
    for command in ("init", "publish", "compliance", "contract"):
        assert command in done.stdout
