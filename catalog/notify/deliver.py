"""Deliver one outbox row (or one digest) to its channel; a failure is a `DeliveryFailed` with a plain reason."""

from __future__ import annotations

import os
import re
import smtplib
import socket
import urllib.error
import urllib.request
from typing import Any

from catalog.descriptors.model import EmailChannel, WebhookChannel
from catalog.notify import payloads
from catalog.notify.event import Event

_ENV = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


class DeliveryFailed(Exception):
    """The endpoint refused or could not be reached; the message is what the outbox records."""


def expand(text: str) -> str:
    """`${NAME}` -> the environment variable (secrets stay out of mesh.yaml and out of the outbox)."""
    def one(match: re.Match[str]) -> str:
        value = os.environ.get(match.group(1))
        if value is None:
            raise DeliveryFailed(f"the environment variable {match.group(1)} is not set")
        return value
    return _ENV.sub(one, text)


def post(channel: WebhookChannel, event: Event, delivery: int) -> None:
    body = payloads.http_body(channel.kind, event, delivery)
    headers = {"Content-Type": "application/json", "User-Agent": "meshwork-notify",
               "X-Meshwork-Event": event.kind, "X-Meshwork-Delivery": str(delivery)}
    if channel.secret:
        headers[payloads.SIGNATURE_HEADER] = payloads.sign(expand(channel.secret), body)
    request = urllib.request.Request(expand(channel.url), data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=channel.timeout_s) as response:  # noqa: S310 (http/https only)
            response.read(1024)
    except urllib.error.HTTPError as exc:
        text = exc.read(200).decode("utf-8", "replace").strip()
        raise DeliveryFailed(f"HTTP {exc.code} {exc.reason}" + (f": {text}" if text else "")) from None
    except urllib.error.URLError as exc:
        raise DeliveryFailed(f"cannot reach {_host(channel.url)}: {exc.reason}") from None
    except (socket.timeout, TimeoutError):
        raise DeliveryFailed(f"no answer from {_host(channel.url)} within {channel.timeout_s:g} s") from None
    except OSError as exc:
        raise DeliveryFailed(f"cannot reach {_host(channel.url)}: {exc}") from None


def _host(url: str) -> str:
    return url.split("//", 1)[-1].split("/", 1)[0] if "${" not in url else "the webhook"


def mail(channel: EmailChannel, recipient: str, events: list[Event]) -> None:
    message = payloads.email(channel.sender, recipient, events)
    try:
        with smtplib.SMTP(channel.smtp_host, channel.smtp_port, timeout=channel.timeout_s) as smtp:
            if channel.starttls:
                smtp.starttls()
            if channel.username:
                smtp.login(expand(channel.username), expand(channel.password or ""))
            smtp.send_message(message)
    except smtplib.SMTPResponseException as exc:
        detail = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        raise DeliveryFailed(f"SMTP {exc.smtp_code}: {detail}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryFailed(f"SMTP refused the recipient {recipient}: {_first(exc.recipients)}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryFailed(f"cannot send mail via {channel.smtp_host}:{channel.smtp_port}: {exc}") from None


def _first(recipients: dict[str, Any]) -> str:
    for code, text in recipients.values():
        return f"{code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"
    return "refused"
