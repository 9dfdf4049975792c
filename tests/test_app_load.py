"""Load safety of the app: 20 sessions at once, each running a governed cross-domain query through the
Workbench page (AppTest, one thread per session, sharing one cached mesh as a real server does): no error,
and exactly one usage event per product per query — none lost."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import catalog
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app" / "main.py")
JOIN = "SELECT c.age, s.score FROM retail.customers c JOIN risk.scores s USING (customer_id) ORDER BY c.age"
SESSIONS = 20


def one_session(mesh: Path, n: int) -> tuple[list[str], list[list[int]]]:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["mesh_path"] = str(mesh)
    at.session_state["wb_plain_editor"] = True
    at.session_state["user"] = f"user{n}@bank.example"
    at.switch_page("views/workbench.py")
    at.query_params["sql"] = JOIN
    at.run()
    errors = [str(e.value) for e in at.exception] + [e.value for e in at.error]
    tables = [d.value["score"].tolist() for d in at.dataframe if "score" in d.value.columns]
    return errors, tables


def test_twenty_concurrent_app_sessions_lose_no_usage_event(minimesh):
    with ThreadPoolExecutor(SESSIONS) as pool:
        outcomes = list(pool.map(lambda n: one_session(minimesh, n), range(SESSIONS)))
    for errors, tables in outcomes:
        assert errors == []
        assert tables and tables[0] == [580, 700, 640]
    usage = catalog.open_mesh(minimesh).usage()
    per_product = dict(usage.group_by("product_id").len().iter_rows())
    assert per_product == {"retail.customers": SESSIONS, "risk.scores": SESSIONS}
    assert usage["status"].unique().to_list() == ["ok"]
    assert usage["user"].n_unique() == SESSIONS
