"""The gate's Spark dialect through a real local Spark session: Spark's own builders are size-checked,
identity functions and `${` substitution are refused (nothing runs, nothing is recorded), literals come
back exactly as written, and the engine keeps answering."""

from __future__ import annotations

import pytest

import catalog
from catalog.errors import QueryRejected
from catalog.engines.spark.runtime import spark_session
from minimesh import build_minimesh

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]
USER = "tester@bank.example"


@pytest.fixture(scope="module")
def spark_mesh(tmp_path_factory):
    spark_session("local[2]", {"spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"})
    mesh = catalog.open_mesh(build_minimesh(tmp_path_factory.mktemp("gate_spark") / "mini"), engine="spark")
    yield mesh
    mesh.close()


REFUSED = [
    ("SELECT array_repeat(1, 900000000) AS a", "900,000,000"),
    ("SELECT size(sequence(1, 1e9)) AS n", "1,000,000,000"),
    ("SELECT count(*) AS n FROM range(100000000000)", "100,000,000,000"),
    ("SELECT current_user() AS u", "current_user"),
    ("SELECT session_user() AS u", "session_user"),
    ("SELECT user() AS u", "user"),
    ("SELECT '${env:HOME}' AS home", "${"),
    ("SELECT count(*) AS n FROM retail.customers WHERE email LIKE '${system:user.home}%'", "${"),
    ("SELECT E'$\\x7Bspark.sql.warehouse.dir}' AS dir", "${"),
]


@pytest.mark.parametrize("attempt, names", REFUSED)
def test_spark_builders_identity_and_substitution_are_refused_in_a_real_session(spark_mesh, attempt, names):
    session = spark_mesh.session("analyst", USER, timeout_s=30)
    before = spark_mesh.usage().height
    with pytest.raises(QueryRejected) as info:
        session.sql(attempt)
    assert names.lower() in str(info.value).lower()
    assert spark_mesh.usage().height == before, "nothing ran, so nothing was recorded"


def test_literals_come_back_as_written_and_small_builders_run(spark_mesh):
    session = spark_mesh.session("analyst", USER, timeout_s=60)
    row = session.sql("SELECT '$' || '{env:HOME}' AS d, '$HOME' AS h, size(array_repeat(1, 3)) AS a, "
                      "size(sequence(1, 10)) AS s").row(0, named=True)
    assert row == {"d": "${env:HOME}", "h": "$HOME", "a": 3, "s": 10}
