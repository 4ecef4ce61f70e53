"""Balances and their sweeps as Spark SQL (the model: ``synthgen_spark.balances``).

``balance`` (on the balance table) is P(a, S) for the last sweep date S on or before the row's day; a ledger's
``sweep_row`` marks the rows after the day's formula rows, and ``sweep_amount`` is P(a, S_k) - P(a, S_k-1) -
the counted amounts of a's rows in the period, whose sum the engine joins as the column ``_sg_ledger_sum``.
"""

from __future__ import annotations

import datetime as dt

from synthgen_spark.balances import ledger_of
from synthgen_spark.calendar import snapshot_in_force, sweep_before, sweep_on_or_after
from synthgen_spark.catalog import ColumnSpec
from synthgen_spark.generators import sql
from synthgen_spark.generators.core import UNIX_EPOCH, exact_decimal_scale, round_to_scale
from synthgen_spark.generators.registry import Scope, build_value, register
from synthgen_spark.generators.sql import Expr
from synthgen_spark.generators.versions import VersionedScope, churn_ordinal, start_ordinal

LEDGER_KEY = "_sg_ledger_key"  # a sweep row's (day, entity): day << 32 | entity index; null on other rows
LEDGER_SUM = "_sg_ledger_sum"  # joined by the engine: the counted amounts of the row's entity over the period
SWEEP_VERSION = 1 << 20  # a target draw's row key: entity + (sweep day ordinal | 2**20) << 33, above any version


def _ordinal(day: dt.date) -> int:
    return (day - UNIX_EPOCH).days


def balance_at(scope: Scope, entity: Expr, sweep: Expr, following: Expr, tag: str, scale: int) -> Expr:
    """P(entity, sweep) of ``scope``'s balance table: the target drawn for the sweep, rounded to ``scale``, if the
    entity signed up by the sweep date and is active on the ``following`` one, else 0 (a double)."""
    column = next(c for c in scope.table.columns if c.kind == "balance")
    target = scope.table.column(column.params["target"])
    drawn = build_value(target, VersionedScope(scope, f"sweep_{tag}", sql.lit(SWEEP_VERSION) + sweep))
    alive = start_ordinal(scope, entity) <= sweep
    if scope.table.lifecycle.churn_rate > 0:
        churn = churn_ordinal(scope, entity)
        alive = alive & (churn.isNull() | (churn > following))
    return sql.when(alive, round_to_scale(drawn, scale)).otherwise(sql.lit(0.0))


def _sweep_days(scope: Scope, frequency: str, name: str) -> tuple[Expr, Expr, Expr]:
    """(the sweep on or before the row's day, the one before that, the one after it) as ordinals."""
    epoch = scope.dataset.epoch

    def row(ordinal: int) -> tuple[int, ...]:
        day = UNIX_EPOCH + dt.timedelta(days=ordinal)
        sweep = snapshot_in_force(frequency, day, epoch) if day >= epoch else epoch
        after = sweep_on_or_after(frequency, sweep + dt.timedelta(days=1), epoch)
        return _ordinal(sweep), _ordinal(sweep_before(frequency, sweep, epoch)), _ordinal(after)

    return tuple(scope.day_table(f"sweeps_{name}", row, sql.lit(i)) for i in range(3))  # type: ignore[return-value]


@register("balance")
def _balance(spec: ColumnSpec, scope: Scope) -> Expr:
    """The balance after the last sweep on or before the row's day: the running sum of the ledger's rows to it."""
    sweep, _, after = _sweep_days(scope, scope.table.frequency, scope.table.name)
    return balance_at(scope, scope.row_index, sweep, after, "now", exact_decimal_scale(spec.type) or 2)


@register("sweep_row")
def _sweep_row(spec: ColumnSpec, scope: Scope) -> Expr:
    """True on a ledger day's sweep rows: the last ``sweeps`` of its rows."""
    rows, sweeps = scope.day_fact("rows", scope.table.name), scope.day_fact("sweeps", scope.table.name)
    return scope.row_index >= rows - sweeps


def _sweep_entity(scope: Scope) -> Expr:
    """The entity (0-based) of the balance table that a ledger row moves."""
    ledger = ledger_of(scope.dataset, scope.table.name)
    return scope.stage("_sg_ledger_entity", scope.column(ledger.account).cast("bigint") - sql.lit(ledger.key_start))


@register("sweep_amount")
def _sweep_amount(spec: ColumnSpec, scope: Scope) -> Expr:
    """P(a, S_k) - P(a, S_k-1) - the period's counted amounts of a, on a sweep row (S_k = its day); else null."""
    ledger = ledger_of(scope.dataset, scope.table.name)
    table = scope.dataset.table(ledger.table)
    sweeping = scope.column(ledger.sweep_row)
    entity = _sweep_entity(scope)
    day = scope.day_ordinal.cast("bigint")
    scope.stage(LEDGER_KEY, sql.when(sweeping, sql.shiftleft(day, 32) + entity))  # the engine joins the sum by it
    _, before, after = _sweep_days(scope, table.frequency, table.name)
    account = scope.related(table.name, entity, via=ledger.account)
    scale = exact_decimal_scale(table.column(ledger.column).type) or 2
    now = balance_at(account, entity, day, after, "now", scale)
    previous = balance_at(account, entity, before, day, "before", scale)
    moved = sql.call("coalesce", sql.col(LEDGER_SUM), sql.lit(0.0))
    return sql.when(sweeping, now - previous - moved)
