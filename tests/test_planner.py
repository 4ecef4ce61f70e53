"""Planner: batches, exact output paths, chunked parts and the plan text (no Spark)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from synthgen_spark.config import JobConfig
from synthgen_spark.errors import ConfigError
from synthgen_spark.layout import file_paths, job_root
from synthgen_spark.planner import build_plan, describe_plan

BASE = {"job_name": "j", "dataset_id": "retail_oltp_small", "start_date": "2024-02-01", "end_date": "2024-02-07"}


def config(**overrides) -> JobConfig:
    return JobConfig.from_mapping({**BASE, "output_root": "/data", **overrides})


@pytest.mark.parametrize(
    ("mode", "layout", "expected"),
    [
        ("csv", "flat", "/data/synthetic_data/csv/series/retail_oltp_small/j/flat/orders/orders_20240203.csv"),
        (
            "parquet",
            "flat",
            "/data/synthetic_data/parquet/series/retail_oltp_small/j/flat/orders/orders_20240203.parquet",
        ),
        ("csv", "nested", "/data/synthetic_data/csv/series/retail_oltp_small/j/nested/orders/2024/02/03/data.csv"),
        (
            "parquet",
            "nested",
            "/data/synthetic_data/parquet/series/retail_oltp_small/j/nested/orders/2024/02/03/data.parquet",
        ),
    ],
)
def test_exact_output_paths(mode, layout, expected):
    cfg = config(output_mode=mode, path_format=layout)
    assert file_paths(cfg, "orders", dt.date(2024, 2, 3), 1) == (expected,)


def test_chunked_day_gets_numbered_parts():
    cfg = config(path_format="flat", output_mode="csv")
    parts = file_paths(cfg, "orders", dt.date(2024, 2, 3), 3)
    assert [p.rsplit("/", 1)[1] for p in parts] == [
        "orders_20240203-00001.csv",
        "orders_20240203-00002.csv",
        "orders_20240203-00003.csv",
    ]


def test_output_root_may_be_a_uri():
    cfg = JobConfig.from_mapping({**BASE, "output_root": "abfss://ws@onelake.dfs.fabric.microsoft.com/lh/Files/"})
    assert (
        job_root(cfg)
        == "abfss://ws@onelake.dfs.fabric.microsoft.com/lh/Files/synthetic_data/parquet/series/retail_oltp_small/j/nested"
    )


def test_batches_cover_each_day_once_and_place_snapshots():
    plan = build_plan(config(batch_size=3))
    assert [tuple(b.dates) for b in plan.batches][0] == (dt.date(2024, 2, 1), dt.date(2024, 2, 2), dt.date(2024, 2, 3))
    assert [len(b.dates) for b in plan.batches] == [3, 3, 1]
    orders_days = [td.date for td in plan.table_days if td.table.name == "orders"]
    assert orders_days == config().dates
    product_days = [td.date for td in plan.table_days if td.table.name == "products"]
    assert product_days == [dt.date(2024, 1, 29), dt.date(2024, 2, 5)]


def test_chunk_size_sets_the_parts_per_day():
    plan = build_plan(config(chunk_size=4000))
    orders = next(td for td in plan.table_days if td.table.name == "orders")
    assert orders.partitions == -(-orders.rows // 4000) >= 2  # ceil(rows / chunk_size) files


def test_ids_continue_across_days():
    plan = build_plan(config())
    orders = [td for td in plan.table_days if td.table.name == "orders"]
    for before, after in zip(orders, orders[1:], strict=False):
        assert after.id_offset == before.id_offset + before.rows


def test_dates_before_the_dataset_epoch_are_refused():
    with pytest.raises(ConfigError, match="field 'start_date': is before the dataset epoch"):
        build_plan(config(start_date="2019-12-31"))


def test_unknown_holiday_country_is_refused():
    with pytest.raises(ConfigError, match="field 'holiday_country'"):
        build_plan(config(holiday_country="ZZ"))


def test_plan_text_shows_formula_multipliers_and_paths():
    text = describe_plan(build_plan(config()))
    assert (
        "rows(table, d) = round(base_rows x scale_factor x weekday(d) x holiday(d) x month(d) x noise(d) x population(d))"
        in text
    )
    assert "Mon 0.8 Tue 0.9 Wed 1 Thu 1.1 Fri 1.3 Sat 1.2 Sun 0.7" in text
    line = re.search(r"2024-02-01  Thu  orders +([\d,]+)  10000 x 1 x 1.1 x 1 x month 0.86 x noise ([\d.]+)\n", text)
    assert line, text  # base x scale x weekday x holiday x month x noise
    rows, noise = int(line[1].replace(",", "")), float(line[2])  # the noise as printed, to 4 decimals
    assert abs(rows - 10000 * 1.1 * 0.86 * noise) <= 0.5 + 10000 * 1.1 * 0.86 * 0.00005
    assert "-> /data/synthetic_data/parquet/series/retail_oltp_small/j/nested/orders/2024/02/01/data.parquet" in text
