"""Delta writer: one Delta table per dataset table; each batch replaces exactly its dates.

``replaceWhere`` on the table's date column (the primary date, or snapshot_date) makes a re-run
of any range idempotent; every commit's ``userMetadata`` names the run. DataFrame API and SQL
only, so it runs on classic and Spark Connect sessions alike.
"""

from __future__ import annotations

import json

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructType

from synthgen_spark.catalog import TableSpec
from synthgen_spark.config import JobConfig
from synthgen_spark.errors import ConfigError
from synthgen_spark.lateness import write_date_column
from synthgen_spark.planner import TableDay


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
    target = table_days[0].paths[0]
    dates = sorted({td.date for td in table_days})
    predicate = f"{write_date_column(table)} IN ({', '.join(f'DATE{d.isoformat()!r}' for d in dates)})"
    metadata = {
        "run_id": run_id,
        "job_name": config.job_name,
        "dataset_id": config.dataset_id,
        "seed_value": config.seed_value,
        "dates": f"{dates[0]}..{dates[-1]}",
    }
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
