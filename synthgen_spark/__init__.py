"""synthgen_spark: seeded, reproducible, multi-table synthetic data on Spark, day by day."""

__version__ = "0.1.0"
