"""`meshwork check`, `meshwork scorecard` and `meshwork review`: quality in CI pipelines and in reports."""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import polars as pl
import typer

from catalog.cli import app
from catalog.cli.common import fail, open_or_exit
from catalog.cli.viewer import ROLE, USER, viewer
from catalog.quality.scoring import FORMULA
from catalog.numbers import format_score


def _reports(result: Any) -> list[Any]:
    return list(result) if hasattr(result, "reports") else [result]


def _junit(reports: list[Any]) -> str:
    suites = ET.Element("testsuites", name="meshwork quality")
    for report in reports:
        suite = ET.SubElement(suites, "testsuite", name=report.product_id, tests=str(len(report.checks)),
                              failures=str(len(report.failed)), errors=str(len(report.errored)),
                              time=f"{report.duration_ms / 1000:.3f}", timestamp=report.ts)
        for check in report.checks:
            case = ET.SubElement(suite, "testcase", classname=report.product_id, name=check.name)
            if check.status == "fail":
                ET.SubElement(case, "failure", type=check.severity, message=check.message)
            elif check.status == "error":
                ET.SubElement(case, "error", type=check.severity, message=check.message)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


def _text(reports: list[Any]) -> str:
    lines = []
    for report in reports:
        lines.append(report.summary() + (" (unchanged data: counts reused)" if report.reused else ""))
        for check in report.checks:
            mark = {"pass": "ok  ", "fail": "FAIL", "error": "ERR "}[check.status]
            lines.append(f"  {mark} [{check.severity}] {check.name}: {check.message}")
    return "\n".join(lines)


@app.command()
def check(
    path: Path = typer.Argument(..., help="the mesh folder (holds mesh.yaml)"),
    product: str | None = typer.Argument(None, help="a product id; all products when left out"),
    format: str = typer.Option("text", "--format", "-f", help="text, json or junit"),
    role: str | None = typer.Option(None, "--role", help="act as this role: results of products it may not see "
                                                         "are not shown, example rows are masked for it "
                                                         "(default: the user's least-privileged role)"),
    user: str | None = USER,
) -> None:
    """Run quality checks (one scan per product) and store the run; exit 1 when an error-severity check
    fails or cannot run, so a CI pipeline stops. Only the results of products the viewer sees in full are
    printed (and decide the exit code)."""
    if format not in ("text", "json", "junit"):
        fail(f"unknown format {format!r}; choose text, json or junit", 2)
    mesh = open_or_exit(path)
    policy = viewer(mesh, role, user)
    if product is not None and not policy.can_see(mesh.product_for(product, policy).id):
        fail(f"{product} is restricted: the role {policy.role!r} may not see its check results. Ask its "
             "owner for access (meshwork access request).", 2)
    reports = [r for r in _reports(mesh.check(product, role=policy.role or "steward"))
               if policy.can_see(r.product_id)]
    if format == "json":
        typer.echo(json.dumps([{"product_id": r.product_id, "version": r.version, "ts": r.ts, "score": r.score,
                                "grade": r.grade, "complete": r.complete, "reused": r.reused,
                                "checks": [c.to_dict() for c in r.checks]} for r in reports], indent=2, default=str))
    elif format == "junit":
        typer.echo(_junit(reports))
    else:
        typer.echo(_text(reports))
    blocking = [(r.product_id, c.name) for r in reports for c in r.blocking]
    if blocking:
        typer.echo(f"{len(blocking)} error-severity check(s) failed or could not run: "
                   + ", ".join(f"{p}: {n}" for p, n in blocking), err=True)
        raise typer.Exit(1)


