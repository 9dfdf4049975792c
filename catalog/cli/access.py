"""`meshwork diff`, `meshwork access request|approve|reject|list` (access agreements with a plain request's
defaults: port `sql`, 30 days) and `meshwork audit`."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path

import polars as pl
import typer

from catalog.governance.changes import diff as diff_descriptors
from catalog.governance.changes import is_breaking, load_descriptor
from catalog.cli import app
from catalog.cli.common import fail, open_or_exit
from catalog.cli.viewer import ROLE, viewer
from catalog.access.identity import local_user
from catalog.cli.agreement import line as agreement_line
from catalog.text import csv_row, one_line

DEFAULT_DAYS = 30.0  # a plain access request runs this long unless it says otherwise
access_app = typer.Typer(no_args_is_help=True, help="Ask for, grant and list access to restricted products.")
app.add_typer(access_app, name="access")

MESH = typer.Argument(..., help="the mesh folder (holds mesh.yaml)")
VIEWER = typer.Option(None, "--user", help="list as this user (default: the local user); with --role, decides "
                                          "which products' rows are shown")
USER = typer.Option(None, "--user", help="who acts (default: MESHWORK_USER, identity.local_user, the OS user)")


class DiffFormat(str, Enum):
    text = "text"
    json = "json"


class AuditFormat(str, Enum):
    text = "text"
    csv = "csv"


@app.command()
def diff(old: Path = typer.Argument(..., help="the product descriptor before (YAML)"),
         new: Path = typer.Argument(..., help="the product descriptor after (YAML)"),
         fmt: DiffFormat = typer.Option(DiffFormat.text, "--format", help="text or json")) -> None:
    """Classify the changes between two versions of a product descriptor; exit 1 when one is breaking.

    For a domain's CI: `meshwork diff <(git show main:retail/products/customers.yaml) retail/products/customers.yaml`.
    """
    changes = diff_descriptors(load_descriptor(old), load_descriptor(new))
    if fmt == DiffFormat.json:
        typer.echo(json.dumps([{"severity": c.severity, "kind": c.kind, "column": c.column, "message": c.message}
                               for c in changes], indent=2))
    else:
        for change in changes:
            typer.echo(str(change))
        counts = {s: sum(c.severity == s for c in changes) for s in ("breaking", "warning", "info")}
        typer.echo(f"{counts['breaking']} breaking, {counts['warning']} warning(s), {counts['info']} info"
                   if changes else "no changes", err=True)
    raise typer.Exit(1 if is_breaking(changes) else 0)


@access_app.command("request")
def request(mesh_path: Path = MESH, product: str = typer.Argument(..., help="product id, <domain>.<name>"),
            purpose: str = typer.Option(..., "--purpose", help="what you need it for (the owner decides on it)"),
            pii: bool = typer.Option(False, "--pii", help="ask to see its personal data unmasked"),
            port: str = typer.Option("sql", "--port", help="the output port (default: the governed SQL view)"),
            days: float = typer.Option(None, "--days", help="how long, in days (default 30)"),
            until: str = typer.Option(None, "--until", help="or until this date (YYYY-MM-DD)"),
            user: str | None = USER) -> None:
    """Ask a product's owner for access (or for unmasked PII), with a purpose: an access agreement to a port
    (`meshwork agreement request` with the defaults of a plain request)."""
    mesh = open_or_exit(mesh_path)
    made = mesh.agreements.request(user or local_user(mesh), product, port, purpose,
                                   days if days is not None or until is not None else DEFAULT_DAYS, until=until,
                                   kind="pii" if pii else "access")
    typer.echo(f"agreement #{made.id}: {made.kind} on {made.product_id}:{made.port} for {made.requested_by}, "
               f"{made.status}; owners: {', '.join(sorted(mesh.access.owners_of(made.product_id)))}")


@access_app.command("approve")
def approve(mesh_path: Path = MESH, agreement_id: int = typer.Argument(..., help="the agreement number"),
            days: float = typer.Option(None, "--days", help="the grant ends this many days from now (default: "
                                                            "what was asked)"),
            until: str = typer.Option(None, "--until", help="the grant ends at this date (YYYY-MM-DD) or time"),
            user: str | None = USER) -> None:
    """Approve a requested agreement (owners only); its grant applies at once and ends at its expiry."""
    mesh = open_or_exit(mesh_path)
    if days is not None and until is not None:
        fail("give the grant's expiry with at most one of --days N or --until YYYY-MM-DD", code=2)
    made = mesh.agreements.approve(agreement_id, user or local_user(mesh), days, until)
    typer.echo(f"agreement #{made.id}: {made.status} - {made.kind} on {made.product_id} for {made.requested_by}"
               + (f" until {made.expires_at} (grant #{made.grant_id})" if made.grant_id else ""))


@access_app.command("reject")
def reject(mesh_path: Path = MESH, agreement_id: int = typer.Argument(..., help="the agreement number"),
           reason: str = typer.Option(..., "--reason", help="told to the requester and kept in the audit log"),
           user: str | None = USER) -> None:
    """Reject a requested agreement with a reason (owners only)."""
    mesh = open_or_exit(mesh_path)
    decided = mesh.agreements.reject(agreement_id, user or local_user(mesh), reason)
    typer.echo(f"agreement #{decided.id} rejected: {one_line(decided.reason or '')}")


@access_app.command("list")
def list_(mesh_path: Path = MESH, status: str = typer.Option(None, help="requested, active, expired, revoked, "
                                                                       "rejected or cancelled"),
          product: str = typer.Option(None, help="only this product"),
          grants: bool = typer.Option(False, "--grants", help="list grants (active, expired, revoked) instead"),
          role: str | None = ROLE, user: str | None = VIEWER) -> None:
    """List access agreements (or grants), newest first, about the products the viewer may list."""
    mesh = open_or_exit(mesh_path)
    listed = list(viewer(mesh, role, user).listed)
    if grants:
        frame = mesh.access.grants(product_id=product).filter(pl.col("product_id").is_in(listed))
        for row in frame.iter_rows(named=True):
            row = {k: one_line(v) if isinstance(v, str) else v for k, v in row.items()}
            typer.echo(f"#{row['id']:<4} {row['status']:8} {row['kind']:6} {row['product_id']:30} {row['user']:30} "
                       f"until {row['expires_at']}  by {row['granted_by']}")
    else:
        frame = mesh.agreements.agreements(product, None, status).filter(pl.col("product_id").is_in(listed))
        for row in frame.iter_rows(named=True):
            typer.echo(agreement_line(row))
    typer.echo(f"{frame.height} {'grant' if grants else 'agreement'}(s)", err=True)


@app.command()
def audit(mesh_path: Path = MESH, fmt: AuditFormat = typer.Option(AuditFormat.text, "--format", help="text or csv"),
          product: str = typer.Option(None, help="only events about this product"),
          role: str | None = ROLE, user: str | None = VIEWER) -> None:
    """Print the append-only audit log: requests, decisions, grant uses and refusals (events about products
    the viewer may not list are left out)."""
    mesh = open_or_exit(mesh_path)
    listed = list(viewer(mesh, role, user).listed)
    frame = mesh.access.audit(product).filter(pl.col("product_id").is_null() | pl.col("product_id").is_in(listed))
    if fmt == AuditFormat.csv:
        import csv
        import io

        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(frame.columns)
        writer.writerows(csv_row(row) for row in frame.iter_rows())
        typer.echo(out.getvalue(), nl=False)
        return
    for row in frame.iter_rows(named=True):
        row = {k: one_line(v) if isinstance(v, str) else v for k, v in row.items()}
        typer.echo(f"{row['ts']}  {row['outcome']:7} {row['action']:15} {row['actor']:28} "
                   f"{row['product_id'] or '-':28} {row['reason'] or ''}")
    typer.echo(f"{frame.height} event(s)", err=True)
