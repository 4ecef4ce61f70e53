"""Generators: each kind's values stay in bounds, follow their weights and never depend on partitioning."""

from __future__ import annotations

import datetime as dt

import pytest
from pyspark.sql import functions as F

from synthgen_spark.catalog import parse_dataset
from synthgen_spark.config import JobConfig
from synthgen_spark.engine import build_batch_frame
from synthgen_spark.planner import build_plan

SPEC = """
dataset_id: kinds
epoch: 2024-01-01
pools:
  colours: [red, green, blue]
tables:
  - name: readings
    kind: incremental
    rows: 20000
    primary_key: reading_id
    primary_date_column: reading_date
    columns:
      - {name: reading_id, kind: sequence, start: 100}
      - {name: reading_date, kind: generation_date}
      - {name: level, kind: uniform, min: 3, max: 9, type: int}
      - {name: ratio, kind: uniform, min: 0.5, max: 1.5, type: double}
      - {name: temperature, kind: normal, mean: 20, stddev: 5, type: double}
      - {name: amount, kind: lognormal, median: 50, sigma: 0.5, min: 1, max: 5000, type: "decimal(10,2)"}
      - {name: grade, kind: choice, values: [A, B, C], weights: [70, 20, 10]}
      - {name: colour, kind: pool, pool: colours}
      - {name: code, kind: template, pattern: "SN-####-??"}
      - {name: read_at, kind: timestamp}
      - {name: due_date, kind: date_offset, min_days: 1, max_days: 30}
      - {name: note, kind: choice, values: [x, y], null_rate: 0.25}
      - {name: level_squared, kind: derived, type: int, expression: "level * level"}
"""


@pytest.fixture(scope="module")
def readings(spark):
    dataset = parse_dataset(SPEC, "kinds.yaml")
    config = JobConfig.from_mapping({"dataset_id": "kinds", "start_date": "2024-03-04", "end_date": "2024-03-04"})
    plan = build_plan(config, dataset)
    frame = build_batch_frame(spark, config, dataset, list(plan.table_days)).cache()
    yield frame, plan, config, dataset
    frame.unpersist()


def test_bounds_and_types(readings):
    frame, *_ = readings
    stats = frame.agg(
        F.min("level"),
        F.max("level"),
        F.min("ratio"),
        F.max("ratio"),
        F.min("amount"),
        F.max("amount"),
        F.min("reading_id"),
        F.max("reading_id"),
        F.min("due_date"),
        F.max("due_date"),
    ).first()
    assert (stats[0], stats[1]) == (3, 9)
    assert stats[2] >= 0.5 and stats[3] < 1.5
    assert stats[4] >= 1 and stats[5] <= 5000
    assert stats[6] == 100 + 20000 * 63 and stats[7] == stats[6] + 19999  # 63 days since the epoch at 20k/day
    assert (stats[8], stats[9]) == (dt.date(2024, 3, 5), dt.date(2024, 4, 3))


def test_distributions_follow_their_parameters(readings):
    frame, *_ = readings
    moments = frame.agg(F.mean("temperature"), F.stddev("temperature"), F.expr("percentile(amount, 0.5)")).first()
    assert abs(moments[0] - 20) < 0.2 and abs(moments[1] - 5) < 0.2
    assert abs(float(moments[2]) - 50) < 2
    shares = {r["grade"]: r["count"] / 20000 for r in frame.groupBy("grade").count().collect()}
    assert abs(shares["A"] - 0.7) < 0.02 and abs(shares["B"] - 0.2) < 0.02 and abs(shares["C"] - 0.1) < 0.02
    nulls = frame.where("note is null").count() / 20000
    assert abs(nulls - 0.25) < 0.02
    assert {r["colour"] for r in frame.select("colour").distinct().collect()} == {"red", "green", "blue"}


def test_text_and_time_shapes(readings):
    frame, *_ = readings
    assert frame.where("code not rlike '^SN-[0-9]{4}-[A-Z]{2}$'").count() == 0
    assert frame.where("to_date(read_at) != reading_date").count() == 0
    assert frame.where("level_squared != level * level").count() == 0
    assert frame.select("code").distinct().count() > 19000


def test_partition_count_does_not_change_values(spark, readings):
    frame, plan, config, dataset = readings
    chunked = JobConfig.from_mapping({**config.to_dict(), "chunk_size": 3000})
    table_days = list(build_plan(chunked, dataset).table_days)
    for tasks, partitions in ((7, 7), (None, 2)):  # a task per file; 7 files in local[2]'s 2 tasks
        other = build_batch_frame(spark, chunked, dataset, table_days, tasks=tasks)
        assert other.rdd.getNumPartitions() == partitions
        assert frame.exceptAll(other).count() == 0 and other.exceptAll(frame).count() == 0
