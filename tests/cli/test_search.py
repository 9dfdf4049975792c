"""`meshwork search` prints the ranked list; `meshwork duplicates` the likely copies."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from catalog.cli import app as cli

runner = CliRunner()


def run(*args):
    return runner.invoke(cli, [str(a) for a in args])


def test_search_prints_the_ranked_list_best_first(sample_copy):
    mesh = sample_copy("banking")
    result = run("search", mesh, "fraud alert")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].lstrip().startswith("1. risk.fraud_alerts")
    assert "description:" in lines[1] and "product(s)" in lines[-1]


def test_search_filters_by_domain_and_reads_typos(sample_copy):
    mesh = sample_copy("banking")
    result = run("search", mesh, "custmer", "--domain", "marketing", "--domain", "privacy", "--limit", "50")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("read 'custmer' as customer")
    ranked = [line.split()[1] for line in result.output.splitlines() if line[:5].strip().endswith(".")]
    assert ranked and all(pid.split(".")[0] in ("marketing", "privacy") for pid in ranked)


def test_search_json_has_hits_and_facets(sample_copy):
    result = run("search", sample_copy("supply_chain"), "", "--format", "json", "--limit", "100", "--pii")
    data = json.loads(result.output)
    assert data["total"] == len(data["hits"]) and data["facets"]["pii"] == {"yes": data["total"]}


def test_no_match_says_so_and_exits_1(sample_copy):
    result = run("search", sample_copy("banking"), "zzqqxx vvkkww")
    assert result.exit_code == 1 and "no product matches" in result.output


def test_bad_sort_and_missing_mesh_are_clear_errors(sample_copy, tmp_path):
    bad = run("search", sample_copy("banking"), "x", "--sort", "random")
    assert bad.exit_code == 2 and "unknown sort" in bad.output
    missing = run("search", tmp_path / "nope", "x")
    assert missing.exit_code == 2 and "no such folder" in missing.output


def test_duplicates_lists_the_seeded_copy(sample_copy):
    result = run("duplicates", sample_copy("supply_chain"))
    assert result.exit_code == 0, result.output
    assert "logistics.supplier_contacts  ~  procurement.suppliers" in result.output
