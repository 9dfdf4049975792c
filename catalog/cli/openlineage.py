"""`meshwork import openlineage MESH events.jsonl`: OpenLineage run events into the mesh's lineage graph."""

from __future__ import annotations

from pathlib import Path

import typer

from catalog.cli.common import open_or_exit
from catalog.cli.interop import import_app


@import_app.command("openlineage")
def import_openlineage(mesh_path: Path = typer.Argument(..., help="the mesh folder (holds mesh.yaml)"),
                       events: Path = typer.Argument(..., help="a JSON Lines file of run events (or a JSON document)"),
                       ) -> None:
    """Validate the events against the OpenLineage schema and store them: their jobs and the datasets outside the
    mesh appear in `meshwork lineage` as external nodes. An invalid event refuses the file (nothing stored)."""
    mesh = open_or_exit(mesh_path)
    try:
        count = mesh.ingest_openlineage(events)
        external = [n for n, kind in mesh.lineage().nodes(data="kind") if kind in ("job", "external")]
    finally:
        mesh.close()
    typer.echo(f"stored {count} OpenLineage event(s) from {events}; the lineage graph has {len(external)} external "
               "node(s)")
