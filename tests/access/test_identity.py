"""Identity: users and groups give roles; enforced meshes refuse a role a user does not hold."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import catalog
from catalog.access import identity


def configure(root: Path, mode: str = "enforced", **identity_extra) -> Path:
    """Give the minimesh an identity section: ana is a steward through a group, rui a risk officer,
    bo holds only the default role; the owners of the products are named so they can decide on requests."""
    spec = yaml.safe_load((root / "mesh.yaml").read_text())
    spec["identity"] = {"mode": mode, **identity_extra}
    spec["users"] = {
        "Ana.Silva@bank.example": {"groups": ["stewards"]},
        "rui.costa@bank.example": {"roles": ["risk_officer"]},
        "bo@bank.example": {"roles": []},
        "ghost@bank.example": {"roles": ["superuser"]},
    }
    spec["groups"] = {"stewards": {"roles": ["steward"]}}
    (root / "mesh.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return root


@pytest.fixture(autouse=True)
def _no_env_user(monkeypatch):
    monkeypatch.delenv("MESHWORK_USER", raising=False)


def test_open_mesh_lets_anyone_pick_any_role(minimesh):
    mesh = catalog.open_mesh(minimesh)
    assert set(mesh.roles_for("stranger@elsewhere.example")) == {"analyst", "steward", "risk_officer"}
    df = mesh.session(role="steward", user="stranger@elsewhere.example").sql(
        "SELECT email FROM retail.customers WHERE customer_id = 'C1'")
    assert df["email"][0] == "ana@bank.example"


def test_enforced_mesh_gives_roles_from_users_and_groups(minimesh):
    mesh = catalog.open_mesh(configure(minimesh))
    assert mesh.roles_for("ana.silva@bank.example") == ["analyst", "steward"]  # group, case-insensitive email
    assert mesh.roles_for("rui.costa@bank.example") == ["analyst", "risk_officer"]
    assert mesh.roles_for("bo@bank.example") == ["analyst"]
    assert mesh.roles_for("ghost@bank.example") == ["analyst"]  # a role the mesh lacks is not created
    assert mesh.roles_for("nobody@bank.example") == ["analyst"]
    ana = mesh.principal("ANA.SILVA@bank.example ")
    assert ana.user == "ana.silva@bank.example" and ana.known and ana.enforced


def test_enforced_session_refuses_a_role_the_user_does_not_hold_and_records_it(minimesh):
    mesh = catalog.open_mesh(configure(minimesh))
    with pytest.raises(catalog.AccessDenied, match="bo@bank.example does not hold the role 'steward'"):
        mesh.session(role="steward", user="bo@bank.example")
    refusal = mesh.access.audit().row(-1, named=True)
    assert (refusal["actor"], refusal["action"], refusal["outcome"], refusal["role"]) == \
        ("bo@bank.example", "session.open", "refused", "steward")
    email = mesh.session(role="steward", user="ana.silva@bank.example").sql(
        "SELECT email FROM retail.customers WHERE customer_id = 'C1'")["email"][0]
    assert email == "ana@bank.example"


def test_unknown_or_forged_identity_gets_the_least_privileged_view(minimesh):
    mesh = catalog.open_mesh(configure(minimesh))
    for forged in ("", "   ", "evil\r\nX-Forwarded-Email: ana.silva@bank.example", "a b@c.example", None):
        who = mesh.principal(forged, source="header")
        assert who.user == identity.ANONYMOUS and who.roles == ("analyst",)
    with pytest.raises(catalog.AccessDenied):
        mesh.session(role="steward", user="evil\nana.silva@bank.example")
    masked = mesh.session(role="analyst", user="nobody@bank.example").sql("SELECT email FROM retail.customers")
    assert "ana@bank.example" not in masked["email"].to_list()


def test_anonymous_app_visitor_gets_only_the_default_role_even_in_open_mode(minimesh):
    mesh = catalog.open_mesh(minimesh)
    assert mesh.principal(None, source="header").roles == ("analyst",)
    assert len(mesh.principal("ana.silva@bank.example", source="header").roles) == 3


def test_default_role_can_be_named_in_the_mesh(minimesh):
    spec = yaml.safe_load((minimesh / "mesh.yaml").read_text())
    spec["roles"]["guest"] = {"description": "sees unrestricted products, masked", "pii": False}
    (minimesh / "mesh.yaml").write_text(yaml.safe_dump(spec))
    mesh = catalog.open_mesh(configure(minimesh, default_role="guest"))
    assert mesh.roles_for("nobody@bank.example") == ["guest"]
    assert mesh.roles_for("ana.silva@bank.example") == ["guest", "steward"]
    with pytest.raises(catalog.AccessDenied):
        mesh.session(role="analyst", user="nobody@bank.example")


def test_session_without_a_user_acts_as_the_configured_local_user(minimesh):
    mesh = catalog.open_mesh(configure(minimesh, local_user="ana.silva@bank.example"))
    session = mesh.session(role="steward")
    assert session.user == "ana.silva@bank.example"
    session.sql("SELECT count(*) FROM retail.customers")
    assert mesh.usage()["user"].to_list() == ["ana.silva@bank.example"]


def test_a_typo_in_an_enforced_mesh_yaml_fails_closed(minimesh):
    configure(minimesh)
    text = (minimesh / "mesh.yaml").read_text().replace("title: Mini mesh", "titel: Mini mesh")
    (minimesh / "mesh.yaml").write_text(text)
    mesh = catalog.open_mesh(minimesh)
    assert any(p.field == "titel" for p in mesh.problems)
    assert identity.config(mesh).mode == "enforced"
    assert mesh.roles_for("ana.silva@bank.example") == ["analyst"]
    with pytest.raises(catalog.AccessDenied):
        mesh.session(role="steward", user="ana.silva@bank.example")


def test_user_roles_frame_lists_each_configured_user(minimesh):
    frame = identity.user_roles_frame(catalog.open_mesh(configure(minimesh)))
    rows = {r["user"]: r["roles"] for r in frame.iter_rows(named=True)}
    assert rows["ana.silva@bank.example"] == "analyst, steward"
    assert rows["bo@bank.example"] == "analyst"
