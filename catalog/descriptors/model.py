"""Pydantic descriptors of a mesh: what a person writes in YAML and reviews in git.

Every model forbids unknown fields, so a typo in a descriptor is a problem with a
line number instead of a silently ignored setting.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
# \Z, not $: `$` also matches before a trailing newline, so "customers\n" would pass as a name.
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*\Z")
COLUMN_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
PRODUCT_ID_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\Z")
_MARKUP = re.compile(r"[<>\"'`\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def column_name(value: str, what: str = "column name") -> str:
    """Names reach SQL, YAML and HTML: letters, digits and _ only (so no markup, quote or control character)."""
    if not isinstance(value, str) or not COLUMN_RE.match(value):
        raise ValueError(f"{what} {value!r} must be letters, digits and _ and not start with a digit")
    return value


def label_text(value: str | None, what: str = "name") -> str | None:
    """A free-form name (a check's): printable, one line, no markup characters (< > quotes)."""
    if value is not None and _MARKUP.search(value):
        raise ValueError(f"{what} {value!r} may not hold <, >, quotes or control characters")
    return value

PII_CATEGORIES = (
    "email", "phone", "name", "ssn", "birth_date", "address", "health",
    "identifier", "account_number", "ip_address", "free_text", "other",
)
PiiCategory = Literal[
    "email", "phone", "name", "ssn", "birth_date", "address", "health",
    "identifier", "account_number", "ip_address", "free_text", "other",
]
Severity = Literal["error", "warning", "info"]
SourceKind = Literal["parquet", "csv", "sqlite", "duckdb", "postgres", "sql"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, populate_by_name=True)


# --------------------------------------------------------------------------- columns

class Column(Strict):
    """One column of a product's schema; `pii` names the category of personal data."""

    name: str
    type: str = "VARCHAR"
    description: str = ""
    pii: bool = False
    pii_category: PiiCategory | None = None
    key: bool = False
    terms: list[str] = Field(default_factory=list, description="ids of glossary terms this column means")

    @model_validator(mode="before")
    @classmethod
    def _pii_shorthand(cls, data: Any) -> Any:
        # `pii: email` is shorthand for `pii: true, pii_category: email`.
        if isinstance(data, dict) and isinstance(data.get("pii"), str):
            data = dict(data)
            data["pii_category"] = data.pop("pii")
            data["pii"] = True
        return data

    @model_validator(mode="after")
    def _category_implies_pii(self) -> "Column":
        if self.pii_category and not self.pii:
            self.pii = True
        if self.pii and not self.pii_category:
            self.pii_category = "other"
        return self

    @field_validator("name")
    @classmethod
    def _column_name(cls, value: str) -> str:
        return column_name(value)


# --------------------------------------------------------------------------- sources

class FileSource(Strict):
    kind: Literal["parquet", "csv"]
    path: str = Field(description="file or glob, relative to the domain folder")
    options: dict[str, Any] = Field(default_factory=dict, description="reader options, e.g. delim")


class DatabaseFileSource(Strict):
    kind: Literal["sqlite", "duckdb"]
    path: str
    table: str
    db_schema: str | None = Field(default=None, alias="schema")


class PostgresSource(Strict):
    kind: Literal["postgres"]
    dsn: str = Field(description="libpq connection string or postgresql:// URI; ${ENV} is expanded")
    table: str
    db_schema: str = Field(default="public", alias="schema")


class SqlSource(Strict):
    kind: Literal["sql"]
    sql: str = Field(description="a SELECT over other products, named by id")


Source = Annotated[Union[FileSource, DatabaseFileSource, PostgresSource, SqlSource], Field(discriminator="kind")]
# The kinds whose `path` names a file (or glob) the mesh reads, as the models above declare them.
FILE_KINDS: tuple[str, ...] = tuple(kind for model in (FileSource, DatabaseFileSource)
                                    for kind in get_args(model.model_fields["kind"].annotation))


# --------------------------------------------------------------------------- checks

class Tolerance(Strict):
    """How many failing rows a check accepts (ODCS `mustBeLessThan: 5, unit: percent`): none by default."""

    max: float = Field(ge=0, description="the most failing rows (or percent of rows) that still pass")
    unit: Literal["rows", "percent"] = "rows"
    strict: bool = Field(default=False, description="fewer than `max` (ODCS mustBeLessThan), not at most")

    def allows(self, failing: int, rows: int) -> bool:
        amount = 100.0 * failing / rows if self.unit == "percent" and rows else float(failing)
        return amount < self.max if self.strict else amount <= self.max


class CheckBase(Strict):
    name: str | None = None
    severity: Severity = "error"
    description: str = ""
    tolerance: Tolerance | None = None

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str | None) -> str | None:
        return label_text(value, "check name")

    @field_validator("column", "to_column", check_fields=False)
    @classmethod
    def _column_named(cls, value: str | None) -> str | None:
        return None if value is None else column_name(value)

    @field_validator("columns", check_fields=False)
    @classmethod
    def _columns_named(cls, value: list[str]) -> list[str]:
        return [column_name(v) for v in value]

    @property
    def label(self) -> str:
        return self.name or self.default_name()

    def default_name(self) -> str:  # pragma: no cover - overridden
        return self.check  # type: ignore[attr-defined]


