"""Score formula: severity weights, pass fractions, whole checks, rounding down, grades, domain score."""

from __future__ import annotations

from datetime import datetime

import pytest

import catalog
from catalog.numbers import format_percent, format_score
from catalog.quality.scoring import FORMULA, domain_cap_reason, domain_grade, domain_score, grade, score_results
from qualitymesh import build_quality_mesh


def result(kind="not_null", severity="error", status="pass", failing=0, rows=100):
    return {"kind": kind, "severity": severity, "status": status, "failing": failing, "rows": rows}


def test_all_checks_passing_scores_100_and_no_checks_scores_nothing():
    assert score_results([result(), result(severity="info")]).value == 100.0
    empty = score_results([])
    assert empty.value is None and empty.grade is None and empty.label == "not scored"


def test_row_checks_lose_their_failing_share_weighted_by_severity():
    # error (3) with 10 of 100 rows failing earns 2.7; warning (2) passing earns 2 -> 4.7 / 5
    assert score_results([result(status="fail", failing=10), result(severity="warning")]).value == 94.0


def test_uniqueness_row_count_and_freshness_fail_as_a_whole():
    for kind in ("unique", "row_count", "freshness"):
        s = score_results([result(kind=kind, status="fail", failing=1), result(severity="error")])
        assert s.value == 50.0, kind


def test_an_errored_check_is_left_out_and_marks_the_score_incomplete():
    s = score_results([result(), result(status="error", failing=None, rows=None)])
    assert s.value == 100.0 and s.complete is False
    assert s.label == "100 (A, incomplete)"


def test_a_single_failing_row_in_many_never_shows_a_perfect_score():
    s = score_results([result(status="fail", failing=1, rows=1_000_000)])
    assert s.value == 99.9 and format_score(s.value) == "99.9"


@pytest.mark.parametrize("score,letter", [(100, "A"), (90, "A"), (89.9, "B"), (80, "B"), (79.9, "C"),
                                          (70, "C"), (60, "D"), (59.9, "F"), (0, "F"), (None, None)])
def test_grade_boundaries(score, letter):
    assert grade(score) == letter


def test_domain_score_is_the_mean_of_scored_products():
    assert domain_score([90.0, 70.0, None]) == 80.0
    assert domain_score([99.9, 100.0]) == 99.9  # rounded down: a failing product keeps the domain below 100
    assert domain_score([None]) is None


def test_the_shop_orders_score_worked_out_by_hand(tmp_path):
    mesh = catalog.open_mesh(build_quality_mesh(tmp_path / "shop"), state_dir=tmp_path / "state")
    report = mesh.checker.run("shop.orders", now=datetime(2026, 11, 26, 12))
    # weights: 7 error checks (3) + 2 warnings (2) + 1 info (1) = 26 over the 10 declared checks that ran,
    # + the 2 schema checks (error, passing: columns present, declared types) = 32;
    # earned: email 3×6/8 + order_id 0 + (customer_id, status) 0 + status 2×6/8 + amount 3×6/8 + code 1×7/8
    #         + row count 0 + freshness 0 + references 3×6/8 + expression 3×7/8 + schema 3 + 3 = 17.75
    assert report.score == 55.4  # 100 × 17.75 / 32 = 55.47, rounded down
    assert report.grade == "F" and report.complete is False


def test_the_formula_text_names_every_rule_the_code_applies():
    for words in ("error 3, warning 2, info 1", "1 − failing rows ÷ rows", "as a whole", "incomplete",
                  "A ≥ 90", "Domain score = mean", "rounded down"):
        assert words in FORMULA


def test_the_readme_states_the_formula_the_code_computes():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert FORMULA in readme


def test_a_failing_error_check_caps_the_grade_at_b_and_says_why():
    # 1 of 1,000 rows failing an error check scores 99.9: the score stays honest, the grade does not say A
    s = score_results([{**result(status="fail", failing=1, rows=1000), "name": "id not null"}, result()])
    assert s.value == 99.9 and s.grade == "B"
    assert s.label == "99.9 (B, capped)" and "id not null" in s.capped
    assert grade(99.9, [{"name": "x", "severity": "error", "status": "fail"}]) == "B"
    # a failing warning does not cap; nor does a failing error check on a score already below A
    assert grade(99.9, [{"name": "x", "severity": "warning", "status": "fail"}]) == "A"
    assert grade(85.0, [{"name": "x", "severity": "error", "status": "fail"}]) == "B"
    assert grade(55.0, [{"name": "x", "severity": "error", "status": "fail"}]) == "F"
    assert "B at best" in FORMULA


def test_a_domain_with_a_product_failing_an_error_check_is_capped_at_b_and_says_which():
    assert domain_grade(95.0, {"risk.scores": ["score in range"]}) == "B"
    reason = domain_cap_reason(95.0, {"risk.scores": ["score in range"], "risk.loans": []})
    assert reason.startswith("Graded B, not A") and "risk.scores (score in range)" in reason
    assert "risk.loans" not in reason
    # nothing failing, or a score already below A: the grade is the score's, with no reason
    assert domain_grade(95.0, {"risk.loans": []}) == "A" and domain_cap_reason(95.0, {}) is None
    assert domain_grade(85.0, {"risk.scores": ["x"]}) == "B" and domain_cap_reason(85.0, {"risk.scores": ["x"]}) is None
    assert domain_grade(None, {"risk.scores": ["x"]}) is None
    assert "domain with a product failing an error-severity check is graded B at best" in FORMULA


def test_format_percent_is_whole_and_says_when_nothing_was_measured():
    assert format_percent(66.66) == "67%" and format_percent(100.0) == "100%" and format_percent(0.0) == "0%"
    assert format_percent(None) == "–"
