"""Plan: JobConfig + DatasetSpec + Calendar -> batches of (table, date, rows, id offset, files)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from synthgen_spark.calendar import WEEKDAY_NAMES, Calendar, Volume, snapshot_in_force
from synthgen_spark.catalog import ColumnSpec, DatasetSpec, TableSpec, decimal_precision_scale, is_number, load_dataset
from synthgen_spark.changes import (
    CHANGES_SUFFIX,
    change_feed_spec,
    expected_changes,
    has_lifecycle,
    history_spec,
    progress_feed_spec,
)
from synthgen_spark.config import JobConfig
from synthgen_spark.errors import ConfigError, invalid
from synthgen_spark.faults import FAULTS_TABLE, FaultDay, fault_day, fault_targets, faults_spec
from synthgen_spark.lateness import Lateness
from synthgen_spark.layout import Layout, Target, job_root, layout_for

MAX_ROWS_PER_DAY = 2**31 - 1
# plan warns above this many rows: about a terabyte of Parquet, days of a large cluster (docs/hostile-input.md)
PLAN_WARN_ROWS = 10_000_000_000


@dataclass(frozen=True)
class DayFacts:
    """What every table generated for one date may need to know about the others on that date."""

    date: dt.date
    rows: dict[str, int]
    id_offsets: dict[str, int]
    populations: dict[str, int]
    sweeps: dict[str, int] = field(default_factory=dict)  # a ledger's sweep rows, the last of its ``rows``


@dataclass(frozen=True)
class TableDay:
    """One table on one date: its rows, where its IDs start, and where it goes (files or a table)."""

    table: TableSpec
    date: dt.date
    rows: int
    id_offset: int
    volume: Volume | None
    target: Target
    facts: DayFacts
    partitions: int = 1
    # a table with late arrivals: the rows arriving on ``date``, by event day (docs/lateness.md); () = on time
    segments: tuple[Segment, ...] = ()
    duplicates: int = 0  # rows duplicate_row faults add to the day (docs/faults.md)
    labels_of: tuple[TableDay, ...] = ()  # a _faults day: the table-days whose faults it labels

    @property
    def paths(self) -> tuple[str, ...]:
        """The table-day's files (none where the output is a table)."""
        return self.target.files

    @property
    def written_rows(self) -> int:
        """Rows in the day's files: the generated rows plus their duplicate_row copies."""
        return self.rows + self.duplicates


@dataclass(frozen=True)
class Segment:
    """Rows [start, start + rows) of the event table-day ``source``, written in another table-day's files."""

    source: TableDay
    start: int
    rows: int


@dataclass(frozen=True)
class Batch:
    """Days generated together: one DataFrame per table over all of them."""

    index: int
    dates: tuple[dt.date, ...]
    table_days: tuple[TableDay, ...]

    @property
    def rows(self) -> int:
        return sum(td.written_rows for td in self.table_days)


@dataclass(frozen=True)
class Plan:
    """Everything a run will do, computed without Spark."""

    config: JobConfig
    dataset: DatasetSpec
    calendar: Calendar
    batches: tuple[Batch, ...]

    @property
    def table_days(self) -> list[TableDay]:
        return [td for batch in self.batches for td in batch.table_days]

    @cached_property
    def layout(self) -> Layout:
        return layout_for(self.config)

    @cached_property
    def total_rows(self) -> int:
        return sum(b.rows for b in self.batches)


def by_table(table_days: list[TableDay]) -> dict[str, list[TableDay]]:
    """Table-days grouped per table, in the order tables first appear."""
    groups: dict[str, list[TableDay]] = {}
    for td in table_days:
        groups.setdefault(td.table.name, []).append(td)
    return groups


PSEUDO_FILESYSTEMS = ("/proc", "/sys", "/dev")


