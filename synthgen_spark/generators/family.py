"""Rows that must not collide: a parent's value for its children, records distinct within a parent, bookings."""

from __future__ import annotations

import math

from synthgen_spark.catalog import ColumnSpec
from synthgen_spark.generators import sql
from synthgen_spark.generators.core import bounded_index, derive_seed, hash_key
from synthgen_spark.generators.lifecycle import EntityLifecycle
from synthgen_spark.generators.registry import Scope, register
from synthgen_spark.generators.sql import Expr


def _column_of_kind(scope: Scope, kind: str) -> str:
    return next(c.name for c in scope.table.columns if c.kind == kind)


def parent_index(scope: Scope) -> Expr:
    """The parent row's index within its day: its key minus the sequence start and the day's id offset."""
    parent = scope.dataset.table(scope.table.parent)
    start = int(parent.column(parent.primary_key).params.get("start", 1))
    key = scope.column(_column_of_kind(scope, "parent_key"))
    return key - sql.lit(start).cast("bigint") - scope.day_fact("id_offset", parent.name)


@register("parent_value")
def _parent_value(spec: ColumnSpec, scope: Scope) -> Expr:
    """The value of a generated column of this row's parent (e.g. the appointment's patient birth date)."""
    return scope.related(scope.table.parent, parent_index(scope), via="parent").number(spec.params["column"])


def distinct_record_index(scope: Scope, seed: int, size: int) -> Expr:
    """A 1-based pool record for this child, distinct among its parent's children.

    Line j of a parent takes record (s + (j - 1) x t) mod size, with start s and stride t hashed from
    the parent key, t in 1..floor((size - 1) / (L - 1)) for L = ceil(rows_per_parent) + 2 lines: no two
    of a parent's first L lines share a record, and which records go together varies by parent.
    """
    key = scope.column(_column_of_kind(scope, "parent_key"))
    line = scope.column(_column_of_kind(scope, "line_number")).cast("bigint")
    lines = math.ceil(scope.table.rows_per_parent) + 2
    strides = max(1, (size - 1) // (lines - 1))
    start = bounded_index(hash_key(key, seed), size)
    stride = bounded_index(hash_key(key, derive_seed(seed, 1)), strides) + sql.lit(1)
    offset = sql.pmod(start + (line - sql.lit(1)) * stride, sql.lit(size).cast("bigint"))
    return (offset + sql.lit(1)).cast("int")


BOOKING_PRIME = 2_147_483_647  # 2**31 - 1: coprime to every cell count below it, so x -> x*p + b mod n is a bijection


def booked_index(spec: ColumnSpec, scope: Scope) -> Expr:
    """The referenced entity of a booking: row r of the day takes a cell (entity, slot), never one another row took.

    The day's cells are active entity x slot, n = active(d) x slots_per_day, shuffled by the bijection
    x -> (x * p + b) mod n (b hashed from the day); row r takes cell x = r, so distinct rows get distinct
    cells while r < n. The cell's entity is the ``ranked`` active entity (``EntityLifecycle.ranked``).
    A day with more rows than cells gives its last rows the last cell (validation keeps n well above R).
    """
    target = scope.dataset.table(spec.params["references"].split(".")[0])
    slots = sql.lit(int(spec.params["slots_per_day"])).cast("bigint")
    lifecycle = EntityLifecycle(scope.settings, scope.dataset, target) if target.lifecycle.churn_rate > 0 else None
    active = scope.day_fact("population", target.name) if lifecycle is None else lifecycle.active_count(scope)
    cells = scope.stage(f"_sg_{spec.name}_cells", active * slots)
    shift = bounded_index(hash_key(scope.day_ordinal.cast("bigint"), scope.seed(spec.name, "cells")), cells)
    x = sql.least(scope.row_index, cells - sql.lit(1))
    cell = scope.stage(f"_sg_{spec.name}_cell", sql.pmod(x * sql.lit(BOOKING_PRIME).cast("bigint") + shift, cells))
    rank = sql.div(cell, slots)
    return rank if lifecycle is None else lifecycle.ranked(scope, rank, f"_sg_{spec.name}_rank")


@register("slot")
def _slot(spec: ColumnSpec, scope: Scope) -> Expr:
    """The slot (0..slots_per_day - 1) of the cell the booking key in column ``key`` took."""
    key = spec.params["key"]
    scope.column(key)  # builds the booking key, which stages its cell
    slots = int(scope.table.column(key).params["slots_per_day"])
    taken = scope.stage(f"_sg_{key}_cell", sql.lit(0))  # already staged: the reference to it
    return sql.pmod(taken, sql.lit(slots).cast("bigint"))
