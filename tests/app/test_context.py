"""The mesh and the role live in the URL, validated against what the server serves and what the user holds:
a forged `?mesh=` or `?role=` falls back with a one-line note, opens nothing else and creates nothing on disk;
an open-mode mesh says plainly that anyone may pick any role; an enforced one offers only the roles held."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from apptest import open_app

ENFORCED = """
identity:
  mode: enforced
users:
  ana@bank.example: {roles: [analyst]}
  sam@bank.example: {roles: [steward]}
"""


def notes(at) -> str:
    return " ".join(i.value for i in at.info)


@pytest.fixture
def elsewhere(tmp_path: Path, minimesh: Path) -> Path:
    """A real mesh folder on the server that the app was not started with."""
    other = tmp_path / "secret_mesh"
    shutil.copytree(minimesh, other)
    return other


def test_the_url_carries_mesh_and_role_on_every_page(minimesh):
    at = open_app(minimesh, "views/home.py")
    assert not at.exception
    assert at.query_params["mesh"] == "mini" and at.query_params["role"] == "analyst"
    assert at.selectbox(key="mesh_choice").value == "mini"
    assert list(at.selectbox(key="mesh_choice").options)[:1] == ["Mini"]


@pytest.mark.parametrize("forged", ["{elsewhere}", "{elsewhere}/../secret_mesh", "/etc", "/nonexistent/x",
                                    "../../etc/passwd", "secret_mesh", "<img src=x onerror=alert(1)>"])
def test_a_mesh_the_server_does_not_serve_is_never_opened(minimesh, elsewhere, forged):
    at = open_app(minimesh, "views/home.py", {"mesh": forged.format(elsewhere=elsewhere)})
    assert not at.exception and not at.error
    assert at.title[0].value == "Mini mesh", "the session stays on its own mesh"
    assert notes(at) == "This link names a mesh this server does not serve; showing Mini.", \
        "the same words whatever the value names: nothing says whether a path exists"
    assert at.query_params["mesh"] == "mini"
    assert not (elsewhere / ".meshwork").exists(), "nothing was created in the other folder"


def test_a_served_mesh_named_in_the_url_opens(minimesh, elsewhere, monkeypatch):
    monkeypatch.setenv("MESHWORK_MESHES", str(elsewhere))
    at = open_app(minimesh, "views/home.py", {"mesh": "secret_mesh"})
    assert not at.exception and not notes(at)
    assert at.query_params["mesh"] == "secret_mesh"
    assert "secret_mesh" in at.selectbox(key="mesh_choice").options or \
        "Secret Mesh" in at.selectbox(key="mesh_choice").options


def test_open_mode_says_anyone_may_choose_any_role(minimesh):
    at = open_app(minimesh, "views/home.py")
    sidebar = " ".join(c.value for c in at.sidebar.caption)
    assert "anyone may choose any role here" in sidebar
    assert set(at.selectbox(key="role").options) == {"analyst", "steward", "risk_officer"}


@pytest.mark.parametrize("switch", ["mesh.yaml", "MESHWORK_IDENTITY"])
def test_an_enforced_user_cannot_pick_steward_nor_get_it_by_url(minimesh, monkeypatch, switch):
    if switch == "mesh.yaml":
        (minimesh / "mesh.yaml").write_text((minimesh / "mesh.yaml").read_text() + ENFORCED)
    else:
        monkeypatch.setenv("MESHWORK_IDENTITY", "enforced")
    at = open_app(minimesh, "views/workbench.py", {"role": "steward"}, user="ana@bank.example",
                  wb_plain_editor=True)
    assert not at.exception
    assert list(at.selectbox(key="role").options) == ["analyst"]
    assert at.session_state["role"] == "analyst" and at.query_params["role"] == "analyst"
    assert "role you may not act as" in notes(at)
    assert "anyone may choose" not in " ".join(c.value for c in at.sidebar.caption)
    assert "personal data" not in at.markdown[0].value or "unmasked" not in at.markdown[0].value


def test_an_enforced_steward_gets_the_role_from_a_link(minimesh):
    (minimesh / "mesh.yaml").write_text((minimesh / "mesh.yaml").read_text() + ENFORCED)
    at = open_app(minimesh, "views/home.py", {"role": "steward"}, user="sam@bank.example")
    assert not at.exception and at.session_state["role"] == "steward" and not notes(at)
