"""Column generators: pure functions from a column spec and a row key to a Spark SQL expression.

Importing this package registers every kind; ``build_column`` dispatches on the spec's kind.
"""

from synthgen_spark.generators import (  # noqa: F401  (register kinds)
    balances,
    categorical,
    family,
    keys,
    lifecycle,
    numeric,
    temporal,
    versions,
    visits,
)
from synthgen_spark.generators.core import column_seed, day_row_key
from synthgen_spark.generators.registry import Scope, build_column, build_value, register, registered_kinds

__all__ = ["Scope", "build_column", "build_value", "column_seed", "day_row_key", "register", "registered_kinds"]