def check_output_root(config: JobConfig) -> None:
    """Refuse a local output root no run can write to (a file on the way, a pseudo or read-only file system).

    Only ``file:`` and plain paths are checked here, without Spark; other schemes are checked by the run.
    """
    root = config.output_root
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", root) and not root.lower().startswith("file:"):
        return
    local = Path(re.sub(r"^file:(//)?", "", root, flags=re.IGNORECASE) or "/").absolute()

    def refuse(problem: str) -> None:
        raise ConfigError(
            invalid(
                "output_root",
                "a writable local folder, or a URI such as abfss://... or dbfs:/..",
                root,
                where=config.source,
                problem=problem,
            )
        )

    if any(local.as_posix() == p or local.as_posix().startswith(p + "/") for p in PSEUDO_FILESYSTEMS):
        refuse(f"is under {local.parts[1] and '/' + local.parts[1]}, a system file system")
    for folder in (local, *local.parents):
        if folder.exists():
            if not folder.is_dir():
                refuse(f"{folder} is a file, not a folder")
            if not os.access(folder, os.W_OK | os.X_OK):
                refuse(f"{folder} is not writable")
            return


def build_plan(config: JobConfig, dataset: DatasetSpec | None = None) -> Plan:
    """Plan a run: validate what spans config, dataset and calendar, then lay out batches.

    Raises:
        ConfigError / SpecError: before any Spark work, with the field named.
    """
    dataset = dataset or load_dataset(config.dataset_id, config.dataset_path)
    if config.start_date < dataset.epoch:
        raise ConfigError(
            invalid(
                "start_date",
                f"dates on or after {dataset.epoch.isoformat()}",
                config.start_date.isoformat(),
                where=config.source,
                problem="is before the dataset epoch",
            )
        )
    calendar = Calendar(dataset, config)
    calendar.holiday_name(config.start_date)  # validates holiday_country early
    lateness = Lateness(config, dataset, calendar.rows)
    dataset = lateness.dataset_with_arrival_columns()
    calendar = Calendar(dataset, config)
    snapshot_days = {
        t.name: calendar.snapshot_dates(t, config.start_date, config.end_date)
        for t in dataset.tables
        if t.kind == "snapshot"
    }
    dates = config.dates
    batches = []
    for index, first in enumerate(range(0, len(dates), config.batch_size)):
        batch_dates = tuple(dates[first : first + config.batch_size])
        low = batch_dates[0] if index else dt.date.min
        table_days = []
        for table in dataset.tables:
            if table.kind == "snapshot":
                days = [d for d in snapshot_days[table.name] if low <= d <= batch_dates[-1]]
            else:
                days = list(batch_dates)
            if lateness.policy(table):
                table_days.extend(_arrival_day(config, calendar, lateness, table, day) for day in days)
            else:
                table_days.extend(table_day(config, calendar, table, day) for day in days)
            table_days.extend(_derived_table_days(config, calendar, table, batch_dates, days))
        if config.fault_rate:
            table_days = with_faults(config, dataset, table_days, batch_dates)
        batches.append(Batch(index, batch_dates, tuple(table_days)))
    plan = Plan(config, dataset, calendar, tuple(batches))
    check_drift_fits(plan)
    return plan


def drift_factor(config: JobConfig, dataset: DatasetSpec, day: dt.date) -> float:
    """The engine's drift multiplier: (1 + drift_percentage/100) ** (days since the epoch / 30)."""
    return (1 + config.drift_percentage / 100) ** ((day - dataset.epoch).days / 30)


def _type_limit(type_name: str) -> float | None:
    """The largest absolute value a numeric catalog type holds after rounding (None: no practical limit)."""
    decimal = decimal_precision_scale(type_name)
    if decimal:
        precision, scale = decimal
        return 10 ** (precision - scale) - 0.5 * 10**-scale
    return {"int": 2**31 - 1, "long": 2**63 - 1}.get(type_name)


