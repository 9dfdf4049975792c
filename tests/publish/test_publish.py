"""Self-serve publishing: CSV, Parquet, PostgreSQL and SQL sources, each then queried in a governed session;
refusals (path traversal, overwrite, bad uploads, unreachable database) leave the mesh folder untouched."""

from __future__ import annotations

import io
import os
from pathlib import Path

import polars as pl
import pytest

import catalog
from catalog.governance import policies as governance
from catalog.publish import publish as pub
from catalog.errors import PublishError, QueryRejected
from minimesh import MINI_STEWARD, build_steward_minimesh

OWNER = "ana.silva@bank.example"
STEWARD = MINI_STEWARD


@pytest.fixture
def minimesh(tmp_path, monkeypatch):
    """The mini mesh with a steward, who publishes here."""
    return build_steward_minimesh(tmp_path / "mini", monkeypatch)
CSV = (b"visit_id,branch_id,customer_email,minutes,channel,visited_at\n"
       b"V1,B1,ana@bank.example,12.5,walk_in,2026-11-01 09:00:00\n"
       b"V2,B2,bo@mail.example,3.0,appointment,2026-11-02 10:30:00\n"
       b"V3,B1,cy@bank.example,0,walk_in,2026-11-03 11:00:00\n"
       b"V4,B2,di@mail.example,7.25,walk_in,2026-11-03 12:15:00\n")


def tree(root: Path) -> list[tuple[str, bytes]]:
    """Every file under the mesh (state aside) with its content: to prove nothing was written."""
    return sorted((str(p.relative_to(root)), p.read_bytes()) for p in root.rglob("*")
                  if p.is_file() and ".meshwork" not in p.parts)


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


def test_csv_upload_becomes_a_product_queried_with_masking(minimesh):
    mesh = catalog.open_mesh(minimesh)
    draft = mesh.publisher.draft_from_upload(CSV, "visits.csv", domain="retail", name="branch_visits", owner=OWNER,
                                  description="Branch visits")
    columns = {c.name: c for c in draft.descriptor.columns}
    assert columns["customer_email"].pii_category == "email"
    assert columns["minutes"].type == "DOUBLE" and columns["visited_at"].type == "TIMESTAMP"
    checks = {(q.check, getattr(q, "column", None) or tuple(getattr(q, "columns", ())))
              for q in draft.descriptor.quality}
    assert ("unique", ("visit_id",)) in checks and ("accepted_values", "channel") in checks
    assert ("range", "minutes") in checks and ("not_null", "branch_id") in checks
    # the visits are from November 2026: a 24 h SLA would fail at once, so none is proposed, and the draft says why
    assert draft.descriptor.sla.freshness_hours is None
    assert any(n.startswith("no freshness SLA proposed: the newest visited_at") for n in draft.notes)
    result = mesh.publisher.publish(draft)
    assert result.data_path == (minimesh / "retail/data/branch_visits.csv").resolve()
    assert result.data_path.read_bytes() == CSV
    mesh = catalog.open_mesh(minimesh)
    assert not mesh.products["retail.branch_visits"].broken
    analyst = mesh.session(role="analyst", user="bo@bank.example").sql(
        "SELECT v.customer_email, b.city FROM retail.branch_visits v JOIN retail.branches b USING (branch_id) "
        "ORDER BY visit_id")
    assert analyst["customer_email"][0] == "***@bank.example" and analyst["city"][0] == "Lisbon"
    steward = mesh.session(role="steward").sql("SELECT sum(minutes) AS m FROM retail.branch_visits")
    assert steward["m"][0] == pytest.approx(22.75)


def test_csv_headers_with_spaces_are_normalized_in_the_view_too(minimesh):
    mesh = catalog.open_mesh(minimesh)
    draft = mesh.publisher.draft_from_upload(b"Branch Id,Full Name\nB1,Ana Silva\nB2,Bo Chen\n", "staff.csv",
                                  domain="retail", name="staff", owner=OWNER)
    assert [c.name for c in draft.descriptor.columns] == ["branch_id", "full_name"]
    assert draft.descriptor.columns[1].pii_category == "name"
    mesh.publisher.publish(draft)
    frame = catalog.open_mesh(minimesh).session(role="steward").sql("SELECT full_name FROM retail.staff")
    assert frame["full_name"].to_list() == ["Ana Silva", "Bo Chen"]


