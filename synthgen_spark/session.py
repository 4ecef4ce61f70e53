"""SparkSession: reuse the active one untouched (Fabric, Databricks, spark-submit), else build local mode."""

from __future__ import annotations

from pyspark.sql import SparkSession

LOCAL_SETTINGS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "8",
    "spark.scheduler.mode": "FAIR",
}


def get_or_create_session(
    master: str = "local[*]", app_name: str = "synthgen", extra: dict | None = None
) -> SparkSession:
    """The active SparkSession if there is one (left exactly as it is), else a new local-mode session.

    Example::

        spark = get_or_create_session()          # in a notebook: the notebook's own session
    """
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in {**LOCAL_SETTINGS, **(extra or {})}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
