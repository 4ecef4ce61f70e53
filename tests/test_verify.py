"""``synthgen verify``: a job's written output passes every check; a broken file makes it exit 1."""

from __future__ import annotations

import shutil

import pytest

from synthgen_spark.api import generate
from synthgen_spark.cli import main
from synthgen_spark.planner import build_plan

from .helpers import small_config

JOB = {"end_date": "2024-02-02", "batch_size": 2, "scale_factor": 0.01}


def _flags(config) -> list[str]:
    """The CLI flags of a small_config job."""
    values = config.to_dict()
    names = ("job_name", "dataset_id", "start_date", "end_date", "batch_size", "seed_value", "scale_factor")
    names += ("output_mode", "path_format", "output_root")
    return [part for name in names for part in ("--" + name.replace("_", "-"), str(values[name]))]


@pytest.fixture(scope="module")
def written(spark, tmp_path_factory):
    """A two-day retail job (keys, parent keys, sums and date orders to check)."""
    config = small_config(tmp_path_factory.mktemp("verify"), **JOB)
    generate(config, spark, progress=None)
    return config


def test_verify_passes_on_what_a_job_wrote(written, capsys):
    assert main(["verify", *_flags(written)]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out
    for line in (
        "primary key unique         orders.order_id",
        "keys join as of date       orders.customer_id -> customers",
        "keys join as of date       order_items.order_id -> orders",
        "keys refer to active       orders.customer_id -> customers",
        "declared sums hold         orders.order_total = order_items",
        "dates in declared order    orders.order_date <= shipped_date",
        "volumes equal the plan     order_items",
        "targets as declared        orders: top 10% of customer_id  not judged",
    ):
        assert f"PASS  {line}" in out


def test_verify_exits_1_on_a_file_with_repeated_keys(written, spark, tmp_path, capsys):
    copy = written.with_overrides({"output_root": str(tmp_path / "copy")})
    shutil.copytree(written.output_root, copy.output_root)
    target = next(td for td in build_plan(copy).table_days if td.table.name == "orders").paths[0]
    orders = spark.read.parquet(target)
    orders.union(orders.limit(1)).coalesce(1).write.parquet(str(tmp_path / "broken"))
    shutil.move(next((tmp_path / "broken").glob("part-*.parquet")), target)
    assert main(["verify", *_flags(copy)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  primary key unique         orders.order_id  1 repeated, 0 null" in out
    assert "FAIL  volumes equal the plan     orders" in out
    assert "PASS  primary key unique         customers.customer_id" in out


@pytest.fixture(scope="module")
def busy(spark, tmp_path_factory):
    """Two days of 10,000 orders: enough rows to judge the declared shapes."""
    config = small_config(tmp_path_factory.mktemp("busy"), end_date="2024-02-02", batch_size=2, scale_factor=0.5)
    generate(config, spark, progress=None)
    return config


def test_verify_judges_choices_and_hours_against_their_declared_weights(busy, capsys):
    assert main(["verify", *_flags(busy)]) == 0
    out = capsys.readouterr().out
    assert "PASS  shapes as declared         orders.order_ts by hour  distance 0.0" in out
    assert "PASS  shapes as declared         orders.payment_method by value  distance 0.0" in out
    assert "PASS  shapes as declared         order_items.quantity by value  distance 0.0" in out
    assert "orders.status by value" not in out  # moves with progress: as of each day, not its weights


def test_verify_fails_a_choice_whose_shares_are_not_its_declared_weights(busy, spark, tmp_path, capsys):
    from pyspark.sql import functions as F

    copy = busy.with_overrides({"output_root": str(tmp_path / "copy")})
    shutil.copytree(busy.output_root, copy.output_root)
    target = next(td for td in build_plan(copy).table_days if td.table.name == "orders").paths[0]
    orders = spark.read.parquet(target)
    first = orders.select("payment_method").first()[0]
    orders.withColumn("payment_method", F.lit(first)).coalesce(1).write.parquet(str(tmp_path / "skewed"))
    shutil.move(next((tmp_path / "skewed").glob("part-*.parquet")), target)
    assert main(["verify", *_flags(copy)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  shapes as declared         orders.payment_method by value  distance 0." in out
    assert "PASS  shapes as declared         orders.order_ts by hour" in out
