"""Frames of the derived tables: ``{table}_changes`` (the change feed) and ``{table}_history`` (SCD2).

Both are pure functions of the snapshot table's generators, like the snapshot itself: no earlier
output is read. The feed of day d compares each entity's image on d with its image on d - 1 (both
computed from scratch, the one of d - 1 in a first select, under prefixed names) and keeps the
entities that signed up on d (insert) or whose image differs (update). See docs/changes.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from synthgen_spark.catalog import DatasetSpec, TableSpec
from synthgen_spark.changes import CHANGES_SUFFIX, as_of
from synthgen_spark.config import JobConfig
from synthgen_spark.engine import FILE_INDEX, LOCAL_INDEX, ROW_INDEX, BatchFacts, FileSlice, RowScope, Stages
from synthgen_spark.engine.stages import kept_apart
from synthgen_spark.generators import sql
from synthgen_spark.generators.core import UNIX_EPOCH, bounded_index, column_seed, day_row_key, hash_key
from synthgen_spark.generators.sql import Expr
from synthgen_spark.generators.temporal import SECONDS_PER_DAY
from synthgen_spark.generators.versions import (
    HISTORY_KEY_SHIFT,
    churn_ordinal,
    start_ordinal,
    version_days,
    version_moved,
)
from synthgen_spark.lateness import ARRIVAL_KIND

PREVIOUS = "_sg_prev_"
DAY_SHIFT, SECOND_SHIFT = 48, 31  # change_seq = day << 48 | second of the day << 31 | entity index


def image_columns(table: TableSpec) -> list[str]:
    """The snapshot's output columns but its date: the after-image of a change, the attributes of a version."""
    return [c.name for c in table.output_columns if c.name != table.primary_date_column]


def entity_scope(
    config: JobConfig, dataset: DatasetSpec, table: TableSpec, slices: list[FileSlice], days: int
) -> tuple[RowScope, Stages]:
    """A scope over the slices' entities ``days`` days after the slices' dates, with every column staged."""
    stages = Stages()
    shifted = [
        dataclasses.replace(s, table_day=dataclasses.replace(s.table_day, date=s.table_day.date + dt.timedelta(days)))
        for s in slices
    ]
    facts = BatchFacts(shifted, sql.col(FILE_INDEX), stages)
    scope = RowScope(config, dataset, table, facts, stages, sql.col(ROW_INDEX))
    for spec in table.columns:
        scope.column(spec.name)
    return scope, stages


def day_dependent(table: TableSpec, config: JobConfig) -> bool:
    """True if an entity's image can change without a version, signup or churn: drift, the day, other tables."""
    for col in table.columns:
        if col.kind in ("foreign_key", "lookup") or (col.drift and config.enable_data_drift):
            return True
        dated = (
            col.kind in ("timestamp", "date_offset") and col.params.get("base", "generation_date") == "generation_date"
        )
        if col.name != table.primary_date_column and (col.kind == "generation_date" or dated):
            return True
    return False


def _candidates(
    frame: DataFrame,
    config: JobConfig,
    dataset: DatasetSpec,
    table: TableSpec,
    slices: list[FileSlice],
    day: Stages,
) -> tuple[DataFrame, set[str]]:
    """The rows that may have changed on their day (signup, churn, a group's version moved), before any image.

    Only these rows get their images computed and compared: a change is rare, an image costs every column.
    -> the frame, and the names of the day's stages ``day`` it holds already (the lifecycle of each entity).
    """
    if day_dependent(table, config):
        return frame, set()
    stages = Stages()
    scope = RowScope(
        config, dataset, table, BatchFacts(slices, sql.col(FILE_INDEX), stages), stages, sql.col(ROW_INDEX)
    )
    index, day_ordinal = scope.row_index, scope.day_ordinal.cast("bigint")
    moved = [start_ordinal(scope, index) == day_ordinal]
    if table.lifecycle.churn_rate > 0:
        moved.append(sql.call("coalesce", churn_ordinal(scope, index) == day_ordinal, sql.lit(False)))
    moved += [version_moved(scope, group, day_ordinal, index) for group in table.changes]
    candidate = stages.stage(
        "_sg_candidate", Expr("(" + " OR ".join(m.sql for m in moved) + ")", max(m.level for m in moved))
    )
    return kept_apart(stages.apply(frame)).where(candidate.sql), stages.same_as(day)


