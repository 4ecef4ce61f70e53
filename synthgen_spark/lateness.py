"""Late arrivals in closed form: which rows of an incremental table's event day arrive 1..K days late.

Spark-free: the planner knows every file's rows, and the engine only generates row-index ranges.
For a table with ``late_arrival_rate`` r and ``max_late_days`` K, event day e with n rows has
L = floor(n*r + 1/2) late rows, the last L row indices of the day. Of them, C_k = ceil(L * (2^K - 2^(K-k))
/ (2^K - 1)) arrive within k days (weights w_k = 2^-k normalised, most 1 day late), so the bounds
B_0 = n - L, B_k = B_0 + C_k split the day: rows [0, B_0) arrive on e, rows [B_{k-1}, B_k) on e + k.
A child table (order_items) maps its parent's bounds through the parent/child layout
(``generators.keys``): the children of parents [a, b) are the children [b(a), b(b)), so a child row
arrives with its parent. Everything is a pure function of (seed, table, event day, row index).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from synthgen_spark.catalog import ColumnSpec, DatasetSpec, TableSpec
from synthgen_spark.config import JobConfig
from synthgen_spark.errors import SpecError
from synthgen_spark.generators.core import UNIX_EPOCH, column_seed
from synthgen_spark.seeds import spark_xxhash64

__all__ = ["spark_xxhash64"]  # re-exported: its tests import it from here

if TYPE_CHECKING:
    from synthgen_spark.planner import TableDay

ARRIVAL_COLUMN = "arrival_date"
ARRIVAL_KIND = "arrival_date"  # set by the planner only: the date of the file that holds the row


@dataclass(frozen=True)
class LatePolicy:
    """How a table's rows arrive: the share that is late and the most days a row can be late."""

    rate: float
    max_days: int


def late_total(rows: int, rate: float) -> int:
    """L: the late rows of an event day with ``rows`` rows, floor(rows * rate + 1/2)."""
    return min(rows, int(rows * rate + 0.5))


