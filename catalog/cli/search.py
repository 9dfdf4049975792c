"""`meshwork search` and `meshwork duplicates`: find products from the terminal, ranked as on Discover."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path

import typer

from catalog.cli import app
from catalog.cli.common import open_or_exit
from catalog.cli.viewer import ROLE, USER, viewer


class Format(str, Enum):
    text = "text"
    json = "json"


@app.command()
def search(
    path: Path = typer.Argument(..., help="the mesh folder (holds mesh.yaml)"),
    text: str = typer.Argument("", help="words to look for (empty lists every product)"),
    domain: list[str] = typer.Option([], "--domain", help="only these domains (repeatable)"),
    tag: list[str] = typer.Option([], "--tag", help="only products with one of these tags (repeatable)"),
    owner: list[str] = typer.Option([], "--owner", help="only these owners (repeatable)"),
    grade: list[str] = typer.Option([], "--grade", help="only these quality grades, e.g. A or 'not checked'"),
    kind: list[str] = typer.Option([], "--kind", help="only these source kinds (parquet, csv, sql, ...)"),
    pii: bool | None = typer.Option(None, "--pii/--no-pii", help="only products with (or without) personal data"),
    sort: str = typer.Option("relevance", "--sort", help="relevance, usage, quality or freshness"),
    limit: int = typer.Option(20, "--limit", min=1, help="how many to print"),
    role: str | None = ROLE,
    user: str | None = USER,
    fmt: Format = typer.Option(Format.text, "--format", help="text or json"),
) -> None:
    """Print the products matching TEXT, best first, with their score, grade and where the words matched;
    restricted products the viewer may not read are marked locked (or left out when the mesh hides them)."""
    mesh = open_or_exit(path)
    policy = viewer(mesh, role, user)
    filters = {k: v for k, v in {"domain": domain, "tag": tag, "owner": owner, "grade": grade, "kind": kind}.items() if v}
    if pii is not None:
        filters["pii"] = pii
    results = mesh.search(text, limit=limit, sort=sort, policy=policy, **filters)
    if fmt is Format.json:
        typer.echo(json.dumps({"query": results.query, "total": results.total, "terms": results.terms,
                               "corrections": results.corrections,
                               "hits": [{**row, "locked": hit.locked} for row, hit in
                                        zip(results.frame().to_dicts(), results.hits)],
                               "facets": {k: dict(v) for k, v in results.facets.items()}}, indent=2, default=str))
        return
    if results.corrections:
        typer.echo("read " + ", ".join(f"{w!r} as {' / '.join(c)}" for w, c in results.corrections.items()))
    if not results.hits:
        typer.echo(f"no product matches {text!r}" + (" with these filters" if filters else ""))
        raise typer.Exit(1)
    width = max(len(h.product_id) for h in results.hits)
    for rank, hit in enumerate(results.hits, 1):
        typer.echo(f"{rank:>3}. {hit.product_id:<{width}}  {hit.score:6.2f}  {hit.grade:<11}  "
                   f"{hit.queries:>4} queries/30d  {hit.title}" + ("  (locked: request access)" if hit.locked else ""))
        if hit.snippet and text.strip():
            typer.echo(f"     {hit.snippet_field}: {hit.snippet}")
    shown = len(results.hits)
    typer.echo(f"{shown} of {results.total} product(s)" + (" (use --limit to see more)" if shown < results.total else ""))


@app.command()
def duplicates(
    path: Path = typer.Argument(..., help="the mesh folder (holds mesh.yaml)"),
    product: str | None = typer.Argument(None, metavar="[ID]", help="only copies of this product"),
    min_score: float = typer.Option(0.6, "--min-score", min=0, max=1, help="lowest similarity to report"),
    role: str | None = ROLE,
    user: str | None = USER,
) -> None:
    """List products in other domains that look like copies (shared columns, overlapping key values), among
    the products the viewer sees in full."""
    mesh = open_or_exit(path)
    policy = viewer(mesh, role, user)
    report = mesh.duplicates(product, min_score, role=policy.role, user=policy.user)
    if report.is_empty():
        typer.echo("no likely duplicates" + (f" of {product}" if product else ""))
        return
    for row in report.iter_rows(named=True):
        typer.echo(f"{row['score']:.2f}  {row['product_id']}  ~  {row['duplicate_id']}  ({row['reason']})")
