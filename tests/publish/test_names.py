"""Names are validated in the model: product, domain and column names (and the columns checks name) are
identifiers, check names hold no markup, so no name reaches SQL, YAML or HTML carrying a payload."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

import catalog
from catalog.descriptors.model import Column, DomainDescriptor, MeshDescriptor, ProductDescriptor, Sla
from minimesh import write

PAYLOADS = ['<iframe srcdoc="<script>parent.alert(1)</script>">', "<img src=x onerror=alert(1)>", "javascript:alert(1)",
            "a\nb", "customers\n", "x'; DROP TABLE t; --", "name\u202e", "tab\tname", 'q"uote']
SQL = {"kind": "sql", "sql": "SELECT 1 AS a"}


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markup_in_product_domain_mesh_and_column_names_is_refused(payload):
    with pytest.raises(ValidationError):
        ProductDescriptor(name=payload, source=SQL)
    with pytest.raises(ValidationError):
        DomainDescriptor(name=payload)
    with pytest.raises(ValidationError):
        MeshDescriptor(name=payload)
    with pytest.raises(ValidationError):
        Column(name=payload)


@pytest.mark.parametrize("check", [
    {"check": "not_null", "column": PAYLOADS[0]}, {"check": "unique", "columns": ["a", PAYLOADS[1]]},
    {"check": "range", "column": "a\n", "min": 0}, {"check": "regex", "column": "<b>", "pattern": "x"},
    {"check": "accepted_values", "column": "a'", "values": [1]}, {"check": "freshness", "column": "<t>"},
    {"check": "references", "column": "a", "product": "risk.scores<script>"},
    {"check": "references", "column": "a", "product": "risk.scores", "to_column": '"x"'},
    {"check": "not_null", "column": "a", "name": "<script>alert(1)</script>"},
])
def test_checks_name_only_real_columns_products_and_plain_labels(check):
    with pytest.raises(ValidationError):
        ProductDescriptor(name="p", source=SQL, quality=[check])


def test_ordinary_names_still_validate():
    product = ProductDescriptor(name="customers_2", source=SQL, columns=[{"name": "Customer_ID"}],
                                quality=[{"check": "not_null", "column": "Customer_ID", "name": "id is set (no gaps)"},
                                         {"check": "references", "column": "a", "product": "risk.scores"}])
    assert product.quality[0].label == "id is set (no gaps)"
    with pytest.raises(ValidationError):
        Sla(timestamp_column="<ts>")


@given(st.text(max_size=30))
def test_any_accepted_name_is_a_plain_identifier(text):
    try:
        Column(name=text)
    except ValidationError:
        return
    assert text.isascii() and text.replace("_", "a").isalnum() and not text[0].isdigit()


def test_a_descriptor_with_a_markup_column_loads_as_a_located_problem(minimesh):
    write(minimesh / "retail/products/evil.yaml", """
        name: evil
        owner: ana.silva@bank.example
        source: {kind: csv, path: data/branches.csv}
        columns:
          - {name: branch_id, type: VARCHAR}
        quality:
          - {check: not_null, column: '<iframe srcdoc="<script>alert(1)</script>">'}
    """)
    mesh = catalog.open_mesh(minimesh)
    problem = next(p for p in mesh.problems if p.product_id == "retail.evil")
    assert problem.line == 7 and "letters, digits and _" in problem.message
    assert mesh.products["retail.evil"].broken and "retail.customers" in mesh.products
