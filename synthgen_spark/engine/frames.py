"""Frames: one DataFrame per table per batch, one ``spark.range`` over the whole batch.

A batch of one table is a list of files (table-day slices, ``engine.slicing``). Files are grouped into
T Spark tasks of G = ceil(P/T) whole files each (``spark.range(0, T*G*S, 1, T)``): one file per task
for large files, fewer tasks than files for many small ones, where each task's fixed cost (code
generation of the table's expressions) would otherwise dominate. The grouping never changes data.

Exprs are built in **stages** (``engine.stages``): every column (and every intermediate a generator asks
to share, such as a foreign key's candidates or a weighted choice's uniform) is computed once, in a select
of its own at the level after everything it reads, and later expressions refer to it by name. Spark keeps
such a select apart only where a value is read more than once, so each value is computed once per
row and the whole table stays one code-generated stage. Generators see the rows through a row scope
(``engine.scope``).
"""

from __future__ import annotations

import itertools

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from synthgen_spark.balances import ledger_of
from synthgen_spark.catalog import DatasetSpec, TableSpec
from synthgen_spark.changes import as_of
from synthgen_spark.config import JobConfig
from synthgen_spark.engine.ledger import SUM_KEY, ledger_sums, sweep_dates
from synthgen_spark.engine.scope import BatchFacts, RowScope
from synthgen_spark.engine.slicing import LOCAL_INDEX, ROW_INDEX, SEGMENT_INDEX, FileSlice, file_segments, task_count
from synthgen_spark.engine.stages import StageError, Stages
from synthgen_spark.errors import SpecError, invalid, place
from synthgen_spark.faults import fault_targets
from synthgen_spark.generators import sql
from synthgen_spark.generators.balances import LEDGER_KEY, LEDGER_SUM
from synthgen_spark.generators.core import UNIX_EPOCH, spark_type
from synthgen_spark.generators.lifecycle import EntityLifecycle
from synthgen_spark.generators.sql import Expr
from synthgen_spark.lateness import ARRIVAL_COLUMN, is_late_table
from synthgen_spark.layout import FILE_INDEX
from synthgen_spark.planner import TableDay


def _segment_rows(
    frame: DataFrame, files: list[list[FileSlice]], file_facts: BatchFacts, stages: Stages
) -> tuple[DataFrame, BatchFacts]:
    """Add each row's segment (event day's slice) and row index; facts of the event day, by segment.

    Segment j of a file holds its local rows from ``offsets[j]``: the segment is the file's first
    segment plus the count of offsets a local index has passed.
    """
    segments = [s for file in files for s in file]
    first = file_facts.lookup(list(itertools.accumulate([0] + [len(f) for f in files[:-1]])))
    passed = []
    for j in range(1, max(len(f) for f in files)):
        offsets = [sum(s.rows for s in f[:j]) if j < len(f) else 2**62 for f in files]
        passed.append(f"CAST({sql.col(LOCAL_INDEX).sql} >= {file_facts.lookup(offsets).sql} AS BIGINT)")
    frame = frame.selectExpr("*", f"{' + '.join([first.sql, *passed])} AS {SEGMENT_INDEX}")
    facts = BatchFacts(segments, sql.col(SEGMENT_INDEX), stages)
    offsets = [sum(s.rows for s in f[:j]) for f in files for j in range(len(f))]
    row_index = facts.lookup([s.start for s in segments]) - facts.lookup(offsets) + sql.col(LOCAL_INDEX)
    return frame.selectExpr("*", f"{row_index.sql} AS {ROW_INDEX}"), facts


def required_columns(table: TableSpec) -> frozenset[str]:
    """Output columns written NOT NULL: the primary key and a generated date column (never null by construction)."""
    date = table.primary_date_column
    generated = date in table.column_names and table.column(date).kind == "generation_date"
    return frozenset({table.primary_key} | ({date} if generated and not table.column(date).null_rate else set()))


def table_ddl(table: TableSpec) -> str:
    """The output schema as a DDL string, nullability included (every file of a table has this schema)."""
    required = required_columns(table)
    return ", ".join(f"{c.name} {spark_type(c.type)}{' NOT NULL' * (c.name in required)}" for c in table.output_columns)


