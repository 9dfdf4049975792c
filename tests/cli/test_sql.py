"""`meshwork sql`: governed queries from the shell, as a capped table or a full CSV / Parquet result."""

from __future__ import annotations

import io
import subprocess
import sys

import polars as pl
from typer.testing import CliRunner

import catalog
from catalog.cli import app as cli

JOIN = "SELECT c.age, s.score FROM retail.customers c JOIN risk.scores s USING (customer_id) ORDER BY c.age"


def test_table_shows_masked_rows_and_the_count(minimesh):
    result = CliRunner().invoke(cli, ["sql", str(minimesh), "SELECT email, age FROM retail.customers ORDER BY age",
                                      "--role", "analyst", "--max-rows", "2"])
    assert result.exit_code == 0, result.output
    assert "***@bank.example" in result.stdout and "ana@bank.example" not in result.stdout
    assert "showing first 2 of 3 rows" in result.stderr


def test_csv_streams_the_full_result_to_stdout(minimesh):
    result = CliRunner().invoke(cli, ["sql", str(minimesh), JOIN, "--format", "csv"])
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(io.StringIO(result.stdout))
    assert frame["score"].to_list() == [580, 700, 640]


def test_parquet_goes_to_a_file(minimesh, tmp_path):
    out = tmp_path / "big.parquet"
    result = CliRunner().invoke(cli, ["sql", str(minimesh), "SELECT * FROM range(200000) t(i), retail.branches",
                                      "-f", "parquet", "-o", str(out), "--role", "steward"])
    assert result.exit_code == 0, result.output
    assert pl.read_parquet(out).height == 400_000 and "400,000 rows written" in result.stderr


def test_a_refused_query_says_why_and_exits_2(minimesh):
    result = CliRunner().invoke(cli, ["sql", str(minimesh), "SELECT * FROM read_parquet('x.parquet')"])
    assert result.exit_code == 2 and "refused: `read_parquet` is not a table function queries may call" in result.stderr
    syntax = CliRunner().invoke(cli, ["sql", str(minimesh), "SELECT * FORM retail.customers"])
    assert syntax.exit_code == 2 and "line 1, column 15" in syntax.stderr and "^" in syntax.stderr


def test_an_unknown_role_is_refused_with_2_and_a_timeout_exits_1(minimesh):
    assert CliRunner().invoke(cli, ["sql", str(minimesh), "SELECT 1", "--role", "nobody"]).exit_code == 2
    slow = CliRunner().invoke(cli, ["sql", str(minimesh), "SELECT count(*) FROM range(100000) a, range(100000) b",
                                    "--timeout", "0.3"])
    assert slow.exit_code == 1 and "time limit" in slow.stderr


def test_query_from_stdin_and_usage_is_recorded(minimesh):
    done = subprocess.run([sys.executable, "-c", "from catalog.cli import main; main()", "sql", str(minimesh), "-",
                           "-f", "csv", "--user", "cli@bank.example"],
                          input=JOIN, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == '"age","score"'
    usage = catalog.open_mesh(minimesh).usage()
    assert sorted(usage["product_id"]) == ["retail.customers", "risk.scores"]
    assert set(usage["user"]) == {"cli@bank.example"}
