"""Write a sample mesh to disk: YAML descriptors, README and data files, deterministically.

Data is streamed chunk by chunk into one file per source, so memory stays bounded at
any scale. Parquet, CSV and SQLite bytes are identical from run to run; DuckDB files
hold identical tables (DuckDB does not promise identical bytes).
"""

from __future__ import annotations

import contextlib

import shutil
import sqlite3
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from catalog.dashboards.model import FOLDER as DASHBOARDS_FOLDER
from catalog.dashboards.model import write_dashboard
from catalog.descriptors.yamlio import dump_yaml
from catalog.workbench.notebook import write_examples
from catalog.samples._spec import MeshSpec, Product
from catalog.samples.glossaries import GLOSSARIES, with_terms

CHUNK_ROWS = 250_000

_SQLITE_TYPES = {"VARCHAR": "TEXT", "BIGINT": "INTEGER", "DOUBLE": "REAL", "DATE": "DATE",
                 "TIMESTAMP": "TIMESTAMP"}


def write_yaml(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_yaml(data), encoding="utf-8")


def prepare(dest: Path) -> None:
    """Empty `dest` for a fresh mesh, keeping hidden folders (the mesh's runtime state)."""
    dest.mkdir(parents=True, exist_ok=True)
    entries = [p for p in dest.iterdir() if not p.name.startswith(".")]
    if entries and not (dest / "mesh.yaml").is_file():
        raise FileExistsError(f"{dest} is not empty and holds no mesh.yaml; refusing to overwrite it")
    for entry in entries:
        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


def write_mesh(spec: MeshSpec, dest: Path, scale: int = 1, chunk_rows: int = CHUNK_ROWS) -> Path:
    dest = Path(dest)
    prepare(dest)
    write_yaml(dest / "mesh.yaml", spec.descriptor())
    (dest / "README.md").write_text(readme(spec), encoding="utf-8")
    for domain in spec.domains:
        write_yaml(dest / domain.name / "domain.yaml", domain.descriptor())
    terms, links = GLOSSARIES.get(spec.name, ([], {}))
    if terms:
        write_yaml(dest / "glossary" / f"{spec.name}.yaml", {"terms": terms})
    for product in spec.products:
        domain_dir = dest / product.domain
        write_yaml(domain_dir / "products" / f"{product.name}.yaml", with_terms(product.descriptor(), links.get(product.id)))
        if product.kind != "sql":
            write_data(product, domain_dir, scale, chunk_rows)
    for dashboard_id, data in spec.dashboards.items():
        domain, _, name = dashboard_id.partition(".")
        write_dashboard(dest / domain / DASHBOARDS_FOLDER / f"{name}.yaml", data)
    write_examples(dest, spec.notebooks)
    return dest


def write_data(product: Product, domain_dir: Path, scale: int, chunk_rows: int = CHUNK_ROWS) -> None:
    path = domain_dir / product.path
    path.parent.mkdir(parents=True, exist_ok=True)
    chunks = product.chunks(scale, chunk_rows)
    if product.kind == "parquet":
        writer = None
        for chunk in chunks:
            table = chunk.to_arrow()
            writer = writer or pq.ParquetWriter(path, table.schema, compression="zstd")
            writer.write_table(table)
        if writer:
            writer.close()
    elif product.kind == "csv":
        with path.open("w", encoding="utf-8", newline="") as out:
            for n, chunk in enumerate(chunks):
                chunk.write_csv(out, include_header=n == 0, datetime_format="%Y-%m-%d %H:%M:%S",
                                date_format="%Y-%m-%d")
    elif product.kind == "sqlite":
        _write_sqlite(product, path, chunks)
    elif product.kind == "duckdb":
        with duckdb.connect(str(path)) as con:
            # a library writes nothing to the terminal (Jupyter without ipywidgets refuses the setting)
            with contextlib.suppress(duckdb.InvalidInputException):
                con.execute("SET enable_progress_bar = false")
            con.execute(f'DROP TABLE IF EXISTS "{product.table}"')
            for n, chunk in enumerate(chunks):
                con.register("chunk", chunk.to_arrow())
                verb = f'CREATE TABLE "{product.table}" AS' if n == 0 else f'INSERT INTO "{product.table}"'
                con.execute(f"{verb} SELECT * FROM chunk")
                con.unregister("chunk")
            con.execute("CHECKPOINT")
    else:
        raise ValueError(f"{product.id}: no writer for source kind {product.kind!r}")


def _write_sqlite(product: Product, path: Path, chunks: Any) -> None:
    columns = ", ".join(f'"{c.name}" {_SQLITE_TYPES[c.type]}' for c in product.columns)
    marks = ", ".join("?" for _ in product.columns)
    con = sqlite3.connect(path)
    try:
        con.execute(f'CREATE TABLE "{product.table}" ({columns})')
        for chunk in chunks:
            con.executemany(f'INSERT INTO "{product.table}" VALUES ({marks})',
                            ([_sqlite_value(v) for v in row] for row in chunk.iter_rows()))
        con.commit()
    finally:
        con.close()


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return value


def readme(spec: MeshSpec) -> str:
    lines = [f"# {spec.title}", "", spec.story.strip(), "", "## Domains", ""]
    for domain in spec.domains:
        lines.append(f"- **{domain.name}** ({domain.title}, owner {domain.owner}): {domain.description}")
    lines += ["", "## Data products", "", "| id | source | title | owner |", "|---|---|---|---|"]
    for p in spec.products:
        flags = " (restricted)" if p.access.get("restricted") else ""
        lines.append(f"| `{p.id}` | {p.kind} | {p.title or '(untitled)'}{flags} | {p.owner or '-'} |")
    lines += ["", "## Seeded defects", "",
              "These flaws are in the data on purpose, so quality runs, scorecards and governance have "
              "something real to find. `catalog.samples.<module>.DEFECTS` lists them for tests.", ""]
    for product_id, defects in spec.defects().items():
        for defect in defects:
            lines.append(f"- `{product_id}` ({defect.kind}): {defect.description}")
    lines += ["", "Regenerate with `meshwork sample " + spec.name + "` (add `--scale N` for N times the rows).", ""]
    return "\n".join(lines)
