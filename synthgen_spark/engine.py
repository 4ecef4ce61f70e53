"""Engine: one DataFrame per table per batch, one ``spark.range`` over the whole batch.

A batch of one table is a list of files (table-day slices). With P files of at most S rows,
``spark.range(0, P*S, 1, P)`` gives partition f exactly the ids [f*S, (f+1)*S); the rows past a
file's size are filtered out, so partition f becomes file f. Per-day facts (date, ID offset,
populations) are looked up by file index from array literals, and a single-day batch uses plain
literals, so a batch compiles to one code-generated stage whatever its number of days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from synthgen_spark.catalog import DatasetSpec, PoolSpec, TableSpec
from synthgen_spark.config import JobConfig
from synthgen_spark.errors import SpecError
from synthgen_spark.generators import build_column, column_seed, day_row_key
from synthgen_spark.generators.categorical import array_literal
from synthgen_spark.generators.core import UNIX_EPOCH, spark_type
from synthgen_spark.planner import TableDay
from synthgen_spark.pools import load_locale_pools

ROW_INDEX = "_row_index"
FILE_INDEX = "_file_index"


@dataclass(frozen=True)
class FileSlice:
    """Rows [start, start + rows) of one table-day, written as one file."""

    table_day: TableDay
    start: int
    rows: int


def file_slices(table_days: list[TableDay]) -> list[FileSlice]:
    """Split each table-day into its files: balanced parts of at most chunk_size rows, in order."""
    slices = []
    for td in table_days:
        bounds = [td.rows * i // td.partitions for i in range(td.partitions + 1)]
        slices.extend(FileSlice(td, lo, hi - lo) for lo, hi in zip(bounds, bounds[1:], strict=False))
    return slices


class BatchFacts:
    """Per-file facts of a batch as Columns: literals when every file agrees, else array lookups."""

    def __init__(self, slices: list[FileSlice], file_index: Column) -> None:
        self.slices = slices
        self.file_index = file_index

    def per_file(self, values: list) -> Column:
        if len(set(values)) == 1:
            return F.lit(values[0])
        return F.element_at(array_literal(tuple(values)), (self.file_index + F.lit(1)).cast("int"))

    def day_ordinal(self) -> Column:
        return self.per_file([(s.table_day.date - UNIX_EPOCH).days for s in self.slices])

    def day(self) -> Column:
        dates = {s.table_day.date for s in self.slices}
        if len(dates) == 1:
            return F.lit(dates.pop())
        return F.date_add(F.lit(UNIX_EPOCH), self.day_ordinal())

    def fact(self, kind: str, table: str) -> Column:
        attribute = {"rows": "rows", "id_offset": "id_offsets", "population": "populations"}[kind]
        return self.per_file([getattr(s.table_day.facts, attribute)[table] for s in self.slices]).cast("bigint")


class RowScope:
    """The rows of one table in one batch, indexed by ``row_index``; builds and memoises their columns.

    Incremental rows are keyed by (day, row index); snapshot rows by the entity index alone, so an
    entity keeps its attributes in every snapshot.
    """

    def __init__(self, config: JobConfig, dataset: DatasetSpec, table: TableSpec, facts: BatchFacts, row_index: Column):
        self.config = config
        self.dataset = dataset
        self.table = table
        self.facts = facts
        self.day: Column = facts.day()
        self.day_ordinal: Column = facts.day_ordinal()
        self.row_index = row_index
        self.row_key = day_row_key(self.day_ordinal, row_index) if table.kind == "incremental" else row_index
        self._columns: dict[str, Column] = {}

    def seed(self, column: str, salt: str = "") -> int:
        return column_seed(self.config.seed_value, self.table.name, column, salt)

    def column(self, name: str) -> Column:
        spec = self.table.column(name)
        if spec.kind == "derived":
            return F.col(name)  # defined earlier in the same DataFrame
        if name not in self._columns:
            self._columns[name] = build_column(spec, self)
        return self._columns[name]

    def related(self, table: str, row_index: Column) -> RowScope:
        return RowScope(self.config, self.dataset, self.dataset.table(table), self.facts, row_index)

    def pool(self, name: str) -> PoolSpec:
        if name in self.dataset.pools:
            return self.dataset.pools[name]
        pools = load_locale_pools(self.config.locale)
        if name not in pools:
            names = ", ".join(sorted(set(self.dataset.pools) | set(pools)))
            raise SpecError(
                f"{self.dataset.source}: table '{self.table.name}': unknown pool {name!r}; allowed: {names}"
            )
        return pools[name]

    def day_fact(self, kind: str, table: str) -> Column:
        return self.facts.fact(kind, table)

    def drift_factor(self) -> Column | None:
        """(1 + drift_percentage/100) ** (days since epoch / 30) when drift is on, else None."""
        if not self.config.enable_data_drift:
            return None
        days = self.day_ordinal - F.lit((self.dataset.epoch - UNIX_EPOCH).days)
        return F.pow(F.lit(1.0 + self.config.drift_percentage / 100.0), days.cast("double") / F.lit(30.0))


def table_ddl(table: TableSpec) -> str:
    """The output schema as a DDL string (for reading CSV back with exact types)."""
    return ", ".join(f"{c.name} {spark_type(c.type)}" for c in table.output_columns)


def build_batch_frame(
    spark: SparkSession, config: JobConfig, dataset: DatasetSpec, table_days: list[TableDay]
) -> DataFrame:
    """The rows of one table over a batch of days: partition f holds exactly file f's rows, in order."""
    table = table_days[0].table
    slices = file_slices(table_days)
    widest = max(s.rows for s in slices)
    frame = spark.range(0, len(slices) * widest, 1, len(slices))
    if len(slices) == 1:
        frame = frame.select(F.lit(0).alias(FILE_INDEX), F.col("id").alias("_local"))
    else:
        file_index = F.call_function("div", F.col("id"), F.lit(widest).cast("bigint"))
        local = F.col("id") - file_index * F.lit(widest).cast("bigint")
        frame = frame.select(file_index.alias(FILE_INDEX), local.alias("_local"))
    facts = BatchFacts(slices, F.col(FILE_INDEX))
    if any(s.rows != widest for s in slices):
        frame = frame.where(F.col("_local") < facts.per_file([s.rows for s in slices]))
    frame = frame.select("*", (facts.per_file([s.start for s in slices]) + F.col("_local")).alias(ROW_INDEX))
    scope = RowScope(config, dataset, table, facts, F.col(ROW_INDEX))
    pending: list[Column] = []
    for spec in table.columns:
        if spec.kind != "derived":
            pending.append(scope.column(spec.name).alias(spec.name))
            continue
        if pending:
            frame, pending = frame.select("*", *pending), []
        frame = frame.select("*", build_column(spec, scope).alias(spec.name))
    if pending:
        frame = frame.select("*", *pending)
    return frame.select(*[c.name for c in table.output_columns])


def partition_days(table_days: list[TableDay]) -> list[dt.date]:
    """The date of each partition (file) of a batch frame, in partition order."""
    return [s.table_day.date for s in file_slices(table_days)]
