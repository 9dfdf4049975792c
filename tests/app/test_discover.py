"""The Discover page through Streamlit's AppTest: search, typos, facets, sorts, bad input, duplicates."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from streamlit.testing.v1 import AppTest

from apptest import open_app

import catalog

APP = str(Path(__file__).resolve().parents[2] / "app" / "main.py")


def open_discover(mesh: Path, q: str | None = None, **state) -> AppTest:
    return open_app(mesh, "views/discover.py", {"q": q}, **state)


def result_links(at: AppTest) -> list[str]:
    """`product=<id>` of every product link (each link also carries the session's mesh and role)."""
    links = [dict(parse_qsl(p.proto.query_string)) for p in at.get("page_link")]
    return [f"product={link['product']}" for link in links if "product" in link]


def count_line(at: AppTest) -> str:
    return next(m.value for m in at.markdown if " product" in m.value and " ms" in m.value)


@pytest.fixture(scope="module")
def banking(tmp_path_factory):
    import shutil

    dest = tmp_path_factory.mktemp("discover") / "banking"
    shutil.copytree(Path(APP).parents[1] / "sample_data" / "banking", dest,
                    ignore=shutil.ignore_patterns(".meshwork"))
    return dest


def test_deep_link_query_ranks_the_product_first_with_its_card(banking):
    at = open_discover(banking, "fraud alert")
    assert not at.exception
    assert result_links(at)[0] == "product=risk.fraud_alerts"
    assert at.get("page_link")[0].proto.label == "Fraud alerts"
    card = " ".join(m.value for m in at.markdown)
    assert "-badge[Quality" in card
    assert "**Alerts** raised by the card **fraud** model" in card  # the matched snippet, words in bold
    caption = next(c.value for c in at.caption if "`risk.fraud_alerts`" in c.value)
    assert "domain **risk**" in caption and "refreshed" in caption and "in 30 days" in caption


def test_typing_a_typo_still_finds_the_product_and_says_how_it_was_read(banking):
    at = open_discover(banking)
    at.text_input(key="discover_q").input("custmers retail").run()
    assert not at.exception
    assert result_links(at)[0] == "product=retail.customers"
    assert any("custmers" in c.value and "customers" in c.value for c in at.caption)
    assert at.query_params["q"] == "custmers retail"


def test_empty_query_lists_every_product_the_role_may_find(banking):
    mesh = catalog.open_mesh(banking)
    visible = sorted(mesh.policy("analyst").listed)  # restricted ones listed, locked (discovery: listed)
    assert len(visible) == len(mesh.products)
    at = open_discover(banking, role="analyst")
    assert f"**{len(visible)}** products in the catalog" in count_line(at)
    assert len(result_links(at)) == 10  # a page of cards, then "Show more" for the rest
    at.button(key="discover_more").click().run()
    assert sorted(result_links(at)) == sorted(f"product={pid}" for pid in visible)
    # domain facet: options show counts, choosing one narrows the list
    facet = at.checkbox(key="facet_domain_marketing")
    assert facet.label == "marketing (5)"  # the count in sight, not inside a dropdown
    facet.check().run()
    links = result_links(at)
    assert len(links) == 5 and all(link.startswith("product=marketing.") for link in links)
    assert "with these filters" in count_line(at)


def test_pii_and_grade_facets_filter_the_results(banking):
    at = open_discover(banking, "customer")
    at.checkbox(key="facet_pii_no").check().run()
    assert not at.exception
    assert all(link in ("product=marketing.campaign_responses",) for link in result_links(at))
    at.checkbox(key="facet_pii_no").uncheck().run()
    at.checkbox(key="facet_grade_not checked").check().run()
    assert result_links(at) == ["product=marketing.campaign_responses"]


def test_sort_by_usage_reorders_the_results(banking):
    at = open_discover(banking, "customer")
    at.selectbox(key="discover_sort").select("usage").run()
    assert not at.exception
    captions = [c.value for c in at.caption if "in 30 days" in c.value]
    counts = [int(c.split(" quer")[0].rsplit("· ", 1)[-1]) for c in captions]
    assert counts == sorted(counts, reverse=True) and counts[0] > 0


@pytest.mark.parametrize("text", ["'; DROP TABLE docs; --", '"unclosed', ".*[(?", "x" * 10_000, "数据 ✓"])
def test_any_text_in_the_box_gives_results_or_an_empty_state(banking, text):
    at = open_discover(banking)
    at.text_input(key="discover_q").input(text).run()
    assert not at.exception
    assert result_links(at) or any("No product matches" in i.value for i in at.info)


def test_restricted_products_are_listed_locked_or_hidden_as_the_mesh_says(minimesh):
    analyst = open_discover(minimesh, "limits", role="analyst")
    assert "product=risk.limits" in result_links(analyst)
    assert any("Restricted: request access" in m.value for m in analyst.markdown), "a locked card"
    steward = open_discover(minimesh, "limits", role="steward")
    assert result_links(steward)[0] == "product=risk.limits"
    assert not any("Restricted: request access" in m.value for m in steward.markdown)
    (minimesh / "mesh.yaml").write_text((minimesh / "mesh.yaml").read_text() + "\ndiscovery: hidden\n")
    hidden = open_discover(minimesh, "limits", role="analyst")
    assert "product=risk.limits" not in result_links(hidden)


def test_duplicates_report_lists_the_seeded_copy_with_links(banking):
    at = open_discover(banking)
    at.toggle(key="discover_duplicates").set_value(True).run()
    assert not at.exception
    table = at.dataframe[-1].value
    assert len(table) == 1
    assert {table["product"][0], table["looks like"][0]} == {
        "./product?mesh=banking&role=analyst&product=marketing.customer_contacts",
        "./product?mesh=banking&role=analyst&product=retail.customers"}


def test_show_more_pages_through_a_larger_catalog(tmp_path):
    from catalog.samples.synthetic import build_synthetic_catalog

    mesh = build_synthetic_catalog(tmp_path / "synthetic", products=30)
    at = open_discover(mesh, role="steward")
    assert not at.exception
    assert len(result_links(at)) == 10
    at.button(key="discover_more").click().run()
    assert len(result_links(at)) == 20
    at.button(key="discover_more").click().run()
    assert len(result_links(at)) == 30 and not at.button


def test_the_compact_list_shows_one_row_per_product(banking):
    at = open_discover(banking, role="analyst")
    cards = result_links(at)
    at.button_group(key="discover_view").set_value("List").run() if hasattr(at, "button_group") else None
    if not at.dataframe:
        at.session_state["discover_view"] = "List"
        at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == len(cards) and {"title", "domain", "quality", "queries (30 d)"} <= set(table.columns)
    assert sorted(f"product={u.rsplit('product=', 1)[-1]}" for u in table["product"]) == sorted(cards)
    assert not result_links(at), "no cards beside the list"
