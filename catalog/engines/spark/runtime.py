"""Starting (or joining) the Spark session a mesh runs on, with a clear reason when it cannot.

One Python process holds one SparkContext, so every mesh opened on Spark in a process shares
it; each role gets its own `newSession()` on top (separate temporary views, shared executors).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catalog.errors import MeshError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

MIN_JAVA = 17

# What every Meshwork Spark session needs so its answers match DuckDB's: UTC, timestamps without a
# time zone (DuckDB's TIMESTAMP), NULL instead of an error on division by zero, and no SQL over raw files
# (`parquet.`/path`` would bypass masking: the gate refuses it, this is the second wall).
BASE_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.ansi.enabled": "false",
    "spark.sql.runSQLOnFiles": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.driver.extraJavaOptions": "-Dlog4j2.level=ERROR",
}
# Settings no mesh.yaml may loosen, applied last (and again on every role session): no `${...}` substitution
# in SQL text after the gate has read it (it would fill in environment variables, JVM properties and
# settings), a cap on what one query's results may weigh in the driver, no SQL over raw files.
LOCKED_CONF: dict[str, str] = {
    "spark.sql.variable.substitute": "false",
    "spark.driver.maxResultSize": "512m",
    "spark.sql.runSQLOnFiles": "false",
}
SESSION_CONF = ("spark.sql.variable.substitute", "spark.sql.runSQLOnFiles")
LOCAL_CONF: dict[str, str] = {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"}

_lock = threading.Lock()


class SparkUnavailable(MeshError):
    """Spark cannot run this mesh (no pyspark, no Java 17, master unreachable); the mesh stays on DuckDB."""


def find_java(env: dict[str, str] | None = None) -> Path:
    """The `java` Spark will launch: $JAVA_HOME/bin/java, else the one on PATH."""
    env = dict(os.environ if env is None else env)
    home = env.get("JAVA_HOME")
    if home:
        candidate = Path(home) / "bin" / "java"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
        raise SparkUnavailable(f"Java is missing: JAVA_HOME is {home!r} but {candidate} is not an executable. "
                               f"Point JAVA_HOME at a Java {MIN_JAVA}+ installation (or unset it).")
    found = shutil.which("java", path=env.get("PATH", ""))
    if not found:
        raise SparkUnavailable(f"Java is missing: Spark needs Java {MIN_JAVA}+ and there is no `java` on PATH "
                               "and no JAVA_HOME. Install a JDK (e.g. `apt-get install openjdk-17-jre-headless`).")
    return Path(found)


def java_major(java: Path) -> int:
    """The major version `java -version` reports (8 for 1.8)."""
    try:
        out = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=30).stderr
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SparkUnavailable(f"Java at {java} does not run: {exc}") from None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        raise SparkUnavailable(f"cannot tell the version of Java at {java}: {out.strip()[:200]!r}")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def check_master(master: str, timeout_s: float = 3.0) -> None:
    """Fail fast when a standalone master (`spark://host:port[,host:port]`) does not answer.

    Spark itself would retry registration for minutes; local, yarn and k8s masters are left to Spark.
    """
    if not master.startswith("spark://"):
        return
    errors = []
    for hostport in master[len("spark://"):].split(","):
        host, _, port = hostport.rpartition(":")
        try:
            with socket.create_connection((host or "localhost", int(port or 7077)), timeout=timeout_s):
                return
        except (OSError, ValueError) as exc:
            errors.append(f"{hostport}: {exc}")
    raise SparkUnavailable(f"the Spark master {master} cannot be reached ({'; '.join(errors)}). "
                           "Check the master URL in mesh.yaml (spark.master) and that the cluster is up.")


def spark_session(master: str, conf: dict[str, Any] | None = None, app_name: str = "meshwork") -> "SparkSession":
    """The process's SparkSession on `master`, started on first use; SparkUnavailable says why not."""
    try:
        from pyspark import SparkContext
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkUnavailable("pyspark is not installed: install the Spark extra, "
                               "`pip install 'meshwork[spark]'`.") from None
    java = find_java()
    major = java_major(java)
    if major < MIN_JAVA:
        raise SparkUnavailable(f"Java {major} at {java} is too old: Spark 4 needs Java {MIN_JAVA}+.")
    check_master(master)
    with _lock:
        active = SparkContext._active_spark_context
        if active is not None:
            if active.master != master:
                raise SparkUnavailable(f"this Python process already runs Spark on {active.master!r}; a process "
                                       f"holds one Spark context, so a mesh on {master!r} needs its own process.")
            spark = SparkSession.builder.getOrCreate()
            lock_session(spark)
            return spark
        builder = SparkSession.builder.master(master).appName(app_name)
        settings = {**BASE_CONF, **(LOCAL_CONF if master.startswith("local") else {}),
                    **{k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in (conf or {}).items()},
                    **LOCKED_CONF}
        for key, value in settings.items():
            builder = builder.config(key, value)
        if master.startswith("local"):
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            # the masking UDF runs in Python workers: on a local master they are this interpreter
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        try:
            spark = builder.getOrCreate()
        except Exception as exc:  # py4j and JVM start-up errors have no common base worth naming
            raise SparkUnavailable(f"Spark did not start on {master}: {first_line(exc)}") from None
        spark.sparkContext.setLogLevel("FATAL")  # Spark logs what it also raises; callers get the error
        lock_session(spark)
        return spark


def lock_session(session: "SparkSession") -> None:
    """Apply the per-session locked settings (a `newSession()` or a joined session may not have them)."""
    for key in SESSION_CONF:
        session.conf.set(key, LOCKED_CONF[key])


def stop() -> None:
    """Stop the process's Spark context (tests and scripts; the app keeps it for its lifetime)."""
    from pyspark import SparkContext

    with _lock:
        if SparkContext._active_spark_context is not None:
            SparkContext._active_spark_context.stop()


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:400]
