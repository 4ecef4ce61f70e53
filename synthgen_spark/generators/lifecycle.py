"""Entities that live over time, as Spark columns: signup, lifetime, churn, and picking an active entity.

The model is ``synthgen_spark.entities`` (pure Python, shared with the plan): signup days rise with the id,
each id's lifetime is its slot's (one of 100 per block of ids, shuffled per block), and the active entities
of a day are 100 ranges of blocks the driver computes once per day. Here every one of those pieces is
O(1) per row: one hash for a block's arrangement, no logarithm, no rejection loop.
"""

from __future__ import annotations

import datetime as dt

from synthgen_spark.calendar import entity_model, snapshot_in_force, sweep_before, sweep_on_or_after
from synthgen_spark.catalog import ColumnSpec, DatasetSpec, TableSpec
from synthgen_spark.entities import ALIAS_SHIFT, BLOCK, INVERSES, RANGE_SHIFT, SEARCH_WIDTH, UNITS
from synthgen_spark.generators import sql
from synthgen_spark.generators.core import UNIX_EPOCH, bounded_index, derive_seed, hash_key
from synthgen_spark.generators.registry import GeneratorSettings, Scope, register
from synthgen_spark.generators.sql import Expr
from synthgen_spark.pools import table_segments

_LOW_BITS = (1 << 32) - 1
_COUNT_BITS = (1 << RANGE_SHIFT) - 1
_ALIAS_BITS = (1 << ALIAS_SHIFT) - 1


def _long(value: int) -> Expr:
    return sql.lit(value).cast("bigint")


