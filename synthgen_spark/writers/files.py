"""File writer: one real file per table per day (or per chunk), made visible atomically by a rename.

Spark writes a batch into a hidden temp folder (one part file per partition, in partition order);
each part is then renamed through the Hadoop FileSystem API to its final name, so local disk,
abfss:// and dbfs:/ behave alike and no reader ever sees a half-written file.
"""

from __future__ import annotations

from pyspark.sql import DataFrame

from synthgen_spark.errors import WriteError
from synthgen_spark.planner import TableDay
from synthgen_spark.writers.fs import HadoopFileSystem

CSV_OPTIONS = {"header": "true", "timestampFormat": "yyyy-MM-dd HH:mm:ss", "dateFormat": "yyyy-MM-dd"}


def _part_number(name: str) -> int:
    return int(name.split("-")[1])


def write_files(
    frame: DataFrame, table_days: list[TableDay], output_mode: str, temp_dir: str, fs: HadoopFileSystem
) -> None:
    """Write a batch of one table to its files: one per partition, renamed in partition order."""
    writer = frame.write.mode("overwrite")
    if output_mode == "csv":
        writer.options(**CSV_OPTIONS).csv(temp_dir)
    else:
        writer.parquet(temp_dir)
    parts = sorted((n for n in fs.list_names(temp_dir) if n.startswith("part-")), key=_part_number)
    targets = [path for td in table_days for path in td.paths]
    if len(parts) != len(targets):
        raise WriteError(
            f"writer: table '{table_days[0].table.name}': Spark wrote {len(parts)} part files for {len(targets)} "
            "expected files; nothing was moved into place."
        )
    for part, target in zip(parts, targets, strict=True):
        fs.move_into_place(f"{temp_dir}/{part}", target)
    fs.delete(temp_dir)
