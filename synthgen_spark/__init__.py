"""synthgen_spark: seeded, reproducible, multi-table synthetic data on Spark, day by day.

Example::

    from synthgen_spark import generate
    report = generate("conf/jobs/test_feb_2024.yaml")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from synthgen_spark.cli import main
from synthgen_spark.config import JobConfig
from synthgen_spark.errors import ConfigError, SpecError, SynthgenError

if TYPE_CHECKING:
    from synthgen_spark.runner import RunReport

__version__ = "0.5.0"
__all__ = ["ConfigError", "JobConfig", "RunReport", "SpecError", "SynthgenError", "generate", "main", "plan", "report"]


def __getattr__(name: str):
    """Load the Spark-facing names lazily, so config and planning work without starting Spark."""
    if name in ("generate", "plan", "report"):
        from synthgen_spark import api

        return getattr(api, name)
    if name == "RunReport":
        from synthgen_spark.runner import RunReport

        return RunReport
    raise AttributeError(name)
