"""Descriptor changes: classification on a corpus of pairs, `meshwork diff`, changelog and alerts."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from typer.testing import CliRunner

import catalog
from catalog.governance.changes import classify_type, diff, is_breaking
from catalog.cli import app as cli
from catalog.descriptors.model import ProductDescriptor
from minimesh import write

BASE: dict[str, Any] = {
    "name": "customers", "title": "Retail customers", "description": "Every retail customer.",
    "owner": "ana.silva@bank.example", "version": "1.4.0", "tags": ["customer"],
    "source": {"kind": "parquet", "path": "data/customers.parquet"},
    "columns": [
        {"name": "customer_id", "type": "VARCHAR", "pii": "identifier", "key": True, "description": "Customer key"},
        {"name": "email", "type": "VARCHAR", "pii": "email", "description": "Primary e-mail"},
        {"name": "segment", "type": "VARCHAR", "description": "Marketing segment"},
        {"name": "age", "type": "INTEGER", "description": "Age in years"},
        {"name": "balance", "type": "DECIMAL(12,2)", "description": "Balance"},
        {"name": "opened", "type": "DATE", "description": "Account opened"},
    ],
    "quality": [{"check": "not_null", "column": "email"}, {"check": "unique", "columns": ["customer_id"]}],
    "sla": {"freshness_hours": 24, "availability": "99.9%"},
}


def col(d: dict, name: str) -> dict:
    return next(c for c in d["columns"] if c["name"] == name)


def edit(fn: Callable[[dict], None], major: bool = False) -> dict:
    new = copy.deepcopy(BASE)
    fn(new)
    if major:
        new["version"] = "2.0.0"
    return new


# (case, new descriptor, expected (severity, kind[, column]) that must appear, breaking?)
CORPUS: list[tuple[str, dict, set[tuple], bool]] = [
    ("column removed", edit(lambda d: d["columns"].pop(2), major=True),
     {("breaking", "column_removed", "segment")}, True),
    ("column renamed in place", edit(lambda d: col(d, "segment").update(name="customer_segment"), major=True),
     {("breaking", "column_renamed", "segment")}, True),
    ("column renamed and moved, same description",
     edit(lambda d: d["columns"].append({**d["columns"].pop(3), "name": "age_years"}), major=True),
     {("breaking", "column_renamed", "age")}, True),
    ("integer narrowed", edit(lambda d: col(d, "age").update(type="SMALLINT"), major=True),
     {("breaking", "type_narrowed", "age")}, True),
    ("decimal narrowed", edit(lambda d: col(d, "balance").update(type="DECIMAL(10,2)"), major=True),
     {("breaking", "type_narrowed", "balance")}, True),
    ("date to timestamp widened", edit(lambda d: col(d, "opened").update(type="TIMESTAMP"), major=True),
     {("info", "type_widened", "opened")}, False),
    ("type changed incompatibly", edit(lambda d: col(d, "segment").update(type="INTEGER"), major=True),
     {("breaking", "type_changed", "segment")}, True),
    ("integer widened", edit(lambda d: col(d, "age").update(type="BIGINT")),
     {("info", "type_widened", "age")}, False),
    ("type alias is no change", edit(lambda d: col(d, "age").update(type="int4")), set(), False),
    ("pii newly flagged", edit(lambda d: col(d, "segment").update(pii="other"), major=True),
     {("breaking", "pii_flagged", "segment")}, True),
    ("pii category changed", edit(lambda d: col(d, "email").update(pii="free_text"), major=True),
     {("breaking", "pii_category_changed", "email")}, True),
    ("pii unflagged", edit(lambda d: col(d, "email").pop("pii")), {("warning", "pii_unflagged", "email")}, False),
    ("freshness SLA loosened", edit(lambda d: d["sla"].update(freshness_hours=48), major=True),
     {("breaking", "sla_loosened", None)}, True),
    ("freshness SLA removed", edit(lambda d: d["sla"].pop("freshness_hours"), major=True),
     {("breaking", "sla_loosened", None)}, True),
    ("availability loosened", edit(lambda d: d["sla"].update(availability="99%"), major=True),
     {("breaking", "sla_loosened", None)}, True),
    ("freshness SLA tightened", edit(lambda d: d["sla"].update(freshness_hours=6)),
     {("info", "sla_tightened", None)}, False),
    ("now restricted", edit(lambda d: d.update(access={"restricted": True, "roles": ["steward"]}), major=True),
     {("breaking", "access_restricted", None)}, True),
    ("deprecated", edit(lambda d: d.update(status="deprecated")), {("warning", "status_changed", None)}, False),
    ("back to draft", edit(lambda d: d.update(status="draft"), major=True),
     {("breaking", "status_changed", None)}, True),
    ("column added", edit(lambda d: d["columns"].append({"name": "phone", "type": "VARCHAR"})),
     {("info", "column_added", "phone")}, False),
    ("key dropped", edit(lambda d: col(d, "customer_id").pop("key")), {("warning", "key_removed", "customer_id")},
     False),
    ("check removed", edit(lambda d: d["quality"].pop(0)), {("warning", "check_removed", None)}, False),
    ("descriptions only", edit(lambda d: (d.update(description="All customers."),
                                          col(d, "age").update(description="Age")))
     , {("info", "description_changed", None), ("info", "column_description", "age")}, False),
    ("product renamed", edit(lambda d: d.update(name="clients"), major=True),
     {("breaking", "product_renamed", None)}, True),
    ("breaking without a major bump", edit(lambda d: d["columns"].pop(2)),
     {("breaking", "column_removed", "segment"), ("warning", "version_not_bumped", None)}, True),
]


@pytest.mark.parametrize("case,new,expected,breaking", CORPUS, ids=[c[0] for c in CORPUS])
def test_classification_corpus(case, new, expected, breaking):
    changes = diff(ProductDescriptor.model_validate(BASE), ProductDescriptor.model_validate(new))
    found = {(c.severity, c.kind, c.column) for c in changes}
    assert expected <= found, f"{case}: {found}"
    assert is_breaking(changes) is breaking, f"{case}: {[str(c) for c in changes]}"
    if "renamed" in case:
        assert not any(c.kind in ("column_removed", "column_added") for c in changes)


def test_identical_descriptors_have_no_changes():
    assert diff(ProductDescriptor.model_validate(BASE), ProductDescriptor.model_validate(copy.deepcopy(BASE))) == []


@pytest.mark.parametrize("old,new,expected", [
    ("INTEGER", "BIGINT", "widened"), ("BIGINT", "INTEGER", "narrowed"), ("INT", "INTEGER", None),
    ("FLOAT", "DOUBLE", "widened"), ("INTEGER", "DOUBLE", "widened"), ("DOUBLE", "INTEGER", "narrowed"),
    ("DECIMAL(10,2)", "DECIMAL(12,4)", "widened"), ("DECIMAL(12,4)", "DECIMAL(10,4)", "narrowed"), ("DECIMAL(12,4)", "DECIMAL(12,2)", "changed"),
    ("VARCHAR", "INTEGER", "changed"), ("DATE", "TIMESTAMP", "widened"), ("UTINYINT", "SMALLINT", "widened"),
    ("TEXT", "VARCHAR", None), ("BOOLEAN", "VARCHAR", "changed"), ("MYSTERY", "mystery", None),
])
def test_type_classification(old, new, expected):
    assert classify_type(old, new) == expected


# ------------------------------------------------------------------ meshwork diff

def _dump(tmp_path: Path, name: str, data: dict) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_cli_diff_exits_1_on_breaking_and_0_otherwise(tmp_path):
    runner = CliRunner()
    old = _dump(tmp_path, "old.yaml", BASE)
    broken = runner.invoke(cli, ["diff", str(old), str(_dump(tmp_path, "a.yaml", CORPUS[0][1]))])
    assert broken.exit_code == 1
    assert "BREAKING column_removed" in broken.stdout and "column segment removed" in broken.stdout
    fine = runner.invoke(cli, ["diff", str(old), str(_dump(tmp_path, "b.yaml", edit(
        lambda d: d["columns"].append({"name": "phone", "type": "VARCHAR"}))))])
    assert fine.exit_code == 0 and "INFO     column_added" in fine.stdout
    same = runner.invoke(cli, ["diff", str(old), str(old)])
    assert same.exit_code == 0 and "no changes" in same.output
    as_json = runner.invoke(cli, ["diff", "--format", "json", str(old), str(_dump(tmp_path, "c.yaml", CORPUS[3][1]))])
    assert as_json.exit_code == 1
    assert {"severity": "breaking", "kind": "type_narrowed", "column": "age"}.items() <= \
        json.loads(as_json.stdout)[0].items()


def test_cli_diff_reports_a_bad_descriptor_with_its_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: customers\nsource: {kind: parquet, path: x.parquet}\ncolumns:\n  - {name: a, tpye: INT}\n")
    result = CliRunner().invoke(cli, ["diff", str(_dump(tmp_path, "old.yaml", BASE)), str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:4: columns.0.tpye" in result.output


# ------------------------------------------------------------------ changelog and alerts

def consumer_mesh(root: Path) -> Path:
    """minimesh plus marketing.campaign (owned by mia) built on risk.customer_risk (owned by rui)."""
    write(root / "marketing/domain.yaml", "name: marketing\nowner: marketing-team@bank.example\n")
    write(root / "marketing/products/campaign.yaml", """
        name: campaign
        owner: mia.lopes@bank.example
        source:
          kind: sql
          sql: SELECT customer_id, full_name AS addressee, score FROM risk.customer_risk WHERE score > 600
        columns:
          - {name: customer_id, type: VARCHAR, pii: identifier}
          - {name: addressee, type: VARCHAR, pii: name}
          - {name: score, type: INTEGER}
    """)
    return root


def change_customers(root: Path, fn: Callable[[dict], None]) -> None:
    path = root / "retail/products/customers.yaml"
    data = yaml.safe_load(path.read_text())
    fn(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def inboxes(root: Path, *users: str) -> dict[str, list[dict]]:
    mesh = catalog.open_mesh(root)
    return {u: mesh.changes.inbox(u).to_dicts() for u in users}


def test_breaking_change_alerts_owners_downstream_and_subscribers_with_impact(minimesh):
    root = consumer_mesh(minimesh)
    mesh = catalog.open_mesh(root)
    mesh.changes.subscribe("zoe@bank.example", "retail.customers")
    mesh.changes.subscribe("zoe@bank.example", "retail.branches")
    subs = mesh.changes.subscriptions("mia.lopes@bank.example")
    assert dict(zip(subs["product_id"], subs["how"])) == {
        "retail.customers": "automatic", "risk.customer_risk": "automatic", "risk.scores": "automatic"}

    change_customers(root, lambda d: d["columns"].pop(1))  # drop full_name
    boxes = inboxes(root, "rui.costa@bank.example", "mia.lopes@bank.example", "zoe@bank.example",
                    "ana.silva@bank.example", "bo@bank.example")
    rui, = boxes["rui.costa@bank.example"]
    assert rui["severity"] == "breaking" and "column full_name removed" in rui["summary"]
    assert rui["your_products"] == "risk.customer_risk"
    assert rui["your_columns"] == "risk.customer_risk.full_name"
    mia, = boxes["mia.lopes@bank.example"]  # two hops downstream
    assert mia["your_products"] == "marketing.campaign" and mia["your_columns"] == "marketing.campaign.addressee"
    zoe, = boxes["zoe@bank.example"]
    assert zoe["product_id"] == "retail.customers" and zoe["your_products"] == "" and zoe["changed_columns"] == "full_name"
    assert boxes["ana.silva@bank.example"] == [] and boxes["bo@bank.example"] == []

    log = catalog.open_mesh(root).changes.changelog("retail.customers")
    assert set(log["kind"]) == {"column_removed", "version_not_bumped"}
    assert inboxes(root, "rui.costa@bank.example")["rui.costa@bank.example"] == [rui]  # no duplicate on re-open


def test_first_sync_is_a_baseline_and_a_non_breaking_change_reaches_only_its_consumers(minimesh):
    root = consumer_mesh(minimesh)
    mesh = catalog.open_mesh(root)
    assert mesh.changes.sync() == []
    mesh.changes.subscribe("zoe@bank.example", "retail.branches")
    path = root / "retail/products/branches.yaml"
    path.write_text(path.read_text().replace("description: Bank branches.", "description: Every bank branch."))
    boxes = inboxes(root, "zoe@bank.example", "rui.costa@bank.example", "mia.lopes@bank.example")
    assert [a["severity"] for a in boxes["zoe@bank.example"]] == ["info"]
    assert boxes["rui.costa@bank.example"] == [] and boxes["mia.lopes@bank.example"] == []


def test_column_type_narrowing_alerts_with_column_impact_and_mark_read(minimesh):
    root = consumer_mesh(minimesh)
    catalog.open_mesh(root).changes.sync()
    write(root / "risk/products/scores.yaml", """
        name: scores
        description: Credit scores per customer.
        owner: rui.costa@bank.example
        version: 2.0.0
        source: {kind: sqlite, path: data/scores.sqlite, table: scores}
        columns:
          - {name: customer_id, type: VARCHAR, pii: identifier, key: true}
          - {name: score, type: SMALLINT}
    """)
    mesh = catalog.open_mesh(root)
    mia, = mesh.changes.inbox("mia.lopes@bank.example").to_dicts()
    assert "score narrowed INTEGER -> SMALLINT" in mia["summary"] and "1.0.0 -> 2.0.0" in mia["summary"]
    assert mia["your_columns"] == "marketing.campaign.score"
    assert mesh.changes.mark_read("mia.lopes@bank.example") == 1
    assert mesh.changes.inbox("mia.lopes@bank.example", unread_only=True).is_empty()


def test_removed_product_is_a_breaking_alert(minimesh):
    root = consumer_mesh(minimesh)
    catalog.open_mesh(root).changes.subscribe("zoe@bank.example", "retail.branches")
    (root / "retail/products/branches.yaml").unlink()
    zoe, = catalog.open_mesh(root).changes.inbox("zoe@bank.example").to_dicts()
    assert zoe["severity"] == "breaking" and "removed from the mesh" in zoe["summary"]


def test_subscribing_needs_a_real_product_and_a_user(minimesh):
    mesh = catalog.open_mesh(minimesh)
    with pytest.raises(catalog.UnknownProduct):
        mesh.changes.subscribe("zoe@bank.example", "retail.nope")
    with pytest.raises(catalog.MeshError, match="Sign in"):
        mesh.changes.subscribe(None, "retail.customers")
