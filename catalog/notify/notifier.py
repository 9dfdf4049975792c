"""`Notifier.notify(event)`: route an event to the channels mesh.yaml configures, through the outbox; and the
background sender that delivers, retries with backoff, and records what failed."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Callable

from catalog.descriptors.model import EmailChannel, MeshDescriptor, WebhookChannel, duration_seconds
from catalog.notify import deliver
from catalog.notify.event import Event
from catalog.notify.outbox import Outbox, OutboxRow

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Notifier:
    """Routes events to channels (`notify`) and delivers the outbox (`send_due`, or `start` a sender thread)."""

    def __init__(self, descriptor: MeshDescriptor, outbox: Outbox, clock: Clock | None = None):
        self.channels = {c.name: c for c in descriptor.channels}
        self.outbox = outbox
        self.clock = clock or _now
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ raising

    def notify(self, event: Event) -> list[int]:
        """Queue `event` for every channel that takes its family (and its domain); returns the outbox ids.
        Never waits on an endpoint: delivery is the sender's job."""
        items: list[tuple[str, Event, str | None, bool]] = []
        for channel in self.channels.values():
            if event.family not in channel.events or (channel.domains and event.domain not in channel.domains):
                continue
            if isinstance(channel, EmailChannel):
                for person in dict.fromkeys([*event.recipients, *channel.to]):
                    items.append((channel.name, event, person, channel.digest is not None))
            else:
                items.append((channel.name, event, None, False))
        ids = self.outbox.put(items, self.clock()) if items else []
        if ids:
            self._wake.set()
        return ids

    # ------------------------------------------------------------------ sending

    def send_due(self) -> int:
        """Deliver every row due now (and every digest whose period ended); returns how many rows were settled."""
        with self._lock:
            settled = 0
            now = self.clock()
            for channel in self.channels.values():
                if isinstance(channel, EmailChannel) and channel.digest:
                    held = self.outbox.claim_digests(channel.name, now - timedelta(seconds=duration_seconds(
                        channel.digest)), now)
                    for recipient, rows in held.items():
                        settled += self._attempt(channel, rows, lambda c=channel, r=recipient, rs=rows:
                                                 deliver.mail(c, r, [x.event for x in rs]))
            for row in self.outbox.claim_due(now):
                channel = self.channels.get(row.channel)
                if channel is None:
                    self.outbox.failed([row.id], f"no channel named {row.channel!r} in mesh.yaml any more")
                    settled += 1
                    continue
                if isinstance(channel, WebhookChannel):
                    send = lambda c=channel, r=row: deliver.post(c, r.event, r.id)  # noqa: E731
                else:
                    send = lambda c=channel, r=row: deliver.mail(c, r.recipient or "", [r.event])  # noqa: E731
                settled += self._attempt(channel, [row], send)
            return settled

    def _attempt(self, channel: WebhookChannel | EmailChannel, rows: list[OutboxRow], send: Callable[[], None]) -> int:
        ids = [r.id for r in rows]
        try:
            send()
        except deliver.DeliveryFailed as exc:
            attempts = max(r.attempts for r in rows)
            if attempts > channel.retries:
                self.outbox.failed(ids, f"{exc} (gave up after {attempts} attempt{'s' * (attempts != 1)})")
                return len(ids)
            wait = channel.backoff_s * 2 ** (attempts - 1)
            self.outbox.retry(ids, self.clock() + timedelta(seconds=wait), str(exc))
            return 0
        self.outbox.sent(ids, self.clock())
        return len(ids)

    def drain(self, timeout_s: float = 30.0) -> int:
        """Send until nothing is pending (digests wait for their period) or `timeout_s` passes; for the CLI's
        one-shot commands and tests. Returns how many rows are still pending."""
        deadline = self.clock() + timedelta(seconds=timeout_s)
        while True:
            self.send_due()
            due = self.outbox.next_due()
            if due is None or self.clock() >= deadline:
                return self._pending()
            wait = (datetime.fromisoformat(due) - self.clock()).total_seconds()
            if self.clock() + timedelta(seconds=max(wait, 0)) > deadline:
                return self._pending()
            if wait > 0:
                self._stop.wait(min(wait, 1.0))

    def _pending(self) -> int:
        return self.outbox.count("pending")

    # ------------------------------------------------------------------ the background sender

    def start(self, poll_s: float = 5.0) -> None:
        """Run the sender on a daemon thread: woken by each `notify`, and every `poll_s` for retries."""
        if self._thread is not None or not self.channels:
            return

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.send_due()
                except Exception:  # noqa: BLE001 - a broken row must not stop the sender; it is retried later
                    pass
                self._wake.wait(poll_s)
                self._wake.clear()

        self._thread = threading.Thread(target=loop, name="meshwork-notify", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
