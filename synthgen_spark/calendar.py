"""Per-date volumes, holidays and snapshot schedules: pure functions of the dataset, config and date.

rows(table, d) = round(base_rows x scale_factor x weekday(d) x holiday(d)), at least 1.
Snapshot tables with ``scaled: false`` (calendars, reference lists) ignore scale_factor.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import cached_property, lru_cache
from statistics import NormalDist

import holidays

from synthgen_spark.balances import ledger_of
from synthgen_spark.catalog import KEY_KINDS, DatasetSpec, TableSpec
from synthgen_spark.config import JobConfig
from synthgen_spark.entities import EntityModel
from synthgen_spark.errors import ConfigError, SpecError, invalid, place
from synthgen_spark.pools import table_segments
from synthgen_spark.seeds import seed_of

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Volume:
    """How one table's row count on one date came about (printed by ``synthgen plan``)."""

    base_rows: int
    scale_factor: float
    weekday: float
    holiday: float
    rows: int
    noise: float = 1.0
    month: float = 1.0
    population: float = 1.0
    sweeps: int = 0  # a ledger's sweep rows on a sweep date, after the formula's rows (``balances``)


UNIX_EPOCH = dt.date(1970, 1, 1)


def entity_model(
    dataset: DatasetSpec, table: TableSpec, seed_value: int, scale_factor: float, locale: str
) -> EntityModel:
    """The entity model of a snapshot table under a job's seed, scale and locale (the engine and the plan share it)."""
    segments = table_segments(dataset, table, locale)
    start = next((c for c in table.columns if c.kind == "lifecycle_start"), None)
    window = (int(start.params["min_days"]), int(start.params["max_days"])) if start else (0, 0)
    base = base_rows(table, scale_factor)
    model = _entity_model(
        base=base,
        per_period=new_per_period(table, base),
        period_days=table.lifecycle.period_days,
        epoch=(dataset.epoch - UNIX_EPOCH).days,
        window=window,
        churn_rate=table.lifecycle.churn_rate,
        seed=seed_of(seed_value, table.name, "__entities"),
        propensity=(table.propensity.shares, table.propensity.weights) if table.propensity else None,
        segments=segments.slots if segments else None,
        segment_bounds=segments.bounds if segments and any(segments.bounds) else None,
    )
    if segments and any(segments.bounds):
        try:
            model.slot_segments  # noqa: B018 - placed now, so that a bound no lifetime meets fails before Spark starts
        except ValueError as error:
            column = next(c for c in table.columns if c.kind == "segment")
            where = place(dataset.source, table=table.name, column=column.name)
            allowed = "bounds that enough of the table's lifetimes meet (a higher churn_rate, a longer bound)"
            bounds = column.params["max_lifetime_days"]
            raise SpecError(invalid("max_lifetime_days", allowed, bounds, where=where, problem=str(error))) from None
    return model


_entity_model = lru_cache(maxsize=64)(EntityModel)  # one model (and its per-day ranges) per table and job


def volume_noise(seed_value: int, table: str, day: dt.date, sigma: float) -> float:
    """A table's seeded noise factor on ``day``: lognormal with mean 1 and log-sd ``sigma`` (1 when 0).

    exp(sigma·z − sigma²/2), z the standard normal quantile of a uniform hashed from (seed, table, date):
    the same factor in every run, batch and plan.
    """
    if sigma <= 0:
        return 1.0
    digest = hashlib.blake2b(f"{seed_value}|{table}|{day.isoformat()}".encode(), digest_size=8).digest()
    u = ((int.from_bytes(digest, "big") >> 11) + 0.5) / 2**53
    return math.exp(sigma * NormalDist().inv_cdf(u) - sigma * sigma / 2)


def table_scale_factor(table: TableSpec, scale_factor: float) -> float:
    """The scale factor a table's volume is multiplied by: the job's, or 1 for a table with ``scaled: false``."""
    return scale_factor if table.scaled else 1.0


def base_rows(table: TableSpec, scale_factor: float) -> int:
    """N0 of a snapshot (entities on the epoch): round_half_up(rows x scale_factor), at least 1.

    A ``scaled: false`` table (a calendar, a fixed reference list) keeps its ``rows`` at any scale_factor.
    The calendar and the lifecycle generators both count entities with this function.
    """
    return max(1, round_half_up(table.rows * table_scale_factor(table, scale_factor)))


