"""File sink: one real file per table per day (or per chunk), made visible atomically by a rename.

Spark writes a batch into a hidden temp folder: one part file per partition, in partition order, or
(when a partition holds several files, see ``engine.build_batch_frame``) one part file per file index
under ``_sg_file_index=f/``. Each part is then renamed through the Hadoop FileSystem API to its final
name, so local disk, abfss:// and dbfs:/ behave alike and no reader ever sees a half-written file.
"""

from __future__ import annotations

import datetime as dt
import re

from pyspark.sql import DataFrame

from synthgen_spark.errors import WriteError
from synthgen_spark.layout import FILE_INDEX, day_files_pattern
from synthgen_spark.planner import Batch, TableDay
from synthgen_spark.writers.fs import FileSystem
from synthgen_spark.writers.sink import Sink

# values keep their spaces (a whitespace fault's padding); Spark's CSV writer trims them by default
CSV_OPTIONS = {
    "header": "true",
    "timestampFormat": "yyyy-MM-dd HH:mm:ss",
    "dateFormat": "yyyy-MM-dd",
    "ignoreLeadingWhiteSpace": "false",
    "ignoreTrailingWhiteSpace": "false",
}
FORMAT_OPTIONS = {"csv": CSV_OPTIONS, "parquet": {}}


class FileSink(Sink):
    """csv or parquet: one real file per table per day (or chunk), renamed into place from the run's temp folder."""

    file_index = True

    @property
    def temp_root(self) -> str:
        return f"{self.layout.temp_folder}/{self.run_id}"

    def missing(self, done: list[TableDay]) -> set[tuple[str, dt.date]]:
        """Table-days with a file missing or empty: one file status per file."""
        return {(td.table.name, td.date) for td in done if any(not self.fs.file_size(path) for path in td.paths)}

    def write_table(self, batch: Batch, table_days: list[TableDay], frame: DataFrame) -> None:
        temp_dir = f"{self.temp_root}/batch{batch.index:05d}_{table_days[0].table.name}"
        write_files(frame, table_days, self.layout.file_format, temp_dir, self.fs)

    def read_back(self, table_days: list[TableDay], ddl: str) -> DataFrame | None:
        paths = [p for td in table_days for p in td.paths if self.fs.exists(p)]
        if not paths:
            return None
        if self.layout.file_format == "csv":
            return self.spark.read.schema(ddl).options(**CSV_OPTIONS).csv(paths)
        return self.spark.read.parquet(*paths)

    def close(self) -> None:
        self.fs.delete(self.temp_root)

    def locations(self, table_days: list[TableDay]) -> tuple[str, ...]:
        return (self.layout.state_folder,)


def _part_number(name: str) -> int:
    return int(name.split("-")[1])


def write_files(frame: DataFrame, table_days: list[TableDay], file_format: str, temp_dir: str, fs: FileSystem) -> None:
    """Write a batch of one table to its files, then rename each part file to its file's path."""
    by_index = FILE_INDEX in frame.columns
    writer = frame.write.mode("overwrite")
    if by_index:
        writer = writer.partitionBy(FILE_INDEX)
    writer.format(file_format).options(**FORMAT_OPTIONS[file_format]).save(temp_dir)
    targets = [path for td in table_days for path in td.paths]
    folders: dict[str, list[str]] = {}
    for path in fs.list_two_levels(temp_dir):
        folder, _, name = path.rpartition("/")
        if name.startswith("part-"):
            folders.setdefault(folder, []).append(f"{temp_dir}/{path}")
    if by_index:
        parts = [folders.get(f"{FILE_INDEX}={index}", []) for index in range(len(targets))]
    else:
        numbered = {_part_number(p.rpartition("/")[2]): p for p in folders.get("", [])}
        parts = [[numbered[index]] if index in numbered else [] for index in range(len(targets))]
    # a feed's day without changes, or a day without faults (_faults), is a file without rows
    if table_days[0].table.derived_from or table_days[0].table.name.startswith("_"):
        parts = [p or _write_empty(frame, file_format, f"{temp_dir}/_sg_empty{i}", fs) for i, p in enumerate(parts)]
    if any(len(p) != 1 for p in parts):
        raise WriteError(
            f"writer: table '{table_days[0].table.name}': Spark wrote {sum(map(len, parts))} part files for "
            f"{len(targets)} expected files; nothing was moved into place."
        )
    for [part], target in zip(parts, targets, strict=True):
        fs.move_into_place(part, target)
    fs.delete(temp_dir)
    remove_other_layouts(table_days, fs)


def remove_other_layouts(table_days: list[TableDay], fs: FileSystem) -> None:
    """Delete files an earlier run with another chunk_size left for these days (else rows would repeat)."""
    by_folder: dict[str, list[tuple[re.Pattern[str], set[str]]]] = {}
    for td in table_days:
        folder, pattern = day_files_pattern(td.paths[0])
        by_folder.setdefault(folder, []).append((pattern, {path.rpartition("/")[2] for path in td.paths}))
    for folder, days in by_folder.items():
        for name in fs.list_names(folder):
            if any(pattern.fullmatch(name) and name not in keep for pattern, keep in days):
                fs.delete(f"{folder}/{name}")


def _write_empty(frame: DataFrame, file_format: str, folder: str, fs: FileSystem) -> list[str]:
    """Write a file with the frame's schema and no rows (a CSV header) into ``folder``; its path, in a list."""
    empty = frame.drop(FILE_INDEX).limit(0).write.mode("overwrite")
    empty.format(file_format).options(**FORMAT_OPTIONS[file_format]).save(folder)
    return [f"{folder}/{p}" for p in fs.list_two_levels(folder) if p.startswith("part-")]
