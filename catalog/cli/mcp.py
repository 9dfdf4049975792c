"""`meshwork mcp`: serve a mesh to AI assistants over the Model Context Protocol; `meshwork mcp-token`: a new
bearer token for the HTTP transport, and the mesh.yaml entry that stores only its hash."""

from __future__ import annotations

from pathlib import Path

import typer

from catalog.cli import app
from catalog.cli.common import fail, open_or_exit
from catalog.descriptors.yamlio import dump_yaml


@app.command()
def mcp(
    path: Path = typer.Argument(..., metavar="MESH", help="the mesh folder (holds mesh.yaml)"),
    http: bool = typer.Option(False, "--http", help="serve streamable HTTP (bearer tokens from mesh.yaml) "
                                                    "instead of stdio"),
    host: str = typer.Option("127.0.0.1", "--host", help="with --http: the address to listen on"),
    port: int = typer.Option(8765, "--port", min=1, max=65535, help="with --http: the port (the endpoint is /mcp)"),
    role: str | None = typer.Option(None, "--role", help="stdio: act as this role (default: the local user's "
                                                         "least-privileged role; enforced meshes: a role they hold)"),
) -> None:
    """Serve MESH over MCP. Over stdio (what a desktop assistant launches) every call runs as the local user
    (MESHWORK_USER, identity.local_user, the OS user); over --http as the user of the request's bearer token.
    Masking, restrictions, grants, usage events and the audit log apply as in a workbench session.

    \b
    meshwork mcp sample_data/banking
    meshwork mcp sample_data/banking --http --port 8765
    """
    mesh = open_or_exit(path)
    try:
        if http:
            if role is not None:
                fail("--role is for stdio: over HTTP each bearer token's entry in mesh.yaml names its role", 2)
            from catalog.mcp.http import serve_http

            if not mesh.descriptor.mcp.tokens:
                typer.echo("warning: mesh.yaml has no `mcp.tokens`, so every request will be refused; "
                           "add one with `meshwork mcp-token USER`", err=True)
            typer.echo(f"meshwork mcp: {mesh.name} on http://{host}:{port}/mcp", err=True)
            serve_http(mesh, host, port)
        else:
            from catalog.mcp.caller import local_caller
            from catalog.mcp.server import serve_stdio

            caller = local_caller(mesh, role)
            typer.echo(f"meshwork mcp: {mesh.name} over stdio as {caller.user} ({caller.role})", err=True)
            serve_stdio(mesh, caller)
    finally:
        mesh.close()


@app.command("mcp-token")
def mcp_token(
    user: str = typer.Argument(..., help="who the token acts as (an email)"),
    role: str | None = typer.Option(None, "--role", help="the role it acts as (default: the user's "
                                                         "least-privileged role)"),
    label: str = typer.Option("", "--label", help="where it is used, e.g. 'ana laptop'"),
) -> None:
    """Print a new random bearer token (give it to USER once; it is not stored) and the `mcp.tokens` entry for
    mesh.yaml, which holds only its SHA-256."""
    from catalog.mcp.caller import new_token

    token, hashed = new_token()
    entry = {"user": user, **({"role": role} if role else {}), "sha256": hashed, **({"label": label} if label else {})}
    typer.echo(token)
    typer.echo("# add under `mcp: tokens:` in mesh.yaml:\n" + dump_yaml([entry]), err=True)
