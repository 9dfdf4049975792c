"""Notifications to real receivers on 127.0.0.1: a signed JSON webhook, Slack- and Teams-shaped payloads,
e-mail over SMTP (aiosmtpd) one by one and as a digest, a dead endpoint retried and then recorded as failed
with the reason, and `notify` never waiting on an endpoint that holds its answer."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import catalog
from catalog.notify import Event
from catalog.notify.payloads import verify
from incidentmesh import DOWNSTREAM, OWNER, SECRET, Mailbox, Receiver, build, dead_port, write_orders


@pytest.fixture(scope="module")
def receivers():
    hook, slow, broken, mailbox = Receiver(), Receiver(held=True), Receiver(status=500), Mailbox()
    yield {"hook": hook, "slow": slow, "broken": broken, "mail": mailbox}
    for one in (hook, slow, broken, mailbox):
        one.close()


def _channels(receivers, *names: str) -> str:
    all_channels = {
        "hook": f"  - {{kind: webhook, name: hook, url: '{receivers['hook'].url}/meshwork', secret: '${{TEST_HOOK_SECRET}}'}}\n",
        "slack": f"  - {{kind: slack, name: slack, url: '{receivers['hook'].url}/slack', events: [incident]}}\n",
        "teams": f"  - {{kind: teams, name: teams, url: '{receivers['hook'].url}/teams', domains: [ops]}}\n",
        "mail": f"  - {{kind: email, name: mail, smtp_host: 127.0.0.1, smtp_port: {receivers['mail'].port}, "
                f"from: meshwork@shop.example}}\n",
        "digest": f"  - {{kind: email, name: digest, smtp_host: 127.0.0.1, smtp_port: {receivers['mail'].port}, "
                  f"from: meshwork@shop.example, digest: 1s, to: [oncall@shop.example]}}\n",
        "dead": f"  - {{kind: webhook, name: dead, url: 'http://127.0.0.1:{dead_port()}/x', retries: 2, backoff_s: 0.05}}\n",
        "broken": f"  - {{kind: webhook, name: broken, url: '{receivers['broken'].url}/x', retries: 1, backoff_s: 0.05}}\n",
        "slow": f"  - {{kind: webhook, name: slow, url: '{receivers['slow'].url}/x'}}\n",
    }
    return "channels:\n" + "".join(all_channels[n] for n in names)


def _event(**extra) -> Event:
    return Event(kind="incident.opened", title="incident #1 opened: check:x", text="x fails", product_id="shop.orders",
                 domain="shop", recipients=(OWNER,), **extra)


def test_an_incident_reaches_a_signed_webhook_and_slack_and_only_its_domain_reaches_teams(tmp_path, receivers,
                                                                                         monkeypatch):
    monkeypatch.setenv("TEST_HOOK_SECRET", SECRET)
    root = build(tmp_path / "shop", channels=_channels(receivers, "hook", "slack", "teams"))
    hook = receivers["hook"]
    hook.requests.clear()
    mesh = catalog.open_mesh(root)
    write_orders(root, null_emails=2)
    mesh.monitor_pass()
    assert mesh.notifier.drain(10) == 0
    by_path: dict[str, list] = {}
    for request in hook.requests:
        by_path.setdefault(request["path"], []).append(request)
    signed = [r for r in by_path["/meshwork"] if r["json"]["product_id"] == "shop.orders"]
    assert len(signed) == 1
    request = signed[0]
    assert verify(SECRET, request["body"], request["headers"]["X-Meshwork-Signature"])
    assert not verify("another secret", request["body"], request["headers"]["X-Meshwork-Signature"])
    assert request["json"]["kind"] == "incident.opened" and "email not null" in request["json"]["text"]
    assert request["json"]["data"]["cause"] == "check:email not null" and "recipients" not in request["json"]
    slack = [r["json"] for r in by_path["/slack"]]
    assert any("shop.orders" in s["text"] and s["blocks"][0]["text"]["type"] == "mrkdwn" for s in slack)
    assert "/teams" not in by_path  # the teams channel takes the ops domain only
    assert mesh.notifier.outbox.count("sent") == len(hook.requests)


def test_a_breaking_descriptor_change_is_notified_to_the_webhook(tmp_path, receivers, monkeypatch):
    monkeypatch.setenv("TEST_HOOK_SECRET", SECRET)
    root = build(tmp_path / "shop", channels=_channels(receivers, "hook"))
    catalog.open_mesh(root).changes.sync()  # the baseline
    product = root / "shop/products/orders.yaml"
    product.write_text(product.read_text().replace("  - {name: created_at, type: TIMESTAMP}\n", ""))
    receivers["hook"].requests.clear()
    mesh = catalog.open_mesh(root)
    mesh.monitor_pass()
    mesh.notifier.drain(10)
    changes = [r["json"] for r in receivers["hook"].requests if r["json"]["kind"] == "change.breaking"]
    assert len(changes) == 1 and changes[0]["product_id"] == "shop.orders"
    assert "created_at" in changes[0]["text"]
    mesh.monitor_pass(force=True)  # notified once, not on every pass
    mesh.notifier.drain(10)
    assert len([r for r in receivers["hook"].requests if r["json"]["kind"] == "change.breaking"]) == 1


def test_mail_goes_to_owner_and_downstream_owner_and_a_digest_batches(tmp_path, receivers):
    root = build(tmp_path / "shop", channels=_channels(receivers, "mail", "digest"))
    mailbox = receivers["mail"]
    mailbox.messages.clear()
    mesh = catalog.open_mesh(root)
    write_orders(root, null_emails=2)
    mesh.monitor_pass()
    mesh.notifier.drain(10)
    single = [(to, m) for to, m in mailbox.messages if "digest" not in m["Subject"]]
    recipients = sorted(to[0] for to, m in single if "shop.orders" in m["Subject"])
    assert OWNER in recipients and DOWNSTREAM in recipients  # the owner of ops.daily, which reads it
    assert "hr@shop.example" in [to[0] for to, m in single]  # each product's owner hears of their own
    message = next(m for to, m in single if to == [OWNER])
    assert "email not null" in message.get_content()
    mesh.notify(_event())
    mesh.notify(_event(ts="2026-12-01T00:00:01.000+00:00"))
    time.sleep(1.1)
    mesh.notifier.drain(10)
    digests = [(to, m) for to, m in mailbox.messages if m["Subject"].startswith("Meshwork digest")]
    oncall = [m for to, m in digests if to == ["oncall@shop.example"]]
    assert len(oncall) == 1 and "notifications" in oncall[0]["Subject"]


def test_a_dead_endpoint_is_retried_then_recorded_as_failed_with_the_reason(tmp_path, receivers):
    root = build(tmp_path / "shop", channels=_channels(receivers, "dead", "broken"))
    mesh = catalog.open_mesh(root)
    ids = mesh.notify(_event())
    assert len(ids) == 2
    mesh.notifier.drain(10)
    failed = {r["channel"]: r for r in mesh.notifier.outbox.frame("failed").iter_rows(named=True)}
    assert failed["dead"]["attempts"] == 3 and "cannot reach 127.0.0.1" in failed["dead"]["last_error"]
    assert "gave up after 3 attempts" in failed["dead"]["last_error"]
    assert failed["broken"]["attempts"] == 2
    assert "HTTP 500" in failed["broken"]["last_error"] and "receiver says no" in failed["broken"]["last_error"]
    assert len(receivers["broken"].requests) >= 2


def test_notify_never_waits_for_a_slow_endpoint(tmp_path, receivers):
    """The slow endpoint holds its answer until the test releases it: `notify` has returned, the sender has
    posted and is waiting, and only after the release is the row sent."""
    slow = receivers["slow"]
    root = build(tmp_path / "shop", channels=_channels(receivers, "slow"))
    mesh = catalog.open_mesh(root)
    mesh.notifier.start(poll_s=0.1)
    try:
        ids = mesh.notify(_event())
        assert len(ids) == 1
        assert not slow.answered.is_set() and mesh.notifier.outbox.count("sent") == 0
        assert slow.arrived.wait(20), "the background sender posts the event"
        assert not slow.answered.is_set() and mesh.notifier.outbox.count("sent") == 0
        slow.release.set()
        deadline = time.monotonic() + 20
        while mesh.notifier.outbox.count("sent") < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert mesh.notifier.outbox.count("sent") == 1 and slow.answered.is_set()
    finally:
        mesh.notifier.stop()


def test_an_unset_secret_is_a_failed_delivery_naming_the_variable(tmp_path, receivers, monkeypatch):
    monkeypatch.delenv("TEST_HOOK_SECRET", raising=False)
    root = build(tmp_path / "shop", channels=_channels(receivers, "hook").replace("}\n", ", retries: 0}\n"))
    mesh = catalog.open_mesh(root)
    mesh.notify(_event())
    mesh.notifier.drain(5)
    row = mesh.notifier.outbox.frame("failed").row(0, named=True)
    assert "TEST_HOOK_SECRET is not set" in row["last_error"]
    assert json.dumps(row).count(SECRET) == 0


def test_an_agreements_transitions_reach_the_webhook_for_its_owner_and_requester(tmp_path, receivers, monkeypatch):
    monkeypatch.setenv("TEST_HOOK_SECRET", SECRET)
    root = build(tmp_path / "shop", channels=_channels(receivers, "hook"))
    receivers["hook"].requests.clear()
    mesh = catalog.open_mesh(root)
    port = mesh.products["hr.salaries"].descriptor.ports.output[0].name if mesh.products[
        "hr.salaries"].descriptor.ports.output else "sql"
    agreement = mesh.agreements.request(DOWNSTREAM, "hr.salaries", port, "pay-gap report", days=30)
    mesh.agreements.reject(agreement.id, "hr@shop.example", "not for this purpose")
    mesh.notifier.drain(10)
    sent = [r["json"] for r in receivers["hook"].requests if r["json"]["kind"].startswith("agreement.")]
    assert [s["kind"] for s in sent] == ["agreement.request", "agreement.reject"]
    assert all(s["product_id"] == "hr.salaries" and s["data"]["agreement"] == agreement.id for s in sent)
    assert "not for this purpose" in sent[1]["text"] and "pay-gap report" in sent[0]["text"]
