"""Key generators: foreign keys into snapshots, parent/child line layout, lookups and child rollups.

Parent/child layout (orders -> order_items) on a day with n parents and m >= n children: child j
belongs to parent o where b(o) <= j < b(o+1), b(o) = floor(o*m/n) + jitter(o), jitter in {0, 1}
when m >= 2n (else 0), b(0) = 0 and b(n) = m. Every parent gets at least one child, at most
ceil(m/n) + 1, and both sides compute the layout in O(1) per row, so no join is needed.

With a ``children_shape`` s_0..s_{B-1} (skewed baskets: one item most often), parents come in blocks
of B: block q spans children c(q) = floor(q·B·m/n) to c(q+1), and its parents get 1 child each plus
the block's X = c(q+1) − c(q) − B extra children in proportion to the extras s_i − 1, rotated by a
k hashed from (day, q): b(qB + r) = c(q) + r + floor(E(k, r)·X / E), with E(k, r) the extras of the
r shape entries from k on (cyclically) and E all of them. A last partial block is laid out linearly.
"""

from __future__ import annotations

from synthgen_spark.balances import ledger_of
from synthgen_spark.catalog import ColumnSpec, TableSpec
from synthgen_spark.generators import sql
from synthgen_spark.generators.core import (
    bounded_index,
    column_seed,
    day_row_key,
    derive_seed,
    hash_key,
    unit_interval,
)
from synthgen_spark.generators.family import booked_index
from synthgen_spark.generators.lifecycle import EntityLifecycle
from synthgen_spark.generators.registry import Scope, register
from synthgen_spark.generators.sql import Expr
from synthgen_spark.pools import table_segments


def _floor_div(numerator: Expr, denominator: Expr) -> Expr:
    return sql.div(numerator, denominator)


class ChildLayout:
    """Where each child row of one parent/child pair on one day belongs (see the module docstring).

    ``parents`` and ``children`` are the day's row counts (Columns: they vary by day in a batch);
    ``seed`` is the child table's layout seed.
    """

    def __init__(self, scope: Scope, seed: int, parents: Expr, children: Expr, shape: tuple[int, ...] = ()) -> None:
        self.scope = scope
        self.seed = seed
        self.parents = parents
        self.children = children
        self.shape = shape

    def boundary(self, parent_index: Expr) -> Expr:
        """b(o): index of the first child of parent o."""
        if self.shape:
            return self._shaped_boundary(parent_index)
        linear = _floor_div(parent_index * self.children, self.parents)
        jittered = (
            (self.children >= sql.lit(2) * self.parents) & (parent_index > sql.lit(0)) & (parent_index < self.parents)
        )
        jitter = bounded_index(hash_key(day_row_key(self.scope.day_ordinal, parent_index), self.seed), 2)
        return linear + sql.when(jittered, jitter).otherwise(sql.lit(0).cast("bigint"))

    def _block_start(self, block: Expr) -> Expr:
        """c(q): the first child of block q."""
        return _floor_div(block * sql.lit(len(self.shape)) * self.children, self.parents)

    def _extras(self, block: Expr) -> tuple[Expr, Expr]:
        """The block's extra children X, and its rotation k."""
        size = len(self.shape)
        extra = self._block_start(block + sql.lit(1)) - self._block_start(block) - sql.lit(size)
        seed = derive_seed(self.seed, 2)
        rotation = bounded_index(hash_key(day_row_key(self.scope.day_ordinal, block), seed), size)
        return extra, rotation

    def _within(self, extra: Expr, rotation: Expr, position: Expr | int) -> Expr:
        """r + floor(E(k, r)·X / E): where parent r of a block starts, from the block's first child."""
        cumulative = [0]
        for value in self.shape + self.shape:
            cumulative.append(cumulative[-1] + value - 1)
        prefix = sql.lit(cumulative)
        at = sql.element_at(prefix, (rotation + sql.as_expr(position) + sql.lit(1)).cast("int"))
        share = (at - sql.element_at(prefix, (rotation + sql.lit(1)).cast("int"))).cast("bigint") * extra
        return sql.as_expr(position) + _floor_div(share, sql.lit(cumulative[len(self.shape)]).cast("bigint"))

    def _shaped_boundary(self, parent_index: Expr) -> Expr:
        size = sql.lit(len(self.shape)).cast("bigint")
        block = _floor_div(parent_index, size)
        extra, rotation = self._extras(block)
        shaped = self._block_start(block) + self._within(extra, rotation, parent_index - block * size)
        partial = block >= _floor_div(self.parents, size)
        return sql.when(partial, _floor_div(parent_index * self.children, self.parents)).otherwise(shaped)

    def _shaped_parent_of(self, child_index: Expr) -> Expr:
        """The block of child j by the block starts, then the parents of the block whose start is <= j."""
        size = len(self.shape)
        full = _floor_div(self.parents, sql.lit(size).cast("bigint"))
        linear = _floor_div((child_index + sql.lit(1)) * self.parents - sql.lit(1), self.children)
        block = _floor_div((child_index + sql.lit(1)) * self.parents - sql.lit(1), self.children * sql.lit(size))
        block = self.scope.stage("_sg_parent_block", sql.least(block, full))
        extra, rotation = self._extras(block)
        extra, rotation = self.scope.stage("_sg_block_extra", extra), self.scope.stage("_sg_block_rotation", rotation)
        offset = self.scope.stage("_sg_block_offset", child_index - self._block_start(block))
        started = [sql.when(self._within(extra, rotation, r) <= offset, 1).otherwise(0) for r in range(1, size)]
        within = sum(started[1:], started[0]).cast("bigint")
        return sql.when(block >= full, linear).otherwise(block * sql.lit(size).cast("bigint") + within)

    def parent_of(self, child_index: Expr) -> Expr:
        """o(j): index of the parent of child j (the linear guess, one less if a jitter moved b past j)."""
        if self.shape:
            return self._shaped_parent_of(child_index)
        guess = _floor_div((child_index + sql.lit(1)) * self.parents - sql.lit(1), self.children)
        guess = self.scope.stage("_sg_parent_guess", guess)
        return guess - sql.when(self.boundary(guess) > child_index, sql.lit(1)).otherwise(sql.lit(0)).cast("bigint")


