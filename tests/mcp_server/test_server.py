"""The MCP server over stdio, as an assistant launches it: one `meshwork mcp` process for the module, driven
by the SDK's `stdio_client` and `ClientSession`, acting as the local user (an analyst in an enforced mesh).
Every tool and resource is called once up front; each test reads what came back."""

from __future__ import annotations

import os
import sys
from typing import Any

import anyio
import pytest
import yaml
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR
from typer.testing import CliRunner

import catalog
from catalog.cli import app as cli
from catalog.interop.odcs import validate_contract
from catalog.mcp.server import REFUSED
from mcpmesh import ANA, RAW_NAMES, build_mcp_mesh, meshwork, run_client, server_env

# One server per module: keep the module on one xdist worker (`make test` runs --dist loadgroup).
pytestmark = pytest.mark.xdist_group("mcp_stdio")

TOOLS = {"search_products", "describe_product", "lineage", "impact", "run_sql", "scorecard", "open_incidents"}
CALLS: dict[str, tuple[str, Any]] = {
    "masked": ("tool", ("run_sql", {"sql": "SELECT full_name, email, ssn, age FROM retail.customers ORDER BY age"})),
    "restricted": ("tool", ("run_sql", {"sql": "SELECT * FROM risk.limits"})),
    "customers": ("tool", ("describe_product", {"product_id": "retail.customers"})),
    "limits": ("tool", ("describe_product", {"product_id": "risk.limits"})),
    "unknown": ("tool", ("describe_product", {"product_id": "risk.nothing"})),
    "search": ("tool", ("search_products", {"text": "credit"})),
    "search_risk": ("tool", ("search_products", {"text": "", "domain": ["risk"], "pii": True})),
    "lineage": ("tool", ("lineage", {"product_id": "risk.customer_risk", "direction": "upstream"})),
    "impact": ("tool", ("impact", {"target": "retail.customers.full_name"})),
    "scorecard": ("tool", ("scorecard", {"domain": "risk"})),
    "bad_domain": ("tool", ("scorecard", {"domain": "nowhere"})),
    "incidents": ("tool", ("open_incidents", {})),
    "incidents_downstream": ("tool", ("open_incidents", {"product_id": "risk.customer_risk"})),
    "index": ("resource", "meshwork://products"),
    "descriptor": ("resource", "meshwork://products/retail.customers/descriptor"),
    "locked_descriptor": ("resource", "meshwork://products/risk.limits/descriptor"),
    "contract": ("resource", "meshwork://products/retail.customers/contract"),
    "locked_contract": ("resource", "meshwork://products/risk.limits/contract"),
    "vanished": ("resource", "meshwork://products/retail.branches/descriptor"),  # its file deleted meanwhile
}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Every call of CALLS through one stdio server; an MCPError is kept as (code, message)."""
    root = build_mcp_mesh(tmp_path_factory.mktemp("mcp-stdio") / "mini")
    catalog.open_mesh(root).monitor_pass(force=True)  # opens the incident of retail.customers' failing check
    params = StdioServerParameters(command=sys.executable, args=meshwork("mcp", str(root))[1:],
                                   env=server_env(MESHWORK_USER=ANA))

    async def run() -> dict[str, Any]:
        out: dict[str, Any] = {}
        with open(os.devnull, "w") as quiet:
            async with stdio_client(params, errlog=quiet) as (read, write), ClientSession(read, write) as session:
                init = await session.initialize()
                (root / "retail/products/branches.yaml").unlink()  # the server read it at start; now it is gone
                out["instructions"] = init.instructions
                out["tools"] = {t.name: t for t in (await session.list_tools()).tools}
                templates = (await session.list_resource_templates()).resource_templates
                out["templates"] = [t.uri_template for t in templates]
                for key, (kind, what) in CALLS.items():
                    try:
                        if kind == "tool":
                            result = await session.call_tool(*what)
                            out[key] = result.structured_content if not result.is_error else ("is_error", result)
                        else:
                            out[key] = (await session.read_resource(what)).contents[0].text
                    except MCPError as exc:
                        out[key] = (exc.code, exc.message)
        return out

    return run_client(run), root


def test_the_server_offers_the_tools_and_resources(served):
    got, _ = served
    assert set(got["tools"]) == TOOLS
    assert all(t.annotations.read_only_hint for t in got["tools"].values())
    assert "50" in got["tools"]["run_sql"].description  # the mesh's row cap is stated
    assert set(got["templates"]) == {"meshwork://products/{product_id}/descriptor",
                                     "meshwork://products/{product_id}/contract"}
    assert ANA in got["instructions"] and "'analyst'" in got["instructions"]


def test_run_sql_as_the_local_user_masks_personal_data(served):
    got, _ = served
    rows = got["masked"]["rows"]
    assert [r["age"] for r in rows] == [29, 34, 51]
    assert not RAW_NAMES & {r["full_name"] for r in rows}
    assert all(r["ssn"].startswith("***-**-") for r in rows)


def test_a_restricted_query_is_a_protocol_error_with_the_reason(served):
    got, _ = served
    code, message = got["restricted"]
    assert code == REFUSED and "risk.limits is restricted" in message and "'analyst'" in message


def test_describe_product_shows_what_the_caller_sees(served):
    got, _ = served
    product = got["customers"]
    assert product["owner"] == "ana.silva@bank.example" and not product["locked"]
    masked = {c["name"]: c["masked"] for c in product["schema"]}
    assert masked == {"customer_id": True, "full_name": True, "email": True, "ssn": True, "age": False}
    assert len(product["sample"]["rows"]) == 2 and product["sample"]["masked"]  # mcp.sample_rows: 2
    assert not RAW_NAMES & {r["full_name"] for r in product["sample"]["rows"]}
    assert product["downstreams"] == ["risk.customer_risk"]
    assert product["quality"]["grade"] == "B"  # the latest run (the monitor's, at set-up): email not null fails


def test_a_locked_product_is_its_card_and_an_unknown_one_is_refused(served):
    got, _ = served
    card = got["limits"]
    assert card["locked"] and card["owner"] == "rui.costa@bank.example"
    assert not {"schema", "sample", "quality"} & set(card) and "grants access" in card["note"]
    assert got["unknown"][0] == REFUSED and "no product 'risk.nothing'" in got["unknown"][1]


def test_search_returns_facets_and_marks_locked_products(served):
    got, _ = served
    hits = {h["product_id"]: h for h in got["search"]["hits"]}
    assert hits["risk.limits"]["locked"] and not hits["risk.scores"]["locked"]
    facets = got["search_risk"]["facets"]
    assert {h["product_id"] for h in got["search_risk"]["hits"]} <= {"risk.scores", "risk.customer_risk", "risk.limits"}
    assert set(facets) >= {"domain", "tag", "owner", "grade", "pii", "kind"}


def test_a_failure_inside_the_server_is_a_plain_internal_error(served):
    got, _ = served
    code, message = got["vanished"]
    assert code == INTERNAL_ERROR and message == "resource.descriptor failed inside the server; its log has the details"
    assert "Traceback" not in message and "branches.yaml" not in message


def test_lineage_impact_and_scorecards(served):
    got, _ = served
    upstream = {n["id"] for n in got["lineage"]["nodes"] if n.get("distance", 0) < 0}
    assert {"retail.customers", "risk.scores"} <= upstream
    assert got["impact"]["owners"] == ["rui.costa@bank.example"]
    assert {r["id"] for r in got["impact"]["impacted"]} >= {"risk.customer_risk", "risk.customer_risk.full_name"}
    rows = {r["product_id"]: r for r in got["scorecard"]["rows"]}
    assert set(rows) == {"risk.scores", "risk.customer_risk", "risk.limits"}
    assert got["bad_domain"][0] != REFUSED and "no domain 'nowhere'" in got["bad_domain"][1]


def test_resources_give_descriptors_and_odcs_contracts(served):
    got, root = served
    index = yaml.safe_load(got["index"])
    entries = {p["id"]: p for p in index["products"]}
    assert entries["risk.limits"]["locked"] and "contract" not in entries["risk.limits"]
    assert index["user"] == ANA and index["role"] == "analyst"
    assert got["descriptor"] == (root / "retail/products/customers.yaml").read_text()
    assert yaml.safe_load(got["locked_descriptor"])["locked"] is True and "columns" not in got["locked_descriptor"]
    contract = yaml.safe_load(got["contract"])
    assert validate_contract(contract) == [] and contract["id"] == "retail-customers"
    assert got["locked_contract"][0] == REFUSED and "restricted" in got["locked_contract"][1]


def test_every_call_is_in_the_audit_log_and_samples_count_as_usage(served):
    got, root = served
    mesh = catalog.open_mesh(root)
    try:
        audit = [r for r in mesh.access.audit(actor=ANA).to_dicts() if r["action"].startswith("mcp.")]
        usage = mesh.usage("retail.customers").to_dicts()
    finally:
        mesh.close()
    assert len(audit) == len(CALLS)
    assert all(r["role"] == "analyst" and r["reason"] for r in audit)
    assert {r["outcome"] for r in audit} == {"ok", "refused", "failed", "error"}
    refused = [key for key in CALLS if isinstance(got[key], tuple)]
    assert sorted(refused) == ["bad_domain", "locked_contract", "restricted", "unknown", "vanished"]
    assert sum(r["outcome"] != "ok" for r in audit) == len(refused)
    outcome = {r["reason"]: r["outcome"] for r in audit}
    assert outcome[got["bad_domain"][1]] == "failed" and outcome[got["restricted"][1]] == "refused"
    assert {u["user"] for u in usage} == {ANA} and len(usage) >= 2  # the query and describe's sample rows


def test_stdio_refuses_a_role_the_local_user_does_not_hold(tmp_path, monkeypatch):
    root = build_mcp_mesh(tmp_path / "mini")
    monkeypatch.setenv("MESHWORK_USER", ANA)
    result = CliRunner().invoke(cli, ["mcp", str(root), "--role", "steward"])
    assert result.exit_code == 2
    assert f"{ANA} does not hold the role 'steward'" in result.output and "Traceback" not in result.output


def test_open_incidents_and_those_upstream_of_a_product(served):
    got, _ = served
    [incident] = got["incidents"]["incidents"]
    assert (incident["product_id"], incident["cause"], incident["state"]) == (
        "retail.customers", "check:email not null", "new")
    assert got["incidents_downstream"]["incidents"] == []  # risk.customer_risk's own: none
    assert [u["product_id"] for u in got["incidents_downstream"]["upstream"]] == ["retail.customers"]
