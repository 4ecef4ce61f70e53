"""Key generators: foreign keys into snapshots, parent/child line layout, lookups and child rollups.

Parent/child layout (orders -> order_items) on a day with n parents and m >= n children: child j
belongs to parent o where b(o) <= j < b(o+1), b(o) = floor(o*m/n) + jitter(o), jitter in {0, 1}
when m >= 2n (else 0), b(0) = 0 and b(n) = m. Every parent gets at least one child, and both
sides compute the layout in O(1) per row, so no join is needed.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from synthgen_spark.catalog import ColumnSpec
from synthgen_spark.generators.core import bounded_index, cast_to, day_row_key, hash_key, spark_type
from synthgen_spark.generators.lifecycle import EntityLifecycle
from synthgen_spark.generators.registry import Scope, register


def _floor_div(numerator: Column, denominator: Column) -> Column:
    return F.call_function("div", numerator, denominator)


class ChildLayout:
    """Where each child row of one parent/child pair on one day belongs (see the module docstring).

    ``parents`` and ``children`` are the day's row counts (Columns: they vary by day in a batch).
    """

    def __init__(self, child_scope: Scope, parents: Column, children: Column) -> None:
        self.scope = child_scope
        self.parents = parents
        self.children = children
        self.seed = child_scope.seed("__layout")

    def boundary(self, parent_index: Column) -> Column:
        """b(o): index of the first child of parent o."""
        linear = _floor_div(parent_index * self.children, self.parents)
        jittered = (
            (self.children >= F.lit(2) * self.parents) & (parent_index > F.lit(0)) & (parent_index < self.parents)
        )
        jitter = bounded_index(hash_key(day_row_key(self.scope.day_ordinal, parent_index), self.seed), 2)
        return linear + F.when(jittered, jitter).otherwise(F.lit(0).cast("bigint"))

    def parent_of(self, child_index: Column) -> Column:
        """o(j): index of the parent of child j (the linear guess, one less if a jitter moved b past j)."""
        candidate = _floor_div((child_index + F.lit(1)) * self.parents - F.lit(1), self.children)
        return candidate - F.when(self.boundary(candidate) > child_index, F.lit(1)).otherwise(F.lit(0)).cast("bigint")


def _layout_from_child(scope: Scope) -> ChildLayout:
    parent = scope.table.parent
    return ChildLayout(scope, scope.day_fact("rows", parent), scope.day_fact("rows", scope.table.name))


def _layout_from_parent(spec: ColumnSpec, scope: Scope) -> ChildLayout:
    child = spec.params["child"]
    child_scope = scope.related(child, F.lit(0))
    return ChildLayout(child_scope, scope.day_fact("rows", scope.table.name), scope.day_fact("rows", child))


def _sequence_start(scope: Scope, table: str) -> int:
    target = scope.dataset.table(table)
    return int(target.column(target.primary_key).params.get("start", 1))


@register("foreign_key")
def _foreign_key(spec: ColumnSpec, scope: Scope) -> Column:
    """A key of the referenced snapshot table, uniform over its entities active on the day."""
    table = spec.params["references"].split(".")[0]
    population = scope.day_fact("population", table)
    start = F.lit(_sequence_start(scope, table)).cast("bigint")
    target = scope.dataset.table(table)
    if target.lifecycle.churn_rate > 0:
        lifecycle = EntityLifecycle(scope.related(table, F.lit(0)), target)
        return start + lifecycle.active_pick(scope.row_key, scope.seed(spec.name), population)
    return start + bounded_index(hash_key(scope.row_key, scope.seed(spec.name)), population)


@register("parent_key")
def _parent_key(spec: ColumnSpec, scope: Scope) -> Column:
    """The parent's primary key (e.g. order_items.order_id), by the child layout."""
    parent = scope.table.parent
    start = F.lit(_sequence_start(scope, parent)).cast("bigint") + scope.day_fact("id_offset", parent)
    return start + _layout_from_child(scope).parent_of(scope.row_index)


@register("line_number")
def _line_number(spec: ColumnSpec, scope: Scope) -> Column:
    """1-based position of the child within its parent."""
    layout = _layout_from_child(scope)
    return scope.row_index - layout.boundary(layout.parent_of(scope.row_index)) + F.lit(1)


@register("lookup")
def _lookup(spec: ColumnSpec, scope: Scope) -> Column:
    """The value of another table's column for the entity this row's key points at."""
    table, column = spec.params["references"].split(".")
    entity = scope.column(spec.params["key"]) - F.lit(_sequence_start(scope, table))
    return scope.related(table, entity).column(column)


@register("child_count")
def _child_count(spec: ColumnSpec, scope: Scope) -> Column:
    layout = _layout_from_parent(spec, scope)
    return layout.boundary(scope.row_index + F.lit(1)) - layout.boundary(scope.row_index)


@register("child_sum")
def _child_sum(spec: ColumnSpec, scope: Scope) -> Column:
    """Sum over this parent's children of the product of the ``of`` columns (e.g. quantity x unit_price)."""
    layout = _layout_from_parent(spec, scope)
    first, end = layout.boundary(scope.row_index), layout.boundary(scope.row_index + F.lit(1))
    result_type = spark_type(spec.type)

    def add_child(total: Column, child_index: Column) -> Column:
        child = scope.related(spec.params["child"], child_index)
        product = child.column(spec.params["of"][0])
        for name in spec.params["of"][1:]:
            product = product * child.column(name)
        return cast_to(total + product, spec.type)

    zero = F.lit(0).cast(result_type)
    return F.aggregate(F.sequence(first, end - F.lit(1)), zero, add_child)


@register("derived")
def _derived(spec: ColumnSpec, scope: Scope) -> Column:
    """A Spark SQL expression over the table's earlier columns (evaluated by name)."""
    return F.expr(spec.params["expression"])
