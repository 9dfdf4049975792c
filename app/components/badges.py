"""Grade badges and the score formula, shown wherever a quality score is (Discover, product cards, Scorecards)."""

from __future__ import annotations

from catalog.quality.scoring import FORMULA, cap_reason

GRADE_COLORS = {"A": "green", "B": "blue", "C": "orange", "D": "orange", "F": "red"}


def grade_badge(grade: str | None) -> str:
    """Streamlit markdown for a grade badge, e.g. `:green-badge[Quality A]`; a grey badge when unchecked."""
    if not grade:
        return ":gray-badge[Quality not checked]"
    return f":{GRADE_COLORS.get(grade, 'gray')}-badge[Quality {grade}]"


def score_help() -> str:
    """How the score is computed, for `help=` tooltips and captions beside every score."""
    return FORMULA


def latest_cap(mesh, product_id: str) -> str | None:
    """Why the product's latest stored grade is below what its score alone gives (a failing error-severity
    check), or None. Check names and statuses are shown to every viewer who sees the product."""
    runs = mesh.quality_runs.runs(product_id, limit=1)
    return cap_reason(runs[0]["score"], runs[0]["results"]) if runs else None