class NotNullCheck(CheckBase):
    check: Literal["not_null"]
    column: str

    def default_name(self) -> str:
        return f"{self.column} not null"


class UniqueCheck(CheckBase):
    check: Literal["unique"]
    columns: list[str] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _single_column(cls, data: Any) -> Any:
        if isinstance(data, dict) and "column" in data and "columns" not in data:
            data = dict(data)
            data["columns"] = [data.pop("column")]
        return data

    def default_name(self) -> str:
        return f"{', '.join(self.columns)} unique"


class AcceptedValuesCheck(CheckBase):
    check: Literal["accepted_values"]
    column: str
    values: list[Any] = Field(min_length=1)

    def default_name(self) -> str:
        return f"{self.column} in accepted values"


class RangeCheck(CheckBase):
    check: Literal["range"]
    column: str
    min: float | int | str | None = None
    max: float | int | str | None = None

    @model_validator(mode="after")
    def _has_bound(self) -> "RangeCheck":
        if self.min is None and self.max is None:
            raise ValueError("a range check needs min, max or both")
        return self

    def default_name(self) -> str:
        return f"{self.column} in range"


class RegexCheck(CheckBase):
    check: Literal["regex"]
    column: str
    pattern: str

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"pattern does not compile: {exc}") from None
        return value

    def default_name(self) -> str:
        return f"{self.column} matches pattern"


class RowCountCheck(CheckBase):
    check: Literal["row_count"]
    min: int | None = None
    max: int | None = None

    def default_name(self) -> str:
        return "row count"


class FreshnessCheck(CheckBase):
    check: Literal["freshness"]
    column: str | None = Field(default=None, description="timestamp column; defaults to the SLA's")
    max_age_hours: float | None = Field(default=None, description="defaults to the SLA's freshness_hours")

    def default_name(self) -> str:
        return "freshness"


class ReferencesCheck(CheckBase):
    check: Literal["references"]
    column: str
    product: str = Field(description="id of the referenced product")
    to_column: str | None = None

    @field_validator("product")
    @classmethod
    def _product_id(cls, value: str) -> str:
        if not PRODUCT_ID_RE.match(value):
            raise ValueError(f"product {value!r} must be a product id, <domain>.<name>")
        return value

    def default_name(self) -> str:
        return f"{self.column} references {self.product}"


class ExpressionCheck(CheckBase):
    check: Literal["expression"]
    expression: str = Field(description="SQL boolean that every row must satisfy")

    def default_name(self) -> str:
        return self.expression


