"""Date and time generators: the generation date, a timestamp within a day, a date offset."""

from __future__ import annotations

import itertools

from synthgen_spark.catalog import ColumnSpec
from synthgen_spark.generators import sql
from synthgen_spark.generators.categorical import (
    build_pool_pick_column,
    build_weighted_choice_column,
    case_key,
    choice_table,
    pool_index,
    weighted_pool_index,
)
from synthgen_spark.generators.core import bounded_index, derive_seed, hash_key, unit_interval
from synthgen_spark.generators.registry import Scope, register
from synthgen_spark.generators.sql import Expr

SECONDS_PER_DAY = 86400
SECONDS_PER_HOUR = 3600


def build_timestamp_in_day_column(row_key: Expr, seed: int, *, day: Expr) -> Expr:
    """A timestamp uniform over the 86,400 seconds of ``day`` (UTC instants)."""
    seconds = sql.unix_date(day).cast("bigint") * sql.lit(SECONDS_PER_DAY)
    return sql.timestamp_seconds(seconds + bounded_index(hash_key(row_key, seed), SECONDS_PER_DAY))


def build_date_offset_column(
    row_key: Expr,
    seed: int,
    *,
    base: Expr,
    min_days: int,
    max_days: int,
    band_weights: tuple[float, ...] = (1.0,),
    cases: tuple[tuple[Expr, tuple[float, ...]], ...] = (),
) -> Expr:
    """``base`` plus a whole number of days on [min_days, max_days]: uniform, or piecewise uniform by bands.

    With ``band_weights`` (k weights) the range is cut into k equal bands (band i: days ``min_days +
    floor(i·n/k)`` to ``min_days + floor((i+1)·n/k) − 1``, n days in all), band i is picked with probability
    ``w_i / Σw``, then a day uniformly within it, e.g. ages by a population pyramid. ``cases``: (condition,
    band weights) pairs, the first that holds weighs the bands instead (children's ages, adults' ages).
    """
    total, count = max_days - min_days + 1, len(band_weights)
    starts = tuple(min_days + i * total // count for i in range(count + 1))
    if count == 1:
        days = sql.lit(min_days).cast("bigint") + bounded_index(hash_key(row_key, seed), total)
        return sql.date_add(base, days.cast("int"))
    band = weighted_pool_index(row_key, derive_seed(seed, 1), tuple(band_weights))
    if cases:
        chosen = sql.when(cases[0][0], weighted_pool_index(row_key, derive_seed(seed, 1), cases[0][1]))
        for condition, weights in cases[1:]:
            chosen = chosen.when(condition, weighted_pool_index(row_key, derive_seed(seed, 1), weights))
        band = chosen.otherwise(band)
    start = build_pool_pick_column(band, values=starts[:-1]).cast("bigint")
    widths = tuple(b - a for a, b in itertools.pairwise(starts))
    length = build_pool_pick_column(band, values=widths).cast("bigint")
    days = start + bounded_index(hash_key(row_key, seed), length)
    return sql.date_add(base, days.cast("int"))


def _base_date(spec: ColumnSpec, scope: Scope) -> Expr:
    base = spec.params.get("base", "generation_date")
    if base == "generation_date":
        return scope.day
    if base == "epoch":
        return sql.lit(scope.dataset.epoch)
    return scope.column(base).cast("date")


@register("generation_date")
def _generation_date(spec: ColumnSpec, scope: Scope) -> Expr:
    """The date being generated (an incremental row's date, a snapshot's date)."""
    return scope.day


def build_timestamp_by_hour_column(
    scope: Scope, name: str, seed: int, *, day: Expr, hourly_weights: list[float]
) -> Expr:
    """A timestamp within ``day``: the hour drawn with ``hourly_weights`` (24, midnight first), the second uniform in it."""
    hours = list(range(24))
    table = choice_table(hours, hourly_weights)
    if table is not None:
        hour = build_pool_pick_column(pool_index(scope.row_key, seed, len(table)), values=table)
    else:
        u = scope.stage(f"_sg_{name}_hour_u", unit_interval(hash_key(scope.row_key, seed)))
        hour = build_weighted_choice_column(u, values=hours, weights=hourly_weights)
    second = bounded_index(hash_key(scope.row_key, derive_seed(seed, 1)), SECONDS_PER_HOUR)
    start = sql.unix_date(day).cast("bigint") * sql.lit(SECONDS_PER_DAY)
    return sql.timestamp_seconds(start + hour.cast("bigint") * sql.lit(SECONDS_PER_HOUR) + second)


@register("timestamp")
def _timestamp(spec: ColumnSpec, scope: Scope) -> Expr:
    """A second of the base day: uniform, or by a diurnal profile (``hourly_weights``)."""
    if "hourly_weights" in spec.params:
        weights = [float(w) for w in spec.params["hourly_weights"]]
        day = _base_date(spec, scope)
        return build_timestamp_by_hour_column(scope, spec.name, scope.seed(spec.name), day=day, hourly_weights=weights)
    return build_timestamp_in_day_column(scope.row_key, scope.seed(spec.name), day=_base_date(spec, scope))


@register("date_offset")
def _date_offset(spec: ColumnSpec, scope: Scope) -> Expr:
    cases: tuple = ()
    if "given" in spec.params:  # band weights by the value of another column (read once, staged)
        given = scope.stage(f"_sg_{spec.name}_given", scope.column(spec.params["given"]).cast("string"))
        cases = tuple(
            (given == sql.lit(case_key(value)), tuple(float(w) for w in weights))
            for value, weights in spec.params["cases"].items()
        )
    return build_date_offset_column(
        scope.row_key,
        scope.seed(spec.name),
        base=_base_date(spec, scope),
        min_days=int(spec.params["min_days"]),
        max_days=int(spec.params["max_days"]),
        band_weights=tuple(float(w) for w in spec.params.get("band_weights", [1.0])),
        cases=cases,
    )