def test_parquet_upload_into_a_new_domain(minimesh):
    frame = pl.DataFrame({"device_id": ["D1", "D2", "D3"], "battery_pct": [88.0, 12.5, 50.0],
                          "ip": ["10.0.0.1", "10.0.0.2", "10.0.0.3"]})
    mesh = catalog.open_mesh(minimesh)
    draft = mesh.publisher.draft_from_upload(parquet_bytes(frame), "devices.parquet", domain="iot", name="devices",
                                  owner=OWNER)
    assert draft.creates_domain
    assert {c.name: c.pii_category for c in draft.descriptor.columns}["ip"] == "ip_address"
    result = mesh.publisher.publish(draft)
    assert result.created_domain
    mesh = catalog.open_mesh(minimesh)
    assert mesh.domains["iot"].owner == OWNER
    out = mesh.session(role="analyst").sql("SELECT device_id, battery_pct FROM iot.devices ORDER BY device_id")
    assert out["battery_pct"].to_list() == [88.0, 12.5, 50.0]


@pytest.mark.postgres
def test_postgres_table_is_published_in_place_and_queried(minimesh, pg_database, monkeypatch):
    import psycopg2

    con = psycopg2.connect(pg_database)
    with con, con.cursor() as cur:
        cur.execute("CREATE SCHEMA crm")
        cur.execute("CREATE TABLE crm.leads (lead_id int primary key, contact_email text, stage text)")
        cur.execute("INSERT INTO crm.leads VALUES (1, 'x@acme.example', 'new'), (2, 'y@acme.example', 'won'), "
                    "(3, 'z@acme.example', 'new'), (4, 'w@acme.example', 'lost')")
    con.close()
    monkeypatch.setenv("MESHWORK_TEST_LEADS_DSN", pg_database)
    mesh = catalog.open_mesh(minimesh)
    draft = mesh.publisher.draft_from_source("postgresql://x/y?table=crm.leads".replace(
        "postgresql://x/y", pg_database), domain="sales", name="leads", owner=OWNER)
    assert draft.descriptor.source.table == "leads" and draft.descriptor.source.db_schema == "crm"
    assert {c.name: c.pii_category for c in draft.descriptor.columns}["contact_email"] == "email"
    assert any("4 rows" in n for n in draft.notes)
    draft.descriptor.source.dsn = "${MESHWORK_TEST_LEADS_DSN}"   # secrets stay in the environment
    mesh.publisher.publish(draft)
    assert "${MESHWORK_TEST_LEADS_DSN}" in (minimesh / "sales/products/leads.yaml").read_text()
    out = catalog.open_mesh(minimesh).session(role="analyst").sql(
        "SELECT stage, count(*) AS n, min(contact_email) AS e FROM sales.leads GROUP BY stage ORDER BY stage")
    assert out["n"].to_list() == [1, 2, 1] and out["e"][0].startswith("***@")


@pytest.mark.postgres
def test_unreachable_database_and_missing_table_are_clear_errors(minimesh, pg_server):
    mesh = catalog.open_mesh(minimesh)
    before = tree(minimesh)
    with pytest.raises(PublishError, match=r"cannot reach PostgreSQL at postgresql://nobody:\*\*\*@127.0.0.1:1/x"):
        mesh.publisher.draft_from_postgres("postgresql://nobody:secret@127.0.0.1:1/x", "t", domain="s", name="t",
                                owner=OWNER)
    with pytest.raises(PublishError, match="no table public.nope"):
        mesh.publisher.draft_from_postgres(pg_server, "nope", domain="s", name="t", owner=OWNER)
    with pytest.raises(PublishError, match="name the table"):
        pub.parse_postgres_uri("postgresql://u@h/db")
    assert tree(minimesh) == before


