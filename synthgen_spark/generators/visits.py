"""Visits: a clickstream whose sessions follow a closed-form script, and the orders placed in them.

On a day with R events, a referenced snapshot of S sessions and O orders, event r is step
p = r div V of session slot j = r mod V, where V = min(S, R) slots are in use. Slot j is the session
key ``start + (j·(2³¹−1) + b) mod S`` (b hashed from the day: a bijection, so distinct slots are distinct
sessions) and holds L_j = (R − 1 − j) div V + 1 events, steps 0..L_j − 1 in time order.

The K = min(V, R − V) slots with at least two events can buy. Order o is placed in slot o mod K, and
each slot j < min(O, K) ends with the purchase tail of order j: ``product_view, add_to_cart,
begin_checkout, purchase`` of the order's product (the last 2 or 3 of them when the slot is shorter).
The other steps browse: an event type drawn from the column's weights, where ``remove_from_cart`` and
``begin_checkout`` stand only right after an ``add_to_cart`` (of the product removed), else they are a
``product_view``. So every removal and every purchase has an earlier add of its product in the session,
and every order a purchase in its session. Everything is O(1) per row: a row reads at most the
previous step of its slot and the first order of its slot, recomputed, never joined.
"""

from __future__ import annotations

from synthgen_spark.catalog import ColumnSpec
from synthgen_spark.generators import sql
from synthgen_spark.generators.categorical import build_pool_pick_column, choice_table, pool_index
from synthgen_spark.generators.core import bounded_index, column_seed, day_row_key, derive_seed, hash_key
from synthgen_spark.generators.registry import Scope, register
from synthgen_spark.generators.sql import Expr
from synthgen_spark.generators.temporal import SECONDS_PER_DAY, build_timestamp_by_hour_column

BIJECTION_MULTIPLIER = 2**31 - 1  # prime: coprime with every population below it
TAIL = ("product_view", "add_to_cart", "begin_checkout", "purchase")
TAIL_PRODUCT_EVENTS = ("product_view", "add_to_cart", "purchase")
BROWSE_PRODUCT_EVENTS = ("product_view", "add_to_cart")
NEEDS_ADD = ("remove_from_cart", "begin_checkout")  # browsing events that stand only after an add
FALLBACK_EVENT = "product_view"
DEFAULT_GAP_SECONDS = 45


class Visits:
    """The session layout of one day (module docstring), seen from the events or the orders table."""

    def __init__(self, scope: Scope, events: str) -> None:
        self.scope = scope
        self.events = scope.dataset.table(events)
        self.spec = next(c for c in self.events.columns if c.kind == "visit")
        self.sessions_table = self.spec.params["references"].split(".")[0]
        self.orders = self.spec.params.get("orders")

    def _fact(self, name: str, kind: str, table: str) -> Expr:
        return self.scope.stage(f"_sg_visit_{name}", self.scope.day_fact(kind, table))

    @property
    def sessions(self) -> Expr:
        return self._fact("sessions", "population", self.sessions_table)

    @property
    def slots(self) -> Expr:
        """V: the sessions in use on the day."""
        return self.scope.stage(
            "_sg_visit_slots", sql.least(self.sessions, self._fact("events", "rows", self.events.name))
        )

    @property
    def buyers(self) -> Expr:
        """K: slots with at least two events (at least 1, so that orders always have a slot)."""
        rows = self._fact("events", "rows", self.events.name)
        return self.scope.stage("_sg_visit_buyers", sql.greatest(sql.least(self.slots, rows - self.slots), sql.lit(1)))

    def purchases(self) -> Expr:
        """Slots j below this number end with a purchase tail (0 without an orders table)."""
        if not self.orders:
            return sql.lit(0).cast("bigint")
        return sql.least(self._fact("orders", "rows", self.orders), self.buyers)

    def session_key(self, slot: Expr) -> Expr:
        target = self.scope.dataset.table(self.sessions_table)
        start = int(target.column(target.primary_key).params.get("start", 1))
        seed = column_seed(self.scope.settings.seed_value, self.events.name, "_visit", "shift")
        shift = bounded_index(hash_key(self.scope.day_ordinal.cast("bigint"), seed), 2**31)
        mixed = slot * sql.lit(BIJECTION_MULTIPLIER).cast("bigint") + shift
        return sql.lit(start).cast("bigint") + sql.pmod(mixed, self.sessions)

    def length(self, slot: Expr) -> Expr:
        """L_j: the events of slot j."""
        rows = self._fact("events", "rows", self.events.name)
        return sql.div(rows - sql.lit(1) - slot, self.slots) + sql.lit(1)

    def event_row(self, slot: Expr, step: Expr) -> Expr:
        return step * self.slots + slot


class EventRow:
    """An events row: its slot, step, slot length and whether it is in its slot's purchase tail."""

    def __init__(self, scope: Scope, key: str) -> None:
        self.scope = scope
        self.visits = Visits(scope, scope.table.name)
        slots = self.visits.slots
        self.slot = scope.stage(f"_sg_{key}_slot", sql.pmod(scope.row_index, slots))
        self.step = scope.stage(f"_sg_{key}_step", sql.div(scope.row_index, slots))
        self.length = scope.stage(f"_sg_{key}_length", self.visits.length(self.slot))
        self.tail = scope.stage(f"_sg_{key}_tail", sql.least(self.length, sql.lit(len(TAIL))))
        buying = self.slot < self.visits.purchases()
        self.in_tail = scope.stage(f"_sg_{key}_in_tail", buying & (self.step >= self.length - self.tail))


@register("visit")
def _visit(spec: ColumnSpec, scope: Scope) -> Expr:
    """The session of an event: the key of its slot."""
    row = EventRow(scope, spec.name)
    return row.visits.session_key(row.slot)


