"""Engine: one DataFrame per table per batch, composed from the generators over ``spark.range``."""

from __future__ import annotations

import datetime as dt
from functools import reduce

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from synthgen_spark.catalog import DatasetSpec, PoolSpec, TableSpec
from synthgen_spark.config import JobConfig
from synthgen_spark.errors import SpecError
from synthgen_spark.generators import build_column, column_seed, day_row_key
from synthgen_spark.generators.core import spark_type
from synthgen_spark.planner import DayFacts, TableDay
from synthgen_spark.pools import load_locale_pools

ROW_INDEX = "_row_index"


class RowScope:
    """The rows of one table on one day, indexed by ``row_index``; builds and memoises their columns.

    Incremental rows are keyed by (day, row index); snapshot rows by the entity index alone, so an
    entity keeps its attributes in every snapshot.
    """

    def __init__(self, config: JobConfig, dataset: DatasetSpec, table: TableSpec, facts: DayFacts, row_index: Column):
        self.config = config
        self.dataset = dataset
        self.table = table
        self.facts = facts
        self.day: dt.date = facts.date
        self.row_index = row_index
        self.row_key = day_row_key(self.day, row_index) if table.kind == "incremental" else row_index
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
            raise SpecError(f"{self.dataset.source}: table '{self.table.name}': unknown pool {name!r}; allowed: {names}")
        return pools[name]

    def day_fact(self, kind: str, table: str) -> int:
        facts = {"rows": self.facts.rows, "id_offset": self.facts.id_offsets, "population": self.facts.populations}
        return facts[kind][table]

    def drift_factor(self) -> float:
        """(1 + drift_percentage/100) ** (days since epoch / 30) when drift is on, else 1."""
        if not self.config.enable_data_drift:
            return 1.0
        days = (self.day - self.dataset.epoch).days
        return (1.0 + self.config.drift_percentage / 100.0) ** (days / 30.0)


def table_ddl(table: TableSpec) -> str:
    """The output schema as a DDL string (for reading CSV back with exact types)."""
    return ", ".join(f"{c.name} {spark_type(c.type)}" for c in table.output_columns)


def build_table_day_frame(spark: SparkSession, config: JobConfig, dataset: DatasetSpec, table_day: TableDay) -> DataFrame:
    """The rows of one table on one date, in ``table_day.partitions`` equal partitions, in row order."""
    table = table_day.table
    if table_day.partitions == 1:
        # A one-slice range reports SinglePartition, and Spark 4.1 zips unions of such children into
        # one partition; an empty second slice keeps one partition (so one file) per day in a union.
        frame = spark.range(0, 2 * table_day.rows, 1, 2).where(F.col("id") < F.lit(table_day.rows))
    else:
        frame = spark.range(0, table_day.rows, 1, table_day.partitions)
    frame = frame.withColumnRenamed("id", ROW_INDEX)
    scope = RowScope(config, dataset, table, table_day.facts, F.col(ROW_INDEX))
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


def build_batch_frame(spark: SparkSession, config: JobConfig, dataset: DatasetSpec, table_days: list[TableDay]) -> DataFrame:
    """One DataFrame over several days of one table: per-day frames in date order, partitions kept."""
    frames = [build_table_day_frame(spark, config, dataset, td) for td in table_days]
    return reduce(DataFrame.union, frames)
