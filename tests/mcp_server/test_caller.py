"""Who an MCP call runs as: tokens in mesh.yaml stored only as SHA-256 hashes, validated with file and line,
resolved in constant time, refused on record; `meshwork mcp-token` prints a token and the entry for it."""

from __future__ import annotations

import hashlib

import pytest
import yaml
from typer.testing import CliRunner

import catalog
from catalog.cli import app as cli
from catalog.descriptors.model import McpToken
from catalog.errors import AccessDenied
from catalog.mcp.caller import TokenBook, digest, local_caller
from mcpmesh import ANA, EVE, SAM, TOKENS, build_mcp_mesh
from minimesh import build_minimesh


def append(root, text: str):
    with open(root / "mesh.yaml", "a", encoding="utf-8") as handle:
        handle.write(text)
    return root


def problems(root) -> list[str]:
    mesh = catalog.open_mesh(root)
    try:
        return [str(p) for p in mesh.problems if p.path.endswith("mesh.yaml")]
    finally:
        mesh.close()


@pytest.mark.parametrize("entry, line, says", [
    ("{user: ana@bank.example, sha256: mwk_plain_token}", 7, "mcp.tokens.0.sha256: sha256 must be the 64 hex"),
    ("{user: ana@bank.example, token: abc, sha256: " + "a" * 64 + "}", 7, "mcp.tokens.0.token"),
    ("{user: 'ana smith', sha256: " + "a" * 64 + "}", 7, "mcp.tokens.0.user: user 'ana smith' must be an email"),
    ("{user: ana@bank.example, role: wizard, sha256: " + "a" * 64 + "}", 5, "names the role 'wizard', which this mesh"),
])
def test_a_bad_token_entry_is_a_problem_with_file_and_line(tmp_path, entry, line, says):
    root = append(build_minimesh(tmp_path / "mini"), f"mcp:\n  tokens:\n    - {entry}\n")
    found = problems(root)
    assert any(f"mesh.yaml:{line}:" in p and says in p for p in found), found


def test_two_entries_with_one_hash_are_refused(tmp_path):
    hashed = "b" * 64
    root = append(build_minimesh(tmp_path / "mini"), f"mcp:\n  tokens:\n    - {{user: a@x.example, sha256: {hashed}}}\n"
                                                     f"    - {{user: b@x.example, sha256: {hashed}}}\n")
    assert any("mcp.tokens" in p and "same sha256" in p for p in problems(root))


def test_an_invalid_mesh_yaml_accepts_no_token(tmp_path):
    """mesh.yaml that does not validate falls back to defaults: no token opens anything (fail closed)."""
    root = append(build_mcp_mesh(tmp_path / "mini"), "mcp_typo: true\n")
    mesh = catalog.open_mesh(root)
    try:
        with pytest.raises(AccessDenied, match="not one mesh 'mini' accepts"):
            TokenBook(mesh).caller(TOKENS[SAM])
    finally:
        mesh.close()


def test_tokens_resolve_to_their_user_and_role_and_refusals_are_recorded(tmp_path):
    mesh = catalog.open_mesh(build_mcp_mesh(tmp_path / "mini"))
    try:
        book = TokenBook(mesh)
        ana, sam = book.caller(TOKENS[ANA]), book.caller(TOKENS[SAM])
        assert (ana.user, ana.role, ana.via) == (ANA, "analyst", "http")
        assert (sam.user, sam.role) == (SAM, "steward")
        for token, says in (("nope", "not one mesh"), ("", "needs a bearer token"),
                            (TOKENS[EVE], "does not hold the role 'steward'")):
            with pytest.raises(AccessDenied, match=says):
                book.caller(token)
        audit = mesh.access.audit().to_dicts()
        assert [r["outcome"] for r in audit] == ["refused"] * 3
        assert not any(t in str(audit) for t in ("nope", *TOKENS.values()))
        assert all(e.sha256 != TOKENS[ANA] and len(e.sha256) == 64 for e in mesh.descriptor.mcp.tokens)
    finally:
        mesh.close()


def test_the_stdio_caller_is_the_local_user_held_to_enforced_mode(tmp_path, monkeypatch):
    mesh = catalog.open_mesh(build_mcp_mesh(tmp_path / "mini"))
    try:
        monkeypatch.setenv("MESHWORK_USER", SAM)
        assert local_caller(mesh).role == "analyst"  # the least-privileged role unless asked
        assert local_caller(mesh, "steward").role == "steward"
        monkeypatch.setenv("MESHWORK_USER", ANA)
        with pytest.raises(AccessDenied, match="does not hold the role 'steward'"):
            local_caller(mesh, "steward")
    finally:
        mesh.close()


def test_mcp_token_prints_a_token_and_an_entry_holding_only_its_hash(tmp_path):
    result = CliRunner().invoke(cli, ["mcp-token", SAM, "--role", "steward", "--label", "sam laptop"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[0]
    entry = yaml.safe_load(result.stderr.split("\n", 1)[1])[0]
    assert entry == {"user": SAM, "role": "steward", "sha256": hashlib.sha256(token.encode()).hexdigest(),
                     "label": "sam laptop"}
    assert token not in result.stderr and McpToken(**entry).sha256 == digest(token)
    flow = yaml.safe_dump(entry, default_flow_style=True).strip()
    root = append(build_minimesh(tmp_path / "mini"),
                  f"users:\n  {SAM}: {{roles: [steward]}}\nmcp:\n  tokens:\n    - {flow}\n")
    mesh = catalog.open_mesh(root)
    try:
        assert TokenBook(mesh).caller(token).role == "steward"
    finally:
        mesh.close()


def test_over_http_the_token_not_the_command_line_names_the_role(tmp_path):
    result = CliRunner().invoke(cli, ["mcp", str(build_mcp_mesh(tmp_path / "mini")), "--http", "--role", "steward"])
    assert result.exit_code == 2 and "each bearer token's entry in mesh.yaml names its role" in result.output
