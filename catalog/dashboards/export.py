"""Export a dashboard as one self-contained HTML file (charts inlined as SVG), and its data per tile.

The HTML needs no network and no JavaScript: each chart is rendered to SVG with vl-convert, each
table tile is an HTML table of its first rows. It is rendered for one viewer, so personal data is
masked exactly as that viewer's role sees it, and the file says which role it was made for.
"""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape
from pathlib import Path
from collections.abc import Callable
from typing import Any

import polars as pl

from catalog.charts import render_chart
from catalog.dashboards.model import Dashboard, TileSlot, slug
from catalog.dashboards.result import TileResult
from catalog.errors import ChartError, MeshError

TABLE_ROWS = 50
FORMATS = ("csv", "parquet")
CHART_WIDTH = {"small": 260, "medium": 520, "large": 800, "full": 1080}

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#1f2937;background:#f8fafc}
h1{margin:0 0 4px}.meta{color:#6b7280;font-size:13px;margin-bottom:16px}
.grid{display:flex;flex-wrap:wrap;gap:16px}
.tile{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:12px;box-sizing:border-box;overflow:auto}
.small{flex:0 0 calc(25% - 12px)}.medium{flex:0 0 calc(50% - 8px)}.large{flex:0 0 calc(75% - 4px)}.full{flex:0 0 100%}
@media (max-width:900px){.tile{flex:0 0 100%}}
.tile h2{font-size:16px;margin:0 0 8px}.foot{color:#6b7280;font-size:12px;margin-top:8px}
.error{color:#b91c1c;background:#fef2f2;border-radius:6px;padding:8px}
table{border-collapse:collapse;font-size:12px}td,th{border-bottom:1px solid #e5e7eb;padding:3px 8px;text-align:left}
svg{max-width:100%;height:auto}
"""


def chart_svg(frame: pl.DataFrame, result: TileResult) -> str:
    """The tile's chart as standalone SVG markup (ChartError when the spec does not fit the result)."""
    import vl_convert

    tile = result.slot.tile
    assert tile is not None and tile.chart is not None
    chart = render_chart(frame, tile.chart).properties(width=CHART_WIDTH[tile.size], height=240)
    return vl_convert.vegalite_to_svg(chart.to_dict())


def _table(frame: pl.DataFrame) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{escape('' if v is None else str(v))}</td>" for v in row) + "</tr>"
                   for row in frame.head(TABLE_ROWS).iter_rows())
    more = f"<p class='foot'>first {TABLE_ROWS} of {frame.height:,} rows</p>" if frame.height > TABLE_ROWS else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def _tile_html(result: TileResult) -> str:
    tile = result.slot.tile
    size = tile.size if tile else "medium"
    body: str
    if not result.ok:
        body = f"<div class='error'>{escape(result.error or 'no result')}</div>"
    elif tile is not None and tile.chart is not None:
        try:
            body = chart_svg(result.frame, result)  # type: ignore[arg-type]
        except ChartError as exc:
            body = f"<div class='error'>{escape(str(exc))}</div>"
    else:
        body = _table(result.frame)  # type: ignore[arg-type]
    description = f"<p class='foot'>{escape(tile.description)}</p>" if tile and tile.description else ""
    foot = escape(" · ".join(p for p in (result.freshness(), _filters_note(result)) if p))
    return (f"<section class='tile {size}'><h2>{escape(result.slot.title)}</h2>{description}{body}"
            f"<p class='foot'>{foot}</p></section>")


def _filters_note(result: TileResult) -> str:
    return f"filtered by {', '.join(result.applied)}" if result.applied else ""


def dashboard_html(board: Dashboard, results: list[TileResult], role: str, user: str | None,
                   values: dict[str, Any] | None = None) -> str:
    """The HTML document of a dashboard as one viewer saw it."""
    chosen = {k: v for k, v in (values or {}).items() if v not in (None, "", [], (None, None))}
    filters = "; ".join(f"{k} = {v}" for k, v in chosen.items()) or "none"
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    tiles = "".join(_tile_html(r) for r in results)
    description = f"<p>{escape(board.description)}</p>" if board.description else ""
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{escape(board.title)}</title><style>{_CSS}</style></head><body>"
            f"<h1>{escape(board.title)}</h1>{description}"
            f"<div class='meta'>Dashboard <code>{escape(board.id)}</code> · owner {escape(board.owner or 'none')} · "
            f"exported {stamp} for {escape(user or 'anonymous')} as role <b>{escape(role)}</b> (personal data as "
            f"this role sees it) · filters: {escape(filters)}</div>"
            f"<div class='grid'>{tiles}</div></body></html>")


def export_html(board: Dashboard, results: list[TileResult], role: str, user: str | None,
                path: str | Path | None = None, values: dict[str, Any] | None = None) -> str:
    """The self-contained HTML of the dashboard as this viewer's run of it (`results`) shows it; written to
    `path` when given."""
    html = dashboard_html(board, results, role, user, values)
    if path is not None:
        Path(path).write_text(html, encoding="utf-8")
    return html


def export_data(board: Dashboard, folder: str | Path, fmt: str,
                export_tile: Callable[[TileSlot, Path], int]) -> dict[str, Path | str]:
    """One CSV or Parquet file per tile (its full filtered result, written by `export_tile(slot, path)`) in
    `folder`: tile title -> path, or the message of a tile that cannot run."""
    if fmt not in FORMATS:
        raise MeshError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path | str] = {}
    for n, slot in enumerate(board.tiles, start=1):
        path = folder / f"{n:02d}_{slug(slot.title)}.{fmt}"
        try:
            export_tile(slot, path)
            out[slot.title] = path
        except MeshError as exc:
            out[slot.title] = str(exc)
    return out
