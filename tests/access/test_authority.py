"""Who may write what: publishing, contract import, dashboards, reviews and sensitive checks, through the
library and the CLI. Every refusal names who may instead, is audited, and leaves the mesh folder as it was."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import catalog
from catalog.interop import odcs as contracts
from catalog.publish import publish as pub
from catalog.cli import app as cli
from catalog.dashboards.model import Tile
from catalog.errors import AccessDenied, PublishError
from catalog.scorecards.review import review
from minimesh import build_minimesh

REPO = Path(__file__).resolve().parents[2]
OWNER = "ana.silva@bank.example"          # owns retail.customers and retail.branches
TEAM = "hugo.martin@bank.example"         # on the retail team, owns nothing
STEWARD = "sam.steward@bank.example"      # steward by mesh.yaml
STRANGER = "mallory@evil.example"
CSV = b"customer_id,full_name,email,ssn,age\nC1,Eve,eve@evil.example,000-00-0000,40\n"


@pytest.fixture
def mesh_root(tmp_path: Path) -> Path:
    root = build_minimesh(tmp_path / "mini")
    with open(root / "mesh.yaml", "a") as handle:
        handle.write(f"users:\n  {STEWARD}: {{roles: [steward]}}\n")
    (root / "retail/domain.yaml").write_text(f"name: retail\nowner: retail-team@bank.example\nteam: [{TEAM}]\n")
    return root


@pytest.fixture
def opened():
    """`catalog.open_mesh`, as a test calls it again and again to see what was stored; every mesh it opened is
    closed once the test ends."""
    meshes: list[catalog.Mesh] = []

    def open_mesh(*args, **kwargs) -> catalog.Mesh:
        meshes.append(catalog.open_mesh(*args, **kwargs))
        return meshes[-1]

    yield open_mesh
    for mesh in meshes:
        mesh.close()


def digest(root: Path) -> str:
    """Every file under the mesh (the state folder aside) and its bytes: proof that nothing was written."""
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if ".meshwork" not in p.parts):
        h.update(str(path.relative_to(root)).encode())
        if path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()


def refusals(mesh, actor: str, action: str) -> list[dict]:
    audit = mesh.access.audit(actor=actor)
    return [r for r in audit.iter_rows(named=True) if r["action"] == action and r["outcome"] == "refused"]


def takeover(mesh, **kwargs):
    """A higher version of retail.customers with a new owner and no restriction: the takeover of issue 16."""
    return mesh.publisher.draft_from_upload(CSV, "c.csv", domain="retail", name="customers", owner=STRANGER,
                                 version="9.0.0", **kwargs)


# ---------------------------------------------------------------- products

def test_a_stranger_cannot_replace_a_product_and_nothing_changes(mesh_root, opened):
    mesh = opened(mesh_root)
    before = digest(mesh_root)
    with pytest.raises(AccessDenied) as refused:
        mesh.publisher.publish(takeover(mesh), user=STRANGER)
    assert str(refused.value).endswith(f"only {OWNER}, the owner, or a steward may replace retail.customers.")
    assert digest(mesh_root) == before
    rows = refusals(opened(mesh_root), STRANGER, "product.publish")
    assert len(rows) == 1 and rows[0]["product_id"] == "retail.customers" and "may replace" in rows[0]["reason"]
    again = opened(mesh_root)
    assert again.products["retail.customers"].owner == OWNER
    assert again.access.owners_of("retail.customers") == {OWNER, "retail-team@bank.example"}


def test_a_team_member_who_does_not_own_the_product_cannot_replace_it_either(mesh_root, opened):
    mesh = opened(mesh_root)
    before = digest(mesh_root)
    with pytest.raises(AccessDenied, match=f"only {OWNER}, the owner, or a steward"):
        mesh.publisher.publish(takeover(mesh), user=TEAM)
    assert digest(mesh_root) == before


@pytest.mark.parametrize("who", [OWNER, STEWARD])
def test_the_owner_or_a_steward_replaces_a_product(mesh_root, who, opened):
    mesh = opened(mesh_root)
    result = mesh.publisher.publish(takeover(mesh), user=who)
    assert result.version == "9.0.0"
    assert opened(mesh_root).products["retail.customers"].owner == STRANGER


def test_a_new_product_needs_the_domain_team(mesh_root, opened):
    mesh = opened(mesh_root)
    draft = mesh.publisher.draft_from_upload(b"a,b\n1,2\n", "x.csv", domain="retail", name="extra", owner=TEAM)
    before = digest(mesh_root)
    with pytest.raises(AccessDenied) as refused:
        mesh.publisher.publish(draft, user=STRANGER)
    assert (f"only retail-team@bank.example, {TEAM}, the retail team, or a steward may publish a new product in "
            "retail") in str(refused.value)
    assert digest(mesh_root) == before
    assert mesh.publisher.publish(draft, user=TEAM).product_id == "retail.extra"


def test_a_new_domain_needs_a_steward(mesh_root, opened):
    mesh = opened(mesh_root)
    draft = mesh.publisher.draft_from_upload(b"a,b\n1,2\n", "x.csv", domain="growth", name="extra", owner=TEAM)
    before = digest(mesh_root)
    with pytest.raises(AccessDenied, match="only a steward may add a domain"):
        mesh.publisher.publish(draft, user=TEAM)
    assert digest(mesh_root) == before and not (mesh_root / "growth").exists()
    result = mesh.publisher.publish(draft, user=STEWARD)
    assert result.created_domain and opened(mesh_root).domains["growth"].descriptor.team == [TEAM]


def test_anonymous_and_unknown_users_of_an_enforced_mesh_write_nothing(mesh_root, opened):
    mesh = opened(mesh_root)
    with pytest.raises(AccessDenied, match="Sign in first"):
        mesh.publisher.publish(takeover(mesh), user="")
    text = (mesh_root / "mesh.yaml").read_text().replace("users:", f"identity: {{mode: enforced}}\nusers:\n  "
                                                                   f"{OWNER}: {{roles: [analyst]}}")
    (mesh_root / "mesh.yaml").write_text(text)
    mesh = opened(mesh_root)
    draft = mesh.publisher.draft_from_upload(b"a,b\n1,2\n", "x.csv", domain="retail", name="extra", owner=TEAM)
    with pytest.raises(AccessDenied, match="is not a user of mesh 'mini' \\(identity is enforced\\)"):
        mesh.publisher.publish(draft, user=TEAM)
    assert mesh.publisher.publish(takeover(mesh), user=OWNER).version == "9.0.0"


def test_the_library_writes_as_the_local_user_by_default(mesh_root, monkeypatch, opened):
    monkeypatch.setenv("MESHWORK_USER", STRANGER)
    mesh = opened(mesh_root)
    with pytest.raises(AccessDenied, match=f"{STRANGER} may not replace"):
        mesh.publisher.publish(takeover(mesh))
    monkeypatch.setenv("MESHWORK_USER", OWNER)
    assert mesh.publisher.publish(takeover(mesh)).version == "9.0.0"


def test_checks_that_read_personal_data_are_set_up_by_a_steward_only(mesh_root, opened):
    mesh = opened(mesh_root)
    draft = mesh.publisher.draft_from_upload(CSV, "c.csv", domain="retail", name="customers", owner=OWNER,
                                  version="2.0.0")
    assert any("left out the suggested check(s) email matches pattern" in n for n in draft.notes)
    probing = draft.yaml() + "- {check: regex, column: email, pattern: '^a', name: email starts with a}\n"
    probing_draft = mesh.publisher.edit_draft(draft, probing)
    before = digest(mesh_root)
    with pytest.raises(AccessDenied, match="email starts with a.*only a steward may set up"):
        mesh.publisher.publish(probing_draft, user=OWNER)
    assert digest(mesh_root) == before
    assert refusals(opened(mesh_root), OWNER, "product.publish")
    assert mesh.publisher.publish(probing_draft, user=STEWARD).version == "2.0.0"


# ---------------------------------------------------------------- CLI

def test_cli_publish_refusal_exits_2_with_the_reason_and_no_traceback(mesh_root, tmp_path):
    data = tmp_path / "c.csv"
    data.write_bytes(CSV)
    before = digest(mesh_root)
    args = ["publish", str(mesh_root), str(data), "--domain", "retail", "--name", "customers", "--owner", STRANGER,
            "--version", "9.0.0", "--user", STRANGER]
    done = CliRunner().invoke(cli, args)
    assert done.exit_code == 2
    assert f"only {OWNER}, the owner, or a steward may replace retail.customers" in done.output
    assert "Traceback" not in done.output and digest(mesh_root) == before
    by_env = subprocess.run([sys.executable, "-c", "from catalog.cli import main; main()", *args[:-2]],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(REPO), "MESHWORK_USER": STRANGER})
    assert by_env.returncode == 2 and "Traceback" not in by_env.stderr and "may replace" in by_env.stderr
    assert digest(mesh_root) == before
    ok = CliRunner().invoke(cli, [*args[:-1], OWNER])
    assert ok.exit_code == 0, ok.output


# ---------------------------------------------------------------- contract import

def contract_for(mesh, product_id: str, **changes) -> str:
    data = yaml.safe_load(contracts.export_contract(mesh, product_id))
    data.update(changes)
    return yaml.safe_dump(data, sort_keys=False)


def test_contract_import_over_someone_elses_product_is_refused_and_audited(mesh_root, opened):
    mesh = opened(mesh_root)
    text = contract_for(mesh, "retail.customers", version="5.0.0")
    before = digest(mesh_root)
    with pytest.raises(AccessDenied, match="may replace retail.customers"):
        contracts.import_contract(mesh, text, user=STRANGER)
    assert digest(mesh_root) == before
    assert refusals(opened(mesh_root), STRANGER, "contract.import")


def test_contract_sql_goes_through_the_gate(mesh_root, opened):
    mesh = opened(mesh_root)
    data = yaml.safe_load(contracts.export_contract(mesh, "risk.customer_risk"))
    data["customProperties"] = [p for p in data.get("customProperties", []) if p["property"] != "meshworkSource"]
    data["customProperties"].append({"property": "meshworkSource", "value": {
        "kind": "sql", "sql": "SELECT * FROM read_csv('/etc/passwd')"}})
    data["domain"] = "risk"
    data["name"] = "leak"
    before = digest(mesh_root)
    with pytest.raises(PublishError, match="refused by the SQL gate"):
        contracts.import_contract(mesh, yaml.safe_dump(data), user=STEWARD)
    check = {"property": "meshworkSource", "value": {"kind": "sql", "sql": "SELECT customer_id FROM risk.scores"}}
    data["customProperties"][-1] = check
    schema = data["schema"][0]
    schema["properties"] = [p for p in schema["properties"] if p["name"] == "customer_id"]
    schema["quality"] = [{"type": "custom", "engine": "meshwork", "name": "sneaky",
                          "implementation": {"check": "expression",
                                             "expression": "customer_id IN (SELECT column0 FROM read_csv('/etc/passwd'))"}}]
    with pytest.raises(PublishError, match="the check 'sneaky' is refused by the SQL gate"):
        contracts.import_contract(mesh, yaml.safe_dump(data), user=STEWARD)
    assert digest(mesh_root) == before


@pytest.mark.parametrize("path", ["/etc/passwd", "../../../../etc/hosts", "data/../../../outside.parquet"])
def test_contract_server_paths_stay_inside_the_mesh(mesh_root, path, opened):
    mesh = opened(mesh_root)
    data = yaml.safe_load(contracts.export_contract(mesh, "retail.branches"))
    data["customProperties"] = [p for p in data.get("customProperties", []) if p["property"] != "meshworkSource"]
    data["servers"] = [{"server": "local", "type": "local", "path": path, "format": "csv"}]
    data["name"] = "elsewhere"
    before = digest(mesh_root)
    with pytest.raises(PublishError, match="outside the mesh folder"):
        contracts.import_contract(mesh, yaml.safe_dump(data), user=STEWARD)
    assert digest(mesh_root) == before


def test_a_contract_over_a_restricted_products_source_inherits_the_restriction(mesh_root, opened):
    mesh = opened(mesh_root)
    data = yaml.safe_load(contracts.export_contract(mesh, "risk.limits"))
    data["customProperties"] = [p for p in data.get("customProperties", [])
                                if p["property"] not in ("meshworkRestricted",)]
    data["roles"] = []
    data["name"] = "limits_again"
    result, notes = contracts.import_contract(mesh, yaml.safe_dump(data), user=STEWARD)
    assert any("restricted" in n for n in notes)
    access = opened(mesh_root).products["risk.limits_again"].descriptor.access
    assert access.restricted and set(access.roles) <= {"steward", "risk_officer"}
    analyst = opened(mesh_root).policy("analyst")
    assert not analyst.can_query("risk.limits_again")


def test_a_hand_made_draft_over_a_restricted_source_is_refused(mesh_root, opened):
    mesh = opened(mesh_root)
    limits = mesh.products["risk.limits"].descriptor
    descriptor = limits.model_copy(update={"name": "open_limits", "access": limits.access.model_copy(
        update={"restricted": False, "roles": []}), "owner": "rui.costa@bank.example"})
    draft = pub.Draft(domain="risk", descriptor=descriptor, profile=pub.Profile(rows=0, profiled_rows=0, columns=[]),
                      preview=pub.pl.DataFrame(), compliance=mesh.publisher.compliance("risk", descriptor))
    before = digest(mesh_root)
    with pytest.raises(PublishError, match="reads restricted data"):
        mesh.publisher.publish(draft, user=STEWARD, allow_violations=True)
    assert digest(mesh_root) == before


# ---------------------------------------------------------------- dashboards and reviews

def test_pinning_needs_the_dashboards_owner_or_an_editor(mesh_root, opened):
    mesh = opened(mesh_root)
    tile = Tile(title="Branches", query="SELECT * FROM retail.branches")
    path = mesh.dashboards.pin("retail.ops", tile, title="Ops", user=TEAM)
    assert yaml.safe_load(path.read_text())["owner"] == TEAM  # a new dashboard belongs to whoever pins
    before = digest(mesh_root)
    with pytest.raises(AccessDenied, match=f"only {TEAM} \\(its owner and the editors it names\\) may"):
        mesh.dashboards.pin("retail.ops", tile, user=STRANGER)
    assert digest(mesh_root) == before
    assert refusals(opened(mesh_root), STRANGER, "dashboard.pin")[0]["subject"] == "retail.ops"
    data = yaml.safe_load(path.read_text())
    data["editors"] = [STRANGER]
    path.write_text(yaml.safe_dump(data))
    mesh.dashboards.pin("retail.ops", tile, user=STRANGER)
    board = opened(mesh_root).dashboards.get("retail.ops")
    assert len(board.slots) == 2 and board.editors == [STRANGER]


def test_saving_a_dashboard_checks_the_owner_on_disk_not_the_one_in_memory(mesh_root, opened):
    mesh = opened(mesh_root)
    mesh.dashboards.pin("retail.ops", Tile(title="Branches", query="SELECT * FROM retail.branches"), user=TEAM)
    board = opened(mesh_root).dashboards.get("retail.ops")
    board.owner, board.title = STRANGER, "Mine now"
    before = digest(mesh_root)
    with pytest.raises(AccessDenied, match=f"{STRANGER} may not change retail.ops: only {TEAM}"):
        mesh.dashboards.save(board, user=STRANGER)
    assert digest(mesh_root) == before
    board.owner = TEAM
    mesh.dashboards.save(board, user=TEAM)
    assert opened(mesh_root).dashboards.get("retail.ops").title == "Mine now"


def test_mark_as_reviewed_needs_the_reviewed_owner_or_a_steward(mesh_root, tmp_path, opened):
    mesh = opened(mesh_root, state_dir=tmp_path / "state")
    done = review(mesh.evidence(), owner=OWNER)
    with pytest.raises(AccessDenied, match=f"only {OWNER}, the reviewed owner, or a steward may"):
        mesh.reviews.record(done, STRANGER)
    assert not mesh.state.query("SELECT 1 FROM sqlite_master WHERE name='owner_reviews'") or \
        not mesh.state.query("SELECT 1 FROM owner_reviews")
    assert refusals(mesh, STRANGER, "review.record")[0]["subject"] == f"owner:{OWNER}"
    mesh.reviews.record(done, OWNER)
    mesh.reviews.record(review(mesh.evidence(), domain="risk"), STEWARD)
    with pytest.raises(AccessDenied, match="risk-team@bank.example"):
        mesh.reviews.record(review(mesh.evidence(), domain="risk"), OWNER)
    assert len(mesh.state.query("SELECT 1 FROM owner_reviews")) == 2


def test_cli_review_record_refusal_exits_2(mesh_root):
    done = CliRunner().invoke(cli, ["review", str(mesh_root), "--owner", OWNER, "--record", STRANGER])
    assert done.exit_code == 2 and "may mark the review" not in done.output  # the refusal names who may
    assert f"only {OWNER}, the reviewed owner, or a steward may" in done.output


def test_init_makes_its_creator_the_first_steward(tmp_path, monkeypatch, opened):
    monkeypatch.setenv("MESHWORK_USER", "lea@shop.example")
    root = pub.init_mesh(tmp_path / "shop")
    assert yaml.safe_load((root / "mesh.yaml").read_text())["users"] == {"lea@shop.example": {"roles": ["steward"]}}
    mesh = opened(root)
    draft = mesh.publisher.draft_from_upload(b"a,b\n1,2\n", "x.csv", domain="sales", name="orders", owner="lea@shop.example")
    assert mesh.publisher.publish(draft).created_domain


def test_mark_as_reviewed_by_someone_else_is_a_plain_error_on_the_review_page(mesh_root, monkeypatch, opened):
    from apptest import open_app

    monkeypatch.setenv("MESHWORK_USER", STRANGER)
    at = open_app(mesh_root, "views/review.py")
    assert not at.exception, at.exception
    at.button(key="rv_record").click().run()
    assert not at.exception, at.exception
    assert any("the reviewed owner, or a steward may" in e.value for e in at.error)
    mesh = opened(mesh_root)
    assert refusals(mesh, STRANGER, "review.record")
