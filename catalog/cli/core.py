"""`meshwork validate` and `meshwork sample`."""

from __future__ import annotations

from pathlib import Path

import typer

from catalog.cli import app
from catalog.cli.common import open_or_exit
from catalog.samples.build import SAMPLES, build_sample
from catalog.samples.synthetic import build_synthetic_catalog


@app.command()
def validate(path: Path = typer.Argument(..., help="the mesh folder (holds mesh.yaml)")) -> None:
    """Check every descriptor; print problems as path:line: field: message; exit 1 on errors."""
    mesh = open_or_exit(path)
    for problem in sorted(mesh.problems, key=lambda p: (p.path, p.line or 0)):
        typer.echo(str(problem))
    errors = sum(p.severity == "error" for p in mesh.problems)
    warnings = sum(p.severity == "warning" for p in mesh.problems)
    typer.echo(f"{mesh.name}: {len(mesh.domains)} domains, {len(mesh.products)} products, "
               f"{errors} errors, {warnings} warnings", err=True)
    raise typer.Exit(1 if errors else 0)


@app.command()
def sample(
    name: str = typer.Argument(..., help="banking, life_sciences, supply_chain, all, or synthetic"),
    scale: int = typer.Option(1, help="multiplies row counts (1 = the shipped samples)"),
    dest: Path = typer.Option(Path("sample_data"), help="folder the mesh folders are written into"),
    products: int = typer.Option(10_000, help="synthetic only: how many products"),
) -> None:
    """Rebuild a sample mesh deterministically (or a large one for benchmarks)."""
    names = list(SAMPLES) if name == "all" else [name]
    for one in names:
        if one == "synthetic":
            out = build_synthetic_catalog(dest / "synthetic", products=products)
        elif one in SAMPLES:
            out = build_sample(one, dest / one, scale=scale)
        else:
            typer.echo(f"error: unknown sample {one!r}; choose from {', '.join(SAMPLES)}, synthetic", err=True)
            raise typer.Exit(2)
        typer.echo(f"wrote {out}")
