"""Delta sink: one Delta table per dataset table; each batch replaces exactly its dates.

``replaceWhere`` on the table's date column (the primary date, or snapshot_date) makes a re-run
of any range idempotent; every commit's ``userMetadata`` names the run. DataFrame API and SQL
only, so it runs on classic and Spark Connect sessions alike.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from threading import Lock

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructType

from synthgen_spark.catalog import TableSpec
from synthgen_spark.changes import CHANGES_SUFFIX
from synthgen_spark.config import JobConfig
from synthgen_spark.derived import image_columns
from synthgen_spark.errors import ConfigError, WriteError
from synthgen_spark.lateness import write_date_column
from synthgen_spark.layout import delta_target
from synthgen_spark.planner import Batch, Plan, TableDay, by_table, table_day
from synthgen_spark.writers.fs import FileSystem
from synthgen_spark.writers.sink import FrameBuilder, Sink


def delta_table_at(spark: SparkSession, location: str) -> DataFrame | None:
    """The Delta table at ``location`` (analysed), or None where there is none (asked of Spark)."""
    try:  # a classic session analyses on load, Spark Connect on the first schema request
        frame = spark.read.format("delta").load(location)
        frame.schema  # noqa: B018 - analysis is what tells whether a table is there
    except AnalysisException:
        return None
    return frame


def existing_table(spark: SparkSession, config: JobConfig, target: str) -> DataFrame | None:
    """The job's Delta table ``target`` (a path or a catalog name, per ``table_location``), or None."""
    if config.table_location == "path":
        return delta_table_at(spark, target)
    return spark.table(target) if spark.catalog.tableExists(target) else None


def adopt_orphan_location(spark: SparkSession, config: JobConfig, target: str) -> None:
    """Re-register a managed Delta table whose files outlived an in-memory catalog (local runs)."""
    if config.table_location == "path" or spark.catalog.tableExists(target):
        return
    warehouse = (spark.conf.get("spark.sql.warehouse.dir", None) or "").rstrip("/")
    if not warehouse:
        return
    parts = target.split(".")
    location = f"{warehouse}/{parts[0]}.db/{parts[1]}" if len(parts) == 2 else f"{warehouse}/{target}"
    if delta_table_at(spark, location) is not None:
        spark.sql(f"CREATE TABLE {target} USING DELTA LOCATION '{location}'")


def check_delta_schema(
    spark: SparkSession, config: JobConfig, table: TableSpec, target: str, schema: StructType
) -> None:
    """Refuse (before anything is written) a pre-existing table whose columns differ from the dataset's.

    Raises:
        ConfigError: naming the table, the differing columns, and what to do.
    """
    adopt_orphan_location(spark, config, target)
    current = existing_table(spark, config, target)
    if current is None:
        return
    existing = current.schema
    have = {f.name: f.dataType.simpleString() for f in existing.fields}
    want = {f.name: f.dataType.simpleString() for f in schema.fields}
    differences = [f"missing {n}" for n in want if n not in have]
    differences += [f"unexpected {n}" for n in have if n not in want]
    differences += [f"{n} is {have[n]}, dataset has {want[n]}" for n in want if n in have and have[n] != want[n]]
    if differences:
        raise ConfigError(
            f"table '{target}': existing Delta table does not match dataset table '{table.name}' "
            f"({'; '.join(differences)}); drop it, or choose another table_name_template, database or job_name."
        )


def write_delta(frame: DataFrame, table_days: list[TableDay], config: JobConfig, run_id: str) -> None:
    """Replace the batch's dates in the table with ``frame`` (creating the table on first write)."""
    table = table_days[0].table
    target = table_days[0].target.table
    dates = sorted({td.date for td in table_days})
    predicate = f"{write_date_column(table)} IN ({', '.join(f'DATE{d.isoformat()!r}' for d in dates)})"
    metadata = {
        "run_id": run_id,
        "job_name": config.job_name,
        "dataset_id": config.dataset_id,
        "seed_value": config.seed_value,
        "dates": f"{dates[0]}..{dates[-1]}",
    }
    if config.partition_by_date:  # Spark 4.1 refuses a catalog table whose partition column is not last
        column = write_date_column(table)
        frame = frame.select(*[c for c in frame.columns if c != column], column)
    writer = (
        frame.write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", predicate)
        .option("userMetadata", json.dumps(metadata, sort_keys=True))
    )
    if config.partition_by_date:
        writer = writer.partitionBy(write_date_column(table))
    if config.table_location == "path":
        writer.save(target)
    else:
        writer.saveAsTable(target)


