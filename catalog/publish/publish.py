"""Self-serve publishing: a draft product from an upload, a PostgreSQL table or SQL over products.

A draft carries the inferred schema, suggested PII classes and checks (catalog.publish.profile), and its
compliance with the mesh's policies (catalog.governance.policies). `publish` writes it into the domain's
folder atomically (temp file + os.replace), under validated names only, never replacing another
product unless the draft is a higher version, and re-reads the mesh before it lets the files stay.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import duckdb
import polars as pl

from catalog import sqlutil
from catalog.numbers import rows_text
from catalog.access.identity import ANONYMOUS, normalize_user
from catalog.access.policy import source_keys
from catalog.descriptors.declared import DeclaredMesh
from catalog.descriptors.loader import data_roots, open_descriptors, resolve_source_path
from catalog.errors import MeshError, PublishError, QueryRejected
from catalog.governance.policies import DEFAULT_POLICIES
from catalog.descriptors.column_lineage import trace_columns
from catalog.publish.intake import (PROFILE_ROWS, parse_postgres_uri, read_in_place, read_postgres,
                            read_upload)
from catalog.descriptors.model import (DEFAULT_ROLES, NAME_PATTERN, NAME_RE, Access, Column, DataProduct,
                                      ProductDescriptor)
from catalog.publish.profile import Profile, profile_frame, sla_note, suggest_checks, suggest_columns, suggest_sla
from catalog.descriptors.yamlio import DocumentInvalid, Flow, dump_yaml, load_text, write_atomic
from catalog.quality.sensitivity import Sensitivity
from catalog.query import gate
from catalog.sources import files
from catalog.sources.context import SourceContext
from catalog.descriptors.dsn import DsnError, check_written

if TYPE_CHECKING:
    from catalog.query.session import Session

MAX_UPLOAD_BYTES = 100_000_000
PREVIEW_ROWS = 20
EMAIL = re.compile(r"^[^@\s<>\"'`]+@[^@\s<>\"'`]+\.[^@\s<>\"'`]+\Z")


class Sessions(Protocol):
    """Opens a viewer's governed session (`Mesh.session`)."""

    def __call__(self, role: str = ..., user: str | None = ...) -> "Session": ...


@dataclass
class Draft:
    """A product not yet written: review `yaml()`, `compliance` and `notes`, then `Mesh.publisher.publish(draft)`."""

    domain: str
    descriptor: ProductDescriptor
    profile: Profile
    preview: pl.DataFrame
    compliance: pl.DataFrame
    upload: bytes | None = None           # written to <domain>/data/ on publish
    notes: list[str] = field(default_factory=list)
    creates_domain: bool = False
    replaces_version: str | None = None   # the version this draft supersedes, if the product exists
    origin: str = "publish"               # "contract" for an imported ODCS document (the audit's action)

    @property
    def product_id(self) -> str:
        return f"{self.domain}.{self.descriptor.name}"

    @property
    def violations(self) -> pl.DataFrame:
        return self.compliance.filter(~pl.col("passed"))

    @property
    def blocking(self) -> pl.DataFrame:
        """Failed policies of severity error: publishing is refused until they are fixed."""
        return self.violations.filter(pl.col("severity") == "error")

    def yaml(self) -> str:
        return descriptor_yaml(self.descriptor)


@dataclass(frozen=True)
class PublishResult:
    product_id: str
    descriptor_path: Path
    data_path: Path | None
    version: str
    created_domain: bool


# --------------------------------------------------------------------------- names and paths

def check_name(value: str, what: str) -> str:
    value = (value or "").strip()
    if not NAME_RE.match(value) or len(value) > 64:
        raise PublishError(f"invalid {what} {value!r}: use lower-case letters, digits and _ , starting with a "
                           f"letter, at most 64 characters ({NAME_PATTERN})")
    return value


def _inside(root: Path, path: Path) -> Path:
    """`path` resolved, refusing anything (a symlink, ..) that would land outside the mesh folder."""
    resolved = path.resolve()
    if resolved != root and root not in resolved.parents:
        raise PublishError(f"refused: {path} resolves to {resolved}, outside the mesh folder {root}")
    return resolved


