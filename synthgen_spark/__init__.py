"""synthgen_spark: seeded, reproducible, multi-table synthetic data on Spark, day by day.

Example::

    from synthgen_spark import generate
    report = generate("conf/jobs/test_feb_2024.yaml")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from synthgen_spark._version import __version__
from synthgen_spark.config import JobConfig, parse_job_configs
from synthgen_spark.errors import ConfigError, SpecError, StateError, SynthgenError, WriteError

if TYPE_CHECKING:
    from synthgen_spark.api import frames, generate, plan, report
    from synthgen_spark.runner import RunReport
    from synthgen_spark.session import get_or_create_session

__all__ = [
    "ConfigError",
    "JobConfig",
    "RunReport",
    "SpecError",
    "StateError",
    "SynthgenError",
    "WriteError",
    "__version__",
    "frames",
    "generate",
    "get_or_create_session",
    "parse_job_configs",
    "plan",
    "report",
]
# the names that import pyspark, loaded on first use: config and planning work without it
LAZY = {
    "frames": "synthgen_spark.api",
    "generate": "synthgen_spark.api",
    "plan": "synthgen_spark.api",
    "report": "synthgen_spark.api",
    "RunReport": "synthgen_spark.runner",
    "get_or_create_session": "synthgen_spark.session",
}


def __getattr__(name: str):
    """Load the Spark-facing names lazily, so config and planning work without starting Spark."""
    if name not in LAZY:
        raise AttributeError(f"module 'synthgen_spark' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(LAZY[name]), name)
