"""Spark SQL expressions as text: what generators build, the engine hands to Spark in one call.

Building a column through PySpark's ``Column`` API costs a py4j round trip per operator and
literal (tens of thousands per batch); building the same expression as SQL text costs none until
the engine selects it. ``Expr`` mirrors the small part of the ``Column`` API the generators use, so
a generator reads like PySpark code::

    from synthgen_spark.generators import sql
    sql.pmod(sql.xxhash64(sql.lit(seed), key), sql.lit(6).cast("bigint"))

Literals render with the types ``pyspark.sql.functions.lit`` gives them (int or bigint by size,
double, string, date, boolean), so both spellings build the same Spark expression. ``level`` is
one more than the deepest staged column an expression reads (see ``engine.Stages``).
"""

from __future__ import annotations

import datetime as dt
import json
import math

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
LONG_MIN = -(2**63)


class Expr:
    """One Spark SQL expression (text) and the staging level of the deepest column it reads."""

    __slots__ = ("sql", "level")
    __hash__ = None  # == builds an expression, as on a Column

    def __init__(self, text: str, level: int = 0) -> None:
        self.sql = text
        self.level = level

    def __repr__(self) -> str:
        return f"Expr({self.sql!r}, level={self.level})"

    def __str__(self) -> str:
        return self.sql

    def _binary(self, operator: str, other: object, reverse: bool = False) -> Expr:
        other = as_expr(other)
        left, right = (other, self) if reverse else (self, other)
        return Expr(f"({left.sql} {operator} {right.sql})", max(self.level, other.level))

    def __add__(self, other: object) -> Expr:
        return self._binary("+", other)

    def __radd__(self, other: object) -> Expr:
        return self._binary("+", other, reverse=True)

    def __sub__(self, other: object) -> Expr:
        return self._binary("-", other)

    def __rsub__(self, other: object) -> Expr:
        return self._binary("-", other, reverse=True)

    def __mul__(self, other: object) -> Expr:
        return self._binary("*", other)

    def __rmul__(self, other: object) -> Expr:
        return self._binary("*", other, reverse=True)

    def __mod__(self, other: object) -> Expr:
        return self._binary("%", other)

    def __truediv__(self, other: object) -> Expr:
        return self._binary("/", other)

    def __rtruediv__(self, other: object) -> Expr:
        return self._binary("/", other, reverse=True)

    def __lt__(self, other: object) -> Expr:
        return self._binary("<", other)

    def __le__(self, other: object) -> Expr:
        return self._binary("<=", other)

    def __gt__(self, other: object) -> Expr:
        return self._binary(">", other)

    def __ge__(self, other: object) -> Expr:
        return self._binary(">=", other)

    def __eq__(self, other: object) -> Expr:  # type: ignore[override]
        return self._binary("=", other)

    def __and__(self, other: object) -> Expr:
        return self._binary("AND", other)

    def __or__(self, other: object) -> Expr:
        return self._binary("OR", other)

    def __xor__(self, other: object) -> Expr:
        return self._binary("^", other)

    def bitwise_and(self, other: object) -> Expr:
        """``self & other`` on integers (``&`` on an Expr is the logical AND, as on a Column)."""
        return self._binary("&", other)

    def __invert__(self) -> Expr:
        return Expr(f"(NOT {self.sql})", self.level)

    def cast(self, type_name: str) -> Expr:
        return Expr(f"CAST({self.sql} AS {type_name})", self.level)

    def isNull(self) -> Expr:  # noqa: N802 - the Column API's name
        return Expr(f"({self.sql} IS NULL)", self.level)


class When(Expr):
    """``CASE WHEN ... END`` under construction: add branches with ``when``, close with ``otherwise``."""

    __slots__ = ("branches",)

    def __init__(self, branches: tuple[tuple[Expr, Expr], ...]) -> None:
        self.branches = branches
        parts = " ".join(f"WHEN {c.sql} THEN {v.sql}" for c, v in branches)
        super().__init__(f"CASE {parts} END", max(e.level for pair in branches for e in pair))

    def when(self, condition: Expr, value: object) -> When:
        return When((*self.branches, (condition, as_expr(value))))

    def otherwise(self, value: object) -> Expr:
        value = as_expr(value)
        return Expr(f"{self.sql[:-4]} ELSE {value.sql} END", max(self.level, value.level))


def literal_sql(value: object) -> str:
    """``value`` as a SQL literal of the type ``pyspark.sql.functions.lit`` would give it."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        if INT_MIN <= value <= INT_MAX:
            return str(value) if value >= 0 else f"({value})"
        if value == LONG_MIN:
            return f"({value + 1}L - 1L)"
        return f"{value}L" if value >= 0 else f"({value}L)"
    if isinstance(value, float):
        if not math.isfinite(value):
            return f"CAST('{value}' AS DOUBLE)"
        return f"{value!r}D" if value >= 0 else f"({value!r}D)"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, dt.datetime):
        raise TypeError(f"no SQL literal for datetime {value!r}")
    if isinstance(value, dt.date):
        return f"DATE'{value.isoformat()}'"
    if isinstance(value, list | tuple):
        return f"array({', '.join(literal_sql(v) for v in value)})"
    raise TypeError(f"no SQL literal for {type(value).__name__} {value!r}")


def lit(value: object) -> Expr:
    """A literal (int, float, str, bool, date, None, or a list of them as an array)."""
    return Expr(literal_sql(value))


def json_array(values: list, element: str) -> Expr:
    """An ``array<element>`` constant as one JSON string: parsed once while Spark optimises (the constant is
    folded), where ``array(v1, v2, ...)`` costs the analyser time per element."""
    return call(
        "from_json", lit(json.dumps(values, ensure_ascii=False, separators=(",", ":"))), lit(f"array<{element}>")
    )


def as_expr(value: object) -> Expr:
    return value if isinstance(value, Expr) else lit(value)


def col(name: str, level: int = 0) -> Expr:
    """A column of the frame by name (``level``: the stage that defines it)."""
    return Expr(f"`{name}`", level)


def expr(text: str) -> Expr:
    """Spark SQL text written by a user (a derived column)."""
    return Expr(f"({text})")


def call(function: str, *args: object) -> Expr:
    """``function(args...)``: any Spark SQL function by name."""
    exprs = [as_expr(a) for a in args]
    return Expr(f"{function}({', '.join(e.sql for e in exprs)})", max((e.level for e in exprs), default=0))


def when(condition: Expr, value: object) -> When:
    return When(((condition, as_expr(value)),))


def _function(name: str):
    def build(*args: object) -> Expr:
        return call(name, *args)

    build.__name__ = name
    build.__doc__ = f"Spark SQL ``{name}``."
    return build


xxhash64 = _function("xxhash64")
pmod = _function("pmod")
element_at = _function("element_at")
date_add = _function("date_add")
log = _function("ln")
least = _function("least")
greatest = _function("greatest")
timestamp_seconds = _function("timestamp_seconds")
sqrt = _function("sqrt")
shiftleft = _function("shiftleft")
shiftright = _function("shiftright")
shiftrightunsigned = _function("shiftrightunsigned")
pow = _function("pow")  # noqa: A001 - Spark's name
lpad = _function("lpad")
floor = _function("floor")
exp = _function("exp")
cos = _function("cos")
concat = _function("concat")
round = _function("round")  # noqa: A001 - Spark's name
div = _function("div")
unix_date = _function("unix_date")
