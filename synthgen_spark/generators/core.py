"""Shared pieces of every generator: column seeds, hashing a row key, unit uniforms, null rate, casts."""

from __future__ import annotations

from synthgen_spark.calendar import UNIX_EPOCH
from synthgen_spark.catalog.kinds import decimal_precision_scale
from synthgen_spark.generators import sql
from synthgen_spark.generators.sql import Expr
from synthgen_spark.seeds import column_seed, derive_seed

__all__ = ["UNIX_EPOCH", "column_seed", "derive_seed"]  # re-exported: generators take them from here

TWO_POW_53 = float(2**53)
MULTIPLY_SHIFT_MAX = 2**31  # (2**32 - 1) * 2**31 < 2**63: the scaled index never overflows a bigint
MAX_EXACT_DECIMAL_PRECISION = 15  # unscaled values below 10**15 < 2**53: exact in a double
SPARK_TYPES = {
    "long": "bigint",
    "int": "int",
    "double": "double",
    "string": "string",
    "date": "date",
    "timestamp": "timestamp",
    "boolean": "boolean",
}


def day_row_key(day_ordinal: Expr, row_index: Expr) -> Expr:
    """Row key of an incremental row: the day ordinal (days since 1970) in the high 32 bits, the row index below."""
    return sql.shiftleft(day_ordinal.cast("bigint"), 32) + row_index


def hash_key(row_key: Expr, seed: int) -> Expr:
    """64 well-mixed bits from (seed, row key): Spark's xxhash64 of the key xor the 64-bit seed.

    One hash round per value. Seeds are whole 64-bit digests (``column_seed``, ``derive_seed``), so
    two columns' inputs coincide only for keys whose xor is the xor of their seeds: never for nearby rows.
    """
    return sql.xxhash64(row_key ^ sql.lit(seed).cast("bigint"))


def unit_interval(hashed: Expr) -> Expr:
    """A double uniform on [0, 1) from the top 53 bits of a hash (no overflow, no division)."""
    return sql.shiftrightunsigned(hashed, 11).cast("double") * sql.lit(1.0 / TWO_POW_53)


def bounded_index(hashed: Expr, size: int | Expr) -> Expr:
    """An integer uniform on [0, size) from a hash (``size`` >= 1).

    The top 32 bits scaled to the size, ``(h >>> 32) * size >> 32``: a multiply and a shift, no
    division, no overflow for sizes up to 2**31 (bias below size / 2**32). Larger sizes use ``pmod``.
    """
    if isinstance(size, int):
        if size <= MULTIPLY_SHIFT_MAX:
            return _multiply_shift(hashed, sql.lit(size).cast("bigint"))
        return sql.pmod(hashed, sql.lit(size).cast("bigint"))
    small = size <= sql.lit(MULTIPLY_SHIFT_MAX).cast("bigint")
    return sql.when(small, _multiply_shift(hashed, size)).otherwise(sql.pmod(hashed, size))


def _multiply_shift(hashed: Expr, size: Expr) -> Expr:
    return sql.shiftright(sql.shiftrightunsigned(hashed, 32) * size, 32)


def spark_type(type_name: str) -> str:
    """The Spark SQL type name of a catalog type (decimal(p,s) passes through)."""
    return SPARK_TYPES.get(type_name, type_name)


def exact_decimal_scale(type_name: str) -> int | None:
    """The scale of a ``decimal(p,s)`` type whose values a double holds exactly (p <= 15), else None."""
    decimal = decimal_precision_scale(type_name)
    if decimal is None or decimal[0] > MAX_EXACT_DECIMAL_PRECISION:
        return None
    return decimal[1]


def round_to_scale(value: Expr, scale: int) -> Expr:
    """``value`` rounded half up to ``scale`` decimal places, as a double (cheap: no BigDecimal per row)."""
    factor = sql.lit(float(10**scale))
    return sql.floor(value.cast("double") * factor + sql.lit(0.5)) / factor


def decimal_from_double(number: Expr, type_name: str) -> Expr:
    """A rounded double (``round_to_scale``) as ``decimal(p,s)``, p <= 15, from its unscaled integer.

    Spark casts a double to a decimal through its string form (~200 ns); an integer to
    ``decimal(p,0)`` and a multiply by 10**-s cost a fifth of that and give the same exact value.
    """
    precision, scale = decimal_precision_scale(type_name)
    unscaled = sql.floor(number * sql.lit(float(10**scale)) + sql.lit(0.5))
    whole = unscaled.cast("bigint").cast(f"decimal({precision},0)")
    return (whole * sql.expr(f"{10**-scale:.{scale}f}BD") if scale else whole).cast(type_name)


def cast_to(value: Expr, type_name: str) -> Expr:
    """Cast explicitly to the catalog type; decimals are rounded (half up) to their scale first."""
    scale = exact_decimal_scale(type_name)
    if scale is not None:
        return decimal_from_double(round_to_scale(value, scale), type_name)
    if type_name.startswith("decimal"):
        return sql.round(value, decimal_precision_scale(type_name)[1]).cast(type_name)
    return value.cast(spark_type(type_name))


def with_ending(value: Expr, row_key: Expr, seed: int, endings: list[float] | None) -> Expr:
    """``value``'s whole part plus one of ``endings`` (a price ending such as .99 or .49), the same for a row key."""
    if not endings:
        return value
    pick = (bounded_index(hash_key(row_key, seed), len(endings)) + sql.lit(1)).cast("int")
    return sql.floor(value) + sql.element_at(sql.lit([float(e) for e in endings]), pick)


def with_null_rate(value: Expr, row_key: Expr, seed: int, null_rate: float) -> Expr:
    """Null out a deterministic ``null_rate`` share of rows (the same rows in every run)."""
    if null_rate <= 0:
        return value
    return sql.when(unit_interval(hash_key(row_key, seed)) < sql.lit(null_rate), sql.lit(None)).otherwise(value)
