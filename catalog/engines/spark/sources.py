"""A product's raw relation on Spark: files read in place by Spark, database tables bridged through DuckDB.

Parquet and CSV are read by Spark where they lie (the only sources that scale out). SQLite, DuckDB-file
and PostgreSQL tables have no Spark reader without extra JDBC jars, so the driver reads them through the
same DuckDB adapters as the default engine and hands them to Spark: fit for dimension-sized tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import duckdb
from sqlglot import exp

from catalog.errors import SourceUnavailable
from catalog.engines.extensions import load_extension
from catalog.descriptors.loader import resolve_source_path
from catalog.descriptors.model import DataProduct
from catalog.sources import DATABASE_KINDS, adapter_for, is_file, is_live_database
from catalog.sources.context import SourceContext

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# DuckDB reader option -> Spark CSV option, for the options whose meaning is the same on both.
_CSV_OPTIONS = {"delim": "sep", "sep": "sep", "delimiter": "sep", "header": "header", "quote": "quote",
                "escape": "escape", "nullstr": "nullValue"}
_PARQUET_OPTIONS = {"union_by_name": "mergeSchema"}


def spark_options(product: DataProduct) -> dict[str, str]:
    """The product's reader options in Spark's words; an option with no Spark equivalent is an error."""
    table = _CSV_OPTIONS if product.kind == "csv" else _PARQUET_OPTIONS
    options: dict[str, str] = {"header": "true"} if product.kind == "csv" else {}
    for key, value in product.source.options.items():
        name = table.get(key.lower())
        if name is None:
            raise SourceUnavailable(f"{product.id}: the {product.kind} option {key!r} has no Spark equivalent "
                                    f"(Spark understands: {', '.join(sorted(table))}); remove it to run on Spark.")
        options[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return options


def sniffed_schema(product: DataProduct, ctx: SourceContext) -> str | None:
    """The CSV's column types as DuckDB sniffs them, as a Spark DDL schema, so both engines agree.

    None when the driver cannot see the file (a cluster path): Spark then infers the types itself.
    """
    try:
        con = duckdb.connect()
        try:
            select = adapter_for("csv").relation(product, ctx)
            rows = con.execute(f"DESCRIBE {select.sql('duckdb')}").fetchall()
        finally:
            con.close()
    except duckdb.Error:
        return None
    fields = []
    for name, type_text, *_ in rows:
        dtype = exp.DataType.build(type_text, dialect="duckdb")
        if dtype.this == exp.DataType.Type.TIMESTAMP:
            dtype = exp.DataType.build("TIMESTAMP_NTZ", dialect="spark")
        fields.append(f"{exp.to_identifier(name, quoted=True).sql('spark')} {dtype.sql('spark')}")
    return ", ".join(fields)


def raw_frame(spark: "SparkSession", product: DataProduct, ctx: SourceContext, postgres: Any = None) -> "DataFrame":
    """A Spark DataFrame over the product's source (derived products are built from SQL elsewhere)."""
    if is_file(product):
        path = str(resolve_source_path(product, product.source.path).resolve())
        reader = spark.read.options(**spark_options(product))
        if product.kind == "parquet":
            return reader.parquet(path)
        schema = sniffed_schema(product, ctx)
        reader = reader.option("mode", "FAILFAST")
        return reader.schema(schema).csv(path) if schema else reader.option("inferSchema", "true").csv(path)
    if is_live_database(product) and postgres is not None:
        return spark.createDataFrame(postgres.rows(product))  # the engine's bounded PostgreSQL bridge
    if product.kind in DATABASE_KINDS:
        return spark.createDataFrame(_bridge(product))
    raise SourceUnavailable(f"{product.id}: Spark has no reader for {product.kind} sources")


def _bridge(product: DataProduct):
    """Read a database table on the driver through the DuckDB adapter (read-only) as an Arrow table."""
    con = duckdb.connect()
    loaded: set[str] = set()

    def load(name: str) -> None:
        if name not in loaded:
            load_extension(con, name)
            loaded.add(name)

    ctx = SourceContext(root=product.path, load_extension=load)
    try:
        adapter = adapter_for(product.kind)
        adapter.attach(con, product, ctx)
        return con.execute(adapter.relation(product, ctx).sql("duckdb")).to_arrow_table()
    except duckdb.Error as exc:
        raise SourceUnavailable(f"{product.id}: cannot read its {product.kind} source: "
                                f"{str(exc).splitlines()[0]}") from None
    finally:
        con.close()
