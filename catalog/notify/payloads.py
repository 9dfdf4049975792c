"""The bytes each channel kind sends: Meshwork's JSON, Slack's and Teams' incoming-webhook payloads, e-mail,
and the HMAC-SHA256 signature over a webhook body."""

from __future__ import annotations

import hashlib
import hmac
import json
from email.message import EmailMessage
from typing import Any

from catalog.notify.event import Event

SIGNATURE_HEADER = "X-Meshwork-Signature"


def sign(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of body>`: what a receiver recomputes with the shared secret to trust a call."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, body), signature or "")


def _headline(event: Event) -> str:
    where = f" · {event.product_id}" if event.product_id else ""
    return f"[{event.kind}]{where}: {event.title}"


def webhook_body(event: Event, delivery: int) -> dict[str, Any]:
    """Meshwork's own JSON: the event with a delivery id a receiver can de-duplicate on."""
    data = event.to_dict()
    data.pop("recipients")
    return {"delivery": delivery, **data}


def slack_body(event: Event) -> dict[str, Any]:
    """A Slack incoming-webhook message: `text` (the fallback) plus one mrkdwn section."""
    return {"text": _headline(event),
            "blocks": [{"type": "section", "text": {"type": "mrkdwn",
                                                     "text": f"*{_headline(event)}*\n{event.text}"}}]}


def teams_body(event: Event) -> dict[str, Any]:
    """A Teams incoming-webhook (Workflows) message: one Adaptive Card."""
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4",
            "body": [{"type": "TextBlock", "text": _headline(event), "weight": "Bolder", "wrap": True},
                     {"type": "TextBlock", "text": event.text, "wrap": True}]}
    return {"type": "message",
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}]}


def http_body(kind: str, event: Event, delivery: int) -> bytes:
    body = {"webhook": lambda: webhook_body(event, delivery), "slack": lambda: slack_body(event),
            "teams": lambda: teams_body(event)}[kind]()
    return json.dumps(body, sort_keys=True, default=str).encode()


def email(sender: str, recipient: str, events: list[Event]) -> EmailMessage:
    """One mail to one person: a single event, or a digest of several."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    if len(events) == 1:
        message["Subject"] = f"Meshwork {_headline(events[0])}"
        message.set_content(f"{events[0].text}\n\n{events[0].ts}\n")
    else:
        message["Subject"] = f"Meshwork digest: {len(events)} notifications"
        message.set_content("\n\n".join(f"{e.ts}  {_headline(e)}\n{e.text}" for e in events) + "\n")
    return message
