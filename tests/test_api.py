"""Python API: generate() from a dict with the caller's SparkSession, which it leaves untouched."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import synthgen_spark
from synthgen_spark.api import generate
from synthgen_spark.session import get_or_create_session


def test_generate_from_a_dict_with_an_existing_session(spark, tmp_path):
    spark.catalog.currentDatabase()  # Spark itself records the warehouse dir on first catalog use
    before = dict(spark.sparkContext.getConf().getAll())
    shuffle = spark.conf.get("spark.sql.shuffle.partitions")
    assert get_or_create_session() is spark
    report = generate(
        {
            "job_name": "notebook",
            "dataset_id": "retail_oltp_small",
            "start_date": "2024-02-01",
            "end_date": "2024-02-02",
            "scale_factor": 0.01,
            "output_mode": "csv",
            "path_format": "flat",
            "output_root": str(tmp_path),
        },
        spark,
        progress=None,
    )
    days_since_epoch = (dt.date(2024, 2, 1) - dt.date(2020, 1, 1)).days  # customers grow by 100 x 0.002 a day
    customers = [100 + (days_since_epoch + i) * 2 // 10 for i in (0, 1)]
    products = 10 + (days_since_epoch // 7) // 10  # 10 x 1 % a week, snapshot of Monday 2024-01-29
    assert report.rows_by_table() == {
        "customers": sum(customers),
        "products": products,
        "orders": 110 + 130,
        "order_items": 275 + 325,
    }
    assert all(Path(p).is_file() for r in report.results for p in r.paths)
    assert "orders" in report.summary() and str(tmp_path) in report.summary()
    assert dict(spark.sparkContext.getConf().getAll()) == before
    assert spark.conf.get("spark.sql.shuffle.partitions") == shuffle


def test_public_api_is_small_and_complete():
    from synthgen_spark import api, cli, config, errors, runner

    expected = {
        "ConfigError": errors.ConfigError,
        "JobConfig": config.JobConfig,
        "RunReport": runner.RunReport,
        "SpecError": errors.SpecError,
        "SynthgenError": errors.SynthgenError,
        "generate": api.generate,
        "main": cli.main,
        "plan": api.plan,
        "report": api.report,
    }
    assert {name: getattr(synthgen_spark, name) for name in synthgen_spark.__all__} == expected
    assert issubclass(errors.ConfigError, errors.SynthgenError) and issubclass(errors.SpecError, errors.SynthgenError)


def test_a_run_uses_expression_codegen_only_where_spark_default_is_in_force(spark):
    from synthgen_spark.session import generation_settings

    key = "spark.sql.codegen.wholeStage"
    previous = spark.conf.get(key)
    try:
        spark.conf.set(key, "true")  # Spark's default: synthgen turns it off during the run, then restores it
        with generation_settings(spark):
            assert spark.conf.get(key) == "false"
        assert spark.conf.get(key) == "true"
        spark.conf.unset(key)
        with generation_settings(spark):
            assert spark.conf.get(key) == "false"
        assert spark.conf.get(key) == "true"  # unset again: Spark's default
    finally:
        spark.conf.set(key, previous)
