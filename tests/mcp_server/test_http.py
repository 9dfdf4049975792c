"""The MCP server over streamable HTTP on 127.0.0.1, driven by the SDK's own client with bearer tokens: each
token's user gets exactly what their workbench session would (masking, restrictions, grants), every call is
audited, and a bad token or a forbidden query is a protocol error with a plain reason and nothing else."""

from __future__ import annotations

from contextlib import closing
from typing import Any

import anyio
import httpx2
import polars as pl
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

import catalog
from catalog.mcp.server import REFUSED, UNAUTHENTICATED
from mcpmesh import ANA, BO, EVE, RAW_NAMES, SAM, TOKENS, mcp_error, run_client
from tests.grants import granted

# One server per module: keep the module on one xdist worker (`make test` runs --dist loadgroup).
pytestmark = pytest.mark.xdist_group("mcp_http")

# httpx's 5 s default is too short for a server's first query on a busy machine (the SDK's own client uses these).
TIMEOUT = httpx2.Timeout(30.0, read=300.0)
CUSTOMERS = "SELECT customer_id, full_name, email, ssn, age FROM retail.customers ORDER BY age"


def call(url: str, token: str | None, *steps: tuple[str, dict[str, Any]]) -> list[Any]:
    """Connect with `token` (none: no Authorization header) and make each tool call in one MCP session."""

    async def run() -> list[Any]:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        async with httpx2.AsyncClient(headers=headers, timeout=TIMEOUT) as http, \
                streamable_http_client(url, http_client=http) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            out = []
            for name, arguments in steps:
                result = await session.call_tool(name, arguments)
                assert not result.is_error, result.content
                out.append(result.structured_content)
            return out

    return run_client(run)


def refusal(url: str, token: str | None, name: str, arguments: dict[str, Any]):
    with pytest.raises(BaseException) as caught:
        call(url, token, (name, arguments))
    return mcp_error(caught.value)


def state(root):
    """The mesh as the server's state store holds it (the same folder the server process writes)."""
    return closing(catalog.open_mesh(root))


def test_analyst_gets_masked_pii_and_the_steward_the_raw_values(http_server):
    url, root = http_server
    (masked,) = call(url, TOKENS[ANA], ("run_sql", {"sql": CUSTOMERS}))
    (raw,) = call(url, TOKENS[SAM], ("run_sql", {"sql": CUSTOMERS}))
    assert {r["full_name"] for r in raw["rows"]} == RAW_NAMES
    assert [r["age"] for r in masked["rows"]] == [r["age"] for r in raw["rows"]] == [29, 34, 51]
    for seen, real in zip(masked["rows"], raw["rows"]):
        for column in ("customer_id", "full_name", "email", "ssn"):
            assert real[column] is None or seen[column] != real[column], column
        assert seen["ssn"].startswith("***-**-") and seen["ssn"][-4:] == real["ssn"][-4:]
    assert not any(name in str(masked) for name in RAW_NAMES)
    assert masked["total_rows"] == 3 and masked["products"] == ["retail.customers"]
    # the same masking a workbench session applies for the same person
    with state(root) as mesh:
        session_rows = mesh.session("analyst", ANA).sql(CUSTOMERS).to_dicts()
    assert [r["full_name"] for r in masked["rows"]] == [r["full_name"] for r in session_rows]


def test_analyst_never_sees_the_restricted_product(http_server):
    url, _ = http_server
    search, scorecard = call(url, TOKENS[ANA], ("search_products", {"text": "credit limits"}),
                             ("scorecard", {"domain": "risk"}))
    assert "risk.limits" not in {h["product_id"] for h in search["hits"]}  # discovery: hidden
    assert "limits" not in str(search["facets"]) and "risk.limits" not in str(scorecard)
    unknown = refusal(url, TOKENS[ANA], "describe_product", {"product_id": "risk.limits"})
    assert unknown.code == REFUSED and unknown.message == refusal(
        url, TOKENS[ANA], "describe_product", {"product_id": "risk.nothing_here"}).message.replace("nothing_here",
                                                                                                 "limits")
    query = refusal(url, TOKENS[ANA], "run_sql", {"sql": "SELECT * FROM risk.limits"})
    assert query.code == REFUSED and "risk.limits" in query.message and "5000" not in str(query)
    (steward,) = call(url, TOKENS[SAM], ("search_products", {"text": "credit limits"}))
    assert "risk.limits" in {h["product_id"] for h in steward["hits"]}


