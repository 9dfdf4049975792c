"""Scale-out: the same mesh on Apache Spark (`engine: spark` in mesh.yaml, or `open_mesh(path, engine="spark")`).

Nothing here is imported unless a mesh asks for Spark, so DuckDB meshes never load pyspark.
"""

from catalog.engines.spark.engine import SparkEngine, SparkRoleDatabase
from catalog.engines.spark.runtime import SparkUnavailable, spark_session, stop
from catalog.engines.spark.session import SparkSqlSession

__all__ = ["SparkEngine", "SparkRoleDatabase", "SparkSqlSession", "SparkUnavailable", "spark_session", "stop"]
