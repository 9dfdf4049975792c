"""One answer to "who sees what" on every surface (issue 17.5).

Every library and CLI surface that shows products is asked, for each viewer (an analyst, a steward, an
analyst holding a live grant, an analyst whose grant expired) and for a restricted product and a normal
one, what it shows; all must agree with the policy: open (in full), locked (listed by its card only) or
hidden (`discovery: hidden`: nowhere, an anonymous node in lineage). The banking sample runs in a private
copy with its quality and usage history; the grants go through catalog.access.ledger's real request/approve
workflow, with the ledger's clock moved back so one grant is live and the other has already expired.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import polars as pl
import pytest
from typer.testing import CliRunner

import catalog
from catalog.cli import app as cli
from catalog.errors import MeshError, QueryRejected, UnknownProduct
from catalog.samples.history import seed_history
from catalog.lineage.neighbourhood import neighbourhood
from catalog.access.policy import LockedProduct
from catalog.scorecards.review import review
from catalog.scorecards.scorecard import LOCKED_NOTE, latest_checks
from catalog.discover.search import product_hit
from tests.grants import granted
from tests.samplecopy import copy_sample

HISTORY_DAY = datetime(2026, 11, 26, tzinfo=timezone.utc)
RESTRICTED = "risk.customer_exposure"  # restricted to steward and risk_officer; reads retail.accounts
NORMAL = "marketing.customer_360"  # every role reads it; also reads retail.accounts
UPSTREAM = "retail.accounts"
OWNER = "dana.kowalski@bank.example"  # owns risk.customer_exposure

VIEWERS = {
    "analyst": ("analyst", "al.analyst@bank.example"),
    "steward": ("steward", "stu.steward@bank.example"),
    "analyst+grant": ("analyst", "gina.granted@bank.example"),
    "analyst+expired": ("analyst", "ed.expired@bank.example"),
}
OPENED = {"steward", "analyst+grant"}  # viewers who may read the restricted product
runner = CliRunner()


def _mesh_copy(parent: Path, discovery: str) -> catalog.Mesh:
    root = copy_sample(parent, "banking", discovery)
    seed_history(root, today=HISTORY_DAY)
    mesh = catalog.open_mesh(root)  # the default state folder, so the CLI sees the same grants
    now = datetime.now(timezone.utc)
    mesh.access.clock = lambda: now - timedelta(days=3)
    for user, until in (("gina.granted@bank.example", now + timedelta(days=30)),
                        ("ed.expired@bank.example", now - timedelta(days=1))):
        granted(mesh, user, RESTRICTED, "capital planning for the quarterly review", OWNER, until=until)
    mesh.access.clock = lambda: datetime.now(timezone.utc)
    return mesh


@pytest.fixture(scope="module", params=["listed", "hidden"])
def world(request, tmp_path_factory):
    mesh = _mesh_copy(tmp_path_factory.mktemp(f"matrix-{request.param}"), request.param)
    yield request.param, mesh
    mesh.close()


def expected(discovery: str, viewer: str, pid: str) -> str:
    if pid == NORMAL or viewer in OPENED:
        return "open"
    return "locked" if discovery == "listed" else "hidden"


# ------------------------------------------------------------------ what each surface shows
# Each returns "open", "locked" or "hidden"; a surface that cannot tell two states apart returns
# "listed" (open or locked) or "closed" (locked or hidden).

Surface = Callable[[catalog.Mesh, str, str, str], str]


def _unknown(call: Callable[[], object]) -> bool:
    try:
        call()
    except UnknownProduct:
        return True
    return False


def s_policy(mesh, role, user, pid):
    p = mesh.policy(role, user)
    return "open" if p.can_see(pid) else "locked" if p.is_locked(pid) else "hidden"


def s_visible_products(mesh, role, user, pid):
    return "open" if pid in mesh.visible_products(role, user) else "closed"


def s_product_for(mesh, role, user, pid):
    try:
        shown = mesh.product_for(pid, mesh.policy(role, user))
    except UnknownProduct:
        return "hidden"
    return "locked" if isinstance(shown, LockedProduct) else "open"


def s_search(mesh, role, user, pid):
    title = mesh.product(pid).title
    hits = {h.product_id: h for h in mesh.search(title, role=role, user=user, limit=None)}
    if pid not in hits:
        return "hidden"
    hit = hits[pid]
    if hit.locked:
        assert hit.grade == "locked" and not hit.tags and not hit.snippet_field.startswith("column")
    return "locked" if hit.locked else "open"


def s_search_by_column(mesh, role, user, pid):
    """A column's name finds a product only for viewers who may see its columns."""
    column = {RESTRICTED: "scored", NORMAL: "open accounts"}[pid]
    return "open" if pid in mesh.search(column, role=role, user=user, limit=None).ids else "closed"


