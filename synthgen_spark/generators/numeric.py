"""Numeric generators: sequence, uniform, normal, lognormal."""

from __future__ import annotations

import math

from pyspark.sql import Column
from pyspark.sql import functions as F

from synthgen_spark.catalog import ColumnSpec
from synthgen_spark.generators.core import bounded_index, hash_key, unit_interval
from synthgen_spark.generators.registry import Scope, register

INTEGER_TYPES = ("long", "int")


def build_uniform_integer_column(row_key: Column, seed: int, *, low: int, high: int) -> Column:
    """Integers uniform on [low, high] inclusive."""
    return F.lit(low).cast("bigint") + bounded_index(hash_key(row_key, seed), high - low + 1)


def build_uniform_real_column(row_key: Column, seed: int, *, low: Column, high: Column) -> Column:
    """Doubles uniform on [low, high)."""
    return low + unit_interval(hash_key(row_key, seed)) * (high - low)


def build_standard_normal_column(row_key: Column, seed: int) -> Column:
    """Standard normal values by Box-Muller from two independent hashes of the row key."""
    radius_u = F.lit(1.0) - unit_interval(hash_key(row_key, seed))  # (0, 1]: log is finite
    angle_u = unit_interval(hash_key(row_key, seed ^ 0x5DEECE66D))
    return F.sqrt(F.lit(-2.0) * F.log(radius_u)) * F.cos(F.lit(2 * math.pi) * angle_u)


def _clamp(value: Column, spec: ColumnSpec) -> Column:
    if "min" in spec.params:
        value = F.greatest(value, F.lit(float(spec.params["min"])))
    if "max" in spec.params:
        value = F.least(value, F.lit(float(spec.params["max"])))
    return value


def _bound(value: object, scope: Scope) -> Column:
    return scope.column(value) if isinstance(value, str) else F.lit(float(value))


@register("sequence")
def _sequence(spec: ColumnSpec, scope: Scope) -> Column:
    """IDs: start + the rows of all earlier days since the epoch + row index (unique over all runs)."""
    start = F.lit(int(spec.params.get("start", 1))).cast("bigint") + scope.row_index
    return start + scope.day_fact("id_offset", scope.table.name) if scope.table.kind == "incremental" else start


@register("uniform")
def _uniform(spec: ColumnSpec, scope: Scope) -> Column:
    low, high = spec.params["min"], spec.params["max"]
    seed = scope.seed(spec.name)
    if spec.type in INTEGER_TYPES and not isinstance(low, str) and not isinstance(high, str):
        return build_uniform_integer_column(scope.row_key, seed, low=int(low), high=int(high))
    return build_uniform_real_column(scope.row_key, seed, low=_bound(low, scope), high=_bound(high, scope))


@register("normal")
def _normal(spec: ColumnSpec, scope: Scope) -> Column:
    z = build_standard_normal_column(scope.row_key, scope.seed(spec.name))
    return _clamp(F.lit(float(spec.params["mean"])) + F.lit(float(spec.params["stddev"])) * z, spec)


@register("lognormal")
def _lognormal(spec: ColumnSpec, scope: Scope) -> Column:
    z = build_standard_normal_column(scope.row_key, scope.seed(spec.name))
    return _clamp(F.lit(float(spec.params["median"])) * F.exp(F.lit(float(spec.params["sigma"])) * z), spec)