class EntityLifecycle:
    """Signup and churn day ordinals (days since 1970) of one snapshot table's entities, as Columns."""

    def __init__(self, settings: GeneratorSettings, dataset: DatasetSpec, table: TableSpec) -> None:
        self.table = table
        self.epoch = dataset.epoch
        self.model = entity_model(dataset, table, settings.seed_value, settings.scale_factor, settings.locale)

    def start(self, index: Expr) -> Expr:
        """Signup day ordinal of entity ``index`` (0-based): ``EntityModel.start``."""
        model = self.model
        before = _long(model.epoch + model.low) + sql.div(index * _long(model.width), _long(model.base))
        if model.per_period == 0:
            return before
        num, den = model.per_period.numerator, model.per_period.denominator
        periods = sql.div((index + sql.lit(1) - _long(model.base)) * _long(den) + _long(num - 1), _long(num))
        grown = _long(model.epoch) + periods * _long(model.period_days)
        return sql.when(index < _long(model.base), before).otherwise(grown)

    def _arrangement(self, scope: Scope, block: Expr, name: str) -> tuple[Expr, Expr]:
        """(index of a_j in UNITS, b_j) of block ``block``: ``entities.block_arrangement``, from one staged hash."""
        hashed = scope.stage(f"{name}_arrangement", hash_key(block, self.model.arrangement_seed))
        unit = bounded_index(hashed, len(UNITS))
        spread = sql.shiftright(hashed.bitwise_and(_long(_LOW_BITS)) * _long(BLOCK), 32)
        return unit, sql.when(block == sql.lit(0), _long(self.model.first_loyal_slot)).otherwise(spread)

    def slot(self, scope: Scope, index: Expr) -> Expr:
        """Slot (0..99) of entity ``index`` in its block: ``EntityModel.slot``, computed once per row."""
        block = sql.div(index, _long(BLOCK))
        unit, offset = self._arrangement(scope, block, "_sg_slot")
        multiplier = sql.element_at(sql.lit(list(UNITS)), (unit + sql.lit(1)).cast("int"))
        return scope.stage("_sg_slot", sql.pmod(multiplier * (index - block * _long(BLOCK)) + offset, _long(BLOCK)))

    def _per_slot(self, scope: Scope, index: Expr, values: tuple[int, ...]) -> Expr:
        return sql.element_at(sql.lit(list(values)), (self.slot(scope, index) + sql.lit(1)).cast("int"))

    def lifetime(self, scope: Scope, index: Expr) -> Expr:
        """Lifetime in days of entity ``index`` (0: it never churns), computed once per row."""
        return scope.stage("_sg_lifetime", self._per_slot(scope, index, self.model.slot_lifetimes).cast("bigint"))

    def propensity_class(self, scope: Scope, index: Expr) -> Expr:
        """Propensity class of entity ``index`` (1 = the first listed): its slot's, ``EntityModel.slot_classes``."""
        return self._per_slot(scope, index, self.model.slot_classes)

    def segment(self, scope: Scope, index: Expr) -> Expr:
        """Segment number of entity ``index`` (1 = the first; ``EntityModel.slot_segments``)."""
        return self._per_slot(scope, index, self.model.slot_segments)

    def end(self, scope: Scope, index: Expr) -> Expr:
        """Churn day ordinal of entity ``index`` (its first day not active), or null if it never churns."""
        if self.table.lifecycle.churn_rate <= 0:
            return sql.lit(None).cast("bigint")
        lifetime = self.lifetime(scope, index)
        return sql.when(lifetime == sql.lit(0), sql.lit(None).cast("bigint")).otherwise(self.start(index) + lifetime)

    def is_active(self, scope: Scope, index: Expr, day_ordinal: Expr) -> Expr:
        """Not churned by the day, for an entity signed up by it (``index`` below the day's population)."""
        if self.table.lifecycle.churn_rate <= 0:
            return sql.lit(True)
        lifetime = self.lifetime(scope, index)
        return (lifetime == sql.lit(0)) | (day_ordinal - self.start(index) < lifetime)

    def entity_in_slot(self, scope: Scope, slot: Expr, block: Expr, name: str) -> Expr:
        """The entity in slot ``slot`` of block ``block``: 100 x block + a_j^-1 (slot - b_j) mod 100."""
        unit, offset = self._arrangement(scope, block, name)
        inverse = sql.element_at(sql.lit(list(INVERSES)), (unit + sql.lit(1)).cast("int"))
        return block * _long(BLOCK) + sql.pmod(inverse * (slot - offset), _long(BLOCK))

    def _day_table(self, scope: Scope, part: str, position: Expr, funded: bool = False) -> Expr:
        """``part`` of the row's day's pick or rank table (entities of the snapshot in force, active that day).

        Each part is an array literal of its own (``_TABLE_PARTS``), so that a read copies only the part it
        needs into the plan: Spark folds one copy of the literal into every expression that reads it, and each
        task deserialises every copy (a 365-day batch's whole tables, read 24 times per order, cost seconds).
        """
        kind, cut = _TABLE_PARTS[part]
        builder = getattr(self.model, f"{kind}_table")  # pick_table, rank_table or segment_table
        if kind == "segment":  # [totals of segments 0..G, then their alias tables]
            whole = len(self.model.segments or ()) + 1
            cut = slice(0, whole) if part == "segment_total" else slice(whole, None)

        def row_of_day(ordinal: int) -> tuple[int, ...]:
            day = UNIX_EPOCH + dt.timedelta(days=ordinal)
            if funded:  # signed up by the sweep before the day's period, active on the sweep that ends it
                sweep = sweep_on_or_after(self.table.frequency, day, self.epoch)
                before = sweep_before(self.table.frequency, sweep, self.epoch)
                return builder((sweep - UNIX_EPOCH).days, (before - UNIX_EPOCH).days)[cut]
            in_force = snapshot_in_force(self.table.frequency, day, self.epoch)
            return builder(ordinal, (in_force - UNIX_EPOCH).days)[cut]

        return scope.day_table(f"{part}_{self.table.name}{'_funded' * funded}", row_of_day, position)

    def active_pick(self, scope: Scope, name: str, segment: Expr | None = None, funded: bool = False) -> Expr:
        """An entity drawn among those active on the row's day, for column ``name``: O(1), exact.

        An alias table over the 100 slots weighted by their active counts (times their propensity class
        weights, if the table has them) picks the slot, then a uniform block of the slot's active range
        (``EntityModel.pick_table``): four hashes, three array reads. ``segment`` (1..G, 0 for any) draws
        among the active entities of that segment alone, by its own alias table (``EntityModel.segment_table``).
        ``funded``: among the entities a ledger row may move instead (signed up by the sweep before the row's
        sweep period, active on the sweep that ends it: ``synthgen_spark.balances``).
        """
        seed = scope.seed(name)
        column = scope.stage(f"_sg_{name}_column", bounded_index(hash_key(scope.row_key, derive_seed(seed, 1)), BLOCK))
        if segment is None:
            total = self._day_table(scope, "total", sql.lit(0), funded)
            active = scope.stage(f"_sg_{self.table.name}_active{'_funded' * funded}", total)
            alias = self._day_table(scope, "alias", column, funded)
        else:
            segment = scope.stage(f"_sg_{name}_segment", segment)
            active = scope.stage(f"_sg_{name}_active", self._day_table(scope, "segment_total", segment))
            alias = self._day_table(scope, "segment_alias", segment * _long(BLOCK) + column)
        below = bounded_index(hash_key(scope.row_key, derive_seed(seed, 2)), active)
        kept = below < sql.shiftright(alias, ALIAS_SHIFT)
        slot = scope.stage(f"_sg_{name}_slot", sql.when(kept, column).otherwise(alias.bitwise_and(_long(_ALIAS_BITS))))
        ranged = scope.stage(f"_sg_{name}_range", self._day_table(scope, "range", slot, funded))
        offset = bounded_index(hash_key(scope.row_key, derive_seed(seed, 3)), ranged.bitwise_and(_long(_COUNT_BITS)))
        block = scope.stage(f"_sg_{name}_block", sql.shiftright(ranged, RANGE_SHIFT) + offset)
        return self.entity_in_slot(scope, slot, block, f"_sg_{name}")

    def active_count(self, scope: Scope) -> Expr:
        """Entities active on the row's day (the last cumulative count of the rank table)."""
        return self._day_table(scope, "cumulative", sql.lit(BLOCK))

    def ranked(self, scope: Scope, rank: Expr, name: str) -> Expr:
        """The ``rank``-th active entity of the row's day (0-based; slots in order, then blocks): a bijection.

        A binary search over the day's cumulative counts per slot finds the slot, then the block is the
        slot's first active block plus the rest of the rank.
        """
        slot = sql.lit(0).cast("bigint")
        step = SEARCH_WIDTH // 2
        while step:
            candidate = slot + _long(step)
            below = self._day_table(scope, "cumulative", candidate) <= rank
            slot = scope.stage(f"{name}_slot{step}", sql.when(below, candidate).otherwise(slot))
            step //= 2
        first = sql.shiftright(self._day_table(scope, "range", slot), RANGE_SHIFT)
        block = scope.stage(f"{name}_block", first + rank - self._day_table(scope, "cumulative", slot))
        return self.entity_in_slot(scope, slot, block, name)


