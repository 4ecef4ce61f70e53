"""Child rows that follow their parent row: a parent's value, and pool records distinct within a parent."""

from __future__ import annotations

import math

from synthgen_spark.catalog import ColumnSpec
from synthgen_spark.generators import sql
from synthgen_spark.generators.core import bounded_index, derive_seed, hash_key
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