@register("visit_step")
def _visit_step(spec: ColumnSpec, scope: Scope) -> Expr:
    """1-based position of the event within its session."""
    return EventRow(scope, spec.params["key"]).step + sql.lit(1)


def _browse(spec: ColumnSpec, scope: Scope, row_index: Expr) -> Expr:
    """The browsing draw of an events row (the column's weighted choice, keyed by that row)."""
    values = list(spec.params["values"])
    weights = [float(w) for w in spec.params.get("weights", [1] * len(values))]
    table = choice_table(values, weights) or tuple(values)
    row_key = day_row_key(scope.day_ordinal, row_index)
    return build_pool_pick_column(pool_index(row_key, scope.seed(spec.name), len(table)), values=table)


@register("visit_event")
def _visit_event(spec: ColumnSpec, scope: Scope) -> Expr:
    """The event type by the script (module docstring): a purchase tail, or browsing."""
    row = EventRow(scope, spec.params["key"])
    from_end = row.length - sql.lit(1) - row.step
    tail = sql.when(from_end == sql.lit(0), sql.lit(TAIL[3])).when(from_end == sql.lit(3), sql.lit(TAIL[0]))
    tail = tail.when((from_end == sql.lit(1)) & (row.tail >= sql.lit(3)), sql.lit(TAIL[2])).otherwise(sql.lit(TAIL[1]))
    browse = scope.stage(f"_sg_{spec.name}_browse", _browse(spec, scope, scope.row_index))
    previous = _browse(spec, scope, scope.row_index - row.visits.slots)
    after_add = (row.step >= sql.lit(1)) & (previous == sql.lit("add_to_cart"))
    needs_add = sql.call("array_contains", sql.lit(list(NEEDS_ADD)), browse)
    browsing = sql.when(needs_add & ~after_add, sql.lit(FALLBACK_EVENT)).otherwise(browse)
    return sql.when(row.in_tail, tail).otherwise(browsing)


@register("visit_product")
def _visit_product(spec: ColumnSpec, scope: Scope) -> Expr:
    """The product of a product event: the order's in a purchase tail, the previous step's for a removal."""
    row = EventRow(scope, spec.params["key"])
    event, pick = scope.column(spec.params["event"]), spec.params["product"]
    previous = scope.related(scope.table.name, scope.row_index - row.visits.slots, via="visit_previous").column(pick)
    removal = event == sql.lit("remove_from_cart")
    result = sql.when(removal, previous)
    if row.visits.orders and "ordered" in spec.params:
        ordered = scope.related(row.visits.orders, row.slot, via="visit_order").column(spec.params["ordered"])
        in_tail = row.in_tail & sql.call("array_contains", sql.lit(list(TAIL_PRODUCT_EVENTS)), event)
        result = sql.when(in_tail, ordered).when(removal, previous)
    browsing = sql.call("array_contains", sql.lit(list(BROWSE_PRODUCT_EVENTS)), event)
    return result.when(browsing, scope.column(pick)).otherwise(sql.lit(None))


def _slot_seconds(spec: ColumnSpec, scope: Scope, slot: Expr, length: Expr) -> tuple[Expr, Expr]:
    """A slot's first second (its hour by ``hourly_weights``; the whole visit within the day) and its gap."""
    first = scope.related(scope.table.name, slot, via="visit_first")  # the slot's step 0: slot-level draws
    seed = first.seed(spec.name)
    weights = [float(w) for w in spec.params.get("hourly_weights", [1] * 24)]
    start = build_timestamp_by_hour_column(first, spec.name, seed, day=scope.day, hourly_weights=weights)
    gap = int(spec.params.get("gap_seconds", DEFAULT_GAP_SECONDS))
    gap_seconds = sql.lit(max(gap // 2, 1)).cast("bigint") + bounded_index(
        hash_key(first.row_key, derive_seed(seed, 1)), gap + 1
    )
    day_start = sql.unix_date(scope.day).cast("bigint") * sql.lit(SECONDS_PER_DAY)
    latest = day_start + sql.lit(SECONDS_PER_DAY - 1) - length * gap_seconds
    return sql.greatest(day_start, sql.least(sql.call("unix_seconds", start), latest)), gap_seconds


@register("visit_time")
def _visit_time(spec: ColumnSpec, scope: Scope) -> Expr:
    """An event's time: its slot's start plus a gap per earlier step (plus a jitter below half a gap).

    In the orders table: the time of the last event (the purchase) of the order's session.
    """
    key = scope.table.column(spec.params["key"])
    if key.kind == "visit":
        row = EventRow(scope, key.name)
        start, gap = _slot_seconds(spec, scope, row.slot, row.length)
        jitter = bounded_index(hash_key(scope.row_key, scope.seed(spec.name, "jitter")), 2**20)
        within = sql.div(jitter * gap, sql.lit(2**21))
        return sql.timestamp_seconds(start + row.step * gap + within)
    visits = Visits(scope, key.params["events"])
    slot = scope.stage(f"_sg_{key.name}_slot", _order_slot(scope, visits))
    length = visits.length(slot)
    last = visits.event_row(slot, length - sql.lit(1))
    time_column = next(c.name for c in visits.events.columns if c.kind == "visit_time")
    return scope.related(visits.events.name, last, via="visit_last").column(time_column)


def _order_slot(scope: Scope, visits: Visits) -> Expr:
    return sql.pmod(scope.row_index, visits.buyers)


@register("order_visit")
def _order_visit(spec: ColumnSpec, scope: Scope) -> Expr:
    """The session an order is placed in: slot o mod K of its day's visits."""
    visits = Visits(scope, spec.params["events"])
    slot = scope.stage(f"_sg_{spec.name}_slot", _order_slot(scope, visits))
    return visits.session_key(slot)
