"""Ledger sums: what a sweep row needs, the counted amounts of its entity's ledger rows over the sweep period.

The period's ledger rows are generated again (the same rows as in any run: a pure function of seed, table, date
and row), without faults or lateness, and only the columns the sum reads are computed. A Spark aggregate sums
them per (sweep date, entity); the engine joins that, broadcast, to the sweep rows by ``_sg_ledger_key``, which
keeps the frame's partitions and order. Nothing earlier is read. See ``synthgen_spark.balances``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from pyspark.sql import DataFrame, SparkSession

from synthgen_spark.balances import Ledger
from synthgen_spark.calendar import Calendar, period_days
from synthgen_spark.catalog import DatasetSpec
from synthgen_spark.config import JobConfig
from synthgen_spark.engine.slicing import FileSlice
from synthgen_spark.engine.stages import kept_apart
from synthgen_spark.generators.balances import LEDGER_SUM
from synthgen_spark.generators.core import UNIX_EPOCH
from synthgen_spark.lateness import ARRIVAL_KIND
from synthgen_spark.planner import table_day

SUM_KEY = "_sg_ledger_sum_key"


def sweep_dates(table: str, slices: list[FileSlice]) -> list[dt.date]:
    """The days of ``slices`` (event days) whose rows include sweep rows of the ledger ``table``."""
    dates = set()
    for s in slices:
        facts = s.table_day.facts
        first_sweep = facts.rows.get(table, 0) - facts.sweeps.get(table, 0)
        if facts.sweeps.get(table, 0) and s.start + s.rows > first_sweep:
            dates.add(s.table_day.date)
    return sorted(dates)


def ledger_sums(
    spark: SparkSession, config: JobConfig, dataset: DatasetSpec, ledger: Ledger, sweeps: list[dt.date]
) -> DataFrame:
    """(``_sg_ledger_sum_key`` = sweep day << 32 | entity, ``_sg_ledger_sum``) for the sweeps on ``sweeps``."""
    from synthgen_spark.engine.frames import build_batch_frame  # the frames build on this module

    clean = dataclasses.replace(config, fault_rate=0.0, late_arrival_rate=0.0)
    calendar = Calendar(dataset, clean)
    late = dataset.table(ledger.ledger)  # without its arrival column: these rows are read by event day, not written
    table = dataclasses.replace(late, columns=tuple(c for c in late.columns if c.kind != ARRIVAL_KIND))
    frequency = dataset.table(ledger.table).frequency
    periods = {sweep: period_days(frequency, sweep, dataset.epoch) for sweep in sweeps}
    days = sorted({day for period in periods.values() for day in period})
    formula_rows = []
    for day in days:
        td = table_day(clean, calendar, table, day)
        formula_rows.append(dataclasses.replace(td, rows=td.rows - td.facts.sweeps[table.name], partitions=1))
    rows = build_batch_frame(spark, clean, dataset, formula_rows)
    counted = (
        kept_apart(rows)
        .where(ledger.counted)
        .selectExpr(
            f"unix_date(`{table.primary_date_column}`) AS _sg_day",
            f"CAST(`{ledger.account}` AS BIGINT) - {ledger.key_start} AS _sg_entity",
            f"`{ledger.amount}` AS _sg_amount",
        )
    )
    pairs = ", ".join(
        f"struct({(day - UNIX_EPOCH).days}L AS _sg_in, {(sweep - UNIX_EPOCH).days}L AS _sg_sweep)"
        for sweep, period in periods.items()
        for day in period
    )
    windows = spark.range(1).selectExpr(f"inline(array({pairs}))")
    joined = counted.join(windows.hint("broadcast"), counted["_sg_day"] == windows["_sg_in"])
    summed = joined.groupBy("_sg_sweep", "_sg_entity").agg({"_sg_amount": "sum"})
    return summed.selectExpr(
        f"shiftleft(_sg_sweep, 32) + _sg_entity AS {SUM_KEY}", f"CAST(`sum(_sg_amount)` AS DOUBLE) AS {LEDGER_SUM}"
    )
