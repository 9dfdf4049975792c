"""Engines: where governed SQL runs (DuckDB in-process, Spark local or on a cluster), behind one contract."""