def s_search_facets(mesh, role, user, pid):
    domain = mesh.product(pid).domain
    results = mesh.search("", role=role, user=user, limit=None, domain=domain)
    assert dict(results.facets["domain"]).get(domain, 0) == results.total
    hit = next((h for h in results if h.product_id == pid), None)
    return "hidden" if hit is None else "locked" if hit.locked else "open"


def s_product_hit(mesh, role, user, pid):
    try:
        hit = product_hit(mesh.search_index, pid, mesh.policy(role, user))
    except UnknownProduct:
        return "hidden"
    return "locked" if hit.locked else "open"


def s_summary(mesh, role, user, pid):
    rows = mesh.summary(role, user).filter(pl.col("id") == pid)
    if rows.is_empty():
        return "hidden"
    return "locked" if rows["locked"][0] else "open"


def s_owners(mesh, role, user, pid):
    return "listed" if pid in mesh.owners(role, user).get(mesh.product(pid).owner, []) else "hidden"


def s_lineage(mesh, role, user, pid):
    graph = mesh.lineage(role=role, user=user)
    if pid not in graph:
        assert any(d.get("kind") == "restricted" for _, d in graph.nodes(data=True))
        return "hidden"
    return "locked" if graph.nodes[pid].get("locked") else "open"


def s_column_lineage(mesh, role, user, pid):
    graph = mesh.lineage(columns=True, role=role, user=user)
    if f"{pid}.customer_id" in graph:
        return "open"
    if pid in graph:
        return "locked"
    assert any(n.startswith("restricted:") for n in graph)
    return "hidden"


def s_domain_lineage(mesh, role, user, pid):
    graph = mesh.lineage(level="domain", role=role, user=user)
    domain = mesh.product(pid).domain
    listed = mesh.summary(role, user).filter(pl.col("domain") == domain).height
    assert graph.nodes[f"domain:{domain}"]["products"] == listed
    in_domain = mesh.summary().filter(pl.col("domain") == domain).height
    return "listed" if listed == in_domain else "hidden"


def s_neighbourhood(mesh, role, user, pid):
    try:
        graph = neighbourhood(mesh.lineage_index, pid, up=1, down=1, policy=mesh.policy(role, user))
    except UnknownProduct:
        return "hidden"
    return "locked" if graph.nodes[pid].get("locked") else "open"


def s_impact_downstream(mesh, role, user, pid):
    result = mesh.impact(UPSTREAM, role=role, user=user)
    ids = {p.id for p in result.products}
    if pid not in ids:
        assert any(i.startswith("restricted:") for i in ids)
        return "hidden"
    return "open" if any(c.product_id == pid for c in result.columns) else "locked"


def s_impact_target(mesh, role, user, pid):
    if _unknown(lambda: mesh.impact(pid, role=role, user=user)):
        return "hidden"
    return "locked" if _unknown(lambda: mesh.impact(f"{pid}.customer_id", role=role, user=user)) else "open"


def s_root_cause(mesh, role, user, pid):
    return "hidden" if _unknown(lambda: mesh.root_cause(pid, role=role, user=user)) else "listed"


def s_duplicates(mesh, role, user, pid):
    return "hidden" if _unknown(lambda: mesh.duplicates(pid, role=role, user=user)) else "listed"


def s_scorecard(mesh, role, user, pid):
    rows = mesh.scorecard(mesh.product(pid).domain, role=role, user=user).filter(pl.col("product_id") == pid)
    if rows.is_empty():
        return "hidden"
    if rows["incomplete"][0] == LOCKED_NOTE:
        assert rows["score"][0] is None and rows["checks"][0] is None
        return "locked"
    return "open"


def s_usage(mesh, role, user, pid):
    return "listed" if pid in mesh.usage_metrics(role=role, user=user)["product_id"].to_list() else "hidden"


