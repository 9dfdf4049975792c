"""dbt projects: a `target/manifest.json` registered as products of one domain.

Models, seeds and snapshots become products that read the tables dbt built, in place, in its DuckDB file;
sources become products that read their data where it lives (dbt-duckdb's `external_location`: a parquet or
CSV file; else a table of the same DuckDB file). Their `not_null`, `unique`, `accepted_values` and
`relationships` tests become checks; descriptions, tags and `meta` their documentation (`meta.owner` their
owner); exposures become consumers, and the manifest's lineage (column-level where the compiled SQL lets
catalog.descriptors.column_lineage trace it) is stored as OpenLineage run events of job namespace
`dbt://<project>`, which the lineage graph shows. Every product is written by the mesh's publisher: the one
YAML writer, the write authority, the gate for any SQL, paths inside the mesh or its data roots.

A manifest that is not one is refused with the file, the JSON path and the reason; what is only partly
supported (other tests, ephemeral models, sources in another database) is listed in `DbtImport.notes`.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import jsonschema
import networkx as nx
import polars as pl

from catalog.descriptors.model import PII_CATEGORIES, DataProduct, ProductDescriptor
from catalog.errors import PublishError
from catalog.interop.openlineage import EventBuilder, ingest, sql_links, to_dict
from catalog.publish import publish
from catalog.publish.intake import read_postgres
from catalog.publish.profile import suggest_pii

MAX_MANIFEST_BYTES = 500_000_000
TABLE_KINDS = ("model", "seed", "snapshot")
TESTS = ("not_null", "unique", "accepted_values", "relationships")

# The parts of dbt's manifest (schemas.getdbt.com/dbt/manifest/v*.json) the import reads, with the types it
# relies on; the rest of the document is carried by dbt and not looked at.
MANIFEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["metadata", "nodes", "sources"],
    "properties": {
        "metadata": {"type": "object", "required": ["dbt_schema_version"],
                     "properties": {"dbt_schema_version": {"type": "string", "pattern": r"/manifest/v\d+\.json$"},
                                    "project_name": {"type": "string"}, "generated_at": {"type": "string"}}},
        "nodes": {"type": "object", "additionalProperties": {
            "type": "object", "required": ["unique_id", "resource_type", "name"],
            "properties": {"unique_id": {"type": "string"}, "resource_type": {"type": "string"},
                           "name": {"type": "string"}, "database": {"type": ["string", "null"]},
                           "schema": {"type": "string"}, "alias": {"type": ["string", "null"]},
                           "description": {"type": "string"}, "meta": {"type": "object"},
                           "tags": {"type": "array", "items": {"type": "string"}},
                           "columns": {"type": "object", "additionalProperties": {"type": "object"}},
                           "depends_on": {"type": "object", "properties": {
                               "nodes": {"type": "array", "items": {"type": "string"}}}},
                           "test_metadata": {"type": ["object", "null"]},
                           "config": {"type": "object"}}}},
        "sources": {"type": "object", "additionalProperties": {
            "type": "object", "required": ["unique_id", "name", "source_name", "schema"],
            "properties": {"unique_id": {"type": "string"}, "name": {"type": "string"},
                           "source_name": {"type": "string"}, "schema": {"type": "string"},
                           "identifier": {"type": ["string", "null"]}, "meta": {"type": "object"},
                           "columns": {"type": "object", "additionalProperties": {"type": "object"}}}}},
        "exposures": {"type": "object", "additionalProperties": {
            "type": "object", "required": ["unique_id", "name"],
            "properties": {"depends_on": {"type": "object"}, "owner": {"type": "object"}}}},
    },
}


class ManifestError(PublishError):
    """A dbt manifest that cannot be imported (not a manifest, or its data cannot be found)."""


@dataclass
class DbtImport:
    """What an import did: products written (and left as they were), checks, lineage events, and notes on what
    was only partly supported."""

    project: str
    domain: str
    published: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    checks: int = 0
    lineage_events: int = 0
    consumers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return (f"<DbtImport {self.project} -> {self.domain}: {len(self.published)} published, "
                f"{len(self.unchanged)} unchanged, {self.checks} checks, {len(self.notes)} notes>")


# --------------------------------------------------------------------------- reading

def _json_path(parts: Any) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f"[{json.dumps(part)}]" if "." in str(part) else f".{part}"
    return out


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest as JSON, checked against the parts the import reads; ManifestError says where and why."""
    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise ManifestError(f"{path}: over {MAX_MANIFEST_BYTES:,} bytes")
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f"line {exc.lineno}, column {exc.colno}: {exc.msg}" if isinstance(exc, json.JSONDecodeError) else exc
        raise ManifestError(f"{path}: not JSON ({where})") from None
    errors = sorted(jsonschema.Draft202012Validator(MANIFEST_SCHEMA).iter_errors(data),
                    key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = [f"{path}: {_json_path(e.absolute_path)}: {e.message}" for e in errors[:10]]
        raise ManifestError("not a dbt manifest this import reads:\n" + "\n".join(lines))
    return data


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_") or "dbt"


# --------------------------------------------------------------------------- the import

class _Import:
    def __init__(self, mesh: Any, manifest_path: Path, manifest: dict[str, Any], domain: str, database: Path | None,
                 owner: str | None, postgres: dict[str, str] | None = None):
        self.mesh = mesh
        self.path = manifest_path
        self.manifest = manifest
        meta = manifest["metadata"]
        self.project = meta.get("project_name") or next(
            (n.get("package_name") for n in manifest["nodes"].values() if n.get("package_name")), "dbt")
        self.domain = publish.check_name(domain or _slug(self.project), "domain name")
        self.root = manifest_path.resolve().parent.parent  # <project>/target/manifest.json
        self.owner = owner
        self.postgres = dict(postgres or {})  # dbt database name -> the PostgreSQL DSN it is attached from
        self.result = DbtImport(self.project, self.domain)
        self.nodes: dict[str, dict[str, Any]] = {}  # unique_id -> node or source the import makes a product of
        self.products: dict[str, str] = {}  # unique_id -> product id
        self.database = database or self._find_database()
        self._tables: dict[tuple[str, str], list[tuple[str, str]]] | None = None

    def note(self, text: str) -> None:
        self.result.notes.append(text)

    def _find_database(self) -> Path | None:
        names = {n.get("database") for n in self.manifest["nodes"].values()
                 if n.get("resource_type") in TABLE_KINDS and n.get("database")}
        for name in sorted(n for n in names if n):
            for candidate in (self.root / f"{name}.duckdb", self.root / "target" / f"{name}.duckdb"):
                if candidate.is_file():
                    return candidate
        return None

    # ------------------------------------------------------------ products

    def select(self) -> None:
        for uid, node in sorted(self.manifest["nodes"].items()):
            if node["resource_type"] not in TABLE_KINDS:
                continue
            materialized = (node.get("config") or {}).get("materialized")
            if materialized == "ephemeral":
                self.note(f"{uid}: ephemeral, so there is no table to read; not imported (its lineage passes "
                          "through the models that use it only as their SQL does)")
                continue
            self._take(uid, node)
        for uid, source in sorted(self.manifest["sources"].items()):
            self._take(uid, source)

    def _take(self, uid: str, node: dict[str, Any]) -> None:
        name = _slug(node["name"])
        if name in {pid.split(".", 1)[1] for pid in self.products.values()}:
            name = _slug(f"{node.get('source_name', node['resource_type'])}_{node['name']}")
        try:
            publish.check_name(name, "product name")
        except PublishError as exc:
            self.note(f"{uid}: {exc}; not imported")
            return
        self.nodes[uid] = node
        self.products[uid] = f"{self.domain}.{name}"

    def _external_location(self, node: dict[str, Any]) -> str | None:
        for holder in (node.get("config") or {}, node.get("meta") or {}, node.get("source_meta") or {},
                       (node.get("config") or {}).get("meta") or {}):
            location = holder.get("external_location")
            if location:
                return str(location).format(name=node.get("identifier") or node["name"],
                                            identifier=node.get("identifier") or node["name"])
        return None

    def _where(self, path: Path) -> str:
        """A path as a descriptor of this domain writes it: relative to the domain folder inside the mesh."""
        path = path.resolve()
        mesh_root = Path(self.mesh.root).resolve()
        if path.is_relative_to(mesh_root):
            return os.path.relpath(path, mesh_root / self.domain)
        return str(path)

    def _source(self, uid: str, node: dict[str, Any]) -> dict[str, Any] | None:
        location = self._external_location(node) if uid.startswith("source.") else None
        if location is not None:
            file = (self.root / location) if not Path(location).is_absolute() else Path(location)
            kind = "parquet" if file.suffix.lower() == ".parquet" else "csv" if file.suffix.lower() in (
                ".csv", ".tsv") else None
            if kind is None:
                self.note(f"{uid}: external location {location!r} is neither parquet nor CSV; not imported")
                return None
            return {"kind": kind, "path": self._where(file)}
        postgres = self.postgres.get(node.get("database") or "")
        if postgres is not None:  # a database dbt-duckdb attaches from PostgreSQL: read the table there
            return {"kind": "postgres", "dsn": postgres, "schema": node.get("schema") or "public",
                    "table": (node.get("identifier") if uid.startswith("source.") else node.get("alias"))
                    or node["name"]}
        if self.database is None:
            self.note(f"{uid}: no DuckDB file found for database {node.get('database')!r} next to the project "
                      f"({self.root}); give it (--database); not imported")
            return None
        if node.get("database") and node["database"] != self.database.stem:
            self.note(f"{uid}: lives in database {node['database']!r}, not in the DuckDB file {self.database.name} "
                      f"(for a PostgreSQL one, give --postgres {node['database']}=DSN); not imported")
            return None
        if (node.get("config") or {}).get("materialized") == "view":
            # A view in the DuckDB file names its catalog, which the mesh attaches under an alias of its own:
            # it becomes what it is, a derived product, its compiled SQL over the products it reads.
            sql = self.rewritten(node)
            if sql is None:
                self.note(f"{uid}: a view without compiled SQL in the manifest (run `dbt build`); not imported")
                return None
            return {"kind": "sql", "sql": sql}
        table = node.get("identifier") if uid.startswith("source.") else node.get("alias")
        return {"kind": "duckdb", "path": self._where(self.database), "table": table or node["name"],
                "schema": node.get("schema") or "main"}

    def rewritten(self, node: dict[str, Any]) -> str | None:
        """The node's compiled SQL with every relation dbt rendered replaced by the product id that reads it."""
        sql = node.get("compiled_code") or node.get("compiled_sql")
        if not sql:
            return None
        relations = {n.get("relation_name"): pid for uid, pid in self.products.items()
                     if (n := self.nodes.get(uid)) and n.get("relation_name")}
        for relation in sorted(relations, key=len, reverse=True):
            sql = sql.replace(relation, relations[relation])
        return sql.strip()

    def _database_columns(self) -> dict[tuple[str, str], list[tuple[str, str]]]:
        """(schema, table) -> its (column, DuckDB type)s, for every table and view of dbt's DuckDB file, read once."""
        if self._tables is None:
            assert self.database is not None
            catalog_name = self.database.stem  # the name dbt's own views use for it
            con = duckdb.connect(":memory:", config={"threads": 1})
            try:
                con.execute(f"ATTACH {_literal(str(self.database))} AS {_ident(catalog_name)} (READ_ONLY)")
                rows = con.execute("SELECT table_schema, table_name, column_name, data_type FROM "
                                   "information_schema.columns WHERE table_catalog = ? ORDER BY table_schema, "
                                   "table_name, ordinal_position", [catalog_name]).fetchall()
            finally:
                con.close()
            self._tables = {}
            for schema, table, column, sql_type in rows:
                self._tables.setdefault((schema, table), []).append((column, sql_type))
        return self._tables

    def _columns(self, uid: str, node: dict[str, Any], source: dict[str, Any]) -> list[dict[str, Any]] | None:
        """The columns as the data has them (names and DuckDB types), described as dbt describes them."""
        if source["kind"] == "postgres":
            try:
                frame, types, _ = read_postgres(source["dsn"], source["schema"], source["table"],
                                                self.mesh.descriptor.postgres_hosts)
            except PublishError as exc:
                self.note(f"{uid}: {exc}; not imported")
                return None
            return self._described_columns(node, [(c, types.get(c, "VARCHAR")) for c in frame.columns])
        try:
            if source["kind"] in ("duckdb", "sql"):
                table = node.get("identifier") if uid.startswith("source.") else node.get("alias")
                rows = self._database_columns().get((node.get("schema") or "main", table or node["name"]), [])
            else:
                path = (Path(self.mesh.root) / self.domain / source["path"]).resolve()
                reader = "read_parquet" if source["kind"] == "parquet" else "read_csv"
                with duckdb.connect(":memory:", config={"threads": 1}) as con:
                    described = con.execute(f"DESCRIBE SELECT * FROM {reader}(?)", [str(path)]).fetchall()
                rows = [(r[0], r[1]) for r in described]
        except duckdb.Error as exc:
            self.note(f"{uid}: its data cannot be read ({str(exc).splitlines()[0]}); not imported")
            return None
        if not rows:
            self.note(f"{uid}: {node.get('schema')}.{node.get('alias') or node['name']} is not in {self.database}; "
                      "run `dbt build` first; not imported")
            return None
        return self._described_columns(node, rows)

    def _described_columns(self, node: dict[str, Any], rows: list[tuple[str, str]]) -> list[dict[str, Any]]:
        documented = {k.lower(): v for k, v in (node.get("columns") or {}).items()}
        out = []
        for name, sql_type in rows:
            doc = documented.get(name.lower(), {})
            meta = {**((doc.get("config") or {}).get("meta") or {}), **(doc.get("meta") or {})}
            column = {"name": name, "type": sql_type, "description": _described(doc.get("description", ""), meta)}
            category = _pii_category(name, meta)
            if category:
                column.update(pii=True, pii_category=category)
            out.append(column)
        return out

    # ------------------------------------------------------------ checks

    def checks(self) -> dict[str, list[dict[str, Any]]]:
        """uid of the tested node -> the checks its dbt tests become (the rest are notes)."""
        out: dict[str, list[dict[str, Any]]] = {}
        for uid, test in sorted(self.manifest["nodes"].items()):
            if test["resource_type"] != "test":
                continue
            meta = test.get("test_metadata") or {}
            kind = meta.get("name")
            depends = (test.get("depends_on") or {}).get("nodes") or []
            attached = test.get("attached_node") or (depends[0] if len(depends) == 1 else None)
            if attached not in self.products:
                if attached is not None or kind:
                    self.note(f"{uid}: tests {attached or 'several nodes'}, which was not imported; dropped")
                continue
            if kind not in TESTS:
                what = f"the generic test {kind!r}" if kind else "a singular (SQL) test"
                self.note(f"{uid}: {what} has no Meshwork check; dropped (dbt still runs it)")
                continue
            kwargs = meta.get("kwargs") or {}
            column = test.get("column_name") or kwargs.get("column_name")
            severity = "warning" if str((test.get("config") or {}).get("severity", "error")).lower() == "warn" \
                else "error"
            check: dict[str, Any] = {"name": test["name"][:120], "severity": severity}
            if kind == "not_null":
                check.update(check="not_null", column=column)
            elif kind == "unique":
                check.update(check="unique", columns=[column])
            elif kind == "accepted_values":
                check.update(check="accepted_values", column=column, values=list(kwargs.get("values") or []))
            else:
                target = next((d for d in depends if d != attached), None)
                if target not in self.products:
                    self.note(f"{uid}: relationships to {kwargs.get('to')!r}, which was not imported; dropped")
                    continue
                check.update(check="references", column=column, product=self.products[target],
                             to_column=kwargs.get("field"))
            out.setdefault(attached, []).append(check)
        return out

    # ------------------------------------------------------------ writing

    def order(self, checks: dict[str, list[dict[str, Any]]]) -> list[str]:
        """Products in an order where what a relationships check names is written first."""
        graph = nx.DiGraph()
        graph.add_nodes_from(self.products)
        for uid, node in self.nodes.items():
            for upstream in (node.get("depends_on") or {}).get("nodes") or []:
                if upstream in self.products:
                    graph.add_edge(upstream, uid)
        for uid, items in checks.items():
            targets = {c["product"] for c in items if c["check"] == "references"}
            for other, pid in self.products.items():
                if pid in targets:
                    graph.add_edge(other, uid)
        return list(nx.lexicographical_topological_sort(graph))

    def descriptor(self, uid: str, checks: list[dict[str, Any]]) -> ProductDescriptor | None:
        node = self.nodes[uid]
        source = self._source(uid, node)
        if source is None:
            return None
        columns = self._columns(uid, node, source)
        if columns is None:
            return None
        names = {c["name"] for c in columns}
        kept = []
        for check in checks:
            column = check.get("column") or (check.get("columns") or [None])[0]
            if column not in names:
                self.note(f"{uid}: test {check['name']} names column {column!r}, which the data does not have; dropped")
                continue
            kept.append(check)
        meta = {**((node.get("config") or {}).get("meta") or {}), **(node.get("meta") or {})}
        owner = str(meta.get("owner") or self.owner or "")
        if not publish.EMAIL.match(owner):
            owner = self.owner or ""
        title = node.get("label") or ""
        tags = set(node.get("tags") or []) | set((node.get("config") or {}).get("tags") or []) | {"dbt"}
        description = _described(node.get("description") or node.get("source_description") or "", meta)
        data = {"name": self.products[uid].split(".", 1)[1], "title": title, "description": description,
                "owner": owner, "tags": sorted(tags), "source": source,
                "columns": columns, "quality": kept}
        try:
            return ProductDescriptor.model_validate(data)
        except Exception as exc:  # noqa: BLE001 - pydantic says which field
            self.note(f"{uid}: cannot be described ({str(exc).splitlines()[0]}); not imported")
            return None

    def write(self, uid: str, descriptor: ProductDescriptor, user: str | None, allow_violations: bool) -> bool:
        pid = self.products[uid]
        existing = self.mesh.products.get(pid)
        disk = _on_disk(self.mesh.root, self.domain, descriptor.name)
        if disk is not None and disk.model_copy(update={"version": descriptor.version}) == descriptor:
            self.result.unchanged.append(pid)
            return False
        version = publish.next_version(disk.version) if disk is not None else "1.0.0"
        descriptor = descriptor.model_copy(update={"version": version})
        draft = publish.Draft(domain=self.domain, descriptor=descriptor,
                              profile=publish.Profile(rows=0, profiled_rows=0, columns=[]), preview=pl.DataFrame(),
                              compliance=self.mesh.publisher.compliance(self.domain, descriptor),
                              notes=[f"imported from the dbt manifest {self.path}"],
                              creates_domain=self.domain not in self.mesh.domains,
                              replaces_version=existing.descriptor.version if existing else None)
        self.mesh.publisher.publish(draft, user=user, allow_violations=allow_violations)
        self.result.published.append(pid)
        self.result.checks += len(descriptor.quality)
        return True

    # ------------------------------------------------------------ lineage

    def lineage(self, written: dict[str, ProductDescriptor]) -> list[dict[str, Any]]:
        """One COMPLETE run event per model (its inputs, its output with columnLineage) and per exposure."""
        builder = EventBuilder(self.mesh.name)
        job_ns = f"dbt://{self.project}"
        when = self.manifest["metadata"].get("generated_at") or ""
        by_relation = {n.get("relation_name"): self.products[uid] for uid, n in self.nodes.items()
                       if n.get("relation_name") and uid in self.products}
        events = []
        ids = {f"{self.domain}.{name}" for name in written}
        for uid, node in sorted(self.nodes.items()):
            pid = self.products[uid]
            depends = [self.products[d] for d in (node.get("depends_on") or {}).get("nodes") or []
                       if self.products.get(d) in ids]
            if node.get("resource_type") not in TABLE_KINDS or pid not in ids or not depends:
                continue
            if written[_name(pid)].source.kind == "sql":  # a view: its own SQL is its lineage in the mesh
                continue
            links = self._column_links(uid, node, written, by_relation, set(depends))
            output = builder.dataset_of(pid, written[_name(pid)], links)
            events.append(builder.foreign_run(job_ns, f"{self.project}.{node['name']}", [builder.input_of(d) for d in
                                                                                          depends], [output], when,
                                              _run_id(self.manifest, uid), node.get("description") or "", ""))
        for uid, exposure in sorted((self.manifest.get("exposures") or {}).items()):
            inputs = [self.products[d] for d in (exposure.get("depends_on") or {}).get("nodes") or []
                      if self.products.get(d) in ids]
            if not inputs:
                self.note(f"{uid}: depends on nothing that was imported; not recorded as a consumer")
                continue
            owner = (exposure.get("owner") or {})
            text = " ".join(t for t in (exposure.get("description") or "", exposure.get("url") or "") if t)
            events.append(builder.foreign_run(job_ns, f"exposure.{exposure['name']}", [builder.input_of(p)
                                                                                       for p in inputs], [], when,
                                              _run_id(self.manifest, uid), text,
                                              owner.get("email") or owner.get("name") or ""))
            self.result.consumers.append(f"{exposure.get('type', 'exposure')} {exposure['name']} "
                                         f"(reads {', '.join(inputs)})")
        return [to_dict(e) for e in events]

    def _column_links(self, uid: str, node: dict[str, Any], written: dict[str, ProductDescriptor],
                      by_relation: dict[str, str], upstreams: set[str]) -> dict[str, list[tuple[str, str]]]:
        sql = self.rewritten(node)
        if not sql:
            if node.get("resource_type") == "model":
                self.note(f"{uid}: the manifest has no compiled SQL (run `dbt compile` or `dbt build`); "
                          "product-level lineage only")
            return {}
        pid = self.products[uid]
        probe = DataProduct(id=pid, domain=self.domain, path=Path(self.mesh.root) / self.domain,
                            descriptor=ProductDescriptor(name=_name(pid), source={"kind": "sql", "sql": sql}))
        try:
            links = sql_links(probe, upstreams, lambda p: written[_name(p)].columns if _name(p) in written and
                              p.startswith(f"{self.domain}.") else None)
        except Exception as exc:  # noqa: BLE001 - SQL the tracer cannot follow: product-level lineage stays
            self.note(f"{uid}: column lineage not traced ({str(exc).splitlines()[0]}); product-level lineage only")
            return {}
        return links


def _name(product_id: str) -> str:
    return product_id.split(".", 1)[1]


def _run_id(manifest: dict[str, Any], uid: str) -> str:
    invocation = manifest["metadata"].get("invocation_id") or ""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"dbt:{invocation}:{uid}"))


