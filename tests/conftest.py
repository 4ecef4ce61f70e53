"""Shared fixtures: one local SparkSession (UTC) for the whole run, and helpers to run and read jobs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from synthgen_spark.config import JobConfig

FEB_JOB = Path(__file__).resolve().parent.parent / "conf" / "jobs" / "test_feb_2024.yaml"


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    from synthgen_spark.session import get_or_create_session

    warehouse = tmp_path_factory.mktemp("warehouse")
    settings = {"spark.sql.shuffle.partitions": "4", "spark.sql.warehouse.dir": str(warehouse)}
    session = get_or_create_session(master="local[2]", extra=settings)
    yield session
    session.stop()


def small_config(tmp_path: Path, **overrides) -> JobConfig:
    """A quick retail_oltp_small job (5% volume) writing under ``tmp_path``.

    A week per batch: a test's few days cost one Spark job per table, not one per table per day
    (tests about batches set ``batch_size`` themselves; the CLI and crash tests run daily batches).
    """
    values = {
        "job_name": "t",
        "dataset_id": "retail_oltp_small",
        "start_date": "2024-02-01",
        "end_date": "2024-02-03",
        "batch_size": 7,
        "seed_value": 7,
        "scale_factor": 0.05,
        "output_mode": "parquet",
        "path_format": "nested",
        "output_root": str(tmp_path),
    }
    values.update(overrides)
    return JobConfig.from_mapping(values)


def read_table(spark, report, table: str):
    """Read every file a run wrote for ``table`` back, with exact types and a ``_file`` column."""
    from pyspark.sql import functions as F

    from synthgen_spark.catalog import load_dataset
    from synthgen_spark.engine import table_ddl

    paths = [p for r in report.results if r.table == table for p in r.paths]
    spec = load_dataset(report.dataset_id).table(table)
    if paths[0].endswith(".csv"):
        reader = spark.read.schema(table_ddl(spec)).option("header", "true")
        frame = reader.option("timestampFormat", "yyyy-MM-dd HH:mm:ss").csv(paths)
    else:
        frame = spark.read.parquet(*paths)
    return frame.withColumn("_file", F.col("_metadata.file_path"))


def files_under(root: Path) -> list[str]:
    """Every file below ``root``, relative and sorted (hidden files included)."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses the Spark session ``spark``, so ``make check`` can leave it out."""
    for item in items:
        if "spark" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.spark)


@pytest.fixture(autouse=True)
def _no_spark_testing_env():
    assert os.environ.get("SPARK_TESTING") is None, "SPARK_TESTING hides ~/.m2 from Spark; unset it"
    yield