def _type_max_text(type_name: str) -> str:
    decimal = decimal_precision_scale(type_name)
    if decimal:
        precision, scale = decimal
        return "9" * (precision - scale) + ("." + "9" * scale if scale else "")
    return str(_type_limit(type_name))


def value_bound(dataset: DatasetSpec, table: TableSpec, col: ColumnSpec) -> float | None:
    """The largest absolute value a column makes before its own drift, where the spec bounds it, else None.

    Known: numeric uniform bounds (or the columns they name), normal/lognormal with min and max, numeric
    fields of the dataset's pools, and lookups of such columns.
    """
    p = col.params
    if col.kind in ("uniform", "normal", "lognormal") and "min" in p and "max" in p:
        ends = [p[k] if is_number(p[k]) else value_bound(dataset, table, table.column(p[k])) for k in ("min", "max")]
        return None if None in ends else max(abs(e) for e in ends)
    if col.kind == "pool" and p["pool"] in dataset.pools:
        pool = dataset.pools[p["pool"]]
        values = [r[pool.fields.index(p.get("field", pool.fields[0]))] for r in pool.records]
        return max(abs(v) for v in values) if values and all(is_number(v) for v in values) else None
    if col.kind == "lookup":
        target_table, target_column = p["references"].split(".")
        target = dataset.table(target_table)
        bound = value_bound(dataset, target, target.column(target_column))
        return None if bound is None or target.column(target_column).drift else bound
    return None


def check_drift_fits(plan: Plan) -> None:
    """Refuse a plan whose drift would push a drifted column past its type (the run would fail mid-way).

    Raises:
        ConfigError: naming the column, its bound, and the first date whose values would not fit.
    """
    config, dataset = plan.config, plan.dataset
    if not config.enable_data_drift or config.drift_percentage <= 0:
        return
    last_day = {td.table.name: td.date for td in sorted(plan.table_days, key=lambda td: td.date)}
    for table in dataset.tables:
        for col in table.columns:
            lookup_of_drift = col.kind == "lookup" and _drifted_target(dataset, col)
            if table.name not in last_day or not (col.drift or lookup_of_drift):
                continue
            limit, source = _type_limit(col.type), lookup_of_drift or col
            bound = value_bound(dataset, dataset.table(_table_of(table, col)), source)
            if limit is None or bound is None or bound * drift_factor(config, dataset, last_day[table.name]) <= limit:
                continue
            growth = 1 + config.drift_percentage / 100
            first = dataset.epoch + dt.timedelta(days=max(0, math.floor(30 * math.log(limit / bound, growth))))
            while bound * drift_factor(config, dataset, first) <= limit:
                first += dt.timedelta(days=1)
            raise ConfigError(
                invalid(
                    "drift_percentage",
                    f"an end_date before {first.isoformat()}, a smaller drift_percentage, or a wider type in the dataset",
                    config.drift_percentage,
                    where=config.source,
                    problem=f"table '{table.name}', column '{col.name}' ({col.type}, values up to {bound:g}) would exceed "
                    f"{_type_max_text(col.type)} from {first.isoformat()} with drift {config.drift_percentage:g}% per 30 days",
                )
            )


def _drifted_target(dataset: DatasetSpec, col: ColumnSpec) -> ColumnSpec | None:
    target_table, target_column = col.params["references"].split(".")
    target = dataset.table(target_table).column(target_column)
    return target if target.drift else None


def _table_of(table: TableSpec, col: ColumnSpec) -> str:
    return col.params["references"].split(".")[0] if col.kind == "lookup" and "references" in col.params else table.name


