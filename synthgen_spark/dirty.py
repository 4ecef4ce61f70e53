"""Data-quality faults on the clean frame, and their labels (``_faults``), from the same Spark expressions.

The engine stages, per row, the fault target it gets (-1 for none): an index into the table's flat list
of (fault type, column) targets (``faults.fault_targets``). ``dirty`` replaces the targeted cells; a file's
duplicate_row rows are written again as extra rows of the file (``with_copies``); ``labels`` keeps the
faulted rows as one label each. Which rows, types and columns: see synthgen_spark/faults.py and docs/faults.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from synthgen_spark.catalog import DatasetSpec
from synthgen_spark.config import JobConfig
from synthgen_spark.engine import (
    FILE_INDEX,
    LOCAL_INDEX,
    BatchFacts,
    RowScope,
    build_batch_frame,
)
from synthgen_spark.faults import FAULTS_TABLE, LABEL_COLUMNS, FaultDay, FaultTarget, fault_targets
from synthgen_spark.generators import column_seed, day_row_key, sql
from synthgen_spark.generators.core import hash_key, spark_type
from synthgen_spark.generators.sql import Expr
from synthgen_spark.lateness import ARRIVAL_COLUMN, is_late_table
from synthgen_spark.planner import TableDay, table_day_faults

TARGET = "_sg_fault_target"
PICK = "_sg_fault_pick"
COPY = "_sg_fault_copy"
DIGITS_TO_LETTERS = ("0123456789", "OIZEASGTBQ")


class RowFaults:
    """The fault stages of one table's batch frame: the target of each row, and the dirty value of each target."""

    def __init__(
        self,
        config: JobConfig,
        dataset: DatasetSpec,
        scope: RowScope,
        files: list[FileFaults],
        facts: BatchFacts,
        copied: bool,
    ) -> None:
        """``files``: the batch's files (``file_faults``); ``facts``: by file index; ``copied``: the frame
        has the duplicate_row copies (``with_copies``), flagged by ``COPY``."""
        self.table = scope.table
        self.targets = [t for group in fault_targets(config, dataset, self.table).values() for t in group]
        self.day = scope.day  # the event day (a late row's clean values are its event day's)
        self.late = is_late_table(self.table)
        self.epoch = dataset.epoch
        seed = column_seed(config.seed_value, self.table.name, "", "faults")
        self.pick = scope.stage(PICK, hash_key(day_row_key(scope.day_ordinal, scope.row_index), seed))
        position = scope.row_index  # the row's place in its day (a copy's is its original's: with_copies)
        if self.late:  # among the rows arriving on its file's day
            position = scope.stage("_sg_fault_position", facts.lookup([f.start for f in files]) + sql.col(LOCAL_INDEX))
        self.target = scope.stage(TARGET, self._target(facts, position, [f.day for f in files]))
        self.copied = copied

    @property
    def types(self) -> list[str]:
        """The table's fault types, in the order of ``targets``."""
        return list(dict.fromkeys(t.fault_type for t in self.targets))

    def _target(self, facts: BatchFacts, position: Expr, days: list[FaultDay]) -> Expr:
        """The row's index into ``targets``, or -1: its rank, the type slot of the rank, a column by hash."""

        def per_file(name: str, values: list[int]) -> Expr:
            return facts.per_file(f"fault_{name}", values).cast("bigint")

        faulted = per_file("faulted", [d.faulted for d in days])
        offset = position - per_file("b", [d.b for d in days])
        rows = per_file("rows", [max(d.rows, 1) for d in days])
        rank = facts.stages.stage("_sg_fault_rank", sql.pmod(per_file("a_inv", [d.a_inv for d in days]) * offset, rows))
        m = sql.lit(len(self.types))
        rotation = per_file("rotation", [d.rotation for d in days])
        slot = sql.pmod(sql.div(rank * m, sql.greatest(faulted, sql.lit(1).cast("bigint"))) + rotation, m)
        branches = []
        for index, fault_type in enumerate(self.types):
            first = next(i for i, t in enumerate(self.targets) if t.fault_type == fault_type)
            count = sum(t.fault_type == fault_type for t in self.targets)
            branches.append((slot == sql.lit(index), sql.lit(first) + sql.pmod(self.pick, sql.lit(count)).cast("int")))
        return sql.when(rank < faulted, sql.When(tuple(branches)).otherwise(-1)).otherwise(-1)

    def _dirty(self, target: FaultTarget) -> Expr:
        """The faulted value of ``target``'s column, from its clean value."""
        col = target.column
        clean = sql.col(col.name)
        kind = target.fault_type
        if kind == "null":
            return sql.lit(None).cast(spark_type(col.type))
        if kind == "orphan_key":
            return (sql.lit(0) - clean - sql.lit(1)).cast(spark_type(col.type))
        if kind == "out_of_range":
            return self._out_of_range(target)
        if kind == "malformed":
            if "email" in col.name:
                value = sql.call("replace", clean, sql.lit("@"), sql.lit(""))
            elif col.kind == "template" or "phone" in col.name:
                value = sql.call("translate", clean, *map(sql.lit, DIGITS_TO_LETTERS))
            else:
                value = sql.concat(clean, sql.lit("0"))  # a postcode one character too long
            # a derived value may be null: its fault is then a text that is not null
            return sql.call("coalesce", value, sql.lit("malformed")) if col.kind == "derived" else value
        variant = sql.pmod(sql.shiftrightunsigned(self.pick, 40), sql.lit(3))
        upper, lower = sql.call("upper", clean), sql.call("lower", clean)
        has_case = Expr(f"({upper.sql} <> {lower.sql})", clean.level)
        return (
            sql.when((variant == sql.lit(2)) & has_case, sql.when(clean == upper, lower).otherwise(upper))
            .when(variant == sql.lit(0), sql.concat(sql.lit(" "), clean))
            .otherwise(sql.concat(clean, sql.lit(" ")))
        )

    def _out_of_range(self, target: FaultTarget) -> Expr:
        """Below the declared minimum (the negated value when the minimum is positive); dates mirrored past the base."""
        col = target.column
        clean = sql.col(col.name)
        if col.kind == "date_offset":
            low, high = int(target.low), int(target.high)
            base = col.params.get("base", "generation_date")
            if low <= 0 <= high:
                return sql.date_add(clean, sql.lit(high - low + 1))
            if base == "generation_date":
                origin = self.day
            elif base == "epoch":
                origin = sql.lit(self.epoch)
            else:
                origin = sql.col(base).cast("date")
            return sql.date_add(origin, sql.call("datediff", origin, clean))
        below = 2 * target.low - 1
        value = sql.lit(0) - clean if target.low > 0 else sql.lit(int(below) if below.is_integer() else below) - clean
        return value.cast(spark_type(col.type))

    def dirty(self, frame: DataFrame) -> DataFrame:
        """``frame`` with every targeted cell replaced (its duplicate_row rows are copied by ``copies``)."""
        replaced = {}
        for col in self.table.output_columns:
            cases = [(i, t) for i, t in enumerate(self.targets) if t.column is not None and t.column.name == col.name]
            if cases:
                value = sql.When(tuple((sql.col(TARGET) == sql.lit(i), self._dirty(t)) for i, t in cases))
                replaced[col.name] = F.expr(value.otherwise(sql.col(col.name)).sql)
        return frame.withColumns(replaced) if replaced else frame

    def labels(self, frame: DataFrame) -> DataFrame:
        """One row per faulted row of ``frame``: table, date, primary key, column, type, clean and dirty values."""

        def by_target(value) -> str:
            branches = " ".join(f"WHEN {i} THEN {value(t)}" for i, t in enumerate(self.targets))
            return f"CASE {TARGET} {branches} END"

        def text(expr: Expr | None) -> str:
            return "CAST(NULL AS STRING)" if expr is None else f"CAST({expr.sql} AS STRING)"

        faulted = f"{TARGET} >= 0 AND {COPY} = 0" if self.copied else f"{TARGET} >= 0"  # a copy has no label
        return frame.where(faulted).selectExpr(
            f"{sql.lit(self.table.name).sql} AS `table`",
            f"{sql.col(ARRIVAL_COLUMN).sql if self.late else self.day.sql} AS `date`",  # the file's date
            f"CAST(`{self.table.primary_key}` AS STRING) AS primary_key",
            f"{by_target(lambda t: sql.lit(t.column.name if t.column else None).sql)} AS `column`",
            f"{by_target(lambda t: sql.lit(t.fault_type).sql)} AS fault_type",
            f"{by_target(lambda t: text(sql.col(t.column.name) if t.column else None))} AS clean_value",
            f"{by_target(lambda t: text(self._dirty(t) if t.column else None))} AS dirty_value",
        )


