"""The page's frame: the sidebar is drawn after the page (so the heading is drawn first), and still drawn when a
page ends early or the mesh cannot open; what a link asked for and did not get is still said above the page."""

from __future__ import annotations

from tests.apptest import open_app, plain


def sidebar_pickers(at) -> list[str]:
    return [box.label for box in at.sidebar.selectbox]


def test_a_page_that_ends_early_still_draws_the_mesh_and_role_pickers(minimesh):
    at = open_app(minimesh, "views/product.py", {"product": "retail.nope"})
    assert not at.exception
    assert [t.value for t in at.title] == ["Product not found"]
    assert sidebar_pickers(at) == ["Mesh", "Role"]


def test_a_mesh_that_cannot_open_still_offers_the_mesh_picker(tmp_path):
    empty = tmp_path / "not-a-mesh"
    empty.mkdir()
    at = open_app(empty, "views/discover.py")
    assert not at.exception
    assert any("Cannot open the mesh" in e.value for e in at.error)
    assert "Mesh" in sidebar_pickers(at), "the person can pick another mesh"
    assert not at.title, "the page ended before its body"


def test_a_refused_role_in_a_link_is_noted_above_the_heading(minimesh):
    at = open_app(minimesh, "views/discover.py", {"role": "no_such_role"})
    assert not at.exception
    main = [node for node in at.main]
    kinds = [type(node).__name__ for node in main]
    note = next(i for i, node in enumerate(main) if "asks for a role you may not act as" in str(getattr(node, "value", "")))
    heading = kinds.index("Title")
    assert note < heading, kinds
    assert at.sidebar.selectbox(key="role").value != "no_such_role"


def test_the_role_picked_in_the_sidebar_is_the_one_the_page_used(minimesh):
    at = open_app(minimesh, "views/product.py", {"product": "retail.customers", "tab": "Sample rows"})
    roles = at.sidebar.selectbox(key="role").options
    other = next(r for r in roles if r != at.sidebar.selectbox(key="role").value)
    at.sidebar.selectbox(key="role").set_value(other).run()
    assert not at.exception
    assert at.query_params["role"] == other
    assert f"as the role **{other}** sees them" in plain(" ".join(c.value for c in at.caption)), "the sample is the new role's"


def test_no_page_stops_the_script_with_st_stop():
    """`st.stop()` would also stop the sidebar drawn after the page: pages end with `components.page.end()`."""
    from pathlib import Path

    app = Path(__file__).resolve().parents[2] / "app"
    users = [str(p.relative_to(app)) for p in app.rglob("*.py") if "st.stop(" in p.read_text().replace("`st.stop()`", "")]
    assert users == []
