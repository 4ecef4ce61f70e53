"""Faults on late tables: dirty = the clean twin (same lateness) + exactly the labels, dated by the row's file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from synthgen_spark.config import FAULT_TYPES, JobConfig
from synthgen_spark.faults import FAULTS_TABLE
from synthgen_spark.planner import build_plan, table_day_faults

from .helpers import cell_differences

FAULT_LATE_DATASET = """
dataset_id: fault_late_mini
epoch: 2024-01-01
tables:
  - name: things
    kind: snapshot
    rows: 20
    primary_key: thing_id
    columns:
      - {name: thing_id, kind: sequence}
      - {name: snapshot_date, kind: generation_date}
      - {name: colour, kind: choice, values: [red, green, blue]}
  - name: orders
    kind: incremental
    rows: 60
    primary_key: order_id
    primary_date_column: order_date
    columns:
      - {name: order_id, kind: sequence}
      - {name: order_date, kind: generation_date}
      - {name: thing_id, kind: foreign_key, references: things.thing_id}
      - {name: amount, kind: uniform, min: 1, max: 1000}
      - {name: status, kind: choice, values: [new, paid, shipped]}
      - {name: code, kind: template, pattern: "ORD-####"}
      - {name: due_date, kind: date_offset, min_days: 1, max_days: 9}
  - name: lines
    kind: incremental
    rows: 150
    parent: orders
    rows_per_parent: 2.5
    primary_key: line_id
    primary_date_column: order_date
    columns:
      - {name: line_id, kind: sequence}
      - {name: order_id, kind: parent_key}
      - {name: order_date, kind: generation_date}
      - {name: qty, kind: uniform, min: 1, max: 9}
"""
START, END = dt.date(2024, 1, 10), dt.date(2024, 1, 15)
KEYS = {"things": "thing_id", "orders": "order_id", "lines": "line_id"}
LATE_TABLES = ("orders", "lines")


def job(root: Path, dataset: Path, **overrides) -> JobConfig:
    values = {
        "job_name": "faults_late",
        "dataset_id": "fault_late_mini",
        "dataset_path": str(dataset),
        "start_date": START.isoformat(),
        "end_date": END.isoformat(),
        "batch_size": 6,
        "seed_value": 5,
        "late_arrival_rate": 0.3,
        "max_late_days": 2,
        "fault_rate": 0.1,
        "output_root": str(root),
    }
    return JobConfig.from_mapping({**values, **overrides})


@pytest.fixture(scope="module")
def dataset_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("fault_late_dataset") / "fault_late_mini.yaml"
    path.write_text(FAULT_LATE_DATASET)
    return path


# --- Spark-free: the plan ----------------------------------------------------------------------------


def test_late_tables_get_faults_per_arrival_day_and_labels_per_file_day(dataset_file):
    plan = build_plan(job(Path("/tmp/unused"), dataset_file))
    labels = {td.date: td for td in plan.table_days if td.table.name == FAULTS_TABLE}
    for td in plan.table_days:
        if td.table.name in LATE_TABLES:
            faults = table_day_faults(plan.config, plan.dataset, td)
            assert faults.faulted == round(td.rows * 0.1) and td.written_rows == td.rows + faults.duplicates
            labelled = {(s.table.name, s.date, s.rows) for s in labels[td.date].labels_of}
            assert (td.table.name, td.date, td.rows) in labelled and any(s.source.date != td.date for s in td.segments)
    assert sum(labels[d].rows for d in labels) == sum(
        table_day_faults(plan.config, plan.dataset, td).faulted
        for td in plan.table_days
        if td.table.name != FAULTS_TABLE
    )


# --- Spark: one parquet run, its clean twin, and the same days as two Delta runs ---------------------


def _files(spark, report, table):
    from pyspark.sql import functions as F

    paths = [p for r in report.results if r.table == table for p in r.paths]
    file_day = F.to_date(F.regexp_extract("_file", r"/(\d{4}/\d{2}/\d{2})/data\.parquet$", 1), "yyyy/MM/dd")
    frame = spark.read.parquet(*paths).withColumn("_file", F.col("_metadata.file_path"))
    return frame.withColumn("_file_day", file_day).drop("_file")


@pytest.fixture(scope="module")
def runs(spark, tmp_path_factory, dataset_file):
    """The dirty parquet run over the 6 days, and the clean twin's frames (same seed and lateness, no faults)."""
    from pyspark.sql import DataFrame

    from synthgen_spark import api
    from synthgen_spark.engine import build_batch_frame

    root = tmp_path_factory.mktemp("faults_late")
    config = job(root, dataset_file)
    report = api.generate(config, spark=spark)
    clean = build_plan(config.with_overrides({"fault_rate": 0.0}))
    twins: dict[str, DataFrame] = {}
    for name in KEYS:
        tds = [td for td in clean.table_days if td.table.name == name]
        twins[name] = build_batch_frame(spark, clean.config, clean.dataset, tds)
    return config, report, twins


