"""One-day batches reuse the code Spark generated for the day before (issue 19, item 2).

Spark inlines number literals into the code it generates; a fact of the day (its row count, its date, a
foreign key's pick table) must reach the expressions as an array read by the row's file, so the code of
the next day's batch is the same text and Spark's code cache serves it instead of compiling again.
"""

from __future__ import annotations

from synthgen_spark.api import generate

from .helpers import small_config


def _compilations(spark) -> int:
    return spark.sparkContext._jvm.org.apache.spark.metrics.source.CodegenMetrics.METRIC_COMPILATION_TIME().getCount()


def test_the_next_days_batches_compile_almost_nothing(spark, tmp_path):
    counts = []
    for day in ("2024-03-05", "2024-03-06", "2024-03-07"):  # ordinary weekdays: the same tables, files and shapes
        config = small_config(tmp_path / day, start_date=day, end_date=day, batch_size=1)
        before = _compilations(spark)
        generate(config, spark, progress=None)
        counts.append(_compilations(spark) - before)
    assert counts[-1] <= 3, counts  # measured [43, 12, 0]; before 0.12.0 every one-day batch compiled ~17 classes


def test_a_run_sets_its_spark_settings_where_the_session_has_sparks_defaults_and_restores_them(spark):
    from synthgen_spark.session import GENERATION_SETTINGS, SPARK_DEFAULTS, generation_settings

    kept = {key: spark.conf.get(key, None) for key in GENERATION_SETTINGS}
    try:
        for key, value in SPARK_DEFAULTS.items():
            spark.conf.set(key, value)
        spark.conf.set("spark.sql.codegen.wholeStage", "false")  # a value the user chose is kept, and left as it was
        with generation_settings(spark):
            assert spark.conf.get("spark.sql.constraintPropagation.enabled") == "false"
            assert spark.conf.get("spark.sql.codegen.wholeStage") == "false"
        assert spark.conf.get("spark.sql.constraintPropagation.enabled") == "true"
        assert spark.conf.get("spark.sql.codegen.wholeStage") == "false"
    finally:
        for key, value in kept.items():
            spark.conf.unset(key) if value is None else spark.conf.set(key, value)
