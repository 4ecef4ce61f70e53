"""Entities that change: change groups of snapshot tables, their O(1) schedule, and the derived tables.

A change group is a set of columns of a snapshot table with a lifecycle that change together at a
declared rate (per entity per day, week, month or year). Its **version** for entity e on day d is a
pure function of (seed, table, group, e, d), computed in O(1) (see ``version_count``):

    f = the daily rate; time is counted in days since 1970, cut into periods of 1/f days
    in period k every entity has one event, at time (k + j_k) / f: it takes effect on day floor((k + j_k) / f)
    j_k = frac(phi + k alpha): the entity's phase phi moved by a golden-ratio step alpha per period
    phi = (pi(x) + 1/2) / M: pi = x -> (a x + c) mod M places the M = 2**20 entities of a block (e = block M + x)
        in [0, 1); a is an odd constant of the group, c comes from one hash of (seed, table, group, block)
    N(t) = events on or before day t = K + [j_K < Y - K], Y = (t + 1) f, K = floor(Y)
    version(d) = N(last) - N(signup), last = min(d, churn - 1): the events after signup, by d (0 if none)

On any day an active entity changes with probability f; the gaps between its changes are 1.618/f or
0.618/f (as the step alpha wraps or not), mean 1/f. Because pi can be inverted, the entities that change
on a day are enumerable: the preimage of an interval of phases (``changers``), so a change feed costs
O(changes), not a scan of every entity.
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

from synthgen_spark.errors import SpecError, invalid
from synthgen_spark.seeds import seed_of, spark_xxhash64

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
    "propensity_class",
    "segment",
    "generation_date",
    "child_count",
    "child_sum",
    "derived",
    "foreign_key",
    "lookup",
    "version_key",
    "balance",
    "sweep_row",
    "sweep_amount",
)
CHANGES_SUFFIX = "_changes"
HISTORY_SUFFIX = "_history"


@dataclass(frozen=True)
class Progress:
    """A fact's status lifecycle: the state on a day is the last step whose date column is on or before it.

    Example (YAML, on an incremental table)::

        progress:
          status: status
          initial: PENDING
          steps: {PAID: paid_date, SHIPPED: shipped_date, DELIVERED: delivered_date, CANCELLED: cancelled_date}
          max_days: 10
    """

    status: str
    initial: str
    steps: tuple[tuple[str, str], ...]  # (state, the date column of the day the row reaches it), in order
    max_days: int  # every step date lies within max_days after the row's event date

    @property
    def step_columns(self) -> tuple[str, ...]:
        return tuple(column for _, column in self.steps)


@dataclass(frozen=True)
class ChangeGroup:
    """Columns that change together, ``rate`` times per entity per ``per``, to a ``new_value``.

    Example (YAML, under a snapshot table's ``changes``)::

        - {name: price, columns: [price], rate: 0.01, per: week, new_value: step, step: 0.05}
        - {name: insurance, columns: [coverage], rate: 0.08, per: year, at_age: {column: birth_date, years: 65}}
    """

    name: str
    columns: tuple[str, ...]
    rate: float
    per: str = "day"
    new_value: str = "redraw"
    step: float = 0.0
    at_age: tuple[str, int] | None = None  # (a fixed date column, years): one more version on that birthday

    @property
    def daily_rate(self) -> float:
        """Changes per entity per day (the ``f`` of the schedule)."""
        return self.rate / CHANGE_PERIODS[self.per]


PERIOD_BITS = 20
PERIOD_BLOCK = 1 << PERIOD_BITS  # M: entities per block of a group's arrangement
PERIOD_SHIFT = 0.6180339887498949  # alpha: period k moves every phase by k alpha (mod 1), a golden-ratio step


def group_multiplier(seed: int) -> int:
    """a: the odd multiplier of a group's arrangement x -> (a x + c_block) mod M (a constant of the group)."""
    return (seed_of(seed, "multiplier") & (PERIOD_BLOCK - 1)) | 1


def block_offset(seed: int, block: int) -> int:
    """c: the offset of ``block`` in a group's arrangement, from one hash as the Spark side computes it."""
    return spark_xxhash64(block ^ seed) & (PERIOD_BLOCK - 1)


def entity_phase(seed: int, entity: int) -> float:
    """phi of ``entity``: (pi(x) + 1/2) / M, pi = x -> (a x + c_block) mod M, uniform over [0, 1) in a block."""
    placed = (group_multiplier(seed) * (entity & (PERIOD_BLOCK - 1)) + block_offset(seed, entity >> PERIOD_BITS)) & (
        PERIOD_BLOCK - 1
    )
    return (placed + 0.5) * (1.0 / PERIOD_BLOCK)


def period_jitter(seed: int, entity: int, k: int) -> float:
    """j of ``entity`` in period ``k``: frac(phi + k alpha)."""
    moved = entity_phase(seed, entity) + float(k) * PERIOD_SHIFT
    return moved - math.floor(moved)


def events_by(day: int, daily_rate: float, jitter: Callable[[int], float]) -> int:
    """N(day): events on or before ``day`` (an ordinal), ``jitter(k)`` = j in period k: K + [j_K < Y - K]."""
    if daily_rate <= 0:
        return 0
    y = float(day + 1) * daily_rate
    k = math.floor(y)
    return k + (1 if jitter(k) < y - k else 0)


def event_day(k: int, daily_rate: float, jitter: Callable[[int], float]) -> int:
    """The day (ordinal) on which the event of period ``k`` takes effect: floor((k + j_k) / f)."""
    return math.floor((k + jitter(k)) / daily_rate)


def version_count(start: int, last: int, daily_rate: float, jitter: Callable[[int], float]) -> int:
    """The version on a day whose last day of change is ``last`` (the day, or the eve of churn), for an
    entity signed up on ``start``: its events in (start, last], O(1)."""
    return max(0, events_by(last, daily_rate, jitter) - events_by(start, daily_rate, jitter))


def changers(seed: int, daily_rate: float, day: int, population: int) -> list[tuple[int, int, int, int, int, int]]:
    """Where the entities with an event on ``day`` sit: (block, k, first v, v count, a^-1, c) per block, period
    and interval of pi's values (a little wider than exact: the Spark side checks every row).

    Entity e = block M + x has its period-k event on the day iff j = frac(phi + k alpha) lies in
    [day f - k, (day + 1) f - k): phi in that interval less k alpha (mod 1, one or two intervals), v = pi(x) in
    the matching interval of values, and x = a^-1 (v - c) mod M.
    """
    if daily_rate <= 0:
        return []
    found = []
    inverse = pow(group_multiplier(seed), -1, PERIOD_BLOCK)
    low, high = float(day) * daily_rate, float(day + 1) * daily_rate
    for k in range(max(0, math.floor(low) - 1), math.floor(high) + 1):
        first_j, end_j = max(0.0, low - k), min(1.0, high - k)
        if first_j >= end_j:
            continue
        shift = float(k) * PERIOD_SHIFT - math.floor(float(k) * PERIOD_SHIFT)
        start = first_j - shift
        for phase_low, phase_high in ((start, start + end_j - first_j), (start + 1, start + 1 + end_j - first_j)):
            first = max(0, math.floor(phase_low * PERIOD_BLOCK - 0.5) - 1)
            end = min(PERIOD_BLOCK, math.ceil(phase_high * PERIOD_BLOCK - 0.5) + 1)
            if first >= end:
                continue
            for block in range(-(-population // PERIOD_BLOCK)):
                found.append((block, k, first, end - first, inverse, block_offset(seed, block)))
    return found


def changes_table_name(table: str) -> str:
    return table + CHANGES_SUFFIX


def history_table_name(table: str) -> str:
    return table + HISTORY_SUFFIX


def parse_change_groups(raw: Any, table: TableSpec, where: str) -> tuple[ChangeGroup, ...]:
    """Parse and validate a snapshot table's ``changes`` list (one-line SpecError naming group and field)."""
    if raw in (None, []):
        return ()
    if not isinstance(raw, list):
        raise SpecError(invalid("changes", "a list of change groups", raw, where=where, problem="must be a list"))
    if not has_lifecycle(table):
        raise SpecError(
            invalid(
                "changes",
                "snapshot tables with a lifecycle_start column",
                f"kind {table.kind}",
                where=where,
                problem="change groups need a snapshot table with a lifecycle",
            )
        )
    groups: list[ChangeGroup] = []
    for body in raw:
        group = _parse_group(body, table, where)
        if group.name in {g.name for g in groups}:
            raise SpecError(invalid("name", "a name per group", group.name, where=_in_group(where, group.name)))
        taken = {c: g.name for g in groups for c in g.columns}
        for name in group.columns:
            if name in taken:
                raise SpecError(
                    invalid(
                        "columns",
                        "each column in at most one group",
                        list(group.columns),
                        where=_in_group(where, group.name),
                        problem=f"column '{name}' is already in group '{taken[name]}'",
                    )
                )
        groups.append(group)
    changing = {c: g.name for g in groups for c in g.columns}
    for group in groups:
        moved = group.at_age and _date_chain(table, group.at_age[0]) & changing.keys()
        if moved:
            name = sorted(moved)[0]
            raise SpecError(
                invalid(
                    "at_age",
                    "a date column no change group moves",
                    group.at_age[0],
                    where=_in_group(where, group.name),
                    problem=f"'{group.at_age[0]}' moves with column '{name}' of group '{changing[name]}'",
                )
            )
    return tuple(groups)


def _date_chain(table: TableSpec, column: str) -> set[str]:
    """``column`` and the date columns it is based on (a birth date based on the registration date)."""
    chain = set()
    while column in table.column_names and column not in chain:
        chain.add(column)
        column = table.column(column).params.get("base", "")
    return chain


def _in_group(where: str, name: str) -> str:
    return f"{where}, change group '{name}'"


def parse_churn(raw: Any, table: TableSpec, where: str) -> str:
    """``keep`` (churned entities stay, with their status) or ``delete`` (they leave the snapshots: hard deletes)."""
    if raw not in ("keep", "delete"):
        raise SpecError(invalid("churn", "keep, delete", raw, where=where, problem="unknown"))
    if raw == "delete" and not (has_lifecycle(table) and table.lifecycle.churn_rate > 0):
        raise SpecError(
            invalid(
                "churn",
                "keep",
                raw,
                where=where,
                problem="hard deletes need a snapshot table with a lifecycle and a churn_rate",
            )
        )
    return raw


def _parse_group(body: Any, table: TableSpec, where: str) -> ChangeGroup:
    if not isinstance(body, Mapping) or not isinstance(body.get("name"), str):
        raise SpecError(
            invalid("changes", "mappings with a name", body, where=where, problem="every change group needs a name")
        )
    where = _in_group(where, body["name"])
    allowed = ("name", "columns", "rate", "per", "new_value", "step", "at_age", "description")
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise SpecError(invalid(unknown[0], ", ".join(allowed), unknown[0], where=where, problem="unknown key"))
    if not re.fullmatch(r"[a-z][a-z0-9_]*", body["name"]):
        raise SpecError(invalid("name", "[a-z][a-z0-9_]*", body["name"], where=where, problem="must be snake_case"))
    columns = body.get("columns")
    if not isinstance(columns, list) or not columns or not all(isinstance(c, str) for c in columns):
        raise SpecError(
            invalid("columns", "a non-empty list of column names", columns, where=where, problem="must be a list")
        )
    for name in columns:
        _check_group_column(table, name, where)
    rate = body.get("rate")
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise SpecError(invalid("rate", "a number from 0 to 1, e.g. 0.12", rate, where=where, problem="out of range"))
    per = body.get("per", "day")
    if per not in CHANGE_PERIODS:
        raise SpecError(invalid("per", ", ".join(CHANGE_PERIODS), per, where=where, problem="unknown period"))
    group = ChangeGroup(str(body["name"]), tuple(columns), float(rate), per, body.get("new_value", "redraw"))
    if "at_age" in body:
        group = dataclasses.replace(group, at_age=_parse_at_age(body["at_age"], table, where))
    return _check_new_value(group, body, table, where)


MAX_AGE_YEARS = 150


def _parse_at_age(raw: Any, table: TableSpec, where: str) -> tuple[str, int]:
    """``at_age: {column, years}``: a date column that never changes (a birth date) and whole years after it."""
    allowed = f"{{column: a date column of the table, years: 1 to {MAX_AGE_YEARS}}}"
    if not isinstance(raw, Mapping) or set(raw) != {"column", "years"}:
        raise SpecError(invalid("at_age", allowed, raw, where=where, problem="needs exactly column and years"))
    column, years = raw["column"], raw["years"]
    if isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= MAX_AGE_YEARS:
        raise SpecError(invalid("at_age", allowed, years, where=where, problem="years must be a whole number in range"))
    chain = [table.column(name) for name in _date_chain(table, column)]  # the column and the dates it is based on
    fixed = chain and all(
        c.kind == "lifecycle_start"
        or (c.kind == "date_offset" and c.params.get("base", "generation_date") != "generation_date")
        for c in chain
    )
    if not fixed or table.column(column).type != "date":
        problem = f"'{column}' is not a date_offset or lifecycle_start date column that stays fixed"
        raise SpecError(invalid("at_age", allowed, column, where=where, problem=problem))
    return str(column), years


def _check_group_column(table: TableSpec, name: str, where: str) -> None:
    if name not in table.column_names:
        raise SpecError(invalid("columns", ", ".join(table.column_names), name, where=where, problem="unknown column"))
    col = table.column(name)
    if col.kind in FIXED_KINDS or name == table.primary_key:
        raise SpecError(
            invalid(
                "columns",
                "generated attributes (a derived column changes with the columns it reads)",
                name,
                where=where,
                problem=f"column '{name}' is a {col.kind} column, which a group cannot change",
            )
        )


def _check_new_value(group: ChangeGroup, body: Mapping, table: TableSpec, where: str) -> ChangeGroup:
    """The new-value rule fits the columns: step on numbers or ordered choices, toggle on booleans."""
    if group.new_value not in NEW_VALUES:
        raise SpecError(invalid("new_value", ", ".join(NEW_VALUES), group.new_value, where=where, problem="unknown"))
    _check_picks(group, table, where)
    columns = [table.column(n) for n in group.columns]
    if group.new_value == "toggle":
        wrong = [c.name for c in columns if c.type != "boolean"]
        if wrong:
            problem = f"toggle flips booleans, and '{wrong[0]}' is not one"
            raise SpecError(invalid("new_value", "redraw, step", "toggle", where=where, problem=problem))
    if group.new_value != "step":
        if "step" in body:
            raise SpecError(invalid("step", "no step", body["step"], where=where, problem="only with new_value: step"))
        return group
    step = body.get("step")
    for col in columns:
        _check_step(col, step, where)
    return dataclasses.replace(group, step=float(step))


def _check_step(col: ColumnSpec, step: Any, where: str) -> None:
    """A step fits its column: 1 level on an ordered choice of two or more, a fraction in (0, 1] on a number."""
    ordered = col.kind == "choice" and col.type != "boolean"
    if ordered and len(col.params["values"]) < 2:
        problem = f"choice '{col.name}' has one level, no neighbour to move to"
        raise SpecError(
            invalid("step", "choices of two or more values", col.params["values"], where=where, problem=problem)
        )
    if ordered and step != 1:
        problem = f"an ordered choice '{col.name}' moves one level"
        raise SpecError(invalid("step", "1", step, where=where, problem=problem))
    if not ordered and (col.type == "boolean" or not _is_number_column(col)):
        raise SpecError(
            invalid(
                "step",
                "numeric columns (a fraction such as 0.05), ordered choices (1 level)",
                f"type {col.type}",
                where=where,
                problem=f"column '{col.name}' is not numeric",
            )
        )
    numeric = isinstance(step, int | float) and not isinstance(step, bool)
    if not ordered and not (numeric and 0 < step <= 1):
        problem = "must be a fraction above 0 and at most 1"
        raise SpecError(invalid("step", "e.g. 0.05", step, where=where, problem=problem))


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
                invalid(
                    "columns",
                    f"all of {', '.join(sharing)} in the group",
                    list(group.columns),
                    where=where,
                    problem=f"'{name}' shares the record pick '{pick}' with '{missing[0]}'",
                )
            )


def as_of(progress: Progress, day: str) -> dict[str, str]:
    """SQL of the progress columns as of ``day`` (a SQL date): the last step reached by then, later dates null."""
    reached = " ".join(f"WHEN `{column}` <= {day} THEN {_quoted(state)}" for state, column in reversed(progress.steps))
    columns = {column: f"CASE WHEN `{column}` <= {day} THEN `{column}` END" for column in progress.step_columns}
    columns[progress.status] = f"CASE {reached} ELSE {_quoted(progress.initial)} END"
    return columns


def _quoted(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


PROGRESS_KEYS = ("status", "initial", "steps", "max_days")


def parse_progress(raw: Any, table: TableSpec, where: str) -> Progress | None:
    """Parse an incremental table's ``progress`` (its status lifecycle): one-line SpecError naming the field."""
    if raw is None:
        return None
    where = f"{where}, progress"
    if table.kind != "incremental" or not isinstance(raw, Mapping):
        problem = "a status lifecycle is a mapping on an incremental table"
        raise SpecError(invalid("progress", ", ".join(PROGRESS_KEYS), raw, where=where, problem=problem))
    unknown = sorted(set(raw) - set(PROGRESS_KEYS)) or [k for k in PROGRESS_KEYS if k not in raw]
    if unknown:
        raise SpecError(
            invalid(unknown[0], ", ".join(PROGRESS_KEYS), sorted(raw), where=where, problem="unknown or missing")
        )
    status, steps, days = raw["status"], raw["steps"], raw["max_days"]
    strings = [c.name for c in table.columns if c.type == "string" and c.name != table.primary_key]
    if status not in strings:
        raise SpecError(invalid("status", ", ".join(strings), status, where=where, problem="not a string column"))
    if not isinstance(steps, Mapping) or not steps:
        raise SpecError(
            invalid("steps", "a mapping of state: date column", steps, where=where, problem="must be a mapping")
        )
    dates = [c.name for c in table.columns if c.type == "date" and c.name != table.primary_date_column]
    for state, column in steps.items():
        if column not in dates or not isinstance(state, str):
            problem = f"state {state!r} needs a date column of the table"
            raise SpecError(invalid("steps", ", ".join(dates) or "none", column, where=where, problem=problem))
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 366:
        raise SpecError(invalid("max_days", "integers from 1 to 366", days, where=where, problem="out of range"))
    progress = Progress(str(status), str(raw["initial"]), tuple((str(k), str(v)) for k, v in steps.items()), days)
    _check_read_as_of(table, progress, where)
    return progress


def _check_read_as_of(table: TableSpec, progress: Progress, where: str) -> None:
    """Only the status and step columns are shown as of a day: no other output column may be computed from them."""
    shown = {progress.status, *progress.step_columns}
    reading = set(shown)
    for col in table.columns:  # derived columns read earlier ones, so one pass in table order suffices
        if _reads(table, col) & reading:
            reading.add(col.name)
    stale = [c.name for c in table.output_columns if c.name in reading - shown]
    if stale:
        problem = f"column '{stale[0]}' is computed from the status or a step date and would show its final value"
        raise SpecError(
            invalid("steps", "the columns computed from the status as steps", stale[0], where=where, problem=problem)
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
    image = tuple(c for c in table.output_columns if c.name != table.primary_date_column)
    return _feed_spec(
        table,
        image,
        ("insert, update or delete", "the day of the change (the file's date)", "every entity's changes"),
        f"Changes of {table.name}: one row per entity per day it was inserted, updated or deleted.",
    )


def progress_feed_spec(table: TableSpec) -> TableSpec:
    """``{table}_changes`` of a fact that progresses: change_op (update), the row as of the step day, change_*.

    The image is every output column of the fact (its event date included) but a late table's arrival date.
    """
    image = tuple(c for c in table.output_columns if c.kind != "arrival_date")
    return _feed_spec(
        table,
        image,
        ("update: the row reached a later step", "the day of the step (the file's date)", "every row's changes"),
        f"Status steps of {table.name}: one row per row and day it reached a later step, as of that day.",
    )


def _feed_spec(table: TableSpec, image: tuple, notes: tuple[str, str, str], description: str) -> TableSpec:
    """A change feed's table: change_op, the image columns, change_date, change_ts, change_seq (its key)."""
    from synthgen_spark.catalog import ColumnSpec, TableSpec

    op, day, seq = notes
    columns = (
        ColumnSpec("change_op", "derived", "string", description=op),
        *image,
        ColumnSpec("change_date", "generation_date", "date", description=day),
        ColumnSpec("change_ts", "timestamp", "timestamp", description="when on that day"),
        ColumnSpec("change_seq", "sequence", "long", description=f"orders {seq} over all days"),
    )
    return TableSpec(
        name=changes_table_name(table.name),
        kind="incremental",
        rows=table.rows,
        columns=columns,
        primary_key="change_seq",
        primary_date_column="change_date",
        date_columns=("change_date",),
        description=description,
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
