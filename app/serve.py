"""Start the app with its libraries already imported, so the first visitor does not wait for them.

`streamlit run` imports what the pages need only when the first browser session runs the script: about two
seconds of polars, DuckDB, sqlglot, pydantic, Altair and the catalog on a quiet machine, paid by whoever comes
first. Importing them here, in the server's own process before Streamlit starts, moves that wait to start-up.

    python app/serve.py [streamlit run options] -- --mesh PATH

It also adds one route to Streamlit's server: `POST /api/v1/lineage[?mesh=KEY]` takes OpenLineage run events
(one JSON event or a list) into a mesh's lineage graph (catalog.interop.openlineage.receive). The sender is
identified as the app identifies a visitor: by mesh.yaml `identity.trusted_header`, set by the trusted proxy;
without one, only a request from this machine counts, as the local user. Only a steward may add events;
anything else is refused (401/403, audited) and stores nothing. And it serves Streamlit's page with the
line that lets a link to any page find the server at once (app/index_page.py).
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import altair  # noqa: F401
import pandas  # noqa: F401
import polars  # noqa: F401
import pyarrow  # noqa: F401
from streamlit.web import cli

import catalog  # noqa: F401
import catalog.dashboards.run  # noqa: F401
import catalog.governance.policies  # noqa: F401
import catalog.workbench.notebook  # noqa: F401
import catalog.quality.run  # noqa: F401
import catalog.scorecards.review  # noqa: F401
import catalog.scorecards.scorecard  # noqa: F401
import catalog.discover.search  # noqa: F401

MAIN = Path(__file__).with_name("main.py")
LINEAGE_PATH = "/api/v1/lineage"


def _is_loopback(host: str | None) -> bool:
    """A request from this machine (IPv4, IPv6, or IPv4 mapped into IPv6 as a dual-stack socket reports it)."""
    import ipaddress

    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def _meshes(argv: list[str]) -> dict[str, Path]:
    """Key (the folder name, as `?mesh=` names it) -> folder of each mesh named after `--` with `--mesh`."""
    import argparse
    import re

    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--mesh", action="append", default=[])
    args, _ = parser.parse_known_args(argv[argv.index("--") + 1:] if "--" in argv else [])
    folders = [Path(p).expanduser().resolve() for p in args.mesh]
    return {re.sub(r"[^a-z0-9_-]+", "_", f.name.lower()).strip("_") or "mesh": f for f in folders}


def lineage_route(meshes: dict[str, Path]):  # noqa: ANN201 - a Starlette Route
    """The ingest endpoint for the meshes this server was started with."""
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from catalog.access import identity
    from catalog.errors import AccessDenied, MeshError
    from catalog.interop import openlineage

    def ingest(key: str | None, body: bytes, headers: dict[str, str], client: str | None) -> JSONResponse:
        folder = meshes.get(key) if key else next(iter(meshes.values()), None)
        if folder is None:
            return JSONResponse({"error": f"no mesh {key!r} is served here"}, status_code=404)
        mesh = catalog.open_mesh(folder)
        try:
            header = identity.config(mesh.declared).trusted_header
            if header:
                user = headers.get(header.lower())
            else:
                user = identity.local_user(mesh.declared) if _is_loopback(client) else None
            count = openlineage.receive(mesh, body, user, where=LINEAGE_PATH)
        except AccessDenied as exc:
            status = 401 if "Sign in" in str(exc) else 403
            return JSONResponse({"error": str(exc)}, status_code=status)
        except MeshError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        finally:
            mesh.close()
        return JSONResponse({"stored": count}, status_code=201)

    async def endpoint(request: Request) -> JSONResponse:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        client = request.client.host if request.client else None
        return await run_in_threadpool(ingest, request.query_params.get("mesh"), body, headers, client)

    return Route(LINEAGE_PATH, endpoint, methods=["POST"])


def extend_server(argv: list[str]) -> None:
    """Add to the app Streamlit's server builds: the ingest route, first (before its catch-all static files), and
    the page that finds its server at once from any page's URL (index_page.py)."""
    from streamlit.web.server.starlette import starlette_server

    import index_page
    from navigation import PAGES

    build = starlette_server.create_starlette_app
    route = lineage_route(_meshes(argv))

    def create_app(runtime):  # noqa: ANN001, ANN202 - Streamlit's own signature
        app = build(runtime)
        app.router.routes.insert(0, route)
        index_page.install(app, [page.url_path for page in PAGES])
        return app

    starlette_server.create_starlette_app = create_app


if __name__ == "__main__":
    extend_server(sys.argv)
    sys.argv = ["streamlit", "run", str(MAIN), *sys.argv[1:]]
    # The libraries imported above are nearly all of the server's objects and live as long as it does: frozen,
    # a full garbage collection (Python's own, mid-run) scans only what came later, 0.02 s instead of 0.2 s.
    gc.freeze()
    sys.exit(cli.main())
