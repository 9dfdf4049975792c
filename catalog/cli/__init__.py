"""`meshwork`: a thin typer layer over the library, one module per command group."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False,
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