def _version_key(version: str) -> tuple[int, ...]:
    parts = re.findall(r"\d+", version)
    if not parts:
        raise PublishError(f"version {version!r} is not a version number like 1.2.0")
    return tuple(int(p) for p in parts[:3]) + (0,) * (3 - min(3, len(parts)))


def next_version(version: str) -> str:
    major, minor, _ = _version_key(version)[:3]
    return f"{major}.{minor + 1}.0"


# --------------------------------------------------------------------------- YAML out

def descriptor_dict(d: ProductDescriptor) -> dict[str, Any]:
    """The descriptor as a person would write it: defaults left out, columns and checks one per line."""
    out: dict[str, Any] = {"name": d.name}
    for key in ("title", "description", "owner"):
        if getattr(d, key):
            out[key] = getattr(d, key)
    out["version"] = d.version
    if d.status != "active":
        out["status"] = d.status
    if d.tags:
        out["tags"] = list(d.tags)
    if d.terms:
        out["terms"] = list(d.terms)
    source = d.source.model_dump(by_alias=True, exclude_defaults=True)
    out["source"] = {"kind": d.source.kind, **{k: v for k, v in source.items() if k != "kind"}}
    columns = []
    for c in d.columns:
        col: dict[str, Any] = {"name": c.name, "type": c.type}
        if c.pii:
            col["pii"] = c.pii_category or "other"
        if c.key:
            col["key"] = True
        if c.description:
            col["description"] = c.description
        if c.terms:
            col["terms"] = list(c.terms)
        columns.append(Flow(col))
    out["columns"] = columns
    if d.quality:
        out["quality"] = [Flow({"check": q.check, **q.model_dump(exclude_defaults=True, exclude={"check"})})
                          for q in d.quality]
    sla = d.sla.model_dump(exclude_none=True)
    if sla:
        out["sla"] = Flow(sla)
    if d.access.restricted or d.access.roles:
        out["access"] = Flow(d.access.model_dump())
    if d.ports.output or d.ports.input:
        out["ports"] = {side: [Flow(p.model_dump(exclude_defaults=True) | {"name": p.name} if side == "output"
                                    else p.model_dump(exclude_defaults=True) | {"product": p.product})
                               for p in getattr(d.ports, side)]
                        for side in ("output", "input") if getattr(d.ports, side)}
    if d.odcs:
        out["x-odcs"] = d.odcs
    return out


def descriptor_yaml(d: ProductDescriptor) -> str:
    return dump_yaml(descriptor_dict(d))


def parse_descriptor(text: str, where: str = "descriptor") -> ProductDescriptor:
    """Validate descriptor YAML (e.g. edited on the Publish page); errors name the line and field."""
    try:
        return load_text(ProductDescriptor, text, where)
    except DocumentInvalid as exc:
        raise PublishError(str(exc)) from None


# --------------------------------------------------------------------------- drafts

def _new_descriptor(name: str, owner: str, description: str, title: str, tags: list[str], source: dict[str, Any],
                    profile: Profile, inherited: dict[str, Column] | None = None) -> ProductDescriptor:
    owner = (owner or "").strip()
    if not EMAIL.match(owner):
        raise PublishError(f"owner {owner!r} is not an e-mail address: a product needs an accountable person")
    return ProductDescriptor.model_validate({
        "name": name, "title": title, "description": description.strip(), "owner": owner,
        "tags": tags, "source": source,
        "columns": [c.model_dump() for c in suggest_columns(profile, inherited)],
        "quality": suggest_checks(profile), "sla": suggest_sla(profile),
    })


