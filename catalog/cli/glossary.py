"""`meshwork glossary list|show|propose|approve|reject`: the business glossary from the terminal."""

from __future__ import annotations

from pathlib import Path

import typer

from catalog.access.identity import local_user
from catalog.cli import app
from catalog.cli.common import open_or_exit
from catalog.cli.viewer import ROLE, viewer
from catalog.text import one_line

glossary_app = typer.Typer(no_args_is_help=True, help="Business terms: list, show, propose, approve, reject.")
app.add_typer(glossary_app, name="glossary")

MESH = typer.Argument(..., help="the mesh folder (holds mesh.yaml)")
USER = typer.Option(None, "--user", help="who acts (default: MESHWORK_USER, identity.local_user, the OS user)")


@glossary_app.command("list")
def list_(mesh_path: Path = MESH, status: str = typer.Option(None, help="draft, approved or deprecated"),
          pending: bool = typer.Option(False, "--pending", help="list the pending proposals instead"),
          role: str | None = ROLE, user: str | None = USER) -> None:
    """List the glossary's terms (or its pending proposals)."""
    mesh = open_or_exit(mesh_path)
    if pending:
        frame = mesh.glossary.proposals(status="pending")
        for row in frame.iter_rows(named=True):
            typer.echo(f"#{row['id']:<4} {row['change']:6} {row['term_id']:30} by {row['proposer']}  "
                       f"{one_line(row['reason'] or '')}")
        typer.echo(f"{frame.height} pending proposal(s)", err=True)
        return
    viewer(mesh, role, user)  # a role the user does not hold is refused here
    frame = mesh.terms(status, role=role, user=user)
    for row in frame.iter_rows(named=True):
        extra = ", ".join(filter(None, (row["abbreviations"], row["synonyms"])))
        typer.echo(f"{row['id']:32} {row['status']:10} {row['name']}{f' ({extra})' if extra else ''}  "
                   f"[{row['products']} product(s), {row['columns']} column(s)]")
    typer.echo(f"{frame.height} term(s)", err=True)


@glossary_app.command("show")
def show(mesh_path: Path = MESH, term_id: str = typer.Argument(..., help="the term's id"),
         role: str | None = ROLE, user: str | None = USER) -> None:
    """A term's definition, labels, steward, where it is linked and its history."""
    mesh = open_or_exit(mesh_path)
    viewer(mesh, role, user)
    term = mesh.term(term_id)
    typer.echo(f"{term.name} ({term.id}) - {term.status}, steward {term.steward or '-'}")
    typer.echo(f"  {term.definition}")
    for label, values in (("synonyms", term.synonyms), ("abbreviations", term.abbreviations),
                          ("related", term.related)):
        if values:
            typer.echo(f"  {label}: {', '.join(values)}")
    uses = mesh.term_uses(term_id, role=role, user=user)
    typer.echo(f"used in {uses.height} place(s):")
    for row in uses.iter_rows(named=True):
        typer.echo(f"  {row['product_id']}{'.' + row['column'] if row['column'] else ''}")
    history = mesh.glossary.history(term_id)
    if history.height:
        typer.echo("history:")
        for row in history.iter_rows(named=True):
            typer.echo(f"  {row['ts']}  {row['action']:17} {row['outcome']:8} {row['actor']}  "
                       f"{one_line(row['reason'] or '')}")


@glossary_app.command("propose")
def propose(mesh_path: Path = MESH, name: str = typer.Argument(..., help="the term's name"),
            definition: str = typer.Option(..., "--definition", help="what it means, in one or two sentences"),
            term_id: str = typer.Option("", "--id", help="the id links use (default: from the name); an existing "
                                                         "id proposes a change to that term"),
            synonym: list[str] = typer.Option([], "--synonym", help="another name (repeatable)"),
            abbreviation: list[str] = typer.Option([], "--abbreviation", help="an abbreviation (repeatable)"),
            related: list[str] = typer.Option([], "--related", help="id of a related term (repeatable)"),
            steward: str = typer.Option("", "--steward", help="who looks after the term (default: the current one)"),
            status: str = typer.Option("approved", "--status", help="the status once approved: approved or "
                                                                   "deprecated"),
            reason: str = typer.Option("", "--reason", help="why, for the steward"),
            user: str | None = USER) -> None:
    """Propose a new term or a change to one; its steward approves or rejects it."""
    mesh = open_or_exit(mesh_path)
    fields = {"id": term_id, "name": name, "definition": definition, "synonyms": synonym,
              "abbreviations": abbreviation, "related": related, "status": status}
    current = mesh.declared.terms.get(term_id) if term_id else None
    fields["steward"] = steward or (current.steward if current else "") or (user or local_user(mesh.declared))
    made = mesh.glossary.propose(user or local_user(mesh.declared), fields, reason)
    typer.echo(f"proposal #{made.id}: {made.change} term {made.term_id}, pending; steward "
               f"{made.term.steward if made.change == 'new' else mesh.declared.terms[made.term_id].steward} decides")


@glossary_app.command("approve")
def approve(mesh_path: Path = MESH, proposal_id: int = typer.Argument(..., help="the proposal number"),
            note: str = typer.Option("", "--note", help="kept in the audit log"), user: str | None = USER) -> None:
    """Approve a pending proposal (the term's steward or a mesh steward); it is written to glossary/*.yaml."""
    mesh = open_or_exit(mesh_path)
    term = mesh.glossary.approve(proposal_id, user or local_user(mesh.declared), note)
    typer.echo(f"approved: {term.id} ({term.status}) written to "
               f"{mesh.declared.term_files[term.id].relative_to(mesh.root)}")


@glossary_app.command("reject")
def reject(mesh_path: Path = MESH, proposal_id: int = typer.Argument(..., help="the proposal number"),
           reason: str = typer.Option(..., "--reason", help="told to the proposer and kept in the audit log"),
           user: str | None = USER) -> None:
    """Reject a pending proposal with a reason; nothing is written."""
    mesh = open_or_exit(mesh_path)
    decided = mesh.glossary.reject(proposal_id, user or local_user(mesh.declared), reason)
    typer.echo(f"proposal #{decided.id} rejected: {one_line(decided.decision or '')}")
