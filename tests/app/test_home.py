"""Home page logic through Streamlit's AppTest."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from apptest import open_app

from minimesh import write



def run_app(mesh: Path, **state) -> AppTest:
    return open_app(mesh, timeout=60, **state)


def test_home_lists_domains_products_and_owners(minimesh):
    at = run_app(minimesh)
    assert not at.exception
    assert at.title[0].value == "Mini mesh"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Domains"] == "2" and metrics["Data products"] == "5" and metrics["Broken products"] == "0"
    cards = " ".join(m.value for m in at.markdown)
    assert "`retail`" in cards and "`risk`" in cards and "3 products" in cards
    assert at.success[0].value == "Every descriptor is valid."


def test_home_shows_broken_products_with_their_problems(minimesh):
    write(minimesh / "retail/products/broken.yaml", "name: broken\nowner: x@y.example\nsource: {kind: parquet}\n")
    at = run_app(minimesh)
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Broken products"] == "1"
    assert "1 broken product" in at.error[0].value
    problems = at.dataframe[-1].value
    row = problems[problems["product"].str.endswith("product=retail.broken")].iloc[0]  # a link to its page
    assert row["line"] == 3 and row["field"] == "source.path"


def test_a_folder_that_is_not_a_mesh_shows_a_message_not_a_traceback(tmp_path):
    at = run_app(tmp_path)
    assert not at.exception
    assert any("no mesh.yaml" in e.value for e in at.error)


def test_role_switcher_offers_the_mesh_roles(minimesh):
    at = run_app(minimesh)
    role_box = next(s for s in at.sidebar.selectbox if s.label == "Role")
    assert set(role_box.options) == {"analyst", "steward", "risk_officer"}


def test_home_has_search_most_used_and_certified_products(minimesh):
    import catalog

    mesh = catalog.open_mesh(minimesh)
    mesh.sql("SELECT * FROM retail.customers", role="analyst", user="ana@bank.example") if hasattr(mesh, "sql") else \
        mesh.session("analyst", "ana@bank.example").sql("SELECT * FROM retail.customers")
    at = run_app(minimesh)
    assert not at.exception
    assert any(t.label == "Search data products" for t in at.text_input)
    text = " ".join(m.value for m in at.markdown)
    assert "**Most used**" in text and "**Certified products**" in text
    links = [link.proto.label for link in at.get("page_link")]
    assert any("retail.customers" in label for label in links), links
    at.text_input(key="home_q").input("customers")
    at.button[0].click() if at.button else None
    at.run()
    assert not at.exception


def test_home_source_kind_chart_counts_whole_products_in_the_app_palette(minimesh):
    from catalog.charts import PALETTE

    at = run_app(minimesh)
    spec = at.get("arrow_vega_lite_chart")[0].proto.spec if at.get("arrow_vega_lite_chart") else \
        at.get("vega_lite_chart")[0].proto.spec
    assert '"tickMinStep": 1' in spec and '"format": "d"' in spec
    assert PALETTE[0] in spec
