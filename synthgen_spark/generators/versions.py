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
from synthgen_spark.changes import ChangeGroup
from synthgen_spark.generators import sql
from synthgen_spark.generators.categorical import array_literal
from synthgen_spark.generators.core import column_seed, hash_key, unit_interval, with_ending
from synthgen_spark.generators.lifecycle import EntityLifecycle
from synthgen_spark.generators.registry import Scope, register
from synthgen_spark.generators.sql import Expr

VERSION_SHIFT = 33  # entity indices stay below 2**31, so (v << 33) + entity never collides across versions
SLOT_SHIFT = 32
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


def active_days(scope: Scope, index: Expr, day_ordinal: Expr, name: str) -> Expr:
    """Days from signup to ``day_ordinal`` (at most to the eve of churn), on which every group's schedule runs.

    Staged once per row under ``name``: each change group reads it (inlined, it was computed per group and branch).
    """
    last = day_ordinal.cast("bigint")
    if scope.table.lifecycle.churn_rate > 0:
        last = sql.least(last, sql.call("coalesce", churn_ordinal(scope, index) - sql.lit(1), last))
    return scope.stage(name, last - start_ordinal(scope, index))


def scheduled(scope: Scope, group: ChangeGroup, index: Expr) -> Expr:
    """Events of the group's jittered schedule by the scope's day: K + [j_K < y - K] (0 before any day)."""
    days = active_days(scope, index, scope.day_ordinal, "_sg_active_days")
    y = days.cast("double") * sql.lit(group.daily_rate)
    slot = sql.floor(y).cast("bigint")
    jitter = unit_interval(hash_key(sql.shiftleft(slot, SLOT_SHIFT) + index, group_seed(scope, group)))
    count = slot + sql.when(jitter < y - slot.cast("double"), sql.lit(1)).otherwise(sql.lit(0)).cast("bigint")
    return sql.when(days <= sql.lit(0), sql.lit(0).cast("bigint")).otherwise(count)


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
    """``version(day) <> version(day - 1)`` with one hash per row (two only where day - 1 is in the slot before).

    The same comparisons as ``version`` on both days: slot K of day d and slot K0 of day d - 1 are
    equal or adjacent (the daily rate is at most 1), so only j_K (and j_K0 when K0 = K - 1) decide.
    """
    days = active_days(scope, index, day_ordinal, "_sg_active_days")
    before = active_days(scope, index, day_ordinal - sql.lit(1), "_sg_active_days_before")
    y, y0 = days.cast("double") * sql.lit(group.daily_rate), before.cast("double") * sql.lit(group.daily_rate)
    slot, slot0 = sql.floor(y).cast("bigint"), sql.floor(y0).cast("bigint")

    def jitter(k: Expr) -> Expr:
        return unit_interval(hash_key(sql.shiftleft(k, SLOT_SHIFT) + index, group_seed(scope, group)))

    now = jitter(slot) < y - slot.cast("double")
    then_same = jitter(slot) < y0 - slot.cast("double")
    then_before = jitter(slot0) < y0 - slot0.cast("double")
    no = sql.lit(False)
    moved = (
        sql.when(days <= sql.lit(0), no)
        .when(days == before, no)
        .when(before <= sql.lit(0), (slot > sql.lit(0)) | now)
        .when(slot0 == slot, now & ~then_same)
        .otherwise(now | ~then_before)
    )
    offset = age_offset(scope, group, index)
    if offset is None:
        return moved
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
    base = build(spec, scope)
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


def _event_days(scope: Scope, group: ChangeGroup, index: Expr, start: Expr, count: Expr) -> Expr:
    """Days (ordinals) of the group's first ``count`` events: start + 1 + floor((k + j_k) / f), k < count."""
    k = Expr("k")
    jitter = unit_interval(hash_key(sql.shiftleft(k, SLOT_SHIFT) + index, group_seed(scope, group)))
    day = start + sql.lit(1) + sql.floor((k.cast("double") + jitter) / sql.lit(group.daily_rate)).cast("bigint")
    days = Expr(f"transform(sequence(0L, {count.sql} - 1L), k -> {day.sql})", max(count.level, day.level))
    return sql.when(count > sql.lit(0), days).otherwise(Expr(NO_DAYS))


def version_days(scope: Scope) -> Expr:
    """The sorted, distinct days on which the entity's versions began, up to the scope's (snapshot) day."""
    index, day = scope.row_index, scope.day_ordinal.cast("bigint")
    start = start_ordinal(scope, index)
    parts = [sql.call("array", start)]
    days = active_days(scope, index, day, "_sg_active_days")
    for group in scope.table.changes:
        count = scope.stage(f"_sg_count_{group.name}", scheduled(scope, group, index))
        parts.append(_event_days(scope, group, index, start, count))
        offset = age_offset(scope, group, index)
        if offset is not None:
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