def s_checks(mesh, role, user, pid):
    try:
        results = latest_checks(mesh.evidence(), pid, policy=mesh.policy(role, user))
    except UnknownProduct:
        return "hidden"
    return "open" if results else "locked"


def s_trust(mesh, role, user, pid):
    rows = mesh.trust_signals(role, user).filter(pl.col("product_id") == pid)
    if rows.is_empty():
        return "hidden"
    return "open" if rows["score"][0] is not None else "locked"


def s_compliance(mesh, role, user, pid):
    return "open" if pid in mesh.compliance(role=role, user=user)["product_id"].to_list() else "closed"


def s_pii_inventory(mesh, role, user, pid):
    return "open" if pid in mesh.pii_inventory(role, user)["product_id"].to_list() else "closed"


def s_access_rules(mesh, role, user, pid):
    return "listed" if pid in mesh.access_rules(role, user)["product_id"].to_list() else "hidden"


def s_review(mesh, role, user, pid):
    done = review(mesh.evidence(), owner=mesh.product(pid).owner, as_of=HISTORY_DAY, policy=mesh.policy(role, user))
    if pid in [p.product_id for p in done.products]:
        return "open"
    return "locked" if pid in done.locked else "hidden"


def s_session(mesh, role, user, pid):
    try:
        mesh.session(role=role, user=user).sql(f"SELECT count(*) AS n FROM {pid}")
    except QueryRejected:
        return "closed"
    return "open"


def s_session_schema(mesh, role, user, pid):
    return "open" if pid in mesh.session(role=role, user=user).schema()["product_id"].to_list() else "closed"


def s_dashboard_tile(mesh, role, user, pid):
    """The sample dashboards' tiles that read the product run, are refused as locked, or as unknown."""
    board = mesh.dashboards.get({RESTRICTED: "risk.credit_risk", NORMAL: "marketing.customer_360"}[pid])
    slot = next(s for s in board.tiles if s.tile is not None and pid in s.tile.query)
    result = mesh.dashboards.run_tile(board, slot, role, user)
    if result.ok:
        return "open"
    if "no longer a product of this mesh" in (result.error or ""):
        return "hidden"
    assert "may not see" in result.error or "expired" in result.error, result.error
    return "locked"


def _cli(mesh, *args):
    return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)


def s_cli_search(mesh, role, user, pid):
    result = _cli(mesh, "search", mesh.root, mesh.product(pid).title, "--role", role, "--user", user,
                  "--format", "json", "--limit", "50")
    hits = {h["product_id"]: h for h in json.loads(result.stdout)["hits"]}
    return "hidden" if pid not in hits else "locked" if hits[pid]["locked"] else "open"


def s_cli_lineage(mesh, role, user, pid):
    result = _cli(mesh, "lineage", mesh.root, pid, "--role", role, "--user", user, "--format", "json")
    if result.exit_code == 2:
        assert "no product" in result.output and "Traceback" not in result.output
        return "hidden"
    nodes = {n["id"]: n for n in json.loads(result.stdout)["nodes"]}
    return "locked" if nodes[pid].get("locked") else "open"


def s_cli_impact(mesh, role, user, pid):
    result = _cli(mesh, "lineage", mesh.root, UPSTREAM, "--impact", "--role", role, "--user", user,
                  "--format", "json")
    rows = json.loads(result.stdout)["impacted"]
    if not any(r["product_id"] == pid for r in rows):
        return "hidden"
    return "open" if any(r["product_id"] == pid and r["kind"] == "column" for r in rows) else "locked"


def s_cli_scorecard(mesh, role, user, pid):
    result = _cli(mesh, "scorecard", mesh.root, "--domain", mesh.product(pid).domain, "--role", role,
                  "--user", user, "-f", "json")
    rows = {r["product_id"]: r for r in json.loads(result.stdout)}
    return "hidden" if pid not in rows else "locked" if rows[pid]["incomplete"] == LOCKED_NOTE else "open"


def s_cli_compliance(mesh, role, user, pid):
    result = _cli(mesh, "compliance", mesh.root, "--role", role, "--user", user, "--format", "csv")
    return "open" if f",{pid}," in result.stdout else "closed"


def s_cli_review(mesh, role, user, pid):
    result = _cli(mesh, "review", mesh.root, "--owner", mesh.product(pid).owner, "--role", role, "--user", user)
    assert result.exit_code == 0, result.output
    return "listed" if pid in result.stdout else "closed"


