"""Generators' SQL text: literals keep PySpark's types and exact values, expressions compose like Columns."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import functions as F

from synthgen_spark.generators import sql

LITERALS = [
    0,
    7,
    -7,
    2**31 - 1,
    -(2**31),
    2**31,
    -(2**31) - 1,
    2**63 - 1,
    -(2**63),
    0.1,
    -2.5,
    1.0 / 2**53,
    1e300,
    "plain",
    "O'Brien \\ back\\slash",
    "Zürich",
    True,
    False,
    dt.date(2024, 2, 29),
]


def test_expressions_render_like_the_column_operations_they_mirror():
    a = sql.col("a", level=2)
    e = sql.when(a > 1, a * 2).otherwise(sql.lit(0)).cast("bigint")
    assert e.sql == "CAST(CASE WHEN (`a` > 1) THEN (`a` * 2) ELSE 0 END AS bigint)"
    assert e.level == 2
    assert (1 - a).sql == "(1 - `a`)" and (2.0 / a).sql == "(2.0D / `a`)"
    assert sql.xxhash64(sql.lit(5).cast("bigint"), sql.col("k", 1)).level == 1
    assert sql.when(a.isNull(), None).sql == "CASE WHEN (`a` IS NULL) THEN NULL END"
    assert sql.lit([1, "x"]).sql == "array(1, 'x')"


def test_literals_equal_pyspark_lit_in_type_and_value(spark):
    ours = [F.expr(sql.literal_sql(v)).alias(f"ours{i}") for i, v in enumerate(LITERALS)]
    theirs = [F.lit(v).alias(f"theirs{i}") for i, v in enumerate(LITERALS)]
    frame = spark.range(1).select(*ours, *theirs)
    row = frame.first()
    for i, value in enumerate(LITERALS):
        assert frame.schema[f"ours{i}"].dataType == frame.schema[f"theirs{i}"].dataType, repr(value)
        assert row[f"ours{i}"] == row[f"theirs{i}"] == value, repr(value)
