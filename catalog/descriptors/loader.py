"""Files -> model, with problems. Loading never stops at the first bad file.

Each problem becomes a `Problem(path, line, field, message)`; a product with an
error is kept and marked broken, so the rest of the mesh is still usable.
"""

from __future__ import annotations

import glob
import hashlib
from pathlib import Path
from typing import Any

import networkx as nx
from pydantic import BaseModel, ValidationError

from catalog.errors import MeshNotFound
from catalog.descriptors.model import (
    FILE_KINDS,
    NAME_PATTERN,
    NAME_RE,
    Access,
    Column,
    Sla,
    SqlSource,
    DataProduct,
    Domain,
    DomainDescriptor,
    GlossaryFile,
    MeshDescriptor,
    Problem,
    ProductDescriptor,
    Term,
)
from catalog.descriptors.column_lineage import output_columns
from catalog.descriptors.declared import DeclaredMesh
from catalog.descriptors.dsn import DsnError, check_hosts, expand
from catalog.descriptors.parsecache import ParseCache
from catalog.descriptors.ports import port_problems
from catalog.descriptors.yamlio import DocumentInvalid, YamlDocument, YamlError, field_errors, read_yaml, validate


class _Collector:
    """Collects problems for one mesh; knows the mesh root to print short paths."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: Path, message: str, *, line: int | None = None, field: str = "",
            severity: str = "error", product_id: str | None = None) -> None:
        self.problems.append(Problem(path=str(path), line=line, field=field, message=message,
                                     severity=severity, product_id=product_id))


def _validate(model: type[BaseModel], doc: YamlDocument, path: Path, problems: _Collector,
              product_id: str | None = None) -> BaseModel | None:
    try:
        return validate(model, doc, path)
    except DocumentInvalid as exc:
        for error in exc.errors:
            problems.add(path, error.message, line=error.line, field=error.field, product_id=product_id)
        return None


def _read(path: Path, problems: _Collector, stamps: dict[str, tuple[int, int]], product_id: str | None = None,
          cache: ParseCache | None = None) -> YamlDocument | None:
    """The file's document (or None and a problem); its modification time and size go into `stamps`."""
    try:
        stat = path.stat()
        stamps[str(path)] = (stat.st_mtime_ns, stat.st_size)
        return cache.read_yaml(path, stat) if cache is not None else read_yaml(path)
    except YamlError as exc:
        problems.add(path, f"invalid YAML: {exc}", line=exc.line, product_id=product_id)
    except OSError as exc:
        problems.add(path, f"cannot read file: {exc.strerror}", product_id=product_id)
    return None


def open_descriptors(root: Path, cache_dir: Path | None = None) -> DeclaredMesh:
    """Read every descriptor under `root`; raises only when `root` is not a mesh at all.

    With `cache_dir` (the mesh's state folder), parsed files are reused while their mtime is unchanged.
    """
    root = Path(root)
    if not root.is_dir():
        raise MeshNotFound(f"{root}: no such folder; give the folder that holds mesh.yaml")
    mesh_file = root / "mesh.yaml"
    if not mesh_file.is_file():
        raise MeshNotFound(f"{root}: no mesh.yaml here; create one with `meshwork init {root}`")
    problems = _Collector()
    cache = ParseCache(cache_dir)
    stamps: dict[str, tuple[int, int]] = {}  # stated before each file is read: a later change differs
    descriptor = _load_mesh_descriptor(root, mesh_file, problems, stamps)
    loaded = DeclaredMesh(root=root, descriptor=descriptor, cache=cache)
    allowed_roots = data_roots(root, descriptor)
    _load_glossary(root, loaded, problems, stamps)
    for domain_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
                             and p.name != GLOSSARY_FOLDER):
        domain = _load_domain(domain_dir, problems, stamps)
        if domain is None:
            continue
        loaded.domains[domain.name] = domain
        for product_file in sorted((domain_dir / "products").glob("*.y*ml")):
            product = _load_product(domain, product_file, problems, allowed_roots, loaded, stamps)
            if product is None:
                continue
            if product.id in loaded.products:
                first = loaded.products[product.id].path
                problems.add(product_file, f"duplicate product id {product.id!r}; also defined in {first}",
                             line=1, field="name", product_id=product.id)
                continue
            loaded.products[product.id] = product
    _check_postgres_hosts(loaded, problems)
    _check_references(loaded, problems)
    _check_derived_columns(loaded, problems)
    _check_terms(loaded, problems)
    _check_ports(loaded, problems)
    loaded.problems = problems.problems
    loaded.revision = _digest(stamps)
    cache.save()
    return loaded


