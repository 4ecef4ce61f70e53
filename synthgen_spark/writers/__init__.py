"""Writers: files (csv/parquet, atomic renames) and Delta tables (idempotent per date)."""

from synthgen_spark.writers.delta import check_delta_schema, write_delta
from synthgen_spark.writers.files import write_files
from synthgen_spark.writers.fs import FileSystem, LocalFileSystem, is_connect, open_file_system

__all__ = [
    "FileSystem",
    "LocalFileSystem",
    "check_delta_schema",
    "is_connect",
    "open_file_system",
    "write_delta",
    "write_files",
]