def change_feed_frame(
    frame: DataFrame, config: JobConfig, dataset: DatasetSpec, feed: TableSpec, slices: list[FileSlice], grouped: bool
) -> DataFrame:
    """The changes of each slice's day: inserts (signed up that day) and updates (image differs from the day before).

    After the candidates' filter, what an entity's images of both days share (the same expression on the same
    row: an attribute no change group moves, its lifecycle) is computed once; then the rest of the image of the
    day before, kept under prefixed names; then the rest of the day's.
    """
    base = dataset.table(feed.derived_from)
    scope, stages = entity_scope(config, dataset, base, slices, 0)
    _, before = entity_scope(config, dataset, base, slices, -1)
    shared = stages.same_as(before)
    image = [n for n in image_columns(base) if n not in shared]  # the columns that can differ from the day before
    kept = [FILE_INDEX, LOCAL_INDEX, ROW_INDEX]
    frame, computed = _candidates(frame, config, dataset, base, slices, stages)
    frame = frame.select(*kept, *sorted(computed & shared))
    frame = stages.apply(frame, only=shared - computed)
    frame = before.apply(frame, only=before.needed(set(image)) - shared)
    frame = frame.selectExpr(*kept, *sorted(shared), *[f"`{n}` AS `{PREVIOUS}{n}`" for n in image])
    index, day = scope.row_index, scope.day_ordinal.cast("bigint")
    start = start_ordinal(scope, index)
    inserted = stages.stage("_sg_inserted", start == day)
    differs = " OR ".join(f"NOT (`{n}` <=> `{PREVIOUS}{n}`)" for n in image) or "FALSE"
    level = max((scope.column(n).level for n in image), default=0)
    changed = stages.stage("_sg_changed", sql.Expr(f"({differs})", level))
    second = bounded_index(
        hash_key(day_row_key(day, index), column_seed(config.seed_value, feed.name, "change_ts")), SECONDS_PER_DAY
    )
    second = stages.stage("_sg_change_second", second)
    op = sql.when(inserted, sql.lit("insert"))
    if base.churn == "delete":  # a hard delete: the entity's last image, on its churn day
        deleted = stages.stage("_sg_deleted", sql.call("coalesce", churn_ordinal(scope, index) == day, sql.lit(False)))
        op = op.when(deleted, sql.lit("delete"))
        for name in image_columns(base):  # a shared column is the same on both days
            last = scope.column(name) if name in shared else sql.col(PREVIOUS + name)
            stages.stage(f"_sg_image_{name}", sql.when(deleted, last).otherwise(scope.column(name)))
    columns = {
        "change_op": op.otherwise(sql.lit("update")),
        "change_date": scope.day,
        "change_ts": sql.timestamp_seconds(day * sql.lit(SECONDS_PER_DAY) + second),
        "change_seq": sql.shiftleft(day, DAY_SHIFT) + sql.shiftleft(second, SECOND_SHIFT) + index,
    }
    wanted = stages.names() - {base.primary_date_column}  # the feed has change_date instead
    frame = kept_apart(stages.apply(frame, only=stages.needed(wanted) - shared))
    frame = frame.where(f"{inserted.sql} OR ({start.sql} < {day.sql} AND {changed.sql})")
    source = "_sg_image_" if base.churn == "delete" else ""
    outputs = [
        f"{columns[c.name].sql} AS {c.name}" if c.name in columns else f"`{source}{c.name}` AS `{c.name}`"
        for c in feed.columns
    ]
    return frame.selectExpr(*[FILE_INDEX] * grouped, *outputs)


def progress_feed_frame(
    frame: DataFrame, config: JobConfig, dataset: DatasetSpec, feed: TableSpec, facts: BatchFacts, days: Expr
) -> DataFrame:
    """A fact's progress steps: its rows of earlier event days (``facts``, by segment) that reach a step on the
    file's day (``days``, an ordinal per file), as of that day.

    Each step date is a column of the row, a pure function of (seed, table, row, event date): nothing earlier is read.
    """
    base = dataset.table(feed.derived_from)
    progress = base.progress
    stages = facts.stages
    scope = RowScope(config, dataset, base, facts, stages, sql.col(ROW_INDEX))
    for spec in base.columns:  # derived SQL reads the columns above it by name: stage them all (not the arrival)
        if spec.kind != ARRIVAL_KIND:
            scope.column(spec.name)
    day = stages.stage("_sg_change_ordinal", days.cast("bigint"))
    change_date = stages.stage("_sg_change_date", sql.date_add(sql.lit(UNIX_EPOCH), day.cast("int")))
    key = scope.column(base.primary_key).cast("bigint")
    seed = column_seed(config.seed_value, feed.name, "change_ts")
    second = stages.stage("_sg_change_second", bounded_index(hash_key(day_row_key(day, key), seed), SECONDS_PER_DAY))
    columns = {
        "change_op": sql.lit("update"),
        "change_date": change_date,
        "change_ts": sql.timestamp_seconds(day * sql.lit(SECONDS_PER_DAY) + second),
        "change_seq": sql.shiftleft(day, DAY_SHIFT) + sql.shiftleft(second, SECOND_SHIFT) + key,
    }
    stepped = " OR ".join(f"`{column}` = {change_date.sql}" for column in progress.step_columns)
    frame = stages.apply(frame).where(f"({stepped})")
    states = as_of(progress, change_date.sql)
    frame = frame.withColumns({name: F.expr(expression) for name, expression in states.items()})
    outputs = [f"{columns[n].sql} AS `{n}`" if n in columns else f"`{n}`" for n in feed.column_names]
    return frame.selectExpr(FILE_INDEX, *outputs)