def _inherited_columns(mesh: DeclaredMesh, domain: str, name: str, sql: str, upstream: list[str],
                       profile: Profile) -> dict[str, Column]:
    """Output column -> the upstream column whose PII class and description it keeps: traced through the SQL
    with the column lineage (so `email AS contact` stays an email) when the output is that one column with its
    type unchanged; else an upstream column of the same name."""
    inherited: dict[str, Column] = {}
    for product_id in upstream:
        for column in mesh.product(product_id).columns:
            inherited.setdefault(column.name, column)
    probe = DataProduct(id=f"{domain}.{name}", domain=domain, path=mesh.root / domain / "products" / name,
                        descriptor=ProductDescriptor(name=name, source={"kind": "sql", "sql": sql}))
    traced = trace_columns(probe, set(upstream), lambda pid: mesh.product(pid).columns if pid in mesh.products
                           else None)
    types = {c.name: c.type.upper() for c in profile.columns}
    for output, links in traced.inputs.items():
        if len(links) != 1 or output not in types:
            continue
        source = mesh.product(links[0][0]).column(links[0][1])
        if source is not None and source.type.upper() == types[output]:
            inherited[output] = source
    return inherited


def _probe(mesh: DeclaredMesh, domain: str, descriptor: ProductDescriptor) -> DataProduct:
    """The draft as a loaded product would be, for rules that read a DataProduct."""
    return DataProduct(id=f"{domain}.{descriptor.name}", domain=domain,
                       path=mesh.root / domain / "products" / f"{descriptor.name}.yaml", descriptor=descriptor)


def vet_sql(mesh: DeclaredMesh, draft: Draft) -> None:
    """Every SQL text a draft carries (a derived product's SELECT, expression checks) passes the gate, as a
    query over the mesh's products would: nothing unvetted reaches the engine from a draft or a contract."""
    products = set(mesh.products) - {draft.product_id}
    descriptor = draft.descriptor
    texts: list[tuple[str, str]] = []
    if descriptor.source.kind == "sql":
        texts.append(("its SQL", descriptor.source.sql))
    columns = ", ".join(f'NULL AS "{c.name}"' for c in descriptor.columns) or "NULL AS _"
    for check in descriptor.quality:
        if check.check == "expression":
            texts.append((f"the check {check.label!r}",
                          f"WITH _row AS (SELECT {columns}) SELECT ({check.expression}) AS ok FROM _row"))
    for what, sql in texts:
        try:
            gate.vet(sql, products)
        except QueryRejected as exc:
            raise PublishError(f"{draft.product_id}: {what} is refused by the SQL gate: {exc}") from None


def _check_source_path(mesh: DeclaredMesh, draft: Draft) -> None:
    """A file or database source resolves inside the mesh folder or one of its data roots, never elsewhere."""
    raw = getattr(draft.descriptor.source, "path", None)
    if draft.upload is not None or not raw:
        return
    path = resolve_source_path(_probe(mesh, draft.domain, draft.descriptor), str(raw)).resolve()
    roots = [mesh.root.resolve(), *(Path(r).resolve() for r in data_roots(mesh.root, mesh.descriptor))]
    anchor = path.parent if any(ch in str(raw) for ch in "*?[") else path
    if not any(anchor == r or r in anchor.parents for r in roots):
        raise PublishError(f"{draft.product_id}: its source path {raw!r} resolves outside the mesh folder and its "
                           "data roots; move the file under the mesh or declare its folder in mesh.yaml data_roots")


# --------------------------------------------------------------------------- writing

def _write_new(path: Path, data: bytes) -> None:
    """Create `path` atomically, failing if it exists (two publishers cannot both win)."""
    try:
        write_atomic(path, data, replace=False)
    except FileExistsError:
        raise PublishError(f"{path.name} appeared while publishing (someone else published it); try again") from None


@dataclass
class _Undo:
    created: list[Path] = field(default_factory=list)
    restore: dict[Path, bytes] = field(default_factory=dict)
    folders: list[Path] = field(default_factory=list)

    def run(self) -> None:
        for path in reversed(self.created):
            path.unlink(missing_ok=True)
        for path, data in self.restore.items():
            write_atomic(path, data)
        for folder in reversed(self.folders):
            try:
                folder.rmdir()
            except OSError:
                pass


