"""The determinism contract: batch size, chunking, partitions and ranges never change the data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from synthgen_spark.api import generate
from synthgen_spark.calendar import Calendar
from synthgen_spark.catalog import load_dataset
from synthgen_spark.engine import FILE_INDEX, FileSlice, build_batch_frame, task_count
from synthgen_spark.planner import build_plan

from .helpers import TABLES, assert_same, frames_by_table, read_table, small_config


def test_batch_size_and_partitions_do_not_change_the_data(spark, tmp_path):
    reference = frames_by_table(spark, small_config(tmp_path, end_date="2024-02-07", batch_size=1))
    reference = {table: frame.cache() for table, frame in reference.items()}  # one-day batches, computed once
    for batch_size, chunk_size in ((3, None), (7, 40)):
        other = frames_by_table(
            spark, small_config(tmp_path, end_date="2024-02-07", batch_size=batch_size, chunk_size=chunk_size)
        )
        for table in TABLES:
            assert_same(reference[table], other[table], table)
    for frame in reference.values():
        frame.unpersist()


def test_one_day_alone_equals_that_day_in_a_longer_run(spark, tmp_path):
    longer = frames_by_table(
        spark, small_config(tmp_path, start_date="2024-02-01", end_date="2024-02-10", batch_size=4)
    )
    alone = frames_by_table(spark, small_config(tmp_path, start_date="2024-02-06", end_date="2024-02-06"))
    day = dt.date(2024, 2, 6)
    for table, column in (("orders", "order_date"), ("order_items", "order_date"), ("customers", "snapshot_date")):
        assert_same(longer[table].where(longer[table][column] == day), alone[table], table)


def test_two_adjacent_runs_equal_one_run_over_both(spark, tmp_path):
    whole = frames_by_table(
        spark, small_config(tmp_path, start_date="2024-01-29", end_date="2024-02-11", batch_size=14)
    )
    first = frames_by_table(spark, small_config(tmp_path, start_date="2024-01-29", end_date="2024-02-04", batch_size=7))
    second = frames_by_table(
        spark, small_config(tmp_path, start_date="2024-02-05", end_date="2024-02-11", batch_size=7)
    )
    for table in TABLES:
        assert_same(whole[table], first[table].union(second[table]), table)  # no distinct(): a duplicate would show


def test_same_seed_same_data_different_seed_different_data(spark, tmp_path):
    a = frames_by_table(spark, small_config(tmp_path, seed_value=1, end_date="2024-02-01"))["orders"]
    b = frames_by_table(spark, small_config(tmp_path, seed_value=1, end_date="2024-02-01"))["orders"]
    c = frames_by_table(spark, small_config(tmp_path, seed_value=2, end_date="2024-02-01"))["orders"]
    assert_same(a, b, "orders")
    day = dt.date(2024, 2, 1)
    retail = load_dataset("retail_oltp_small")
    by_id = {}
    for seed, frame in ((1, a), (2, c)):
        rows = [
            (r.order_id, r.customer_id) for r in frame.select("order_id", "customer_id").orderBy("order_id").collect()
        ]
        ids = [order_id for order_id, _ in rows]
        config = small_config(tmp_path, seed_value=seed, end_date="2024-02-01", scale_factor=0.01)  # as frames_by_table
        assert ids == list(range(ids[0], ids[0] + len(ids)))  # IDs are positions, not random
        assert len(ids) == Calendar(retail, config).rows(retail.table("orders"), day)  # the seed moves the day's noise
        by_id[seed] = [customer for _, customer in rows]
    assert sum(x != y for x, y in zip(by_id[1], by_id[2], strict=False)) > 0.9 * len(
        by_id[1]
    )  # the n-th order: another customer


def test_written_files_equal_for_different_batch_sizes_and_workers(spark, tmp_path):
    """Daily batches (window frames, the change feeds' too) against batches of two days written two at once."""
    one = generate(
        small_config(tmp_path / "a", end_date="2024-02-04", batch_size=1, change_feed=True), spark, progress=None
    )
    many = generate(
        small_config(
            tmp_path / "b", end_date="2024-02-04", batch_size=2, parallel_workers=2, chunk_size=200, change_feed=True
        ),
        spark,
        progress=None,
    )
    for table in TABLES:
        assert_same(read_table(spark, one, table).drop("_file"), read_table(spark, many, table).drop("_file"), table)
    for feed in ("customers_changes", "products_changes", "orders_changes"):  # file by file, rows in order
        files = [
            {
                Path(p).relative_to(root).as_posix(): spark.read.parquet(p).collect()
                for r in report.results
                if r.table == feed
                for p in r.paths
            }
            for report, root in ((one, tmp_path / "a"), (many, tmp_path / "b"))
        ]
        assert len(files[0]) == 4 and any(files[0].values()), feed
        assert files[0] == files[1], feed


def slices(*rows: int) -> list[FileSlice]:
    return [FileSlice(None, 0, n) for n in rows]


@pytest.mark.parametrize(
    ("files", "parallelism", "tasks"),
    [
        (slices(10), 8, 1),  # one file, one task
        (slices(*[2_740] * 365), 2, 2),  # a year of small days: one task per core
        (slices(*[2_740] * 365), 64, 64),
        (slices(*[300_000] * 10), 2, 3),  # about a million rows per task at most
        (slices(*[1_000_000] * 365), 8, 365),  # large files: one task each
        (slices(5, 0, 5), 1, 3),  # an empty file keeps a task of its own
    ],
)
def test_task_count_groups_small_files_only(files, parallelism, tasks):
    assert task_count(files, parallelism) == tasks


def test_tasks_writing_several_files_write_the_same_bytes(spark, tmp_path):
    """A week in one batch runs as two Spark tasks on local[2], each writing several whole files."""
    daily_config = small_config(tmp_path / "daily", end_date="2024-02-07", output_mode="csv")
    weekly_config = small_config(tmp_path / "weekly", end_date="2024-02-07", output_mode="csv", batch_size=7)
    plan = build_plan(weekly_config)
    orders = [td for td in plan.batches[0].table_days if td.table.name == "orders"]
    frame = build_batch_frame(spark, plan.config, plan.dataset, orders, with_file_index=True)
    assert (frame.columns[0], frame.rdd.getNumPartitions(), len(orders)) == (FILE_INDEX, 2, 7)

    def files(report, root: Path) -> dict[str, bytes]:
        paths = [Path(p) for result in report.results for p in result.paths]
        return {str(p.relative_to(root)): p.read_bytes() for p in paths}

    daily = files(generate(daily_config, spark, progress=None), tmp_path / "daily")
    weekly = files(generate(weekly_config, spark, progress=None), tmp_path / "weekly")
    assert sorted(daily) == sorted(weekly) and len(daily) >= 2 * 7
    assert all(daily[name] == weekly[name] for name in daily)
