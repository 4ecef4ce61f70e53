"""Writers: files (csv/parquet, atomic renames) and Delta tables (idempotent per date)."""

from synthgen_spark.writers.delta import check_delta_schema, write_delta
from synthgen_spark.writers.files import write_files
from synthgen_spark.writers.fs import HadoopFileSystem

__all__ = ["HadoopFileSystem", "check_delta_schema", "write_delta", "write_files"]
