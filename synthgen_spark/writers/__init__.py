"""Writers: one sink per output mode (files: csv/parquet with atomic renames; Delta tables), the file system."""

from synthgen_spark.layout import FileLayout, Layout, TableLayout
from synthgen_spark.planner import Plan
from synthgen_spark.writers.delta import DeltaSink, check_delta_schema, write_delta
from synthgen_spark.writers.files import FileSink, write_files
from synthgen_spark.writers.fs import FileSystem, LocalFileSystem, is_connect, open_file_system
from synthgen_spark.writers.sink import FrameBuilder, Sink

SINKS: dict[type[Layout], type[Sink]] = {FileLayout: FileSink, TableLayout: DeltaSink}


def open_sink(spark, plan: Plan, fs: FileSystem, run_id: str = "", frames: FrameBuilder | None = None) -> Sink:
    """The sink of the plan's layout (``layout.layout_for`` reads the output mode; nothing else does)."""
    return SINKS[type(plan.layout)](spark, plan, fs, run_id, frames)


__all__ = [
    "SINKS",
    "DeltaSink",
    "FileSink",
    "FileSystem",
    "LocalFileSystem",
    "Sink",
    "check_delta_schema",
    "is_connect",
    "open_file_system",
    "open_sink",
    "write_delta",
    "write_files",
]