def _zero_sql(type_name: str) -> str:
    """A typed non-null literal of a catalog type (the never-taken fallback of a required column)."""
    if type_name in ("date", "timestamp"):
        return f"CAST(DATE'1970-01-01' AS {type_name.upper()})"
    return f"CAST('0' AS {spark_type(type_name)})" if type_name == "string" else f"CAST(0 AS {spark_type(type_name)})"


def output_selection(table: TableSpec, guard: str) -> list[str]:
    """The output columns with the DDL's nullability, whatever the batch's shape.

    Spark infers nullability from the expressions, which differ with the batch (a literal day or
    an array lookup, one file or several), so it would flip between files. Required columns are
    wrapped in ``coalesce`` with a typed zero (never taken), the others in ``IF(guard, c, NULL)``
    where ``guard`` is a condition true on every row that the optimizer cannot fold away.
    """
    required = required_columns(table)
    return [
        f"coalesce(`{c.name}`, {_zero_sql(c.type)}) AS `{c.name}`"
        if c.name in required
        else f"IF({guard}, `{c.name}`, NULL) AS `{c.name}`"
        for c in table.output_columns
    ]


def _apply_with_ledger(
    spark: SparkSession,
    config: JobConfig,
    dataset: DatasetSpec,
    table: TableSpec,
    frame: DataFrame,
    stages: Stages,
    slices: list[FileSlice],
) -> DataFrame:
    """``stages`` applied to ``frame``; for a ledger with sweep rows, in two steps around the join of their
    ledger sums (``engine.ledger``), by each sweep row's entity."""
    ledger = ledger_of(dataset, table.name)
    if ledger is None:
        return stages.apply(frame)
    sweeps = sweep_dates(table.name, slices)
    if not sweeps:  # formula rows only: no sweep reads the sum
        return stages.apply(frame.selectExpr("*", f"CAST(NULL AS DOUBLE) AS {LEDGER_SUM}"))
    first = stages.needed({LEDGER_KEY})
    frame = stages.apply(frame, only=first)
    sums = ledger_sums(spark, config, dataset, ledger, sweeps).hint("broadcast")
    frame = frame.join(sums, F.col(LEDGER_KEY) == F.col(SUM_KEY), "left").drop(SUM_KEY)
    return stages.apply(frame, only=stages.names() - first)


WINDOW_ROWS = 1 << 20  # at most this many rows in a file of a window (its row indexes are one array)
WINDOW_BATCHES = 32  # a table's one-file batches that share one window frame (a month of daily batches)
FEED_WINDOW_ROWS = 60_000  # about this many possible changes at most in a change feed's window (all its days)


