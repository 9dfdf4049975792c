"""`meshwork monitor MESH`: run checks on their schedules and keep incidents, once or until SIGTERM; and
`meshwork notifications MESH`: the outbox (what was sent, what is waiting, what failed and why)."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import Any

import typer

from catalog.cli import app
from catalog.cli.common import fail, open_or_exit
from catalog.descriptors.loader import descriptors_revision


def _report(done: Any, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"started": done.started, "due": done.due, "scanned": done.scanned,
                               "reused": done.reused, "seconds": round(done.seconds, 4), "errors": done.errors,
                               "transitions": [{"incident": t.incident_id, "product_id": t.product_id,
                                                "cause": t.cause, "action": t.action, "state": t.state}
                                               for t in done.transitions]}))
        return
    typer.echo(f"{done.started}  {done.summary()}")
    for t in done.transitions:
        typer.echo(f"  {t.action:13} #{t.incident_id} {t.product_id} {t.cause}")
    for pid, reason in done.errors.items():
        typer.echo(f"  error        {pid}: {reason}", err=True)


@app.command()
def monitor(
    path: Path = typer.Argument(..., help="the mesh folder (holds mesh.yaml)"),
    once: bool = typer.Option(False, "--once", help="one pass over the due products, then exit"),
    all_products: bool = typer.Option(False, "--all", help="check every product now, whatever its schedule"),
    product: list[str] = typer.Option([], "--product", help="check only this product (repeatable)"),
    max_sleep: float = typer.Option(60.0, "--max-sleep", help="long-running: most seconds between two passes"),
    as_json: bool = typer.Option(False, "--json", help="one JSON line per pass"),
    send_timeout: float = typer.Option(10.0, "--send-timeout", help="--once: seconds to deliver notifications"),
) -> None:
    """Run each product's checks on its schedule (`schedule: {every: 1h}` on the product or its domain, else
    mesh.yaml `monitor.every`), judge freshness against the SLA and volume against its history, and open,
    count, reopen or resolve incidents; notifications go out through mesh.yaml's `channels`. Unchanged data
    is not scanned again. Long-running unless --once; SIGTERM or Ctrl-C finishes the pass in progress and exits."""
    mesh = open_or_exit(path)
    bad = [str(p) for p in mesh.problems if p.field.startswith(("monitor", "channels", "schedule"))]
    for problem in bad:
        typer.echo(f"problem: {problem}", err=True)
    if once or product:
        done = mesh.monitor_pass(force=all_products, products=product or None)
        _report(done, as_json)
        left = mesh.notifier.drain(send_timeout)
        if left:
            typer.echo(f"{left} notification(s) still waiting for a retry; the next pass sends them", err=True)
        return
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    mesh.notifier.start()
    typer.echo(f"monitoring {mesh.name} ({len(mesh.products)} products); SIGTERM or Ctrl-C stops", err=True)
    try:
        first = True
        while not stop.is_set():
            if descriptors_revision(mesh.root) != mesh.declared.revision:  # descriptors changed: read them again
                mesh.notifier.stop()
                mesh.close()
                mesh = open_or_exit(path)
                mesh.notifier.start()
            done = mesh.monitor_pass(force=all_products and first)
            first = False
            _report(done, as_json)
            stop.wait(min(max_sleep, max(mesh.monitor.next_due_in(mesh.monitor.clock()), 0.05)))
    finally:
        mesh.notifier.stop()
        mesh.notifier.drain(min(send_timeout, 5.0))
        mesh.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        typer.echo("monitor stopped", err=True)


@app.command()
def notifications(
    path: Path = typer.Argument(..., help="the mesh folder (holds mesh.yaml)"),
    status: str | None = typer.Option(None, "--status", help="pending, digest, sent or failed"),
    send: bool = typer.Option(False, "--send", help="deliver what is due now first"),
    limit: int = typer.Option(50, "--limit"),
) -> None:
    """The notification outbox, newest first: channel, event, recipient, status, attempts and, for a failed
    one, the reason."""
    mesh = open_or_exit(path)
    if status not in (None, "pending", "digest", "sent", "failed"):
        fail(f"unknown status {status!r}; choose pending, digest, sent or failed", 2)
    if send:
        mesh.notifier.drain(10.0)
    frame = mesh.notifier.outbox.frame(status, limit)
    if frame.is_empty():
        typer.echo("no notifications")
        return
    for row in frame.iter_rows(named=True):
        tail = f"  ({row['last_error']})" if row["last_error"] else ""
        typer.echo(f"#{row['id']} {row['ts']} {row['channel']} {row['kind']} {row['recipient'] or '-'} "
                   f"{row['status']} after {row['attempts']} attempt(s){tail}")