CURRENT_SUFFIX = "_current"  # snapshot_write: merge keeps {table}_current, a Delta table with its Change Data Feed
MERGED_THROUGH = "synthgen.merged_through"  # table property: the last day whose changes the table holds
FEED_COLUMNS = ("change_op", "change_date", "change_ts", "change_seq")


def _sql_target(config: JobConfig, target: str) -> str:
    return f"delta.`{target}`" if config.table_location == "path" else target


def merged_through(spark: SparkSession, config: JobConfig, target: str) -> dt.date | None:
    """The last day merged into the current-state table ``target`` (its table property), or None if no table."""
    if existing_table(spark, config, target) is None:
        return None
    rows = spark.sql(f"SHOW TBLPROPERTIES {_sql_target(config, target)}").collect()
    value = {r[0]: r[1] for r in rows}.get(MERGED_THROUGH)
    return dt.date.fromisoformat(value) if value else None


def _create_state(spark: SparkSession, config: JobConfig, target: str, seed: DataFrame, day: dt.date) -> None:
    """Create the current-state table with the Change Data Feed on, holding ``seed`` (the state at the end of ``day``)."""
    columns = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in seed.schema.fields)
    spark.sql(
        f"CREATE TABLE {_sql_target(config, target)} ({columns}) USING DELTA "
        f"TBLPROPERTIES ('delta.enableChangeDataFeed' = 'true', '{MERGED_THROUGH}' = '{day.isoformat()}')"
    )
    writer = seed.write.format("delta").mode("append")
    writer.save(target) if config.table_location == "path" else writer.insertInto(target)


def merge_current_state(spark: SparkSession, plan: Plan, feed_days: list[TableDay], build: FrameBuilder) -> None:
    """``snapshot_write: merge``: bring the Delta table ``{table}_current`` up to the feed batch's last day.

    The table starts as the snapshot of the day before the run (the epoch at the earliest) and takes
    one MERGE per day of that day's ``{table}_changes``, so its Change Data Feed equals the feed.
    """
    config, dataset = plan.config, plan.dataset
    feed = feed_days[0].table
    base = dataset.table(feed.derived_from)

    def changes_of(day: dt.date) -> DataFrame:
        td = table_day(config, plan.calendar, feed, day, rows_of=base)
        return build([td])

    def seed_of() -> tuple[dt.date, DataFrame]:
        day = max(dataset.epoch, config.start_date - dt.timedelta(days=1))
        frame = build([table_day(config, plan.calendar, base, day)])
        return day, frame.select(*image_columns(base))

    target = delta_target(config, f"{base.name}{CURRENT_SUFFIX}")
    merge_changes(spark, config, target, base.primary_key, [td.date for td in feed_days], changes_of, seed_of)


def merge_changes(
    spark: SparkSession,
    config: JobConfig,
    target: str,
    key: str,
    days: list[dt.date],
    changes_of: Callable[[dt.date], DataFrame],
    seed_of: Callable[[], tuple[dt.date, DataFrame]],
) -> None:
    """Bring the current-state table ``target`` up to the last of ``days``: one MERGE of each day's changes.

    The table starts as ``seed_of()`` (the snapshot of the day before the first merged day). Each day
    after the table's ``synthgen.merged_through`` is merged once, in date order (a gap left by a batch
    still to come is filled now, and that batch then finds its days merged), so the table's Change Data
    Feed holds each day's inserts, updates and deletes exactly once: those of ``{table}_changes``.
    """
    done = merged_through(spark, config, target)
    if done is None:
        done, seed = seed_of()
        _create_state(spark, config, target, seed, done)
    name = _sql_target(config, target)
    day = done + dt.timedelta(days=1)
    while day <= max(days):
        changes = changes_of(day)
        image = [c for c in changes.columns if c not in FEED_COLUMNS]
        view = f"_sg_merge_{abs(hash((target, day)))}"
        changes.createOrReplaceTempView(view)
        spark.sql(
            f"MERGE INTO {name} AS t USING {view} AS s ON t.`{key}` = s.`{key}` "
            "WHEN MATCHED AND s.change_op = 'delete' THEN DELETE "
            f"WHEN MATCHED THEN UPDATE SET {', '.join(f't.`{c}` = s.`{c}`' for c in image)} "
            f"WHEN NOT MATCHED AND s.change_op <> 'delete' THEN INSERT ({', '.join(f'`{c}`' for c in image)}) "
            f"VALUES ({', '.join(f's.`{c}`' for c in image)})"
        )
        spark.catalog.dropTempView(view)
        spark.sql(f"ALTER TABLE {name} SET TBLPROPERTIES ('{MERGED_THROUGH}' = '{day.isoformat()}')")
        day += dt.timedelta(days=1)