def new_per_period(table: TableSpec, base_population: int) -> Fraction:
    """Entities added per growth period, as an exact fraction (N0 x growth_rate)."""
    return base_population * Fraction(str(table.lifecycle.growth_rate))


def round_half_up(value: float) -> int:
    """Round x.5 upwards (Python's round() rounds half to even, which surprises users)."""
    return int(math.floor(value + 0.5))


def is_scheduled(frequency: str, day: dt.date, epoch: dt.date) -> bool:
    """True if a snapshot of this frequency is written on ``day``.

    Anchors: daily every day; weekly on Mondays; monthly on the 1st; quarterly on Jan/Apr/Jul/Oct 1st;
    once on the dataset epoch. The epoch itself always carries a snapshot.
    """
    if day == epoch or frequency == "daily":
        return day >= epoch
    if day < epoch:
        return False
    return {
        "weekly": day.weekday() == 0,
        "monthly": day.day == 1,
        "quarterly": day.day == 1 and day.month in (1, 4, 7, 10),
        "once": False,
    }[frequency]


def snapshot_in_force(frequency: str, day: dt.date, epoch: dt.date) -> dt.date:
    """The latest scheduled snapshot date on or before ``day`` (never before the epoch)."""
    if frequency == "daily" or frequency == "once":
        return day if frequency == "daily" else epoch
    if frequency == "weekly":
        candidate = day - dt.timedelta(days=day.weekday())
    elif frequency == "monthly":
        candidate = day.replace(day=1)
    else:
        candidate = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return max(candidate, epoch)


BOXING_DAY_COUNTRIES = frozenset(
    {"GB", "IE", "CA", "AU", "NZ", "ZA", "HK", "DE", "AT", "PL", "NL", "DK", "NO", "SE", "FI"}
)


def retail_event(day: dt.date, country: str) -> str | None:
    """The named retail event on ``day``, computed by rule (no lookup table).

    Black Friday is the day after US Thanksgiving (the fourth Thursday of November), Cyber Monday
    three days later; Christmas Eve is Dec 24; Boxing Day (Dec 26) only where it is observed.

    Example: ``retail_event(dt.date(2024, 11, 29), "US") == "black_friday"``.
    """
    first_november = dt.date(day.year, 11, 1)
    thanksgiving = first_november + dt.timedelta(days=(3 - first_november.weekday()) % 7 + 21)
    events = {
        thanksgiving + dt.timedelta(days=1): "black_friday",
        thanksgiving + dt.timedelta(days=4): "cyber_monday",
        dt.date(day.year, 12, 24): "christmas_eve",
        dt.date(day.year, 12, 25): "christmas_day",
    }
    if country in BOXING_DAY_COUNTRIES:
        events[dt.date(day.year, 12, 26)] = "boxing_day"
    return events.get(day)


def references(table: TableSpec, target: str) -> bool:
    """True if a foreign key or lookup column of ``table`` reads table ``target``."""
    return any(
        c.kind in (*KEY_KINDS, "lookup") and str(c.params["references"]).split(".")[0] == target for c in table.columns
    )


def is_sweep_day(frequency: str, day: dt.date, epoch: dt.date) -> bool:
    """True on the balance table's snapshot dates (from the epoch on): the days its ledger gets sweep rows."""
    return day >= epoch and snapshot_in_force(frequency, day, epoch) == day


def sweep_before(frequency: str, day: dt.date, epoch: dt.date) -> dt.date:
    """S_k-1 for a day in (S_k-1, S_k]: the last sweep date before ``day`` (the day before the epoch at first)."""
    previous = day - dt.timedelta(days=1)
    return snapshot_in_force(frequency, previous, epoch) if previous >= epoch else epoch - dt.timedelta(days=1)


def sweep_on_or_after(frequency: str, day: dt.date, epoch: dt.date) -> dt.date:
    """S_k for a day in (S_k-1, S_k]: the first sweep date on or after ``day``.

    >>> sweep_on_or_after("weekly", dt.date(2024, 3, 6), dt.date(2020, 1, 1))  # a Wednesday
    datetime.date(2024, 3, 11)
    """
    day = max(day, epoch)
    while not is_sweep_day(frequency, day, epoch):
        day += dt.timedelta(days=1)
    return day


