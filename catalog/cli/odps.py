"""`meshwork export odps` and `meshwork import odps`: Open Data Product Standard (v1.1.0) documents."""

from __future__ import annotations

from pathlib import Path

import typer

from catalog.cli.common import fail, open_or_exit
from catalog.cli.interop import export_app, import_app

MESH = typer.Argument(..., help="the mesh folder (holds mesh.yaml)")


@export_app.command("odps")
def export_odps(mesh_path: Path = MESH,
                product_id: str = typer.Argument(None, help="domain.name (default: every product, into -o)"),
                fmt: str = typer.Option("yaml", "--format", help="yaml or json"),
                output: Path = typer.Option(None, "-o", "--output", help="a file (one product) or a folder (all)"),
                ) -> None:
    """Print (or write) ODPS documents, each validated against the bitol-io ODPS v1.1.0 JSON schema."""
    from catalog.interop.odps import export_document

    if fmt not in ("yaml", "json"):
        fail(f"unknown format {fmt!r}: choose yaml or json")
    mesh = open_or_exit(mesh_path)
    if product_id is None and output is None:
        fail("give a product id, or -o FOLDER to write every product's document")
    if product_id is not None:
        text = export_document(mesh, product_id, fmt)
        if output is None:
            typer.echo(text, nl=False)
            return
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)
        return
    output.mkdir(parents=True, exist_ok=True)
    for pid in sorted(mesh.products):
        (output / f"{pid}.odps.{fmt}").write_text(export_document(mesh, pid, fmt), encoding="utf-8")
    typer.echo(f"wrote {len(mesh.products)} ODPS document(s) to {output}", err=True)


@import_app.command("odps")
def import_odps(mesh_path: Path = MESH, file: Path = typer.Argument(..., help="an ODPS YAML or JSON file"),
                user: str | None = typer.Option(None, "--user", help="who imports (default: MESHWORK_USER, "
                                                                     "identity.local_user, the OS user)")) -> None:
    """Publish an ODPS document as a product (validated against the schema, policies checked, written atomically)."""
    from catalog.interop.odps import import_document, read_file

    mesh = open_or_exit(mesh_path)
    result = import_document(mesh, read_file(file), where=str(file), user=user)
    typer.echo(f"imported {result.product_id} v{result.version}: {result.descriptor_path.relative_to(mesh.root)}")
