"""The loader reports every bad descriptor as a problem with its file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

import catalog
from minimesh import write

GOOD_SOURCE = "source: {kind: parquet, path: data/customers.parquet}\n"

# (file name, YAML text, expected field, expected line, words the message must contain)
BROKEN = [
    ("bad_yaml", "name: bad_yaml\nsource: {kind: parquet, path: [\n", "", 3, "invalid YAML"),
    ("typo_field", "name: typo_field\nowner: a@b.example\ndescripton: oops\n" + GOOD_SOURCE,
     "descripton", 3, "unknown field"),
    ("no_source", "name: no_source\nowner: a@b.example\n", "source", 1, "required field is missing"),
    ("bad_type", "name: bad_type\n" + GOOD_SOURCE + "columns:\n  - name: a\n    type: INT\n  - name: b\n"
     "    pii: [1]\n", "columns.1.pii", 7, ""),
    ("bad_kind", "name: bad_kind\nsource:\n  kind: excel\n  path: x.xlsx\n", "source", 2, "unknown kind"),
    ("missing_file", "name: missing_file\nsource:\n  kind: parquet\n  path: data/nope.parquet\n",
     "source.path", 4, "not found"),
    ("outside", "name: outside\nsource:\n  kind: csv\n  path: /etc/passwd\n", "source.path", 4, "outside"),
    ("unknown_upstream", "name: unknown_upstream\nsource:\n  kind: sql\n  sql: SELECT * FROM retail.nope\n",
     "source.sql", 4, "retail.nope"),
    ("bad_sql", "name: bad_sql\nsource:\n  kind: sql\n  sql: SELEC FROM WHERE\n", "source.sql", 4, "does not parse"),
    ("bad_check", "name: bad_check\n" + GOOD_SOURCE + "quality:\n  - check: range\n    column: a\n",
     "quality.0", 4, "range check needs"),
    ("bad_regex", "name: bad_regex\n" + GOOD_SOURCE + "quality:\n  - check: regex\n    column: a\n"
     "    pattern: '(['\n", "quality.0.pattern", 6, "does not compile"),
    ("Bad-Name", "name: Bad-Name\n" + GOOD_SOURCE, "name", 1, ""),
]


@pytest.fixture
def broken_mesh(minimesh: Path) -> Path:
    for stem, text, *_ in BROKEN:
        write(minimesh / "retail" / "products" / f"{stem}.yaml", text)
    return minimesh


@pytest.mark.parametrize("stem,text,field,line,words", BROKEN, ids=[b[0] for b in BROKEN])
def test_each_broken_descriptor_is_a_problem_with_its_line(broken_mesh, stem, text, field, line, words):
    mesh = catalog.open_mesh(broken_mesh)
    mine = [p for p in mesh.problems if Path(p.path).stem == stem and p.severity == "error"]
    assert mine, f"no problem reported for {stem}: {mesh.problems}"
    problem = mine[0]
    assert problem.line == line, problem
    assert problem.field == field, problem
    assert words in str(problem)
    assert str(problem).startswith(f"{problem.path}:{line}:")


def test_good_products_still_load_beside_broken_ones(broken_mesh):
    mesh = catalog.open_mesh(broken_mesh)
    assert not mesh.products["retail.customers"].broken
    rows = mesh.session("steward").sql("SELECT count(*) AS n FROM retail.customers")
    assert rows["n"][0] == 3


def test_broken_products_are_listed_not_dropped(broken_mesh):
    mesh = catalog.open_mesh(broken_mesh)
    assert mesh.products["retail.typo_field"].broken
    assert mesh.products["retail.typo_field"].owner == "a@b.example"
    assert mesh.products["retail.missing_file"].broken
    with pytest.raises(catalog.MeshError) as refused:  # refused as broken, naming why, not as unknown
        mesh.session("steward").sql("SELECT * FROM retail.missing_file")
    assert "retail.missing_file is broken" in str(refused.value) and "not found" in str(refused.value)


def test_duplicate_id_is_reported_on_the_second_file(minimesh):
    write(minimesh / "retail/products/customers_copy.yaml", "name: customers\n" + GOOD_SOURCE)
    mesh = catalog.open_mesh(minimesh)
    dup = [p for p in mesh.problems if "duplicate product id" in p.message]
    assert len(dup) == 1 and dup[0].path.endswith("customers_copy.yaml") and dup[0].line == 1


def test_cycle_marks_every_member_broken(minimesh):
    write(minimesh / "risk/products/a.yaml", "name: a\nsource: {kind: sql, sql: SELECT * FROM risk.b}\n")
    write(minimesh / "risk/products/b.yaml", "name: b\nsource: {kind: sql, sql: SELECT * FROM risk.a}\n")
    mesh = catalog.open_mesh(minimesh)
    cycle = [p for p in mesh.problems if "dependency cycle" in p.message]
    assert {Path(p.path).stem for p in cycle} == {"a", "b"}
    assert mesh.products["risk.a"].broken and mesh.products["risk.b"].broken
    assert all(p.line == 2 for p in cycle)


def test_broken_upstream_breaks_the_derived_product(minimesh):
    (minimesh / "risk/data/scores.sqlite").unlink()
    mesh = catalog.open_mesh(minimesh)
    assert mesh.products["risk.scores"].broken
    assert mesh.products["risk.customer_risk"].broken
    assert any("upstream product risk.scores is broken" in p.message for p in mesh.problems_of("risk.customer_risk"))


def test_not_a_mesh_raises_a_clear_error(tmp_path):
    with pytest.raises(catalog.MeshNotFound, match="no mesh.yaml"):
        catalog.open_mesh(tmp_path)
    with pytest.raises(catalog.MeshNotFound, match="no such folder"):
        catalog.open_mesh(tmp_path / "nowhere")


def test_invalid_mesh_yaml_still_loads_the_domains(minimesh):
    write(minimesh / "mesh.yaml", "name: mini\nroles: [oops]\n")
    mesh = catalog.open_mesh(minimesh)
    assert any(p.path.endswith("mesh.yaml") and p.line == 2 for p in mesh.problems)
    assert "retail.customers" in mesh.products
    assert {"analyst", "steward"} <= set(mesh.roles)


def test_loading_writes_nothing_to_the_descriptors(broken_mesh):
    before = {p: p.read_bytes() for p in broken_mesh.rglob("*.yaml")}
    catalog.open_mesh(broken_mesh).session("analyst").sql("SELECT 1 AS x FROM retail.customers")
    assert {p: p.read_bytes() for p in broken_mesh.rglob("*.yaml")} == before


def test_validate_cli_prints_compiler_style_and_exits_nonzero(broken_mesh):
    from typer.testing import CliRunner

    from catalog.cli import app

    result = CliRunner().invoke(app, ["validate", str(broken_mesh)])
    assert result.exit_code == 1
    assert f"{broken_mesh}/retail/products/typo_field.yaml:3: descripton: unknown field" in result.output


def test_validate_cli_exits_zero_on_a_clean_mesh(minimesh):
    from typer.testing import CliRunner

    from catalog.cli import app

    result = CliRunner().invoke(app, ["validate", str(minimesh)])
    assert result.exit_code == 0, result.output