def s_cli_access_list(mesh, role, user, pid):
    result = _cli(mesh, "access", "list", mesh.root, "--grants", "--role", role, "--user", user)
    return "hidden" if pid == RESTRICTED and pid not in result.stdout else "listed"


SURFACES: dict[str, Surface] = {name[2:]: fn for name, fn in dict(globals()).items() if name.startswith("s_")}


def _agrees(observed: str, wanted: str) -> bool:
    return observed == wanted or (observed == "listed" and wanted in ("open", "locked")) or (
        observed == "closed" and wanted in ("locked", "hidden"))


@pytest.mark.parametrize("pid", [RESTRICTED, NORMAL], ids=["restricted", "normal"])
@pytest.mark.parametrize("viewer", list(VIEWERS))
@pytest.mark.parametrize("surface", list(SURFACES))
def test_every_surface_gives_the_policys_answer(world, surface, viewer, pid):
    discovery, mesh = world
    role, user = VIEWERS[viewer]
    wanted = expected(discovery, viewer, pid)
    if surface == "cli_access_list" and pid == NORMAL:
        pytest.skip("grants exist only on the restricted product")
    if surface in ("cli_review",) and wanted != "open" and discovery == "listed":
        wanted = "listed"  # a review names the locked products it leaves out
    observed = SURFACES[surface](mesh, role, user, pid)
    assert _agrees(observed, wanted), f"{surface} shows {pid} as {observed} to {viewer}; the policy says {wanted}"


def test_home_counts_match_the_listing(world):
    discovery, mesh = world
    for role, user in VIEWERS.values():
        counts = mesh.counts(role, user)
        summary = mesh.summary(role, user)
        assert counts["products"] == summary.height == len(mesh.policy(role, user).listed)
        assert counts["locked"] == summary["locked"].sum()
    analyst = mesh.counts(*VIEWERS["analyst"])
    assert analyst["products"] == len(mesh.products) - (2 if discovery == "hidden" else 0)


def test_expired_grant_refuses_the_query_and_says_why(world):
    _, mesh = world
    with pytest.raises(QueryRejected, match="expired"):
        mesh.session(*VIEWERS["analyst+expired"]).sql(f"SELECT count(*) FROM {RESTRICTED}")
    assert mesh.session(*VIEWERS["analyst+grant"]).sql(f"SELECT count(*) AS n FROM {RESTRICTED}")["n"][0] > 0


def test_hidden_node_is_anonymous_and_stable(world):
    discovery, mesh = world
    if discovery != "hidden":
        pytest.skip("only a hidden product becomes an anonymous node")
    first = mesh.lineage(**dict(zip(("role", "user"), VIEWERS["analyst"])))
    again = mesh.lineage(**dict(zip(("role", "user"), VIEWERS["analyst"])))
    anon = sorted(n for n, d in first.nodes(data=True) if d["kind"] == "restricted")
    assert anon == sorted(n for n, d in again.nodes(data=True) if d["kind"] == "restricted") and anon
    for node in anon:
        data = first.nodes[node]
        assert data["domain"] == data["owner"] == "" and data["label"] == "restricted product"
        assert RESTRICTED not in json.dumps({k: v for k, v in data.items()}, default=str)
    assert UPSTREAM in {u for node in anon for u in first.predecessors(node)}  # the edge stays honest


def test_unknown_role_is_a_clear_refusal_on_library_and_cli(world):
    _, mesh = world
    with pytest.raises(MeshError, match="unknown role"):
        mesh.search("loans", role="superuser")
    result = _cli(mesh, "search", mesh.root, "loans", "--role", "superuser")
    assert result.exit_code == 2 and "unknown role" in result.output


def test_quality_history_and_latest_runs_follow_the_policy(world):
    discovery, mesh = world
    for viewer, (role, user) in VIEWERS.items():
        shown = set(mesh.quality_history(role=role, user=user)["product_id"].to_list())
        latest = set(mesh.latest_quality(role=role, user=user)["product_id"].to_list())
        assert (RESTRICTED in shown) == (RESTRICTED in latest) == (viewer in OPENED), viewer
        assert NORMAL in shown
        if discovery == "hidden" and viewer not in OPENED:
            with pytest.raises(UnknownProduct):
                mesh.quality_history(RESTRICTED, role=role, user=user)
