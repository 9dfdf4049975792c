"""Data profile -> PII suggestions (names and value patterns) and quality-check suggestions."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from catalog.publish import profile
from catalog.descriptors.model import ProductDescriptor


@pytest.mark.parametrize("name, category", [
    ("customer_email", "email"), ("EMail", "email"), ("home_phone", "phone"), ("mobile", "phone"),
    ("ssn", "ssn"), ("date_of_birth", "birth_date"), ("dob", "birth_date"), ("street_address", "address"),
    ("zip_code", "address"), ("first_name", "name"), ("patient_name", "name"), ("iban", "account_number"),
    ("card_number", "account_number"), ("ip_address", "ip_address"), ("diagnosis_code", "health"),
    ("narrative", "free_text"), ("customer_id", "identifier"), ("patient_id", "identifier"),
])
def test_pii_is_suggested_from_column_names(name, category):
    assert profile.suggest_pii(name)[0] == category


@pytest.mark.parametrize("name", ["amount", "branch_id", "city", "status", "zipper_size", "description", "skip"])
def test_ordinary_names_are_not_pii(name):
    assert profile.suggest_pii(name) == (None, "")


@pytest.mark.parametrize("values, category", [
    (["ana@bank.example", "bo@mail.example", "cy@x.org"], "email"),
    (["123-45-6789", "987-65-4321", "555-12-3456"], "ssn"),
    (["+1 (555) 010-2000", "555-010-3000", "+44 20 7946 0958"], "phone"),
    (["10.0.0.1", "192.168.1.20", "8.8.8.8"], "ip_address"),
    (["4111 1111 1111 1111", "5500-0000-0000-0004", "4012888888881881"], "account_number"),
    (["DE89370400440532013000", "GB29NWBK60161331926819", "FR1420041010050500013M02606"], "account_number"),
])
def test_pii_is_suggested_from_value_patterns_under_neutral_names(values, category):
    category_found, why = profile.suggest_pii("col_a", pl.Series(values))
    assert category_found == category
    assert "100% of the values look like" in why


def test_value_patterns_need_most_values_to_match_and_luhn_for_cards():
    assert profile.suggest_pii("x", pl.Series(["a@b.example", "no", "nope", "none"]))[0] is None
    assert profile.suggest_pii("x", pl.Series(["1234 5678 9012 3456"] * 3))[0] is None  # fails the Luhn check
    assert profile.suggest_pii("x", pl.Series(["2026-01-01", "2026-01-02", "2026-01-03"]))[0] is None
    assert profile.suggest_pii("x", pl.Series([1, 2, 3]))[0] is None


def frame() -> pl.DataFrame:
    return pl.DataFrame({
        "order_id": ["O1", "O2", "O3", "O4", "O5", "O6"],
        "status": ["open", "closed", "open", "open", "closed", "open"],
        "amount": [10.0, 0.0, 3.5, 99.9, 1.0, 2.0],
        "discount_rate": [0.1, 0.0, 0.25, 0.5, 0.0, 0.05],
        "delta": [-1, 2, 3, 4, 5, 6],
        "note": ["a", None, "b", "c", "d", "e"],
        "updated_at": [datetime(2026, 11, d) for d in range(1, 7)],
    })


def test_profile_counts_nulls_distincts_and_bounds():
    p = profile.profile_frame(frame())
    assert p.rows == 6 and p.profiled_rows == 6
    note = p.column("note")
    assert note.nulls == 1 and note.distinct == 5
    assert p.column("amount").min == 0.0 and p.column("amount").max == 99.9
    assert p.column("status").values == ["closed", "open"]
    assert p.column("updated_at").type == "TIMESTAMP" and p.column("amount").type == "DOUBLE"
    assert p.frame().height == 7


def test_suggested_checks_are_the_ones_the_data_passes():
    checks = profile.suggest_checks(profile.profile_frame(frame()))
    by_kind = {}
    for c in checks:
        by_kind.setdefault(c["check"], []).append(c)
    assert by_kind["row_count"] == [{"check": "row_count", "min": 1}]
    assert {"check": "unique", "columns": ["order_id"]} in checks
    assert {"check": "accepted_values", "column": "status", "values": ["closed", "open"]} in checks
    assert {"check": "range", "column": "amount", "min": 0} in checks
    assert {"check": "range", "column": "discount_rate", "min": 0, "max": 1} in checks
    assert not any(c.get("column") == "delta" for c in by_kind["range"])          # negative values: no bound
    assert not any(c.get("column") == "note" for c in by_kind["not_null"])        # has a null
    ProductDescriptor.model_validate({"name": "x", "source": {"kind": "sql", "sql": "SELECT 1"},
                                      "quality": checks})  # every suggestion is a valid check


def test_no_uniqueness_is_claimed_from_a_sample_of_a_larger_source():
    p = profile.profile_frame(frame(), total_rows=1_000_000)
    assert not any(c["check"] == "unique" for c in profile.suggest_checks(p))


def test_sla_is_suggested_on_the_update_timestamp_only_while_the_data_keeps_it():
    fresh = datetime(2026, 11, 6, 12)  # the newest updated_at is 12 h old
    assert profile.suggest_sla(profile.profile_frame(frame()), now=fresh) == {"freshness_hours": 24,
                                                                               "timestamp_column": "updated_at"}
    assert profile.sla_note(profile.profile_frame(frame()), now=fresh) is None
    assert profile.suggest_sla(profile.profile_frame(frame().drop("updated_at")), now=fresh) == {}
    # a month later the same data would miss a 24 h SLA at once: none is proposed, and the note says why
    later = datetime(2026, 12, 6, 12)
    assert profile.suggest_sla(profile.profile_frame(frame()), now=later) == {}
    note = profile.sla_note(profile.profile_frame(frame()), now=later)
    assert note.startswith("no freshness SLA proposed: the newest updated_at (2026-11-06 00:00:00) is 30 days old")


def test_columns_inherit_pii_and_descriptions_from_upstream():
    from catalog.descriptors.model import Column

    p = profile.profile_frame(pl.DataFrame({"customer_id": ["C1"], "x": ["y"]}))
    inherited = {"x": Column(name="x", pii="health", description="Diagnosis text")}
    columns = {c.name: c for c in profile.suggest_columns(p, inherited)}
    assert columns["x"].pii_category == "health" and columns["x"].description == "Diagnosis text"
    assert columns["customer_id"].pii_category == "identifier"


def test_sql_types_of_polars_dtypes():
    assert profile.sql_type(pl.Int32()) == "INTEGER"
    assert profile.sql_type(pl.Datetime("us", "UTC")) == "TIMESTAMP WITH TIME ZONE"
    assert profile.sql_type(pl.Decimal(10, 2)) == "DECIMAL(10,2)"
    assert profile.sql_type(pl.List(pl.Int64)) == "VARCHAR"
