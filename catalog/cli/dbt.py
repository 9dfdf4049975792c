"""`meshwork import dbt MESH path/to/target/manifest.json`: a dbt project's models and sources as products."""

from __future__ import annotations

from pathlib import Path

import typer

from catalog.cli.common import fail, open_or_exit
from catalog.cli.interop import import_app


@import_app.command("dbt")
def import_dbt(mesh_path: Path = typer.Argument(..., help="the mesh folder (holds mesh.yaml)"),
               manifest: Path = typer.Argument(..., help="the project's target/manifest.json (after `dbt build`)"),
               domain: str = typer.Option(None, "--domain", help="the domain (default: from the project's name)"),
               owner: str = typer.Option(None, "--owner", help="owner e-mail of products whose meta names none"),
               database: Path = typer.Option(None, "--database", help="dbt's DuckDB file (default: <database>.duckdb "
                                                                      "in the project folder)"),
               postgres: list[str] = typer.Option([], "--postgres", help="NAME=DSN: dbt database NAME is this "
                                                                         "PostgreSQL database (repeatable)"),
               user: str | None = typer.Option(None, "--user", help="who imports (default: MESHWORK_USER, "
                                                                    "identity.local_user, the OS user)"),
               allow_violations: bool = typer.Option(False, "--allow-violations",
                                                     help="write products that break a policy of severity error"),
               ) -> None:
    """Register models, seeds and sources as products (read in place), tests as checks, exposures as consumers,
    and the manifest's lineage; prints what was written and what was only partly supported."""
    databases = dict(item.split("=", 1) for item in postgres if "=" in item)
    if len(databases) != len(postgres):
        fail("--postgres takes NAME=DSN (the dbt database name, then the connection string)")
    mesh = open_or_exit(mesh_path)
    try:
        result = mesh.import_dbt(manifest, domain=domain, owner=owner, database=database, user=user,
                                 allow_violations=allow_violations, postgres=databases)
    finally:
        mesh.close()
    for note in result.notes:
        typer.echo(f"note: {note}", err=True)
    typer.echo(f"dbt project {result.project} -> domain {result.domain}: {len(result.published)} product(s) written, "
               f"{len(result.unchanged)} unchanged, {result.checks} check(s), {result.lineage_events} lineage event(s)")
    for product_id in result.published:
        typer.echo(f"  wrote {product_id}")
    for consumer in result.consumers:
        typer.echo(f"  consumer: {consumer}")
