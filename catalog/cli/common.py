"""Helpers every command shares: opening a mesh with a clean error, printing tables."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

import catalog
from catalog.errors import MeshError


def open_or_exit(path: Path) -> catalog.Mesh:
    try:
        return catalog.open_mesh(path)
    except MeshError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def fail(message: str, code: int = 2) -> None:
    """Print a plain refusal and exit (2: the request was refused; never a traceback)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def is_tty() -> bool:
    return sys.stdout.isatty()
