"""Shared fixtures: one local SparkSession (UTC) for the whole run; the `spark` marker. Helpers: tests/helpers.py."""

from __future__ import annotations

import os

import pytest

from .helpers import JIT_OPTS

# Every Spark JVM the tests start through spark-submit (this session, the Connect server, the CLI, the notebook
# kernel, the cluster test's driver) JIT-compiles less eagerly: short test jobs spent ~40% of their CPU in the C2
# compiler on query code that runs for milliseconds (golden test: JVM CPU ~128 s -> ~113 s). A HotSpot tuning flag:
# no effect on results. SPARK_SUBMIT_OPTS is spark-submit's own variable (no "Picked up ..." line on stderr).
if JIT_OPTS not in os.environ.get("SPARK_SUBMIT_OPTS", ""):
    os.environ["SPARK_SUBMIT_OPTS"] = f"{os.environ.get('SPARK_SUBMIT_OPTS', '')} {JIT_OPTS}".strip()


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


# the files that take longest (`--durations`), longest first: `make test` hands out whole files in collection
# order (`--dist loadfile --no-loadscope-reorder`), so these start first and no worker ends alone with one
SLOWEST_FILES = ("test_connect.py", "test_golden.py", "test_deploy.py", "test_realism.py", "test_change_feed.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slowest files first; mark every test that uses the Spark session ``spark`` (or the Connect server
    ``remote``), so ``make check`` can leave it out."""
    rank = {name: i for i, name in enumerate(SLOWEST_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order
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
