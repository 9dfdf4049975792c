"""What the engine itself holds against an analyst: no masking key in any SQL text, a connection that reads
only its products' files, derived products that never show more than their upstreams, declared columns only."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import duckdb
import pytest

import catalog
from catalog.errors import QueryFailed, QueryRejected
from catalog.query.masking import TOKEN_FUNCTION
from minimesh import build_minimesh, write
from tests.query.test_gate import RAW_EMAILS, RAW_NAMES, RAW_SSNS

RAW = RAW_EMAILS | RAW_NAMES | RAW_SSNS


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    return build_minimesh(tmp_path / "mini")


def _derived(root: Path, name: str, sql: str, columns: str, domain: str = "risk") -> None:
    body = "\n".join(f"            {line}" for line in sql.strip().splitlines())
    write(root / f"{domain}/products/{name}.yaml", f"""
        name: {name}
        description: A derived product written by a publisher.
        owner: rui.costa@bank.example
        source:
          kind: sql
          sql: |
{body}
        columns:
{columns}
    """)


def _texts(frame) -> set[str]:
    return {str(v) for row in frame.rows() for v in row if v is not None}


def _encodings(raw: set[str]) -> set[str]:
    """The raw values and the ways SQL can re-type them: reversed, hex, base64, md5, sha256, upper, lower."""
    out = set()
    for value in raw:
        b = value.encode()
        out |= {value, value[::-1], value.upper(), value.lower(), b.hex(), b.hex().upper(),
                base64.b64encode(b).decode(), hashlib.md5(b).hexdigest(), hashlib.sha256(b).hexdigest()}
        if "@" in value:
            local, domain = value.split("@", 1)
            out |= {local, f"{domain}@{local}"}
    return out


# ---------------------------------------------------------------- the masking key


def test_the_masking_key_is_in_no_view_definition_and_tokens_still_join(mini):
    mesh = catalog.open_mesh(mini)
    key = mesh.salt
    for role in ("analyst", "steward", "risk_officer"):
        database = mesh.engine.database(role)
        database.ensure(set(database.visible))
        definitions = database.con.execute("SELECT sql FROM duckdb_views() WHERE NOT internal").fetchall()
        assert definitions and all(key not in sql for (sql,) in definitions)
        assert all("md5" not in sql.lower() for (sql,) in definitions)
    analyst = mesh.session("analyst")
    token = analyst.sql("SELECT customer_id FROM retail.customers WHERE age = 34").item()
    assert token.startswith("tok_") and len(token) == 20 and token != "C1"
    assert analyst.sql("SELECT customer_id FROM risk.scores WHERE score = 700").item() == token
    assert analyst.sql("SELECT customer_id FROM risk.customer_risk WHERE score = 700").item() == token
    joined = analyst.sql("SELECT count(*) AS n FROM retail.customers c JOIN risk.customer_risk r USING (customer_id)")
    assert joined["n"][0] == 3
    # the old scheme (md5 of a key and the value) is not what the tokens are
    assert token != "tok_" + hashlib.md5((key + "C1").encode()).hexdigest()[:16]


def test_tokens_depend_on_the_mesh_key(mini, tmp_path):
    one = catalog.open_mesh(mini).session("analyst").sql("SELECT customer_id FROM retail.customers WHERE age = 34")
    other = catalog.open_mesh(mini, state_dir=tmp_path / "other-state").session("analyst")
    assert other.sql("SELECT customer_id FROM retail.customers WHERE age = 34").item() != one.item()


@pytest.mark.parametrize("call", [
    f"SELECT {TOKEN_FUNCTION}('C1') AS t",
    f"SELECT {TOKEN_FUNCTION}(customer_id) AS t FROM retail.customers",
    f"SELECT * FROM retail.customers WHERE customer_id = {TOKEN_FUNCTION}('C1')",
])
def test_user_sql_cannot_compute_tokens(mini, call):
    with pytest.raises(QueryRejected, match=TOKEN_FUNCTION):
        catalog.open_mesh(mini).session("analyst").sql(call)


def test_a_derived_product_cannot_call_the_token_function_or_read_around_views(mini):
    _derived(mini, "oracle", f"SELECT {TOKEN_FUNCTION}('C1') AS t, age FROM retail.customers",
             "          - {name: t, type: VARCHAR}\n          - {name: age, type: INTEGER}")
    _derived(mini, "file_reader", "SELECT * FROM read_parquet('retail/data/customers.parquet') x "
             "JOIN retail.customers c USING (age)", "          - {name: email, type: VARCHAR}")
    mesh = catalog.open_mesh(mini)
    for product, reason in (("risk.oracle", TOKEN_FUNCTION), ("risk.file_reader", "read_parquet")):
        for role in ("analyst", "steward"):
            if product not in mesh.session(role).visible_products():
                continue
            with pytest.raises(QueryFailed, match=reason):
                mesh.session(role).sql(f"SELECT * FROM {product}")


# ---------------------------------------------------------------- what a connection may read


def _raw_cursor_refuses(mesh, role: str, sql: str) -> None:
    cursor = mesh.engine.database(role).cursor()
    try:
        with pytest.raises(duckdb.Error, match="(?i)permission|disabled|cannot access"):
            cursor.execute(sql).fetchall()
    finally:
        cursor.close()


def test_a_connection_reads_only_its_products_files_never_the_state_folder(mini):
    mesh = catalog.open_mesh(mini)
    mesh.session("analyst").sql("SELECT count(*) FROM retail.customers")  # the store (holding the key) exists now
    salt = mesh.state_dir / "state.sqlite"
    assert salt.is_file()
    duckdb.connect().execute(f"COPY (SELECT 'secret' AS s) TO '{mini}/retail/data/next_to_it.parquet'")
    (mini / ".tmp").mkdir()
    (mini / ".tmp" / "spill.csv").write_text("a\n1\n")
    for role in ("analyst", "steward"):
        for sql in (f"SELECT * FROM read_text('{salt}')", f"SELECT * FROM read_csv('{salt}')",
                    f"SELECT * FROM read_parquet('{mini}/retail/data/next_to_it.parquet')",
                    f"SELECT * FROM glob('{mini}/*')", f"SELECT * FROM glob('{mini}/retail/data/*')",
                    f"SELECT * FROM read_csv('{mini}/.tmp/spill.csv')",
                    f"SELECT * FROM read_text('{mini}/retail/products/customers.yaml')",
                    "SELECT * FROM read_text('/etc/passwd')",
                    f"COPY (SELECT 1) TO '{mini}/retail/data/written.csv'"):
            _raw_cursor_refuses(mesh, role, sql)
    assert not (mini / "retail/data/written.csv").exists()
    # a restricted product's file is not even readable on the connection of a role it is closed to
    cursor = mesh.engine.database("analyst").cursor()
    with pytest.raises(duckdb.Error):
        cursor.execute(f"ATTACH '{mini}/risk/data/limits.duckdb' AS stolen (READ_ONLY)")
    # the product's own file stays readable on the connection (the raw view reads it)
    cursor = mesh.engine.database("steward").cursor()
    assert cursor.execute(f"SELECT count(*) FROM read_parquet('{mini}/retail/data/customers.parquet')").fetchone()[0] == 3


def test_a_product_over_the_state_folder_reads_nothing(mini):
    mesh = catalog.open_mesh(mini)
    key = mesh.salt
    write(mini / "retail/products/keyfile.yaml", """
        name: keyfile
        description: Tries to read the masking key.
        owner: ana.silva@bank.example
        source: {kind: csv, path: ../.meshwork/salt, options: {header: false}}
        columns:
          - {name: column0, type: VARCHAR}
    """)
    write(mini / "retail/products/statefiles.yaml", """
        name: statefiles
        description: Tries to read every file of the state folder with a glob.
        owner: ana.silva@bank.example
        source: {kind: csv, path: ../.meshwork/*, options: {header: false}}
        columns:
          - {name: column0, type: VARCHAR}
    """)
    mesh = catalog.open_mesh(mini)
    for product in ("retail.keyfile", "retail.statefiles"):
        if mesh.products[product].broken:
            continue
        for role in ("analyst", "steward"):
            with pytest.raises(QueryFailed) as refused:
                mesh.session(role).sql(f"SELECT * FROM {product}")
            assert key not in str(refused.value)
    assert mesh.session("analyst").sql("SELECT count(*) AS n FROM retail.customers")["n"][0] == 3


def test_a_glob_product_reads_its_folder_only(mini):
    folder = mini / "retail/data/daily"
    folder.mkdir()
    for day in (1, 2):
        duckdb.connect().execute(f"COPY (SELECT {day} AS day) TO '{folder}/d{day}.parquet'")
    write(mini / "retail/products/daily.yaml", """
        name: daily
        description: One file a day.
        owner: ana.silva@bank.example
        source: {kind: parquet, path: data/daily/*.parquet}
        columns:
          - {name: day, type: INTEGER}
    """)
    (mini / "retail/data/not_a_product.csv").write_text("secret\n1\n")
    mesh = catalog.open_mesh(mini)
    assert mesh.session("analyst").sql("SELECT sum(day) AS s FROM retail.daily")["s"][0] == 3
    _raw_cursor_refuses(mesh, "analyst", f"SELECT * FROM read_csv('{mini}/retail/data/not_a_product.csv')")
    _raw_cursor_refuses(mesh, "analyst", f"SELECT * FROM glob('{mini}/retail/data/*')")


# ---------------------------------------------------------------- declared columns only


def test_a_view_serves_the_declared_columns_only(mini):
    data = mini / "retail/data/people.parquet"
    duckdb.connect().execute(f"COPY (SELECT 'P1' AS person_id, 'secret-note' AS notes, 40 AS age) TO '{data}'")
    write(mini / "retail/products/people.yaml", """
        name: people
        description: People; the notes column is not declared.
        owner: ana.silva@bank.example
        source: {kind: parquet, path: data/people.parquet}
        columns:
          - {name: person_id, type: VARCHAR}
          - {name: age, type: INTEGER}
    """)
    mesh = catalog.open_mesh(mini)
    for role in ("analyst", "steward"):
        frame = mesh.session(role).sql("SELECT * FROM retail.people")
        assert frame.columns == ["person_id", "age"]
        with pytest.raises((QueryFailed, QueryRejected)):
            mesh.session(role).sql("SELECT notes FROM retail.people")


# ---------------------------------------------------------------- derived products never show more


UNMASKING = {
    "renamed": ("SELECT customer_id AS cid, full_name AS who, email AS contact, ssn AS tax_id, age "
                "FROM retail.customers",
                ["cid", "who", "contact", "tax_id"]),
    "undeclared": ("SELECT age, email, ssn, full_name FROM retail.customers", ["email", "ssn", "full_name"]),
    "retyped": ("SELECT age, encode(email) AS e, CAST(ssn AS BLOB) AS s, md5(full_name) AS h, hex(email) AS x, "
                "to_base64(encode(ssn)) AS b, upper(full_name) AS u, reverse(email) AS r, "
                "CAST(customer_id AS BLOB) AS k FROM retail.customers",
                ["e", "s", "h", "x", "b", "u", "r", "k"]),
    "swapped": ("SELECT age, split_part(email, '@', 2) || '@' || split_part(email, '@', 1) AS email, "
                "right(ssn, 4) || '-' || left(ssn, 7) AS ssn, "
                "split_part(full_name, ' ', 2) || ' ' || split_part(full_name, ' ', 1) AS full_name "
                "FROM retail.customers",
                ["email", "ssn", "full_name"]),
    "aggregated": ("SELECT count(*) AS n, string_agg(full_name, ',') AS names, list(email)::VARCHAR AS emails, "
                   "min(ssn) AS first_ssn, max(customer_id) AS last_id, string_agg(email || ssn, ';') AS both "
                   "FROM retail.customers",
                   ["names", "emails", "first_ssn", "last_id", "both"]),
}

_DECLARED = {
    # what a hostile publisher declares: nothing PII, or PII under a category whose mask keeps the secret half
    "renamed": "          - {name: cid, type: VARCHAR}\n          - {name: who, type: VARCHAR}\n"
               "          - {name: contact, type: VARCHAR}\n          - {name: tax_id, type: VARCHAR}\n"
               "          - {name: age, type: INTEGER}",
    "undeclared": "          - {name: age, type: INTEGER}\n          - {name: email, type: VARCHAR}\n"
                  "          - {name: ssn, type: VARCHAR}\n          - {name: full_name, type: VARCHAR}",
    "retyped": "\n".join(f"          - {{name: {c}, type: VARCHAR}}" for c in ["age", "e", "s", "h", "x", "b", "u",
                                                                             "r", "k"]),
    "swapped": "          - {name: age, type: INTEGER}\n          - {name: email, type: VARCHAR, pii: email}\n"
               "          - {name: ssn, type: VARCHAR, pii: ssn}\n          - {name: full_name, type: VARCHAR}",
    "aggregated": "\n".join(f"          - {{name: {c}, type: VARCHAR}}" for c in ["n", "names", "emails", "first_ssn",
                                                                                "last_id", "both"]),
}


@pytest.mark.parametrize("way", sorted(UNMASKING))
def test_a_derived_product_cannot_unmask_its_upstreams(mini, way):
    sql, sensitive = UNMASKING[way]
    _derived(mini, f"leak_{way}", sql, _DECLARED[way])
    mesh = catalog.open_mesh(mini)
    product = f"risk.leak_{way}"
    steward = mesh.session("steward").sql(f"SELECT * FROM {product}")
    analyst = mesh.session("analyst").sql(f"SELECT * FROM {product}")
    assert analyst.height == steward.height and analyst.columns == steward.columns
    for column in sensitive:
        shown = {str(v) for v in analyst[column].to_list() if v is not None}
        raw_derived = {str(v) for v in steward[column].to_list() if v is not None}
        assert raw_derived, f"the steward sees {column} computed from raw values"
        assert not shown & raw_derived, f"{way}: the analyst sees {column} as the steward does"
        assert not shown & {"C1", "C2", "C3"}, f"{way}: a raw key is shown in {column}"
        text = " ".join(shown)
        for secret in _encodings(RAW):
            assert secret not in text, f"{way}: {secret!r} leaks through {column}"
    # the analyst sees what the same SQL computes over the analyst's own views of the upstreams
    direct = mesh.session("analyst").sql(sql.replace("list(email)::VARCHAR", "CAST(list(email) AS VARCHAR)"))
    own_pii = {c.name for c in mesh.products[product].pii_columns}
    for column in [c for c in sensitive if c in direct.columns and c not in own_pii | {"k", "s", "e"}]:
        assert sorted(map(str, direct[column].to_list())) == sorted(map(str, analyst[column].to_list())), column


def test_a_derived_product_over_an_upstream_the_role_cannot_see_is_not_served(mini):
    _derived(mini, "limits_copy", "SELECT customer_id, credit_limit FROM risk.limits",
             "          - {name: customer_id, type: VARCHAR}\n          - {name: credit_limit, type: INTEGER}")
    mesh = catalog.open_mesh(mini)
    analyst = mesh.session("analyst")
    if "risk.limits_copy" in analyst.visible_products():
        with pytest.raises(QueryFailed):
            analyst.sql("SELECT * FROM risk.limits_copy")
    else:
        with pytest.raises(QueryRejected):
            analyst.sql("SELECT * FROM risk.limits_copy")
    assert mesh.session("risk_officer").sql("SELECT count(*) AS n FROM risk.limits_copy")["n"][0] == 2


def test_a_pii_role_still_sees_derived_products_raw(mini):
    mesh = catalog.open_mesh(mini)
    steward = mesh.session("steward").sql("SELECT full_name, score FROM risk.customer_risk ORDER BY score DESC")
    assert steward.row(0) == ("Ana Silva", 700)
    analyst = mesh.session("analyst").sql("SELECT full_name, score FROM risk.customer_risk ORDER BY score DESC")
    assert analyst.row(0) == ("A. S.", 700)
