"""What the MCP tests share: a small enforced mesh with a token per person, and how to start `meshwork mcp`.

The tests are in tests/mcp_server, not tests/mcp: a package named `mcp` on the tests' path would hide the SDK."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Awaitable, Callable, TypeVar

import anyio

from mcp.shared.exceptions import MCPError

from catalog.mcp.caller import digest
from minimesh import build_minimesh

T = TypeVar("T")

REPO = Path(__file__).resolve().parents[2]
ANA = "ana.analyst@bank.example"  # analyst
BO = "bo.analyst@bank.example"  # analyst, who is granted the restricted product in one test
SAM = "sam.steward@bank.example"  # steward
EVE = "eve@bank.example"  # holds no role, yet her token claims the steward's
TOKENS = {ANA: "mwk_ana_secret", BO: "mwk_bo_secret", SAM: "mwk_sam_secret", EVE: "mwk_eve_secret"}
RAW_NAMES = {"Ana Silva", "Bo Chen", "Cy Diaz"}  # retail.customers.full_name as the parquet file holds it


def build_mcp_mesh(root: Path, discovery: str = "listed") -> Path:
    """The mini mesh in enforced mode: Ana and Bo analysts, Sam a steward, and a token for each (and Eve)."""
    root = build_minimesh(root)
    with open(root / "mesh.yaml", "a", encoding="utf-8") as handle:
        handle.write(f"discovery: {discovery}\nidentity: {{mode: enforced}}\n"
                     f"users:\n  {SAM}: {{roles: [steward]}}\n  {ANA}: {{roles: [analyst]}}\n"
                     f"  {BO}: {{roles: [analyst]}}\n"
                     "mcp:\n  sample_rows: 2\n  max_rows: 50\n  tokens:\n"
                     f"  - {{user: {ANA}, sha256: {digest(TOKENS[ANA])}, label: ana laptop}}\n"
                     f"  - {{user: {BO}, sha256: {digest(TOKENS[BO])}}}\n"
                     f"  - {{user: {SAM}, role: steward, sha256: {digest(TOKENS[SAM])}}}\n"
                     f"  - {{user: {EVE}, role: steward, sha256: {digest(TOKENS[EVE])}}}\n")
    return root


def meshwork(*args: str) -> list[str]:
    return [sys.executable, "-c", "from catalog.cli import main; main()", *args]


def server_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), **extra}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"meshwork mcp --http exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("meshwork mcp --http did not listen in time")


def mcp_error(exc: BaseException) -> MCPError:
    """The MCPError inside what the SDK's client raised (its task groups wrap an error of the handshake)."""
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    assert isinstance(exc, MCPError), repr(exc)
    return exc


def run_client(main: Callable[[], Awaitable[T]]) -> T:
    """`anyio.run(main)` on a thread of its own: the SDK's client needs an event loop of its own, and another
    test in the same worker may have left one running on the main thread (a Jupyter kernel client does)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mcp-client") as pool:
        return pool.submit(anyio.run, main).result()
