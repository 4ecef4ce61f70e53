"""Entities that live over time: signup (growth), churn, status, and picking an active entity.

Entity k (1-based) of a snapshot table with N0 entities on the epoch and r = N0 x growth_rate
new entities per period signs up on: a day 1..4 years before the epoch when k <= N0, else on
epoch + ceil((k - N0) / r) periods, exactly as ``Calendar.population`` counts them. Its lifetime
is geometric with the daily churn rate: 1 + floor(ln(1-u) / ln(1-p)) days. The first entity and
one entity of every block of ten (indices 10b..10b+9, at an offset hashed from b) never churn, so a
foreign key always has an active entity to fall back on, and no id pattern shows which.
"""

from __future__ import annotations

import math

from synthgen_spark.calendar import LOYAL_EVERY, base_rows, new_per_period
from synthgen_spark.catalog import ColumnSpec, DatasetSpec, TableSpec
from synthgen_spark.generators import sql
from synthgen_spark.generators.core import (
    UNIX_EPOCH,
    bounded_index,
    column_seed,
    derive_seed,
    hash_key,
    unit_interval,
)
from synthgen_spark.generators.registry import GeneratorSettings, Scope, register
from synthgen_spark.generators.sql import Expr

CANDIDATES = 4
MAX_LIFETIME_DAYS = 1_000_000


class EntityLifecycle:
    """Signup and churn ordinals (days since 1970) of one snapshot table's entities, as Columns."""

    def __init__(self, settings: GeneratorSettings, dataset: DatasetSpec, table: TableSpec) -> None:
        self.settings = settings
        self.table = table
        self.base = base_rows(table, settings.scale_factor)
        self.per_period = new_per_period(table, self.base)
        self.epoch = (dataset.epoch - UNIX_EPOCH).days
        self.start_spec = next((c for c in table.columns if c.kind == "lifecycle_start"), None)

    def _seed(self, column: str) -> int:
        return column_seed(self.settings.seed_value, self.table.name, column)

    def start(self, index: Expr) -> Expr:
        """Signup day ordinal of entity ``index`` (0-based)."""
        k = index + sql.lit(1)
        spec = self.start_spec
        low, high = (int(spec.params["min_days"]), int(spec.params["max_days"])) if spec else (0, 0)
        seed = self._seed(spec.name if spec else "__start")
        before = sql.lit(self.epoch + low).cast("bigint") + bounded_index(hash_key(index, seed), high - low + 1)
        if self.per_period == 0:
            return before
        num, den = self.per_period.numerator, self.per_period.denominator
        periods = sql.div((k - sql.lit(self.base)) * sql.lit(den) + sql.lit(num - 1), sql.lit(num).cast("bigint"))
        grown = sql.lit(self.epoch).cast("bigint") + periods * sql.lit(self.table.lifecycle.period_days)
        return sql.when(k <= sql.lit(self.base), before).otherwise(grown)

    def _lifetime(self, index: Expr) -> tuple[Expr, Expr]:
        """(never churns, lifetime in days) of entity ``index``; churn_rate must be > 0."""
        rate = self.table.lifecycle.churn_rate
        u = unit_interval(hash_key(index, self._seed("__churn")))
        days = sql.lit(1.0) + sql.floor(sql.log(sql.lit(1.0) - u) / sql.lit(math.log(1.0 - rate)))
        block = sql.div(index, sql.lit(LOYAL_EVERY).cast("bigint"))
        offset = index - block * sql.lit(LOYAL_EVERY).cast("bigint")
        loyal = (index == sql.lit(0)) | (offset == self._loyal_offset(block))
        return loyal, sql.least(days, sql.lit(float(MAX_LIFETIME_DAYS))).cast("bigint")

    def _loyal_offset(self, block: Expr) -> Expr:
        """The offset (0..9) of the never-churning entity of block ``block`` (entities 10b..10b+9)."""
        return bounded_index(hash_key(block, self._seed("__loyal")), LOYAL_EVERY)

    def end(self, index: Expr) -> Expr:
        """Churn day ordinal of entity ``index``, or null if it never churns."""
        if self.table.lifecycle.churn_rate <= 0:
            return sql.lit(None).cast("bigint")
        loyal, lifetime = self._lifetime(index)
        return sql.when(loyal, sql.lit(None).cast("bigint")).otherwise(self.start(index) + lifetime)

    def is_active(self, index: Expr, day_ordinal: Expr) -> Expr:
        """Not churned by the day, for an entity signed up by it: ``index`` below the day's population.

        (Entity k <= population(d) signs up on or before d by construction, so only churn is checked.)
        """
        if self.table.lifecycle.churn_rate <= 0:
            return sql.lit(True)
        loyal, lifetime = self._lifetime(index)
        return loyal | (day_ordinal - self.start(index) < lifetime)

    def active_pick(self, scope: Scope, name: str, population: Expr) -> Expr:
        """A uniformly drawn active entity index for column ``name`` of ``scope``'s rows.

        Up to CANDIDATES draws (each computed once, in a stage), the first active one wins; if none
        is, a never-churning entity.
        """
        seed = scope.seed(name)
        tens = sql.div(population, sql.lit(LOYAL_EVERY).cast("bigint"))
        block = bounded_index(hash_key(scope.row_key, derive_seed(seed, 0)), sql.greatest(tens, sql.lit(1)))
        loyal = sql.when(tens > sql.lit(0), block * sql.lit(LOYAL_EVERY).cast("bigint") + self._loyal_offset(block))
        result = loyal.otherwise(sql.lit(0).cast("bigint"))
        candidates = [
            scope.stage(
                f"_sg_{name}_candidate{attempt}",
                bounded_index(hash_key(scope.row_key, derive_seed(seed, attempt + 1)), population),
            )
            for attempt in range(CANDIDATES)
        ]
        for candidate in reversed(candidates):
            result = sql.when(self.is_active(candidate, scope.day_ordinal), candidate).otherwise(result)
        return result


def _ordinal_to_date(ordinal: Expr) -> Expr:
    return sql.date_add(sql.lit(UNIX_EPOCH), ordinal.cast("int"))


def _lifecycle(scope: Scope) -> EntityLifecycle:
    return EntityLifecycle(scope.settings, scope.dataset, scope.table)


@register("lifecycle_start")
def _lifecycle_start(spec: ColumnSpec, scope: Scope) -> Expr:
    """Signup / launch date: before the epoch for the first N0 entities, then by the growth formula."""
    return _ordinal_to_date(_lifecycle(scope).start(scope.row_index))


@register("lifecycle_end")
def _lifecycle_end(spec: ColumnSpec, scope: Scope) -> Expr:
    """Churn / discontinuation date if it is on or before the snapshot date, else null."""
    end = scope.stage("_sg_churn_ordinal", _lifecycle(scope).end(scope.row_index))
    return sql.when(end <= scope.day_ordinal, _ordinal_to_date(end))


@register("lifecycle_status")
def _lifecycle_status(spec: ColumnSpec, scope: Scope) -> Expr:
    """``values[0]`` (default 'active') while the entity is active on the snapshot date, else ``values[1]``."""
    active, churned = spec.params.get("values", ["active", "churned"])
    return sql.when(_lifecycle(scope).is_active(scope.row_index, scope.day_ordinal), sql.lit(active)).otherwise(
        sql.lit(churned)
    )
