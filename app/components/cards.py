"""The search result card: what a business user needs to pick the right product at a glance."""

from __future__ import annotations

from datetime import datetime, timezone

import streamlit as st

from catalog.discover.search import Hit
from components.badges import grade_badge
from components.links import product_link
from components.text import code, md

TREND = {"up": ":green[↑ rising]", "down": ":orange[↓ falling]", "flat": "→ steady", "new": ":blue[new]",
         "stopped": ":red[stopped]", "none": ""}


def highlighted(text: str, marks: list[tuple[int, int]]) -> str:
    """`text` with the matched spans in bold, everything else escaped."""
    out, at = [], 0
    for start, end in sorted(marks):
        if start < at:
            continue
        out += [md(text[at:start]), f"**{md(text[start:end])}**"]
        at = end
    out.append(md(text[at:]))
    return "".join(out)


def ago(moment: datetime | None) -> str:
    """'3 days ago', 'just now', or 'unknown'."""
    if moment is None:
        return "unknown"
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    seconds = (datetime.now(timezone.utc) - moment).total_seconds()
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def usage_text(queries: int, trend: str) -> str:
    label = TREND.get(trend, "")
    return f"{queries} quer{'y' if queries == 1 else 'ies'} in 30 days" + (f" · {label}" if label else "")


def result_card(hit: Hit, key: str, locked: bool = False) -> None:
    """Title (links to the product page), domain, owner, grade, last refresh, usage trend, matched snippet."""
    with st.container(border=True, key=f"card_{key}"):
        top = st.columns([5, 2])
        with top[0]:
            product_link(hit.product_id, label=f"{hit.title or hit.product_id}")
        badges = [grade_badge(None if hit.grade == "not checked" else hit.grade)]
        if locked:
            badges.append(":orange-badge[:material/lock: Restricted: request access]")
        if hit.certified:
            badges.append(":green-badge[:material/verified: Certified]")
        if hit.pii:
            badges.append(":violet-badge[PII]")
        if hit.status not in ("active", ""):
            badges.append(f":red-badge[{md(hit.status)}]" if hit.status == "broken" else f":gray-badge[{md(hit.status)}]")
        top[1].markdown(" ".join(badges))
        rating = f" · ★ {hit.rating:.1f}" if hit.rating else ""
        st.caption(f"{code(hit.product_id)} · domain **{md(hit.domain)}** · owner {md(hit.owner)} · "
                   f"refreshed {ago(hit.refreshed_at)} · {usage_text(hit.queries, hit.trend)}{rating}")
        if hit.snippet:
            where = "" if hit.snippet_field in ("description", "") else f"*{md(hit.snippet_field)}* — "
            st.markdown(f"{where}{highlighted(hit.snippet, hit.marks)}")
