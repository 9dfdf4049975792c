"""The masking key lives in the state store: every process and every server over one store makes the same
tokens, whatever state folder each has (replicas on several hosts share the store, not the folder); it is
created once under the store's lock, and a mesh whose key was still the state folder's `salt` file keeps it,
so its tokens do not change. Both backends (tests/statebackends.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import catalog
from tests.statebackends import backend, state_pg_database, state_url  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
TOKENS = "SELECT customer_id FROM retail.customers ORDER BY customer_id"
PROBE = """
import json, sys
import catalog
mesh = catalog.open_mesh(sys.argv[1], state_dir=sys.argv[2])
tokens = mesh.session("analyst").sql(%r)["customer_id"].to_list()
print(json.dumps({"salt": mesh.salt, "tokens": tokens}))
mesh.close()
""" % TOKENS


def _env(state_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "MESHWORK_STATE_URL"}
    if state_url:
        env["MESHWORK_STATE_URL"] = state_url
    return {**env, "PYTHONPATH": str(REPO)}


def _processes(folders: list[tuple[Path, Path]], state_url: str | None) -> list[dict]:
    """Open the mesh in one new process per (mesh folder, state folder), all at once: they race to make the key."""
    running = [subprocess.Popen([sys.executable, "-c", PROBE, str(mesh), str(state)], env=_env(state_url),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for mesh, state in folders]
    out = []
    for p in running:
        stdout, stderr = p.communicate(timeout=120)
        assert p.returncode == 0, stderr[-2000:]
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


def test_processes_over_one_store_make_the_same_tokens(minimesh, tmp_path, state_url):
    if state_url:  # PostgreSQL: three "hosts", each with its own copy of the mesh and its own state folder
        folders = []
        for n in range(3):
            copy = tmp_path / f"host{n}" / "mini"
            shutil.copytree(minimesh, copy)
            folders.append((copy, tmp_path / f"host{n}" / "state"))
    else:  # SQLite: the store is the state folder's file, so the processes share the folder
        folders = [(minimesh, tmp_path / "state")] * 3
    seen = _processes(folders, state_url)
    assert len({s["salt"] for s in seen}) == 1
    assert seen[0]["tokens"] == seen[1]["tokens"] == seen[2]["tokens"]
    raw = catalog.open_mesh(minimesh).session("steward").sql(TOKENS)["customer_id"].to_list()
    assert not set(raw) & set(seen[0]["tokens"]), "the analyst's ids are tokens, not the raw ids"
    for _, state in folders:
        assert not (state / "salt").exists(), "the key is in the store, not in a file of the state folder"


def test_a_mesh_whose_key_was_a_file_keeps_its_tokens(minimesh, tmp_path, monkeypatch, state_url):
    state = tmp_path / "state"
    state.mkdir()
    (state / "salt").write_text("f" * 64 + "\n")  # the key a previous version made
    if state_url:
        monkeypatch.setenv("MESHWORK_STATE_URL", state_url)
    mesh = catalog.open_mesh(minimesh, state_dir=state)
    assert mesh.salt == "f" * 64
    [(origin,)] = mesh.state.query("SELECT origin FROM mesh_keys WHERE name = 'masking_salt'")
    assert "carried over" in origin
    mesh.close()
    # another process (on PostgreSQL: another host, with no such file) makes the same tokens as this one
    elsewhere = tmp_path / "elsewhere" if state_url else state
    [a, b] = _processes([(minimesh, state), (minimesh, elsewhere)], state_url)
    assert a["salt"] == b["salt"] == "f" * 64 and a["tokens"] == b["tokens"]


def test_the_key_is_created_once_and_never_replaced(minimesh, tmp_path, monkeypatch, state_url):
    if state_url:
        monkeypatch.setenv("MESHWORK_STATE_URL", state_url)
    first = catalog.open_mesh(minimesh, state_dir=tmp_path / "state")
    key = first.salt
    (tmp_path / "state" / "salt").write_text("0" * 64)  # a file appearing later does not replace the store's key
    again = catalog.open_mesh(minimesh, state_dir=tmp_path / "state")
    assert again.salt == key
    assert again.state.query("SELECT count(*) FROM mesh_keys") == [(1,)]
    first.close()
    again.close()