def _derived_table_days(
    config: JobConfig, calendar: Calendar, table: TableSpec, dates: tuple[dt.date, ...], snapshot_days: list[dt.date]
) -> list[TableDay]:
    """The change feed (every day) and the SCD2 history (the table's snapshot days) of a table with a lifecycle.

    Their rows are the entities scanned (the population): the frames keep the changed ones, or the versions.
    """
    if table.progress is not None and config.change_feed and config.fact_states == "as_of":
        return [_progress_day(config, calendar, table, day) for day in dates]
    if not has_lifecycle(table):
        return []
    derived = [(change_feed_spec(table), list(dates))] if config.change_feed else []
    derived += [(history_spec(table), snapshot_days)] if config.history else []
    return [table_day(config, calendar, spec, day, rows_of=table) for spec, days in derived for day in days]


def progress_events(calendar: Calendar, table: TableSpec, day: dt.date) -> list[dt.date]:
    """The event days whose rows a progress feed's ``day`` scans: the ``max_days`` before it (from the epoch)."""
    max_days = table.progress.max_days if table.progress else 0
    events = [day - dt.timedelta(days=k) for k in range(max_days, 0, -1)]
    return [event for event in events if event >= calendar.dataset.epoch]


def _progress_day(config: JobConfig, calendar: Calendar, table: TableSpec, day: dt.date) -> TableDay:
    """A progress feed's day: it scans the fact's rows of the ``max_days`` event days before it (one segment each)."""
    segments = tuple(
        Segment(table_day(config, calendar, table, event), 0, calendar.rows(table, event))
        for event in progress_events(calendar, table, day)
    )
    feed = table_day(config, calendar, progress_feed_spec(table), day, rows_of=table)
    return dataclasses.replace(feed, rows=sum(s.rows for s in segments), segments=segments)


def table_day(
    config: JobConfig, calendar: Calendar, table: TableSpec, day: dt.date, rows_of: TableSpec | None = None
) -> TableDay:
    """One table on one day, as a plan holds it (``rows_of``: the table whose rows a derived table scans)."""
    dataset = calendar.dataset
    rows = calendar.rows(rows_of or table, day)
    if rows > MAX_ROWS_PER_DAY:
        raise ConfigError(
            invalid(
                "scale_factor",
                f"at most {MAX_ROWS_PER_DAY} rows per table per day",
                config.scale_factor,
                where=config.source,
                problem=f"table '{table.name}' would get {rows} rows on {day}",
            )
        )
    parts = math.ceil(rows / config.chunk_size) if config.chunk_size and not rows_of else 1
    facts = DayFacts(
        date=day,
        rows={t.name: calendar.rows(t, day) for t in dataset.tables if t.kind == "incremental"},
        id_offsets={t.name: calendar.id_offset(t, day) for t in dataset.tables if t.kind == "incremental"},
        sweeps={t.name: calendar.sweeps(t, day) for t in dataset.tables if t.kind == "incremental"},
        # foreign keys pick among the entities of the snapshot in force on the day
        populations={
            t.name: calendar.population(t, snapshot_in_force(t.frequency, day, dataset.epoch))
            for t in dataset.tables
            if t.kind == "snapshot"
        },
    )
    incremental = table.kind == "incremental" and not rows_of
    return TableDay(
        table=table,
        date=day,
        rows=rows,
        id_offset=calendar.id_offset(table, day) if incremental else 0,
        volume=calendar.volume(table, day) if incremental else None,
        target=layout_for(config).target(table.name, day, parts),
        facts=facts,
        partitions=parts,
    )


def expected_operations(plan: Plan, feed: TableSpec, day: dt.date, scanned: int) -> dict[str, float]:
    """A change-feed day's expected rows by operation: inserts (exact), updates per group, churn.

    ``scanned`` (the entities the day's frame scans) bounds the updates: churned entities do not change.
    """
    base = plan.dataset.table(feed.derived_from)
    if base.progress is not None:  # a fact's steps: at most one update per row scanned (rows of max_days days)
        return {"update progress": float(scanned)}
    population = plan.calendar.population
    operations: dict[str, float] = {"insert": population(base, day) - population(base, day - dt.timedelta(1))}
    operations.update({f"update {name}": n for name, n in expected_changes(base, scanned).items()})
    operations["delete" if base.churn == "delete" else "update churn"] = scanned * base.lifecycle.churn_rate
    return operations


