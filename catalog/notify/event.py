"""What is notified: one event (an incident opened or resolved, a breaking change, an agreement event)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from catalog.state.store import utc_now


@dataclass(frozen=True)
class Event:
    """`kind` is `<family>.<what>` (`incident.opened`, `change.breaking`, `agreement.approved`); the family is
    what a channel's `events:` selects. `recipients` are the people (e-mail addresses) it concerns: owners and
    subscribers; webhook channels ignore them, e-mail channels write to each."""

    kind: str
    title: str
    text: str
    product_id: str | None = None
    domain: str | None = None
    severity: str = "error"
    recipients: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)
    ts: str = field(default_factory=utc_now)

    @property
    def family(self) -> str:
        return self.kind.partition(".")[0]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["recipients"] = list(self.recipients)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Event":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["recipients"] = tuple(known.get("recipients") or ())
        return cls(**known)
