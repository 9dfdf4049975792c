"""Numbers as people read them: SLAs and ages in days or hours, never '2160 h' or '96,000 h'."""

from __future__ import annotations

import pytest

from catalog.numbers import (format_percent, format_score, hours_text, moment_text, newest_row_text, rows_text,
                             source_changed_text)


@pytest.mark.parametrize(("hours", "said"), [
    (2160, "90 days"), (168, "7 days"), (48, "2 days"), (24, "1 day"), (36, "36 hours"), (50, "50 hours"),
    (1, "1 hour"), (1.55, "1.6 hours"), (12.37, "12 hours"), (0.5, "30 minutes"), (0.01, "1 minute"),
    (72.0001, "3 days"), (96_000, "4,000 days"), (200, "8.3 days"), (400, "17 days"),
])
def test_a_duration_is_said_in_the_unit_a_person_uses(hours, said):
    assert hours_text(hours) == said


def test_freshness_verdicts_say_the_age_and_the_sla_in_the_same_words():
    assert newest_row_text(96_000.4, 24) == "newest row is 4,000 days old; the SLA is 1 day"
    assert source_changed_text(5.2, 2) == "source last changed 5.2 hours ago; the SLA is 2 hours"


def test_scores_are_never_rounded_up_to_perfect_and_shares_are_whole_percents():
    assert [format_score(v) for v in (99.96, 100.0, 87.25, None)] == ["99.9", "100", "87.2", "–"]
    assert [format_percent(v) for v in (66.7, 0.4, None)] == ["67%", "0%", "–"]


def test_a_moment_reads_to_the_minute_in_utc():
    from datetime import datetime, timedelta, timezone

    assert moment_text("2026-12-01T09:00:59.123+00:00") == "2026-12-01 09:00 UTC"
    assert moment_text("2026-12-01T10:30:00+01:30") == "2026-12-01 09:00 UTC"
    assert moment_text(datetime(2026, 12, 1, 9, tzinfo=timezone(timedelta(hours=-5)))) == "2026-12-01 14:00 UTC"
    assert moment_text(datetime(2026, 12, 1, 9)) == "2026-12-01 09:00 UTC"  # stored naive: UTC
    assert moment_text(None) == "never" and moment_text("", never="not yet") == "not yet"
    assert moment_text("tomorrow-ish") == "tomorrow-ish"  # never hides what was stored


def test_a_count_of_rows_agrees_with_its_noun():
    assert [rows_text(n) for n in (0, 1, 2, 1000)] == ["0 rows", "1 row", "2 rows", "1,000 rows"]
