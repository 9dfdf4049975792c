"""The loader reads glossary/*.yaml and checks every `terms:` link: an unknown term, an unknown related term, a
cycle of related terms and a term declared twice are problems with the file and line."""

from __future__ import annotations

import catalog
from minimesh import write

GLOSSARY = """
terms:
  - name: Customer
    definition: A person who holds a product with the bank.
    synonyms: [client]
    status: approved
  - name: Credit score
    definition: The bureau's score of creditworthiness.
    abbreviations: [CS]
    related: [customer]
    status: approved
"""


def _problems(root, path_part):
    mesh = catalog.open_mesh(root, state_dir=root.parent / "state")
    return mesh, [p for p in mesh.problems if path_part in p.path]


def test_glossary_terms_load_with_ids_from_their_names(minimesh):
    write(minimesh / "glossary/bank.yaml", GLOSSARY)
    mesh = catalog.open_mesh(minimesh, state_dir=minimesh.parent / "state")
    assert set(mesh.declared.terms) == {"customer", "credit_score"}
    assert mesh.declared.terms["credit_score"].abbreviations == ["CS"]
    assert not [p for p in mesh.problems if "glossary" in p.path or "terms" in p.field]


def test_a_column_linking_an_undefined_term_is_a_problem_with_file_and_line(minimesh):
    write(minimesh / "glossary/bank.yaml", GLOSSARY)
    product = minimesh / "retail/products/customers.yaml"
    text = product.read_text().replace("  - name: customer_id\n", "  - name: customer_id\n    terms: [customre]\n", 1)
    if text == product.read_text():  # columns written as flow mappings
        text = product.read_text().replace("{name: customer_id,", "{name: customer_id, terms: [customre],", 1)
    product.write_text(text)
    mesh, problems = _problems(minimesh, "customers.yaml")
    [problem] = [p for p in problems if "customre" in p.message]
    assert problem.field == "columns.0.terms" and problem.line is not None
    line = product.read_text().splitlines()[problem.line - 1]
    assert "customre" in line or "terms" in line
    assert "not define" in problem.message and str(problem).startswith(str(product))
    assert not mesh.products["retail.customers"].broken  # a bad link is reported; the data stays readable


def test_a_product_linking_an_undefined_term_without_a_glossary_says_so(minimesh):
    product = minimesh / "retail/products/customers.yaml"
    product.write_text(product.read_text() + "terms: [exposure]\n")
    _, problems = _problems(minimesh, "customers.yaml")
    [problem] = [p for p in problems if "exposure" in p.message]
    assert problem.field == "terms" and "no glossary" in problem.message
    assert problem.line == len(product.read_text().splitlines())


def test_a_cycle_of_related_terms_is_a_problem_naming_the_cycle(minimesh):
    write(minimesh / "glossary/bank.yaml", GLOSSARY.replace(
        "    synonyms: [client]\n", "    synonyms: [client]\n    related: [credit_score]\n"))
    _, problems = _problems(minimesh, "bank.yaml")
    [cycle] = [p for p in problems if "cycle" in p.message]
    assert "credit_score" in cycle.message and "customer" in cycle.message
    assert cycle.field == "related" and cycle.line == 10  # the related list of the first term, by id


def test_unknown_related_terms_duplicates_and_bad_fields_are_located(minimesh):
    write(minimesh / "glossary/bank.yaml", GLOSSARY + """
  - name: Customer
    definition: again
  - name: Exposure
    definition: What the bank may lose.
    related: [loss_given_default]
  - name: Bad
    definiton: typo
""")
    _, problems = _problems(minimesh, "bank.yaml")
    messages = {p.message: p for p in problems}
    twice = next(p for m, p in messages.items() if "declared twice" in m)
    assert twice.line == 12
    related = next(p for m, p in messages.items() if "loss_given_default" in m)
    assert related.line == 16
    unknown = next(p for p in problems if p.field.endswith("definiton"))
    assert unknown.line == 18 and "unknown field" in unknown.message
