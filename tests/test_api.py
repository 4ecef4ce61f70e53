"""Python API: generate() from a dict with the caller's SparkSession, which it leaves untouched."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from chispa import assert_df_equality

import synthgen_spark
from synthgen_spark.api import frames, generate
from synthgen_spark.calendar import round_half_up, volume_noise
from synthgen_spark.errors import ConfigError
from synthgen_spark.session import get_or_create_session

from .helpers import read_table, small_config


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
    # 100 x weekday (Thu 1.1, Fri 1.3) x month (February 0.86) x the day's seeded noise (sigma 0.08)
    orders = [
        round_half_up(100 * w * 0.86 * volume_noise(42, "orders", dt.date(2024, 2, d), 0.08))
        for d, w in ((1, 1.1), (2, 1.3))
    ]
    assert report.rows_by_table() == {
        "customers": sum(customers),
        "products": products,
        "orders": sum(orders),
        "order_items": sum(round_half_up(n * 2.5) for n in orders),
    }
    assert all(Path(p).is_file() for r in report.results for p in r.paths)
    assert "orders" in report.summary() and str(tmp_path) in report.summary()
    assert dict(spark.sparkContext.getConf().getAll()) == before
    assert spark.conf.get("spark.sql.shuffle.partitions") == shuffle


def test_public_api_is_small_and_complete():
    from synthgen_spark import _version, api, config, errors, runner, session

    expected = {
        "ConfigError": errors.ConfigError,
        "JobConfig": config.JobConfig,
        "RunReport": runner.RunReport,
        "SpecError": errors.SpecError,
        "StateError": errors.StateError,
        "SynthgenError": errors.SynthgenError,
        "WriteError": errors.WriteError,
        "__version__": _version.__version__,
        "frames": api.frames,
        "generate": api.generate,
        "get_or_create_session": session.get_or_create_session,
        "parse_job_configs": config.parse_job_configs,
        "plan": api.plan,
        "report": api.report,
    }
    assert {name: getattr(synthgen_spark, name) for name in synthgen_spark.__all__} == expected
    errors_defined = {n for n, v in vars(errors).items() if isinstance(v, type) and issubclass(v, Exception)}
    assert errors_defined <= set(synthgen_spark.__all__)


def test_the_docs_name_every_public_name_and_import_only_public_names():
    docs = Path(__file__).resolve().parent.parent / "docs" / "parameters.md"
    readme = docs.parent.parent / "README.md"
    listed = re.search(r"public names \(`synthgen_spark.__all__`\): (.+?)\n\n", docs.read_text(), re.S).group(1)
    assert set(re.findall(r"`(\w+)`", listed)) == set(synthgen_spark.__all__)
    for page in (readme, docs):
        for names in re.findall(r"^from synthgen_spark import (.+)$", page.read_text(), re.M):
            assert {n.strip() for n in names.split(",")} <= set(synthgen_spark.__all__), page.name


def test_frames_are_the_rows_generate_writes(spark, tmp_path):
    config = small_config(tmp_path, output_mode="parquet", path_format="flat")
    report = generate(config, spark, progress=None)
    day = frames(config, spark, day="2024-02-02")
    assert set(day) == {"customers", "products", "orders", "order_items"}
    for table in ("orders", "products"):
        written = read_table(spark, report, table).drop("_file")
        expected = written.where(f"{'order_date' if table == 'orders' else 'snapshot_date'} = DATE'2024-02-02'")
        if table == "products":  # weekly: the Monday snapshot 2024-01-29 is in force on 2024-02-02
            expected = written
        assert_df_equality(day[table], expected, ignore_row_order=True, ignore_nullable=True)
    whole = frames(config, spark)
    assert_df_equality(
        whole["orders"], read_table(spark, report, "orders").drop("_file"), ignore_row_order=True, ignore_nullable=True
    )
    with pytest.raises(ConfigError, match="field 'day': not a date of the job .got '2024-03-01'."):
        frames(config, spark, day="2024-03-01")
