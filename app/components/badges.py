"""Grade badges and the score formula, shown wherever a quality score is (Discover, product cards, Scorecards)."""

from __future__ import annotations

from catalog.quality.scoring import FORMULA

GRADE_COLORS = {"A": "green", "B": "blue", "C": "orange", "D": "orange", "F": "red"}


def grade_badge(grade: str | None) -> str:
    """Streamlit markdown for a grade badge, e.g. `:green-badge[Quality A]`; a grey badge when unchecked."""
    if not grade:
        return ":gray-badge[Quality not checked]"
    return f":{GRADE_COLORS.get(grade, 'gray')}-badge[Quality {grade}]"


def score_help() -> str:
    """How the score is computed, for `help=` tooltips and captions beside every score."""
    return FORMULA