def late_counts(rows: int, rate: float, max_days: int) -> tuple[int, ...]:
    """c_1..c_K: the rows arriving exactly k days late (cumulative ceilings of L x w_k, w_k = 2^-k normalised)."""
    late, whole = late_total(rows, rate), 2**max_days - 1
    within = [-(-late * (whole + 1 - 2 ** (max_days - k)) // whole) for k in range(max_days + 1)]
    return tuple(b - a for a, b in zip(within, within[1:], strict=False))


def late_bounds(rows: int, rate: float, max_days: int) -> tuple[int, ...]:
    """B_0..B_K: rows [0, B_0) are on time, rows [B_{k-1}, B_k) arrive k days after their event day."""
    bounds = [rows - late_total(rows, rate)]
    for count in late_counts(rows, rate, max_days):
        bounds.append(bounds[-1] + count)
    return tuple(bounds)


def child_boundary(seed_value: int, child: str, day: dt.date, parents: int, children: int, parent: int) -> int:
    """b(o): the first child row of parent ``parent``, exactly as ``generators.keys.ChildLayout.boundary``."""
    if parent <= 0:
        return 0
    if parent >= parents:
        return children
    linear = parent * children // parents
    if children < 2 * parents:
        return linear
    ordinal = (day - UNIX_EPOCH).days
    key = ((ordinal << 32) + parent) ^ column_seed(seed_value, child, "__layout")
    return linear + (spark_xxhash64(key) >> 63)  # bounded_index(hash, 2): the top bit


class Lateness:
    """When each row of each incremental table arrives, under a job's parameters and the table overrides."""

    def __init__(self, config: JobConfig, dataset: DatasetSpec, rows: Callable[[TableSpec, dt.date], int]) -> None:
        self.config = config
        self.dataset = dataset
        self.rows = rows
        self.bounds = cache(self._bounds)

    def policy(self, table: TableSpec) -> LatePolicy | None:
        """The table's policy (a child follows its root parent); None when its rows all arrive on time."""
        if table.kind != "incremental" or table.derived_from:
            return None
        while table.parent:
            table = self.dataset.table(table.parent)
        rate = self.config.late_arrival_rate if table.late_arrival_rate is None else table.late_arrival_rate
        days = self.config.max_late_days if table.max_late_days is None else table.max_late_days
        return LatePolicy(rate, days) if rate > 0 else None

    def _bounds(self, name: str, day: dt.date) -> tuple[int, ...]:
        table = self.dataset.table(name)
        policy = self.policy(table)
        assert policy is not None
        if not table.parent:
            return late_bounds(self.rows(table, day), policy.rate, policy.max_days)
        parent = self.dataset.table(table.parent)
        parents, children = self.rows(parent, day), self.rows(table, day)
        seed = self.config.seed_value
        return tuple(child_boundary(seed, table.name, day, parents, children, b) for b in self.bounds(parent.name, day))

    def arrivals(self, table: TableSpec, day: dt.date) -> tuple[tuple[dt.date, int, int], ...]:
        """The rows of ``table`` arriving on ``day``: (event day, first row, rows), oldest event day first."""
        policy = self.policy(table)
        assert policy is not None
        pieces = []
        for late in range(policy.max_days, 0, -1):
            event = day - dt.timedelta(days=late)
            if event >= self.dataset.epoch:
                bounds = self.bounds(table.name, event)
                pieces.append((event, bounds[late - 1], bounds[late] - bounds[late - 1]))
        pieces.append((day, 0, self.bounds(table.name, day)[0]))
        return tuple(p for p in pieces if p[2] > 0 or p[0] == day)

    def dataset_with_arrival_columns(self) -> DatasetSpec:
        """The dataset with an ``arrival_date`` column appended to every table that has late rows."""
        tables = []
        for table in self.dataset.tables:
            if self.policy(table) is not None and not is_late_table(table):  # (a planned dataset has it)
                if ARRIVAL_COLUMN in table.column_names:
                    raise SpecError(
                        f"{self.dataset.source}: table '{table.name}': column '{ARRIVAL_COLUMN}' is reserved for "
                        "late arrivals; allowed: another name, or late_arrival_rate: 0 on the table"
                    )
                table = dataclasses.replace(
                    table, columns=(*table.columns, ColumnSpec(ARRIVAL_COLUMN, ARRIVAL_KIND, "date"))
                )
            tables.append(table)
        return dataclasses.replace(self.dataset, tables=tuple(tables))


def is_late_table(table: TableSpec) -> bool:
    """Whether the table's rows arrive by the lateness rules (it has the planner's arrival column)."""
    return any(c.kind == ARRIVAL_KIND for c in table.columns)


def write_date_column(table: TableSpec) -> str:
    """The column a day's Delta write replaces and partitions by: arrival_date for late tables."""
    return ARRIVAL_COLUMN if is_late_table(table) else table.primary_date_column


MANIFEST_PREFIX = "_synthgen_lateness_"


def manifest_name(run_id: str) -> str:
    """The lateness manifest's file name, beside the ledger: ``_synthgen_lateness_{run_id}.json``."""
    return f"{MANIFEST_PREFIX}{run_id}.json"


def lateness_manifest(table_days: Iterable[TableDay], run_id: str, config: JobConfig) -> dict[str, Any] | None:
    """What a run's late tables wrote, per arrival day and table: the event dates touched and their rows.

    The list a ``replaceWhere`` or lookback job must reprocess; from the plan, nothing is counted. None
    when no table of the run has late arrivals.
    """
    arrivals = [
        {
            "arrival_date": td.date.isoformat(),
            "table": td.table.name,
            "rows": td.rows,
            "late_rows": sum(s.rows for s in td.segments if s.source.date != td.date),
            "event_dates": {s.source.date.isoformat(): s.rows for s in td.segments if s.rows},
        }
        for td in sorted(table_days, key=lambda td: td.date)
        if td.segments
    ]
    if not arrivals:
        return None
    return {
        "version": 1,
        "run_id": run_id,
        "job_name": config.job_name,
        "dataset_id": config.dataset_id,
        "dates": f"{config.start_date}..{config.end_date}",
        "late_arrival_rate": config.late_arrival_rate,
        "max_late_days": config.max_late_days,
        "arrivals": arrivals,
    }
