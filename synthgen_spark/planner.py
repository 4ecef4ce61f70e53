"""Plan: JobConfig + DatasetSpec + Calendar -> batches of (table, date, rows, id offset, files)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import cached_property

from synthgen_spark.calendar import WEEKDAY_NAMES, Calendar, Volume, snapshot_in_force
from synthgen_spark.catalog import DatasetSpec, TableSpec, load_dataset
from synthgen_spark.changes import CHANGES_SUFFIX, change_feed_spec, expected_changes, has_lifecycle, history_spec
from synthgen_spark.config import JobConfig
from synthgen_spark.errors import ConfigError

MAX_ROWS_PER_DAY = 2**31 - 1


@dataclass(frozen=True)
class DayFacts:
    """What every table generated for one date may need to know about the others on that date."""

    date: dt.date
    rows: dict[str, int]
    id_offsets: dict[str, int]
    populations: dict[str, int]


@dataclass(frozen=True)
class TableDay:
    """One table on one date: its rows, where its IDs start, and the files it becomes."""

    table: TableSpec
    date: dt.date
    rows: int
    id_offset: int
    volume: Volume | None
    paths: tuple[str, ...]
    facts: DayFacts
    partitions: int = 1


@dataclass(frozen=True)
class Batch:
    """Days generated together: one DataFrame per table over all of them."""

    index: int
    dates: tuple[dt.date, ...]
    table_days: tuple[TableDay, ...]

    @property
    def rows(self) -> int:
        return sum(td.rows for td in self.table_days)


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
    def total_rows(self) -> int:
        return sum(b.rows for b in self.batches)


def job_root(config: JobConfig) -> str:
    """``{output_root}/synthetic_data/{output_mode}/series/{dataset_id}/{job_name}/{path_format}``."""
    root = config.output_root.rstrip("/") or "/"
    parts = ("synthetic_data", config.output_mode, "series", config.dataset_id, config.job_name, config.path_format)
    return "/".join((root.rstrip("/"), *parts)) if root != "/" else "/" + "/".join(parts)


def delta_table_name(config: JobConfig, table: str) -> str:
    """The metastore name of a dataset table's Delta table: ``[database.]{table_name_template}``."""
    name = config.table_name_template.format(dataset_id=config.dataset_id, table=table, job_name=config.job_name)
    return f"{config.database}.{name}" if config.database else name


def delta_table_path(config: JobConfig, table: str) -> str:
    """Path of a dataset table's Delta table when table_location is ``path``."""
    root = job_root(config).rsplit("/", 1)[0]  # the table layout has no path_format level
    return f"{root}/{table}"


def delta_target(config: JobConfig, table: str) -> str:
    """Where table mode writes a dataset table: a metastore name or a path."""
    return delta_table_path(config, table) if config.table_location == "path" else delta_table_name(config, table)


def file_paths(config: JobConfig, table: str, day: dt.date, parts: int) -> tuple[str, ...]:
    """The files of one table-day; a day split by chunk_size gets ``-00001``, ``-00002``... suffixes."""
    ext = "csv" if config.output_mode == "csv" else "parquet"
    if config.path_format == "nested":
        stem = f"{job_root(config)}/{table}/{day:%Y/%m/%d}/data"
    else:
        stem = f"{job_root(config)}/{table}/{table}_{day:%Y%m%d}"
    if parts == 1:
        return (f"{stem}.{ext}",)
    return tuple(f"{stem}-{i:05d}.{ext}" for i in range(1, parts + 1))


def build_plan(config: JobConfig, dataset: DatasetSpec | None = None) -> Plan:
    """Plan a run: validate what spans config, dataset and calendar, then lay out batches.

    Raises:
        ConfigError / SpecError: before any Spark work, with the field named.
    """
    dataset = dataset or load_dataset(config.dataset_id, config.dataset_path)
    if config.start_date < dataset.epoch:
        raise ConfigError(
            f"{config.source}: field 'start_date': is before the dataset epoch (got {config.start_date.isoformat()!r}); "
            f"allowed: dates on or after {dataset.epoch.isoformat()}."
        )
    calendar = Calendar(dataset, config)
    calendar.holiday_name(config.start_date)  # validates holiday_country early
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
            table_days.extend(_table_day(config, calendar, table, day) for day in days)
            table_days.extend(_derived_table_days(config, calendar, table, batch_dates, days))
        batches.append(Batch(index, batch_dates, tuple(table_days)))
    return Plan(config, dataset, calendar, tuple(batches))


