"""Engine: one DataFrame per table per batch, one ``spark.range`` over the whole batch.

A batch of one table is a list of files (table-day slices). With P files of at most S rows, id
``f*S + i`` is row i of file f; the ids past a file's size are filtered out. Files are grouped into
T Spark tasks of G = ceil(P/T) whole files each (``spark.range(0, T*G*S, 1, T)``): one file per task
for large files, fewer tasks than files for many small ones, where each task's fixed cost (code
generation of the table's expressions) would otherwise dominate. The grouping never changes data.

Exprs are built in **stages**: every column (and every intermediate a generator asks to share,
such as a foreign key's candidates or a weighted choice's uniform) is computed once, in a select of its
own at the level after everything it reads, and later expressions refer to it by name. Spark keeps
such a select apart only where a value is read more than once, so each value is computed once per
row and the whole table stays one code-generated stage. Per-day facts (date, ID offsets, row
counts, populations) are literals in a one-day batch and one array lookup per row otherwise.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from synthgen_spark.catalog import ColumnSpec, DatasetSpec, PoolSpec, TableSpec
from synthgen_spark.changes import as_of
from synthgen_spark.config import JobConfig
from synthgen_spark.errors import SpecError
from synthgen_spark.faults import fault_targets
from synthgen_spark.generators import build_value, column_seed, day_row_key, sql
from synthgen_spark.generators.categorical import array_literal
from synthgen_spark.generators.core import (
    UNIX_EPOCH,
    cast_to,
    decimal_from_double,
    exact_decimal_scale,
    round_to_scale,
    spark_type,
)
from synthgen_spark.generators.keys import most_children
from synthgen_spark.generators.lifecycle import EntityLifecycle
from synthgen_spark.generators.sql import Expr
from synthgen_spark.generators.versions import changing_value, group_of
from synthgen_spark.lateness import ARRIVAL_COLUMN, is_late_table
from synthgen_spark.layout import FILE_INDEX
from synthgen_spark.planner import TableDay
from synthgen_spark.pools import load_locale_pools

ROW_INDEX = "_sg_row_index"
LOCAL_INDEX = "_sg_local"
SEGMENT_INDEX = "_sg_segment"
ROWS_PER_TASK = 1_000_000  # small files are grouped into tasks of about this many rows at most


@dataclass(frozen=True)
class FileSlice:
    """Rows [start, start + rows) of one table-day, written as one file."""

    table_day: TableDay
    start: int
    rows: int


def file_slices(table_days: list[TableDay]) -> list[FileSlice]:
    """Split each table-day into its files: balanced parts of at most chunk_size rows, in order."""
    return [file[0] for file in file_segments(table_days)]


def file_segments(table_days: list[TableDay]) -> list[list[FileSlice]]:
    """Each file of the table-days as its slices: one per event day whose rows it holds (late arrivals)."""
    files = []
    for td in table_days:
        pieces = [FileSlice(s.source, s.start, s.rows) for s in td.segments] or [FileSlice(td, 0, td.rows)]
        bounds = [td.rows * i // td.partitions for i in range(td.partitions + 1)]
        files.extend(_cut(pieces, lo, hi) for lo, hi in zip(bounds, bounds[1:], strict=False))
    return files


def _cut(pieces: list[FileSlice], low: int, high: int) -> list[FileSlice]:
    """The slices of rows [low, high) of ``pieces`` laid end to end (one empty slice when there are none)."""
    cut, offset = [], 0
    for piece in pieces:
        first, end = max(low, offset), min(high, offset + piece.rows)
        if first < end:
            cut.append(FileSlice(piece.table_day, piece.start + first - offset, end - first))
        offset += piece.rows
    return cut or [FileSlice(pieces[0].table_day, pieces[0].start + low, 0)]


class Stages:
    """Named SQL expressions of one batch frame, each at the level after the deepest name it reads.

    ``define(name, build)`` builds an expression once and returns a reference to it whose level
    is one more than the expression's; ``apply`` adds the expressions to a frame level by level,
    one ``selectExpr`` per level.
    """

    def __init__(self) -> None:
        self._expressions: dict[str, Expr] = {}
        self._building: list[str] = []

    def __contains__(self, name: str) -> bool:
        return name in self._expressions

    def ref(self, name: str) -> Expr:
        """A reference to the defined expression ``name``."""
        return sql.col(name, self._expressions[name].level + 1)

    def define(self, name: str, build: Callable[[], Expr], after: int = 0) -> Expr:
        """A reference to ``name``, built with ``build()`` the first time (at a level above ``after``)."""
        if name not in self._expressions:
            if name in self._building:
                raise SpecError(f"column '{name}' depends on itself: {' -> '.join(self._building)} -> {name}")
            self._building.append(name)
            try:
                expression = build()
            finally:
                self._building.pop()
            self._expressions[name] = Expr(expression.sql, max(expression.level, after))
        return self.ref(name)

    def stage(self, name: str, expression: Expr) -> Expr:
        """A reference to ``expression`` computed once per row under ``name``."""
        return self.define(name, lambda: expression)

    def apply(self, frame: DataFrame) -> DataFrame:
        """``frame`` with every expression added, level by level.

        Raises:
            StageError: naming the expression Spark could not parse or resolve (user SQL, usually).
        """
        ordered = sorted(self._expressions.items(), key=lambda item: item[1].level)
        columns = {n: f"{e.sql} AS `{n}`" for n, e in ordered}
        with quiet_query_context_logs():
            try:  # one select: later expressions read earlier ones by name (lateral column aliases)
                return frame.selectExpr("*", *columns.values())
            except AnalysisException:
                for name, text in columns.items():
                    try:
                        frame = frame.selectExpr("*", text)
                    except AnalysisException as exc:
                        raise StageError(name, _first_line(exc)) from None
                raise


class StageError(Exception):
    """Spark rejected the expression of stage ``name``."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