def _layout_seed(scope: Scope, child: str) -> int:
    return column_seed(scope.settings.seed_value, child, "__layout")


def _layout_from_child(scope: Scope) -> ChildLayout:
    parent, child = scope.table.parent, scope.table.name
    rows = scope.day_fact("rows", parent), scope.day_fact("rows", child)
    return ChildLayout(scope, _layout_seed(scope, child), *rows, scope.table.children_shape)


def _layout_from_parent(child: str, scope: Scope) -> ChildLayout:
    parents, children = scope.day_fact("rows", scope.table.name), scope.day_fact("rows", child)
    shape = scope.dataset.table(child).children_shape
    return ChildLayout(scope, _layout_seed(scope, child), parents, children, shape)


def _children(child: str, scope: Scope) -> tuple[Expr, Expr]:
    """The first child index of this parent and the one after its last (staged: read many times)."""
    layout = _layout_from_parent(child, scope)
    first = scope.stage(f"_sg_{child}_first", layout.boundary(scope.row_index))
    end = scope.stage(f"_sg_{child}_end", layout.boundary(scope.row_index + sql.lit(1)))
    return first, end


def _sequence_start(scope: Scope, table: str) -> int:
    target = scope.dataset.table(table)
    return int(target.column(target.primary_key).params.get("start", 1))


@register("foreign_key")
def _foreign_key(spec: ColumnSpec, scope: Scope) -> Expr:
    """A key of the referenced snapshot table among its entities active on the day: uniform, or by propensity."""
    table = spec.params["references"].split(".")[0]
    start = sql.lit(_sequence_start(scope, table)).cast("bigint")
    if "slots_per_day" in spec.params:  # a booking: no two rows of a day share an (entity, slot) cell
        return start + booked_index(spec, scope)
    target = scope.dataset.table(table)
    if "same_segment" in spec.params:
        segment = _segment_wanted(spec, scope, target)
        return start + EntityLifecycle(scope.settings, scope.dataset, target).active_pick(scope, spec.name, segment)
    ledger = ledger_of(scope.dataset, scope.table.name)
    if ledger is not None and ledger.account == spec.name:  # a ledger row moves a funded entity's balance
        lifecycle = EntityLifecycle(scope.settings, scope.dataset, target)
        sweeps = scope.day_fact("rows", scope.table.name) - scope.day_fact("sweeps", scope.table.name)
        swept = lifecycle.ranked(scope, scope.row_index - sweeps, f"_sg_{spec.name}_swept")
        moved = lifecycle.active_pick(scope, spec.name, funded=True)
        return start + sql.when(scope.column(ledger.sweep_row), swept).otherwise(moved)
    if target.lifecycle.churn_rate > 0 or target.propensity is not None:
        return start + EntityLifecycle(scope.settings, scope.dataset, target).active_pick(scope, spec.name)
    population = scope.day_fact("population", table)
    return start + bounded_index(hash_key(scope.row_key, scope.seed(spec.name)), population)