def descriptors_revision(root: Path) -> str:
    """The revision `open_descriptors` gives the files under `root` now, read without parsing anything: it
    differs as soon as a descriptor is added, removed or changed (what a reader checks before reloading)."""
    root = Path(root)
    stamps: dict[str, tuple[int, int]] = {}
    files = [root / "mesh.yaml", *sorted((root / GLOSSARY_FOLDER).glob("*.y*ml"))]
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if (folder / "domain.yaml").is_file():
            files += [folder / "domain.yaml", *(folder / "products").glob("*.y*ml")]
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            continue
        stamps[str(path)] = (stat.st_mtime_ns, stat.st_size)
    return _digest(stamps)


GLOSSARY_FOLDER = "glossary"


def _load_glossary(root: Path, loaded: DeclaredMesh, problems: _Collector,
                   stamps: dict[str, tuple[int, int]]) -> None:
    """Terms of `glossary/*.yaml`, by id; a term declared twice keeps its first file and is a problem."""
    for path in sorted((root / GLOSSARY_FOLDER).glob("*.y*ml")):
        doc = _read(path, problems, stamps)
        if doc is None:
            continue
        loaded.documents[path] = doc
        if not isinstance(doc.data, dict) or not isinstance(doc.data.get("terms", []), list) or \
                set(doc.data) - {"terms"}:
            _validate(GlossaryFile, doc, path, problems)  # the file's shape is wrong: say where
            continue
        for i, raw in enumerate(doc.data.get("terms") or []):  # one bad term never hides the others
            try:
                term = Term.model_validate(raw)
            except ValidationError as exc:
                for error in field_errors(exc, doc, path, data=raw, base=("terms", i)):
                    problems.add(path, error.message, line=error.line, field=error.field)
                continue
            if term.id in loaded.terms:
                problems.add(path, f"term {term.id!r} is declared twice; also in {loaded.term_files[term.id]}",
                             line=doc.line_of(("terms", i)), field=f"terms.{i}")
                continue
            loaded.terms[term.id] = term
            loaded.term_files[term.id] = path


def term_line(loaded: DeclaredMesh, term_id: str, *loc: Any) -> int | None:
    """The line of a term (or of a field of it) in its glossary file."""
    path = loaded.term_files.get(term_id)
    doc = loaded.documents.get(path) if path else None
    if doc is None or not isinstance(doc.data, dict):
        return None
    for i, raw in enumerate(doc.data.get("terms") or []):
        if isinstance(raw, dict) and (raw.get("id") == term_id or loaded.terms[term_id].name == raw.get("name")):
            return doc.line_of(("terms", i, *loc))
    return None


def _check_terms(loaded: DeclaredMesh, problems: _Collector) -> None:
    """Every `terms:` link names a glossary term, and related terms form no cycle (each a problem with its line)."""
    known = loaded.terms
    hint = "define it in glossary/*.yaml or fix the id" if known else "the mesh has no glossary/*.yaml yet"
    for product in loaded.products.values():
        doc = loaded.documents.get(product.path)
        line = (lambda loc: doc.line_of(loc)) if doc else (lambda loc: None)
        for j, term in enumerate(product.descriptor.terms):
            if term not in known:
                problems.add(product.path, f"term {term!r} is linked but not defined in the glossary; {hint}",
                             line=line(("terms", j)), field="terms", product_id=product.id)
        for i, column in enumerate(product.columns):
            for j, term in enumerate(column.terms):
                if term not in known:
                    problems.add(product.path, f"column {column.name!r} links term {term!r}, which the glossary "
                                 f"does not define; {hint}", line=line(("columns", i, "terms", j)),
                                 field=f"columns.{i}.terms", product_id=product.id)
    graph = nx.DiGraph()
    for term in known.values():
        graph.add_node(term.id)
        for other in term.related:
            if other not in known:
                problems.add(loaded.term_files[term.id], f"term {term.id!r} names related term {other!r}, which "
                             "the glossary does not define", line=term_line(loaded, term.id, "related"),
                             field="related")
            else:
                graph.add_edge(term.id, other)
    for cycle in nx.simple_cycles(graph):
        members = " -> ".join(cycle + [cycle[0]])
        first = sorted(cycle)[0]
        problems.add(loaded.term_files[first], f"related terms form a cycle: {members}; a term's `related` "
                     "points to broader or neighbouring terms, never back to itself",
                     line=term_line(loaded, first, "related"), field="related")


