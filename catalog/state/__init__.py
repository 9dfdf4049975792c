"""State: the per-mesh SQLite store (`store`), every table's DDL and owner (`migrations`), the one per-mesh
cache (`cache`)."""
