"""Row scope: what generators see of one table's rows in a batch, and the per-file facts of the batch.

Generators get a narrow scope (``generators.registry.Scope``): the job's seed and scale
(``GeneratorSettings``), the rows' day and index, the day's facts and other columns; never the JobConfig.
Per-day facts (date, ID offsets, row counts, populations, a foreign key's pick table) are array lookups by
the row's file, in every batch (``BatchFacts``: so the next batch reuses Spark's generated code). The scope builds each column as a stage (``engine.stages``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from synthgen_spark.catalog import ColumnSpec, DatasetSpec, PoolSpec, TableSpec, most_children
from synthgen_spark.config import JobConfig
from synthgen_spark.engine.slicing import FileSlice
from synthgen_spark.engine.stages import Stages
from synthgen_spark.errors import SpecError, invalid, place
from synthgen_spark.generators import build_value, column_seed, day_row_key, sql
from synthgen_spark.generators.core import (
    UNIX_EPOCH,
    cast_to,
    decimal_from_double,
    exact_decimal_scale,
    round_to_scale,
)
from synthgen_spark.generators.registry import GeneratorSettings
from synthgen_spark.generators.sql import Expr
from synthgen_spark.generators.versions import changing_value, group_of
from synthgen_spark.pools import pool_of


class BatchFacts:
    """Per-file facts of a batch: staged lookups into array literals, indexed by the row's file.

    Even when every file agrees, a fact is read from an array, never inlined as a literal: Spark inlines a
    number literal into the code it generates, so one-day batches would each compile new classes for the
    same expressions; an array literal is a reference, so the next batch reuses the compiled code.

    ``padding``: file indexes after the last file that the frame's range holds (so that each task gets whole
    files) and that a filter drops. Their facts are the last file's: Spark may evaluate a lookup before that
    filter (a pushed-down filter, a common subexpression), and it must then stay within the array.
    """

    def __init__(self, slices: list[FileSlice], file_index: Expr, stages: Stages, padding: int = 0) -> None:
        self.slices = slices
        self.file_index = file_index
        self.stages = stages
        self.padding = padding

    def per_file(self, name: str, values: list) -> Expr:
        """The file's value of a fact, computed once per row."""
        return self.stages.define(f"_sg_{name}", lambda: self.lookup(values))

    def lookup(self, values: list) -> Expr:
        """``values[file index]`` as an expression, not staged.

        Always ``array(...)``, never the JSON form of long arrays (``categorical.array_literal``): that one's
        elements are nullable, so a batch of many files would generate other code than one of a few, and each
        batch size would evict the other's classes from Spark's code cache.
        """
        values = list(values)
        return sql.element_at(sql.lit(values + values[-1:] * self.padding), (self.file_index + sql.lit(1)).cast("int"))

    def day_ordinal(self) -> Expr:
        return self.per_file("day_ordinal", [(s.table_day.date - UNIX_EPOCH).days for s in self.slices])

    def day(self) -> Expr:
        return self.stages.define("_sg_day", lambda: sql.date_add(sql.lit(UNIX_EPOCH), self.day_ordinal()))

    def day_table(self, name: str, row_of_day: Callable[[int], tuple[int, ...]], position: Expr) -> Expr:
        """``row_of_day(day ordinal)[position]`` for each row's day: one array literal per frame, read by index.

        The array (every file's row, one after another) is a stage of its own, so its text is parsed once
        however many columns read it; Spark folds the constant into the expressions that use it.
        """
        ordinals = [(s.table_day.date - UNIX_EPOCH).days for s in self.slices]
        days = sorted(set(ordinals))  # one row per day, however many files the day has
        rows = [row_of_day(day) for day in days]
        array = [value for row in rows for value in row]
        first = self.per_file(f"table_row_{name}", [days.index(day) * len(rows[0]) for day in ordinals])
        table = self.stages.define(f"_sg_table_{name}", lambda: sql.json_array(array, "bigint"))
        return sql.element_at(table, (first + position + sql.lit(1)).cast("int"))

    def fact(self, kind: str, table: str) -> Expr:
        attribute = {"rows": "rows", "id_offset": "id_offsets", "population": "populations", "sweeps": "sweeps"}[kind]
        values = [getattr(s.table_day.facts, attribute)[table] for s in self.slices]
        return self.per_file(f"{kind}_{table}", values).cast("bigint")

    def children_bound(self, parent: str, child: str, shape: tuple[int, ...] = ()) -> int:
        """The most children any parent has on these days (catalog.most_children)."""
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
        # all generators see of the job
        self.settings = GeneratorSettings(config.seed_value, config.scale_factor, config.locale)
        self._locale = config.locale
        self._drift = config.drift_percentage if config.enable_data_drift else None
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
        return column_seed(self.settings.seed_value, self.table.name, column, salt)

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
            where = place(self.dataset.source, table=self.table.name, column=spec.name)
            given = spec.params.get("expression", "")
            problem = "read before it is defined"
            raise SpecError(
                invalid("expression", "columns defined earlier in the table", given, where=where, problem=problem)
            )
        return max((self.stages.ref(n).level for n in earlier), default=0)

    def stage(self, name: str, value: Expr) -> Expr:
        return self.stages.stage(self.prefix + name, value)

    def related(self, table: str, row_index: Expr, via: str) -> RowScope:
        related = copy.copy(self)  # the same job settings, facts and stages; another table's rows
        related.table, related.row_index = self.dataset.table(table), row_index
        related.prefix = f"{self.prefix}_sg_{via}_{table}_"
        return related

    def pool(self, name: str) -> PoolSpec:
        """The dataset's pool or the job locale's (catalog.validate checked the name before Spark started)."""
        return pool_of(self.dataset, name, self._locale)

    def day_fact(self, kind: str, table: str) -> Expr:
        return self.facts.fact(kind, table)

    def day_table(self, name: str, row_of_day: Callable[[int], tuple[int, ...]], position: Expr) -> Expr:
        return self.facts.day_table(name, row_of_day, position)

    def children_bound(self, child: str) -> int:
        return self.facts.children_bound(self.table.name, child, self.dataset.table(child).children_shape)

    def drift_factor(self) -> Expr | None:
        """(1 + drift_percentage/100) ** (days since epoch / 30) when drift is on, else None."""
        if self._drift is None:
            return None
        days = self.day_ordinal - sql.lit((self.dataset.epoch - UNIX_EPOCH).days)
        growth = sql.lit(1.0 + self._drift / 100.0)
        return self.stages.stage("_sg_drift", sql.pow(growth, days.cast("double") / sql.lit(30.0)))