def test_dirty_late_output_is_the_clean_twin_plus_exactly_the_labels(spark, runs):
    from pyspark.sql import functions as F

    _, report, twins = runs
    labels = spark.read.parquet(*[p for r in report.results if r.table == FAULTS_TABLE for p in r.paths])
    assert {r[0] for r in labels.select("fault_type").distinct().collect()} == set(FAULT_TYPES)
    for name, pk in KEYS.items():
        date_column = "arrival_date" if name in LATE_TABLES else "snapshot_date"
        dirty = _files(spark, report, name).drop("_file_day")
        mine = labels.where(F.col("table") == name).drop("fault_type")
        differences = cell_differences(twins[name], dirty, name, pk, date_column)
        cells = mine.where("`column` IS NOT NULL")
        assert differences.exceptAll(cells).count() == 0, name  # no unlabelled difference
        assert cells.exceptAll(differences).count() == 0, name  # no label without a difference
        copies = dirty.groupBy(date_column, pk).agg(F.count("*").alias("n"), F.countDistinct(*dirty.columns).alias("k"))
        assert copies.where("n > 2 OR k > 1").count() == 0, name  # a duplicate is an exact copy in its file
        twice = copies.where("n = 2").select(F.col(date_column).alias("date"), F.col(pk).cast("string"))
        duplicates = mine.where("`column` IS NULL").select("date", "primary_key")
        assert sorted(twice.collect()) == sorted(duplicates.collect()) and duplicates.count(), name


def test_each_label_is_dated_by_its_rows_file_and_every_row_is_written_once(spark, runs):
    from pyspark.sql import functions as F

    _, report, twins = runs
    labels = spark.read.parquet(*[p for r in report.results if r.table == FAULTS_TABLE for p in r.paths])
    for name in LATE_TABLES:
        pk = KEYS[name]
        files = _files(spark, report, name)
        keyed = files.select(F.col(pk).cast("string").alias("primary_key"), "_file_day", "arrival_date", "order_date")
        mine = labels.where(F.col("table") == name).join(keyed.dropDuplicates(), "primary_key", "left")
        stats = mine.agg(
            F.count("*").alias("labels"),
            F.sum((F.col("date") != F.col("_file_day")).cast("int")).alias("wrong_date"),
            F.sum((F.col("order_date") < F.col("date")).cast("int")).alias("late"),
        ).first()
        assert stats["wrong_date"] == 0 and stats["late"] > 0, (name, stats)  # late rows get faults too
        assert files.where("arrival_date <> _file_day").count() == 0
        once = files.dropDuplicates([pk]).count()
        assert (
            once
            == twins[name].count()
            == files.count() - labels.where((F.col("table") == name) & (F.col("fault_type") == "duplicate_row")).count()
        )


def test_two_adjacent_delta_runs_with_other_batch_sizes_equal_the_one_run(spark, runs, tmp_path_factory, dataset_file):
    from synthgen_spark import api

    _, report, _ = runs
    root = tmp_path_factory.mktemp("faults_late_delta")
    middle = START + dt.timedelta(days=2)
    table = {"output_mode": "table", "table_location": "path", "partition_by_date": True}
    first = api.generate(job(root, dataset_file, end_date=middle.isoformat(), batch_size=3, **table), spark=spark)
    second = job(root, dataset_file, start_date=(middle + dt.timedelta(1)).isoformat(), batch_size=3, **table)
    api.generate(second, spark=spark)
    places = {r.table: r.paths[0] for r in first.results}
    partitions = spark.sql(f"DESCRIBE DETAIL delta.`{places['orders']}`").first()["partitionColumns"]
    assert partitions == ["arrival_date"]
    for name in (*KEYS, FAULTS_TABLE):
        one = spark.read.parquet(*[p for r in report.results if r.table == name for p in r.paths])
        two = spark.read.format("delta").load(places[name])
        assert sorted(one.collect()) == sorted(two.select(one.columns).collect()), name
