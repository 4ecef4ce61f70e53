"""Numeric generators: sequence, uniform, normal, lognormal."""

from __future__ import annotations

import math

from synthgen_spark.catalog import ColumnSpec
from synthgen_spark.generators import sql
from synthgen_spark.generators.core import bounded_index, derive_seed, hash_key, unit_interval
from synthgen_spark.generators.registry import Scope, register
from synthgen_spark.generators.sql import Expr

INTEGER_TYPES = ("long", "int")


def build_uniform_integer_column(row_key: Expr, seed: int, *, low: int, high: int) -> Expr:
    """Integers uniform on [low, high] inclusive."""
    return sql.lit(low).cast("bigint") + bounded_index(hash_key(row_key, seed), high - low + 1)


def build_uniform_real_column(row_key: Expr, seed: int, *, low: Expr, high: Expr) -> Expr:
    """Doubles uniform on [low, high)."""
    return low + unit_interval(hash_key(row_key, seed)) * (high - low)


def build_standard_normal_column(row_key: Expr, seed: int) -> Expr:
    """Standard normal values by Box-Muller from two independent hashes of the row key."""
    radius_u = sql.lit(1.0) - unit_interval(hash_key(row_key, seed))  # (0, 1]: log is finite
    angle_u = unit_interval(hash_key(row_key, derive_seed(seed, 1)))
    return sql.sqrt(sql.lit(-2.0) * sql.log(radius_u)) * sql.cos(sql.lit(2 * math.pi) * angle_u)


def _clamp(value: Expr, spec: ColumnSpec) -> Expr:
    if "min" in spec.params:
        value = sql.greatest(value, sql.lit(float(spec.params["min"])))
    if "max" in spec.params:
        value = sql.least(value, sql.lit(float(spec.params["max"])))
    return value


def _bound(value: object, scope: Scope) -> Expr:
    return scope.column(value) if isinstance(value, str) else sql.lit(float(value))


@register("sequence")
def _sequence(spec: ColumnSpec, scope: Scope) -> Expr:
    """IDs: start + the rows of all earlier days since the epoch + row index (unique over all runs)."""
    start = sql.lit(int(spec.params.get("start", 1))).cast("bigint") + scope.row_index
    return start + scope.day_fact("id_offset", scope.table.name) if scope.table.kind == "incremental" else start


@register("uniform")
def _uniform(spec: ColumnSpec, scope: Scope) -> Expr:
    low, high = spec.params["min"], spec.params["max"]
    seed = scope.seed(spec.name)
    if spec.type in INTEGER_TYPES and not isinstance(low, str) and not isinstance(high, str):
        return build_uniform_integer_column(scope.row_key, seed, low=int(low), high=int(high))
    return build_uniform_real_column(scope.row_key, seed, low=_bound(low, scope), high=_bound(high, scope))


@register("normal")
def _normal(spec: ColumnSpec, scope: Scope) -> Expr:
    z = build_standard_normal_column(scope.row_key, scope.seed(spec.name))
    return _clamp(sql.lit(float(spec.params["mean"])) + sql.lit(float(spec.params["stddev"])) * z, spec)


@register("lognormal")
def _lognormal(spec: ColumnSpec, scope: Scope) -> Expr:
    z = build_standard_normal_column(scope.row_key, scope.seed(spec.name))
    return _clamp(sql.lit(float(spec.params["median"])) * sql.exp(sql.lit(float(spec.params["sigma"])) * z), spec)
