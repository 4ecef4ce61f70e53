"""Shared pieces of every generator: column seeds, hashing a row key, unit uniforms, null rate, casts."""

from __future__ import annotations

import datetime as dt
import hashlib

from pyspark.sql import Column
from pyspark.sql import functions as F

UNIX_EPOCH = dt.date(1970, 1, 1)
TWO_POW_53 = float(2**53)
SPARK_TYPES = {
    "long": "bigint",
    "int": "int",
    "double": "double",
    "string": "string",
    "date": "date",
    "timestamp": "timestamp",
    "boolean": "boolean",
}


def column_seed(seed_value: int, table: str, column: str, salt: str = "") -> int:
    """A signed 64-bit seed for one column, from names only (never list or batch position)."""
    digest = hashlib.blake2b(f"{seed_value}|{table}|{column}|{salt}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def day_row_key(day_ordinal: Column, row_index: Column) -> Column:
    """Row key of an incremental row: the day ordinal (days since 1970) in the high 32 bits, the row index below."""
    return F.shiftleft(day_ordinal.cast("bigint"), 32) + row_index


def hash_key(row_key: Column, seed: int) -> Column:
    """64 well-mixed bits from (seed, row key): two longs into Spark's xxhash64."""
    return F.xxhash64(F.lit(seed).cast("bigint"), row_key)


def unit_interval(hashed: Column) -> Column:
    """A double uniform on [0, 1) from the top 53 bits of a hash (no overflow, no division)."""
    return F.shiftrightunsigned(hashed, 11).cast("double") * F.lit(1.0 / TWO_POW_53)


def bounded_index(hashed: Column, size: int | Column) -> Column:
    """An integer uniform on [0, size) from a hash (``size`` >= 1)."""
    return F.pmod(hashed, size if isinstance(size, Column) else F.lit(size).cast("bigint"))


def spark_type(type_name: str) -> str:
    """The Spark SQL type name of a catalog type (decimal(p,s) passes through)."""
    return SPARK_TYPES.get(type_name, type_name)


def cast_to(value: Column, type_name: str) -> Column:
    """Cast explicitly to the catalog type; decimals are rounded to their scale first."""
    if type_name.startswith("decimal"):
        scale = int(type_name.rstrip(")").split(",")[1])
        return F.round(value, scale).cast(type_name)
    return value.cast(spark_type(type_name))


def with_null_rate(value: Column, row_key: Column, seed: int, null_rate: float) -> Column:
    """Null out a deterministic ``null_rate`` share of rows (the same rows in every run)."""
    if null_rate <= 0:
        return value
    return F.when(unit_interval(hash_key(row_key, seed)) < F.lit(null_rate), F.lit(None)).otherwise(value)
