"""Sink: what one output mode does with a run's table-days: check its places, prepare them, write batches.

A run opens one sink (``writers.open_sink``, chosen by the plan's layout) and asks it everything that
depends on the output: the runner's control flow is the same for files and Delta tables, and a new
output (another table in a batch) is written by the sink like any other table.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructType

from synthgen_spark.catalog import TableSpec
from synthgen_spark.planner import Batch, Plan, TableDay
from synthgen_spark.writers.fs import FileSystem

TABLE_WRITERS = 4  # a batch's tables written at once, one Spark job each; never changes the data

TableFrames = list[tuple[list[TableDay], DataFrame]]  # one table's table-days of a batch, and their rows

FrameBuilder = Callable[[list[TableDay]], DataFrame]  # the generated rows of some table-days


class Sink(ABC):
    """One output mode: the places of a run's table-days, their checks before writing, and batch writes."""

    file_index = False  # whether a batch frame carries the file index (``layout.FILE_INDEX``) per row
    table_writers = TABLE_WRITERS  # how many of a batch's tables are written at once

    def __init__(
        self, spark: SparkSession, plan: Plan, fs: FileSystem, run_id: str = "", frames: FrameBuilder | None = None
    ) -> None:
        self.spark, self.plan, self.fs, self.run_id = spark, plan, fs, run_id
        self.config, self.layout = plan.config, plan.layout
        self.frames = frames  # the engine's frames of other table-days, for a sink that writes more (Delta merge)

    def check_usable(self) -> None:
        """Before anything is written: refuse places this output cannot use (a file where a folder goes)."""
        return None  # nothing, unless the output has something to do

    def prepare(self, schemas: list[tuple[list[TableDay], StructType]]) -> None:
        """Before anything is written, with every table's schema: check (and create) what the tables need."""
        return None  # nothing, unless the output has something to do

    @abstractmethod
    def missing(self, done: list[TableDay]) -> set[tuple[str, dt.date]]:
        """Of the table-days the ledger has, those whose output is gone (cheap: no data is read)."""

    @abstractmethod
    def write_table(self, batch: Batch, table_days: list[TableDay], frame: DataFrame) -> None:
        """Write one table's rows of a batch so that each table-day is whole in place, or re-done on resume."""

    def write_batch(self, batch: Batch, frames: TableFrames) -> None:
        """Write a batch's tables, up to TABLE_WRITERS at once; returns once all are in place, else raises.

        Every table is finished (written or failed) before this returns, so the ledger, written after it,
        never records a day whose files are still being written.
        """
        if len(frames) == 1 or self.table_writers == 1:
            for table_days, frame in frames:
                self.write_table(batch, table_days, frame)
            return
        with ThreadPoolExecutor(min(self.table_writers, len(frames)), thread_name_prefix="synthgen-table") as pool:
            futures = [pool.submit(self.write_table, batch, table_days, frame) for table_days, frame in frames]
            wait(futures)
        for future in futures:
            future.result()  # the first failure, in table order

    @abstractmethod
    def read_back(self, table_days: list[TableDay], ddl: str) -> DataFrame | None:
        """The rows written for one table's ``table_days`` (None if none are there); ``ddl`` types a text format."""

    def close(self) -> None:
        """After the run (a failed one too): remove what only this run used."""
        return None  # nothing, unless the output has something to do

    @abstractmethod
    def locations(self, table_days: list[TableDay]) -> tuple[str, ...]:
        """Where the run's table-days went, for the summary: the job folder, or the tables."""

    def table_files(self, sizes, tables: list[TableSpec]) -> dict[str, dict] | None:
        """Per table of ``tables``, its storage location and files with their sizes (``sizes(path)``), where they
        are not per day."""
        return None