# the parts of the day tables (EntityModel.pick_table, rank_table) a pick or a rank reads, each its own array
_TABLE_PARTS = {
    "total": ("pick", slice(0, 1)),
    "alias": ("pick", slice(1, 1 + BLOCK)),
    "range": ("pick", slice(1 + BLOCK, 1 + 2 * BLOCK)),
    "cumulative": ("rank", slice(None)),
    "segment_total": ("segment", None),  # EntityModel.segment_table: the cut depends on the segments
    "segment_alias": ("segment", None),
}


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
    end = scope.stage("_sg_churn_ordinal", _lifecycle(scope).end(scope, scope.row_index))
    return sql.when(end <= scope.day_ordinal, _ordinal_to_date(end))


@register("lifecycle_status")
def _lifecycle_status(spec: ColumnSpec, scope: Scope) -> Expr:
    """``values[0]`` (default 'active') while the entity is active on the snapshot date, else ``values[1]``."""
    active, churned = spec.params.get("values", ["active", "churned"])
    active_now = _lifecycle(scope).is_active(scope, scope.row_index, scope.day_ordinal)
    return sql.when(active_now, sql.lit(active)).otherwise(sql.lit(churned))


@register("segment")
def _segment(spec: ColumnSpec, scope: Scope) -> Expr:
    """The entity's segment: a value of the pool field, held by its slot (docs/data-model.md#segments)."""
    names = table_segments(scope.dataset, scope.table, scope.settings.locale).names
    return sql.element_at(sql.lit(list(names)), _lifecycle(scope).segment(scope, scope.row_index).cast("int"))


@register("propensity_class")
def _propensity_class(spec: ColumnSpec, scope: Scope) -> Expr:
    """The entity's propensity class, 1 = the most drawn (the table's ``propensity``; docs/data-model.md)."""
    return _lifecycle(scope).propensity_class(scope, scope.row_index)
