"""Dataset catalog: DatasetSpec -> TableSpec -> ColumnSpec, loaded from YAML package data or a user file.

Modules: ``model`` (the frozen specs), ``kinds`` (column kinds, types and their field rules), ``parse``
(YAML -> specs, key by key), ``validate`` (cross-table rules), ``describe`` (text for the CLI). Every
check runs here, before Spark starts.
"""

from synthgen_spark.catalog.describe import describe_dataset
from synthgen_spark.catalog.kinds import (
    COLUMN_KINDS,
    COMMON_COLUMN_KEYS,
    DECIMAL_TYPE,
    INLINE_KINDS,
    KEY_KINDS,
    MAX_CHILD_SUM_ROWS_PER_PARENT,
    MAX_CHILDREN_SUMMED,
    MAX_DECIMAL_PRECISION,
    PRIMARY_KEY_KINDS,
    SIMPLE_TYPES,
    column_dependencies,
    decimal_precision_scale,
    is_inline,
    is_number,
    most_children,
)
from synthgen_spark.catalog.model import (
    FREQUENCIES,
    MAX_NAME_LENGTH,
    NAME,
    RETAIL_EVENTS,
    TABLE_KINDS,
    ColumnSpec,
    DatasetSpec,
    Lifecycle,
    PoolSpec,
    Propensity,
    TableSpec,
)
from synthgen_spark.catalog.parse import (
    DATASET_KEYS,
    LIFECYCLE_KEYS,
    POOL_KEYS,
    PROPENSITY_KEYS,
    TABLE_KEYS,
    builtin_dataset_ids,
    dataset_from_yaml,
    load_dataset,
    parse_dataset,
)
from synthgen_spark.catalog.validate import LOCALE_POOL_FIELDS, validate_references

__all__ = [
    "COLUMN_KINDS",
    "COMMON_COLUMN_KEYS",
    "DATASET_KEYS",
    "DECIMAL_TYPE",
    "FREQUENCIES",
    "INLINE_KINDS",
    "KEY_KINDS",
    "LIFECYCLE_KEYS",
    "LOCALE_POOL_FIELDS",
    "MAX_CHILDREN_SUMMED",
    "MAX_CHILD_SUM_ROWS_PER_PARENT",
    "most_children",
    "MAX_DECIMAL_PRECISION",
    "MAX_NAME_LENGTH",
    "NAME",
    "POOL_KEYS",
    "PROPENSITY_KEYS",
    "PRIMARY_KEY_KINDS",
    "RETAIL_EVENTS",
    "SIMPLE_TYPES",
    "TABLE_KEYS",
    "TABLE_KINDS",
    "ColumnSpec",
    "DatasetSpec",
    "Lifecycle",
    "PoolSpec",
    "Propensity",
    "TableSpec",
    "builtin_dataset_ids",
    "column_dependencies",
    "dataset_from_yaml",
    "decimal_precision_scale",
    "describe_dataset",
    "is_inline",
    "is_number",
    "load_dataset",
    "parse_dataset",
    "validate_references",
]
