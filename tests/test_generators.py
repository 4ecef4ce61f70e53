"""Generators: each kind's values stay in bounds, follow their weights and never depend on partitioning."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest
from pyspark.sql import functions as F

from synthgen_spark.catalog import parse_dataset
from synthgen_spark.config import JobConfig
from synthgen_spark.engine import build_batch_frame
from synthgen_spark.generators import sql
from synthgen_spark.generators.categorical import CHOICE_TABLE_MAX, choice_table
from synthgen_spark.generators.core import (
    bounded_index,
    column_seed,
    decimal_from_double,
    exact_decimal_scale,
    hash_key,
    round_to_scale,
)
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
      - {name: size, kind: choice, values: [1, 2, null], weights: [2, 1, 1], type: int}
      - {name: band, kind: choice, values: [low, high], weights: [0.3, 0.7001]}
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
    sizes = {r["size"]: r["count"] / 20000 for r in frame.groupBy("size").count().collect()}
    assert abs(sizes[1] - 0.5) < 0.02 and abs(sizes[2] - 0.25) < 0.02 and abs(sizes[None] - 0.25) < 0.02
    bands = {r["band"]: r["count"] / 20000 for r in frame.groupBy("band").count().collect()}  # thresholds, no table
    assert abs(bands["low"] - 0.3) < 0.02 and abs(bands["high"] - 0.7) < 0.02
    nulls = frame.where("note is null").count() / 20000
    assert abs(nulls - 0.25) < 0.02
    assert {r["colour"] for r in frame.select("colour").distinct().collect()} == {"red", "green", "blue"}


def test_choice_table_repeats_each_value_in_exact_proportion_in_lowest_terms():
    assert choice_table(["a", "b", "c"], [70, 20, 10]) == ("a",) * 7 + ("b",) * 2 + ("c",)
    assert choice_table(["a", "b", "c"], [50, 48.8, 1.2]) == ("a",) * 125 + ("b",) * 122 + ("c",) * 3
    assert choice_table(["a", "b"], [0, 3]) == ("b",)
    assert len(choice_table(list("abcdefgh"), [37.4, 35.7, 8.5, 3.4, 6.6, 6.3, 1.5, 0.6])) == CHOICE_TABLE_MAX


def test_choice_table_is_none_past_its_size_limit():
    assert choice_table(["a", "b"], [1, CHOICE_TABLE_MAX]) is None
    assert choice_table(["low", "high"], [0.3, 0.7001]) is None  # 3000 + 7001 entries


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


EXTREME_HASHES = [-(2**63), -(2**62) - 12345, -1, 0, 1, 2**31 - 1, 2**32, 2**62 + 999, 2**63 - 1]


def _expected_index(hashed: int, size: int) -> int:
    """The documented formula: the top 32 bits scaled to the size, pmod above 2**31."""
    if size > 2**31:
        return hashed % size
    return ((hashed % 2**64) >> 32) * size >> 32


@pytest.mark.parametrize("size", [1, 2, 7, 1000, 2**31, 2**31 + 1, 10**18])
def test_bounded_index_is_the_documented_formula_for_extreme_hashes(spark, size):
    hashes = EXTREME_HASHES + [(i * 0x9E3779B97F4A7C15) % 2**64 - 2**63 for i in range(1, 40)]
    rows = ", ".join(f"({sql.literal_sql(h)}, {sql.literal_sql(size)})" for h in hashes)
    literal, column = bounded_index(sql.col("h"), size), bounded_index(sql.col("h"), sql.col("n").cast("bigint"))
    got = spark.sql(f"SELECT h, {literal.sql} AS a, {column.sql} AS b FROM VALUES {rows} AS t(h, n)").collect()
    for row in got:
        assert row.a == row.b == _expected_index(row.h, size)
        assert 0 <= row.a < size


def test_bounded_index_is_uniform(spark):
    index = bounded_index(hash_key(sql.col("id"), column_seed(7, "t", "c")), 7)
    counts = dict(spark.range(70_000).selectExpr(f"{index.sql} AS i").groupBy("i").count().collect())
    assert sorted(counts) == list(range(7))
    assert all(abs(count - 10_000) < 400 for count in counts.values()), counts


@pytest.mark.parametrize("type_name", ["decimal(10,2)", "decimal(12,2)", "decimal(15,4)", "decimal(5,0)"])
def test_decimals_are_the_exactly_rounded_value_and_equal_sparks_cast(spark, type_name):
    scale = exact_decimal_scale(type_name)
    values = [0.0, 0.005, 0.015, 1.005, 2.675, -2.675, 123.456789, -0.004, 99_999.0, -99_998.994, None]
    rows = ", ".join(f"({sql.literal_sql(v)})" for v in values)
    number = round_to_scale(sql.col("x"), scale)
    query = f"SELECT x, {decimal_from_double(number, type_name).sql} AS d FROM VALUES {rows} AS t(x)"
    for row in spark.sql(query).collect():
        if row.x is None:
            assert row.d is None
        else:  # floor(x * 10^s + 0.5) in double arithmetic, as an exact decimal
            assert row.d == Decimal(math.floor(row.x * 10.0**scale + 0.5)).scaleb(-scale)
    uniform = round_to_scale(sql.expr("(id - 50000) * 1.7320508D"), scale)
    frame = spark.range(100_000).selectExpr(
        f"{decimal_from_double(uniform, type_name).sql} AS ours", f"CAST({uniform.sql} AS {type_name}) AS sparks"
    )
    assert frame.schema["ours"].dataType.simpleString() == type_name
    assert frame.where("ours <=> sparks").count() == 100_000
