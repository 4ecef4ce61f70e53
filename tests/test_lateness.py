"""Late arrivals: the arrival math without Spark, then real runs over 35 days with late_arrival_rate 0.2."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from synthgen_spark.catalog import parse_dataset
from synthgen_spark.cli import main
from synthgen_spark.config import JobConfig
from synthgen_spark.errors import ConfigError, SpecError
from synthgen_spark.lateness import (
    Lateness,
    child_boundary,
    late_bounds,
    late_counts,
    lateness_manifest,
    spark_xxhash64,
)
from synthgen_spark.planner import build_plan, describe_plan

from .helpers import files_under

LATE_DATASET = """
dataset_id: late_mini
epoch: 2024-01-01
tables:
  - name: things
    kind: snapshot
    rows: 10
    primary_key: thing_id
    columns:
      - {name: thing_id, kind: sequence}
      - {name: snapshot_date, kind: generation_date}
  - name: orders
    kind: incremental
    rows: 40
    primary_key: order_id
    primary_date_column: order_date
    columns:
      - {name: order_id, kind: sequence}
      - {name: order_date, kind: generation_date}
      - {name: thing_id, kind: foreign_key, references: things.thing_id}
      - {name: amount, kind: uniform, min: 1, max: 1000}
  - name: lines
    kind: incremental
    rows: 100
    parent: orders
    rows_per_parent: 2.5
    primary_key: line_id
    primary_date_column: order_date
    columns:
      - {name: line_id, kind: sequence}
      - {name: order_id, kind: parent_key}
      - {name: line_number, kind: line_number}
      - {name: order_date, kind: generation_date}
      - {name: qty, kind: uniform, min: 1, max: 9}
"""
START, END, MAX_LATE = dt.date(2024, 1, 10), dt.date(2024, 2, 13), 3  # 35 days


def late_config(root: Path, dataset: Path, **overrides) -> JobConfig:
    values = {
        "job_name": "late",
        "dataset_id": "late_mini",
        "dataset_path": str(dataset),
        "start_date": START.isoformat(),
        "end_date": END.isoformat(),
        "batch_size": 35,
        "seed_value": 11,
        "late_arrival_rate": 0.2,
        "max_late_days": MAX_LATE,
        "output_root": str(root),
    }
    return JobConfig.from_mapping({**values, **overrides})


@pytest.fixture(scope="module")
def dataset_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("late_dataset") / "late_mini.yaml"
    path.write_text(LATE_DATASET)
    return path


# --- the arrival math, without Spark ---------------------------------------------------------------


@pytest.mark.parametrize("max_days", [1, 2, 3, 5, 8])
def test_late_counts_sum_to_the_late_rows_and_decrease_with_the_delay(max_days):
    for rows in range(0, 600, 7):
        counts = late_counts(rows, 0.2, max_days)
        assert len(counts) == max_days and sum(counts) == int(rows * 0.2 + 0.5)
        assert all(a >= b for a, b in zip(counts, counts[1:], strict=False)), (rows, counts)
        bounds = late_bounds(rows, 0.2, max_days)
        assert bounds[-1] == rows and bounds[0] == rows - sum(counts)


def test_late_counts_follow_the_halving_weights():
    counts = late_counts(7000, 1.0, 3)  # w = 4/7, 2/7, 1/7
    assert counts == (4000, 2000, 1000)
    assert late_counts(1, 0.5, 3) == (1, 0, 0)  # a lone late row is one day late


def test_child_boundary_ends_and_stays_within_one_of_the_linear_split():
    day = dt.date(2024, 1, 5)
    assert child_boundary(1, "lines", day, 10, 25, 0) == 0 and child_boundary(1, "lines", day, 10, 25, 10) == 25
    jitters = {child_boundary(1, "lines", day, 10, 25, p) - p * 25 // 10 for p in range(1, 10)}
    assert jitters == {0, 1}  # m >= 2n: the layout jitters each inner boundary by 0 or 1


def test_every_event_row_arrives_exactly_once_within_max_late_days(dataset_file):
    """Over the plan of the arrival days, each event day's rows [0, n) are covered once, 0..K days late."""
    plan = build_plan(late_config(Path("/tmp/unused"), dataset_file))
    covered: dict[tuple[str, dt.date], list[tuple[int, int]]] = {}
    for td in plan.table_days:
        for segment in td.segments:
            delay = (td.date - segment.source.date).days
            assert 0 <= delay <= MAX_LATE
            covered.setdefault((td.table.name, segment.source.date), []).append((segment.start, segment.rows))
    late = total = 0
    for (table, event), pieces in covered.items():
        if START <= event <= END - dt.timedelta(days=MAX_LATE):
            rows = plan.calendar.rows(plan.dataset.table(table), event)
            ends = sorted((start, start + n) for start, n in pieces if n)
            assert ends[0][0] == 0 and ends[-1][1] == rows, (table, event)
            assert all(a[1] == b[0] for a, b in zip(ends, ends[1:], strict=False)), (table, event)
            late += rows - next(n for s, n in pieces if s == 0)
            total += rows
    assert total and abs(late / total - 0.2) < 0.03


