"""Stages: a batch frame's named SQL expressions, each computed once per row, added one select per level."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame

from synthgen_spark.errors import SpecError, SynthgenError, invalid, place
from synthgen_spark.generators import sql
from synthgen_spark.generators.sql import Expr

WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class Stages:
    """Named SQL expressions of one batch frame, each at the level after the deepest name it reads.

    ``define(name, build)`` builds an expression once and returns a reference to it whose level
    is one more than the expression's; ``apply`` adds the expressions to a frame level by level,
    one ``selectExpr`` per level.
    """

    def __init__(self) -> None:
        self._expressions: dict[str, Expr] = {}
        self._by_lower_name: dict[str, str] = {}  # Spark resolves names regardless of case
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
                chain = " -> ".join([*self._building, name])
                allowed = "columns that read only earlier columns"
                where = place("", column=name)
                raise SpecError(invalid("expression", allowed, chain, where=where, problem="depends on itself"))
            self._building.append(name)
            try:
                expression = build()
            finally:
                self._building.pop()
            self._expressions[name] = Expr(expression.sql, max(expression.level, after))
            self._by_lower_name[name.lower()] = name
        return self.ref(name)

    def stage(self, name: str, expression: Expr) -> Expr:
        """A reference to ``expression`` computed once per row under ``name``."""
        return self.define(name, lambda: expression)

    def names(self) -> set[str]:
        return set(self._expressions)

    def reads(self, name: str) -> set[str]:
        """The names ``name``'s expression reads: every word of its text that names another expression.

        A word inside a string literal counts too: a read too many only makes ``same_as`` share less, and
        ``apply`` place a name earlier. A word in another case counts, as Spark resolves it (user SQL may).
        """
        words = {w.lower() for w in WORD.findall(self._expressions[name].sql)}
        return {self._by_lower_name[w] for w in words if w in self._by_lower_name} - {name}

    def needed(self, names: set[str]) -> set[str]:
        """``names`` and every name they read, directly or not."""
        needed, todo = set(), list(names)
        while todo:
            name = todo.pop()
            if name not in needed:
                needed.add(name)
                todo.extend(self.reads(name))
        return needed

    def same_as(self, other: Stages) -> set[str]:
        """The names whose expression has the same text here and in ``other`` and reads only such names.

        On the same rows they have the same values: e.g. the attributes an entity keeps from one day to the
        next, in the scopes of two days (only the day's own facts and what reads them differ).
        """
        same: set[str] = set()
        for name, expression in sorted(self._expressions.items(), key=lambda item: item[1].level):
            theirs = other._expressions.get(name)
            if theirs is not None and theirs.sql == expression.sql and self.reads(name) <= same:
                same.add(name)
        return same

    def selects(self, only: set[str] | None = None) -> list[dict[str, str]]:
        """The selects ``apply`` adds, in order: each maps the names it adds to their SQL.

        A name's earliest select is the one after the deepest name it reads. It goes in the latest select it can
        (``_latest``) instead: without whole-stage codegen each select builds a new row, and a value computed
        early is copied into every later one (a whole order's strings through a dozen selects cost a fifth of
        its time). ``only``: see ``apply``.

        >>> stages = Stages()
        >>> a = stages.stage("a", sql.lit(1))
        >>> b = stages.stage("b", a + sql.lit(1))
        >>> c = stages.stage("c", b + sql.lit(1))
        >>> late = stages.stage("late", sql.lit(2))  # read by nothing: computed with the last select
        >>> [sorted(select) for select in stages.selects()]
        [['a'], ['b'], ['c', 'late']]
        """
        names = [
            n for n in sorted(self._expressions, key=lambda n: self._expressions[n].level) if only is None or n in only
        ]
        reads = {name: self.reads(name) for name in names}  # a regex over each text: once
        earliest: dict[str, int] = {}
        for name in names:
            if only is None:
                earliest[name] = self._expressions[name].level
            else:
                earliest[name] = 1 + max((earliest.get(r, 0) for r in reads[name]), default=0)
        levels: dict[int, dict[str, str]] = {}
        for name, level in sorted(self._latest(earliest, reads).items(), key=lambda item: item[1]):
            levels.setdefault(level, {})[name] = f"{self._expressions[name].sql} AS `{name}`"
        return list(levels.values())

    @staticmethod
    def _latest(earliest: dict[str, int], reads: dict[str, set[str]]) -> dict[str, int]:
        """The latest level of each name of ``earliest`` (its earliest level): one before the earliest of the
        levels that read it, or the last level if none does (an output column).

        Names are placed readers first. A reader counts only above the name's earliest level (a word of a string
        literal is no read), so no name goes below its earliest level.
        """
        readers: dict[str, list[str]] = {}
        for name in earliest:
            for read in reads[name]:
                if read in earliest and earliest[read] < earliest[name]:
                    readers.setdefault(read, []).append(name)
        last = max(earliest.values(), default=0)
        latest: dict[str, int] = {}
        for name in sorted(earliest, key=lambda n: earliest[n], reverse=True):
            latest[name] = min((latest[reader] - 1 for reader in readers.get(name, ())), default=last)
        return latest

    def apply(self, frame: DataFrame, only: set[str] | None = None) -> DataFrame:
        """``frame`` with every expression added, by ``selects`` (one select per level).

        A select per level, not one select whose later expressions read earlier ones by name
        (lateral column aliases): Spark resolves those by re-running its analyser over the whole,
        growing projection once per level, which costs more than analysing each level's select once.

        ``only``: add these names alone, the others being columns of ``frame`` already (or not needed); the
        levels then count only these, so a name that reads only columns of ``frame`` is in the first select.

        Raises:
            StageError: naming the expression Spark could not parse or resolve (user SQL, usually).
        """
        with quiet_query_context_logs():
            for columns in self.selects(only):
                try:
                    frame = frame.selectExpr("*", *columns.values())
                except AnalysisException:
                    for name, text in columns.items():
                        try:
                            frame.selectExpr("*", text)
                        except AnalysisException as exc:
                            raise StageError(name, _first_line(exc)) from None
                    raise
        return frame


BARRIER = "_sg_barrier"


def kept_apart(frame: DataFrame) -> DataFrame:
    """``frame`` that a filter above cannot be pushed into: Spark would inline every image column the filter reads.

    Spark pushes a filter below the selects whose values it reads, and then computes each of those values twice,
    once in the filter and once in the select, each inlined in full (the change feed's two images, hundreds of
    thousands of characters). A select with a non-deterministic column (the partition id, read by the filter
    so it is not pruned) is one it cannot cross; the data is the same.
    """
    return frame.selectExpr("*", f"spark_partition_id() AS {BARRIER}").where(f"{BARRIER} >= 0")


class StageError(SynthgenError):
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