@dataclass(frozen=True)
class FileFaults:
    """One file of a batch: its day's faults, its first row's place in the day and its rows."""

    day: FaultDay
    start: int
    rows: int


def file_faults(config: JobConfig, dataset: DatasetSpec, table_days: list[TableDay]) -> list[FileFaults]:
    """The batch's files in file order (the frame's file index), each with its day's faults."""
    files = []
    for td in table_days:
        day = table_day_faults(config, dataset, td)
        bounds = [td.rows * i // td.partitions for i in range(td.partitions + 1)]
        files += [FileFaults(day, low, high - low) for low, high in zip(bounds[:-1], bounds[1:], strict=True)]
    return files


def with_copies(frame: DataFrame, files: list[FileFaults], facts: BatchFacts) -> DataFrame:
    """``frame`` whose files hold their duplicate_row copies as extra local indexes after their rows.

    Each file of n_f rows gets the extra indexes n_f + j, j < the day's duplicates D; extra index n_f + j is the
    copy of the day's duplicate_row rank ``start + j``, at place ``p = (a x (start + j) + b) mod n`` in the day,
    and becomes the local index ``p - (file's first place)``. A copy is then the same row as its original,
    so it computes the same values, and is only a few longs until then (``COPY`` = 1 marks it). A day in
    several files (``chunk_size``) keeps in each file the copies of its own rows, so nothing depends on
    the split: each file scans the day's D extra indexes and keeps those whose place is in it.
    """
    local = sql.col(LOCAL_INDEX)

    def per_file(values: list[int]) -> Expr:
        return facts.lookup(values).cast("bigint")

    rows, first = per_file([f.rows for f in files]), per_file([f.start for f in files])
    rank = per_file([f.day.duplicates_start for f in files]) + local - rows
    days = [f.day for f in files]
    place = sql.pmod(
        per_file([d.a for d in days]) * rank + per_file([d.b for d in days]), per_file([max(d.rows, 1) for d in days])
    )
    copy = local >= rows
    frame = frame.selectExpr(
        *[c for c in frame.columns if c != LOCAL_INDEX],
        f"{sql.when(copy, place - first).otherwise(local).sql} AS {LOCAL_INDEX}",
        f"CAST({copy.sql} AS INT) AS {COPY}",
    )
    if all(f.rows == f.day.rows for f in files):  # every day in one file: each copy's place is in it
        return frame
    return frame.where(f"{COPY} = 0 OR ({LOCAL_INDEX} >= 0 AND {LOCAL_INDEX} < {rows.sql})")


def empty_labels(spark: SparkSession) -> DataFrame:
    """No labels, every column nullable: a Range of no rows (a local Python list would start Python workers)."""
    columns = [f"CAST(NULL AS {type_name.upper()}) AS `{name}`" for name, type_name in LABEL_COLUMNS]
    return spark.range(0, 0, 1, 1).selectExpr(*columns)


def fault_labels_frame(
    spark: SparkSession,
    config: JobConfig,
    dataset: DatasetSpec,
    label_days: list[TableDay],
    with_file_index: bool,
    built: dict[str, tuple[tuple[TableDay, ...], DataFrame]] | None = None,
    parallelism: int = 2,
) -> DataFrame:
    """The ``_faults`` rows of a batch's label days: the labels of the table-days each labels, one file per day.

    ``built``: labels the engine made beside the batch's table frames (``labels_into``); a table's are used
    when they cover exactly the table-days to label, which saves building and analysing its frame again.
    """
    groups: dict[str, list[TableDay]] = {}
    for td in (source for day in label_days for source in day.labels_of):
        groups.setdefault(td.table.name, []).append(td)
    frames = [
        _table_labels(spark, config, dataset, tds, (built or {}).get(name), parallelism) for name, tds in groups.items()
    ]
    frame = empty_labels(spark)
    for other in frames:
        frame = frame.unionByName(other)
    if not with_file_index:
        return frame
    dates = " ".join(f"WHEN DATE'{td.date.isoformat()}' THEN {i}" for i, td in enumerate(label_days))
    frame = frame.selectExpr(f"CASE `date` {dates} END AS {FILE_INDEX}", "*")
    # a file's labels come from several frames: one shuffle brings them together, into as many tasks as run at
    # once (a task writes its files one after the other); the sort makes each file's order the same every run
    tasks = min(len(label_days), parallelism)
    return frame.repartition(tasks, FILE_INDEX).sortWithinPartitions(FILE_INDEX, "table", "primary_key")


def _table_labels(
    spark: SparkSession,
    config: JobConfig,
    dataset: DatasetSpec,
    table_days: list[TableDay],
    built: tuple[tuple[TableDay, ...], DataFrame] | None,
    parallelism: int,
) -> DataFrame:
    """One table's labels: the engine's (when they label these days and no others), else a frame of their own."""
    if built is not None:
        faulted = {td.date for td in built[0] if table_day_faults(config, dataset, td).faulted}
        if faulted == {td.date for td in table_days}:
            return built[1]
    return build_batch_frame(spark, config, dataset, table_days, parallelism=parallelism, labels=True)


def is_labels_table(table_days: list[TableDay]) -> bool:
    """True for the table-days of ``_faults`` (built by ``fault_labels_frame``, not by the engine)."""
    return table_days[0].table.name == FAULTS_TABLE
