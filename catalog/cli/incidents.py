"""`meshwork incidents list|show|ack|assign|note|resolve`: incidents per (product, cause) from the shell."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from catalog.cli import app
from catalog.cli.common import fail, open_or_exit
from catalog.cli.viewer import ROLE, USER, viewer

incidents_app = typer.Typer(no_args_is_help=True, help="Incidents the monitor opened: list, acknowledge, "
                                                      "assign, annotate and resolve them.")
app.add_typer(incidents_app, name="incidents")

MESH = typer.Argument(..., help="the mesh folder (holds mesh.yaml)")
ID = typer.Argument(..., help="the incident's number (`meshwork incidents list`)")
NOTE = typer.Option(None, "--note", help="a note kept in the incident's history")


@incidents_app.command("list")
def list_incidents(
    path: Path = MESH,
    state: str = typer.Option("open", "--state", help="open, new, acknowledged, assigned, resolved or all"),
    product: str | None = typer.Option(None, "--product"),
    domain: str | None = typer.Option(None, "--domain"),
    assignee: str | None = typer.Option(None, "--assignee"),
    upstream: bool = typer.Option(False, "--upstream", help="open incidents upstream of --product (or of the "
                                                            "products the user owns)"),
    as_json: bool = typer.Option(False, "--json"),
    role: str | None = ROLE,
    user: str | None = USER,
) -> None:
    """Incidents newest first, of the products the viewer sees in full."""
    mesh = open_or_exit(path)
    policy = viewer(mesh, role, user)
    if upstream:
        frame = mesh.upstream_incidents(product, role=policy.role, user=policy.user)
    else:
        frame = mesh.incident_list(None if state == "all" else state, product, assignee, domain,
                                   role=policy.role, user=policy.user)
    if as_json:
        typer.echo(json.dumps(frame.to_dicts(), indent=2, default=str))
        return
    if frame.is_empty():
        typer.echo("no incidents")
        return
    for row in frame.iter_rows(named=True):
        extra = f"  (upstream of {row['affects']})" if "affects" in row else ""
        typer.echo(f"#{row['id']:<4} {row['state']:12} {row['product_id']}  {row['summary']}  "
                   f"assignee {row['assignee'] or '-'}  runs {row['runs']}  since {row['first_seen']}{extra}")


@incidents_app.command("show")
def show(path: Path = MESH, incident: int = ID, role: str | None = ROLE, user: str | None = USER) -> None:
    """One incident and its history (every transition: who, when, from which state to which, notes)."""
    mesh = open_or_exit(path)
    policy = viewer(mesh, role, user)
    found = mesh.incidents.get(incident)
    mesh.product_for(found["product_id"], policy)
    if not policy.can_see(found["product_id"]):
        fail(f"no incident #{incident} you may see", 2)
    history = mesh.incidents.history(incident)
    typer.echo(f"#{found['id']} {found['state']} {found['product_id']} {found['cause']}: {found['summary']}")
    typer.echo(f"  assignee {found['assignee'] or '-'}; first seen {found['first_seen']}, last seen "
               f"{found['last_seen']}, {found['runs']} run(s), reopened {found['reopened']} time(s)")
    for row in history.iter_rows(named=True):
        note = f": {row['note']}" if row["note"] else ""
        typer.echo(f"  {row['ts']} {row['actor']} {row['action']} ({row['from_state'] or '-'} -> "
                   f"{row['to_state']}){note}")


def _act(path: Path, action: str, incident: int, user: str | None, note: str | None = None,
         assignee: str | None = None) -> None:
    mesh = open_or_exit(path)
    done = mesh.incident_action(action, incident, user=user, note=note, assignee=assignee)
    typer.echo(f"#{done.incident_id} {done.product_id}: {done.action} by {done.actor}; now {done.state}"
               + (f", assigned to {done.assignee}" if done.assignee else ""))
    mesh.notifier.drain(5.0)


@incidents_app.command("ack")
def ack(path: Path = MESH, incident: int = ID, note: str | None = NOTE, user: str | None = USER) -> None:
    """Acknowledge a new incident (its product's owner, domain team or assignee, or a steward)."""
    _act(path, "acknowledge", incident, user, note)


@incidents_app.command("assign")
def assign(path: Path = MESH, incident: int = ID, assignee: str = typer.Argument(..., help="an e-mail address"),
           note: str | None = NOTE, user: str | None = USER) -> None:
    """Assign an open incident to a person."""
    _act(path, "assign", incident, user, note, assignee)


@incidents_app.command("note")
def annotate(path: Path = MESH, incident: int = ID, text: str = typer.Argument(..., help="the note"),
             user: str | None = USER) -> None:
    """Add a note to an incident's history."""
    _act(path, "annotate", incident, user, text)


@incidents_app.command("resolve")
def resolve(path: Path = MESH, incident: int = ID, note: str | None = NOTE, user: str | None = USER) -> None:
    """Resolve an open incident by hand (it reopens if its cause fails again)."""
    _act(path, "resolve", incident, user, note)
