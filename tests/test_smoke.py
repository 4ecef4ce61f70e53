"""The smallest end-to-end run, the one Spark test of `make check`: a day of retail_oltp_small at 0.1 % volume."""

from __future__ import annotations

import pytest

from synthgen_spark.api import generate, plan

from .helpers import small_config


@pytest.mark.smoke
def test_one_small_day_is_written_as_planned_and_its_keys_join(spark, tmp_path):
    config = small_config(tmp_path, end_date="2024-02-01", scale_factor=0.001)
    report = generate(config, spark, progress=None)
    planned = {td.table.name: td.rows for td in plan(config).table_days}
    frames = {t: spark.read.parquet(*[p for r in report.results if r.table == t for p in r.paths]) for t in planned}
    assert {t: frame.count() for t, frame in frames.items()} == planned == report.rows_by_table()
    assert planned["orders"] > 0 and planned["order_items"] >= planned["orders"]
    assert frames["orders"].join(frames["customers"], "customer_id", "left_anti").count() == 0
    assert frames["order_items"].join(frames["orders"], "order_id", "left_anti").count() == 0