def test_sql_over_products_inherits_pii_and_lineage(minimesh):
    mesh = catalog.open_mesh(minimesh)
    draft = mesh.publisher.draft_from_source("sql:SELECT customer_id, full_name, score FROM risk.customer_risk "
                                        "WHERE score > 600", domain="marketing", name="prime_customers", owner=OWNER)
    columns = {c.name: c for c in draft.descriptor.columns}
    assert columns["full_name"].pii_category == "name" and columns["customer_id"].key
    mesh.publisher.publish(draft)
    mesh = catalog.open_mesh(minimesh)
    assert mesh.upstreams("marketing.prime_customers") == {"risk.customer_risk"}
    out = mesh.session(role="analyst").sql("SELECT full_name FROM marketing.prime_customers ORDER BY score DESC")
    assert len(out) == 2 and not any("Silva" in n or "Chen" in n for n in out["full_name"])


def test_sql_that_the_gate_refuses_is_not_a_draft(minimesh):
    mesh = catalog.open_mesh(minimesh)
    with pytest.raises(QueryRejected):
        mesh.publisher.draft_from_sql("SELECT * FROM read_csv('/etc/passwd')", domain="x", name="y", owner=OWNER)
    with pytest.raises(PublishError, match="does not parse"):
        mesh.publisher.draft_from_sql("SELEC nonsense", domain="x", name="y", owner=OWNER)


@pytest.mark.parametrize("domain, name", [("..", "x"), ("retail", "../../etc/passwd"), ("retail", "Customers"),
                                           ("/tmp", "x"), ("retail", "a/b"), ("retail", "x" * 65)])
def test_invalid_names_are_refused_before_anything_is_read(minimesh, domain, name):
    mesh = catalog.open_mesh(minimesh)
    with pytest.raises(PublishError, match="invalid (domain|product) name"):
        mesh.publisher.draft_from_upload(CSV, "v.csv", domain=domain, name=name, owner=OWNER)


def test_a_symlinked_domain_folder_cannot_lead_outside_the_mesh(minimesh, tmp_path):
    outside = tmp_path / "outside"
    (outside / "products").mkdir(parents=True)
    (outside / "domain.yaml").write_text("name: evil\n")
    os.symlink(outside, minimesh / "evil")
    mesh = catalog.open_mesh(minimesh)
    draft = mesh.publisher.draft_from_upload(CSV, "v.csv", domain="evil", name="visits", owner=OWNER)
    with pytest.raises(PublishError, match="outside the mesh folder"):
        mesh.publisher.publish(draft)
    assert not (outside / "products" / "visits.yaml").exists() and not (outside / "data").exists()


def test_existing_product_is_replaced_only_by_a_higher_version(minimesh):
    mesh = catalog.open_mesh(minimesh)
    before = tree(minimesh)
    draft = mesh.publisher.draft_from_upload(CSV, "v.csv", domain="retail", name="customers", owner=OWNER)
    assert any("already exists" in n for n in draft.notes)
    with pytest.raises(PublishError, match=r"already exists \(version 1.0.0.*higher than 1.0.0"):
        mesh.publisher.publish(draft)
    same = mesh.publisher.draft_from_upload(CSV, "v.csv", domain="retail", name="customers", owner=OWNER, version="0.9")
    with pytest.raises(PublishError, match="already exists"):
        mesh.publisher.publish(same)
    assert tree(minimesh) == before
    newer = mesh.publisher.draft_from_upload(CSV, "v.csv", domain="retail", name="customers", owner=OWNER,
                                  version="2.0.0")
    result = mesh.publisher.publish(newer)
    assert result.data_path.name == "customers.csv"  # the old parquet file is left in place
    assert (minimesh / "retail/data/customers.parquet").exists()
    assert catalog.open_mesh(minimesh).products["retail.customers"].descriptor.version == "2.0.0"


