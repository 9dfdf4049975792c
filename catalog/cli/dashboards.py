"""`meshwork dashboard list|export`: the mesh's dashboards, and one exported as HTML or per-tile data."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from catalog.cli import app
from catalog.cli.common import open_or_exit
from catalog.access.identity import local_user

dashboard_app = typer.Typer(no_args_is_help=True, help="List dashboards and export them (HTML, CSV, Parquet).")
app.add_typer(dashboard_app, name="dashboard")

MESH = typer.Argument(..., help="the mesh folder (holds mesh.yaml)")


class ExportFormat(str, Enum):
    html = "html"
    csv = "csv"
    parquet = "parquet"


@dashboard_app.command("list")
def list_dashboards(mesh_path: Path = MESH) -> None:
    """Every dashboard with its owner, tile count and last view; then its problems as path:line: field: message."""
    mesh = open_or_exit(mesh_path)
    listing = mesh.dashboards.catalog()
    if listing.is_empty():
        typer.echo("no dashboards (pin a workbench cell to create one)")
    for row in listing.iter_rows(named=True):
        seen = f"last viewed {row['last_viewed'][:16]} by {row['last_viewed_by']}" if row["last_viewed"] else "never viewed"
        broken = f", {row['broken_tiles']} broken" if row["broken_tiles"] else ""
        typer.echo(f"{row['id']}\t{row['title']}\t{row['owner']}\t{row['tiles']} tiles{broken}\t{seen}")
    problems = mesh.dashboards.problems()
    for problem in problems:
        typer.echo(str(problem), err=True)
    if any(p.severity == "error" for p in problems):
        raise typer.Exit(1)


@dashboard_app.command("export")
def export(mesh_path: Path = MESH,
           dashboard: str = typer.Argument(..., help="<domain>.<name>"),
           out: Path = typer.Option(..., "--out", "-o", help="the .html file, or the folder for csv/parquet"),
           fmt: ExportFormat = typer.Option(ExportFormat.html, "--format", "-f"),
           role: str = typer.Option("analyst", "--role", help="whose view: masking and visibility of this role"),
           user: str = typer.Option(None, "--user", help="who exports (default: the local user)")) -> None:
    """Export a dashboard as it looks to ROLE: one self-contained HTML file, or one data file per tile."""
    mesh = open_or_exit(mesh_path)
    user = user or local_user(mesh)
    board = mesh.dashboards.get(dashboard)
    if fmt is ExportFormat.html:
        mesh.dashboards.export_html(board, role, user, out)
        typer.echo(f"wrote {out}")
        return
    files = mesh.dashboards.export_data(board, out, role, user, fmt.value)
    for title, where in files.items():
        typer.echo(f"{title}\t{where}")
    if any(isinstance(where, str) for where in files.values()):
        raise typer.Exit(1)
