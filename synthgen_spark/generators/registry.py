"""The generator registry: one builder per column kind, and the one dispatch that applies them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from pyspark.sql import Column

from synthgen_spark.catalog import ColumnSpec, DatasetSpec, PoolSpec, TableSpec
from synthgen_spark.config import JobConfig
from synthgen_spark.errors import SpecError
from synthgen_spark.generators.core import cast_to, with_null_rate


class Scope(Protocol):
    """What a builder may ask about the rows it builds a column for (implemented by the engine)."""

    dataset: DatasetSpec
    table: TableSpec
    config: JobConfig
    day: Column
    day_ordinal: Column
    row_index: Column
    row_key: Column

    def seed(self, column: str, salt: str = "") -> int: ...
    def column(self, name: str) -> Column: ...
    def related(self, table: str, row_index: Column) -> Scope: ...
    def pool(self, name: str) -> PoolSpec: ...
    def day_fact(self, kind: str, table: str) -> Column: ...
    def drift_factor(self) -> Column | None: ...


Builder = Callable[[ColumnSpec, Scope], Column]
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


def build_column(spec: ColumnSpec, scope: Scope) -> Column:
    """Build one column for the scope's rows: the kind's builder, then drift, null rate and the cast."""
    builder = _BUILDERS.get(spec.kind)
    if builder is None:
        raise SpecError(f"column '{spec.name}': unknown kind {spec.kind!r}; allowed: {', '.join(registered_kinds())}")
    value = builder(spec, scope)
    if spec.drift and spec.kind != "choice" and spec.type not in ("string", "date", "timestamp", "boolean"):
        factor = scope.drift_factor()
        value = value if factor is None else value * factor
    value = with_null_rate(value, scope.row_key, scope.seed(spec.name, "null"), spec.null_rate)
    return cast_to(value, spec.type)
