"""The `meshwork import` and `meshwork export` groups: one command per format other tools speak.

Each format's commands live in their own module (`cli/<format>.py`) and register on these two groups,
so adding a format never touches another's code.
"""

from __future__ import annotations

import typer

from catalog.cli import app

import_app = typer.Typer(no_args_is_help=True, help="Bring in what other tools wrote: contracts, projects, events.")
export_app = typer.Typer(no_args_is_help=True, help="Write the mesh in formats other tools read.")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
