"""How numbers read for people, in the app, the CLI, reviews and check messages alike: a score never rounded up
to a perfect 100, a share as a whole percent, a duration in the unit a person says (an SLA of 2160 h is "90
days", a moment "2026-12-01 09:00 UTC"). One module, so a page and the message a check stored say a number the same way."""

from __future__ import annotations

from datetime import datetime, timezone


def format_score(value: float | None) -> str:
    """99.9 stays 99.9 (never rounded up to a perfect 100); 100.0 prints as 100; None as '–'."""
    if value is None:
        return "–"
    shown = f"{value:.1f}"
    if shown == "100.0" and value < 100:  # 99.96 would print as 100: a check failed somewhere
        return "99.9"
    return shown.removesuffix(".0")


def format_percent(value: float | None) -> str:
    """A share in percent, whole: 66.7 prints as 67%; None (nothing to measure) as '–'."""
    return "–" if value is None else f"{value:.0f}%"


def rows_text(count: int) -> str:
    """'1 row', '1,000 rows'."""
    return f"{count:,} row{'' if count == 1 else 's'}"


def hours_text(hours: float) -> str:
    """A duration in the unit a person says: 2160 h -> '90 days', 48 h -> '2 days', 36 h -> '36 hours',
    0.5 h -> '30 minutes', an age of 96,000 h -> '4,000 days'."""
    if hours < 1:
        minutes = round(hours * 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    days = hours / 24
    if hours >= 24 * 7 or hours >= 48 and round(days, 1) == round(days):  # 72.0001 h (an age) is '3 days'
        shown = f"{days:,.0f}" if round(days, 1) == round(days) or days >= 10 else f"{days:.1f}"
        return f"{shown} day{'s' if shown != '1' else ''}"
    if hours == 24:
        return "1 day"
    shown = f"{hours:.0f}" if hours >= 10 else f"{round(hours, 1):g}"
    return f"{shown} hour{'s' if shown != '1' else ''}"


def newest_row_text(age_hours: float, sla_hours: float) -> str:
    """A freshness verdict by the data's own timestamps: 'newest row is 4,000 days old; the SLA is 1 day'."""
    return f"newest row is {hours_text(age_hours)} old; the SLA is {hours_text(sla_hours)}"


def source_changed_text(age_hours: float, sla_hours: float) -> str:
    """A freshness verdict by the source's change time: 'source last changed 3 days ago; the SLA is 1 day'."""
    return f"source last changed {hours_text(age_hours)} ago; the SLA is {hours_text(sla_hours)}"


def moment_text(value: object, never: str = "never") -> str:
    """A stored moment as a person reads it, to the minute and in UTC: '2026-12-01T09:00:00.000+00:00' and
    datetime(2026, 12, 1, 9) both read '2026-12-01 09:00 UTC'; None reads `never`. A moment with another offset
    is converted to UTC; a naive one is taken as UTC, as Meshwork stores them."""
    if value is None or value == "":
        return never
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")
