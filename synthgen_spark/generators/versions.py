"""Versions of change groups as Spark SQL: the O(1) schedule of ``synthgen_spark.changes``, and new values.

A column of a change group is built for version v of its group: ``redraw`` builds the column's own
generator with the row key ``entity + v * 2**33`` (v = 0 is the entity's key, so version 0 is the
value of a table without change groups; a group with ``at_age`` counts one more version from that
birthday on); ``step`` moves a number to base x (1 + s), s uniform in
[-step, +step] from (entity, v), or an ordered choice to a neighbouring level on odd versions and
back on even ones; ``toggle`` flips a boolean on odd versions. Every rule needs only v, so any day
is O(1) per row.
"""

from __future__ import annotations

from collections.abc import Callable

from synthgen_spark.catalog import ColumnSpec, TableSpec
from synthgen_spark.changes import PERIOD_BITS, PERIOD_BLOCK, PERIOD_SHIFT, ChangeGroup, block_offset, group_multiplier
from synthgen_spark.generators import sql
from synthgen_spark.generators.categorical import array_literal
from synthgen_spark.generators.core import column_seed, hash_key, unit_interval, with_ending
from synthgen_spark.generators.lifecycle import EntityLifecycle
from synthgen_spark.generators.registry import Scope, register
from synthgen_spark.generators.sql import Expr

VERSION_SHIFT = 33  # entity indices stay below 2**31, so (v << 33) + entity never collides across versions
NO_DAYS = "CAST(array() AS array<bigint>)"
HISTORY_KEY_SHIFT = 32  # history_key = entity index << 32 | version


def group_of(table: TableSpec, column: str) -> ChangeGroup | None:
    """The change group that lists ``column``, if any."""
    return next((g for g in table.changes if column in g.columns), None)


def start_ordinal(scope: Scope, index: Expr) -> Expr:
    """Signup day ordinal of entity ``index`` of the scope's table, computed once per row."""
    return scope.stage("_sg_start_ordinal", EntityLifecycle(scope.settings, scope.dataset, scope.table).start(index))


def churn_ordinal(scope: Scope, index: Expr) -> Expr:
    """Churn day ordinal (null if never), computed once per row (shared with the lifecycle_end column)."""
    return scope.stage(
        "_sg_churn_ordinal", EntityLifecycle(scope.settings, scope.dataset, scope.table).end(scope, index)
    )


def group_seed(scope: Scope, group: ChangeGroup) -> int:
    return column_seed(scope.settings.seed_value, scope.table.name, f"__change_{group.name}")


def last_day(scope: Scope, index: Expr, day_ordinal: Expr, name: str) -> Expr:
    """The last day on which the entity can change by ``day_ordinal``: that day, or the eve of churn, staged."""
    last = day_ordinal.cast("bigint")
    if scope.table.lifecycle.churn_rate > 0:
        last = sql.least(last, sql.call("coalesce", churn_ordinal(scope, index) - sql.lit(1), last))
    return scope.stage(name, last)


def active_days(scope: Scope, index: Expr, day_ordinal: Expr, name: str) -> Expr:
    """Days from signup to ``day_ordinal`` (at most to the eve of churn): a birthday counts within them."""
    last = last_day(scope, index, day_ordinal, name.replace("active_days", "last_day"))  # the schedule's, shared
    return scope.stage(name, last - start_ordinal(scope, index))


def _phase(scope: Scope, group: ChangeGroup, index: Expr) -> Expr:
    """phi of the entity: (pi(x) + 1/2) / M, pi = x -> (a x + c_block) mod M (``changes.entity_phase``), computed
    once. c_block is one hash of the block; the first block's (every entity of a table under M) is a constant."""
    seed = group_seed(scope, group)
    low = sql.lit(PERIOD_BLOCK - 1).cast("bigint")
    hashed = hash_key(sql.shiftright(index, PERIOD_BITS), seed).bitwise_and(low)
    first = sql.lit(block_offset(seed, 0)).cast("bigint")
    offset = sql.when(index < sql.lit(PERIOD_BLOCK).cast("bigint"), first).otherwise(hashed)
    multiplier = sql.lit(group_multiplier(seed)).cast("bigint")
    placed = (multiplier * index.bitwise_and(low) + offset).bitwise_and(low)
    return scope.stage(f"_sg_phase_{group.name}", (placed.cast("double") + sql.lit(0.5)) * sql.lit(1.0 / PERIOD_BLOCK))