def period_days(frequency: str, sweep: dt.date, epoch: dt.date) -> list[dt.date]:
    """The ledger days (S_k-1, S_k] whose rows the sweep on ``sweep`` = S_k sums (from the epoch)."""
    first = max(sweep_before(frequency, sweep, epoch) + dt.timedelta(days=1), epoch)
    return [first + dt.timedelta(days=i) for i in range((sweep - first).days + 1)]


class Calendar:
    """Volumes, holidays and ID offsets of one dataset under one job config (pure Python)."""

    def __init__(self, dataset: DatasetSpec, config: JobConfig) -> None:
        self.dataset = dataset
        self.config = config
        self._offsets: dict[str, list[int]] = {}
        self._epoch_active: dict[str, int] = {}
        self._balanced: dict[str, TableSpec | None] = {}  # the balance table whose ledger a table is, by name

    @cached_property
    def weekday_multipliers(self) -> tuple[float, ...]:
        """Mon..Sun multipliers in force: the config override, the dataset's, or all 1.0 when off."""
        if not self.config.enable_seasonal_patterns:
            return (1.0,) * 7
        return self.config.seasonal_multipliers or self.dataset.weekday_multipliers

    @cached_property
    def _holidays(self) -> holidays.HolidayBase:
        country = self.config.holiday_country
        if country not in holidays.list_supported_countries():
            raise ConfigError(
                invalid(
                    "holiday_country",
                    "ISO codes such as US, GB, DE, FR, IN, BR",
                    country,
                    where="config",
                    problem="not known to the holidays package",
                )
            )
        years = range(self.dataset.epoch.year, self.config.end_date.year + 1)
        return holidays.country_holidays(country, years=years)

    def holiday_name(self, day: dt.date) -> str | None:
        """The public holiday on ``day`` in holiday_country, or None."""
        return self._holidays.get(day)

    def holiday_factor(self, table: TableSpec, day: dt.date) -> tuple[float, str | None]:
        """holiday(d) for a table and what caused it: a named retail event with a multiplier in the
        table's ``event_multipliers`` wins, else a public holiday gives ``holiday_multiplier``."""
        if not self.config.enable_seasonal_patterns:
            return 1.0, None
        event = retail_event(day, self.config.holiday_country)
        if event in table.event_multipliers:
            return table.event_multipliers[event], event.replace("_", " ").title()
        name = self.holiday_name(day)
        return (table.holiday_multiplier, name) if name else (1.0, None)

    def volume(self, table: TableSpec, day: dt.date) -> Volume:
        """Rows of an incremental table on ``day`` with every factor of the formula."""
        if table.parent is not None:
            parent = self.volume(self.dataset.table(table.parent), day)
            rows = max(parent.rows, round_half_up(parent.rows * table.rows_per_parent))
            return replace(parent, base_rows=table.rows, rows=rows)
        weekday = self.weekday_multipliers[day.weekday()]
        holiday, _ = self.holiday_factor(table, day)
        month = self.month_factor(table, day)
        scale = table_scale_factor(table, self.config.scale_factor)
        sigma = table.volume_noise if self.config.enable_seasonal_patterns else 0.0
        noise = volume_noise(self.config.seed_value, table.name, day, sigma)
        population = self.population_factor(table, day)
        raw = table.rows * scale * weekday * holiday * month * noise * population
        rows = max(1, round_half_up(raw))
        sweeps = self.sweeps(table, day)
        return Volume(table.rows, scale, weekday, holiday, rows + sweeps, noise, month, population, sweeps)

    def sweeps(self, table: TableSpec, day: dt.date) -> int:
        """Sweep rows of a ledger on ``day``: one per entity of its balance table active on a sweep date, else 0."""
        if table.name not in self._balanced:  # id offsets ask for every day since the epoch
            ledger = ledger_of(self.dataset, table.name)
            self._balanced[table.name] = None if ledger is None else self.dataset.table(ledger.table)
        balanced = self._balanced[table.name]
        if balanced is None or not is_sweep_day(balanced.frequency, day, self.dataset.epoch):
            return 0
        return self.active(balanced, day)

    def population_factor(self, table: TableSpec, day: dt.date) -> float:
        """population(d): active(d) / active(epoch) of the table's ``follows_population`` table (1 without one)."""
        if not table.follows_population:
            return 1.0
        followed = self.dataset.table(table.follows_population)
        if followed.name not in self._epoch_active:  # the denominator, once (id offsets sum volumes from the epoch)
            self._epoch_active[followed.name] = self.active(followed, self.dataset.epoch)
        return self.active(followed, day) / self._epoch_active[followed.name]

    def entities(self, table: TableSpec) -> EntityModel:
        """The signup, lifetime and active-set model of a snapshot table's entities (``entity_model``)."""
        return entity_model(self.dataset, table, self.config.seed_value, self.config.scale_factor, self.config.locale)

    def active(self, table: TableSpec, day: dt.date) -> int:
        """Entities of a snapshot table active on ``day`` (signed up, not churned), exactly.

        Churn follows each entity's lifetime slot (``synthgen_spark.entities``), so the active set is 100
        ranges the driver counts in O(100): the figure a ``follows_population`` volume and the run report use.
        """
        if table.lifecycle.churn_rate <= 0:
            return self.population(table, day)
        return self.entities(table).active_count((day - UNIX_EPOCH).days)

    def month_factor(self, table: TableSpec, day: dt.date) -> float:
        """month(d): the table's ``month_multipliers`` for the month of ``day`` (1 without, or with seasonal patterns off)."""
        if not self.config.enable_seasonal_patterns or not table.month_multipliers:
            return 1.0
        return table.month_multipliers[day.month - 1]

    def rows(self, table: TableSpec, day: dt.date) -> int:
        """Rows of ``table`` on ``day``: the day's new rows (incremental) or the population (snapshot)."""
        if table.kind == "snapshot":
            return self.population(table, day)
        return self.volume(table, day).rows

    def base_population(self, table: TableSpec) -> int:
        """N0: entities of a snapshot table on the dataset epoch (``base_rows``)."""
        return base_rows(table, self.config.scale_factor)

    def population(self, table: TableSpec, day: dt.date) -> int:
        """Entities signed up by ``day`` (active or churned): N0 + floor(periods x N0 x growth_rate), exactly."""
        return self.entities(table).population((day - UNIX_EPOCH).days)

    def id_offset(self, table: TableSpec, day: dt.date) -> int:
        """Rows of ``table`` generated on all days from the epoch up to (not including) ``day``.

        IDs are offset + row index + 1, so they are unique over all days and the same in any run.
        """
        index = (day - self.dataset.epoch).days
        sums = self._offsets.setdefault(table.name, [0])
        while len(sums) <= index:
            previous = self.dataset.epoch + dt.timedelta(days=len(sums) - 1)
            sums.append(sums[-1] + self.volume(table, previous).rows)
        return sums[index]

    def leading_snapshot_date(self, table: TableSpec, start: dt.date, _seen: frozenset[str] = frozenset()) -> dt.date:
        """The first snapshot date a run from ``start`` writes for ``table``.

        The snapshot in force on ``start``, or earlier: a snapshot table's keys (foreign keys and
        lookups) join the referenced table's snapshot in force on their own snapshot date, so a table
        other snapshot tables reference also writes the snapshot in force on their leading dates
        (finance: weekly accounts from Monday 2024-05-27 need the daily customers of that Monday).
        """
        day = start
        for other in self.dataset.tables:
            if other.kind == "snapshot" and other.name not in _seen | {table.name} and references(other, table.name):
                day = min(day, self.leading_snapshot_date(other, start, _seen | {table.name}))
        return snapshot_in_force(table.frequency, day, self.dataset.epoch)

    def snapshot_dates(self, table: TableSpec, start: dt.date, end: dt.date) -> list[dt.date]:
        """Snapshot dates a run over start..end writes: the leading one (see above), then each scheduled date."""
        epoch = self.dataset.epoch
        dates = {self.leading_snapshot_date(table, start)}
        day = start
        while day <= end:
            if is_scheduled(table.frequency, day, epoch):
                dates.add(day)
            day += dt.timedelta(days=1)
        return sorted(dates)