def _derived_table_days(
    config: JobConfig, calendar: Calendar, table: TableSpec, dates: tuple[dt.date, ...], snapshot_days: list[dt.date]
) -> list[TableDay]:
    """The change feed (every day) and the SCD2 history (the table's snapshot days) of a table with a lifecycle.

    Their rows are the entities scanned (the population): the frames keep the changed ones, or the versions.
    """
    if not has_lifecycle(table):
        return []
    derived = [(change_feed_spec(table), list(dates))] if config.change_feed else []
    derived += [(history_spec(table), snapshot_days)] if config.history else []
    return [_table_day(config, calendar, spec, day, rows_of=table) for spec, days in derived for day in days]


def _table_day(
    config: JobConfig, calendar: Calendar, table: TableSpec, day: dt.date, rows_of: TableSpec | None = None
) -> TableDay:
    dataset = calendar.dataset
    rows = calendar.rows(rows_of or table, day)
    if rows > MAX_ROWS_PER_DAY:
        raise ConfigError(
            f"{config.source}: field 'scale_factor': table '{table.name}' would get {rows} rows on {day}; "
            f"allowed: at most {MAX_ROWS_PER_DAY} rows per table per day."
        )
    parts = math.ceil(rows / config.chunk_size) if config.chunk_size and not rows_of else 1
    facts = DayFacts(
        date=day,
        rows={t.name: calendar.rows(t, day) for t in dataset.tables if t.kind == "incremental"},
        id_offsets={t.name: calendar.id_offset(t, day) for t in dataset.tables if t.kind == "incremental"},
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
        paths=(delta_target(config, table.name),)
        if config.output_mode == "table"
        else file_paths(config, table.name, day, parts),
        facts=facts,
        partitions=parts,
    )


def describe_derived_day(plan: Plan, td: TableDay) -> str:
    """Expected changes of a feed day (from the rates), or what a history day holds; rows = entities scanned."""
    base = plan.dataset.table(td.table.derived_from)
    if not td.table.name.endswith(CHANGES_SUFFIX):
        return f"SCD2 history of {base.name}: every version begun by the day, of {td.rows:,} entities"
    population = plan.calendar.population
    inserts = population(base, td.date) - population(base, td.date - dt.timedelta(1))
    active = td.rows  # at most: churned entities do not change
    updates = ", ".join(f"{name} {n:.1f}" for name, n in expected_changes(base, active).items())
    churn = active * base.lifecycle.churn_rate
    return (
        f"change feed of {base.name}: expected inserts {inserts}, updates <= {updates or 'none'}, "
        f"churn <= {churn:.1f} (rates x {active:,} entities scanned)"
    )


def describe_plan(plan: Plan) -> str:
    """The plan as text: the volume formula, per-day rows per table with factors, batches and files."""
    config, calendar = plan.config, plan.calendar
    multipliers = " ".join(f"{name} {m:g}" for name, m in zip(WEEKDAY_NAMES, calendar.weekday_multipliers, strict=True))
    lines = [
        f"plan: dataset {config.dataset_id}, job {config.job_name}, seed {config.seed_value}, "
        f"{config.start_date}..{config.end_date} ({len(config.dates)} days), {len(plan.batches)} batches of "
        f"{config.batch_size} day(s), {config.output_mode} {config.path_format}",
        "rows(table, d) = round(base_rows x scale_factor x weekday(d) x holiday(d) x growth(d)), at least 1",
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
                factors = f"{v.base_rows} x {v.scale_factor:g} x {v.weekday:g} x {v.holiday:g} x {v.growth:g}"
                factors += f" (holiday: {holiday})" if holiday else ""
            elif td.table.derived_from:
                factors = describe_derived_day(plan, td)
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
            lines.append(
                f"{td.date!s:<11} {WEEKDAY_NAMES[td.date.weekday()]:<4} {td.table.name:<16} {td.rows:>11,}  {factors}"
            )
            lines.extend(f"{'':<46}-> {path}" for path in td.paths)
    lines.append(f"total rows: {plan.total_rows:,}")
    return "\n".join(lines)
