"""A tiny mesh for the monitor, incident and notification tests: `shop.orders` (parquet the test rewrites to
break or mend it), `ops.daily` derived from it (another owner), a restricted `hr.salaries`, and real
receivers on 127.0.0.1: an HTTP server that records what is POSTed, an SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import socket
import textwrap
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb

from minimesh import write
from tests.harness import free_port

OWNER = "olga.owner@shop.example"
TEAM = "tom.team@shop.example"
DOWNSTREAM = "dina.down@ops.example"
STEWARD = "stella.steward@shop.example"
OUTSIDER = "otto.outsider@shop.example"
SECRET = "s3cret-for-tests"


def write_orders(root: Path, rows: int = 100, null_emails: int = 0, age_hours: float = 1.0) -> None:
    """The orders file: `rows` rows, the first `null_emails` without an email, newest row `age_hours` old."""
    newest = datetime.utcnow() - timedelta(hours=age_hours)
    path = root / "shop" / "data" / "orders.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    duckdb.connect().execute(
        f"COPY (SELECT i AS order_id, CASE WHEN i < {null_emails} THEN NULL ELSE 'c' || i || '@x.example' END AS email, "
        f"TIMESTAMP '{newest:%Y-%m-%d %H:%M:%S}' - i * INTERVAL 1 SECOND AS created_at FROM range({rows}) t(i)) "
        f"TO '{tmp}' (FORMAT parquet)")
    tmp.replace(path)
    time.sleep(0.01)  # a distinct mtime for the next version


def build(root: Path, channels: str = "", extra_mesh: str = "", orders_extra: str = "") -> Path:
    write(root / "mesh.yaml", textwrap.dedent(f"""
        name: shopmesh
        users:
          {STEWARD}: {{roles: [steward]}}
        monitor: {{every: 1h, volume_k: 3, volume_runs: 10, volume_min_runs: 3}}
    """).lstrip() + extra_mesh + channels)
    write(root / "shop/domain.yaml", f"name: shop\nowner: {OWNER}\nteam: [{TEAM}]\n")
    write(root / "ops/domain.yaml", f"name: ops\nowner: {DOWNSTREAM}\nschedule: {{every: 1d}}\n")
    write(root / "hr/domain.yaml", "name: hr\nowner: hr@shop.example\n")
    write_orders(root)
    write(root / "shop/products/orders.yaml", textwrap.dedent(f"""
        name: orders
        owner: {OWNER}
        source: {{kind: parquet, path: data/orders.parquet}}
        schedule: {{every: 15m}}
        columns:
          - {{name: order_id, type: BIGINT}}
          - {{name: email, type: VARCHAR, pii: email}}
          - {{name: created_at, type: TIMESTAMP}}
        quality:
          - {{check: not_null, column: email}}
          - {{check: not_null, column: order_id, severity: warning}}
          - {{check: freshness, column: created_at}}
        sla: {{freshness_hours: 24, timestamp_column: created_at}}
    """).lstrip() + orders_extra)
    write(root / "ops/products/daily.yaml", f"""
        name: daily
        owner: {DOWNSTREAM}
        source: {{kind: sql, sql: "SELECT count(*) AS n FROM shop.orders"}}
        columns: [{{name: n, type: BIGINT}}]
    """)
    (root / "hr/data").mkdir(parents=True, exist_ok=True)
    duckdb.connect().execute(f"COPY (SELECT 1 AS id, 100 AS pay) TO '{root}/hr/data/pay.parquet' (FORMAT parquet)")
    write(root / "hr/products/salaries.yaml", """
        name: salaries
        owner: hr@shop.example
        source: {kind: parquet, path: data/pay.parquet}
        access: {restricted: true, roles: [steward]}
        columns: [{name: id, type: INTEGER}, {name: pay, type: INTEGER}]
        quality:
          - {check: row_count, min: 5}
    """)
    return root


class Receiver:
    """A real HTTP server on 127.0.0.1 that records every POST (headers, body) and answers `status`.

    A `held` receiver records each request as it arrives (`arrived` is set) but answers only once the test
    sets `release` (or after HOLD_S, so a sender that waits for it cannot hang the run); `answered` is set
    once it has answered."""

    HOLD_S = 8.0

    def __init__(self, status: int = 200, held: bool = False):
        self.requests: list[dict] = []
        self.status = status
        self.arrived, self.release, self.answered = threading.Event(), threading.Event(), threading.Event()
        if not held:
            self.release.set()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.requests.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                       "json": json.loads(body)})
                outer.arrived.set()
                outer.release.wait(outer.HOLD_S)
                self.send_response(outer.status)
                self.end_headers()
                self.wfile.write(b"ok" if outer.status < 400 else b"receiver says no")
                outer.answered.set()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it receives."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages: list = []
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                from email import message_from_bytes, policy
                outer.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content,
                                                                                   policy=policy.default)))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def close(self) -> None:
        self.controller.stop()


_HELD: list = []  # sockets bound for the whole test process and never listening


def dead_port() -> int:
    """A loopback port nothing listens on, and nothing can: it stays bound (not listening) for the test process,
    so no server another test starts later can take it and answer the "dead" webhook."""
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    _HELD.append(held)
    return held.getsockname()[1]