def _first_line(exc: Exception) -> str:
    line = str(exc).strip().splitlines()[0]
    return re.split(r" Did you mean | SQLSTATE: ", line)[0].rstrip(". ")


@contextmanager
def quiet_query_context_logs() -> Iterator[None]:
    """PySpark logs every Spark error with its query context and Java stack; ours become one line instead."""
    loggers = query_context_loggers()
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def query_context_loggers() -> list[logging.Logger]:
    """PySpark's query-context loggers, created as PySpark creates them (PySparkLogger).

    A plain ``logging.getLogger`` of these names first would make PySpark's own later
    ``logger.exception(..., errorClass=...)`` fail and hide the real Spark error behind a TypeError.
    """
    try:
        from pyspark.logger import PySparkLogger
    except ImportError:  # pyspark 3.5 has no query-context logging
        return []
    return [PySparkLogger.getLogger(name) for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger")]


class BatchFacts:
    """Per-file facts of a batch: literals when every file agrees, else staged array lookups."""

    def __init__(self, slices: list[FileSlice], file_index: Expr, stages: Stages) -> None:
        self.slices = slices
        self.file_index = file_index
        self.stages = stages

    def per_file(self, name: str, values: list) -> Expr:
        """The file's value of a fact, computed once per row (a literal when every file agrees)."""
        if len(set(values)) == 1:
            return sql.lit(values[0])
        return self.stages.define(f"_sg_{name}", lambda: self.lookup(values))

    def lookup(self, values: list) -> Expr:
        """``values[file index]`` as an expression (literal when every file agrees), not staged."""
        if len(set(values)) == 1:
            return sql.lit(values[0])
        return sql.element_at(array_literal(tuple(values)), (self.file_index + sql.lit(1)).cast("int"))

    def day_ordinal(self) -> Expr:
        return self.per_file("day_ordinal", [(s.table_day.date - UNIX_EPOCH).days for s in self.slices])

    def day(self) -> Expr:
        dates = {s.table_day.date for s in self.slices}
        if len(dates) == 1:
            return sql.lit(dates.pop())
        return self.stages.define("_sg_day", lambda: sql.date_add(sql.lit(UNIX_EPOCH), self.day_ordinal()))

    def fact(self, kind: str, table: str) -> Expr:
        attribute = {"rows": "rows", "id_offset": "id_offsets", "population": "populations"}[kind]
        values = [getattr(s.table_day.facts, attribute)[table] for s in self.slices]
        return self.per_file(f"{kind}_{table}", values).cast("bigint")

    def children_bound(self, parent: str, child: str, shape: tuple[int, ...] = ()) -> int:
        """The most children any parent has on these days (generators.keys.most_children)."""
        rows = [s.table_day.facts.rows for s in self.slices]
        return max(most_children(r[parent], r[child], shape) for r in rows)


class RowScope:
    """The rows of one table in one batch, indexed by ``row_index``; builds its columns as stages.

    Incremental rows are keyed by (day, row index); snapshot rows by the entity index alone, so an
    entity keeps its attributes in every snapshot. A related scope (another table's rows that this
    one reads: a looked-up entity, a child of a parent) names its stages with its own prefix.
    """

    def __init__(
        self,
        config: JobConfig,
        dataset: DatasetSpec,
        table: TableSpec,
        facts: BatchFacts,
        stages: Stages,
        row_index: Expr,
        prefix: str = "",
    ) -> None:
        self.config = config
        self.dataset = dataset
        self.table = table
        self.facts = facts
        self.stages = stages
        self.prefix = prefix
        self.row_index = row_index

    @property
    def day(self) -> Expr:
        return self.facts.day()

    @property
    def day_ordinal(self) -> Expr:
        return self.facts.day_ordinal()

    @property
    def row_key(self) -> Expr:
        if self.table.kind != "incremental":
            return self.row_index
        return day_row_key(self.day_ordinal, self.row_index)

    def seed(self, column: str, salt: str = "") -> int:
        return column_seed(self.config.seed_value, self.table.name, column, salt)

    def column(self, name: str) -> Expr:
        spec = self.table.column(name)
        key = self.prefix + name
        if key not in self.stages:
            after = self._after_earlier_columns(spec) if spec.kind == "derived" else 0
            scale = exact_decimal_scale(spec.type)
            if scale is None:
                self.stages.define(key, lambda: cast_to(self._value(spec), spec.type), after)
            else:  # the rounded double first: sums and lookups compute with it, no BigDecimal per row
                number = self.stages.define(f"{key}__number", lambda: round_to_scale(self._value(spec), scale), after)
                self.stages.define(key, lambda: decimal_from_double(number, spec.type))
        return self.stages.ref(key)

    def _value(self, spec: ColumnSpec) -> Expr:
        """The column's value before the cast: of its change group's version in force, if it has a group."""
        group = group_of(self.table, spec.name)
        return build_value(spec, self) if group is None else changing_value(spec, self, group, build_value)

    def number(self, name: str) -> Expr:
        column = self.column(name)
        number = f"{self.prefix}{name}__number"
        return self.stages.ref(number) if number in self.stages else column

    def _after_earlier_columns(self, spec: ColumnSpec) -> int:
        """A derived column's SQL reads earlier columns by name: the level after all of them."""
        earlier = [c.name for c in self.table.columns[: self.table.columns.index(spec)]]
        if self.prefix or any(n not in self.stages for n in earlier):
            raise SpecError(
                f"{self.dataset.source}: table '{self.table.name}': derived column '{spec.name}' is read before it "
                "is defined; allowed: columns defined earlier in the table"
            )
        return max((self.stages.ref(n).level for n in earlier), default=0)

    def stage(self, name: str, value: Expr) -> Expr:
        return self.stages.stage(self.prefix + name, value)

    def related(self, table: str, row_index: Expr, via: str) -> RowScope:
        prefix = f"{self.prefix}_sg_{via}_{table}_"
        target = self.dataset.table(table)
        return RowScope(self.config, self.dataset, target, self.facts, self.stages, row_index, prefix)

    def pool(self, name: str) -> PoolSpec:
        if name in self.dataset.pools:
            return self.dataset.pools[name]
        pools = load_locale_pools(self.config.locale)
        if name not in pools:
            names = ", ".join(sorted(set(self.dataset.pools) | set(pools)))
            raise SpecError(
                f"{self.dataset.source}: table '{self.table.name}': unknown pool {name!r}; allowed: {names}"
            )
        return pools[name]

    def day_fact(self, kind: str, table: str) -> Expr:
        return self.facts.fact(kind, table)

    def children_bound(self, child: str) -> int:
        return self.facts.children_bound(self.table.name, child, self.dataset.table(child).children_shape)

    def drift_factor(self) -> Expr | None:
        """(1 + drift_percentage/100) ** (days since epoch / 30) when drift is on, else None."""
        if not self.config.enable_data_drift:
            return None
        days = self.day_ordinal - sql.lit((self.dataset.epoch - UNIX_EPOCH).days)
        growth = sql.lit(1.0 + self.config.drift_percentage / 100.0)
        return self.stages.stage("_sg_drift", sql.pow(growth, days.cast("double") / sql.lit(30.0)))


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


def task_count(slices: list[FileSlice], parallelism: int) -> int:
    """Spark tasks for a batch's files: at least ``parallelism`` and about ROWS_PER_TASK rows each.

    Every task writes whole files, so there are never more tasks than files. Empty files keep a task
    of their own (a task writes a file for every file index it sees, and an empty one sees none).
    """
    if len(slices) == 1 or min(s.rows for s in slices) == 0:
        return len(slices)
    rows = sum(s.rows for s in slices)
    return min(len(slices), max(parallelism, -(-rows // ROWS_PER_TASK)))


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
) -> DataFrame:
    """The rows of one table over a batch of days, file by file in order, each file within one partition.

    With ``with_file_index`` (for the file writer) and fewer ``tasks`` than files, the frame starts
    with the column ``_sg_file_index``: file f's rows, sorted within their partition. ``tasks``
    defaults to ``task_count`` for ``parallelism`` (the tasks Spark runs at once; the run passes the
    session's). Neither changes the data, only how it is split into Spark tasks. With ``fault_rate``
    the data-quality faults are applied last (synthgen_spark/dirty.py); ``labels`` returns their labels instead,
    and ``labels_into`` receives them by table name (with the table-days), built on the same analysed frame.
    """
    table = table_days[0].table
    segments = file_segments(table_days)
    slices = [
        file[0] if len(file) == 1 else FileSlice(file[0].table_day, 0, sum(s.rows for s in file)) for file in segments
    ]
    files, widest = len(slices), max(s.rows for s in slices)
    tasks = tasks or task_count(slices, parallelism)
    faulted = bool(config.fault_rate and fault_targets(config, dataset, table))
    if faulted and labels_into is not None:  # its labels are taken from this frame: no padding files
        from synthgen_spark.dirty import whole_file_tasks

        tasks = whole_file_tasks(files, tasks)
    if table.derived_from or table.churn == "delete":  # no padding rows: our filters may run before that filter
        tasks = files
    per_task = -(-files // tasks)
    frame = spark.range(0, tasks * per_task * widest, 1, tasks)
    if files == 1:
        frame = frame.selectExpr(f"0 AS {FILE_INDEX}", f"id AS {LOCAL_INDEX}")
    else:
        frame = frame.selectExpr(
            f"id div {widest}L AS {FILE_INDEX}", f"id - (id div {widest}L) * {widest}L AS {LOCAL_INDEX}"
        )
    stages = Stages()
    facts = BatchFacts(slices, sql.col(FILE_INDEX), stages)
    if tasks * per_task > files:
        frame = frame.where(f"{FILE_INDEX} < {files}")
    if any(s.rows != widest for s in slices):
        frame = frame.where(f"{LOCAL_INDEX} < {facts.lookup([s.rows for s in slices]).sql}")
    grouped = with_file_index and tasks < files
    if grouped:  # the ids are in this order already; the sort tells Spark, whose writer needs it per file
        frame = frame.sortWithinPartitions(FILE_INDEX, LOCAL_INDEX)
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

        frame = derived_frame(frame, config, dataset, table, slices, grouped)  # its primary key is a long >= 0
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
        from synthgen_spark.dirty import RowFaults

        faults = RowFaults(config, dataset, scope, table_days, file_facts)
    present = None
    if table.churn == "delete":  # churned entities leave the snapshot (hard deletes)
        present = stages.stage(
            "_sg_present", EntityLifecycle(config, dataset, table).is_active(scope.row_index, scope.day_ordinal)
        )
    try:
        frame = stages.apply(frame)
    except StageError as exc:
        name = exc.name.removesuffix("__number")
        if name not in table.column_names or table.column(name).kind != "derived":
            raise
        earlier = table.column_names[: table.column_names.index(name)]
        raise SpecError(
            f"{dataset.source}: table '{table.name}', column '{name}', field 'expression': {exc.message}; "
            f"allowed: Spark SQL over the columns defined before it ({', '.join(earlier)})"
        ) from None
    if present is not None:
        frame = frame.where(present.sql)
    if table.progress is not None and config.fact_states == "as_of":  # the row as of its event day
        states = as_of(table.progress, f"`{table.primary_date_column}`")
        frame = frame.withColumns({name: F.expr(expression) for name, expression in states.items()})
    if faults is not None:
        if labels:
            return faults.labels(frame)
        if labels_into is not None and tasks * per_task == files:  # no padding files (dirty.whole_file_tasks)
            labels_into[table.name] = (tuple(table_days), faults.labels(frame))
        frame = faults.dirty(frame)
    return frame.selectExpr(*[FILE_INDEX] * grouped, *output_selection(table, f"{ROW_INDEX} >= 0"))
