"""Window frames: a table's one-file batches share one analysed frame, and each batch's rows are its own frame's."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

import synthgen_spark.engine.windows as windows_module
from synthgen_spark.catalog import load_dataset
from synthgen_spark.derived import listed_rows
from synthgen_spark.engine import WINDOW_BATCHES, FrameWindows, build_batch_frame
from synthgen_spark.engine.frames import FEED_WINDOW_ROWS, window_batch, window_length, windowable
from synthgen_spark.planner import build_plan, by_table

from .helpers import assert_same, small_config

DAILY = ("customers", "orders", "order_items")  # retail_oltp_small's tables with a file every day
FEEDS = ("customers_changes", "products_changes")  # its change feeds listed from the change schedule


def _days(plan, name):
    return by_table(list(plan.table_days))[name]


@pytest.mark.parametrize(("names", "options"), [(DAILY, {}), (FEEDS, {"change_feed": True})])
def test_each_file_of_a_window_is_its_days_own_frame_in_one_task(spark, tmp_path, names, options):
    config = small_config(tmp_path, start_date="2024-02-05", end_date="2024-02-09", batch_size=1, **options)
    dataset = load_dataset(config.dataset_id)
    plan = build_plan(config, dataset)
    for name in names:
        days = _days(plan, name)
        assert windowable(config, dataset, days)
        window = build_batch_frame(spark, config, dataset, days, window=True)
        for file in (0, 4):
            shared = window_batch(window, file)
            own = build_batch_frame(spark, config, dataset, [days[file]])
            assert shared.schema == own.schema
            assert shared.rdd.getNumPartitions() == 1  # Spark filtered the files while planning; a feed lists in one
            rows = own.collect()
            assert rows, (name, file)  # rows that day, so the comparison can fail
            assert shared.collect() == rows  # the same rows, in the same order


def test_a_change_feeds_window_lists_about_feed_window_rows_at_most():
    for scale, full in ((0.05, True), (100.0, False)):
        config = small_config(Path("unused"), end_date="2024-03-15", batch_size=1, change_feed=True, scale_factor=scale)
        dataset = load_dataset(config.dataset_id)
        plan = build_plan(config, dataset)
        assert window_length(config, dataset, _days(plan, "orders")) == WINDOW_BATCHES
        assert not windowable(config, dataset, _days(plan, "orders_changes"))  # a progress feed scans its facts
        days = _days(plan, "customers_changes")
        length = window_length(config, dataset, days)
        assert (length == WINDOW_BATCHES) is full
        assert 1 <= length <= WINDOW_BATCHES
        listed = listed_rows(config, dataset, days[0].table, [td.date for td in days[:length]])
        assert listed <= 1.05 * FEED_WINDOW_ROWS, (scale, length, listed)
        if not full:  # one day more would list too many
            more = listed_rows(config, dataset, days[0].table, [td.date for td in days[: length + 1]])
            assert more > 0.95 * FEED_WINDOW_ROWS, (scale, length, more)


def test_a_day_without_rows_is_an_empty_file_of_its_window(spark, tmp_path):
    config = small_config(tmp_path, start_date="2024-02-01", end_date="2024-02-03", batch_size=1)
    dataset = load_dataset(config.dataset_id)
    days = _days(build_plan(config, dataset), "orders")
    days[1] = dataclasses.replace(days[1], rows=0)
    window = build_batch_frame(spark, config, dataset, days, window=True)
    assert window_batch(window, 1).count() == 0
    assert_same(build_batch_frame(spark, config, dataset, [days[2]]), window_batch(window, 2), "orders")


def test_a_run_of_daily_batches_builds_one_frame_per_table_per_window(spark, tmp_path, monkeypatch):
    days = WINDOW_BATCHES + 3  # two windows: the first full, the second of 3 batches
    end = (dt.date(2024, 2, 1) + dt.timedelta(days=days - 1)).isoformat()
    config = small_config(tmp_path, start_date="2024-02-01", end_date=end, batch_size=1)
    plan = build_plan(config, load_dataset(config.dataset_id))
    built = []
    real = windows_module.build_batch_frame

    def counted(spark, config, dataset, table_days, **options):
        built.append((table_days[0].table.name, len(table_days)))
        return real(spark, config, dataset, table_days, **options)

    monkeypatch.setattr(windows_module, "build_batch_frame", counted)
    windows = FrameWindows(spark, plan)
    for batch in plan.batches:
        for name in DAILY:
            assert windows.frame([td for td in batch.table_days if td.table.name == name]) is not None
    assert sorted(built) == sorted((name, n) for name in DAILY for n in (WINDOW_BATCHES, 3))


def test_batches_that_cannot_share_a_window_build_their_own(spark, tmp_path):
    late = small_config(tmp_path, end_date="2024-02-05", batch_size=1, late_arrival_rate=0.2)
    faulty = small_config(tmp_path, end_date="2024-02-05", batch_size=1, fault_rate=0.05)
    weekly = small_config(tmp_path, end_date="2024-02-05", batch_size=5)
    for config in (late, faulty):
        dataset = load_dataset(config.dataset_id)
        plan = build_plan(config, dataset)
        assert not windowable(config, dataset, _days(plan, "orders"))
        assert FrameWindows(spark, plan).frame(_days(plan, "orders")[:1]) is None
    plan = build_plan(weekly, load_dataset(weekly.dataset_id))  # one batch: each table's days in one frame
    assert FrameWindows(spark, plan).frame(_days(plan, "orders")) is None
