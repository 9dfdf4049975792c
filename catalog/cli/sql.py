"""`meshwork sql`: one governed query from the shell, shown as a table or streamed as CSV / Parquet."""

from __future__ import annotations

import shutil
import sys
import tempfile
from enum import Enum
from pathlib import Path

import polars as pl
import typer

from catalog.cli import app
from catalog.cli.common import fail, open_or_exit
from catalog.errors import QueryRejected, QueryTimeout
from catalog.numbers import rows_text


class Format(str, Enum):
    table = "table"
    csv = "csv"
    parquet = "parquet"


@app.command()
def sql(
    mesh_path: Path = typer.Argument(..., metavar="MESH", help="the mesh folder (holds mesh.yaml)"),
    query: str = typer.Argument(..., metavar="QUERY", help="one SELECT over the products; '-' reads it from stdin"),
    role: str = typer.Option("analyst", "--role", "-r", help="the role to query as (decides masking and access)"),
    user: str = typer.Option(None, "--user", "-u", help="who is asking (default: the mesh's local user)"),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table (capped), csv or parquet (full result)"),
    output: Path = typer.Option(None, "--output", "-o", help="write the result to this file"),
    max_rows: int = typer.Option(50, "--max-rows", min=1, help="rows a table shows (the count is always exact)"),
    timeout: float = typer.Option(60.0, "--timeout", min=0.1, help="seconds before the query is stopped"),
) -> None:
    """Run one governed query as ROLE: refused queries say why (exit 2), failures exit 1.

    \b
    meshwork sql sample_data/banking "SELECT state, count(*) FROM retail.customers GROUP BY ALL"
    meshwork sql sample_data/banking "SELECT * FROM retail.accounts" -f parquet -o accounts.parquet
    """
    text = sys.stdin.read() if query == "-" else query
    mesh = open_or_exit(mesh_path)
    try:
        session = mesh.session(role=role, user=user, timeout_s=timeout, consumer_domain=None)
        if fmt is Format.table:
            _table(session, text, max_rows, output)
        elif output is not None:
            rows = session.export(text, output, fmt.value)
            typer.echo(f"{rows:,} rows written to {output}", err=True)
        elif fmt is Format.parquet and sys.stdout.isatty():
            fail("Parquet is binary: give --output FILE (or redirect stdout to a file)", 2)
        else:
            _stream(session, text, fmt.value)
    except QueryRejected as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from None
    except QueryTimeout as exc:
        typer.echo(f"timeout: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        mesh.close()


def _table(session, text: str, max_rows: int, output: Path | None) -> None:
    result = session.run(text, max_rows=max_rows)
    with pl.Config(tbl_rows=max_rows, tbl_cols=-1, fmt_str_lengths=60, tbl_hide_dataframe_shape=True,
                   tbl_width_chars=shutil.get_terminal_size((160, 24)).columns):
        rendered = str(result.frame)
    if output is not None:
        output.write_text(rendered + "\n", encoding="utf-8")
    else:
        typer.echo(rendered)
    typer.echo(f"{result.note()} · {result.duration_ms:.0f} ms", err=True)


def _stream(session, text: str, fmt: str) -> None:
    """Export to a private temporary file, then copy it to stdout: the result is never held in memory."""
    with tempfile.TemporaryDirectory(prefix="meshwork-sql-") as folder:
        path = Path(folder) / f"result.{fmt}"
        rows = session.export(text, path, fmt)
        with path.open("rb") as source:
            shutil.copyfileobj(source, sys.stdout.buffer)
        sys.stdout.flush()
    typer.echo(rows_text(rows), err=True)
