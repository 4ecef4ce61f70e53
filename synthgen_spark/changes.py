"""Entities that change: change groups of snapshot tables, their O(1) schedule, and the derived tables.

A change group is a set of columns of a snapshot table with a lifecycle that change together at a
declared rate (per entity per day, week, month or year). Its **version** for entity e on day d is a
pure function of (seed, table, group, e, d), computed in O(1) (see ``version_count``):

    f = the daily rate; X = min(d, churn - 1) - signup (days the entity could change, to d)
    event k (k = 0, 1, ...) of the entity sits in slot k at time t_k = (k + j_k) / f days after
    signup, j_k = a uniform in [0, 1) hashed from (seed, table, group, e, k), and takes effect on
    day signup + 1 + floor(t_k);  version(d) = #{k : t_k < X} = K + [j_K < y - K], y = f X, K = floor(y)

(slots before K hold an event each, slot K one with probability y - K, later slots none). On any
day an active entity changes with probability f; gaps between its changes range over (0, 2/f).
Version 0 is the value before any change, which is the value of a table without change groups.

This module is Spark-free: the catalog parses groups with it, the planner derives the extra
tables ``{table}_changes`` and ``{table}_history`` from it, and tests check the formula.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from synthgen_spark.errors import SpecError

if TYPE_CHECKING:
    from synthgen_spark.catalog import ColumnSpec, TableSpec

CHANGE_PERIODS = {"day": 1.0, "week": 7.0, "month": 30.4375, "year": 365.25}
NEW_VALUES = ("redraw", "step", "toggle")
NUMERIC_TYPES = ("int", "long", "double")
# column kinds a group cannot change: keys, lifecycle dates, the snapshot date, rollups, SQL over others
FIXED_KINDS = (
    "sequence",
    "lifecycle_start",
    "lifecycle_end",
    "lifecycle_status",
    "generation_date",
    "child_count",
    "child_sum",
    "derived",
    "foreign_key",
    "lookup",
    "version_key",
)
CHANGES_SUFFIX = "_changes"
HISTORY_SUFFIX = "_history"


@dataclass(frozen=True)
class ChangeGroup:
    """Columns that change together, ``rate`` times per entity per ``per``, to a ``new_value``.

    Example (YAML, under a snapshot table's ``changes``)::

        - {name: price, columns: [price], rate: 0.01, per: week, new_value: step, step: 0.05}
    """

    name: str
    columns: tuple[str, ...]
    rate: float
    per: str = "day"
    new_value: str = "redraw"
    step: float = 0.0

    @property
    def daily_rate(self) -> float:
        """Changes per entity per day (the ``f`` of the schedule)."""
        return self.rate / CHANGE_PERIODS[self.per]


def version_count(days: int, daily_rate: float, jitter: Callable[[int], float]) -> int:
    """The version on a day ``days`` after signup (churn cut applied): O(1), ``jitter(k)`` = j_k in [0, 1)."""
    if days <= 0 or daily_rate <= 0:
        return 0
    y = daily_rate * days
    slot = math.floor(y)
    return slot + (1 if jitter(slot) < y - slot else 0)


def event_day_offset(k: int, daily_rate: float, jitter: Callable[[int], float]) -> int:
    """Days after signup on which event k takes effect: 1 + floor((k + j_k) / f)."""
    return 1 + math.floor((k + jitter(k)) / daily_rate)


def changes_table_name(table: str) -> str:
    return table + CHANGES_SUFFIX


def history_table_name(table: str) -> str:
    return table + HISTORY_SUFFIX


def parse_change_groups(raw: Any, table: TableSpec, where: str) -> tuple[ChangeGroup, ...]:
    """Parse and validate a snapshot table's ``changes`` list (one-line SpecError naming group and field)."""
    if raw in (None, []):
        return ()
    if not isinstance(raw, list):
        raise SpecError(f"{where}: field 'changes': must be a list of change groups (got {raw!r})")
    if table.kind != "snapshot" or not any(c.kind == "lifecycle_start" for c in table.columns):
        raise SpecError(
            f"{where}: field 'changes': change groups need a snapshot table with a lifecycle "
            f"(got kind {table.kind}, no lifecycle_start column); allowed: snapshot tables with a lifecycle_start column"
        )
    groups: list[ChangeGroup] = []
    for body in raw:
        group = _parse_group(body, table, where)
        if group.name in {g.name for g in groups}:
            raise SpecError(f"{where}, change group '{group.name}': field 'name': is used twice")
        taken = {c: g.name for g in groups for c in g.columns}
        for name in group.columns:
            if name in taken:
                raise SpecError(
                    f"{where}, change group '{group.name}': field 'columns': column '{name}' is already in group "
                    f"'{taken[name]}' (got {list(group.columns)!r}); allowed: each column in at most one group"
                )
        groups.append(group)
    return tuple(groups)


def parse_churn(raw: Any, table: TableSpec, where: str) -> str:
    """``keep`` (churned entities stay, with their status) or ``delete`` (they leave the snapshots: hard deletes)."""
    if raw not in ("keep", "delete"):
        raise SpecError(f"{where}: field 'churn': unknown (got {raw!r}); allowed: keep, delete")
    if raw == "delete" and not (has_lifecycle(table) and table.lifecycle.churn_rate > 0):
        raise SpecError(
            f"{where}: field 'churn': hard deletes need a snapshot table with a lifecycle and a churn_rate "
            f"(got {raw!r}); allowed: keep"
        )
    return raw


def _parse_group(body: Any, table: TableSpec, where: str) -> ChangeGroup:
    if not isinstance(body, Mapping) or not isinstance(body.get("name"), str):
        raise SpecError(f"{where}: field 'changes': every change group needs a mapping with a name (got {body!r})")
    where = f"{where}, change group '{body['name']}'"
    allowed = ("name", "columns", "rate", "per", "new_value", "step", "description")
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise SpecError(
            f"{where}: field '{unknown[0]}': unknown key (got {unknown[0]!r}); allowed: {', '.join(allowed)}"
        )
    if not re.fullmatch(r"[a-z][a-z0-9_]*", body["name"]):
        raise SpecError(f"{where}: field 'name': must be snake_case (got {body['name']!r}); allowed: [a-z][a-z0-9_]*")
    columns = body.get("columns")
    if not isinstance(columns, list) or not columns or not all(isinstance(c, str) for c in columns):
        raise SpecError(f"{where}: field 'columns': must be a non-empty list of column names (got {columns!r})")
    for name in columns:
        _check_group_column(table, name, where)
    rate = body.get("rate")
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise SpecError(f"{where}: field 'rate': must be a number from 0 to 1 (got {rate!r}); allowed: e.g. 0.12")
    per = body.get("per", "day")
    if per not in CHANGE_PERIODS:
        raise SpecError(f"{where}: field 'per': unknown period (got {per!r}); allowed: {', '.join(CHANGE_PERIODS)}")
    group = ChangeGroup(str(body["name"]), tuple(columns), float(rate), per, body.get("new_value", "redraw"))
    return _check_new_value(group, body, table, where)


def _check_group_column(table: TableSpec, name: str, where: str) -> None:
    if name not in table.column_names:
        raise SpecError(
            f"{where}: field 'columns': unknown column (got {name!r}); allowed: {', '.join(table.column_names)}"
        )
    col = table.column(name)
    if col.kind in FIXED_KINDS or name == table.primary_key:
        raise SpecError(
            f"{where}: field 'columns': column '{name}' is a {col.kind} column, which a group cannot change "
            f"(got {name!r}); allowed: generated attributes (a derived column changes with the columns it reads)"
        )


def _check_new_value(group: ChangeGroup, body: Mapping, table: TableSpec, where: str) -> ChangeGroup:
    """The new-value rule fits the columns: step on numbers or ordered choices, toggle on booleans."""
    if group.new_value not in NEW_VALUES:
        raise SpecError(
            f"{where}: field 'new_value': unknown (got {group.new_value!r}); allowed: {', '.join(NEW_VALUES)}"
        )
    _check_picks(group, table, where)
    columns = [table.column(n) for n in group.columns]
    if group.new_value == "toggle":
        wrong = [c.name for c in columns if c.type != "boolean"]
        if wrong:
            raise SpecError(
                f"{where}: field 'new_value': toggle flips booleans, and '{wrong[0]}' is not one (got 'toggle'); "
                "allowed: redraw, step"
            )
    if group.new_value != "step":
        if "step" in body:
            raise SpecError(f"{where}: field 'step': only with new_value: step (got {body['step']!r})")
        return group
    step = body.get("step")
    for col in columns:
        ordered = col.kind == "choice" and col.type != "boolean"
        if ordered and len(col.params["values"]) < 2:
            raise SpecError(
                f"{where}: field 'step': choice '{col.name}' has one level, no neighbour to move to "
                f"(got {col.params['values']!r}); allowed: choices of two or more values"
            )
        if ordered and step != 1:
            raise SpecError(
                f"{where}: field 'step': an ordered choice '{col.name}' moves one level (got {step!r}); allowed: 1"
            )
        if not ordered and (col.type == "boolean" or not _is_number_column(col)):
            raise SpecError(
                f"{where}: field 'step': column '{col.name}' is not numeric (got type {col.type}); "
                "allowed: numeric columns (a fraction such as 0.05), ordered choices (1 level)"
            )
        numeric = isinstance(step, int | float) and not isinstance(step, bool)
        if not ordered and not (numeric and 0 < step <= 1):
            raise SpecError(
                f"{where}: field 'step': must be a fraction above 0 and at most 1 (got {step!r}); allowed: e.g. 0.05"
            )
    return dataclasses.replace(group, step=float(step))


def _is_number_column(col: ColumnSpec) -> bool:
    return col.type in NUMERIC_TYPES or col.type.startswith("decimal")


def _check_picks(group: ChangeGroup, table: TableSpec, where: str) -> None:
    """Pool columns that read one record (a ``pick``) change together or not at all."""
    for name in group.columns:
        pick = table.column(name).params.get("pick")
        sharing = [c.name for c in table.columns if pick is not None and c.params.get("pick") == pick]
        missing = [n for n in sharing if n not in group.columns]
        if missing:
            raise SpecError(
                f"{where}: field 'columns': '{name}' shares the record pick '{pick}' with '{missing[0]}' "
                f"(got {list(group.columns)!r}); allowed: all of {', '.join(sharing)} in the group"
            )


def affected_columns(table: TableSpec, group: ChangeGroup) -> tuple[str, ...]:
    """The group's columns and every column computed from them (derived SQL, bounds, bases), in table order."""
    changed = set(group.columns)
    for col in table.columns:  # derived columns read earlier ones, so one pass in table order suffices
        if col.name not in changed and _reads(table, col) & changed:
            changed.add(col.name)
    return tuple(c.name for c in table.columns if c.name in changed)


def _reads(table: TableSpec, col: ColumnSpec) -> set[str]:
    from synthgen_spark.catalog import column_dependencies

    names = set(column_dependencies(table, col))
    if col.kind == "derived":
        words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", str(col.params["expression"])))
        names |= words & set(table.column_names)
    return names


def expected_changes(table: TableSpec, population: int) -> dict[str, float]:
    """Expected updates per group on one day for ``population`` active entities (the plan's figure)."""
    return {g.name: population * min(1.0, g.daily_rate) for g in table.changes}


def has_lifecycle(table: TableSpec) -> bool:
    """A snapshot table whose entities sign up on a date (a lifecycle_start column): it can change and has a feed."""
    return table.kind == "snapshot" and any(c.kind == "lifecycle_start" for c in table.columns)


def change_feed_spec(table: TableSpec) -> TableSpec:
    """``{table}_changes``: change_op, the after-image (the snapshot's columns but its date), change_date/ts/seq."""
    from synthgen_spark.catalog import ColumnSpec, TableSpec

    image = tuple(c for c in table.output_columns if c.name != table.primary_date_column)
    columns = (
        ColumnSpec("change_op", "derived", "string", description="insert, update or delete"),
        *image,
        ColumnSpec("change_date", "generation_date", "date", description="the day of the change (the file's date)"),
        ColumnSpec("change_ts", "timestamp", "timestamp", description="when on that day"),
        ColumnSpec("change_seq", "sequence", "long", description="orders every entity's changes over all days"),
    )
    return TableSpec(
        name=changes_table_name(table.name),
        kind="incremental",
        rows=table.rows,
        columns=columns,
        primary_key="change_seq",
        primary_date_column="change_date",
        date_columns=("change_date",),
        description=f"Changes of {table.name}: one row per entity per day it was inserted, updated or deleted.",
        derived_from=table.name,
    )


def history_spec(table: TableSpec) -> TableSpec:
    """``{table}_history``: SCD2 versions (history_key, version, valid_from, valid_to, is_current) + attributes."""
    from synthgen_spark.catalog import ColumnSpec

    image = tuple(c for c in table.output_columns if c.name != table.primary_date_column)
    columns = (
        ColumnSpec("history_key", "sequence", "long", description="unique per version, stable across runs"),
        ColumnSpec("version", "derived", "int", description="1-based per entity"),
        ColumnSpec("valid_from", "derived", "date"),
        ColumnSpec("valid_to", "derived", "date", description="the next version's valid_from; null while open"),
        ColumnSpec("is_current", "derived", "boolean"),
        *image,
        ColumnSpec(table.primary_date_column, "generation_date", "date"),
    )
    return dataclasses.replace(
        table,
        name=history_table_name(table.name),
        columns=columns,
        primary_key="history_key",
        date_columns=("valid_from", "valid_to", table.primary_date_column),
        description=f"SCD type 2 history of {table.name} as of the snapshot date.",
        changes=(),
        derived_from=table.name,
    )