def test_a_refused_query_says_why_and_records_no_usage(http_server):
    url, root = http_server
    with state(root) as mesh:
        before = mesh.usage().height
    error = refusal(url, TOKENS[ANA], "run_sql", {"sql": "SELECT * FROM read_parquet('/etc/passwd')"})
    assert error.code == REFUSED
    assert "read_parquet" in error.message and "Traceback" not in error.message and "root:" not in str(error)
    with state(root) as mesh:
        assert mesh.usage().height == before
        audit = mesh.access.audit(actor=ANA).filter(pl.col("action") == "mcp.run_sql").to_dicts()
    assert audit[-1]["outcome"] == "refused" and "read_parquet" in audit[-1]["reason"]


@pytest.mark.parametrize("token, says", [
    ("mwk_not_a_token", "not one mesh 'mini' accepts"),
    (None, "needs a bearer token"),
    (TOKENS[EVE], "does not hold the role 'steward'"),
])
def test_a_bad_token_is_refused_with_a_plain_reason(http_server, token, says):
    url, root = http_server
    with state(root) as mesh:
        before = mesh.access.audit().height
    error = refusal(url, token, "run_sql", {"sql": CUSTOMERS})
    assert error.code == UNAUTHENTICATED and says in error.message
    assert "Traceback" not in error.message and "Ana Silva" not in str(error)
    with state(root) as mesh:
        rows = mesh.access.audit().to_dicts()[before:]
    # a presented token that is refused is on record (a request with no token claims no one: nothing to record)
    assert all(r["outcome"] == "refused" for r in rows) and (bool(rows) == (token is not None))
    assert not any(r["action"].startswith("mcp.run_sql") for r in rows)  # no tool ran
    assert not any("mwk_" in str(r) for r in rows)  # the token itself is never written down


def test_every_call_is_audited_and_counted_as_the_users_usage(http_server):
    url, root = http_server
    call(url, TOKENS[SAM], ("run_sql", {"sql": "SELECT count(*) AS n FROM risk.limits"}),
         ("describe_product", {"product_id": "retail.branches"}))
    with state(root) as mesh:
        audit = mesh.access.audit(actor=SAM).to_dicts()
        usage = mesh.usage("risk.limits").to_dicts()
    last = [r for r in audit if r["action"].startswith("mcp.")][-2:]
    assert [(r["action"], r["outcome"], r["role"]) for r in last] == [
        ("mcp.run_sql", "ok", "steward"), ("mcp.describe_product", "ok", "steward")]
    assert "over http" in last[0]["reason"] and "risk.limits" in last[0]["reason"]
    assert last[1]["product_id"] == "retail.branches"
    assert any(u["user"] == SAM and u["role"] == "steward" for u in usage)


def test_results_are_capped_by_the_mesh_setting(http_server):
    url, _ = http_server
    (result,) = call(url, TOKENS[ANA], ("run_sql", {"sql": "SELECT * FROM range(500) t(n)", "max_rows": 10_000}))
    assert result["row_count"] == 50 and result["total_rows"] == 500 and result["truncated"]


def test_a_live_grant_opens_the_restricted_product_at_once(http_server):
    url, root = http_server
    assert refusal(url, TOKENS[BO], "run_sql", {"sql": "SELECT * FROM risk.limits"}).code == REFUSED
    with state(root) as mesh:
        granted(mesh, BO, "risk.limits", "credit review for the MCP test", "rui.costa@bank.example", 1)
    (opened,) = call(url, TOKENS[BO], ("run_sql", {"sql": "SELECT credit_limit FROM risk.limits ORDER BY 1"}))
    assert [r["credit_limit"] for r in opened["rows"]] == [2000, 5000]
    with state(root) as mesh:
        uses = mesh.access.audit(actor=BO).filter(pl.col("action") == "grant.use").height
    assert uses >= 1


def test_concurrent_callers_each_keep_their_own_identity(http_server):
    """Calls of an analyst and a steward interleaved on one server: each answer is its own caller's."""
    url, _ = http_server
    got: dict[str, list[set[str]]] = {ANA: [], SAM: []}

    async def one(user: str) -> None:
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKENS[user]}"},
                                  timeout=TIMEOUT) as http, \
                streamable_http_client(url, http_client=http) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            for _ in range(4):
                result = await session.call_tool("run_sql", {"sql": CUSTOMERS})
                got[user].append({r["full_name"] for r in result.structured_content["rows"]})

    async def both() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(one, ANA)
            group.start_soon(one, SAM)

    run_client(both)
    assert all(names == RAW_NAMES for names in got[SAM])
    assert all(not names & RAW_NAMES for names in got[ANA]) and len(got[ANA]) == 4
