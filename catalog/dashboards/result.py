"""What one dashboard tile shows one viewer: its rows, or the message that replaces them, and how fresh."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from catalog.dashboards.model import TileSlot


@dataclass
class TileResult:
    """What one tile shows a viewer: its rows (or the message that replaces them) and how fresh they are."""

    slot: TileSlot
    frame: pl.DataFrame | None = None
    error: str | None = None
    total_rows: int = 0
    truncated: bool = False
    sql: str = ""
    products: list[str] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)
    not_applied: list[str] = field(default_factory=list)
    computed_at: datetime | None = None
    data_as_of: datetime | None = None
    stale: list[str] = field(default_factory=list)
    cached: bool = False
    duration_ms: float = 0.0

    @property
    def index(self) -> int:
        return self.slot.index

    @property
    def ok(self) -> bool:
        return self.error is None and self.frame is not None

    def freshness(self) -> str:
        """One line for the tile's footer: how old the data is and whether this view came from the cache."""
        parts = []
        if self.data_as_of is not None:
            parts.append(f"data as of {self.data_as_of:%Y-%m-%d %H:%M} UTC")
        if self.stale:
            parts.append("stale: " + ", ".join(self.stale))
        if self.computed_at is not None:
            parts.append(f"queried {self.computed_at:%H:%M:%S} UTC" + (" (cached)" if self.cached else ""))
        return " · ".join(parts)
