"""`meshwork lineage`: where a product's data comes from, where it goes, and what a change breaks."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path

import networkx as nx
import typer

from catalog.cli import app
from catalog.cli.common import fail, open_or_exit
from catalog.cli.viewer import ROLE, USER, viewer
from catalog.lineage.graph import Impact, node_kind


class Format(str, Enum):
    text = "text"
    dot = "dot"
    json = "json"


def _node_json(node: str, data: dict) -> dict:
    keep = ("kind", "domain", "owner", "title", "broken", "problems", "quality", "quality_reasons", "distance",
            "product_id", "column", "source_kind", "products", "count", "locked", "hidden")
    return {"id": node, **{k: data[k] for k in keep if k in data}}


def _graph_json(graph: nx.DiGraph) -> dict:
    return {"focus": graph.graph.get("focus"), "level": graph.graph.get("level"),
            "nodes": [_node_json(n, d) for n, d in sorted(graph.nodes(data=True), key=lambda nd: (nd[1].get("distance", 0), nd[0]))],
            "edges": [{"from": u, "to": v, "cross_domain": d.get("cross_domain", False)}
                      for u, v, d in sorted(graph.edges(data=True))],
            "notes": graph.graph.get("notes", {})}


def _text(graph: nx.DiGraph, focus: str) -> str:
    lines = []
    for title, sign in (("upstream", -1), ("downstream", 1)):
        nodes = sorted(((d["distance"], n, d) for n, d in graph.nodes(data=True) if d["distance"] * sign > 0),
                       key=lambda t: (abs(t[0]), t[1]))
        if not nodes:
            continue
        lines.append(f"{title}:")
        for distance, node, data in nodes:
            flags = []
            if data.get("locked"):
                flags.append("LOCKED")
            elif data.get("hidden"):
                flags.append("(restricted product)")
            if data.get("broken"):
                flags.append("BROKEN: " + "; ".join(data.get("problem_messages", [])))
            if data.get("quality") in ("fail", "stale"):
                flags.append(data["quality"].upper())
            owner = f"  owner {data['owner']}" if data.get("owner") else ""
            lines.append(f"  {abs(distance):>2}  {node}{owner}{'  ' + ' '.join(flags) if flags else ''}")
    focus_data = graph.nodes[focus] if focus in graph else {}
    head = f"{focus}" + ("  BROKEN: " + "; ".join(focus_data.get("problem_messages", [])) if focus_data.get("broken") else "")
    return "\n".join([head, *lines]) if lines else f"{head}\n  no upstream or downstream products"


@app.command()
def lineage(
    path: Path = typer.Argument(..., help="the mesh folder (holds mesh.yaml)"),
    target: str = typer.Argument(..., metavar="ID", help="a product id (domain.name), or domain.name.column with --impact"),
    upstream: bool = typer.Option(False, "--upstream", help="only what it reads from"),
    downstream: bool = typer.Option(False, "--downstream", help="only what reads from it"),
    impact: bool = typer.Option(False, "--impact", help="every downstream product and column, owners to notify"),
    columns: bool = typer.Option(False, "--columns", help="column-level lineage"),
    depth: int = typer.Option(0, "--depth", min=0, help="hops to follow (0 = all)"),
    fmt: Format = typer.Option(Format.text, "--format", help="text, dot (Graphviz) or json"),
    role: str | None = ROLE,
    user: str | None = USER,
) -> None:
    """Show a product's lineage (or, with --impact, what a change to it breaks), as the viewer may see it."""
    from catalog.lineage.dot import to_dot
    from catalog.lineage.neighbourhood import neighbourhood

    if sum((upstream, downstream, impact)) > 1:
        fail("choose one of --upstream, --downstream, --impact", 2)
    mesh = open_or_exit(path)
    policy = viewer(mesh, role, user)
    limit = depth or None
    if impact:
        from catalog.lineage.graph import impact as impact_of

        _print_impact(impact_of(mesh.lineage_index, target, columns=True, policy=policy), fmt)
        return
    mesh.product_for(target, policy)
    graph = neighbourhood(mesh.lineage_index, target, up=0 if downstream else limit, down=0 if upstream else limit,
                          columns=columns, policy=policy)
    if fmt is Format.dot:
        typer.echo(to_dot(graph), nl=False)
    elif fmt is Format.json:
        typer.echo(json.dumps(_graph_json(graph), indent=2, default=str))
    elif columns:
        for up, down in sorted(graph.edges()):
            typer.echo(f"{up} -> {down}")
        for product_id, note in sorted(graph.graph.get("notes", {}).items()):
            typer.echo(f"note: {product_id}: {note}")
    else:
        typer.echo(_text(graph, target))


def _print_impact(result: Impact, fmt: Format) -> None:
    if fmt is Format.json:
        typer.echo(json.dumps({"target": result.target, "owners": list(result.owners), "domains": list(result.domains),
                               "impacted": result.frame().to_dicts()}, indent=2))
        return
    if fmt is Format.dot:
        fail("--impact prints text or json; for a graph use --downstream --format dot", 2)
    rows = result.frame()
    if rows.is_empty():
        typer.echo(f"{result.target}: nothing downstream; a change affects no other product")
        return
    outside = sum(node_kind(p.id) != "product" for p in result.products)
    typer.echo(f"changing {result.target} affects {len(result.products) - outside} product(s) and "
               f"{len(result.columns)} column(s)"
               + (f", and {outside} job(s) or dataset(s) outside the mesh" if outside else "") + ":")
    for row in rows.iter_rows(named=True):
        typer.echo(f"  {row['distance']:>2}  {row['kind']:<7} {row['id']}  ({row['domain']}, {row['owner'] or 'no owner'})")
    typer.echo(f"owners to notify: {', '.join(result.owners) or 'none declared'}")
    typer.echo(f"domains affected: {', '.join(result.domains)}")
