"""Files: the exact layout for every format and path layout, one real file per table per day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from synthgen_spark.api import generate

from .helpers import assert_days_match_plan, files_under, read_facts, read_table, small_config

DATE_COLUMNS = {
    "customers": "snapshot_date",
    "products": "snapshot_date",
    "orders": "order_date",
    "order_items": "order_date",
}


def expected_files(mode: str, layout: str) -> list[str]:
    ext = "csv" if mode == "csv" else "parquet"
    days = {
        "customers": ["2024-02-01", "2024-02-02", "2024-02-03"],
        "products": ["2024-01-29"],
        "orders": ["2024-02-01", "2024-02-02", "2024-02-03"],
        "order_items": ["2024-02-01", "2024-02-02", "2024-02-03"],
    }
    base = f"synthetic_data/{mode}/series/retail_oltp_small/t/{layout}"
    files = []
    for table, dates in days.items():
        for iso in dates:
            y, m, d = iso.split("-")
            name = f"{table}/{y}/{m}/{d}/data.{ext}" if layout == "nested" else f"{table}/{table}_{y}{m}{d}.{ext}"
            files.append(f"{base}/{name}")
    report = [f"{base}/_synthgen_report/report.{ext}" for ext in ("html", "json")]
    return sorted([*files, *report, f"{base}/_synthgen_state.json"])


@pytest.mark.parametrize("mode", ["csv", "parquet"])
@pytest.mark.parametrize("layout", ["flat", "nested"])
def test_exact_layout_and_file_dates(spark, tmp_path, mode, layout):
    """Three days in one batch: two Spark tasks on local[2], one of them writing two days' files."""
    config = small_config(tmp_path, output_mode=mode, path_format=layout, batch_size=3)
    report = generate(config, spark, progress=None)
    assert files_under(tmp_path) == expected_files(mode, layout)
    assert_days_match_plan(read_facts(config), config)  # the run report: the plan's rows, the files' sizes
    for table, column in DATE_COLUMNS.items():
        frame = read_table(spark, report, table)
        date_in_path = F.regexp_extract("_file", r"(\d{4})/?(\d{2})/?(\d{2})/?(data)?\.|(\d{8})\.", 0)
        digits = F.regexp_replace(date_in_path, r"[^0-9]", "")
        mismatched = frame.where(F.date_format(column, "yyyyMMdd") != digits).limit(1).count()
        assert mismatched == 0, f"{table}: a row's {column} differs from its file's date"


def test_csv_has_a_header_and_plain_values(spark, tmp_path):
    report = generate(
        small_config(tmp_path, output_mode="csv", path_format="flat", end_date="2024-02-01"), spark, progress=None
    )
    orders = next(r for r in report.results if r.table == "orders")
    lines = Path(orders.paths[0]).read_text().splitlines()
    assert lines[0].split(",")[:4] == ["order_id", "customer_id", "order_date", "order_ts"]
    assert len(lines) == orders.rows + 1
    assert lines[1].split(",")[2] == "2024-02-01"


def test_chunked_days_are_split_into_numbered_parts_holding_at_most_chunk_size(spark, tmp_path):
    report = generate(small_config(tmp_path, chunk_size=200, end_date="2024-02-01"), spark, progress=None)
    orders = next(r for r in report.results if r.table == "orders")
    assert 400 < orders.rows <= 600 and [Path(p).name for p in orders.paths] == [  # 500 x 1.1 x 0.86 x noise
        "data-00001.parquet",
        "data-00002.parquet",
        "data-00003.parquet",
    ]
    sizes = [spark.read.parquet(p).count() for p in orders.paths]
    assert max(sizes) <= 200 and sum(sizes) == orders.rows


def test_an_output_root_with_spaces_and_commas(spark, tmp_path):
    root = tmp_path / "test data, v2"
    generate(small_config(root, output_mode="csv", batch_size=3), spark, progress=None)
    assert files_under(root) == expected_files("csv", "nested")


def test_rerun_replaces_files_and_leaves_no_temp_files(spark, tmp_path):
    config = small_config(tmp_path, end_date="2024-02-01")
    generate(config, spark, progress=None)
    first = files_under(tmp_path)
    generate(config, spark, progress=None)
    assert files_under(tmp_path) == first
    assert not any("_tmp" in f or f.startswith(".") or "/." in f for f in first)


def test_report_rows_and_paths_match_the_files(spark, tmp_path):
    report = generate(small_config(tmp_path), spark, progress=None)
    for result in report.results:
        frame = read_table(spark, report, result.table).where(
            F.col("_file").contains(result.paths[0].rsplit("/", 1)[0])
        )
        if result.table in ("orders", "order_items"):
            assert frame.where(F.col(DATE_COLUMNS[result.table]) == result.date).count() == result.rows
    assert report.rows_by_table()["orders"] == sum(r.rows for r in report.results if r.table == "orders")
    assert report.results[0].date == dt.date(2024, 2, 1)
