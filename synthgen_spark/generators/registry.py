"""The generator registry: one builder per column kind, and the one dispatch that applies them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from synthgen_spark.catalog import ColumnSpec, DatasetSpec, PoolSpec, TableSpec
from synthgen_spark.errors import SpecError, invalid, place
from synthgen_spark.generators.core import cast_to, with_ending, with_null_rate
from synthgen_spark.generators.sql import Expr


@dataclass(frozen=True)
class GeneratorSettings:
    """What generators know of the job: its seed, scale and locale (the pools), not the whole JobConfig."""

    seed_value: int
    scale_factor: float
    locale: str


class Scope(Protocol):
    """What a builder may ask about the rows it builds a column for (implemented by the engine)."""

    dataset: DatasetSpec
    table: TableSpec
    settings: GeneratorSettings
    day: Expr
    day_ordinal: Expr
    row_index: Expr
    row_key: Expr

    def seed(self, column: str, salt: str = "") -> int: ...
    def column(self, name: str) -> Expr:
        """Another column of the same rows (computed once, whoever reads it)."""
        ...

    def number(self, name: str) -> Expr:
        """A numeric column as a number to compute with: a decimal's rounded double, else ``column``."""
        ...

    def stage(self, name: str, value: Expr) -> Expr:
        """``value`` computed once per row under ``name``: for intermediates read more than once."""
        ...

    def related(self, table: str, row_index: Expr, via: str) -> Scope:
        """The rows ``row_index`` of another table (a looked-up entity, a child), reached ``via`` a key."""
        ...

    def pool(self, name: str) -> PoolSpec: ...
    def day_fact(self, kind: str, table: str) -> Expr: ...
    def day_table(self, name: str, row_of_day: Callable[[int], tuple[int, ...]], position: Expr) -> Expr:
        """``row_of_day(the row's day ordinal)[position]``: a per-day table the driver computes (one per frame)."""
        ...

    def children_bound(self, child: str) -> int:
        """The most rows of ``child`` any of these parent rows has (a plan fact, not a Expr)."""
        ...

    def drift_factor(self) -> Expr | None: ...


Builder = Callable[[ColumnSpec, Scope], Expr]
_BUILDERS: dict[str, Builder] = {}


def register(kind: str) -> Callable[[Builder], Builder]:
    """Register ``builder`` as the generator of column kind ``kind``."""

    def decorate(builder: Builder) -> Builder:
        _BUILDERS[kind] = builder
        return builder

    return decorate


def registered_kinds() -> list[str]:
    """Every column kind a builder is registered for, sorted."""
    return sorted(_BUILDERS)


def build_column(spec: ColumnSpec, scope: Scope) -> Expr:
    """Build one column for the scope's rows: its value (``build_value``) cast to the column's type."""
    return cast_to(build_value(spec, scope), spec.type)


def build_value(spec: ColumnSpec, scope: Scope) -> Expr:
    """The kind's builder, then drift and null rate: the column's value before the cast to its type."""
    builder = _BUILDERS.get(spec.kind)
    if builder is None:
        allowed, where = ", ".join(registered_kinds()), place("", column=spec.name)
        raise SpecError(invalid("kind", allowed, spec.kind, where=where, problem="unknown column kind"))
    value = builder(spec, scope)
    if spec.drift and spec.kind != "choice" and spec.type not in ("string", "date", "timestamp", "boolean"):
        factor = scope.drift_factor()
        value = value if factor is None else value * factor
    value = with_ending(value, scope.row_key, scope.seed(spec.name, "ending"), spec.params.get("endings"))
    return with_null_rate(value, scope.row_key, scope.seed(spec.name, "null"), spec.null_rate)
