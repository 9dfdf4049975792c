"""Real files as they come: R's `NA` in a CSV, time-zone-aware timestamps, a big local file published in
place; all through the CLI, as a user meets them."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
import yaml
from typer.testing import CliRunner

import catalog
from catalog.cli import app as cli
from minimesh import build_minimesh

STEWARD = "lea@shop.example"
runner = CliRunner()


@pytest.fixture
def minimesh(tmp_path, monkeypatch):
    monkeypatch.setenv("MESHWORK_USER", STEWARD)
    root = build_minimesh(tmp_path / "mini")
    with open(root / "mesh.yaml", "a") as handle:
        handle.write(f"# the stewards\nusers:\n  {STEWARD}: {{roles: [steward]}}\n")
    return root


def run(*args):
    return runner.invoke(cli, [str(a) for a in args])


def publish(root, path, name, *extra):
    return run("publish", root, path, "--domain", "retail", "--name", name, "--owner", STEWARD, *extra)


def test_r_style_na_keeps_numeric_columns_numeric(minimesh):
    data = minimesh / "retail" / "data"
    data.mkdir(exist_ok=True)
    (data / "flights.csv").write_text("flight,dep_delay,arr_time,carrier\n1,NA,NA,UA\n2,5,1230,AA\n"
                                      "3,-2,N/A,B6\n4,,1410,DL\n")
    result = publish(minimesh, data / "flights.csv", "flights")
    assert result.exit_code == 0, result.output
    descriptor = yaml.safe_load((minimesh / "retail/products/flights.yaml").read_text())
    assert descriptor["source"]["options"]["nullstr"] == ["", "NA", "N/A"]
    types = {c["name"]: c["type"] for c in descriptor["columns"]}
    assert types["dep_delay"] == "BIGINT" and types["arr_time"] == "BIGINT" and types["carrier"] == "VARCHAR"
    out = catalog.open_mesh(minimesh).session("steward").sql(
        "SELECT sum(dep_delay) AS d, count(arr_time) AS a FROM retail.flights")
    assert out["d"][0] == 3 and out["a"][0] == 2  # NA, N/A and the empty field are NULL


def test_a_text_column_that_only_says_na_stays_text(minimesh):
    data = minimesh / "retail" / "data"
    data.mkdir(exist_ok=True)
    (data / "regions.csv").write_text("code,name\nNA,North America\nEU,Europe\n")
    assert publish(minimesh, data / "regions.csv", "regions").exit_code == 0
    descriptor = yaml.safe_load((minimesh / "retail/products/regions.yaml").read_text())
    assert "options" not in descriptor["source"]


def test_time_zone_aware_timestamps_publish_query_and_check(minimesh):
    data = minimesh / "retail" / "data"
    data.mkdir(exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"COPY (SELECT range AS id, TIMESTAMPTZ '2026-11-30 10:00:00+01' + range * INTERVAL 1 HOUR AS at "
                f"FROM range(5)) TO '{data / 'events.parquet'}' (FORMAT parquet)")
    con.close()
    assert publish(minimesh, data / "events.parquet", "events").exit_code == 0
    descriptor = yaml.safe_load((minimesh / "retail/products/events.yaml").read_text())
    assert {c["name"]: c["type"] for c in descriptor["columns"]}["at"] == "TIMESTAMP WITH TIME ZONE"
    checked = run("check", minimesh, "retail.events")
    assert checked.exception is None or isinstance(checked.exception, SystemExit), checked.output
    assert "Traceback" not in checked.output
    out = catalog.open_mesh(minimesh).session("steward").sql("SELECT max(at) AS newest FROM retail.events")
    newest = out["newest"][0]
    assert newest.tzinfo is not None and newest.astimezone(dt.timezone.utc).hour == 13


def test_a_large_local_file_publishes_in_place_and_a_copy_says_so(minimesh, tmp_path, monkeypatch):
    monkeypatch.setattr("catalog.publish.publish.MAX_UPLOAD_BYTES", 1_000)  # stands for the 100 MB limit
    outside = tmp_path / "warehouse"
    outside.mkdir()
    big = outside / "big.csv"
    big.write_text("id,amount\n" + "".join(f"{i},{i * 1.5}\n" for i in range(500)))
    before = (minimesh / "mesh.yaml").read_text()
    refused = publish(minimesh, big, "big")
    assert refused.exit_code == 2 and "--in-place" in refused.output
    monkeypatch.setenv("MESHWORK_USER", "someone@shop.example")
    denied = publish(minimesh, big, "big", "--in-place")
    assert denied.exit_code != 0 and "only a steward" in denied.output
    assert (minimesh / "mesh.yaml").read_text() == before
    monkeypatch.setenv("MESHWORK_USER", STEWARD)
    done = publish(minimesh, big, "big", "--in-place")
    assert done.exit_code == 0, done.output
    assert f"added {outside}" in done.output and "nothing copied" in done.output
    text = (minimesh / "mesh.yaml").read_text()
    assert text.startswith(before.rstrip("\n")) and "# the stewards" in text  # the rest of mesh.yaml as written
    assert yaml.safe_load(text)["data_roots"] == [str(outside)]
    assert not (minimesh / "retail" / "data" / "big.csv").exists()
    out = catalog.open_mesh(minimesh).session("steward").sql("SELECT count(*) AS n FROM retail.big")
    assert out["n"][0] == 500
    small = tmp_path / "small.csv"
    small.write_text("id\n1\n")
    copied = publish(minimesh, small, "small")
    assert copied.exit_code == 0 and "note: copying" in copied.output