def window_length(config: JobConfig, dataset: DatasetSpec, table_days: list[TableDay]) -> int:
    """How many of a table's one-file batches (``table_days``, in order) share a window frame: WINDOW_BATCHES;
    for a listed change feed, as many as list about FEED_WINDOW_ROWS possible changes (by the first day's).

    A feed's filter on its file applies after the listed changes are checked (``derived.kept_apart`` keeps it
    above them), so each batch of a feed's window lists and checks the whole window's: past about 90,000 listed
    rows a batch costs more than building its own frame saves (docs/output.md).
    """
    table = table_days[0].table
    if not table.derived_from:
        return WINDOW_BATCHES
    if not windowable(config, dataset, table_days):  # not a listed feed: no window
        return 1
    from synthgen_spark.derived import listed_rows  # the derived tables build on the engine

    first = listed_rows(config, dataset, table, [table_days[0].date])
    return max(1, min(WINDOW_BATCHES, FEED_WINDOW_ROWS // max(first, 1)))


def windowable(config: JobConfig, dataset: DatasetSpec, table_days: list[TableDay]) -> bool:
    """Whether ``table_days`` (one table, one file each) can share a window frame (``window=True``): rows of
    one event day per file, none of a ledger, a fault, and files of at most WINDOW_ROWS; of the derived tables,
    the listed change feeds (``derived.listed_feed``), whose rows are their lists (a plan's rows for them are
    the entities, not what the window explodes)."""
    table = table_days[0].table
    if table.derived_from:
        from synthgen_spark.derived import listed_feed

        if not listed_feed(config, dataset, table):
            return False
    exploded = 0 if table.derived_from else max(td.rows for td in table_days)
    return not (
        is_late_table(table)
        or ledger_of(dataset, table.name) is not None
        or (config.fault_rate and fault_targets(config, dataset, table))
        or exploded > WINDOW_ROWS
        or any(td.segments or td.partitions != 1 for td in table_days)
    )


def _file_rows(spark: SparkSession, files: int, sizes: Expr) -> DataFrame:
    """A window's leaf: one row per file (an inline table, which Spark's optimiser filters while planning),
    exploded into its ``sizes`` local indexes. A filter on the file index above it leaves one file's rows,
    in one task."""
    values = ", ".join(f"({index}L)" for index in range(files))
    frame = spark.sql(f"SELECT * FROM VALUES {values} AS files({FILE_INDEX})")
    rows = f"CASE WHEN {sizes.sql} > 0 THEN sequence(0L, {sizes.sql} - 1L) ELSE CAST(array() AS ARRAY<BIGINT>) END"
    return frame.selectExpr(FILE_INDEX, f"explode({rows}) AS {LOCAL_INDEX}")


def build_batch_frame(
    spark: SparkSession,
    config: JobConfig,
    dataset: DatasetSpec,
    table_days: list[TableDay],
    with_file_index: bool = False,
    tasks: int | None = None,
    parallelism: int = 2,
    labels: bool = False,
    labels_into: dict[str, tuple[tuple[TableDay, ...], DataFrame]] | None = None,
    window: bool = False,
) -> DataFrame:
    """The rows of one table over a batch of days, file by file in order, each file within one partition.

    With ``with_file_index`` (for the file writer) and fewer ``tasks`` than files, the frame starts
    with the column ``_sg_file_index``: file f's rows, sorted within their partition. ``tasks``
    defaults to ``task_count`` for ``parallelism`` (the tasks Spark runs at once; the run passes the
    session's). Neither changes the data, only how it is split into Spark tasks. With ``fault_rate``
    the data-quality faults are applied last (synthgen_spark/dirty.py); ``labels`` returns their labels instead,
    and ``labels_into`` receives them by table name (with the table-days), built on the same analysed frame.

    ``window`` (``windowable`` table-days, one file each): the frame of many batches of one file, analysed
    once, with the column ``_sg_file_index``; ``window_batch`` takes one file's rows from it.
    """
    table = table_days[0].table
    segments = file_segments(table_days)
    slices = [
        file[0] if len(file) == 1 else FileSlice(file[0].table_day, 0, sum(s.rows for s in file)) for file in segments
    ]
    chosen, tasks = tasks, tasks or task_count(slices, parallelism)
    faulted = bool(config.fault_rate and fault_targets(config, dataset, table))
    fault_days = []
    if faulted:  # the dirty layer builds on the engine: imported here, not at module load
        from synthgen_spark.dirty import RowFaults, file_faults, with_copies

        fault_days = file_faults(config, dataset, table_days)
    copies = [0 if labels else f.day.duplicates for f in fault_days] or [0] * len(slices)  # a label has no copy
    sizes = [s.rows + c for s, c in zip(slices, copies, strict=True)]  # a file's rows, then its copies
    files, widest = len(slices), max(sizes)
    listed = False
    if table.derived_from:  # the derived tables build on the engine: imported here, not at module load
        from synthgen_spark.derived import listed_feed

        listed = listed_feed(config, dataset, table)
    if listed:  # a change feed of listed changes: few rows, the files share the tasks Spark runs at once
        tasks = min(files, chosen or parallelism)
    elif table.derived_from or table.churn == "delete":  # no padding rows: our filters may run before that filter
        tasks = files
    stages = Stages()
    if window:
        tasks = 1 if listed else files  # a listed feed's rows are its lists', not these (``derived._listed``)
        facts = BatchFacts(slices, sql.col(FILE_INDEX), stages)
        frame = _file_rows(spark, files, facts.lookup(sizes))
    else:
        per_task = -(-files // tasks)
        frame = spark.range(0, tasks * per_task * widest, 1, tasks)
        if files == 1:  # least(id, 0) = 0, not a constant Spark folds: facts stay array reads, code stays reusable
            frame = frame.selectExpr(f"least(id, 0L) AS {FILE_INDEX}", f"id AS {LOCAL_INDEX}")
        else:
            frame = frame.selectExpr(
                f"id div {widest}L AS {FILE_INDEX}", f"id - (id div {widest}L) * {widest}L AS {LOCAL_INDEX}"
            )
        facts = BatchFacts(slices, sql.col(FILE_INDEX), stages, padding=tasks * per_task - files)
        if tasks * per_task > files:
            frame = frame.where(f"{FILE_INDEX} < {files}")
        if any(n != widest for n in sizes):
            frame = frame.where(f"{LOCAL_INDEX} < {facts.lookup(sizes).sql}")
    grouped = with_file_index and tasks < files
    if grouped:  # the ids are in this order already; the sort tells Spark, whose writer needs it per file
        frame = frame.sortWithinPartitions(FILE_INDEX, LOCAL_INDEX)
    if any(copies):  # each file's duplicate_row copies: its extra local indexes become their originals'
        frame = with_copies(frame, fault_days, facts)
    file_facts = facts
    if is_late_table(table) or any(td.segments for td in table_days):  # files of several event days: by segment
        frame, facts = _segment_rows(frame, segments, facts, stages)
    else:
        row_index = facts.lookup([s.start for s in slices]) + sql.col(LOCAL_INDEX)
        frame = frame.selectExpr("*", f"{row_index.sql} AS {ROW_INDEX}")
    if table.derived_from and dataset.table(table.derived_from).kind == "incremental":  # a fact's progress steps
        from synthgen_spark.derived import progress_feed_frame

        days = BatchFacts(slices, sql.col(FILE_INDEX), stages).lookup(
            [(td.date - UNIX_EPOCH).days for td in table_days for _ in range(td.partitions)]
        )
        frame = progress_feed_frame(frame, config, dataset, table, facts, days)
        return frame.selectExpr(*[FILE_INDEX] * grouped, *output_selection(table, f"`{table.primary_key}` >= 0"))
    if table.derived_from:  # a change feed or history: built from the snapshot table's generators
        from synthgen_spark.derived import derived_frame

        grouped = grouped or window
        frame = derived_frame(frame, config, dataset, table, slices, grouped, tasks)  # its key is a long >= 0
        return frame.selectExpr(*[FILE_INDEX] * grouped, *output_selection(table, f"`{table.primary_key}` >= 0"))
    scope = RowScope(config, dataset, table, facts, stages, sql.col(ROW_INDEX))
    if is_late_table(table):  # the date of the file the row is in
        arrivals = [(td.date - UNIX_EPOCH).days for td in table_days for _ in range(td.partitions)]
        arrival = sql.date_add(sql.lit(UNIX_EPOCH), file_facts.lookup(arrivals))
        stages.define(ARRIVAL_COLUMN, lambda: arrival)
    for spec in table.columns:
        scope.column(spec.name)
    faults = None
    if faulted:
        faults = RowFaults(config, dataset, scope, fault_days, file_facts, copied=any(copies))
    present = None
    if table.churn == "delete":  # churned entities leave the snapshot (hard deletes)
        lifecycle = EntityLifecycle(scope.settings, dataset, table)
        present = stages.stage("_sg_present", lifecycle.is_active(scope, scope.row_index, scope.day_ordinal))
    try:
        frame = _apply_with_ledger(spark, config, dataset, table, frame, stages, facts.slices)
    except StageError as exc:
        name = exc.name.removesuffix("__number")
        if name not in table.column_names or table.column(name).kind != "derived":
            raise
        earlier = table.column_names[: table.column_names.index(name)]
        allowed = f"Spark SQL over the columns defined before it ({', '.join(earlier)})"
        where = place(dataset.source, table=table.name, column=name)
        given = table.column(name).params.get("expression", "")
        raise SpecError(invalid("expression", allowed, given, where=where, problem=exc.message)) from None
    if present is not None:
        frame = frame.where(present.sql)
    if table.progress is not None and config.fact_states == "as_of":  # the row as of its event day
        states = as_of(table.progress, f"`{table.primary_date_column}`")
        frame = frame.withColumns({name: F.expr(expression) for name, expression in states.items()})
    if faults is not None:
        if labels:
            return faults.labels(frame)
        if labels_into is not None:  # built on the same analysed frame
            labels_into[table.name] = (tuple(table_days), faults.labels(frame))
        frame = faults.dirty(frame)
    return frame.selectExpr(*[FILE_INDEX] * (grouped or window), *output_selection(table, f"{ROW_INDEX} >= 0"))


def window_batch(window: DataFrame, file: int) -> DataFrame:
    """The rows of file ``file`` of a window frame (``build_batch_frame(..., window=True)``): one task, and
    only the filter is analysed again."""
    return window.where(f"{FILE_INDEX} = {file}").drop(FILE_INDEX)
