"""Shared fixtures: one local SparkSession (UTC) for the whole run; the `spark` marker. Helpers: tests/helpers.py."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    from synthgen_spark.session import get_or_create_session

    warehouse = tmp_path_factory.mktemp("warehouse")
    settings = {
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.warehouse.dir": str(warehouse),
        "spark.driver.memory": "3g",  # a test session plans many datasets' large expressions over its life
    }
    session = get_or_create_session(master="local[2]", extra=settings)
    yield session
    session.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses the Spark session ``spark`` (or the Connect server ``remote``), so
    ``make check`` can leave it out."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "spark" in fixtures:
            item.add_marker(pytest.mark.spark)
        if "remote" in fixtures:
            item.add_marker(pytest.mark.connect)


@pytest.fixture(autouse=True)
def _no_spark_testing_env():
    assert os.environ.get("SPARK_TESTING") is None, "SPARK_TESTING hides ~/.m2 from Spark; unset it"
    yield
