"""The same meshes on a real Spark standalone cluster as on DuckDB: a master and two workers started on
127.0.0.1 from the installed pyspark (no download), `engine: spark` with `spark.master: spark://127.0.0.1:7077`.
Product views, the gate, masking, a cross-domain join and the quality checks must give DuckDB's answers.

The cluster is started once, for one test that asserts every comparison (as separate tests the cluster was
started twice in CI runs, several minutes each on a loaded machine), and every java process it started is killed
afterwards. The comparison runs in its own Python process: a process holds one Spark context, and the other
Spark tests of this worker keep theirs on local[2].
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]

REPO = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"


def _free_port(preferred: int | None = None) -> int:
    with socket.socket() as s:
        try:
            s.bind((LOOPBACK, preferred or 0))
        except OSError:
            s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def _spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A standalone master and two one-core workers on 127.0.0.1; yields the master URL."""
    home, folder = _spark_home(), tmp_path_factory.mktemp("spark-cluster")
    port, ui = _free_port(7077), _free_port()
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": LOOPBACK, "SPARK_NO_DAEMONIZE": "1",
           "SPARK_LOG_DIR": str(folder), "SPARK_WORKER_DIR": str(folder / "work"), "SPARK_DAEMON_MEMORY": "256m",
           "PYSPARK_PYTHON": sys.executable}
    spark_class = str(home / "bin" / "spark-class")
    launches = [[spark_class, "org.apache.spark.deploy.master.Master", "--host", LOOPBACK, "--port", str(port),
                 "--webui-port", str(ui)]]
    launches += [[spark_class, "org.apache.spark.deploy.worker.Worker", f"spark://{LOOPBACK}:{port}", "--host",
                  LOOPBACK, "--cores", "1", "--memory", "1g", "--webui-port", str(_free_port())] for _ in range(2)]
    processes = []
    try:
        for n, command in enumerate(launches):
            log = open(folder / f"daemon-{n}.log", "w")
            processes.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                              start_new_session=True))  # its own group: java and its children
            if n == 0:
                time.sleep(2)
        deadline, alive = time.time() + 360, 0
        while time.time() < deadline and alive < 2:
            try:
                with urllib.request.urlopen(f"http://{LOOPBACK}:{ui}/json/", timeout=3) as answer:
                    alive = json.load(answer).get("aliveworkers", 0)
            except OSError:
                pass
            time.sleep(1)
        logs = "\n".join(f"{log.name}: {log.read_text()[-1500:]}" for log in sorted(folder.glob("daemon-*.log")))
        assert alive == 2, f"the Spark cluster did not come up ({alive} of 2 workers alive):\n{logs}"
        yield f"spark://{LOOPBACK}:{port}"
    finally:
        for process in reversed(processes):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(30)


COMPARE = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    import polars as pl
    import catalog
    from catalog.errors import QueryRejected
    from tests.minimesh import build_minimesh
    from tests.qualitymesh import build_quality_mesh

    master, folder = sys.argv[1], Path(sys.argv[2])
    SPARK = ("engine: spark\\nspark:\\n  master: " + master + "\\n  conf:\\n    spark.driver.host: 127.0.0.1\\n"
             "    spark.driver.bindAddress: 127.0.0.1\\n    spark.executor.memory: 512m\\n    spark.cores.max: 2\\n"
             "    spark.executorEnv.PYTHONPATH: " + sys.argv[3] + "\\n")
    USER = "tester@bank.example"

    def on_spark(root):
        (root / "mesh.yaml").write_text((root / "mesh.yaml").read_text() + SPARK)
        return catalog.open_mesh(root, engine="duckdb"), catalog.open_mesh(root)

    def rows(frame):
        return sorted(json.dumps(r, sort_keys=True, default=str) for r in frame.to_dicts())

    out = {}
    duck, spark = on_spark(build_minimesh(folder / "mini"))
    out["engine"] = [spark.engine.name, spark.engine.master]
    views = {}
    for role in ("analyst", "risk_officer"):  # masked, and with the restricted products
        d, s = duck.session(role, USER, timeout_s=300), spark.session(role, USER, timeout_s=300)
        views[role] = {"listed_same": d.visible_products() == s.visible_products(),
                       "differing": [p for p in d.visible_products()
                                     if rows(d.sql(f"SELECT * FROM {p}")) != rows(s.sql(f"SELECT * FROM {p}"))]}
    out["views"] = views
    sc = spark.engine.spark.sparkContext
    out["executors"] = sc._jsc.sc().getExecutorMemoryStatus().size() - 1  # less the driver
    analyst = spark.session("analyst", USER, timeout_s=300)
    row = analyst.sql("SELECT * FROM retail.customers WHERE age = 34").row(0, named=True)
    token = duck.session("analyst", USER).sql("SELECT customer_id FROM retail.customers WHERE age = 34").item()
    out["masking"] = {"email": row["email"], "ssn": row["ssn"], "same_token": row["customer_id"] == token}
    refused = []
    for attempt in ("SELECT * FROM read_parquet('/etc/passwd')", "SELECT * FROM risk.limits",
                    "SELECT * FROM parquet.`/tmp`"):
        try:
            analyst.sql(attempt)
            refused.append(False)
        except QueryRejected:
            refused.append(True)
    out["gate_refused"] = refused
    join = ("SELECT c.age, s.score FROM retail.customers c JOIN risk.scores s ON s.customer_id = c.customer_id")
    out["join"] = {"duckdb": rows(duck.session("analyst", USER).sql(join)), "spark": rows(analyst.sql(join))}
    duck.close()
    qduck, qspark = on_spark(build_quality_mesh(folder / "quality"))
    checks = {}
    for product_id in qduck.products:
        a = qduck.checker.run(product_id, reuse=False, store=False)
        b = qspark.checker.run(product_id, reuse=False, store=False)
        checks[product_id] = [[(c.name, c.status, c.failing) for c in a.checks],
                              [(c.name, c.status, c.failing) for c in b.checks]]
    out["checks"] = checks
    print("RESULT " + json.dumps(out, default=str), flush=True)
""")


@pytest.fixture(scope="module")
def compared(cluster, tmp_path_factory):
    folder = tmp_path_factory.mktemp("compare")
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": LOOPBACK,
           "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests"), os.environ.get("PYTHONPATH", "")])}
    env.pop("MESHWORK_STATE_URL", None)
    done = subprocess.run([sys.executable, "-c", COMPARE, cluster, str(folder), str(REPO)], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=900)
    line = next((l for l in done.stdout.splitlines() if l.startswith("RESULT ")), None)
    assert line, f"the comparison on the cluster failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return json.loads(line[len("RESULT "):])


def test_the_cluster_gives_duckdbs_answers_for_views_masking_the_gate_a_join_and_the_checks(compared, cluster):
    """One test, so the cluster and the comparison run once whatever order the workers take tests in."""
    assert compared["engine"] == ["spark", cluster]
    assert compared["executors"] == 2  # both workers took part
    for role, view in compared["views"].items():  # every product view, for every role
        assert view == {"listed_same": True, "differing": []}, role
    assert compared["masking"] == {"email": "***@bank.example", "ssn": "***-**-6789", "same_token": True}
    assert compared["gate_refused"] == [True, True, True]
    assert compared["join"]["spark"] == compared["join"]["duckdb"] and compared["join"]["duckdb"]
    for product_id, (duck, spark) in compared["checks"].items():
        assert duck == spark and duck, product_id