def _arrival_day(config: JobConfig, calendar: Calendar, lateness: Lateness, table: TableSpec, day: dt.date) -> TableDay:
    """A late table's day: the rows arriving on it (late rows of earlier event days, then its on-time rows)."""
    segments = tuple(
        Segment(table_day(config, calendar, table, event), start, rows)
        for event, start, rows in lateness.arrivals(table, day)
    )
    on_time = table_day(config, calendar, table, day)
    rows = sum(s.rows for s in segments)
    parts = math.ceil(rows / config.chunk_size) if config.chunk_size else 1
    target = layout_for(config).target(table.name, day, parts)
    return dataclasses.replace(on_time, rows=rows, target=target, partitions=parts, segments=segments)


def table_day_faults(config: JobConfig, dataset: DatasetSpec, td: TableDay) -> FaultDay:
    """The data-quality faults of a table-day (none when fault_rate is 0 or the table gets none)."""
    types = tuple(fault_targets(config, dataset, td.table)) if config.fault_rate else ()
    return fault_day(config, td.table.name, td.date, td.rows, types)


def with_faults(
    config: JobConfig, dataset: DatasetSpec, table_days: list[TableDay], dates: tuple[dt.date, ...]
) -> list[TableDay]:
    """Table-days with their duplicate_row copies counted, plus the ``_faults`` labels of every date in them."""
    labelled: dict[dt.date, list[tuple[TableDay, int]]] = {
        d: [] for d in sorted({*dates, *(t.date for t in table_days)})
    }
    counted = []
    for td in table_days:
        faults = table_day_faults(config, dataset, td)
        labelled[td.date] += [(td, faults.faulted)] if faults.faulted else []
        counted.append(dataclasses.replace(td, duplicates=faults.duplicates))
    spec = faults_spec()
    for day, sources in labelled.items():
        target = layout_for(config).target(spec.name, day, 1)
        rows = sum(faulted for _, faulted in sources)
        facts = DayFacts(day, {}, {}, {})
        counted.append(TableDay(spec, day, rows, 0, None, target, facts, labels_of=tuple(td for td, _ in sources)))
    return counted


def describe_derived_day(plan: Plan, td: TableDay) -> str:
    """Expected changes of a feed day (from the rates), or what a history day holds; rows = entities scanned."""
    base = plan.dataset.table(td.table.derived_from)
    if not td.table.name.endswith(CHANGES_SUFFIX):
        return f"SCD2 history of {base.name}: every version begun by the day, of {td.rows:,} entities"
    if base.progress is not None:
        return (
            f"status steps of {base.name}: updates <= {td.rows:,} (its rows of the {base.progress.max_days} days "
            "before, scanned for a step on the day)"
        )
    operations = expected_operations(plan, td.table, td.date, td.rows)
    inserts = operations.pop("insert")
    churn = operations.pop("delete" if base.churn == "delete" else "update churn")
    updates = ", ".join(f"{name.removeprefix('update ')} {n:.1f}" for name, n in operations.items())
    return (
        f"change feed of {base.name}: expected inserts {inserts}, updates <= {updates or 'none'}, "
        f"churn <= {churn:.1f} (rates x {td.rows:,} entities scanned)"
    )


def describe_arrivals(td: TableDay) -> list[str]:
    """A late table's day: its on-time rows and its late rows by event day (none for an on-time table)."""
    if not td.segments:
        return []
    on_time = sum(s.rows for s in td.segments if s.source.date == td.date)
    late = [
        f"{s.source.date} +{(td.date - s.source.date).days}d: {s.rows:,}"
        for s in td.segments
        if s.source.date != td.date
    ]
    return [f"arrivals: on time {on_time:,}, late {td.rows - on_time:,}" + (f" ({', '.join(late)})" if late else "")]