def _mkdirs(path: Path, undo: _Undo) -> None:
    missing = [p for p in [path, *path.parents] if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir()
        undo.folders.append(folder)


def _verify(root: Path, product_id: str) -> None:
    """Re-read the mesh as the app will; a descriptor that loads broken is taken back."""
    loaded = open_descriptors(root)
    product = loaded.products.get(product_id)
    errors = [p for p in loaded.problems if p.product_id == product_id and p.severity == "error"]
    if product is None or product.broken or errors:
        raise PublishError(f"{product_id} would not load: " + ("; ".join(str(p) for p in errors) or "not found"))
    if product.kind in ("parquet", "csv"):
        _probe_file(root, product)


def _probe_file(root: Path, product: Any) -> None:
    """Read the file source's header as the product view will, and match it against the declared columns."""
    con = duckdb.connect(":memory:", config={"threads": 1})
    try:
        select = files.relation(product, SourceContext(root=root, load_extension=lambda _: None))
        actual = set(con.sql(select.limit(0).sql("duckdb")).columns)
    except duckdb.Error as exc:
        raise PublishError(f"{product.id}: its {product.kind} source cannot be read: "
                           f"{str(exc).splitlines()[0]}") from None
    finally:
        con.close()
    missing = [c.name for c in product.columns if c.name not in actual]
    if missing:
        raise PublishError(f"{product.id} declares column(s) {', '.join(missing)} that its data does not have "
                           f"(the data has: {', '.join(sorted(actual))})")


# --------------------------------------------------------------------------- a new mesh

def init_mesh(path: str | Path, name: str | None = None, title: str = "", steward: str | None = None) -> Path:
    """Create an empty mesh: mesh.yaml with the default roles, the default global policies, and its creator
    (`steward`, default: the local user) as its first steward, who may add domains (catalog.access.authority)."""
    root = Path(path)
    creator = normalize_user(steward or os.environ.get("MESHWORK_USER") or _os_user())
    if (root / "mesh.yaml").exists():
        raise MeshError(f"{root / 'mesh.yaml'} exists: this folder is already a mesh")
    name = name or re.sub(r"[^a-z0-9_]", "_", root.resolve().name.lower()).strip("_")
    if not NAME_RE.match(name or ""):
        name = "mesh"
    check_name(name, "mesh name")
    root.mkdir(parents=True, exist_ok=True)
    text = dump_yaml({
        "name": name, "title": title or name.replace("_", " ").title(),
        "roles": {r: spec.model_dump() for r, spec in DEFAULT_ROLES.items()},
        "policies": [p.model_dump(exclude_defaults=True) | {"severity": p.severity}
                     for p in DEFAULT_POLICIES],
        **({"users": {creator: Flow({"roles": ["steward"]})}} if creator and creator != ANONYMOUS else {}),
    })
    _write_new(root / "mesh.yaml", text.encode())
    gitignore = root / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text(".meshwork/\n")
    return root


def _os_user() -> str | None:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no USER and no passwd entry (some containers)
        return None


# --------------------------------------------------------------------------- the publisher of one mesh

class Publisher:
    """Drafts and publishes products into one mesh (`Mesh.publisher`). It receives what publishing asks of
    the rest of the mesh: the declared mesh, a governed-session factory (to profile a derived product), which
    checks are sensitive, the restrictions on the data, and the access and governance rules, as callables the
    facade wires (who may write, who may set sensitive checks, a descriptor's compliance, the roles restricted
    upstreams allow)."""

    def __init__(self, mesh: DeclaredMesh, *, sessions: Sessions, sensitivity: Sensitivity,
                 restrictions: Callable[[], Mapping[str, frozenset[str]]],
                 authorize_write: Callable[[str | None, str, str, str], str],
                 authorize_checks: Callable[[str, str, list[str], str], None],
                 compliance: Callable[[str, ProductDescriptor], pl.DataFrame],
                 required_access: Callable[[set[str] | list[str]], set[str] | None]):
        self.mesh = mesh
        self.sessions = sessions
        self.sensitivity = sensitivity
        self.restrictions = restrictions
        self.authorize_write = authorize_write
        self.authorize_checks = authorize_checks
        self.compliance = compliance
        self.required_access = required_access

    @property
    def data_roots(self) -> list[Path]:
        return data_roots(self.mesh.root, self.mesh.descriptor)

    def _finish(self, domain: str, descriptor: ProductDescriptor, profile: Profile, frame: pl.DataFrame,
                upload: bytes | None = None, notes: list[str] | None = None,
                version: str | None = None) -> Draft:
        existing = self.mesh.products.get(f"{domain}.{descriptor.name}")
        replaces = existing.descriptor.version if existing else None
        descriptor = descriptor.model_copy(update={"version": version or replaces or "1.0.0"})
        notes = list(notes or [])
        sensitive = set(self.sensitive_changes(domain, descriptor, existing))
        if sensitive:  # suggestions only: a steward may add them back in the YAML
            descriptor = descriptor.model_copy(update={"quality": [q for q in descriptor.quality
                                                                   if q.label not in sensitive]})
            notes.append(f"left out the suggested check(s) {', '.join(sorted(sensitive))}: they read personal data "
                         "or restricted data, and only a steward may add such checks")
        if existing and _version_key(descriptor.version) > _version_key(replaces or "0"):
            notes.append(f"{existing.id} exists (version {replaces}, owner {existing.owner or '-'}): publishing "
                         f"replaces it with version {descriptor.version}")
        elif existing:
            notes.append(f"{existing.id} already exists (version {replaces}, owner {existing.owner or '-'}): give a "
                         f"higher version (e.g. {next_version(replaces or '1.0.0')}) to replace it, or another name")
        if profile.profiled_rows < profile.rows:
            notes.append(f"profiled the first {profile.profiled_rows:,} of {rows_text(profile.rows)}")
        if not descriptor.sla.freshness_hours and (why := sla_note(profile)):
            notes.append(why)
        return Draft(domain=domain, descriptor=descriptor, profile=profile, preview=frame.head(PREVIEW_ROWS),
                     compliance=self.compliance(domain, descriptor), upload=upload, notes=notes,
                     creates_domain=domain not in self.mesh.domains, replaces_version=replaces)

    def draft_from_upload(self, data: bytes, filename: str, *, domain: str, name: str, owner: str,
                          description: str = "", title: str = "", tags: list[str] | None = None,
                          version: str | None = None, max_bytes: int = MAX_UPLOAD_BYTES) -> Draft:
        """A draft product over an uploaded CSV or Parquet file (kept as uploaded in <domain>/data/)."""
        domain, name = check_name(domain, "domain name"), check_name(name, "product name")
        if len(data) > max_bytes:
            raise PublishError(f"{filename} is {len(data) / 1e6:,.1f} MB, over the {max_bytes / 1e6:,.0f} MB upload "
                               "limit; publish large data from where it lives (a PostgreSQL table, or a file under "
                               "a data root of mesh.yaml)")
        kind, options, frame, types, total = read_upload(data, filename, self.mesh.descriptor.memory_limit)
        profile = profile_frame(frame, types, total)
        source = {"kind": kind, "path": f"data/{name}.{kind}", **({"options": options} if options else {})}
        descriptor = _new_descriptor(name, owner, description, title, tags or [], source, profile)
        return self._finish(domain, descriptor, profile, frame, upload=data, version=version,
                            notes=[f"{filename}: {total:,} rows, {len(frame.columns)} columns"])

    def draft_from_file(self, path: str | Path, **kwargs: Any) -> Draft:
        """A draft over a file on this machine (the CLI). A file already under the mesh folder or one of its data
        roots is read where it is (no copy, no size limit); any other file is copied in like an upload."""
        domain = check_name(kwargs.get("domain", ""), "domain name")
        name = check_name(kwargs.get("name", ""), "product name")
        path = Path(path)
        if not path.is_file():
            raise PublishError(f"{path}: no such file")
        resolved = path.resolve()
        if any(resolved.is_relative_to(r) for r in self.data_roots):
            kind, options, frame, types, total = read_in_place(resolved, self.mesh.descriptor.memory_limit)
            profile = profile_frame(frame, types, total)
            where = os.path.relpath(resolved, self.mesh.root.resolve() / domain) \
                if resolved.is_relative_to(self.mesh.root.resolve()) else str(resolved)
            source = {"kind": kind, "path": where, **({"options": options} if options else {})}
            kwargs = {k: v for k, v in kwargs.items() if k not in ("domain", "name", "max_bytes")}
            descriptor = _new_descriptor(name, kwargs.pop("owner", ""), kwargs.pop("description", ""),
                                         kwargs.pop("title", ""), kwargs.pop("tags", None) or [], source, profile)
            return self._finish(domain, descriptor, profile, frame, version=kwargs.pop("version", None),
                                notes=[f"{where}: {total:,} rows, read where it is (nothing copied)"])
        limit = kwargs.get("max_bytes", MAX_UPLOAD_BYTES)
        if path.stat().st_size > limit:
            raise PublishError(f"{path.name} is {path.stat().st_size / 1e6:,.1f} MB, over the {limit / 1e6:,.0f} MB "
                               "upload limit; publish large data from where it lives (a PostgreSQL table, or a file "
                               "under a data root of mesh.yaml)")
        return self.draft_from_upload(path.read_bytes(), path.name, **kwargs)

    def draft_from_postgres(self, dsn: str, table: str, *, schema: str = "public", domain: str, name: str,
                            owner: str, description: str = "", title: str = "", tags: list[str] | None = None,
                            version: str | None = None) -> Draft:
        """A draft product reading a PostgreSQL table in place over the connection string as typed (nothing in it is
        expanded; catalog.descriptors.dsn), to a host mesh.yaml `postgres_hosts` allows when it lists any."""
        domain, name = check_name(domain, "domain name"), check_name(name, "product name")
        frame, types, total = read_postgres(dsn, schema, table, self.mesh.descriptor.postgres_hosts)
        profile = profile_frame(frame, types, total)
        source = {"kind": "postgres", "dsn": dsn, "schema": schema, "table": table}
        descriptor = _new_descriptor(name, owner, description, title, tags or [], source, profile)
        notes = [f"{schema}.{table}: {total:,} rows, read in place (nothing copied)"]
        if re.search(r"://[^/@:]+:[^@${}]+@|password=(?!\$\{)", dsn):
            notes.append("the connection string holds a password, which would be written to the descriptor: leave "
                         "it out (the server's ~/.pgpass supplies it), or have a steward write ${MESHWORK_...} in "
                         "the committed descriptor")
        return self._finish(domain, descriptor, profile, frame, notes=notes, version=version)

    def draft_from_sql(self, sql: str, *, domain: str, name: str, owner: str, description: str = "",
                       title: str = "", tags: list[str] | None = None, role: str = "steward",
                       user: str | None = None, version: str | None = None) -> Draft:
        """A derived product: a SELECT over products, run through the governed session of `role` to profile it.
        Columns named like an upstream column inherit its PII class and description."""
        domain, name = check_name(domain, "domain name"), check_name(name, "product name")
        try:
            tree = sqlutil.parse_one_select(sql)
        except sqlutil.SqlParseError as exc:
            raise PublishError(f"the SQL does not parse: {exc}") from None
        upstream = sorted(sqlutil.referenced_tables(tree))
        if f"{domain}.{name}" in upstream:
            raise PublishError(f"{domain}.{name} cannot read itself: that would be a dependency cycle")
        result = self.sessions(role=role, user=user).run(sql, max_rows=PROFILE_ROWS)
        profile = profile_frame(result.frame, total_rows=result.total_rows)
        inherited = _inherited_columns(self.mesh, domain, name, sql, upstream, profile)
        descriptor = _new_descriptor(name, owner, description, title, tags or [], {"kind": "sql", "sql": sql.strip()},
                                     profile, inherited)
        notes = [f"reads {', '.join(upstream) or 'no product'}; {result.total_rows:,} rows as role {role}"]
        required = self.required_access(upstream)
        if required is not None:
            descriptor = descriptor.model_copy(update={"access": Access(restricted=True, roles=sorted(required))})
            notes.append("it reads restricted products, so it is restricted to the roles they all allow: "
                         f"{', '.join(sorted(required)) or 'none'}")
        return self._finish(domain, descriptor, profile, result.frame, notes=notes, version=version)

    def required_roles(self, domain: str, descriptor: ProductDescriptor) -> set[str] | None:
        """Roles the product may be open to: None when nothing it reads is restricted; else the roles every
        restriction on its data allows (restricted upstreams, and restricted products over the same source)."""
        probe = _probe(self.mesh, domain, descriptor)
        shared: set[str] = set()
        try:
            keys = source_keys(probe)
        except Exception:  # noqa: BLE001 - a source that cannot be keyed shares nothing; the loader reports it
            keys = set()
        if keys:
            inherited = self.restrictions()
            for pid, product in self.mesh.products.items():
                if pid == probe.id:
                    continue
                try:
                    if keys & source_keys(product):
                        shared |= set(inherited.get(pid, ())) | (
                            {pid} if product.descriptor.access.restricted else set())
                except Exception:  # noqa: BLE001
                    continue
        upstream: set[str] = set()
        if descriptor.source.kind == "sql":
            try:
                upstream = sqlutil.referenced_tables(sqlutil.parse_one_select(descriptor.source.sql))
            except sqlutil.SqlParseError as exc:
                raise PublishError(f"the SQL does not parse: {exc}") from None
        return self.required_access(upstream | shared)

    def _check_derived_access(self, draft: Draft) -> None:
        required = self.required_roles(draft.domain, draft.descriptor)
        access = draft.descriptor.access
        if required is not None and not (access.restricted and set(access.roles) <= required):
            raise PublishError(f"{draft.product_id} reads restricted data (a restricted product, or the source of "
                               f"one): it must be restricted to roles among {', '.join(sorted(required)) or '(none)'} "
                               "(access: {restricted: true, roles: [...]})")

    def draft_from_source(self, source: str, **kwargs: Any) -> Draft:
        """The CLI's SOURCE: a file path, a `postgresql://...?table=schema.table` URI, or `sql:SELECT ...`."""
        if source.startswith("sql:"):
            return self.draft_from_sql(source[4:], **kwargs)
        kwargs.pop("role", None)
        kwargs.pop("user", None)
        if source.startswith(("postgresql://", "postgres://")):
            dsn, schema, table = parse_postgres_uri(source)
            return self.draft_from_postgres(dsn, table, schema=schema, **kwargs)
        return self.draft_from_file(source, **kwargs)

    def edit_draft(self, draft: Draft, text: str) -> Draft:
        """The draft with its descriptor replaced by edited YAML; the name and the source stay the draft's own."""
        edited = parse_descriptor(text, f"{draft.domain}/products/{draft.descriptor.name}.yaml")
        if edited.name != draft.descriptor.name:
            raise PublishError(f"the name is {draft.descriptor.name!r}: change it in the form, not in the YAML")
        if edited.source != draft.descriptor.source:
            raise PublishError("the source is set by what you upload or connect: edit the other fields")
        return replace(draft, descriptor=edited, compliance=self.compliance(draft.domain, edited))

    def publish(self, draft: Draft, *, user: str | None = None, allow_violations: bool = False) -> PublishResult:
        """Write the draft into the mesh folder as `user` (default: the local user); refuse (writing nothing, and
        auditing an unauthorized attempt) when `user` may not write this product (catalog.access.authority), on a bad
        name, a path outside the mesh, an existing product without a higher version, a policy of severity error
        that fails, or a descriptor the loader would not accept."""
        root = self.mesh.root.resolve()
        domain, name = check_name(draft.domain, "domain name"), check_name(draft.descriptor.name, "product name")
        descriptor = draft.descriptor
        action = "contract.import" if draft.origin == "contract" else "product.publish"
        who = self.authorize_write(user, domain, name, action)
        self.authorize_checks(who, draft.product_id,
                              self.sensitive_changes(domain, descriptor, self.mesh.products.get(draft.product_id)),
                              action)
        if not allow_violations and not draft.blocking.is_empty():
            lines = [f"- {r['policy']}: {r['message']} (fix: {r['fix']})" for r in draft.blocking.iter_rows(named=True)]
            raise PublishError(f"{draft.product_id} breaks {draft.blocking.height} policy(ies) of severity error:\n"
                               + "\n".join(lines))
        _check_source_path(self.mesh, draft)
        if descriptor.source.kind == "postgres":
            try:
                check_written(descriptor.source.dsn, self.mesh.descriptor.postgres_hosts)
            except DsnError as exc:
                raise PublishError(f"{draft.product_id}: {exc}") from None
        vet_sql(self.mesh, draft)
        self._check_derived_access(draft)
        domain_dir = _inside(root, root / domain)
        product_file = _inside(root, domain_dir / "products" / f"{name}.yaml")
        existing_file = next((p for p in (product_file, product_file.with_suffix(".yml")) if p.exists()), None)
        existing = self.mesh.products.get(draft.product_id)
        old_version = existing.descriptor.version if existing else None
        if existing_file is not None and existing is None:
            raise PublishError(f"{existing_file.relative_to(root)} exists: it was published after this mesh was "
                               "loaded, or it does not load. Reload, then publish a higher version (or fix that file)")
        if existing is not None:
            if existing.path.resolve() != product_file:
                raise PublishError(f"{draft.product_id} is defined in {existing.path}; publish a new version there")
            if _version_key(descriptor.version) <= _version_key(old_version or "0"):
                raise PublishError(f"{draft.product_id} already exists (version {old_version}, owner "
                                   f"{existing.owner or '-'}); publish it as a new version higher than {old_version} "
                                   f"(e.g. {next_version(old_version or '1.0.0')}) to replace it")
        undo = _Undo()
        data_path: Path | None = None
        try:
            created_domain = not (domain_dir / "domain.yaml").exists()
            _mkdirs(domain_dir / "products", undo)
            if created_domain:
                domain_file = domain_dir / "domain.yaml"
                _write_new(domain_file, dump_yaml({"name": domain, "title": domain.replace("_", " ").title(),
                                                   "owner": descriptor.owner, "team": [descriptor.owner]}).encode())
                undo.created.append(domain_file)
            if draft.upload is not None:
                kind = descriptor.source.kind
                _mkdirs(domain_dir / "data", undo)
                data_path = _inside(root, domain_dir / "data" / f"{name}.{kind}")
                if data_path.exists():
                    data_path = _inside(root, domain_dir / "data" / f"{name}-{descriptor.version}.{kind}")
                if data_path.exists():
                    raise PublishError(f"{data_path.relative_to(root)} exists; publish with another version")
                descriptor = descriptor.model_copy(update={"source": descriptor.source.model_copy(
                    update={"path": f"data/{data_path.name}"})})
                _write_new(data_path, draft.upload)
                undo.created.append(data_path)
            text = descriptor_yaml(descriptor).encode()
            if existing is not None:
                undo.restore[product_file] = product_file.read_bytes()
                write_atomic(product_file, text)
            else:
                _write_new(product_file, text)
                undo.created.append(product_file)
            _verify(root, draft.product_id)
        except BaseException:
            undo.run()
            raise
        return PublishResult(draft.product_id, product_file, data_path, descriptor.version, created_domain)

    def sensitive_changes(self, domain: str, descriptor: ProductDescriptor, existing: Any) -> list[str]:
        """Names of the checks of `descriptor` that read personal data or a restricted product and that are new
        or different from the existing product's: only a steward may write those."""
        sensitive = set(self.sensitivity.checks(_probe(self.mesh, domain, descriptor)))
        before = {q.label: q.model_dump() for q in existing.descriptor.quality} if existing is not None else {}
        return [q.label for q in descriptor.quality if q.label in sensitive and before.get(q.label) != q.model_dump()]

    def describe_columns(self, draft: Draft, descriptions: dict[str, str]) -> Draft:
        """The draft with these column descriptions set (the CLI's --column-doc); unknown columns are refused."""
        known = {c.name for c in draft.descriptor.columns}
        unknown = sorted(set(descriptions) - known)
        if unknown:
            raise PublishError(f"no column {', '.join(unknown)} in {draft.product_id}; its columns: {', '.join(known)}")
        columns = [c.model_copy(update={"description": descriptions.get(c.name, c.description)})
                   for c in draft.descriptor.columns]
        descriptor = draft.descriptor.model_copy(update={"columns": columns})
        return replace(draft, descriptor=descriptor, compliance=self.compliance(draft.domain, descriptor))
