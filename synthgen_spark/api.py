"""Python API: ``generate``, ``plan``, ``frames`` and ``report`` (the run report again), for notebooks and jobs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthgen_spark.config import JobConfig, load_config_file, parse_job_configs
from synthgen_spark.errors import ConfigError, invalid
from synthgen_spark.planner import Plan, build_plan
from synthgen_spark.runner import Progress, RunReport

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from synthgen_spark.reporting import JobReport


def as_config(config: JobConfig | Mapping[str, Any] | str | Path) -> JobConfig:
    """Accept a JobConfig, a dict of parameters (or a one-job ``job_configs`` dict) or a YAML path."""
    if isinstance(config, JobConfig):
        return config
    if isinstance(config, str | Path):
        return load_config_file(config)
    jobs = parse_job_configs(config, source="config")
    if len(jobs) != 1:
        raise ConfigError(
            invalid(
                "job_configs",
                "one entry",
                len(jobs),
                where="config",
                problem="one job expected here",
                fix="Call generate() once per entry of job_configs.",
            )
        )
    return jobs[0]


def plan(config: JobConfig | Mapping[str, Any] | str | Path) -> Plan:
    """Plan a job without Spark: per-day rows per table, batches and output paths."""
    return build_plan(as_config(config))


def generate(
    config: JobConfig | Mapping[str, Any] | str | Path, spark=None, progress: Progress | None = print
) -> RunReport:
    """Generate and write a job; returns the report (per table per day: rows and paths).

    Uses ``spark`` if given, else the active session (Fabric, Databricks), else a local one.

    Example::

        report = generate({"dataset_id": "retail_oltp_small", "start_date": "2024-02-01",
                           "end_date": "2024-02-07", "output_mode": "csv", "output_root": "Files/synth"}, spark)
        print(report.summary())
    """
    from synthgen_spark.runner import run_plan
    from synthgen_spark.session import get_or_create_session

    job_plan = plan(config)  # validates before any Spark work
    return run_plan(spark or get_or_create_session(), job_plan, progress)


def frames(
    config: JobConfig | Mapping[str, Any] | str | Path, spark=None, day: dt.date | str | None = None
) -> dict[str, DataFrame]:
    """The job's data per table as DataFrames, without writing anything (tests, notebooks, previews).

    Each table's frame holds every day of the job (snapshots: every snapshot date, with the one in
    force on the first day); with ``day``, only that day (snapshots: the snapshot in force on it).
    The rows are exactly those ``generate`` writes.

    Example::

        orders = frames("conf/jobs/test_feb_2024.yaml", spark, day="2024-02-03")["orders"]
        orders.groupBy("status").count().show()

    Raises:
        ConfigError: ``day`` is not a date of the job.
    """
    from synthgen_spark.engine import build_batch_frame
    from synthgen_spark.session import get_or_create_session

    job_plan = plan(config)
    by_table: dict[str, list] = {}
    for table_day in job_plan.table_days:
        by_table.setdefault(table_day.table.name, []).append(table_day)
    if day is not None:
        wanted = day if isinstance(day, dt.date) else _parse_day(day)
        if wanted not in job_plan.config.dates:
            raise ConfigError(
                invalid(
                    "day",
                    f"{job_plan.config.start_date}..{job_plan.config.end_date}",
                    wanted.isoformat(),
                    where="api",
                    problem="not a date of the job",
                )
            )
        by_table = {name: tds for name, tds in ((n, _in_force(tds, wanted)) for n, tds in by_table.items()) if tds}
    session = spark or get_or_create_session()
    return {name: build_batch_frame(session, job_plan.config, job_plan.dataset, tds) for name, tds in by_table.items()}


def _parse_day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(invalid("day", "YYYY-MM-DD", text, where="api", problem="not a date")) from None


def _in_force(table_days: list, day: dt.date) -> list:
    """The table-days of ``day``: an incremental table's day, or the snapshot in force on it."""
    if table_days[0].table.kind == "incremental":
        return [td for td in table_days if td.date == day]
    earlier = [td for td in table_days if td.date <= day]
    return [earlier[-1]] if earlier else []


def report(config: JobConfig | Mapping[str, Any] | str | Path, spark=None) -> JobReport:
    """Write the job's report (report.html, report.json) again from its ledger and return it.

    It covers every day the job holds over all its runs, plus the config's date range; in a
    notebook the returned report displays itself (charts included).
    """
    from synthgen_spark.reporting import render_report
    from synthgen_spark.session import get_or_create_session

    job_config = as_config(config)
    build_plan(job_config)  # validates before any Spark work
    return render_report(spark or get_or_create_session(), job_config)