def describe_plan(plan: Plan) -> str:
    """The plan as text: the volume formula, per-day rows per table with factors, batches and files."""
    config, calendar = plan.config, plan.calendar
    multipliers = " ".join(f"{name} {m:g}" for name, m in zip(WEEKDAY_NAMES, calendar.weekday_multipliers, strict=True))
    lines = [
        f"plan: dataset {config.dataset_id}, job {config.job_name}, seed {config.seed_value}, "
        f"{config.start_date}..{config.end_date} ({len(config.dates)} days), {len(plan.batches)} batches of "
        f"{config.batch_size} day(s), {config.output_mode} {config.path_format}",
        "rows(table, d) = round(base_rows x scale_factor x weekday(d) x holiday(d) x month(d) x noise(d) x population(d)), "
        "at least 1",
        f"weekday multipliers: {multipliers}" + ("" if config.enable_seasonal_patterns else " (seasonal patterns off)"),
        f"holidays: {config.holiday_country}; output root: {job_root(config)}",
        "",
        f"{'date':<11} {'day':<4} {'table':<16} {'rows':>11}  factors / files",
    ]
    for batch in plan.batches:
        lines.append(f"-- batch {batch.index + 1}: {batch.dates[0]}..{batch.dates[-1]}, {batch.rows:,} rows")
        for td in batch.table_days:
            if td.volume is not None:
                v = td.volume
                _, holiday = calendar.holiday_factor(
                    td.table.parent and plan.dataset.table(td.table.parent) or td.table, td.date
                )
                factors = f"{v.base_rows} x {v.scale_factor:g} x {v.weekday:g} x {v.holiday:g}"
                factors += f" x month {v.month:g}" if v.month != 1 else ""
                factors += f" x noise {v.noise:.4f}" if v.noise != 1 else ""
                factors += f" x population {v.population:.4f}" if v.population != 1 else ""
                factors += f" + {v.sweeps:,} sweeps" if v.sweeps else ""
                factors += f" (holiday: {holiday})" if holiday else ""
            elif td.table.derived_from:
                factors = describe_derived_day(plan, td)
            elif td.table.name == FAULTS_TABLE:
                factors = f"fault labels: one row per fault in the day's files (fault_rate {config.fault_rate:g})"
            else:
                life = td.table.lifecycle
                base = calendar.base_population(td.table)
                factors = (
                    f"snapshot ({td.table.frequency}): population {base} + {td.rows - base} signed up since the epoch"
                )
                factors += "" if td.table.scaled else " (not scaled)"
                factors += (
                    f" (growth {life.growth_rate:g}/{life.growth_period}, churn {life.churn_rate:g}/day)"
                    if life.growth_rate or life.churn_rate
                    else ""
                )
            faults = table_day_faults(config, plan.dataset, td) if config.fault_rate else None
            if faults and faults.faulted:
                factors += (
                    f"; {faults.faulted} faulted rows ({', '.join(f'{t} {n}' for t, n in faults.counts.items())})"
                )
            lines.append(
                f"{td.date!s:<11} {WEEKDAY_NAMES[td.date.weekday()]:<4} {td.table.name:<16} {td.rows:>11,}  {factors}"
            )
            lines.extend(f"{'':<46}{line}" for line in describe_arrivals(td))
            lines.extend(f"{'':<46}-> {place}" for place in td.target.places)
    lines.append(f"total rows: {plan.total_rows:,}")
    return "\n".join(lines)


def size_warning(plan: Plan) -> str:
    """One line when a plan is over PLAN_WARN_ROWS rows (a typo in scale_factor or the dates, usually)."""
    return (
        f"warning: this plan makes {plan.total_rows:,} rows, over {PLAN_WARN_ROWS:,}; check scale_factor "
        f"({plan.config.scale_factor:g}) and the dates ({len(plan.config.dates)} days)"
    )