def _segment_wanted(spec: ColumnSpec, scope: Scope, target: TableSpec) -> Expr:
    """The referenced table's segment number named by the row's ``same_segment`` column (0: any), for a
    ``segment_share`` of the rows (hashed), 0 for the others and for values that name no segment."""
    names = table_segments(scope.dataset, target, scope.settings.locale).names
    value = scope.column(spec.params["same_segment"]).cast("string")
    number = sql.call("coalesce", sql.call("array_position", sql.lit(list(names)), value), sql.lit(0).cast("bigint"))
    share = float(spec.params.get("segment_share", 1))
    if share >= 1:
        return number
    u = unit_interval(hash_key(scope.row_key, scope.seed(spec.name, "segment")))
    return sql.when(u < sql.lit(share), number).otherwise(sql.lit(0).cast("bigint"))


@register("parent_key")
def _parent_key(spec: ColumnSpec, scope: Scope) -> Expr:
    """The parent's primary key (e.g. order_items.order_id), by the child layout."""
    parent = scope.table.parent
    start = sql.lit(_sequence_start(scope, parent)).cast("bigint") + scope.day_fact("id_offset", parent)
    return start + scope.stage("_sg_parent_index", _layout_from_child(scope).parent_of(scope.row_index))


@register("line_number")
def _line_number(spec: ColumnSpec, scope: Scope) -> Expr:
    """1-based position of the child within its parent."""
    layout = _layout_from_child(scope)
    parent = scope.stage("_sg_parent_index", layout.parent_of(scope.row_index))
    return scope.row_index - layout.boundary(parent) + sql.lit(1)


@register("lookup")
def _lookup(spec: ColumnSpec, scope: Scope) -> Expr:
    """The value of another table's column for the entity this row's key points at."""
    table, column = spec.params["references"].split(".")
    key = spec.params["key"]
    entity = scope.column(key) - sql.lit(_sequence_start(scope, table))
    return scope.related(table, entity, via=key).number(column)


@register("child_count")
def _child_count(spec: ColumnSpec, scope: Scope) -> Expr:
    first, end = _children(spec.params["child"], scope)
    return end - first


@register("child_sum")
def _child_sum(spec: ColumnSpec, scope: Scope) -> Expr:
    """Sum over this parent's children of the product of the ``of`` columns (e.g. quantity x unit_price).

    A parent has at most ``children_bound`` children, so the sum is unrolled over that many slots;
    slot t is child first + t, counted only when it is before the parent's end. Decimals are summed
    as doubles and rounded once: exact for decimal(p<=15, s) terms, whose sums stay far inside 2**53.
    """
    child = spec.params["child"]
    first, end = _children(child, scope)
    slots = scope.children_bound(child)  # <= MAX_CHILDREN_SUMMED: catalog.validate checked it before Spark started
    arithmetic = "bigint" if spec.type in ("int", "long") else "double"
    total = sql.lit(0).cast(arithmetic)
    for slot in range(slots):
        index = first + sql.lit(slot)
        child_scope = scope.related(child, index, via=f"slot{slot}")
        product = child_scope.number(spec.params["of"][0]).cast(arithmetic)
        for name in spec.params["of"][1:]:
            product = product * child_scope.number(name).cast(arithmetic)
        total = total + sql.when(index < end, product).otherwise(sql.lit(0).cast(arithmetic))
    return total


@register("derived")
def _derived(spec: ColumnSpec, scope: Scope) -> Expr:
    """A Spark SQL expression over the table's earlier columns (evaluated by name)."""
    return sql.expr(spec.params["expression"])
