"""The Product page through Streamlit's AppTest: deep link, overview, schema, sample rows masked per role,
quality, usage, one-hop lineage, duplicates, descriptor download and the workbench link."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from apptest import open_app

import catalog

APP = str(Path(__file__).resolve().parents[1] / "app" / "main.py")


def open_product(mesh: Path, product: str | None, tab: str | None = None, **state) -> AppTest:
    return open_app(mesh, "views/product.py", {"product": product or None, "tab": tab}, **state)


def sample_rows(at: AppTest):
    return next(d.value for d in at.dataframe if "email" in d.value.columns and "ssn" in d.value.columns)


@pytest.fixture(scope="module")
def banking(tmp_path_factory):
    dest = tmp_path_factory.mktemp("product") / "banking"
    shutil.copytree(Path(APP).parents[1] / "sample_data" / "banking", dest, ignore=shutil.ignore_patterns(".meshwork"))
    return dest


def test_deep_link_shows_overview_schema_and_descriptor(minimesh):
    at = open_product(minimesh, "retail.customers")
    assert not at.exception
    assert at.title[0].value == "Retail customers"
    text = " ".join(m.value for m in at.markdown)
    assert "ana.silva@bank.example" in text and "`retail`" in text and "v1.0.0" in text
    schema = next(d.value for d in at.dataframe if "PII" in d.value.columns)
    assert list(schema["column"]) == ["customer_id", "full_name", "email", "ssn", "age"]
    assert schema.set_index("column").loc["ssn", "PII"] == "ssn"
    assert at.query_params["product"] == "retail.customers"
    assert not at.code, "only the open tab is drawn"
    descriptor = open_product(minimesh, "retail.customers", tab="Descriptor")
    code = descriptor.code[0].value
    assert code.strip() == (minimesh / "retail/products/customers.yaml").read_text().strip()
    assert not [d for d in descriptor.dataframe if "PII" in d.value.columns], "the schema tab is not drawn"
    assert descriptor.query_params["tab"] == "Descriptor"


def test_analyst_sees_sample_rows_masked_and_steward_sees_them_raw(minimesh):
    analyst = sample_rows(open_product(minimesh, "retail.customers", "Sample rows", role="analyst"))
    steward = sample_rows(open_product(minimesh, "retail.customers", "Sample rows", role="steward"))
    assert "ana@bank.example" in set(steward["email"]) and "123-45-6789" in set(steward["ssn"])
    assert "ana@bank.example" not in set(analyst["email"]) and "123-45-6789" not in set(analyst["ssn"])
    assert "Ana Silva" not in set(analyst["full_name"]) and list(analyst["age"]) == list(steward["age"])
    assert any("masked" in c.value and "analyst" in c.value for c in
               open_product(minimesh, "retail.customers", "Sample rows", role="analyst").caption)


def test_restricted_product_is_refused_to_a_role_it_does_not_name(minimesh):
    analyst = open_product(minimesh, "risk.limits", role="analyst")
    assert not analyst.exception
    assert any("restricted" in w.value for w in analyst.warning)
    assert analyst.title[0].value != "risk.limits" and "Credit limits" not in analyst.title[0].value
    officer = open_product(minimesh, "risk.limits", role="risk_officer")
    assert not officer.warning and "risk.limits" in " ".join(m.value for m in officer.markdown)


def test_unknown_product_warns_and_shows_another(minimesh):
    at = open_product(minimesh, "retail.nope")
    assert not at.exception
    assert any("No product `retail.nope`" in w.value for w in at.warning)
    assert at.selectbox(key="product_pick").value in catalog.open_mesh(minimesh).products


def test_open_in_workbench_carries_a_ready_query(minimesh):
    at = open_product(minimesh, "risk.scores", role="analyst")
    button = next(b for b in at.get("link_button") if b.proto.label == "Open in workbench")
    assert button.proto.url.startswith("./workbench?sql=SELECT")
    assert "risk.scores" in button.proto.url.replace("%2E", ".") and "role=analyst" in button.proto.url


def test_lineage_lists_one_hop_up_and_down_with_links(minimesh):
    at = open_product(minimesh, "retail.customers", "Lineage")
    links = [p.proto.query_string for p in at.get("page_link")]
    assert "product=risk.customer_risk" in links
    assert at.get("graphviz_chart")


def test_quality_usage_and_duplicates_of_a_sample_product(banking):
    def tab(label: str) -> AppTest:
        at = open_product(banking, "marketing.customer_contacts", label, role="analyst")
        assert not at.exception
        return at

    quality = {m.label: m.value for m in tab("Quality").metric}
    assert quality["Grade"] in "ABCDF" and float(quality["Quality score"]) > 0
    assert "Queries (30 days)" in {m.label for m in tab("Usage").metric}
    duplicates = tab("Possible duplicates")
    links = [p.proto.label for p in duplicates.get("page_link")]
    assert any(label.startswith("retail.customers ·") and "similar" in label for label in links)
    assert any(c.value.startswith("7 shared columns") for c in duplicates.caption)
    assert any(b.proto.label == "Download descriptor" for b in tab("Descriptor").get("download_button"))
