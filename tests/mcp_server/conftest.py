"""The MCP server as a real `meshwork mcp --http` process on 127.0.0.1, one per test module."""

from __future__ import annotations

import subprocess

import pytest

from mcpmesh import build_mcp_mesh, free_port, meshwork, server_env, wait_for_port


@pytest.fixture(scope="module")
def http_server(tmp_path_factory):
    """`meshwork mcp MESH --http` on 127.0.0.1 (discovery: hidden), one per module; yields (url, mesh root)."""
    root = build_mcp_mesh(tmp_path_factory.mktemp("mcp-http") / "mini", discovery="hidden")
    port = free_port()
    proc = subprocess.Popen(meshwork("mcp", str(root), "--http", "--port", str(port)), env=server_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}/mcp", root
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    assert "Traceback" not in stderr, stderr
