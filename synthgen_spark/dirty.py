"""Data-quality faults on the clean frame, and their labels (``_faults``), from the same Spark expressions.

The engine stages, per row, the fault target it gets (-1 for none): an index into the table's flat list
of (fault type, column) targets (``faults.fault_targets``). ``dirty`` replaces the targeted cells and
writes duplicate_row rows twice; ``labels`` keeps the faulted rows as one label each. Which rows, types
and columns: see synthgen_spark/faults.py and docs/faults.md.
"""

from __future__ import annotations

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
    file_slices,
    task_count,
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
        self, config: JobConfig, dataset: DatasetSpec, scope: RowScope, table_days: list[TableDay], files: BatchFacts
    ) -> None:
        """``table_days``: the batch's (file) days, each in ``partitions`` files; ``files``: facts by file index."""
        self.table = scope.table
        self.targets = [t for group in fault_targets(config, dataset, self.table).values() for t in group]
        self.day = scope.day  # the event day (a late row's clean values are its event day's)
        self.late = is_late_table(self.table)
        self.epoch = dataset.epoch
        seed = column_seed(config.seed_value, self.table.name, "", "faults")
        self.pick = scope.stage(PICK, hash_key(day_row_key(scope.day_ordinal, scope.row_index), seed))
        file_days = [td for td in table_days for _ in range(td.partitions)]
        days = [table_day_faults(config, dataset, td) for td in file_days]
        position = staged = scope.row_index  # a column of the frame before any stage, as are the file and local index
        if self.late:  # the row's place among the rows arriving on its file's day (its rank's argument)
            starts = [td.rows * i // td.partitions for td in table_days for i in range(td.partitions)]
            position = files.lookup(starts) + sql.col(LOCAL_INDEX)
            staged = scope.stage("_sg_fault_position", position)
        self.target = scope.stage(TARGET, self._target(files, staged, days))
        self.copied = False
        self.duplicated: Expr | None = None  # a duplicate_row row? (from the frame's first columns only)
        if "duplicate_row" in self.types:
            (rank, faulted), slot = self._rank_and_slot(files, position, days, staged=False)
            self.duplicated = (rank < faulted) & (slot == sql.lit(self.types.index("duplicate_row")))

    @property
    def types(self) -> list[str]:
        """The table's fault types, in the order of ``targets``."""
        return list(dict.fromkeys(t.fault_type for t in self.targets))

    def _rank_and_slot(
        self, facts: BatchFacts, position: Expr, days: list[FaultDay], staged: bool
    ) -> tuple[tuple[Expr, Expr], Expr]:
        """((rank, faulted), type slot) of the row; ``staged``: per-file facts and the rank as stages, else inline."""

        def per_file(name: str, values: list[int]) -> Expr:
            value = facts.per_file(f"fault_{name}", values) if staged else facts.lookup(values)
            return value.cast("bigint")

        faulted = per_file("faulted", [d.faulted for d in days])
        offset = position - per_file("b", [d.b for d in days])
        rows = per_file("rows", [max(d.rows, 1) for d in days])
        a_inv = per_file("a_inv", [d.a_inv for d in days])
        rank = sql.pmod(a_inv * offset, rows)
        rank = facts.stages.stage("_sg_fault_rank", rank) if staged else rank
        m = sql.lit(len(self.types))
        rotation = per_file("rotation", [d.rotation for d in days])
        slot = sql.pmod(sql.div(rank * m, sql.greatest(faulted, sql.lit(1).cast("bigint"))) + rotation, m)
        return (rank, faulted), slot

    def _target(self, facts: BatchFacts, position: Expr, days: list[FaultDay]) -> Expr:
        """The row's index into ``targets``, or -1: its rank, the type slot of the rank, a column by hash."""
        (rank, faulted), slot = self._rank_and_slot(facts, position, days, staged=True)
        types = self.types
        branches = []
        for index, fault_type in enumerate(types):
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

    def copies(self, frame: DataFrame) -> DataFrame:
        """``frame`` (its first columns, before any stage) with each duplicate_row row twice, copy 0 then copy 1.

        Copied before the row's columns are computed, where a row is a few longs: each copy then computes
        the same values (a pure function of its row index), and the copy costs almost nothing. A copy of the
        finished row (every column, order_total's child sums too) cost about as much as the other faults together.
        """
        if self.duplicated is None:
            return frame
        self.copied = True
        # the flag in a projection first: Spark evaluates a generator's expression row by row, uncompiled
        frame = frame.withColumn(COPY, F.expr(f"CASE WHEN {self.duplicated.sql} THEN 2 ELSE 1 END"))
        return frame.withColumn(COPY, F.expr(f"explode(sequence(0, {COPY} - 1))"))

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


def empty_labels(spark: SparkSession) -> DataFrame:
    """No labels, every column nullable: a Range of no rows (a local Python list would start Python workers)."""
    columns = [f"CAST(NULL AS {type_name.upper()}) AS `{name}`" for name, type_name in LABEL_COLUMNS]
    return spark.range(0, 0, 1, 1).selectExpr(*columns)


def whole_file_tasks(files: int, wanted: int) -> int:
    """The fewest tasks, at least ``wanted``, of whole files and no padding file (a divisor of ``files``).

    For a frame whose labels are taken from it: a padding file's rows meet the pushed-down label filter,
    whose per-file lookups Spark may evaluate before the filter that drops those rows (as common
    subexpressions: INVALID_ARRAY_INDEX_IN_ELEMENT_AT).
    """
    return min(t for t in range(min(wanted, files), files + 1) if files % t == 0)


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
    return frame.repartition(len(label_days), FILE_INDEX).sortWithinPartitions(FILE_INDEX, "table", "primary_key")


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
    # tasks of whole files and no padding files (see whole_file_tasks): a divisor of the files, as few as
    # the rows allow (the labels generate only the faulted rows)
    files = sum(td.partitions for td in table_days)
    wanted = task_count(file_slices(table_days), parallelism)
    tasks = max(t for t in range(1, wanted + 1) if files % t == 0)
    return build_batch_frame(spark, config, dataset, table_days, tasks=tasks, labels=True)


def is_labels_table(table_days: list[TableDay]) -> bool:
    """True for the table-days of ``_faults`` (built by ``fault_labels_frame``, not by the engine)."""
    return table_days[0].table.name == FAULTS_TABLE
