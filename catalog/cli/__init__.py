"""`meshwork`: a thin typer layer over the library, one module per command group."""

from __future__ import annotations

import typer
from typer.core import TyperGroup

from catalog.errors import MeshError


class RefusingGroup(TyperGroup):
    """Every command's `MeshError` becomes a plain refusal: its message on stderr and exit 2, never a traceback.

    One place for what each command would otherwise wrap its body in: the sub-groups' commands run inside this
    group's `invoke`, so a command lets a `MeshError` rise and the shell sees the same refusal everywhere.
    """

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except MeshError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None


app = typer.Typer(cls=RefusingGroup, no_args_is_help=True, add_completion=False,
                  help="Meshwork: find, query and govern the data products of a data mesh.")


def main() -> None:
    app()


# Each module registers its commands on `app` when imported.
from catalog.cli import core  # noqa: E402,F401
from catalog.cli import interop  # noqa: E402,F401  (the import/export groups the format modules extend)
from catalog.cli import lineage  # noqa: E402,F401
from catalog.cli import access  # noqa: E402,F401
from catalog.cli import govern  # noqa: E402,F401
from catalog.cli import quality  # noqa: E402,F401
from catalog.cli import dashboards  # noqa: E402,F401
from catalog.cli import sql  # noqa: E402,F401
from catalog.cli import search  # noqa: E402,F401
from catalog.cli import dbt, openlineage  # noqa: E402,F401  (meshwork import dbt | openlineage)
from catalog.cli import mcp  # noqa: E402,F401
from catalog.cli import glossary  # noqa: E402,F401
from catalog.cli import agreement  # noqa: E402,F401
from catalog.cli import odps  # noqa: E402,F401
from catalog.cli import monitor, incidents  # noqa: E402,F401
