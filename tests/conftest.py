"""Shared fixtures: small meshes in tmp_path, the real PostgreSQL, a real app server and Chromium."""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from minimesh import build_minimesh  # noqa: E402

from tests import harness  # noqa: E402
from tests.statebackends import (parametrize_owner_modules, state_backend_module,  # noqa: E402,F401
                                 state_backend_test, state_pg_database)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize_owner_modules(metafunc)  # the state tables' owners' tests run on SQLite and PostgreSQL

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_data"
PG_ADMIN_DSN = os.environ.get("MESHWORK_TEST_PG", "postgresql://meshwork:meshwork@127.0.0.1:5432/postgres")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--screenshots", default=str(REPO / "test-artifacts" / "screenshots"),
                     help="folder browser tests save their screenshots into")


@pytest.fixture
def minimesh(tmp_path: Path) -> Path:
    return build_minimesh(tmp_path / "mini")


@pytest.fixture
def sample_copy(tmp_path: Path):
    """A private copy of a shipped sample mesh, so a test may write state or descriptors."""

    def copy(name: str) -> Path:
        dest = tmp_path / name
        shutil.copytree(SAMPLES / name, dest, ignore=shutil.ignore_patterns(".meshwork"))
        return dest

    return copy


HISTORY_DAY = datetime(2026, 11, 26, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    """A private copy of the banking sample whose state holds its 90 days of history up to HISTORY_DAY."""
    import catalog
    from catalog.samples.history import seed_history

    root = tmp_path_factory.mktemp("bank") / "banking"
    shutil.copytree(SAMPLES / "banking", root, ignore=shutil.ignore_patterns(".meshwork"))
    seed_history(root, state_dir=root.parent / "state", today=HISTORY_DAY)
    return catalog.open_mesh(root, state_dir=root.parent / "state")


# ------------------------------------------------------------------ PostgreSQL

@pytest.fixture(scope="session")
def pg_server() -> str:
    import psycopg2

    try:
        psycopg2.connect(PG_ADMIN_DSN, connect_timeout=5).close()
    except psycopg2.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_DSN} ({exc}); `make test` starts it "
                    "with pg_ctlcluster 15 main start")
    return PG_ADMIN_DSN


@pytest.fixture
def pg_database(pg_server: str):
    """A fresh database of our own on the local server, dropped afterwards."""
    import psycopg2

    name = f"meshwork_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(pg_server)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    dsn = pg_server.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield dsn
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


# ------------------------------------------------------------------ app server + browser

class AppServer(harness.AppServer):
    def __init__(self, mesh: Path, env: dict[str, str] | None = None, **options):
        super().__init__(mesh, env, log_dir=REPO / "test-artifacts", **options)


@pytest.fixture
def app_server():
    servers: list[AppServer] = []

    def start(mesh: Path, env: dict[str, str] | None = None, **options) -> AppServer:
        server = AppServer(mesh, env, **options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    if not Path(harness.CHROMIUM).exists():
        pytest.fail(f"{harness.CHROMIUM} is missing; `make test` installs Debian's chromium")
    with sync_playwright() as p:
        browser = harness.launch_chromium(p)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, request):
    context = chromium.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


@pytest.fixture
def screenshot(request):
    folder = Path(request.config.getoption("--screenshots"))
    folder.mkdir(parents=True, exist_ok=True)

    def save(page, name: str) -> Path:
        path = folder / f"{name}.png"
        harness.screenshot(page, path)
        return path

    return save


def wait_for_app(page) -> None:
    """Wait until Streamlit has finished the script run and redrawn the page."""
    harness.wait_for_app(page)


def choose(page, label: str, option: str, where=None) -> None:
    """Pick `option` in the Streamlit selectbox labelled `label` (inside `where`, default the page)."""
    (where or page).get_by_test_id("stSelectbox").filter(has_text=label).first.click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_for_app(page)