def derived_frame(
    frame: DataFrame, config: JobConfig, dataset: DatasetSpec, table: TableSpec, slices: list[FileSlice], grouped: bool
) -> DataFrame:
    """The frame of a derived table over the slices (rows = the snapshot table's entities of each day)."""
    if table.name.endswith(CHANGES_SUFFIX):
        return change_feed_frame(frame, config, dataset, table, slices, grouped)
    return history_frame(frame, config, dataset, table, slices, grouped)


class RowDayFacts(BatchFacts):
    """Batch facts whose day is a column of each row (a version's valid_from), not the file's date."""

    def __init__(self, slices: list[FileSlice], file_index: Expr, stages: Stages, ordinal: Expr) -> None:
        super().__init__(slices, file_index, stages)
        self.ordinal = ordinal

    def day_ordinal(self) -> Expr:
        return self.ordinal

    def day(self) -> Expr:
        return self.stages.define("_sg_day", lambda: sql.date_add(sql.lit(UNIX_EPOCH), self.ordinal.cast("int")))


def history_frame(
    frame: DataFrame,
    config: JobConfig,
    dataset: DatasetSpec,
    history: TableSpec,
    slices: list[FileSlice],
    grouped: bool,
) -> DataFrame:
    """Every version that began on or before each slice's snapshot date, with its SCD2 columns and attributes."""
    base = dataset.table(history.derived_from)
    stages = Stages()
    scope = RowScope(config, dataset, base, BatchFacts(slices, sql.col(FILE_INDEX), stages), stages, sql.col(ROW_INDEX))
    stages.stage("_sg_days", version_days(scope))
    stages.stage("_sg_snapshot_date", scope.day)
    end = sql.lit(None).cast("bigint")
    if base.churn == "delete":  # a hard delete closes the last version on the churn day
        churn = churn_ordinal(scope, scope.row_index)
        end = sql.when(churn <= scope.day_ordinal.cast("bigint"), churn)
    stages.stage("_sg_end", end)
    frame = stages.apply(frame).selectExpr(
        FILE_INDEX, ROW_INDEX, "_sg_snapshot_date", "_sg_days", "_sg_end", "posexplode(_sg_days) AS (_sg_pos, _sg_from)"
    )
    stages = Stages()
    facts = RowDayFacts(slices, sql.col(FILE_INDEX), stages, sql.col("_sg_from"))
    scope = RowScope(config, dataset, base, facts, stages, sql.col(ROW_INDEX))
    for spec in base.columns:
        scope.column(spec.name)
    next_day = "CASE WHEN _sg_pos + 1 < size(_sg_days) THEN element_at(_sg_days, _sg_pos + 2) ELSE _sg_end END"
    columns = {
        "history_key": f"shiftleft({ROW_INDEX}, {HISTORY_KEY_SHIFT}) + _sg_pos + 1",
        "version": "CAST(_sg_pos + 1 AS INT)",
        "valid_from": f"date_add(DATE'{UNIX_EPOCH}', CAST(_sg_from AS INT))",
        "valid_to": f"date_add(DATE'{UNIX_EPOCH}', CAST({next_day} AS INT))",
        "is_current": f"({next_day}) IS NULL",
        base.primary_date_column: "_sg_snapshot_date",
    }
    outputs = [f"{columns[c.name]} AS {c.name}" if c.name in columns else f"`{c.name}`" for c in history.columns]
    return stages.apply(frame).selectExpr(*[FILE_INDEX] * grouped, *outputs)
