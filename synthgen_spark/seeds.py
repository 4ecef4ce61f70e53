"""Seeds from names: the 64-bit seeds every generated value starts from (pure Python, no Spark)."""

from __future__ import annotations

import hashlib


def seed_of(*parts: object) -> int:
    """A signed 64-bit seed: the blake2b digest of the parts joined by '|'."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def column_seed(seed_value: int, table: str, column: str, salt: str = "") -> int:
    """A signed 64-bit seed for one column, from names only (never list or batch position)."""
    return seed_of(seed_value, table, column, salt)


def derive_seed(seed: int, salt: int) -> int:
    """A second, unrelated seed from ``seed`` (for a column that draws more than one value per row)."""
    return seed_of(seed, salt)


_MASK = (1 << 64) - 1
_P1, _P2, _P3 = 0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9
_P4, _P5 = 0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5
SPARK_HASH_SEED = 42  # the seed of Spark's xxhash64()


def _rotate_left(value: int, bits: int) -> int:
    return ((value << bits) | (value >> (64 - bits))) & _MASK


def spark_xxhash64(value: int) -> int:
    """Spark's ``xxhash64(value)`` of a bigint (XXH64 hashLong, seed 42), in Python, as an unsigned 64-bit
    integer (Spark's signed value mod 2**64): the driver mirrors a row's hash (lateness, entity ranges)."""
    hashed = (SPARK_HASH_SEED + _P5 + 8) & _MASK
    hashed ^= (_rotate_left((value & _MASK) * _P2 & _MASK, 31) * _P1) & _MASK
    hashed = (_rotate_left(hashed, 27) * _P1 + _P4) & _MASK
    hashed ^= hashed >> 33
    hashed = (hashed * _P2) & _MASK
    hashed ^= hashed >> 29
    hashed = (hashed * _P3) & _MASK
    return hashed ^ (hashed >> 32)
