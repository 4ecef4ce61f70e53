"""Entities that live over time: signup (growth), churn, status, and picking an active entity.

Entity k (1-based) of a snapshot table with N0 entities on the epoch and r = N0 x growth_rate
new entities per period signs up on: a day 1..4 years before the epoch when k <= N0, else on
epoch + ceil((k - N0) / r) periods, exactly as ``Calendar.population`` counts them. Its lifetime
is geometric with the daily churn rate: 1 + floor(ln(1-u) / ln(1-p)) days. The first entity and
every tenth never churn, so a foreign key always has an active entity to fall back on.
"""

from __future__ import annotations

import math

from pyspark.sql import Column
from pyspark.sql import functions as F

from synthgen_spark.calendar import new_per_period, round_half_up
from synthgen_spark.catalog import ColumnSpec, TableSpec
from synthgen_spark.generators.core import UNIX_EPOCH, bounded_index, hash_key, unit_interval
from synthgen_spark.generators.registry import Scope, register

LOYAL_EVERY = 10
CANDIDATES = 4
MAX_LIFETIME_DAYS = 1_000_000


class EntityLifecycle:
    """Signup and churn ordinals (days since 1970) of one snapshot table's entities, as Columns."""

    def __init__(self, scope: Scope, table: TableSpec) -> None:
        self.scope = scope
        self.table = table
        self.base = max(1, round_half_up(table.rows * scope.config.scale_factor))
        self.per_period = new_per_period(table, self.base)
        self.epoch = (scope.dataset.epoch - UNIX_EPOCH).days
        self.start_spec = next((c for c in table.columns if c.kind == "lifecycle_start"), None)

    def start(self, index: Column) -> Column:
        """Signup day ordinal of entity ``index`` (0-based)."""
        k = index + F.lit(1)
        spec = self.start_spec
        low, high = (int(spec.params["min_days"]), int(spec.params["max_days"])) if spec else (0, 0)
        seed = self.scope.seed(spec.name if spec else "__start")
        before = F.lit(self.epoch + low).cast("bigint") + bounded_index(hash_key(index, seed), high - low + 1)
        if self.per_period == 0:
            return before
        num, den = self.per_period.numerator, self.per_period.denominator
        periods = F.call_function(
            "div", (k - F.lit(self.base)) * F.lit(den) + F.lit(num - 1), F.lit(num).cast("bigint")
        )
        grown = F.lit(self.epoch).cast("bigint") + periods * F.lit(self.table.lifecycle.period_days)
        return F.when(k <= F.lit(self.base), before).otherwise(grown)

    def end(self, index: Column) -> Column:
        """Churn day ordinal of entity ``index``, or null if it never churns."""
        rate = self.table.lifecycle.churn_rate
        if rate <= 0:
            return F.lit(None).cast("bigint")
        u = unit_interval(hash_key(index, self.scope.seed("__churn")))
        days = F.lit(1.0) + F.floor(F.log(F.lit(1.0) - u) / F.lit(math.log(1.0 - rate)))
        lifetime = F.least(days, F.lit(float(MAX_LIFETIME_DAYS))).cast("bigint")
        k = index + F.lit(1)
        loyal = (k == F.lit(1)) | (F.pmod(k, F.lit(LOYAL_EVERY)) == F.lit(0))
        return F.when(loyal, F.lit(None).cast("bigint")).otherwise(self.start(index) + lifetime)

    def is_active(self, index: Column, day_ordinal: Column) -> Column:
        end = self.end(index)
        return (self.start(index) <= day_ordinal) & (end.isNull() | (day_ordinal < end))

    def active_pick(self, row_key: Column, seed: int, population: Column) -> Column:
        """A uniformly drawn active entity index: up to CANDIDATES draws, then a never-churning one."""
        tens = F.call_function("div", population, F.lit(LOYAL_EVERY).cast("bigint"))
        loyal = F.when(
            tens > F.lit(0),
            (bounded_index(hash_key(row_key, seed ^ 0x7F), F.greatest(tens, F.lit(1))) + F.lit(1)) * F.lit(LOYAL_EVERY)
            - F.lit(1),
        )
        result = loyal.otherwise(F.lit(0).cast("bigint"))
        for attempt in reversed(range(CANDIDATES)):
            candidate = bounded_index(hash_key(row_key, seed ^ (attempt + 1)), population)
            result = F.when(self.is_active(candidate, self.scope.day_ordinal), candidate).otherwise(result)
        return result


def _ordinal_to_date(ordinal: Column) -> Column:
    return F.date_add(F.lit(UNIX_EPOCH), ordinal.cast("int"))


@register("lifecycle_start")
def _lifecycle_start(spec: ColumnSpec, scope: Scope) -> Column:
    """Signup / launch date: before the epoch for the first N0 entities, then by the growth formula."""
    return _ordinal_to_date(EntityLifecycle(scope, scope.table).start(scope.row_index))


@register("lifecycle_end")
def _lifecycle_end(spec: ColumnSpec, scope: Scope) -> Column:
    """Churn / discontinuation date if it is on or before the snapshot date, else null."""
    end = EntityLifecycle(scope, scope.table).end(scope.row_index)
    return F.when(end <= scope.day_ordinal, _ordinal_to_date(end))


@register("lifecycle_status")
def _lifecycle_status(spec: ColumnSpec, scope: Scope) -> Column:
    """``values[0]`` (default 'active') while the entity is active on the snapshot date, else ``values[1]``."""
    active, churned = spec.params.get("values", ["active", "churned"])
    return F.when(
        EntityLifecycle(scope, scope.table).is_active(scope.row_index, scope.day_ordinal), F.lit(active)
    ).otherwise(F.lit(churned))
