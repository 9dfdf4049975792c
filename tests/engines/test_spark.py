"""The same meshes on Apache Spark (local[2]) as on DuckDB: same answers, same masking, same gate, same checks.

One SparkSession serves the whole module (the first Spark mesh starts it); every mesh is opened once per
engine in module-scoped fixtures, so the JVM start-up is paid once.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import duckdb

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import catalog
from catalog.errors import MeshError, QueryCancelled, QueryFailed, QueryRejected, QueryTimeout
from catalog.engines.spark.runtime import SparkUnavailable, check_master, find_java, spark_session
from minimesh import build_minimesh, write
from qualitymesh import build_quality_mesh
from tests.query.test_gate import HOSTILE, RAW_EMAILS, RAW_NAMES, RAW_SSNS, UNMASKING_TRICKS

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"
USER = "tester@bank.example"

# Cross-domain queries per sample mesh: several source kinds (parquet, csv, sqlite, duckdb file, derived
# SQL) joined on masked keys, aggregates that round and divide, and PII columns for the role's masks.
CROSS_DOMAIN = {
    "banking": [
        "SELECT c.state, count(DISTINCT c.customer_id) AS customers, round(sum(a.balance), 2) AS balance, "
        "round(avg(s.score), 1) AS avg_score FROM retail.customers c JOIN retail.accounts a USING (customer_id) "
        "JOIN risk.credit_scores s USING (customer_id) GROUP BY c.state",
        "SELECT seg.segment, count(*) AS customers, count(*) FILTER (WHERE p.mail_opt_in) AS mail_opt_in "
        "FROM marketing.segments seg JOIN privacy.marketing_permissions p USING (customer_id) GROUP BY ALL",
        "SELECT c.customer_id, c.email, c.full_name, c.birth_date, t.card_spend, t.total_balance "
        "FROM retail.customers c JOIN marketing.customer_360 t USING (customer_id)",
    ],
    "life_sciences": [
        "SELECT p.arm, ae.meddra_term, count(*) AS events, round(100.0 * count(*) / count(DISTINCT p.patient_id), 2) "
        "AS per_patient FROM safety.adverse_events ae JOIN clinical.patients p USING (patient_id) GROUP BY 1, 2",
        "SELECT s.specimen_type, count(*) AS results, count(*) FILTER (WHERE r.abnormal_flag <> 'N') AS abnormal "
        "FROM lab.samples s JOIN lab.results r USING (sample_id) JOIN clinical.patients p USING (patient_id) "
        "GROUP BY 1",
        "SELECT o.*, t.phase FROM research.shared_outcomes o JOIN clinical.trials t ON t.trial_id = o.trial_id",
    ],
    "supply_chain": [
        "SELECT w.country, k.category, sum(l.on_hand) AS on_hand, count(*) AS lines FROM inventory.stock_levels l "
        "JOIN inventory.warehouses w USING (warehouse_id) JOIN inventory.skus k USING (sku) GROUP BY ALL",
        "SELECT d.warehouse_id, count(*) AS readings, round(avg(t.temperature_c), 2) AS temperature "
        "FROM iot.telemetry t JOIN iot.devices d USING (device_id) GROUP BY 1",
        "SELECT r.*, w.manager_email FROM planning.stockout_risk r JOIN inventory.warehouses w USING (warehouse_id)",
    ],
}


# A JVM that compiles less starts and warms up faster: right for a short test run on two cores.
TEST_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Dlog4j2.level=ERROR"


@pytest.fixture(scope="module", autouse=True)
def spark():
    """The module's one SparkSession (meshes opened on local[2] join it). It is not stopped: stopping
    takes up to a minute on a busy machine, and the JVM ends with the test process anyway."""
    return spark_session("local[2]", {"spark.driver.extraJavaOptions": TEST_JVM})


def _pair(root: Path) -> tuple[catalog.Mesh, catalog.Mesh]:
    return catalog.open_mesh(root), catalog.open_mesh(root, engine="spark")


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    duck, spark = _pair(build_minimesh(tmp_path_factory.mktemp("spark") / "mini"))
    yield duck, spark
    duck.close()
    spark.close()


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    opened = {}
    for name in CROSS_DOMAIN:
        root = tmp_path_factory.mktemp("samples") / name
        shutil.copytree(SAMPLES / name, root, ignore=shutil.ignore_patterns(".meshwork"))
        opened[name] = _pair(root)
    yield opened
    for duck, spark in opened.values():
        duck.close()
        spark.close()


def _same(a: pl.DataFrame, b: pl.DataFrame) -> None:
    assert a.columns == b.columns
    order = [c for c in a.columns if a.schema[c] != pl.Object]
    assert_frame_equal(a.sort(order, nulls_last=True), b.sort(order, nulls_last=True), check_dtypes=False)


# ---------------------------------------------------------------- engine choice


def test_a_mesh_runs_on_duckdb_unless_it_asks_for_spark(mini):
    duck, spark = mini
    assert duck.engine.name == "duckdb" and duck.engine_choice == "duckdb"
    assert spark.engine.name == "spark" and spark.engine.master == "local[2]"
    assert type(spark.session("analyst", USER).database).__name__ == "SparkRoleDatabase"  # one Session, the engine runs it
    with pytest.raises(MeshError, match="unknown engine 'flink'"):
        catalog.open_mesh(duck.root, engine="flink")


def test_mesh_yaml_chooses_spark_and_its_master(tmp_path, mini):
    root = build_minimesh(tmp_path / "m")
    text = (root / "mesh.yaml").read_text()
    (root / "mesh.yaml").write_text(text + "engine: spark\nspark:\n  master: local[2]\n  max_collect_rows: 2\n")
    mesh = catalog.open_mesh(root)
    assert not mesh.problems and mesh.engine.name == "spark"
    session = mesh.session("analyst", USER, timeout_s=120)  # the first masked query starts Python workers
    with pytest.raises(QueryFailed, match="more than 2 rows.*export"):
        session.sql("SELECT * FROM retail.customers")
    result = session.run("SELECT * FROM retail.customers ORDER BY age", max_rows=1)
    assert (result.shown_rows, result.total_rows, result.truncated) == (1, 3, True)
    mesh.close()


# ---------------------------------------------------------------- same answers on both engines


@pytest.mark.parametrize("name,index", [(n, i) for n, qs in CROSS_DOMAIN.items() for i in range(len(qs))])
def test_cross_domain_queries_give_the_same_answers_on_both_engines(samples, name, index):
    duck, spark = samples[name]
    query = CROSS_DOMAIN[name][index]
    for role in ("analyst", "steward") if "email" in query else ("analyst",):
        expected = duck.session(role, USER).sql(query)
        assert expected.height > 0
        _same(expected, spark.session(role, USER, timeout_s=300).sql(query))


def test_every_source_kind_and_derived_product_reads_the_same(mini):
    duck, spark = mini
    for role in ("analyst", "steward", "risk_officer"):
        d, s = duck.session(role, USER), spark.session(role, USER, timeout_s=300)
        assert d.visible_products() == s.visible_products()
        for product_id in d.visible_products():
            _same(d.sql(f"SELECT * FROM {product_id}"), s.sql(f"SELECT * FROM {product_id}"))


# ---------------------------------------------------------------- masking and the gate on Spark


def test_masking_holds_on_spark_with_the_same_tokens(mini):
    duck, spark = mini
    analyst = spark.session("analyst", USER)
    row = analyst.sql("SELECT * FROM retail.customers WHERE age = 34").row(0, named=True)
    assert row["email"] == "***@bank.example" and row["ssn"] == "***-**-6789" and row["full_name"] == "A. S."
    token = duck.session("analyst", USER).sql("SELECT customer_id FROM retail.customers WHERE age = 34").item()
    assert row["customer_id"] == token
    assert analyst.sql("SELECT * FROM retail.customers WHERE email = 'ana@bank.example'").height == 0
    steward = spark.session("steward", USER).sql("SELECT email FROM retail.customers")
    assert RAW_EMAILS <= set(steward["email"])


@pytest.mark.parametrize("attempt", HOSTILE)
def test_the_hostile_suite_is_refused_on_spark_too(mini, attempt):
    _, spark = mini
    with pytest.raises(QueryRejected):
        spark.session("analyst", USER).sql(attempt.replace("{root}", str(spark.root)))


def test_unmasking_tricks_reveal_nothing_on_spark(mini):
    _, spark = mini
    analyst = spark.session("analyst", USER)
    ran = 0
    for query in UNMASKING_TRICKS:
        try:
            frame = analyst.sql(query)
        except (QueryFailed, QueryRejected):
            continue  # DuckDB-only syntax Spark cannot run: nothing shown, nothing leaked
        ran += 1
        text = " ".join(str(v) for row in frame.rows() for v in row).replace("tok_", "")
        for raw in RAW_EMAILS | RAW_NAMES | RAW_SSNS | {"C1", "C2", "C3"}:
            assert raw not in text, f"{raw!r} leaked through {query!r} on Spark"
    assert ran >= len(UNMASKING_TRICKS) // 2


@pytest.mark.parametrize("attempt", [
    "SELECT reflect('java.lang.System', 'getProperty', 'user.home') AS home",
    "SELECT java_method('java.lang.Runtime', 'getRuntime') AS r",
    "SELECT input_file_name() AS path, * FROM retail.customers",
    "SELECT * FROM parquet.`/etc/passwd`",
    "SELECT * FROM global_temp.mw_raw__retail__customers",
    "SELECT * FROM mwv__retail__customers",
])
def test_spark_only_functions_and_names_are_refused(mini, attempt):
    _, spark = mini
    with pytest.raises(QueryRejected):
        spark.session("analyst", USER).sql(attempt)


RUNAWAY = ("SELECT count(*) AS n FROM retail.customers a, retail.customers b, retail.customers c, "
           "retail.customers d, retail.customers e, retail.customers f, retail.customers g, "
           "retail.customers h, retail.customers i, retail.customers j, retail.customers k, "
           "retail.customers l, retail.customers m, retail.customers n, retail.customers o, "
           "retail.customers p, retail.customers q, retail.customers r, retail.customers s, "
           "retail.customers t, retail.customers u, retail.customers v, retail.customers w, "
           "retail.customers x, retail.customers y, retail.customers z")


def test_a_runaway_query_is_cancelled_through_its_job_group(mini):
    _, spark = mini
    hasty = spark.session("analyst", USER, timeout_s=3)
    with pytest.raises(QueryTimeout, match="3 s time limit"):
        hasty.sql(RUNAWAY)
    # the same session keeps working after the cancel (with room for a loaded machine: the limit was the point above)
    hasty.timeout_s = 300
    assert hasty.sql("SELECT count(*) AS n FROM retail.customers")["n"][0] == 3
    statuses = spark.usage("retail.customers")["status"].to_list()
    assert "timeout" in statuses


def test_the_sessions_interrupt_cancels_a_running_spark_join_and_its_tasks_stop(spark, tmp_path):
    """What the workbench's Cancel calls, on a query whose tasks Spark can stop: a join of 100,000 rows on one key
    (10^10 pairs, minutes of work) whose scan checks for interruption between batches. (A cross join of tiny
    tables loops inside one task that never checks; Spark fails its job at once but the task runs on, so that
    shape is not what this shows.) The engine's own warm-up job runs first and is let end, so the stages watched
    are the query's."""
    root = build_minimesh(tmp_path / "m")
    duckdb.connect().execute(
        f"COPY (SELECT 'C' || i AS customer_id, 'N' AS full_name, NULL::VARCHAR AS email, 'x' AS ssn, 40 AS age "
        f"FROM range(100000) t(i)) TO '{root}/retail/data/customers.parquet' (FORMAT parquet)")
    mesh = catalog.open_mesh(root, engine="spark")
    session = mesh.session("analyst", USER, timeout_s=900)  # only the interrupt can end it in time
    assert session.sql("SELECT count(*) AS n FROM retail.customers")["n"][0] == 100_000  # views made, workers up
    tracker = spark.sparkContext.statusTracker()
    for _ in range(240):  # the engine's warm-up job (Python workers) has ended
        if not tracker.getActiveStageIds():
            break
        time.sleep(0.5)
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["result"] = session.sql("SELECT count(*) AS n FROM retail.customers a "
                                            "JOIN retail.customers b ON a.age = b.age")
        except MeshError as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    for _ in range(600):  # until its job runs (planning comes first)
        if tracker.getActiveStageIds() or not worker.is_alive():
            break
        worker.join(0.5)
    assert worker.is_alive(), outcome
    session.interrupt()
    worker.join(300)
    assert not worker.is_alive(), "the interrupt ended the query"
    assert isinstance(outcome.get("error"), QueryCancelled) and "cancelled" in str(outcome["error"]), outcome
    for _ in range(120):  # its tasks end too: no stage of it lingers, burning a core
        if not tracker.getActiveStageIds():
            break
        worker.join(0.5)
    assert not tracker.getActiveStageIds(), ("the cancelled query's tasks stopped", [
        (tracker.getStageInfo(i), [tracker.getJobInfo(j) for j in tracker.getActiveJobsIds()])
        for i in tracker.getActiveStageIds()])
    assert session.sql("SELECT count(*) AS n FROM retail.customers")["n"][0] == 100_000  # the session still works
    assert "cancelled" in mesh.usage("retail.customers")["status"].to_list()
    mesh.close()


