"""The MCP server: the tools and resources of `tools.py` / `resources.py` on the official SDK's `MCPServer`.

Each call goes through `Calls.run`: it learns the caller (`identify`, per call), runs the work as them, writes
one `mcp.<tool>` row to the audit log, and turns a refusal into a protocol error whose message is the plain
reason (a gate refusal, a role not held, an unknown or locked product). Nothing else reaches the client: an
unexpected failure is logged on the server and answered as an internal error without its text, and no call
returns part of a result.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR, INVALID_PARAMS, REQUEST_TIMEOUT, ToolAnnotations
from pydantic import Field

from catalog.errors import AccessDenied, MeshError, QueryRejected, QueryTimeout, UnknownProduct
from catalog.mcp import resources, tools
from catalog.mcp.caller import Caller
from catalog.mesh import Mesh

log = logging.getLogger("meshwork.mcp")
T = TypeVar("T")

# JSON-RPC leaves -32000..-32099 to the server: these two say "the mesh refused" and "who are you?".
REFUSED = -32003
UNAUTHENTICATED = -32004
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=False)


def protocol_error(exc: MeshError) -> MCPError:
    """The protocol error a client sees for a refusal or a bad request: its code and the plain reason."""
    if isinstance(exc, QueryTimeout):
        code = REQUEST_TIMEOUT
    elif isinstance(exc, (AccessDenied, QueryRejected, UnknownProduct)):
        code = REFUSED
    else:
        code = INVALID_PARAMS
    return MCPError(code=code, message=str(exc), data={"error": type(exc).__name__})


class Calls:
    """Runs every tool call and resource read as one caller, audited, with refusals as protocol errors."""

    def __init__(self, mesh: Mesh, identify: Callable[[], Caller]):
        self.mesh = mesh
        self.identify = identify

    def run(self, action: str, work: Callable[[Caller], T], product_id: str | None = None) -> T:
        """`work(caller)` for this call's caller, or the protocol error of its refusal; one audit row either way
        (`product_id` is recorded only when it names a product, never as whatever text a client sent)."""
        product_id = product_id if product_id in self.mesh.products else None
        try:
            caller = self.identify()
        except MeshError as exc:  # the refusal is on record already (caller.py)
            raise MCPError(code=UNAUTHENTICATED, message=str(exc), data={"error": type(exc).__name__}) from None
        try:
            out = work(caller)
        except MeshError as exc:
            error = protocol_error(exc)
            self._audit(caller, action, "refused" if error.code == REFUSED else "failed", product_id, str(exc))
            raise error from None
        except Exception:
            log.exception("MCP %s failed for %s as %s", action, caller.user, caller.role)
            self._audit(caller, action, "error", product_id, "internal error (see the server's log)")
            raise MCPError(code=INTERNAL_ERROR, message=f"{action} failed inside the server; its log has the "
                                                        "details") from None
        read = out.get("products") if isinstance(out, dict) else None
        self._audit(caller, action, "ok", product_id,
                    f"over {caller.via}" + (f"; read {', '.join(read)}" if read else ""))
        return out

    def _audit(self, caller: Caller, action: str, outcome: str, product_id: str | None, reason: str) -> None:
        self.mesh.access.record(caller.user, f"mcp.{action}", outcome, product_id=product_id,
                                      role=caller.role, subject=caller.user, reason=reason[:500])


INSTRUCTIONS = """Meshwork data mesh {title!r} ({name}). You act as {who}: every answer is what that person may
see (restricted products locked or hidden, personal data masked unless their role or a grant unmasks it), and
every query counts as their usage. Find products with search_products, read one with describe_product, follow
lineage and impact, and query with run_sql (one SELECT over product ids such as <domain>.<product>). A refusal
is an error whose message says why; do not try to work around it. Resources: meshwork://products lists the
products with the URIs of their descriptor and ODCS contract."""


def build_server(mesh: Mesh, identify: Callable[[], Caller], who: str, **sdk: Any) -> MCPServer:
    """The MCP server of one mesh; `identify` names the caller of the current call (fixed over stdio, the
    bearer token's user over HTTP), `who` describes them in the instructions; `sdk`: more `MCPServer` options
    (the HTTP transport's token verifier and auth settings)."""
    settings = mesh.descriptor.mcp
    calls = Calls(mesh, identify)
    server: MCPServer = MCPServer("meshwork", title=f"Meshwork: {mesh.title}", version="0.1.0", log_level="WARNING",
                                  instructions=INSTRUCTIONS.format(title=mesh.title, name=mesh.name, who=who), **sdk)

    @server.tool(annotations=READ_ONLY)
    def search_products(text: str = "", domain: list[str] | None = None, tag: list[str] | None = None,
                        owner: list[str] | None = None, grade: list[str] | None = None,
                        kind: list[str] | None = None, pii: bool | None = None,
                        sort: Literal["relevance", "usage", "quality", "freshness", "trust"] = "relevance",
                        limit: Annotated[int, Field(ge=1, le=tools.SEARCH_LIMIT)] = 20) -> dict[str, Any]:
        """Search the catalog: ranked products matching `text` (empty lists all), with facet counts (domain, tag,
        owner, status, grade, pii, kind, certified) and optional facet filters. Locked products are marked."""
        filters = {"domain": domain or [], "tag": tag or [], "owner": owner or [], "grade": grade or [],
                   "kind": kind or []}
        return calls.run("search_products", lambda c: tools.search_products(mesh, c, text, filters, pii, sort, limit))

    @server.tool(annotations=READ_ONLY)
    def describe_product(product_id: str) -> dict[str, Any]:
        """One product (`<domain>.<product>`): description, owner, status, SLA, terms, schema with which columns
        are personal data and masked for you, latest quality, trust, neighbours, and a few sample rows as you see
        them."""
        return calls.run("describe_product",
                         lambda c: tools.describe_product(mesh, c, product_id, settings.sample_rows), product_id)

    @server.tool(annotations=READ_ONLY)
    def lineage(product_id: str, direction: Literal["both", "upstream", "downstream"] = "both",
                depth: Annotated[int, Field(ge=0, le=100)] = 0) -> dict[str, Any]:
        """Where a product's data comes from and where it goes: nodes (products, sources) with their distance
        (negative upstream) and quality, and the edges between them. `depth` 0 follows every hop."""
        return calls.run("lineage", lambda c: tools.lineage(mesh, c, product_id, direction, depth), product_id)

    @server.tool(annotations=READ_ONLY)
    def impact(target: str) -> dict[str, Any]:
        """What a change to a product or a column (`<domain>.<product>[.<column>]`) affects downstream: products
        and columns, nearest first, and the owners to tell."""
        return calls.run("impact", lambda c: tools.impact(mesh, c, target), target)

    @server.tool(annotations=READ_ONLY, description=(
        "Run one governed SELECT over the products (name them `<domain>.<product>`), as you: personal data "
        "masked as your role sees it, restricted products refused with the reason. Returns columns, rows (at "
        f"most `max_rows`, never more than {settings.max_rows}), the exact total row count and the products read."))
    def run_sql(sql: str, max_rows: Annotated[int, Field(ge=1)] = 100) -> dict[str, Any]:
        return calls.run("run_sql", lambda c: tools.run_sql(mesh, c, sql, max_rows, settings.max_rows))

    @server.tool(annotations=READ_ONLY)
    def scorecard(domain: str | None = None) -> dict[str, Any]:
        """Scorecards: one row per domain, or per product of `domain`: quality score and grade, checks,
        freshness, documentation, compliance, usage and lineage health (locked products unmeasured)."""
        return calls.run("scorecard", lambda c: tools.scorecard(mesh, c, domain))

    @server.tool(annotations=READ_ONLY)
    def open_incidents(product_id: str | None = None, domain: str | None = None) -> dict[str, Any]:
        """Open incidents (a failing error-severity check, a missed SLA, a volume anomaly), newest first, with
        their state, assignee and how long they have been open; with `product_id`, also its upstream
        products' incidents (the likely root cause)."""
        return calls.run("open_incidents", lambda c: tools.open_incidents(mesh, c, product_id, domain), product_id)

    @server.resource(resources.INDEX_URI, name="products", mime_type="application/json",
                     description="The products you may list, with the URIs of their descriptor and ODCS contract")
    def product_index() -> str:
        return calls.run("resource.products", lambda c: resources.index(mesh, c))

    @server.resource(resources.DESCRIPTOR_URI, name="descriptor", mime_type="application/yaml",
                     description="A product's descriptor (its card only, when it is locked for you)")
    def product_descriptor(product_id: str) -> str:
        return calls.run("resource.descriptor", lambda c: resources.descriptor(mesh, c, product_id), product_id)

    @server.resource(resources.CONTRACT_URI, name="contract", mime_type="application/yaml",
                     description="A product's Open Data Contract Standard (ODCS v3) document")
    def product_contract(product_id: str) -> str:
        return calls.run("resource.contract", lambda c: resources.contract(mesh, c, product_id), product_id)

    return server


def serve_stdio(mesh: Mesh, caller: Caller) -> None:
    """Serve over stdin/stdout as `caller` (the local user) until the client closes the pipe."""
    build_server(mesh, lambda: caller, f"{caller.user} in the role {caller.role!r}").run("stdio")
