"""Engines: where governed SQL runs (DuckDB in process, Spark local or on a cluster), behind one contract
(catalog/engines/base.py: `Engine`, `RoleDatabase` and their capability flags). One module per engine:
duckdb.py, spark/. The masking token they all register is tokens.py; extensions.py loads DuckDB's."""