def _jitter(phase: Expr, k: Expr) -> Expr:
    """j in period ``k``: frac(phi + k alpha) (``changes.period_jitter``)."""
    moved = phase + k.cast("double") * sql.lit(PERIOD_SHIFT)
    return moved - sql.floor(moved).cast("double")


def events_by(scope: Scope, group: ChangeGroup, index: Expr, day: Expr) -> Expr:
    """N(day): the entity's events on or before ``day`` (``changes.events_by``)."""
    y = (day + sql.lit(1)).cast("double") * sql.lit(group.daily_rate)
    k = sql.floor(y).cast("bigint")
    jitter = _jitter(_phase(scope, group, index), k)
    return k + sql.when(jitter < y - k.cast("double"), sql.lit(1)).otherwise(sql.lit(0))


def events_before(scope: Scope, group: ChangeGroup, index: Expr) -> Expr:
    """N(signup): the events of periods before the entity signed up, which never count."""
    return events_by(scope, group, index, start_ordinal(scope, index))


def scheduled(scope: Scope, group: ChangeGroup, index: Expr) -> Expr:
    """Events of the group's schedule after signup, by the scope's day: N(last) - N(signup), at least 0."""
    if group.daily_rate <= 0:
        return sql.lit(0).cast("bigint")
    last = last_day(scope, index, scope.day_ordinal, "_sg_last_day")
    return sql.greatest(events_by(scope, group, index, last) - events_before(scope, group, index), sql.lit(0))


def can_change(scope: Scope, index: Expr, day_ordinal: Expr) -> Expr:
    """The entity may change on the day: signed up before it, not churned by it; computed once per row."""
    after_signup = day_ordinal > start_ordinal(scope, index)
    if scope.table.lifecycle.churn_rate <= 0:
        return scope.stage("_sg_can_change", after_signup)
    churn = churn_ordinal(scope, index)
    return scope.stage("_sg_can_change", after_signup & sql.call("coalesce", day_ordinal < churn, sql.lit(True)))


def age_offset(scope: Scope, group: ChangeGroup, index: Expr) -> Expr | None:
    """Days from signup to the group's birthday event (``at_age``: the date column plus whole years), or None.

    The birthday is an event when it falls after signup and by the eve of churn, like a scheduled one.
    """
    if group.at_age is None:
        return None
    column, years = group.at_age
    birthday = sql.call("unix_date", sql.call("add_months", scope.column(column), sql.lit(12 * years)))
    return scope.stage(f"_sg_age_offset_{group.name}", birthday.cast("bigint") - start_ordinal(scope, index))


def _reached(offset: Expr, days: Expr) -> Expr:
    """The birthday ``offset`` days after signup lies in (signup, signup + days]: an event by then."""
    return (offset > sql.lit(0)) & (offset <= days)


def version(scope: Scope, group: ChangeGroup, index: Expr | None = None) -> Expr:
    """Version of ``group`` on the scope's day for entity ``index`` (default: the scope's row).

    The scheduled events, plus one from the birthday of ``at_age`` once it is reached.
    """
    index = scope.row_index if index is None else index
    count = scheduled(scope, group, index)
    offset = age_offset(scope, group, index)
    if offset is None:
        return count
    days = active_days(scope, index, scope.day_ordinal, "_sg_active_days")
    return count + sql.when(_reached(offset, days), sql.lit(1)).otherwise(sql.lit(0)).cast("bigint")


def version_moved(scope: Scope, group: ChangeGroup, day_ordinal: Expr, index: Expr) -> Expr:
    """``version(day) <> version(day - 1)``: an event of the group on the day, N(day) > N(day - 1), while the
    entity may change (or its birthday with ``at_age``)."""
    moved = sql.lit(False)
    if group.daily_rate > 0:
        stepped = events_by(scope, group, index, day_ordinal) > events_by(scope, group, index, day_ordinal - sql.lit(1))
        moved = can_change(scope, index, day_ordinal) & stepped
    offset = age_offset(scope, group, index)
    if offset is None:
        return moved
    days = active_days(scope, index, day_ordinal, "_sg_active_days")
    before = active_days(scope, index, day_ordinal - sql.lit(1), "_sg_active_days_before")
    return moved | (_reached(offset, days) & ~_reached(offset, before))


class VersionedScope:
    """The scope's rows at version ``version`` of what ``name`` names (a change group): another row key, own
    intermediate stages."""

    def __init__(self, base: Scope, name: str, version_expr: Expr) -> None:
        self._base = base
        self._name = name
        self._version = version_expr

    def __getattr__(self, name: str) -> object:
        return getattr(self._base, name)

    @property
    def row_key(self) -> Expr:
        return self._base.row_key + sql.shiftleft(self._version, VERSION_SHIFT)

    def stage(self, name: str, value: Expr) -> Expr:
        return self._base.stage(f"_sg_{self._name}_v{name}", value)