def _check_ports(loaded: DeclaredMesh, problems: _Collector) -> None:
    for product in loaded.products.values():
        doc = loaded.documents.get(product.path)
        for loc, field, message in port_problems(loaded, product):
            problems.add(product.path, message, line=doc.line_of(loc) if doc else None, field=field,
                         product_id=product.id)


def _digest(stamps: dict[str, tuple[int, int]]) -> str:
    """Descriptor files' paths, modification times and sizes, digested: the declared mesh's revision."""
    digest = hashlib.sha256()
    for path, (mtime_ns, size) in sorted(stamps.items()):
        digest.update(f"{path}\0{mtime_ns}\0{size}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:16]


def _load_mesh_descriptor(root: Path, mesh_file: Path, problems: _Collector,
                          stamps: dict[str, tuple[int, int]]) -> MeshDescriptor:
    doc = _read(mesh_file, problems, stamps)
    descriptor = _validate(MeshDescriptor, doc, mesh_file, problems) if doc else None
    if descriptor is None:
        fallback = root.resolve().name.lower().replace("-", "_")
        descriptor = MeshDescriptor(name=fallback if NAME_RE.match(fallback) else "mesh")
    return descriptor  # type: ignore[return-value]


def data_roots(root: Path, descriptor: MeshDescriptor) -> list[Path]:
    """The folders file sources may read: the mesh folder plus declared data roots."""
    roots = [root.resolve()]
    for extra in descriptor.data_roots:
        path = Path(extra)
        roots.append((path if path.is_absolute() else root / path).resolve())
    return roots


def _load_domain(domain_dir: Path, problems: _Collector, stamps: dict[str, tuple[int, int]]) -> Domain | None:
    domain_file = domain_dir / "domain.yaml"
    if not domain_file.is_file():
        if (domain_dir / "products").is_dir():
            problems.add(domain_dir, "folder has products/ but no domain.yaml; add one with name and owner",
                         severity="warning")
        return None
    doc = _read(domain_file, problems, stamps)
    descriptor = _validate(DomainDescriptor, doc, domain_file, problems) if doc else None
    if descriptor is None:
        name = domain_dir.name
        if not NAME_RE.match(name):
            return None
        descriptor = DomainDescriptor(name=name)
    if descriptor.name != domain_dir.name:
        problems.add(domain_file, f"domain name {descriptor.name!r} differs from its folder {domain_dir.name!r}; "
                     "the folder name is used", line=doc.line_of(("name",)) if doc else 1, field="name",
                     severity="warning")
        descriptor.name = domain_dir.name
        if not NAME_RE.match(domain_dir.name):
            return None
    return Domain(name=descriptor.name, descriptor=descriptor, path=domain_dir)


def _load_product(domain: Domain, path: Path, problems: _Collector, allowed: list[Path],
                  loaded: DeclaredMesh, stamps: dict[str, tuple[int, int]]) -> DataProduct | None:
    fallback_id = f"{domain.name}.{path.stem}"
    doc = _read(path, problems, stamps, fallback_id, loaded.cache)
    if doc is not None:
        loaded.documents[path] = doc
    descriptor = _validate(ProductDescriptor, doc, path, problems, fallback_id) if doc else None
    if descriptor is not None:
        product_id = f"{domain.name}.{descriptor.name}"
        product = DataProduct(id=product_id, domain=domain.name, descriptor=descriptor, path=path)
        if descriptor.name != path.stem:
            problems.add(path, f"product name {descriptor.name!r} differs from file name {path.stem!r}",
                         line=doc.line_of(("name",)), field="name", severity="warning", product_id=product_id)
        _check_source_files(product, doc, problems, allowed, loaded.source_verdicts)
        _check_columns_named_by_checks(product, doc, problems)
        return product
    if not NAME_RE.match(path.stem):
        problems.add(path, f"file name {path.stem!r} is not a valid product name ({NAME_PATTERN})",
                     line=1, field="name", product_id=fallback_id)
        return None
    return DataProduct(id=fallback_id, domain=domain.name, descriptor=_salvage(path.stem, doc),
                       path=path, broken=True)


def _salvage(name: str, doc: YamlDocument | None) -> ProductDescriptor:
    """The readable parts of an invalid descriptor, so a broken product is still listed."""
    raw = doc.data if doc and isinstance(doc.data, dict) else {}
    text = {k: raw[k] for k in ("title", "description", "owner", "version") if isinstance(raw.get(k), str)}
    tags = [t for t in raw.get("tags", []) if isinstance(t, str)] if isinstance(raw.get("tags"), list) else []
    columns = []
    for item in raw.get("columns", []) if isinstance(raw.get("columns"), list) else []:
        try:
            columns.append(Column.model_validate(item))
        except ValidationError:
            continue
    try:
        source_obj = ProductDescriptor.model_validate({"name": name, "source": raw.get("source")}).source
    except ValidationError:
        source_obj = SqlSource(kind="sql", sql="")
    try:  # a restriction survives a broken descriptor; an unreadable one fails closed
        access = Access.model_validate(raw["access"]) if "access" in raw else Access()
    except ValidationError:
        access = Access(restricted=True, roles=[])
    return ProductDescriptor.model_construct(
        name=name, title=text.get("title", ""), description=text.get("description", ""),
        owner=text.get("owner", ""), version=text.get("version", "1.0.0"), status="active",
        tags=tags, source=source_obj, columns=columns, quality=[],
        sla=Sla(), access=access,
    )


def resolve_source_path(product: DataProduct, raw_path: str) -> Path:
    path = Path(raw_path)
    if not path.is_absolute():
        path = product.path.parent.parent / path  # relative to the domain folder
    return path


def _inside(path: Path, roots: list[Path]) -> bool:
    resolved = path.resolve()
    return any(resolved == r or r in resolved.parents for r in roots)


def _source_verdict(path: Path, pattern: bool, allowed: list[Path]) -> str:
    """'outside', 'missing' or 'ok' for one source path (many products share a file)."""
    if not _inside(path.parent if pattern else path, allowed):
        return "outside"
    found = glob.glob(str(path)) if pattern else path.is_file()
    return "ok" if found else "missing"


def _check_source_files(product: DataProduct, doc: YamlDocument, problems: _Collector,
                        allowed: list[Path], verdicts: dict[str, str] | None = None) -> None:
    source = product.source
    if source.kind not in FILE_KINDS:
        return
    path = resolve_source_path(product, source.path)
    pattern = any(ch in source.path for ch in "*?[")
    verdicts = {} if verdicts is None else verdicts
    if str(path) not in verdicts:
        verdicts[str(path)] = _source_verdict(path, pattern, allowed)
    verdict = verdicts[str(path)]
    if verdict == "outside":
        problems.add(product.path, f"source path {source.path!r} lies outside the mesh folder and its data roots; "
                     "move the file under the mesh or declare its folder in mesh.yaml data_roots",
                     line=doc.line_of(("source", "path")), field="source.path", product_id=product.id)
        product.broken = True
    elif verdict == "missing":
        problems.add(product.path, f"source file {source.path!r} not found (looked for {path})",
                     line=doc.line_of(("source", "path")), field="source.path", product_id=product.id)
        product.broken = True


def _check_postgres_hosts(loaded: DeclaredMesh, problems: _Collector) -> None:
    """With mesh.yaml `postgres_hosts`, a product whose DSN names another host is broken (never connected)."""
    allowed = loaded.descriptor.postgres_hosts
    if not allowed:
        return
    for product in loaded.products.values():
        if product.kind != "postgres" or product.broken:
            continue
        try:
            check_hosts(expand(product.source.dsn), allowed)
        except DsnError as exc:
            doc = loaded.documents.get(product.path)
            problems.add(product.path, str(exc), line=doc.line_of(("source", "dsn")) if doc else None,
                         field="source.dsn", product_id=product.id)
            product.broken = True


def _check_columns_named_by_checks(product: DataProduct, doc: YamlDocument, problems: _Collector) -> None:
    if not product.columns:
        return
    known = {c.name for c in product.columns}
    for i, check in enumerate(product.descriptor.quality):
        named = list(getattr(check, "columns", []) or []) + [getattr(check, "column", None)]
        for column in filter(None, named):
            if column not in known:
                problems.add(product.path, f"check {check.label!r} names column {column!r}, which the schema "
                             "does not declare", line=doc.line_of(("quality", i)), field=f"quality.{i}",
                             severity="warning", product_id=product.id)


def _check_references(loaded: DeclaredMesh, problems: _Collector) -> None:
    """Derived products: SQL parses, names known products, no cycles; broken upstreams propagate."""
    graph = nx.DiGraph()
    for product in loaded.products.values():
        graph.add_node(product.id)
        if product.broken or product.kind != "sql":
            continue
        names, error = loaded.cache.sql_references(product.source.sql)
        if error is not None:
            problems.add(product.path, f"SQL does not parse: {error}",
                         line=_line_of_field(loaded, product.path, ("source", "sql")), field="source.sql",
                         product_id=product.id)
            product.broken = True
            continue
        upstream = set()
        for name in names:
            if name in loaded.products:
                upstream.add(name)
                graph.add_edge(name, product.id)
            else:
                problems.add(product.path, f"SQL reads {name!r}, which is not a product of this mesh "
                             "(name products as <domain>.<name>)",
                             line=_line_of_field(loaded, product.path, ("source", "sql")), field="source.sql",
                             product_id=product.id)
                product.broken = True
        loaded.upstream_ids[product.id] = upstream
        for ref in (getattr(c, "product", None) for c in product.descriptor.quality):
            if ref and ref not in loaded.products:
                problems.add(product.path, f"references check names unknown product {ref!r}",
                             line=_line_of_field(loaded, product.path, ("quality",)), field="quality",
                             severity="warning", product_id=product.id)
    for cycle in nx.simple_cycles(graph):
        members = " -> ".join(cycle + [cycle[0]])
        for product_id in cycle:
            product = loaded.products[product_id]
            problems.add(product.path, f"dependency cycle: {members}",
                         line=_line_of_field(loaded, product.path, ("source",)), field="source.sql",
                         product_id=product_id)
            product.broken = True
    for product_id in nx.topological_sort(graph) if nx.is_directed_acyclic_graph(graph) else []:
        product = loaded.products[product_id]
        if product.broken:
            continue
        broken_up = sorted(u for u in loaded.upstream_ids.get(product_id, ()) if loaded.products[u].broken)
        if broken_up:
            problems.add(product.path, f"upstream product {', '.join(broken_up)} is broken, so this one cannot be read",
                         line=_line_of_field(loaded, product.path, ("source",)), field="source.sql",
                         severity="error", product_id=product_id)
            product.broken = True


def _check_derived_columns(loaded: DeclaredMesh, problems: _Collector) -> None:
    """A derived product's declared columns against what its SQL produces (bound to its upstreams' declared
    columns): a declared column the SQL does not yield would fail every query that names it."""
    for product in loaded.products.values():
        if product.broken or product.kind != "sql" or not product.columns:
            continue
        upstream = loaded.upstream_ids.get(product.id, set())
        produced = loaded.cache.sql_outputs(product.source.sql) or output_columns(
            product, upstream, lambda pid: loaded.products[pid].columns if pid in loaded.products else None)
        if produced is None:
            continue
        lowered = {name.lower() for name in produced}
        for index, column in enumerate(product.columns):
            if column.name.lower() not in lowered:
                problems.add(product.path, f"column {column.name!r} is declared but the SQL does not produce it "
                             f"(it produces {', '.join(produced)})",
                             line=_line_of_field(loaded, product.path, ("columns", index)),
                             field=f"columns.{index}", severity="warning", product_id=product.id)


def _line_of_field(loaded: DeclaredMesh, path: Path, loc: tuple[Any, ...]) -> int | None:
    doc = loaded.documents.get(path)
    if doc is not None:
        return doc.line_of(loc)
    try:
        return read_yaml(path).line_of(loc)
    except (YamlError, OSError):
        return None