Check = Annotated[
    Union[NotNullCheck, UniqueCheck, AcceptedValuesCheck, RangeCheck, RegexCheck,
          RowCountCheck, FreshnessCheck, ReferencesCheck, ExpressionCheck],
    Field(discriminator="check"),
]
CHECK_KINDS = ("not_null", "unique", "accepted_values", "range", "regex", "row_count",
               "freshness", "references", "expression")


# --------------------------------------------------------------------------- product

class Sla(Strict):
    freshness_hours: float | None = Field(default=None, gt=0)
    timestamp_column: str | None = None
    availability: str | None = None

    @field_validator("timestamp_column")
    @classmethod
    def _column_named(cls, value: str | None) -> str | None:
        return None if value is None else column_name(value)


class Access(Strict):
    """Who may see a product at all; an unrestricted product is visible to every role."""

    restricted: bool = False
    roles: list[str] = Field(default_factory=list)


PortKind = Literal["sql_view", "file", "postgres", "dashboard"]
ApprovalMode = Literal["auto", "owner", "owner+steward"]


class OutputPort(Strict):
    """One way a product may be consumed; `approval` is how an access agreement for this port is decided
    (`auto` only for unrestricted data)."""

    name: str
    kind: PortKind = "sql_view"
    description: str = ""
    location: str = Field(default="", description="the file, table or dashboard the port serves (not for sql_view)")
    approval: ApprovalMode = "owner"

    @field_validator("name")
    @classmethod
    def _port_name(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError(f"port name {value!r} must match {NAME_PATTERN}")
        return value


class InputPort(Strict):
    """A product this one reads; a derived product's input ports also come from its SQL."""

    product: str
    description: str = ""

    @field_validator("product")
    @classmethod
    def _product_id(cls, value: str) -> str:
        if not PRODUCT_ID_RE.match(value):
            raise ValueError(f"input port {value!r} must be a product id, <domain>.<name>")
        return value


class Ports(Strict):
    output: list[OutputPort] = Field(default_factory=list)
    input: list[InputPort] = Field(default_factory=list)


# --------------------------------------------------------------------------- monitoring & notifications

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*\Z")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def duration_seconds(value: str) -> float:
    """`30s`, `15m`, `1h`, `2d`, `1w` -> seconds; a ValueError that names the accepted forms otherwise."""
    match = _DURATION_RE.match(value) if isinstance(value, str) else None
    if match is None or float(match.group(1)) <= 0:
        raise ValueError(f"{value!r} is not a duration: write a positive number and a unit, "
                         "e.g. 30s, 15m, 1h, 1d or 1w")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


class Schedule(Strict):
    """How often `meshwork monitor` runs a product's checks (`schedule: {every: 1h}` on a product or domain)."""

    every: str = Field(description="a duration: 30s, 15m, 1h, 1d, 1w")

    @field_validator("every", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> str:
        duration_seconds(value)
        return value

    @property
    def seconds(self) -> float:
        return duration_seconds(self.every)


class ProductDescriptor(Strict):
    """A data product as written in `<domain>/products/<name>.yaml`."""

    name: str
    title: str = ""
    description: str = ""
    owner: str = ""
    version: str = "1.0.0"
    status: Literal["draft", "active", "deprecated"] = "active"
    tags: list[str] = Field(default_factory=list)
    source: Source
    columns: list[Column] = Field(default_factory=list)
    undeclared_columns: Literal["allow", "warn", "fail"] = Field(
        default="allow", description="whether a column the data has but the schema does not declare fails a run")
    quality: list[Check] = Field(default_factory=list)
    sla: Sla = Field(default_factory=Sla)
    access: Access = Field(default_factory=Access)
    terms: list[str] = Field(default_factory=list, description="ids of glossary terms the product is about")
    ports: Ports = Field(default_factory=Ports)
    odcs: dict[str, Any] = Field(default_factory=dict, alias="x-odcs",
                                 description="ODCS fields Meshwork does not model, carried verbatim to its export")
    schedule: Schedule | None = Field(default=None, description="how often the monitor checks it; "
                                                                "defaults to its domain's, then mesh.yaml's")

    @field_validator("name")
    @classmethod
    def _product_name(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError(f"name {value!r} must match {NAME_PATTERN} (lower-case letters, digits, _)")
        return value


class DataProduct(BaseModel):
    """A loaded product: its descriptor plus where it came from and whether it is usable."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    id: str
    domain: str
    descriptor: ProductDescriptor
    path: Path
    broken: bool = False

    # Convenience accessors so notebooks read `product.owner`, not `product.descriptor.owner`.
    @property
    def name(self) -> str:
        return self.descriptor.name

    @property
    def title(self) -> str:
        return self.descriptor.title or self.descriptor.name.replace("_", " ").title()

    @property
    def description(self) -> str:
        return self.descriptor.description

    @property
    def owner(self) -> str:
        return self.descriptor.owner

    @property
    def columns(self) -> list[Column]:
        return self.descriptor.columns

    @property
    def source(self) -> Any:
        return self.descriptor.source

    @property
    def tags(self) -> list[str]:
        return self.descriptor.tags

    @property
    def kind(self) -> str:
        return self.descriptor.source.kind

    @property
    def pii_columns(self) -> list[Column]:
        return [c for c in self.descriptor.columns if c.pii]

    def column(self, name: str) -> Column | None:
        return next((c for c in self.descriptor.columns if c.name == name), None)

    def __repr__(self) -> str:
        state = " BROKEN" if self.broken else ""
        return f"<DataProduct {self.id}{state} ({self.kind}, {len(self.columns)} columns, owner {self.owner or '-'})>"

    def _repr_html_(self) -> str:
        from html import escape

        rows = "".join(
            f"<tr><td><code>{escape(c.name)}</code></td><td>{escape(c.type)}</td>"
            f"<td>{'PII: ' + escape(c.pii_category or '') if c.pii else ''}</td><td>{escape(c.description)}</td></tr>"
            for c in self.columns
        )
        broken = " <b style='color:#b91c1c'>broken</b>" if self.broken else ""
        return (
            f"<div><b>{escape(self.title)}</b> <code>{escape(self.id)}</code>{broken}<br>"
            f"<small>owner {escape(self.owner or '-')} · source {escape(self.kind)} · v{escape(self.descriptor.version)}</small>"
            f"<p>{escape(self.description)}</p><table><tr><th>column</th><th>type</th><th>class</th>"
            f"<th>description</th></tr>{rows}</table></div>"
        )


# --------------------------------------------------------------------------- glossary

TermStatus = Literal["draft", "approved", "deprecated"]


class Term(Strict):
    """One business term of the glossary (`glossary/*.yaml`); columns and products link it by `id`."""

    id: str = ""
    name: str
    definition: str
    synonyms: list[str] = Field(default_factory=list)
    abbreviations: list[str] = Field(default_factory=list)
    related: list[str] = Field(default_factory=list, description="ids of related terms")
    steward: str = ""
    status: TermStatus = "draft"

    @field_validator("name", "definition")
    @classmethod
    def _one_line(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("may not be empty")
        return value

    @field_validator("synonyms", "abbreviations")
    @classmethod
    def _labels(cls, value: list[str]) -> list[str]:
        return [label_text(v.strip(), "synonym") or "" for v in value if v.strip()]

    @model_validator(mode="after")
    def _default_id(self) -> "Term":
        if not self.id:
            self.id = "_".join(re.findall(r"[a-z0-9]+", self.name.lower())) or "term"
        if not NAME_RE.match(self.id):
            raise ValueError(f"term id {self.id!r} must match {NAME_PATTERN}")
        label_text(self.name, "term name")
        return self


class GlossaryFile(Strict):
    """A file of the glossary: `terms:` and a list of terms."""

    terms: list[Term] = Field(default_factory=list)


# --------------------------------------------------------------------------- mesh & domain

class Role(Strict):
    description: str = ""
    pii: bool = Field(default=False, description="sees personal data unmasked")


class Policy(Strict):
    """A governance rule evaluated by `catalog.governance.policies`; `rule` names a built-in rule."""

    id: str
    rule: str
    description: str = ""
    severity: Severity = "error"
    params: dict[str, Any] = Field(default_factory=dict)


class DomainDescriptor(Strict):
    name: str
    title: str = ""
    description: str = ""
    owner: str = ""
    team: list[str] = Field(default_factory=list)
    policies: list[Policy] = Field(default_factory=list)
    quality_threshold: float = Field(default=80.0, ge=0, le=100,
                                     description="a certified product lapses when its latest quality score "
                                                 "falls below this")
    schedule: Schedule | None = Field(default=None, description="how often the monitor checks its products")

    @field_validator("name")
    @classmethod
    def _domain_name(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError(f"name {value!r} must match {NAME_PATTERN}")
        return value


class Domain(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str
    descriptor: DomainDescriptor
    path: Path

    @property
    def title(self) -> str:
        return self.descriptor.title or self.name.replace("_", " ").title()

    @property
    def owner(self) -> str:
        return self.descriptor.owner

    @property
    def description(self) -> str:
        return self.descriptor.description


DEFAULT_ROLES: dict[str, Role] = {
    "analyst": Role(description="Business analyst: sees every unrestricted product, personal data masked", pii=False),
    "steward": Role(description="Data steward: sees personal data unmasked", pii=True),
}


class IdentityConfig(Strict):
    """How the app learns who the user is, and whether roles are limited to the ones a user holds."""

    mode: Literal["open", "enforced"] = Field(
        default="open", description="open: any role may be chosen; enforced: only the roles a user holds")
    local_user: str | None = Field(default=None, description="the user `make run` runs as (an email)")
    trusted_header: str | None = Field(
        default=None, description="request header a trusted reverse proxy sets to the user's email")
    default_role: str = Field(default="analyst", description="what an unknown or anonymous user gets")


class UserSpec(Strict):
    roles: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)


class GroupSpec(Strict):
    roles: list[str] = Field(default_factory=list)


class SparkSettings(Strict):
    """Where a mesh with `engine: spark` runs: the master URL and any Spark settings to pass on."""

    master: str = Field(default="local[2]", description="local[N], spark://host:7077, yarn, k8s://...")
    conf: dict[str, str | int | float | bool] = Field(default_factory=dict, description="spark.* settings")
    max_collect_rows: int = Field(default=1_000_000, ge=1, description="most rows `sql()` brings back to "
                                                                       "Python; export larger results to a path")


class OpenLineageSettings(Strict):
    """Where this mesh sends OpenLineage run events (catalog.interop.openlineage): `transport` is the
    openlineage-python client's transport configuration (`type: http` with `url` and `endpoint`, `type: file`
    with `log_file_path` and `append`, or `type: console`); `emit` chooses which runs are sent."""

    transport: dict[str, Any]
    emit: list[Literal["publish", "quality", "query"]] = Field(default_factory=lambda: ["publish", "quality", "query"])

    @field_validator("transport")
    @classmethod
    def _known_transport(cls, value: dict[str, Any]) -> dict[str, Any]:
        if value.get("type") not in ("http", "file", "console"):
            raise ValueError(f"transport type must be http, file or console, not {value.get('type')!r}")
        return value


SHA256_RE = re.compile(r"^[0-9a-f]{64}\Z")


class McpToken(Strict):
    """One bearer token the MCP server accepts over HTTP, stored only as its SHA-256 (`meshwork mcp-token`
    prints a new token and this entry): a leaked mesh.yaml names who may connect, never how."""

    user: str = Field(description="who the token acts as (an email); their roles and grants apply")
    role: str | None = Field(default=None, description="the role it acts as (default: the user's least-"
                                                       "privileged role); in enforced mode the user must hold it")
    sha256: str = Field(description="hex SHA-256 of the token")
    label: str = Field(default="", description="where the token is used, e.g. 'ana laptop'")

    @field_validator("user")
    @classmethod
    def _user(cls, value: str) -> str:
        user = value.strip().lower() if isinstance(value, str) else ""
        if not re.match(r"^[a-z0-9][a-z0-9._%+\-'@]{0,253}\Z", user):
            raise ValueError(f"user {value!r} must be an email or login name (no spaces or control characters)")
        return user

    @field_validator("sha256")
    @classmethod
    def _digest(cls, value: str) -> str:
        digest = value.strip().lower() if isinstance(value, str) else ""
        if not SHA256_RE.match(digest):
            raise ValueError("sha256 must be the 64 hex digits of the token's SHA-256 (never the token itself); "
                             "`meshwork mcp-token USER` prints both")
        return digest

    @field_validator("label")
    @classmethod
    def _label(cls, value: str) -> str:
        return label_text(value, "label") or ""


class McpSettings(Strict):
    """The MCP server (`meshwork mcp`): the tokens it accepts over HTTP and how much one call returns."""

    tokens: list[McpToken] = Field(default_factory=list)
    max_rows: int = Field(default=500, ge=1, le=100_000, description="most rows `run_sql` returns")
    sample_rows: int = Field(default=5, ge=0, le=100, description="masked sample rows `describe_product` shows")

    @field_validator("tokens")
    @classmethod
    def _distinct(cls, value: list[McpToken]) -> list[McpToken]:
        seen: set[str] = set()
        for token in value:
            if token.sha256 in seen:
                raise ValueError(f"two tokens have the same sha256 ({token.sha256[:12]}...): one token, one user")
            seen.add(token.sha256)
        return value


class MonitorSettings(Strict):
    """`monitor:` in mesh.yaml: the default schedule and how a volume anomaly is judged."""

    every: str = Field(default="1d", description="checks of products without a schedule of their own")
    volume_k: float = Field(default=3.0, gt=0, description="a row count outside mean ± k·σ is an anomaly")
    volume_runs: int = Field(default=10, ge=2, description="how many earlier data versions the mean reads")
    volume_min_runs: int = Field(default=3, ge=2, description="fewer earlier versions: no volume judgement")

    @field_validator("every", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> str:
        duration_seconds(value)
        return value


EVENT_KINDS = ("incident", "change", "agreement")


class ChannelBase(Strict):
    name: str = Field(description="names the channel in the outbox and in `meshwork notify`")
    events: list[Literal["incident", "change", "agreement"]] = Field(default_factory=lambda: list(EVENT_KINDS))
    domains: list[str] = Field(default_factory=list, description="only events of these domains (all if empty)")
    retries: int = Field(default=5, ge=0, le=20, description="attempts after the first before it is failed")
    backoff_s: float = Field(default=2.0, ge=0, le=3600, description="wait before the first retry; doubles")
    timeout_s: float = Field(default=10.0, gt=0, le=120)

    @field_validator("name")
    @classmethod
    def _channel_name(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError(f"channel name {value!r} must match {NAME_PATTERN}")
        return value


class WebhookChannel(ChannelBase):
    """JSON POSTed to `url`; with `secret`, signed: X-Meshwork-Signature: sha256=<HMAC-SHA256 of the body>."""

    kind: Literal["webhook", "slack", "teams"]
    url: str = Field(description="http(s) URL; ${ENV} is expanded when sending")
    secret: str | None = Field(default=None, description="HMAC key, e.g. ${MESHWORK_WEBHOOK_SECRET}")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^(https?://\S+|\$\{[A-Z_][A-Z0-9_]*\})\Z", value):
            raise ValueError(f"url {value!r} must be an http:// or https:// URL (or ${{ENV}})")
        return value


class EmailChannel(ChannelBase):
    """Mail over SMTP to the product's owners and subscribers (and `to`); `digest` batches them."""

    kind: Literal["email"]
    smtp_host: str
    smtp_port: int = Field(default=25, ge=1, le=65535)
    sender: str = Field(alias="from", description="the From address")
    to: list[str] = Field(default_factory=list, description="extra recipients of every event")
    starttls: bool = False
    username: str | None = None
    password: str | None = Field(default=None, description="e.g. ${MESHWORK_SMTP_PASSWORD}")
    digest: str | None = Field(default=None, description="a duration: one mail per recipient per period")

    @field_validator("digest", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        if value is not None:
            duration_seconds(value)
        return value


Channel = Annotated[Union[WebhookChannel, EmailChannel], Field(discriminator="kind")]


class MeshDescriptor(Strict):
    name: str
    title: str = ""
    description: str = ""
    engine: Literal["duckdb", "spark"] = "duckdb"
    spark: SparkSettings = Field(default_factory=SparkSettings)
    state: str | None = Field(default=None, description="'sqlite' (the default: a file in the state folder) or a "
                                                         "postgresql:// URL shared by several app servers; "
                                                         "MESHWORK_STATE_URL overrides it")
    data_roots: list[str] = Field(default_factory=list, description="extra folders file sources may read")
    postgres_hosts: list[str] = Field(default_factory=list, description="if set, the only PostgreSQL hosts a "
                                                                        "product or a draft may connect to")
    roles: dict[str, Role] = Field(default_factory=dict)
    policies: list[Policy] = Field(default_factory=list)
    memory_limit: str = "2GB"
    threads: int = Field(default=2, ge=1)
    identity: IdentityConfig = Field(default_factory=IdentityConfig)
    users: dict[str, UserSpec] = Field(default_factory=dict, description="email -> roles and groups")
    groups: dict[str, GroupSpec] = Field(default_factory=dict, description="group -> roles")
    discovery: Literal["listed", "hidden"] = Field(
        default="listed", description="restricted products a viewer may not read: listed locked, or hidden")
    openlineage: OpenLineageSettings | None = Field(default=None, description="send OpenLineage run events")
    mcp: McpSettings = Field(default_factory=McpSettings, description="the MCP server's tokens and limits")
    monitor: MonitorSettings = Field(default_factory=MonitorSettings)
    channels: list[Channel] = Field(default_factory=list, description="where incidents and changes are sent")

    @field_validator("channels")
    @classmethod
    def _unique_channels(cls, value: list[Any]) -> list[Any]:
        names = [c.name for c in value]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"channel name(s) {', '.join(twice)} used twice; give each channel its own name")
        return value

    @field_validator("name")
    @classmethod
    def _mesh_name(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError(f"name {value!r} must match {NAME_PATTERN}")
        return value

    @field_validator("mcp")
    @classmethod
    def _mcp_roles(cls, value: McpSettings, info: Any) -> McpSettings:
        roles = set(DEFAULT_ROLES) | set(info.data.get("roles") or {})
        for token in value.tokens:
            if token.role is not None and token.role not in roles:
                raise ValueError(f"token {token.label or token.sha256[:12]!r} names the role {token.role!r}, "
                                 f"which this mesh does not define (roles: {', '.join(sorted(roles))})")
        return value

    @model_validator(mode="after")
    def _default_roles(self) -> "MeshDescriptor":
        for role, spec in DEFAULT_ROLES.items():
            self.roles.setdefault(role, spec)
        return self


class Problem(BaseModel):
    """Something wrong in a mesh on disk, located like a compiler error."""

    path: str
    line: int | None = None
    field: str = ""
    message: str
    severity: Severity = "error"
    product_id: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        field = f" {self.field}:" if self.field else ""
        tail = "" if self.severity == "error" else f" ({self.severity})"
        return f"{where}:{field} {self.message}{tail}"
