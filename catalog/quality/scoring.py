"""Quality score (0–100) and grade of a product and of a domain, from check results weighted by severity.

The formula is stated once, in `FORMULA`; the README, the CLI and the app print this text
beside every score, so what people read is what the code computes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from catalog.numbers import format_score

SEVERITY_WEIGHTS: dict[str, float] = {"error": 3.0, "warning": 2.0, "info": 1.0}
"""How much one check counts in the score, by its declared severity."""

GRADES: tuple[tuple[float, str], ...] = ((90.0, "A"), (80.0, "B"), (70.0, "C"), (60.0, "D"), (0.0, "F"))
"""Lowest score of each grade."""

FORMULA = (
    "Quality score = 100 × Σ weight × pass fraction ÷ Σ weight, over the checks that ran. "
    "Weights by severity: error 3, warning 2, info 1. A row check's pass fraction is "
    "1 − failing rows ÷ rows (so 1 bad row in 1,000 costs little, half the rows bad costs half); "
    "row count, freshness, uniqueness and the schema checks (declared columns present, declared types) "
    "pass or fail as a whole (1 or 0). "
    "The score is rounded down to one decimal, so any failing check shows below 100. "
    "An errored check (missing column, bad expression, unreachable source) is left out and marks the "
    "score incomplete. Grade: A ≥ 90, B ≥ 80, C ≥ 70, D ≥ 60, else F; a product with a failing check of "
    "severity error is graded B at best (one broken promise outweighs many kept ones). "
    "Domain score = mean of its products' latest scores, rounded down (products never checked are left out); "
    "a domain with a product failing an error-severity check is graded B at best too."
)

WHOLE_CHECKS = frozenset({"row_count", "freshness", "unique", "schema_columns", "schema_types", "schema_undeclared",
                          "source"})
"""Check kinds that pass or fail as a whole: one duplicate key breaks every join on it, one missing column every
query that names it."""


CAPPED_GRADE = "B"
"""The best grade of a product with a failing error-severity check, whatever its score."""


def failing_errors(results: Iterable[Any] | None) -> list[str]:
    """Names of the failing checks of severity error among `results` (objects or dicts)."""
    return [str(_get(r, "name", "")) for r in results or ()
            if _get(r, "status") == "fail" and _get(r, "severity", "error") == "error"]


def grade(score: float | None, results: Iterable[Any] | None = None) -> str | None:
    """Letter grade of a 0–100 score (None for no score); given the run's check results, a failing
    error-severity check caps it at `CAPPED_GRADE`, so "A" never sits beside a broken promise."""
    if score is None:
        return None
    letter = next(letter for floor, letter in GRADES if score >= floor)
    if letter == "A" and failing_errors(results):
        return CAPPED_GRADE
    return letter


def cap_reason(score: float | None, results: Iterable[Any] | None) -> str | None:
    """Why the grade is lower than the score alone gives (None when it is not capped)."""
    failing = failing_errors(results)
    if score is None or not failing or grade(score) != "A":
        return None
    names = ", ".join(failing[:3]) + (" …" if len(failing) > 3 else "")
    return f"Graded {CAPPED_GRADE}, not A: the error-severity check {names} fails"


def domain_grade(score: float | None, failing: Mapping[str, Iterable[str]]) -> str | None:
    """A domain's grade from its score, capped at `CAPPED_GRADE` like a product's when one of its products
    (`failing`: product id -> names of its failing error-severity checks) breaks an error-severity promise."""
    letter = grade(score)
    return CAPPED_GRADE if letter == "A" and any(list(n) for n in failing.values()) else letter


def domain_cap_reason(score: float | None, failing: Mapping[str, Iterable[str]]) -> str | None:
    """Why a domain's grade is lower than its score alone gives (None when it is not capped)."""
    broken = {product: list(names) for product, names in failing.items() if list(names)}
    if score is None or not broken or grade(score) != "A":
        return None
    shown = "; ".join(f"{product} ({', '.join(names[:2])}{' …' if len(names) > 2 else ''})"
                      for product, names in list(broken.items())[:3]) + (" …" if len(broken) > 3 else "")
    return (f"Graded {CAPPED_GRADE}, not A: {'a product fails' if len(broken) == 1 else 'products fail'} an "
            f"error-severity check: {shown}")


def pass_fraction(kind: str, status: str, failing: int | None, rows: int | None) -> float:
    """Share of the check that passed: 0..1 (see FORMULA)."""
    if status == "pass":
        return 1.0
    if kind in WHOLE_CHECKS or not rows or failing is None:
        return 0.0
    return max(0.0, 1.0 - failing / rows)


@dataclass(frozen=True)
class Score:
    """A product's score: value (None when no check ran), grade, and whether every check ran."""

    value: float | None
    grade: str | None
    complete: bool
    weight: float
    capped: str | None = None  # why the grade is below the score's (a failing error-severity check)

    @property
    def label(self) -> str:
        if self.value is None:
            return "not scored"
        notes = ("" if self.complete else ", incomplete") + (", capped" if self.capped else "")
        return f"{format_score(self.value)} ({self.grade}{notes})"


def _get(obj: Any, name: str, default: Any = None) -> Any:
    return obj.get(name, default) if isinstance(obj, Mapping) else getattr(obj, name, default)


def score_results(results: Iterable[Any]) -> Score:
    """Score check results (objects or dicts with kind, severity, status, failing, rows)."""
    total = earned = 0.0
    complete = True
    results = list(results)
    for result in results:
        status = _get(result, "status")
        if status == "error":
            complete = False
            continue
        weight = SEVERITY_WEIGHTS.get(_get(result, "severity", "error"), 1.0)
        total += weight
        earned += weight * pass_fraction(_get(result, "kind"), status, _get(result, "failing"),
                                         _get(result, "rows"))
    if total == 0:
        return Score(None, None, complete, 0.0)
    value = math.floor(1000.0 * earned / total + 1e-9) / 10  # rounded down: a failing check never shows 100
    return Score(value, grade(value, results), complete, total, cap_reason(value, results))


def domain_score(product_scores: Iterable[float | None]) -> float | None:
    """Mean of the products' latest scores, products without a score left out (see FORMULA)."""
    values = [s for s in product_scores if s is not None]
    return math.floor(10 * sum(values) / len(values) + 1e-9) / 10 if values else None
