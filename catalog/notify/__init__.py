"""Notifications: one `Notifier.notify(event)` entry, a durable outbox, and a background sender.

`notify` only writes the event to the outbox (one short transaction) and wakes the sender, so it never
blocks a query or a monitor pass on a slow endpoint. The sender delivers each row to its channel (a signed
JSON webhook, a Slack- or Teams-compatible incoming webhook, or e-mail over SMTP, optionally as a digest),
retries with exponential backoff, and records a row that still fails as `failed` with the reason.
"""

from catalog.notify.event import Event
from catalog.notify.notifier import Notifier

__all__ = ["Event", "Notifier"]