def changing_value(
    spec: ColumnSpec, scope: Scope, group: ChangeGroup, build: Callable[[ColumnSpec, Scope], Expr]
) -> Expr:
    """The value (before the cast) of a group's column on the scope's day: its version's value."""
    current = scope.stage(f"_sg_version_{group.name}", version(scope, group))
    if group.new_value == "redraw":
        return build(spec, VersionedScope(scope, group.name, current))
    base = scope.stage(f"_sg_unchanged_{spec.name}", build(spec, scope))  # read twice below: computed once
    odd = current % sql.lit(2) == sql.lit(1)
    if group.new_value == "toggle":
        return Expr(f"({base.sql} <> {odd.sql})", max(base.level, odd.level))
    u = unit_interval(hash_key(scope.row_key + sql.shiftleft(current, VERSION_SHIFT), scope.seed(spec.name, "step")))
    if spec.kind != "choice":
        factor = sql.lit(1.0) + (sql.lit(2.0) * u - sql.lit(1.0)) * sql.lit(group.step)
        moved = with_ending(base * factor, scope.row_key, scope.seed(spec.name, "ending"), spec.params.get("endings"))
        return sql.when(current == sql.lit(0), base).otherwise(moved)
    values = array_literal(tuple(spec.params["values"]))
    level = sql.call("array_position", values, base)
    top = sql.lit(len(spec.params["values"])).cast("bigint")
    move = sql.when(level == sql.lit(1).cast("bigint"), sql.lit(1)).when(level == top, sql.lit(-1))
    move = move.otherwise(sql.when(u < sql.lit(0.5), sql.lit(1)).otherwise(sql.lit(-1)))
    return sql.when(odd, sql.element_at(values, (level + move).cast("int"))).otherwise(base)


def _event_days(scope: Scope, group: ChangeGroup, index: Expr, count: Expr) -> Expr:
    """Days (ordinals) of the entity's ``count`` events after signup: floor((k + j_k) / f) for the periods k
    from N(signup) on (``changes.event_day``)."""
    k = Expr("k")
    first = events_before(scope, group, index)
    jitter = _jitter(_phase(scope, group, index), k)
    day = sql.floor((k.cast("double") + jitter) / sql.lit(group.daily_rate)).cast("bigint")
    days = Expr(f"transform(sequence({first.sql}, {first.sql} + {count.sql} - 1L), k -> {day.sql})", count.level)
    return sql.when(count > sql.lit(0), days).otherwise(Expr(NO_DAYS))


def version_days(scope: Scope) -> Expr:
    """The sorted, distinct days on which the entity's versions began, up to the scope's (snapshot) day."""
    index, day = scope.row_index, scope.day_ordinal.cast("bigint")
    start = start_ordinal(scope, index)
    parts = [sql.call("array", start)]
    for group in scope.table.changes:
        if group.daily_rate > 0:
            count = scope.stage(f"_sg_count_{group.name}", scheduled(scope, group, index))
            parts.append(_event_days(scope, group, index, count))
        offset = age_offset(scope, group, index)
        if offset is not None:
            days = active_days(scope, index, day, "_sg_active_days")
            parts.append(sql.when(_reached(offset, days), sql.call("array", start + offset)).otherwise(Expr(NO_DAYS)))
    if scope.table.lifecycle.churn_rate > 0 and scope.table.churn == "keep":  # churn begins a version
        churn = churn_ordinal(scope, index)
        parts.append(sql.when(churn <= day, sql.call("array", churn)).otherwise(Expr(NO_DAYS)))
    return sql.call("array_sort", sql.call("array_distinct", sql.call("concat", *parts)))


@register("version_key")
def _version_key(spec: ColumnSpec, scope: Scope) -> Expr:
    """The history_key of the referenced entity's version in force on the row's date (a star fact's surrogate key).

    = entity index << 32 | the number of versions begun by the date: ``{table}_history.history_key``.
    """
    table, key = spec.params["references"].split(".")[0], spec.params["key"]
    target = scope.dataset.table(table)
    start = int(target.column(target.primary_key).params.get("start", 1))
    entity = scope.stage(f"_sg_{spec.name}_entity", scope.column(key) - sql.lit(start))
    versions = sql.call("size", version_days(scope.related(table, entity, via=spec.name))).cast("bigint")
    return sql.shiftleft(entity, HISTORY_KEY_SHIFT) + versions