def _pii_category(name: str, meta: dict[str, Any]) -> str | None:
    """A column's personal-data category: dbt `meta: {pii: <category>}` (or `pii: false`), else as self-serve
    publishing suggests from the name."""
    declared = meta.get("pii", meta.get("contains_pii"))
    if declared is False:
        return None
    if isinstance(declared, str) and declared in PII_CATEGORIES:
        return declared
    suggested = suggest_pii(name)[0]
    return suggested or ("other" if declared else None)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _described(description: str, meta: Any) -> str:
    """dbt's description, then its `meta` (what dbt users write documentation into) as `key: value` lines."""
    text = (description or "").strip()
    if isinstance(meta, dict) and meta:
        lines = "\n".join(f"- {k}: {v if isinstance(v, str) else json.dumps(v, default=str)}"
                          for k, v in sorted(meta.items()))
        text = f"{text}\n\ndbt meta:\n{lines}".strip()
    return text


def _on_disk(root: Path, domain: str, name: str) -> ProductDescriptor | None:
    path = Path(root) / domain / "products" / f"{name}.yaml"
    if not path.is_file():
        return None
    try:
        return publish.parse_descriptor(path.read_text(encoding="utf-8"), str(path))
    except PublishError:
        return None


def import_manifest(mesh: Any, manifest: Path, domain: str | None = None, database: str | Path | None = None,
                    owner: str | None = None, user: str | None = None, allow_violations: bool = False,
                    postgres: dict[str, str] | None = None, reopen: Callable[[], Any] | None = None) -> DbtImport:
    """Register the dbt project of `manifest` (`<project>/target/manifest.json`) as products of `domain`
    (default: the project's name) as `user`, with checks, documentation, consumers and lineage; a re-import
    writes a new version of what changed and leaves the rest. `postgres` maps a dbt database name to the
    PostgreSQL connection string its tables are read from (in place). `reopen` reads the mesh again after each write,
    so the next product's SQL and checks may name the products written before it."""
    original = mesh
    data = read_manifest(Path(manifest))
    job = _Import(mesh, Path(manifest), data, domain or "", Path(database).resolve() if database else None, owner,
                  postgres)
    job.select()
    checks = job.checks()
    written: dict[str, ProductDescriptor] = {}
    for uid in job.order(checks):
        descriptor = job.descriptor(uid, checks.get(uid, []))
        if descriptor is None:
            continue
        if not descriptor.owner:
            raise ManifestError(f"{uid}: no owner (an e-mail): set `meta: {{owner: ...}}` in the dbt project or "
                                "give one for the whole import (--owner)")
        try:
            changed = job.write(uid, descriptor, user, allow_violations)
        except PublishError as exc:
            raise ManifestError(f"{uid} ({job.products[uid]}): {exc}") from None
        written[descriptor.name] = descriptor
        if changed and reopen is not None:
            if job.mesh is not original:
                job.mesh.close()
            job.mesh = reopen()
    events = job.lineage(written)
    if events:
        job.result.lineage_events = ingest(original.lineage_events, events, f"dbt:{job.project}")
    if job.mesh is not original:
        job.mesh.close()
    return job.result
