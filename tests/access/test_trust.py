"""Trust signals: certification by owners that lapses below the domain's quality threshold; ratings, comments."""

from __future__ import annotations

import pytest

import catalog
from minimesh import write

OWNER = "ana.silva@bank.example"  # owns retail.customers and retail.branches


@pytest.fixture
def mesh(minimesh):
    write(minimesh / "retail/domain.yaml", "name: retail\nowner: retail-team@bank.example\nquality_threshold: 90\n")
    mesh = catalog.open_mesh(minimesh)
    yield mesh
    mesh.close()


def run(mesh, product_id: str, score: float) -> None:
    """A quality run as the checks record it (the trust desk reads the latest one)."""
    mesh.quality_runs.record(product_id, "1.0.0", None, score, True, 3.0, [])


def test_owner_certifies_with_who_and_when_and_it_shows_in_the_signals(mesh):
    run(mesh, "retail.customers", 96.0)
    signal = mesh.trust_desk.certify("retail.customers", "Ana.Silva@bank.example", "checked with the CRM team")
    assert signal.certified and not signal.lapsed and signal.certified_by == OWNER
    assert signal.certified_at.startswith(mesh.access.now()[:10])
    assert signal.badge == f"Certified by {OWNER}"
    frame = mesh.trust_signals()
    assert frame.columns[:8] == ["product_id", "certified", "certified_by", "certified_at", "lapsed", "score",
                                 "threshold", "rating_avg"]
    assert frame.filter(certified=True)["product_id"].to_list() == ["retail.customers"]
    audit = mesh.access.audit().row(-1, named=True)
    assert (audit["actor"], audit["action"], audit["product_id"]) == (OWNER, "trust.certify", "retail.customers")


def test_certification_lapses_when_the_latest_score_falls_below_the_domain_threshold(mesh):
    run(mesh, "retail.customers", 95.0)
    mesh.trust_desk.certify("retail.customers", OWNER)
    run(mesh, "retail.customers", 85.0)  # above the 80 default, below retail's 90
    signal = mesh.trust("retail.customers")
    assert not signal.certified and signal.lapsed and signal.score == 85.0 and signal.threshold == 90.0
    assert "lapsed" in signal.badge and "85" in signal.badge
    assert mesh.trust_signals().filter(lapsed=True)["product_id"].to_list() == ["retail.customers"]
    run(mesh, "retail.customers", 92.0)
    assert mesh.trust("retail.customers").certified


def test_certifying_is_refused_below_threshold_and_for_non_owners(mesh):
    run(mesh, "retail.branches", 70.0)
    with pytest.raises(catalog.MeshError, match="scores 70 .* below the 90"):
        mesh.trust_desk.certify("retail.branches", OWNER)
    with pytest.raises(catalog.AccessDenied, match="not an owner of retail.customers"):
        mesh.trust_desk.certify("retail.customers", "bo@bank.example")
    with pytest.raises(catalog.UnknownProduct):
        mesh.trust_desk.certify("retail.nope", OWNER)
    refusals = mesh.access.audit().filter(outcome="refused")
    assert refusals["actor"].to_list() == [OWNER, "bo@bank.example"]
    assert not mesh.trust_signals()["certified"].any()


def test_withdrawn_certification_is_no_longer_shown(mesh):
    mesh.trust_desk.certify("retail.branches", OWNER)
    mesh.trust_desk.uncertify("retail.branches", OWNER, "source moves next month")
    signal = mesh.trust("retail.branches")
    assert not signal.certified and not signal.lapsed and signal.certified_by is None


def test_ratings_are_one_per_user_and_comments_are_kept(mesh):
    mesh.trust_desk.rate("retail.customers", "bo@bank.example", 2)
    mesh.trust_desk.rate("retail.customers", "bo@bank.example", 4)  # changed mind: the latest counts
    mesh.trust_desk.rate("retail.customers", "zoe@bank.example", 5)
    mesh.trust_desk.comment("retail.customers", "bo@bank.example", "Segments are reliable; e-mails lag a day.")
    signal = mesh.trust("retail.customers")
    assert (signal.rating_avg, signal.ratings, signal.comments) == (4.5, 2, 1)
    assert mesh.trust_desk.comments("retail.customers")["text"].to_list() == ["Segments are reliable; e-mails lag a day."]
    with pytest.raises(catalog.MeshError, match="1 to 5 stars"):
        mesh.trust_desk.rate("retail.customers", "bo@bank.example", 6)
    with pytest.raises(catalog.MeshError, match="empty"):
        mesh.trust_desk.comment("retail.customers", "bo@bank.example", "   ")
    with pytest.raises(catalog.AccessDenied, match="Sign in"):
        mesh.trust_desk.rate("retail.customers", None, 3)
    ranked = mesh.trust_signals().sort("rating_avg", descending=True, nulls_last=True)
    assert ranked["product_id"][0] == "retail.customers"