class DeltaSink(Sink):
    """Delta: one table per dataset table (a path or a metastore name); each batch replaces its dates."""

    # one table at a time: on Spark 3.5 with delta-spark 3.2, a write from another thread replaced the
    # whole table instead of its replaceWhere dates (tests/test_delta.py on the 3.5 subset)
    table_writers = 1

    def __init__(
        self, spark: SparkSession, plan: Plan, fs: FileSystem, run_id: str = "", frames: FrameBuilder | None = None
    ) -> None:
        super().__init__(spark, plan, fs, run_id, frames)
        self._table_locks = {td.table.name: Lock() for td in self.plan.table_days}  # one commit per table at a time

    def check_usable(self) -> None:
        """Path-mode tables: a file where a table's folder goes is refused before anything is written."""
        if self.config.table_location != "path":
            return
        for path in sorted({td.target.table for td in self.plan.table_days}):
            if self.fs.file_size(path) is not None:
                raise WriteError(f"writer: {path} is a file where the Delta table goes; move it away")

    def prepare(self, schemas: list[tuple[list[TableDay], StructType]]) -> None:
        """Refuse existing tables of another schema; create the database of metastore tables."""
        for table_days, schema in schemas:
            check_delta_schema(self.spark, self.config, table_days[0].table, table_days[0].target.table, schema)
        if self.config.database and self.config.table_location == "metastore":
            self.spark.sql(f"CREATE DATABASE IF NOT EXISTS {self.config.database}")

    def missing(self, done: list[TableDay]) -> set[tuple[str, dt.date]]:
        """Per table, one existence check and one query of the distinct dates the ledger says it holds."""
        missing = set()
        for name, table_days in by_table(done).items():
            target, column = table_days[0].target.table, write_date_column(table_days[0].table)
            frame = existing_table(self.spark, self.config, target)
            expected = {td.date for td in table_days if td.rows > 0}
            present = _dates_in(frame, column, expected) if frame is not None and expected else set()
            missing |= {(name, td.date) for td in table_days if frame is None or (td.date in expected - present)}
        return missing

    def write_table(self, batch: Batch, table_days: list[TableDay], frame: DataFrame) -> None:
        with self._table_locks[table_days[0].table.name]:
            write_delta(frame, table_days, self.config, self.run_id)
            if self.config.snapshot_write == "merge" and self._is_entity_feed(table_days[0].table):
                merge_current_state(self.spark, self.plan, table_days, self.frames)

    def _is_entity_feed(self, table: TableSpec) -> bool:
        """A snapshot table's change feed (merged into ``{table}_current``), not a fact's progress steps."""
        base = table.derived_from and self.plan.dataset.table(table.derived_from)
        return bool(base) and table.name.endswith(CHANGES_SUFFIX) and base.kind == "snapshot"

    def locations(self, table_days: list[TableDay]) -> tuple[str, ...]:
        return tuple(sorted({td.target.table for td in table_days}))

    def read_back(self, table_days: list[TableDay], ddl: str) -> DataFrame | None:
        table = table_days[0].table
        frame = existing_table(self.spark, self.config, table_days[0].target.table)
        if frame is None:
            return None
        dates = ", ".join(f"DATE'{td.date.isoformat()}'" for td in table_days)
        return frame.where(f"{write_date_column(table)} IN ({dates})")

    def table_files(self, sizes, tables: list[TableSpec]) -> dict[str, dict]:
        """Per table: the Delta table's location and its current files with their sizes.

        DESCRIBE DETAIL and ``inputFiles()`` read the Delta log, not the data.
        """
        details = {}
        for table in tables:
            target = delta_target(self.config, table.name)
            if self.config.table_location == "path":
                if not self.fs.exists(f"{target}/_delta_log"):
                    continue
                name, frame = f"delta.`{target}`", self.spark.read.format("delta").load(target)
            elif self.spark.catalog.tableExists(target):
                name, frame = target, self.spark.table(target)
            else:
                continue
            location = self.spark.sql(f"DESCRIBE DETAIL {name}").select("location").first()["location"]
            files = [{"path": path, "bytes": sizes(path)} for path in sorted(frame.inputFiles())]
            details[table.name] = {"location": location, "files": files}
        return details


def _dates_in(frame: DataFrame, column: str, dates: set[dt.date]) -> set[dt.date]:
    """Which of ``dates`` the table holds rows of (a distinct over its date column; at most len(dates) rows)."""
    listed = ", ".join(f"DATE'{d.isoformat()}'" for d in sorted(dates))
    return {row[0] for row in frame.where(f"{column} IN ({listed})").select(column).distinct().collect()}
