"""The dataset model: DatasetSpec -> TableSpec -> ColumnSpec (frozen), and the names a dataset may use."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from synthgen_spark.changes import ChangeGroup, Progress
from synthgen_spark.errors import SpecError, invalid, place

TABLE_KINDS = ("incremental", "snapshot")
RETAIL_EVENTS = (
    "black_friday",
    "cyber_monday",
    "christmas_eve",
    "christmas_day",
    "boxing_day",
)  # dated by rule in calendar
FREQUENCIES = ("daily", "weekly", "monthly", "quarterly", "once")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_NAME_LENGTH = 64  # table and column names become folder, file and Delta table names


@dataclass(frozen=True)
class ColumnSpec:
    """One column: its kind (generator), output type and the kind's parameters.

    Example (YAML)::

        - {name: quantity, kind: uniform, min: 1, max: 5, type: int}
    """

    name: str
    kind: str
    type: str
    params: Mapping[str, Any] = field(default_factory=dict)
    null_rate: float = 0.0
    hidden: bool = False
    drift: bool = False
    description: str = ""


@dataclass(frozen=True)
class Lifecycle:
    """Growth and churn of a snapshot table's entities (closed form from the dataset epoch).

    population(d) = N0 + floor(periods(d) x N0 x growth_rate), periods = days (or whole weeks)
    since the epoch; each active entity churns with probability churn_rate per day.
    """

    growth_rate: float = 0.0
    growth_period: str = "day"
    churn_rate: float = 0.0

    @property
    def period_days(self) -> int:
        return 7 if self.growth_period == "week" else 1

    @property
    def dynamic(self) -> bool:
        """True if entities sign up after the epoch or churn: the active population moves."""
        return self.growth_rate > 0 or self.churn_rate > 0


PROPENSITY_BLOCK = 100  # entities per block of a propensity layout: shares are entities per block


@dataclass(frozen=True)
class Propensity:
    """Heavy-tailed per-entity classes of a snapshot table: who orders, what sells (generators.propensity).

    Class c holds ``shares[c]`` of every block of 100 entities; a foreign key into the table draws an
    entity of class c ``weights[c]`` times as often as one of weight 1.

    Example (YAML, on a snapshot table)::

        propensity: {shares: [1, 4, 15, 35, 45], weights: [30, 10, 3, 1.5, 0.03]}
    """

    shares: tuple[int, ...]
    weights: tuple[float, ...]

    @property
    def mean_weight(self) -> float:
        return sum(n * w for n, w in zip(self.shares, self.weights, strict=True)) / PROPENSITY_BLOCK

    def top_share(self, fraction: float = 0.1) -> float:
        """The share of draws that go to the ``fraction`` of entities of the highest weights (full blocks)."""
        return share_of_the_top(zip(self.weights, self.shares, strict=True), fraction * PROPENSITY_BLOCK)


def share_of_the_top(groups: Iterable[tuple[float, float]], take: float) -> float:
    """The share of the total (sum of value x count) held by the ``take`` members with the highest values.

    ``groups``: (value per member, members with that value); a propensity's (weight, share), or verify's
    (rows per key, keys). Ties at the cut do not change the share.

    >>> share_of_the_top([(10, 1), (1, 9)], 1)   # the busiest of 10 keys holds 10 of 19
    0.5263157894736842
    """
    groups = list(groups)
    total = sum(value * count for value, count in groups)
    if total <= 0:
        return 0.0
    left, taken = take, 0.0
    for value, count in sorted(groups, reverse=True):
        step = min(count, left)
        taken, left = taken + step * value, left - step
        if left <= 0:
            break
    return taken / total


@dataclass(frozen=True)
class ShapeTarget:
    """A shape a table's written rows should show, judged by ``synthgen verify`` (docs/verify.md#targets).

    ``top_share``: the share of the rows (or of the ``weight`` column's sum) held by the ``top`` fraction of
    the key's distinct values with the most; ``share``: the share of rows where a Spark SQL predicate holds.
    Either must lie within ``between``; fewer than ``min_rows`` rows are not judged.

    Example (YAML, on a table)::

        targets:
          - {top_share: customer_id, top: 0.1, between: [0.40, 0.60]}   # the top tenth place 40-60 % of orders
          - {share: "item_count = 1", between: [0.30, 0.50]}
    """

    between: tuple[float, float]
    top_share: str = ""
    top: float = 0.0
    weight: str = ""
    share: str = ""
    min_rows: int = 2000

    @property
    def subject(self) -> str:
        """What the target measures, in a line of the scorecard."""
        if self.share:
            return f"share where {self.share}"
        of = f"{self.weight} of " if self.weight else ""
        return f"{of}top {self.top:.0%} of {self.top_share}"


@dataclass(frozen=True)
class TableSpec:
    """One table of a dataset: incremental (new rows per day) or snapshot (full table as of a date)."""

    name: str
    kind: str
    rows: int
    columns: tuple[ColumnSpec, ...]
    primary_key: str
    frequency: str = "daily"
    primary_date_column: str = "snapshot_date"
    date_columns: tuple[str, ...] = ()
    parent: str | None = None
    rows_per_parent: float = 0.0
    children_shape: tuple[int, ...] = ()
    volume_noise: float = 0.0  # log-sd of the seeded day-level volume noise (calendar.volume_noise)
    month_multipliers: tuple[float, ...] = ()  # Jan..Dec volume factors of an incremental table (12, or none)
    follows_population: str = ""  # a snapshot table whose expected active population scales the volume
    holiday_multiplier: float = 1.0
    event_multipliers: Mapping[str, float] = field(default_factory=dict)
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    propensity: Propensity | None = None  # a snapshot table's per-entity draw weights (foreign keys into it)
    description: str = ""
    # False: ``rows`` is the table's size at any scale_factor (calendars, fixed reference lists; snapshots only)
    scaled: bool = True
    changes: tuple[ChangeGroup, ...] = ()  # change groups of a snapshot table with a lifecycle (changes.py)
    derived_from: str = ""  # a change feed or history table: the snapshot table it is derived from
    churn: str = "keep"  # keep: churned entities stay in snapshots (status, churn date); delete: they leave
    progress: Progress | None = None  # an incremental table's status lifecycle (facts that progress; changes.py)
    # lateness overrides of an incremental table without a parent (None: the job's; docs/lateness.md)
    late_arrival_rate: float | None = None
    max_late_days: int | None = None
    targets: tuple[ShapeTarget, ...] = ()  # shapes ``synthgen verify`` judges (docs/verify.md#targets)

    def column(self, name: str) -> ColumnSpec:
        """The column called ``name``; SpecError if there is none."""
        for col in self.columns:
            if col.name == name:
                return col
        where = place("", table=self.name)
        raise SpecError(invalid("column", ", ".join(self.column_names), name, where=where, problem="no such column"))

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def output_columns(self) -> tuple[ColumnSpec, ...]:
        return tuple(c for c in self.columns if not c.hidden)


@dataclass(frozen=True)
class PoolSpec:
    """A dataset-defined value pool: a list of values or records with named fields."""

    name: str
    fields: tuple[str, ...]
    records: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset: tables, weekday rhythm and pools, loaded from YAML."""

    dataset_id: str
    description: str
    domain: str
    epoch: dt.date
    weekday_multipliers: tuple[float, ...]
    tables: tuple[TableSpec, ...]
    pools: Mapping[str, PoolSpec] = field(default_factory=dict)
    source: str = ""

    def table(self, name: str) -> TableSpec:
        """The table called ``name``; SpecError naming the dataset's tables if there is none."""
        for table in self.tables:
            if table.name == name:
                return table
        names = ", ".join(t.name for t in self.tables)
        raise SpecError(
            invalid("table", names, name, where=f"{self.source}: dataset '{self.dataset_id}'", problem="no such table")
        )
