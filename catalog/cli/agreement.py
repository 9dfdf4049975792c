"""`meshwork agreement list|request|approve|reject|cancel|renew|revoke|expiring`: access agreements to a port."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import typer

from catalog.access.identity import local_user
from catalog.cli import app
from catalog.cli.common import open_or_exit
from catalog.cli.viewer import ROLE, viewer
from catalog.text import one_line

agreement_app = typer.Typer(no_args_is_help=True, help="Purpose- and time-bound access to a product's port.")
app.add_typer(agreement_app, name="agreement")

MESH = typer.Argument(..., help="the mesh folder (holds mesh.yaml)")
ID = typer.Argument(..., help="the agreement number")
USER = typer.Option(None, "--user", help="who acts (default: MESHWORK_USER, identity.local_user, the OS user)")


def line(row: dict) -> str:
    """One agreement on one line (purpose last), its stored text made one safe line."""
    row = {k: one_line(v) if isinstance(v, str) else v for k, v in row.items()}
    consumer = row["consumer"] if row["consumer_kind"] == "person" else f"{row['consumer_kind']}:{row['consumer']}"
    until = f" until {row['expires_at']}" if row["expires_at"] else f" for {row['days']:g} days"
    return (f"#{row['id']:<4} {row['status']:9} {row['product_id']}:{row['port']} {row['kind']:6} {consumer}"
            f"{until} ({row['approval']})  {row['purpose']}")


def _done(made) -> None:
    typer.echo(f"agreement #{made.id}: {made.status} - {made.product_id}:{made.port} ({made.kind}) for "
               f"{made.consumer}" + (f" until {made.expires_at}" if made.expires_at else ""))


@agreement_app.command("list")
def list_(mesh_path: Path = MESH, product: str = typer.Option(None, help="only this product"),
          status: str = typer.Option(None, help="requested, active, expired, revoked, rejected or cancelled"),
          mine: bool = typer.Option(False, "--mine", help="only the ones I asked for"),
          expiring: bool = typer.Option(False, "--expiring", help="active ones ending within 7 days on products "
                                                                  "I own (the reminder)"),
          role: str | None = ROLE, user: str | None = USER) -> None:
    """List agreements, newest first, about the products the viewer may list."""
    mesh = open_or_exit(mesh_path)
    listed = list(viewer(mesh, role, user).listed)
    who = user or local_user(mesh.declared)
    frame = (mesh.agreements.expiring(who) if expiring else
             mesh.agreements.agreements(product, who if mine else None, status))
    frame = frame.filter(pl.col("product_id").is_in(listed))
    for row in frame.iter_rows(named=True):
        typer.echo(line(row))
    typer.echo(f"{frame.height} agreement(s)", err=True)


@agreement_app.command("request")
def request(mesh_path: Path = MESH, product: str = typer.Argument(..., help="product id, <domain>.<name>"),
            port: str = typer.Option("sql", "--port", help="the output port (default: the governed SQL view)"),
            purpose: str = typer.Option(..., "--purpose", help="what you need it for"),
            days: float = typer.Option(None, "--days", help="how long, in days"),
            until: str = typer.Option(None, "--until", help="or until this date (YYYY-MM-DD)"),
            pii: bool = typer.Option(False, "--pii", help="ask to see its personal data unmasked"),
            consumer: str = typer.Option(None, "--for", help="product:<id> or domain:<name> you ask for"),
            user: str | None = USER) -> None:
    """Ask for a product's port with a purpose and a duration; an `auto` port is active at once."""
    mesh = open_or_exit(mesh_path)
    made = mesh.agreements.request(user or local_user(mesh.declared), product, port, purpose, days, until=until,
                                   kind="pii" if pii else "access", consumer=consumer)
    _done(made)


@agreement_app.command("approve")
def approve(mesh_path: Path = MESH, agreement_id: int = ID, user: str | None = USER) -> None:
    """Approve as an owner (or a steward, for owner+steward ports); active once every approval is in."""
    mesh = open_or_exit(mesh_path)
    _done(mesh.agreements.approve(agreement_id, user or local_user(mesh.declared)))


@agreement_app.command("reject")
def reject(mesh_path: Path = MESH, agreement_id: int = ID, reason: str = typer.Option(..., "--reason"),
           user: str | None = USER) -> None:
    """Reject a requested agreement (an owner or a steward), with a reason."""
    mesh = open_or_exit(mesh_path)
    _done(mesh.agreements.reject(agreement_id, user or local_user(mesh.declared), reason))


@agreement_app.command("cancel")
def cancel(mesh_path: Path = MESH, agreement_id: int = ID, user: str | None = USER) -> None:
    """Withdraw your own request before it is decided."""
    mesh = open_or_exit(mesh_path)
    _done(mesh.agreements.cancel(agreement_id, user or local_user(mesh.declared)))


@agreement_app.command("renew")
def renew(mesh_path: Path = MESH, agreement_id: int = ID,
          days: float = typer.Option(None, "--days", help="days more (default: its duration again)"),
          until: str = typer.Option(None, "--until", help="or until this date (YYYY-MM-DD)"),
          user: str | None = USER) -> None:
    """Renew an active or expired agreement (owners only)."""
    mesh = open_or_exit(mesh_path)
    _done(mesh.agreements.renew(agreement_id, user or local_user(mesh.declared), days, until))


@agreement_app.command("revoke")
def revoke(mesh_path: Path = MESH, agreement_id: int = ID, reason: str = typer.Option(..., "--reason"),
           user: str | None = USER) -> None:
    """End an active agreement now (an owner, a steward or the consumer); its grant ends with it."""
    mesh = open_or_exit(mesh_path)
    _done(mesh.agreements.revoke(agreement_id, user or local_user(mesh.declared), reason))


@agreement_app.command("expire")
def expire(mesh_path: Path = MESH,
           as_of: str = typer.Option(None, "--as-of", help="end the ones due by this date or time (default: now); "
                                                           "a later one ends them early (owners and stewards)"),
           user: str | None = USER) -> None:
    """End the active agreements whose expiry is due, and their grants (the scheduled job)."""
    mesh = open_or_exit(mesh_path)
    ended = mesh.agreements.expire_due(user or local_user(mesh.declared), as_of)
    for made in ended:
        _done(made)
    typer.echo(f"{len(ended)} agreement(s) expired", err=True)