def test_every_query_is_a_usage_event(mini):
    _, spark = mini
    before = spark.usage().height
    spark.session("analyst", USER).sql("SELECT c.age, s.score FROM retail.customers c JOIN risk.scores s "
                                       "USING (customer_id)")
    events = spark.usage().tail(2)
    assert spark.usage().height == before + 2
    assert sorted(events["product_id"]) == ["retail.customers", "risk.scores"]
    assert set(events["rows"]) == {3}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_writes_one_file_like_duckdb(mini, tmp_path, fmt):
    duck, spark = mini
    query = "SELECT c.customer_id, c.email, c.age, s.score FROM retail.customers c JOIN risk.scores s USING (customer_id)"
    assert spark.session("analyst", USER).export(query, tmp_path / f"s.{fmt}", fmt) == 3
    assert duck.session("analyst", USER).export(query, tmp_path / f"d.{fmt}", fmt) == 3
    read = pl.read_csv if fmt == "csv" else pl.read_parquet
    _same(read(tmp_path / f"d.{fmt}"), read(tmp_path / f"s.{fmt}"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"d.{fmt}", f"s.{fmt}"]


# ---------------------------------------------------------------- quality on Spark


def test_a_check_run_gives_the_same_results_on_both_engines(tmp_path):
    root = build_quality_mesh(tmp_path / "q")
    duck, spark = _pair(root)
    try:
        for product_id in sorted(duck.products):
            a = duck.checker.run(product_id, reuse=False, store=False)
            b = spark.checker.run(product_id, reuse=False, store=False)
            assert [(c.name, c.status, c.failing) for c in a.checks] == [(c.name, c.status, c.failing) for c in b.checks]
            assert a.score == b.score
            assert [c.examples for c in a.checks] == [c.examples for c in b.checks]
        orders = spark.checker.run("shop.orders", reuse=False, store=False)
        declared = orders.checks[:len(spark.products["shop.orders"].descriptor.quality)]
        assert {c.status for c in declared} == {"fail", "error"}  # every declared check of shop.orders has a defect
        assert [c.status for c in orders.checks[len(declared):]] == ["pass", "pass"]  # its schema holds, on Spark too
        assert orders.checks[0].failing == 2 and "shoe_size" in orders.checks[10].message
    finally:
        duck.close()
        spark.close()


# ---------------------------------------------------------------- bad input: clear cause, still on DuckDB


def test_missing_java_keeps_the_mesh_on_duckdb_and_says_why(tmp_path, monkeypatch):
    root = build_minimesh(tmp_path / "m")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    mesh = catalog.open_mesh(root, engine="spark")
    assert mesh.session("analyst", USER).sql("SELECT count(*) AS n FROM retail.customers")["n"][0] == 3
    assert mesh.engine.name == "duckdb"
    problem = next(p for p in mesh.problems if p.field == "engine")
    assert "Java is missing" in problem.message and "no-jdk" in problem.message
    monkeypatch.delenv("JAVA_HOME")
    with pytest.raises(SparkUnavailable, match="no `java` on PATH"):
        find_java({"PATH": str(tmp_path)})


def test_an_unreachable_master_keeps_the_mesh_on_duckdb(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(SparkUnavailable, match=f"127.0.0.1:{port}"):
        check_master(f"spark://127.0.0.1:{port}", timeout_s=1)
    mesh = catalog.open_mesh(build_minimesh(tmp_path / "m"), engine="spark", spark_master=f"spark://127.0.0.1:{port}")
    assert mesh.engine.name == "duckdb"
    assert "cannot be reached" in str(next(p for p in mesh.problems if p.field == "engine"))


def test_a_source_spark_cannot_read_is_named_and_the_rest_still_works(tmp_path, mini):
    root = build_minimesh(tmp_path / "m")
    (root / "retail/data/broken.parquet").write_bytes(b"this is not parquet")
    write(root / "retail/products/broken.yaml", """
        name: broken
        owner: ana.silva@bank.example
        source: {kind: parquet, path: data/broken.parquet}
    """)
    write(root / "retail/products/odd.yaml", """
        name: odd
        owner: ana.silva@bank.example
        source: {kind: csv, path: data/branches.csv, options: {auto_detect: true}}
    """)
    mesh = catalog.open_mesh(root, engine="spark")
    session = mesh.session("analyst", USER)
    with pytest.raises(QueryFailed, match="retail.broken: Spark cannot read its parquet source"):
        session.sql("SELECT * FROM retail.broken")
    with pytest.raises(QueryFailed, match="option 'auto_detect' has no Spark equivalent"):
        session.sql("SELECT * FROM retail.odd")
    assert session.sql("SELECT count(*) AS n FROM retail.branches")["n"][0] == 2
    mesh.close()


# ---------------------------------------------------------------- Spark's own features (issue 25)

SUBSTITUTIONS = ["${env:HOME}", "${system:user.home}", "${spark.sql.warehouse.dir}", "${HOME}", "${hiveconf:x}",
                 "${spark.app.name}", "$${env:PATH}", "pre ${env:USER} post"]


@pytest.mark.parametrize("literal", SUBSTITUTIONS)
def test_no_literal_comes_back_different_from_what_was_written(mini, literal):
    _, spark = mini
    session = spark.session("analyst", USER)
    quoted = literal.replace("'", "''")
    try:
        value = session.sql(f"SELECT '{quoted}' AS v")["v"][0]
        assert value == literal
        hits = session.sql(f"SELECT count(*) AS n FROM retail.customers WHERE '{quoted}' = '{quoted}'")["n"][0]
        assert hits == 3
    except QueryRejected as refused:  # the gate may refuse `${` for Spark: also fine, nothing ran
        assert "${" in str(refused) or "$" in str(refused)
    # below the gate too: the role session itself does not substitute
    database = spark.engine.database("analyst")
    assert database.session.sql(f"SELECT '{quoted}' AS v").collect()[0]["v"] == literal
    assert database.session.conf.get("spark.sql.variable.substitute") == "false"


def test_the_masking_key_is_in_no_spark_plan_view_or_error(mini):
    _, spark = mini
    key = spark.salt
    for role in ("analyst", "risk_officer", "steward"):
        database = spark.engine.database_for(role, USER)
        database.ensure(set(database.visible))
        for product_id in sorted(database.visible):
            frame = database.session.table(database.view_name(product_id))
            plan = frame._jdf.queryExecution().toString()
            assert key not in plan and "md5" not in plan.lower()
        tables = database.session.sql("SHOW TABLES").collect()
        assert tables
    with pytest.raises(QueryFailed) as failed:
        spark.session("analyst", USER).sql("SELECT no_such_column FROM retail.customers")
    assert key not in str(failed.value)


def test_the_masking_key_reaches_no_spark_log(tmp_path):
    """A separate process runs Spark with INFO logging, masks, derives and fails queries; its whole log output
    is searched for the key."""
    import subprocess
    import sys

    root = build_minimesh(tmp_path / "m")
    script = f"""
import catalog
from catalog.engines.spark.runtime import spark_session
spark = spark_session("local[1]", {{"spark.driver.extraJavaOptions": "{TEST_JVM}"}})
spark.sparkContext.setLogLevel("INFO")
mesh = catalog.open_mesh({str(root)!r}, engine="spark")
print("KEY", mesh.salt)
analyst = mesh.session("analyst", "{USER}")
print(analyst.sql("SELECT * FROM retail.customers").rows())
print(analyst.sql("SELECT * FROM risk.customer_risk").rows())
for bad in ("SELECT no_such_column FROM retail.customers", "SELECT CAST(full_name AS INT) / 0 AS x FROM risk.customer_risk"):
    try:
        analyst.sql(bad)
    except Exception as exc:
        print("ERR", exc)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          cwd=str(Path(__file__).resolve().parents[2]))
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    key = next(line.split()[1] for line in done.stdout.splitlines() if line.startswith("KEY "))
    logged = out.replace(f"KEY {key}", "")
    assert "INFO" in logged, "Spark logged at INFO"
    assert key not in logged and key[:16] not in logged


def test_a_result_past_the_collect_cap_is_refused_and_the_engine_stays_up(mini, monkeypatch):
    _, spark = mini
    assert spark.engine.spark.sparkContext.getConf().get("spark.driver.maxResultSize") == "512m"
    monkeypatch.setattr(spark.descriptor.spark, "max_collect_rows", 2)
    session = spark.session("analyst", USER)
    with pytest.raises(QueryFailed, match="more than 2 rows"):
        session.sql("SELECT * FROM retail.customers")
    assert session.run("SELECT * FROM retail.customers", max_rows=1).total_rows == 3
    assert session.sql("SELECT count(*) AS n FROM retail.customers")["n"][0] == 3


def test_a_derived_product_cannot_unmask_on_spark_either(mini, tmp_path):
    root = build_minimesh(tmp_path / "m")
    write(root / "risk/products/leak.yaml", """
        name: leak
        description: Renames, re-types and swaps PII.
        owner: rui.costa@bank.example
        source:
          kind: sql
          sql: |
            SELECT c.customer_id AS cid, c.email AS contact, upper(c.full_name) AS who,
                   split_part(c.email, '@', 2) || '@' || split_part(c.email, '@', 1) AS email, s.score
            FROM retail.customers c JOIN risk.scores s USING (customer_id)
        columns:
          - {name: cid, type: VARCHAR}
          - {name: contact, type: VARCHAR}
          - {name: who, type: VARCHAR}
          - {name: email, type: VARCHAR, pii: email}
          - {name: score, type: INTEGER}
    """)
    duck, spark = _pair(root)
    try:
        a = duck.session("analyst", USER).sql("SELECT * FROM risk.leak")
        b = spark.session("analyst", USER).sql("SELECT * FROM risk.leak")
        _same(a, b)
        text = " ".join(str(v) for row in b.rows() for v in row)
        for raw in RAW_EMAILS | RAW_NAMES | {n.upper() for n in RAW_NAMES} | {"ana", "bo@", "C1", "C2"}:
            assert raw not in text.replace("tok_", ""), raw
        steward = spark.session("steward", USER).sql("SELECT contact FROM risk.leak")
        assert RAW_EMAILS <= set(steward["contact"])
    finally:
        duck.close()
        spark.close()