def test_upload_is_stored_under_a_versioned_name_when_its_file_name_is_taken(minimesh):
    mesh = catalog.open_mesh(minimesh)
    mesh.publisher.publish(mesh.publisher.draft_from_upload(CSV, "v.csv", domain="retail", name="visits", owner=OWNER))
    mesh = catalog.open_mesh(minimesh)
    result = mesh.publisher.publish(mesh.publisher.draft_from_upload(CSV.replace(b"V4", b"V9"), "v.csv", domain="retail",
                                                     name="visits", owner=OWNER, version="1.1.0"))
    assert result.data_path.name == "visits-1.1.0.csv"
    assert (minimesh / "retail/data/visits.csv").read_bytes() == CSV
    ids = catalog.open_mesh(minimesh).session(role="steward").sql("SELECT visit_id FROM retail.visits")["visit_id"]
    assert "V9" in ids.to_list()


@pytest.mark.parametrize("data, filename, message", [
    (b"", "empty.csv", "is empty"),
    (b"a,b\n", "header_only.csv", "no data rows"),
    (b"PAR1 this is not really parquet PAR1", "fake.csv", "is a Parquet file, not CSV"),
    (b"id,name\n1,x\n", "claims.parquet", "is not a Parquet file"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image.csv", "not UTF-8|binary data"),
    (b"id,name\n1,x\n", "table.xlsx", "only .csv and .parquet"),
    (b"PAR1\x00\x00garbagePAR1", "broken.parquet", "cannot be read as PARQUET"),
    (b"id,amount\n1,2\n3,4,5,6\n7,8\n", "ragged.csv", r"ragged.csv:3: this row has 4 fields but the header has 2"),
])
def test_bad_uploads_are_refused_with_a_clear_message(minimesh, data, filename, message):
    mesh = catalog.open_mesh(minimesh)
    before = tree(minimesh)
    with pytest.raises(PublishError, match=message):
        mesh.publisher.draft_from_upload(data, filename, domain="retail", name="upload", owner=OWNER)
    assert tree(minimesh) == before


def test_size_limit_is_checked_before_reading(minimesh, tmp_path):
    mesh = catalog.open_mesh(minimesh)
    with pytest.raises(PublishError, match=r"over the 0 MB upload limit"):
        mesh.publisher.draft_from_upload(CSV, "v.csv", domain="retail", name="v", owner=OWNER, max_bytes=100)
    big = tmp_path / "big.csv"
    with big.open("wb") as handle:
        handle.truncate(pub.MAX_UPLOAD_BYTES + 1)   # sparse: no disk used, never read
    with pytest.raises(PublishError, match=r"100.0 MB, over the 100 MB upload limit"):
        mesh.publisher.draft_from_file(big, domain="retail", name="v", owner=OWNER)


def test_owner_must_be_an_email_and_blocking_policies_stop_the_write(minimesh):
    mesh = catalog.open_mesh(minimesh)
    with pytest.raises(PublishError, match="not an e-mail"):
        mesh.publisher.draft_from_upload(CSV, "v.csv", domain="retail", name="v", owner="the retail team")
    (minimesh / "retail/domain.yaml").write_text(
        "name: retail\nowner: retail-team@bank.example\npolicies:\n"
        "  - {id: docs, rule: has_description, severity: error}\n")
    mesh = catalog.open_mesh(minimesh)
    before = tree(minimesh)
    draft = mesh.publisher.draft_from_upload(CSV, "v.csv", domain="retail", name="visits", owner=OWNER, description="x")
    with pytest.raises(PublishError, match="(?s)breaks 1 policy.*docs: 6 column"):
        mesh.publisher.publish(draft)
    assert tree(minimesh) == before
    draft = mesh.publisher.describe_columns(draft, {c.name: f"the {c.name}" for c in draft.descriptor.columns})
    assert draft.blocking.is_empty()
    mesh.publisher.publish(draft)


def test_edited_yaml_is_validated_and_may_not_change_name_or_source(minimesh):
    mesh = catalog.open_mesh(minimesh)
    draft = mesh.publisher.draft_from_upload(CSV, "v.csv", domain="retail", name="visits", owner=OWNER)
    text = draft.yaml()
    edited = mesh.publisher.edit_draft(draft, text.replace("version: 1.0.0", "version: 1.0.0\ntags: [branch]"))
    assert edited.descriptor.tags == ["branch"]
    with pytest.raises(PublishError, match=r"retail/products/visits.yaml:\d+: columns.0.pii"):
        mesh.publisher.edit_draft(draft, text.replace("{name: visit_id, type: VARCHAR", "{name: visit_id, pii: bogus, "
                                                                                   "type: VARCHAR"))
    with pytest.raises(PublishError, match="source is set by"):
        mesh.publisher.edit_draft(draft, text.replace("data/visits.csv", "../../../etc/passwd"))
    with pytest.raises(PublishError, match="name is 'visits'"):
        mesh.publisher.edit_draft(draft, text.replace("name: visits", "name: other"))
    with pytest.raises(PublishError, match="invalid YAML"):
        mesh.publisher.edit_draft(draft, "name: [unclosed")


def test_descriptor_whose_data_does_not_fit_is_taken_back(minimesh):
    mesh = catalog.open_mesh(minimesh)
    draft = mesh.publisher.draft_from_upload(CSV, "v.csv", domain="retail", name="visits", owner=OWNER)
    before = tree(minimesh)
    draft.descriptor.source.options = {"delim": ";"}  # the view would see one column, not the declared six
    with pytest.raises(PublishError, match="declares column.*that its data does not have"):
        mesh.publisher.publish(draft)
    assert tree(minimesh) == before
    draft.descriptor.source.options = {}
    draft.upload = b""  # an empty file has none of the declared columns
    with pytest.raises(PublishError, match="declares column"):
        mesh.publisher.publish(draft)
    assert tree(minimesh) == before


def test_init_creates_a_mesh_with_default_roles_and_policies(tmp_path):
    root = pub.init_mesh(tmp_path / "New-Mesh")
    mesh = catalog.open_mesh(root)
    assert mesh.name == "new_mesh" and {"analyst", "steward"} <= set(mesh.roles)
    assert {p.rule for p in mesh.descriptor.policies} == set(governance.RULES)
    assert mesh.problems == []
    with pytest.raises(catalog.MeshError, match="already a mesh"):
        pub.init_mesh(root)


def test_a_product_derived_from_a_restricted_one_stays_restricted(minimesh):
    mesh = catalog.open_mesh(minimesh)
    draft = mesh.publisher.draft_from_sql("SELECT customer_id, credit_limit FROM risk.limits", domain="marketing",
                               name="limits_copy", owner=OWNER, role="steward")
    assert draft.descriptor.access.restricted and draft.descriptor.access.roles == ["risk_officer", "steward"]
    assert any("restricted products" in n for n in draft.notes)
    leaky = mesh.publisher.edit_draft(draft, draft.yaml().replace("restricted: true", "restricted: false"))
    before = tree(minimesh)
    with pytest.raises(PublishError, match="reads restricted data .*: it must be restricted"):
        mesh.publisher.publish(leaky)
    assert tree(minimesh) == before
    mesh.publisher.publish(draft)
    mesh = catalog.open_mesh(minimesh)
    assert "marketing.limits_copy" not in mesh.visible_products("analyst")
    with pytest.raises(catalog.MeshError):
        mesh.session(role="analyst").sql("SELECT * FROM marketing.limits_copy")


def test_a_file_already_under_the_mesh_is_published_in_place_without_a_copy(minimesh):
    mesh = catalog.open_mesh(minimesh)
    before = set((minimesh / "retail/data").iterdir())
    draft = mesh.publisher.draft_from_file(minimesh / "retail/data/branches.csv", domain="risk", name="branch_list",
                                owner=OWNER)
    assert draft.upload is None and draft.descriptor.source.path == "../retail/data/branches.csv"
    assert any("nothing copied" in n for n in draft.notes)
    mesh.publisher.publish(draft)
    assert set((minimesh / "retail/data").iterdir()) == before and not (minimesh / "risk/data/branch_list.csv").exists()
    out = catalog.open_mesh(minimesh).session(role="analyst").sql("SELECT city FROM risk.branch_list ORDER BY 1")
    assert out["city"].to_list() == ["Lisbon", "Porto"]


def test_a_file_under_a_data_root_has_no_size_limit_and_stays_there(minimesh, tmp_path):
    lake = tmp_path / "lake"
    lake.mkdir()
    pl.DataFrame({"sensor_id": [f"S{i}" for i in range(1000)], "reading": [float(i) for i in range(1000)]}) \
        .write_parquet(lake / "readings.parquet")
    (minimesh / "mesh.yaml").write_text((minimesh / "mesh.yaml").read_text() + f"data_roots: [{lake}]\n")
    mesh = catalog.open_mesh(minimesh)
    draft = mesh.publisher.draft_from_file(lake / "readings.parquet", domain="iot", name="readings", owner=OWNER,
                                max_bytes=10)
    assert draft.descriptor.source.path == str(lake / "readings.parquet")
    mesh.publisher.publish(draft)
    out = catalog.open_mesh(minimesh).session(role="analyst").sql("SELECT count(*) AS n FROM iot.readings")
    assert out["n"][0] == 1000


def test_a_failure_after_writing_takes_everything_back(minimesh, monkeypatch):
    """A crash-like failure at the last step (re-reading the mesh) leaves the folder as it was: a new domain's
    folders and domain.yaml are removed, a replaced descriptor is restored byte for byte."""
    mesh = catalog.open_mesh(minimesh)
    before = tree(minimesh)
    folders = sorted(p for p in minimesh.rglob("*") if p.is_dir() and ".meshwork" not in p.parts)

    def fail(root, product_id):
        raise PublishError("simulated failure while re-reading the mesh")

    monkeypatch.setattr(pub, "_verify", fail)
    new_domain = mesh.publisher.draft_from_upload(CSV, "v.csv", domain="branches", name="visits", owner=OWNER)
    with pytest.raises(PublishError, match="simulated"):
        mesh.publisher.publish(new_domain)
    newer = mesh.publisher.draft_from_upload(CSV, "v.csv", domain="retail", name="customers", owner=OWNER,
                                  version="2.0.0")
    with pytest.raises(PublishError, match="simulated"):
        mesh.publisher.publish(newer)
    assert tree(minimesh) == before
    assert sorted(p for p in minimesh.rglob("*") if p.is_dir() and ".meshwork" not in p.parts) == folders
    assert not list(minimesh.rglob("*.tmp"))


@pytest.mark.parametrize("sample", ["banking", "life_sciences", "supply_chain"])
def test_descriptor_yaml_round_trips_every_sample_product(sample):
    mesh = catalog.open_mesh(Path(__file__).resolve().parents[2] / "sample_data" / sample)
    for product in mesh.products.values():
        text = pub.descriptor_yaml(product.descriptor)
        assert pub.parse_descriptor(text).model_dump() == product.descriptor.model_dump(), product.id


def test_renamed_columns_keep_their_pii_class_through_the_column_lineage(minimesh):
    mesh = catalog.open_mesh(minimesh)
    draft = mesh.publisher.draft_from_sql("SELECT c.email AS contact, upper(c.full_name) AS display, count(*) AS n "
                                     "FROM retail.customers c GROUP BY ALL", domain="marketing", name="contacts",
                               owner=OWNER, role="analyst")
    columns = {c.name: c for c in draft.descriptor.columns}
    assert columns["contact"].pii_category == "email" and columns["contact"].description == "Email"
    assert columns["display"].pii_category == "name"
    assert not columns["n"].pii


def test_a_product_published_meanwhile_by_someone_else_is_not_overwritten(minimesh):
    mine = catalog.open_mesh(minimesh)
    theirs = catalog.open_mesh(minimesh)
    theirs.publisher.publish(theirs.publisher.draft_from_upload(CSV, "v.csv", domain="retail", name="visits", owner=OWNER))
    before = tree(minimesh)
    late = mine.publisher.draft_from_upload(CSV.replace(b"V1", b"X1"), "v.csv", domain="retail", name="visits",
                                 owner=OWNER)
    with pytest.raises(PublishError, match="published after this mesh was loaded"):
        mine.publisher.publish(late)
    assert tree(minimesh) == before