def test_plan_shows_on_time_and_late_rows_and_rate_zero_changes_nothing(dataset_file):
    text = describe_plan(build_plan(late_config(Path("/tmp/unused"), dataset_file, end_date="2024-01-11")))
    assert "arrivals: on time " in text and "2024-01-09 +2d: " in text
    plain = build_plan(late_config(Path("/tmp/unused"), dataset_file, late_arrival_rate=0))
    assert not any(td.segments for td in plain.table_days)
    assert "arrival_date" not in plain.dataset.table("orders").column_names


def test_a_table_opts_out_and_a_child_cannot_set_its_own_rate(dataset_file, tmp_path):
    opted = tmp_path / "opted.yaml"
    opted.write_text(LATE_DATASET.replace("    rows: 40\n", "    rows: 40\n    late_arrival_rate: 0\n"))
    plan = build_plan(late_config(tmp_path, opted))
    assert not any(td.segments for td in plan.table_days)
    reserved = tmp_path / "reserved.yaml"
    reserved.write_text(
        LATE_DATASET.replace("{name: amount,", "{name: arrival_date, kind: generation_date}\n      - {name: amount,")
    )
    with pytest.raises(SpecError, match="column 'arrival_date' is reserved"):
        build_plan(late_config(tmp_path, reserved))
    planned = build_plan(late_config(tmp_path, dataset_file))
    assert build_plan(planned.config, planned.dataset).dataset == planned.dataset  # a planned dataset plans again
    child = LATE_DATASET.replace("    rows: 100\n", "    rows: 100\n    max_late_days: 2\n")
    with pytest.raises(SpecError, match="field 'max_late_days': only incremental tables without a parent"):
        parse_dataset(child, "d.yaml")


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--late-arrival-rate", "1.5"),
        ("--late-arrival-rate", "-0.1"),
        ("--max-late-days", "0"),
        ("--max-late-days", "x"),
    ],
)
def test_bad_lateness_parameters_exit_2_with_one_line_and_write_nothing(tmp_path, capsys, flag, value):
    field = flag[2:].replace("-", "_")
    flags = ["--dataset-id", "retail_oltp_small", "--start-date", "2024-02-01", "--end-date", "2024-02-01"]
    flags += ["--output-root", str(tmp_path)]
    assert main(["generate", *flags, flag, value]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"field '{field}'" in err
    assert files_under(tmp_path) == []
    with pytest.raises(ConfigError):
        JobConfig.from_mapping({"dataset_id": "x", "start_date": "2024-01-01", "end_date": "2024-01-01", field: value})


# --- real runs -------------------------------------------------------------------------------------


def test_the_child_layout_hash_is_sparks_xxhash64(spark):
    values = [0, 1, -1, 2**40 + 17, -(2**62) + 5]
    row = spark.sql("SELECT " + ", ".join(f"xxhash64(CAST({v} AS BIGINT))" for v in values)).first()
    assert [v % 2**64 for v in row] == [spark_xxhash64(v) for v in values]


def _read(spark, report, table):
    from pyspark.sql import functions as F

    paths = [p for r in report.results if r.table == table for p in r.paths]
    return spark.read.parquet(*paths).withColumn("_file", F.col("_metadata.file_path"))


@pytest.fixture(scope="module")
def one_run(spark, tmp_path_factory, dataset_file):
    from synthgen_spark import api

    root = tmp_path_factory.mktemp("late_one")
    return api.generate(late_config(root, dataset_file), spark=spark)


@pytest.fixture(scope="module")
def split_runs(spark, tmp_path_factory, dataset_file):
    """The same days as two adjacent runs with other batch sizes."""
    from synthgen_spark import api

    root = tmp_path_factory.mktemp("late_split")
    middle = dt.date(2024, 1, 24)
    first = api.generate(late_config(root, dataset_file, end_date=middle.isoformat(), batch_size=15), spark=spark)
    second = late_config(root, dataset_file, start_date=(middle + dt.timedelta(1)).isoformat(), batch_size=21)
    return first, api.generate(second, spark=spark)


@pytest.mark.parametrize("table", ["orders", "lines"])
def test_rows_arrive_once_in_the_file_of_their_arrival_date(spark, one_run, table):
    from pyspark.sql import functions as F

    frame = _read(spark, one_run, table)
    key = "order_id" if table == "orders" else "line_id"
    file_day = F.to_date(F.regexp_extract("_file", r"/(\d{4}/\d{2}/\d{2})/data\.parquet$", 1), "yyyy/MM/dd")
    delay = F.datediff("arrival_date", "order_date")
    stats = frame.agg(
        F.count("*").alias("rows"),
        F.countDistinct(key).alias("keys"),
        F.sum((F.col("arrival_date") != file_day).cast("int")).alias("wrong_file"),
        F.sum(((delay < 0) | (delay > MAX_LATE)).cast("int")).alias("out_of_window"),
        F.sum(F.when(F.col("order_date").between(START, END - dt.timedelta(MAX_LATE)), (delay > 0).cast("int"))).alias(
            "late"
        ),
        F.sum(F.col("order_date").between(START, END - dt.timedelta(MAX_LATE)).cast("int")).alias("whole_days"),
    ).first()
    assert stats["rows"] == stats["keys"] == one_run.rows_by_table()[table]
    assert stats["wrong_file"] == 0 and stats["out_of_window"] == 0
    assert abs(stats["late"] / stats["whole_days"] - 0.2) < 0.03


def test_children_arrive_with_their_parent(spark, one_run):
    orders, lines = _read(spark, one_run, "orders"), _read(spark, one_run, "lines")
    parents = orders.select("order_id", "arrival_date")
    assert lines.join(parents, ["order_id", "arrival_date"], "left_anti").count() == 0


def test_the_manifest_matches_the_files(spark, one_run):
    manifest = one_run.lateness  # beside the ledger, in the job folder
    assert json.loads((Path(one_run.job_root) / f"_synthgen_lateness_{one_run.run_id}.json").read_text()) == manifest
    for table in ("orders", "lines"):
        counts = _read(spark, one_run, table).groupBy("arrival_date", "order_date").count().collect()
        in_files: dict[str, dict[str, int]] = {}
        for row in counts:
            in_files.setdefault(row["arrival_date"].isoformat(), {})[row["order_date"].isoformat()] = row["count"]
        listed = {a["arrival_date"]: a["event_dates"] for a in manifest["arrivals"] if a["table"] == table}
        assert listed == in_files


def test_two_adjacent_runs_with_other_batch_sizes_equal_one_run(spark, one_run, split_runs):
    for table in ("orders", "lines"):
        one = _read(spark, one_run, table).drop("_file")
        two = _read(spark, split_runs[0], table).unionByName(_read(spark, split_runs[1], table)).drop("_file")
        assert sorted(one.collect()) == sorted(two.collect())


def test_the_manifest_is_computed_from_the_plan(dataset_file):
    plan = build_plan(late_config(Path("/tmp/unused"), dataset_file, end_date="2024-01-12"))
    manifest = lateness_manifest(plan.table_days, "r1", plan.config)
    first = next(a for a in manifest["arrivals"] if a["table"] == "orders")
    assert first["arrival_date"] == "2024-01-10" and sum(first["event_dates"].values()) == first["rows"]
    assert (
        min(first["event_dates"]) == "2024-01-07"
        and first["late_rows"] == first["rows"] - first["event_dates"]["2024-01-10"]
    )
    lateness = Lateness(plan.config, plan.dataset, plan.calendar.rows)
    assert lateness.policy(plan.dataset.table("things")) is None


def test_chunked_late_days_split_their_segments_in_order(dataset_file):
    from synthgen_spark.engine import file_segments

    plan = build_plan(late_config(Path("/tmp/unused"), dataset_file, chunk_size=17, end_date="2024-01-12"))
    for td in (td for td in plan.table_days if td.segments):
        files = file_segments([td])
        assert len(files) == len(td.paths) == -(-td.rows // 17)
        assert all(sum(s.rows for s in f) <= 17 for f in files)
        pieces = [(s.table_day.date, s.start, s.rows) for f in files for s in f if s.rows]
        merged: list[tuple[dt.date, int, int]] = []
        for day, start, rows in pieces:  # consecutive pieces of one event day join up again
            if merged and merged[-1][0] == day and merged[-1][1] + merged[-1][2] == start:
                merged[-1] = (day, merged[-1][1], merged[-1][2] + rows)
            else:
                merged.append((day, start, rows))
        assert merged == [(s.source.date, s.start, s.rows) for s in td.segments if s.rows]