def _markdown_table(frame: pl.DataFrame) -> str:
    head = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join("–" if v is None else format_score(v) if isinstance(v, float) else str(v)
                              for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join([head, rule, *body])


def _scorecard_html(mesh: Any, frame: pl.DataFrame, domain: str | None, policy: Any = None) -> str:
    from catalog.scorecards import charts as scorecard_charts
    from catalog.scorecards.review import _svg
    from catalog.scorecards.scorecard import dimensions, product_scorecard

    products = product_scorecard(mesh.evidence(), domain, policy=policy)
    charts = [scorecard_charts.heat_map(dimensions(products))]
    if domain is None:
        charts.insert(0, scorecard_charts.domain_comparison(frame))
    cells = "".join("<tr>" + "".join(f"<td>{html.escape('–' if v is None else str(v))}</td>" for v in row) + "</tr>"
                    for row in frame.iter_rows())
    title = f"Scorecard of {domain}" if domain else f"Scorecard of {mesh.title}"
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>"
            "body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse;font-size:13px}"
            "td,th{border-bottom:1px solid #e5e7eb;padding:3px 6px;text-align:left}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><table><tr>"
            + "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns) + f"</tr>{cells}</table>"
            + "".join(f"<figure>{_svg(c)}</figure>" for c in charts)
            + f"<p><small>{html.escape(FORMULA)}</small></p></body></html>\n")


TEXT_COLUMNS = ["domain", "product_id", "products", "score", "grade", "score_trend", "checks", "checks_passing",
                "freshness", "fresh", "late", "documentation", "compliance", "queries", "users", "unused_30d",
                "unused_products", "upstream_issues", "lineage_issues"]


@app.command()
def scorecard(
    path: Path = typer.Argument(..., help="the mesh folder (holds mesh.yaml)"),
    domain: str | None = typer.Option(None, "--domain", "-d", help="one row per product of this domain"),
    format: str = typer.Option("text", "--format", "-f", help="text, md, html or json"),
    role: str | None = ROLE,
    user: str | None = USER,
) -> None:
    """Scorecard per domain (or per product of --domain), from the stored runs and usage events, as the
    viewer may see it (locked products unmeasured, hidden ones left out)."""
    from catalog.scorecards.scorecard import scorecard as scorecard_of

    if format not in ("text", "md", "html", "json"):
        fail(f"unknown format {format!r}; choose text, md, html or json", 2)
    mesh = open_or_exit(path)
    policy = viewer(mesh, role, user)
    frame = scorecard_of(mesh.evidence(), domain, policy=policy)
    if format == "json":
        typer.echo(json.dumps(frame.to_dicts(), indent=2, default=str))
    elif format == "md":
        typer.echo(_markdown_table(frame) + "\n\n" + FORMULA)
    elif format == "html":
        typer.echo(_scorecard_html(mesh, frame, domain, policy), nl=False)
    else:
        keep = [c for c in TEXT_COLUMNS if c in frame.columns]
        frame = frame.select(keep).with_columns(pl.col(pl.Float64).round(1))
        with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=200, tbl_hide_dataframe_shape=True,
                       tbl_hide_column_data_types=True, fmt_str_lengths=60):
            typer.echo(str(frame))


@app.command()
def review(
    path: Path = typer.Argument(..., help="the mesh folder (holds mesh.yaml)"),
    owner: str | None = typer.Option(None, "--owner", help="review the products this owner owns"),
    domain: str | None = typer.Option(None, "--domain", "-d", help="review the products of this domain"),
    format: str = typer.Option("md", "--format", "-f", help="md or html"),
    output: Path | None = typer.Option(None, "--output", "-o", help="write the report here instead of stdout"),
    record: str | None = typer.Option(None, "--record", help="record the review as done by this person, so "
                                                              "the next one shows what changed since"),
    role: str | None = ROLE,
    user: str | None = USER,
) -> None:
    """A product-owner review: products, what changed since the last review, action items by priority."""
    from catalog.scorecards.review import export
    from catalog.scorecards.review import review as make_review

    mesh = open_or_exit(path)
    policy = viewer(mesh, role, user)
    done = make_review(mesh.evidence(), owner=owner, domain=domain, policy=policy)
    text = export(done, format)
    if output:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output} ({len(done.actions)} action items)", err=True)
    else:
        typer.echo(text, nl=False)
    if record:
        mesh.reviews.record(done, record)
        typer.echo(f"recorded the review of {done.subject.partition(':')[2]} by {record}", err=True)
