"""Frames of the derived tables: ``{table}_changes`` (the change feed) and ``{table}_history`` (SCD2).

Both are pure functions of the snapshot table's generators, like the snapshot itself: no earlier
output is read. The feed of day d lists the entities that may have changed from the schedule (the day's
signups and churners, each group's events: ``possible_changes``), compares each one's image on d with its
image on d - 1 (both computed from scratch, the one of d - 1 under prefixed names) and keeps the entities
that signed up on d (insert) or whose image differs (update). See docs/changes.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from synthgen_spark.calendar import entity_model
from synthgen_spark.catalog import DatasetSpec, TableSpec
from synthgen_spark.changes import CHANGES_SUFFIX, PERIOD_BITS, PERIOD_BLOCK, as_of, changers
from synthgen_spark.config import JobConfig
from synthgen_spark.engine import FILE_INDEX, LOCAL_INDEX, ROW_INDEX, BatchFacts, FileSlice, RowScope, Stages
from synthgen_spark.engine.stages import kept_apart
from synthgen_spark.entities import BLOCK
from synthgen_spark.generators import sql
from synthgen_spark.generators.core import UNIX_EPOCH, bounded_index, column_seed, day_row_key, hash_key
from synthgen_spark.generators.lifecycle import EntityLifecycle
from synthgen_spark.generators.sql import Expr
from synthgen_spark.generators.temporal import SECONDS_PER_DAY
from synthgen_spark.generators.versions import (
    HISTORY_KEY_SHIFT,
    churn_ordinal,
    events_by,
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


SOURCE, PERIOD, SEGMENT, LISTED, PLACE = "_sg_source", "_sg_period", "_sg_segment", "_sg_listed", "_sg_place"
INSERTS, CHURNS = 0, 1  # the sources of possible changes; change group i is source 2 + i


def listed_feed(config: JobConfig, dataset: DatasetSpec, table: TableSpec) -> bool:
    """``table`` is the change feed of a snapshot table whose changes of a day can be listed from the schedule
    (``possible_changes``), not found by checking every entity: no image changes with the day, no ``at_age``
    birthday (a date column of every row)."""
    if not table.name.endswith(CHANGES_SUFFIX) or not table.derived_from:
        return False
    base = dataset.table(table.derived_from)
    listable = base.kind != "incremental" and all(group.at_age is None for group in base.changes)
    return listable and not day_dependent(base, config)


def possible_changes(config: JobConfig, dataset: DatasetSpec, table: TableSpec, day: int) -> list[list[int]]:
    """Where the entities that may change on ``day`` sit: segments [first, multiplier, add, modulus, count,
    source, period, place] of entity indexes (place: the slot of a churn segment, the block of a group's):

    - inserts: the ids signed up on the day (``EntityModel.first_starting_from``), two wider at each end:
      first + i for i < count;
    - churn: for each slot with a lifetime L, the entity in that slot of each block of the ids signed up L days
      before (``EntityLifecycle.entity_in_slot``), blocks first + i;
    - per change group, block and period, the preimage of an interval of the period's arrangement
      (``changes.changers``): block M + (multiplier (first + i) + add) mod M.

    Every row is checked exactly in Spark, and kept once (``_keep``): the lists need only hold every change.
    """
    model = entity_model(dataset, table, config.seed_value, config.scale_factor, config.locale)

    def signed_up(ordinal: int) -> tuple[int, int]:  # two wider at each end than the model's ids
        return max(0, model.first_starting_from(ordinal) - 2), model.first_starting_from(ordinal + 1) + 2

    low, high = signed_up(day)
    segments = [[low, 0, 0, 1, high - low, INSERTS, 0, 0]]
    for slot, lifetime in enumerate(model.slot_lifetimes):
        if lifetime > 0:
            low, high = signed_up(day - lifetime)
            blocks = (high - 1) // BLOCK - low // BLOCK + 1
            segments.append([low // BLOCK, 0, 0, 1, blocks, CHURNS, lifetime, slot])
    population = model.population(day)
    for number, group in enumerate(table.changes):
        seed = column_seed(config.seed_value, table.name, f"__change_{group.name}")
        for block, k, first, count, inverse, c in changers(seed, group.daily_rate, day, population):
            segments.append([first, inverse, -inverse * c % PERIOD_BLOCK, PERIOD_BLOCK, count, 2 + number, k, block])
    return segments


def listed_rows(config: JobConfig, dataset: DatasetSpec, feed: TableSpec, days: list[dt.date]) -> int:
    """How many rows a listed feed (``listed_feed``) lists for ``days``: the sizes of their ``possible_changes``."""
    base = dataset.table(feed.derived_from)
    return sum(
        segment[4] for day in days for segment in possible_changes(config, dataset, base, (day - UNIX_EPOCH).days)
    )


def _listed(
    frame: DataFrame, config: JobConfig, dataset: DatasetSpec, table: TableSpec, slices: list[FileSlice], tasks: int
) -> DataFrame:
    """One row per possible change (``possible_changes``) of each slice's day, the files in order over ``tasks``
    partitions: ``FILE_INDEX``, ``LOCAL_INDEX``, the segment's ``SOURCE``, ``PERIOD`` and ``PLACE``, and
    ``LISTED``: the entity of an insert or group row, the block of a churn row (``_listed_entity`` finds its
    entity)."""
    per_file = [possible_changes(config, dataset, table, (s.table_day.date - UNIX_EPOCH).days) for s in slices]
    text = json.dumps(per_file, separators=(",", ":"))
    segments = sql.call("from_json", sql.lit(text), sql.lit("array<array<array<bigint>>>"))
    segment = f"explode(element_at({segments.sql}, CAST(id + 1 AS INT))) AS {SEGMENT}"
    frame = frame.sparkSession.range(0, len(slices), 1, tasks).selectExpr(f"id AS {FILE_INDEX}", segment)
    frame = frame.selectExpr("*", f"explode(sequence(0L, {SEGMENT}[4] - 1L)) AS {LOCAL_INDEX}")
    first, multiplier, add, modulus = (f"{SEGMENT}[{i}]" for i in range(4))
    offset = f"pmod({multiplier} * ({first} + {LOCAL_INDEX}) + {add}, {modulus})"
    listed = f"CASE WHEN {SEGMENT}[5] < 2 THEN {first} + {LOCAL_INDEX} ELSE shiftleft({SEGMENT}[7], {PERIOD_BITS}) + {offset} END"
    return frame.selectExpr(
        FILE_INDEX,
        LOCAL_INDEX,
        f"{listed} AS {LISTED}",
        f"{SEGMENT}[5] AS {SOURCE}",
        f"{SEGMENT}[6] AS {PERIOD}",
        f"{SEGMENT}[7] AS {PLACE}",
    )


def _listed_entity(scope: RowScope, table: TableSpec) -> Expr:
    """The entity of a listed row: LISTED, or for a churn row the entity in slot PLACE of block LISTED."""
    listed = sql.col(LISTED)
    if table.lifecycle.churn_rate <= 0:
        return listed
    lifecycle = EntityLifecycle(scope.settings, scope.dataset, table)
    churner = lifecycle.entity_in_slot(scope, sql.col(PLACE), listed, "_sg_churner")
    return sql.when(sql.col(SOURCE) == sql.lit(CHURNS), churner).otherwise(listed)


def _keep(scope: RowScope, table: TableSpec, moved: list[Expr]) -> Expr:
    """A listed row that is a change of its day, and the first row listed for it: its source is the first that
    explains the change (the signup, the churn, the first group that moved, in the period of its event)."""
    index, day = scope.row_index, scope.day_ordinal.cast("bigint")
    source, period = sql.col(SOURCE), sql.col(PERIOD)
    start = start_ordinal(scope, index)
    kept = [(source == sql.lit(INSERTS)) & (start == day)]
    if table.lifecycle.churn_rate > 0:
        churned = sql.call("coalesce", churn_ordinal(scope, index) == day, sql.lit(False))
        kept.append((source == sql.lit(CHURNS)) & churned & (day - start == period))
    for number, group in enumerate(table.changes):
        first = moved[number]
        for earlier in moved[:number]:
            first = first & ~earlier
        event = events_by(scope, group, index, day - sql.lit(1)) == period  # the period of its first event that day
        kept.append((source == sql.lit(2 + number)) & first & event)
    return Expr("(" + " OR ".join(k.sql for k in kept) + ")", max(k.level for k in kept))


def _candidates(
    frame: DataFrame,
    config: JobConfig,
    dataset: DatasetSpec,
    feed: TableSpec,
    slices: list[FileSlice],
    day: Stages,
    tasks: int,
) -> tuple[DataFrame, set[str]]:
    """The rows that may have changed on their day (signup, churn, a group's version moved), before any image.

    Only these rows get their images computed and compared: a change is rare, an image costs every column.
    Where the table allows (``listed_feed``), they are listed from the schedule (``possible_changes``), so a
    feed costs O(changes); otherwise every entity of the day is checked.
    -> the frame, and the names of the day's stages ``day`` it holds already (the lifecycle of each entity).
    """
    table = dataset.table(feed.derived_from)
    listed = listed_feed(config, dataset, feed)
    if not listed and day_dependent(table, config):
        return frame, set()
    if listed:
        frame = _listed(frame, config, dataset, table, slices, tasks)
        entities = Stages()
        facts = BatchFacts(slices, sql.col(FILE_INDEX), entities)
        entities.stage(
            ROW_INDEX, _listed_entity(RowScope(config, dataset, table, facts, entities, sql.col(LISTED)), table)
        )
        frame = entities.apply(frame)
    stages = Stages()
    scope = RowScope(
        config, dataset, table, BatchFacts(slices, sql.col(FILE_INDEX), stages), stages, sql.col(ROW_INDEX)
    )
    index, day_ordinal = scope.row_index, scope.day_ordinal.cast("bigint")
    moved = [
        stages.stage(f"_sg_moved_{group.name}", version_moved(scope, group, day_ordinal, index))
        for group in table.changes
    ]
    if listed:
        candidate = _keep(scope, table, moved)
    else:
        changed = [start_ordinal(scope, index) == day_ordinal, *moved]
        if table.lifecycle.churn_rate > 0:
            changed.append(sql.call("coalesce", churn_ordinal(scope, index) == day_ordinal, sql.lit(False)))
        candidate = Expr("(" + " OR ".join(m.sql for m in changed) + ")", max(m.level for m in changed))
    candidate = stages.stage("_sg_candidate", candidate)
    frame = kept_apart(stages.apply(frame)).where(candidate.sql)
    if listed:  # files in order, each in the order of its entities, as a scan lists them
        frame = frame.sortWithinPartitions(FILE_INDEX, ROW_INDEX)
    return frame, stages.same_as(day)


def change_feed_frame(
    frame: DataFrame,
    config: JobConfig,
    dataset: DatasetSpec,
    feed: TableSpec,
    slices: list[FileSlice],
    grouped: bool,
    tasks: int,
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
    frame, computed = _candidates(frame, config, dataset, feed, slices, stages, tasks)
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
    dated_by = "_sg_change_date"
    change_date = stages.stage(dated_by, sql.date_add(sql.lit(UNIX_EPOCH), day.cast("int")))
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
    dated = stages.needed({*progress.step_columns, dated_by})  # all a row needs to be kept
    frame = kept_apart(stages.apply(frame, only=dated)).where(f"({stepped})")  # the rest for the rows kept only
    frame = stages.apply(frame, only=stages.names() - dated)
    states = as_of(progress, change_date.sql)
    frame = frame.withColumns({name: F.expr(expression) for name, expression in states.items()})
    outputs = [f"{columns[n].sql} AS `{n}`" if n in columns else f"`{n}`" for n in feed.column_names]
    return frame.selectExpr(FILE_INDEX, *outputs)


def derived_frame(
    frame: DataFrame,
    config: JobConfig,
    dataset: DatasetSpec,
    table: TableSpec,
    slices: list[FileSlice],
    grouped: bool,
    tasks: int,
) -> DataFrame:
    """The frame of a derived table over the slices (rows = the snapshot table's entities of each day; a listed
    change feed's own rows over ``tasks`` partitions)."""
    if table.name.endswith(CHANGES_SUFFIX):
        return change_feed_frame(frame, config, dataset, table, slices, grouped, tasks)
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
