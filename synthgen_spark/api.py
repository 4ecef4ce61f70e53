"""Python API: ``generate(config, spark=None)``, ``plan(config)`` and ``report(config)``, for notebooks and jobs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthgen_spark.config import JobConfig, load_config_file, parse_job_configs
from synthgen_spark.planner import Plan, build_plan
from synthgen_spark.runner import Progress, RunReport

if TYPE_CHECKING:
    from synthgen_spark.reporting import JobReport


def as_config(config: JobConfig | Mapping[str, Any] | str | Path) -> JobConfig:
    """Accept a JobConfig, a dict of parameters (or a one-job ``job_configs`` dict) or a YAML path."""
    if isinstance(config, JobConfig):
        return config
    if isinstance(config, str | Path):
        return load_config_file(config)
    jobs = parse_job_configs(config, source="config")
    if len(jobs) != 1:
        raise ValueError("as_config takes one job; call generate() once per entry of job_configs")
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
