"""Scale-out: the same mesh on Apache Spark (`engine: spark` in mesh.yaml, or `open_mesh(path, engine="spark")`).

Nothing here imports pyspark at module level (it is imported where a Spark session starts), so DuckDB
meshes never load it.
"""

from catalog.engines.spark.engine import SparkEngine, SparkRoleDatabase
from catalog.engines.spark.runtime import SparkUnavailable, spark_session, stop

__all__ = ["SparkEngine", "SparkRoleDatabase", "SparkUnavailable", "spark_session", "stop"]
