"""Per-entity propensity: heavy-tailed classes of a snapshot table's entities, and keys drawn by them.

A table's ``propensity`` gives classes 1..C with shares n_c (entities per block of 100, summing to
100) and weights w_c. Entities come in blocks of 100 (indices 100b..100b+99); in block b the
offset x has the slot pi_b(x) = A2(T(A1(x))), A_i(y) = (a_i y + c_i) mod 100 with a_i a unit mod 100
and c_i in 0..99 hashed from b, T swapping the two decimal digits; slots 0..n_1-1 are class 1, the
next n_2 class 2, and so on. So every full block holds exactly n_c entities of class c, at places
no id pattern shows.

A draw by propensity over a population of N entities spans B = ceil(N / 100) blocks, the last one
as if full: one uniform u from the row's hash, p = 100 B u; the class c whose share of the mass
(n_c w_c / sum n_d w_d) holds p, then a uniform (block, slot) among the class's B n_c slots, mapped
back through pi_b^-1. Entity k is drawn with probability w_class(k) / (100 B m), m = sum n_c w_c /
100; an index past N (a slot of the last block not filled yet) is a miss, and the caller draws
again, so the entities that exist are drawn exactly in proportion to their weights. O(1) per row,
and no array of entity size anywhere.
"""

from __future__ import annotations

import math
from itertools import accumulate

from synthgen_spark.catalog import TableSpec
from synthgen_spark.catalog.model import PROPENSITY_BLOCK
from synthgen_spark.generators import sql
from synthgen_spark.generators.core import column_seed, hash_key, unit_interval
from synthgen_spark.generators.registry import GeneratorSettings, Scope, register
from synthgen_spark.generators.sql import Expr

UNITS = tuple(a for a in range(PROPENSITY_BLOCK) if math.gcd(a, PROPENSITY_BLOCK) == 1)  # 40 of them
INVERSES = tuple(pow(a, -1, PROPENSITY_BLOCK) for a in UNITS)


def _lit_long(value: int) -> Expr:
    return sql.lit(value).cast("bigint")


def _mod(value: Expr, modulus: int) -> Expr:
    return sql.pmod(value, _lit_long(modulus))


def _swap_digits(y: Expr) -> Expr:
    """T: 10t + u -> 10u + t on 0..99 (its own inverse)."""
    return _mod(y, 10) * _lit_long(10) + sql.div(y, _lit_long(10))


class EntityPropensity:
    """The propensity classes of one snapshot table's entities, and draws of entity indices by them."""

    def __init__(self, settings: GeneratorSettings, table: TableSpec) -> None:
        propensity = table.propensity
        self.shares = propensity.shares
        self.weights = propensity.weights
        self.seed = column_seed(settings.seed_value, table.name, "__propensity")
        masses = [n * w for n, w in zip(self.shares, self.weights, strict=True)]
        self.total = sum(masses)
        self.masses = masses
        self.starts = (0, *accumulate(self.shares))[:-1]

    def _block_maps(self, block: Expr, scope: Scope, name: str) -> tuple[Expr, Expr, Expr, Expr, Expr, Expr]:
        """(a1, a1^-1, c1, a2, a2^-1, c2) of block ``block``: four 16-bit fields of one hash."""
        h = scope.stage(f"{name}_perm", hash_key(block, self.seed))
        k1 = (_mod(sql.shiftrightunsigned(h, 48), len(UNITS)) + sql.lit(1)).cast("int")
        k2 = (_mod(sql.shiftrightunsigned(h, 16), 65536) % _lit_long(len(UNITS)) + sql.lit(1)).cast("int")
        units, inverses = sql.lit(list(UNITS)), sql.lit(list(INVERSES))
        c1 = _mod(sql.shiftrightunsigned(h, 32), 65536) % _lit_long(PROPENSITY_BLOCK)
        c2 = _mod(h, 65536) % _lit_long(PROPENSITY_BLOCK)
        a1, a1_inv = sql.element_at(units, k1).cast("bigint"), sql.element_at(inverses, k1).cast("bigint")
        a2, a2_inv = sql.element_at(units, k2).cast("bigint"), sql.element_at(inverses, k2).cast("bigint")
        return a1, a1_inv, c1, a2, a2_inv, c2

    def class_of(self, index: Expr, scope: Scope, name: str = "_sg_propensity") -> Expr:
        """The class (1..C) of entity ``index`` (0-based): its slot in its block's permutation."""
        block = sql.div(index, _lit_long(PROPENSITY_BLOCK))
        offset = index - block * _lit_long(PROPENSITY_BLOCK)
        a1, _, c1, a2, _, c2 = self._block_maps(block, scope, name)
        slot = scope.stage(
            f"{name}_slot", _mod(a2 * _swap_digits(_mod(a1 * offset + c1, PROPENSITY_BLOCK)) + c2, PROPENSITY_BLOCK)
        )
        ends = list(accumulate(self.shares))
        result = sql.lit(len(self.shares))
        for number, end in reversed(list(enumerate(ends[:-1], start=1))):
            result = sql.when(slot < sql.lit(end), sql.lit(number)).otherwise(result)
        return result

    def draw(self, scope: Scope, name: str, seed: int, population: Expr) -> Expr:
        """An entity index drawn by propensity over ceil(population / 100) blocks (see the module docstring).

        The index may be past the population (a slot of the last block not filled yet): the caller
        treats it as a miss and tries its next candidate. ``name`` prefixes the stages.
        """
        size = _lit_long(PROPENSITY_BLOCK)
        blocks = scope.stage(f"{name}_blocks", sql.div(population + sql.lit(PROPENSITY_BLOCK - 1), size))
        span = (blocks * size).cast("double")
        p = scope.stage(f"{name}_p", unit_interval(hash_key(scope.row_key, seed)) * span)
        live = [c for c in range(len(self.shares)) if self.masses[c] > 0]
        ends = list(accumulate(self.masses[c] / self.total for c in live))
        klass = sql.lit(live[-1] + 1)
        for c, end in reversed(list(zip(live[:-1], ends[:-1], strict=True))):
            klass = sql.when(p < span * sql.lit(end), sql.lit(c + 1)).otherwise(klass)
        at = scope.stage(f"{name}_class", klass).cast("int")
        lows = dict(zip(live, [0.0, *ends[:-1]], strict=True))
        # a class's mass fraction spans 100·blocks·mass_c/total of p; its blocks·n_c slots split it evenly
        scale = [
            self.shares[c] * self.total / (PROPENSITY_BLOCK * self.masses[c]) if c in lows else 0.0
            for c in range(len(self.shares))
        ]
        low = sql.element_at(sql.lit([lows.get(c, 0.0) for c in range(len(self.shares))]), at)
        count = sql.element_at(sql.lit(list(self.shares)).cast("array<bigint>"), at)
        raw = sql.floor((p - span * low) * sql.element_at(sql.lit(scale), at)).cast("bigint")
        pick = scope.stage(
            f"{name}_pick", sql.greatest(sql.least(raw, blocks * count - sql.lit(1)), sql.lit(0).cast("bigint"))
        )
        block = scope.stage(f"{name}_block", sql.div(pick, count))
        slot = sql.element_at(sql.lit(list(self.starts)).cast("array<bigint>"), at) + pick - block * count
        _, a1_inv, c1, _, a2_inv, c2 = self._block_maps(block, scope, name)
        y = _swap_digits(_mod(a2_inv * (slot - c2), PROPENSITY_BLOCK))
        return block * size + _mod(a1_inv * (y - c1), PROPENSITY_BLOCK)


@register("propensity_class")
def _propensity_class(spec, scope: Scope) -> Expr:
    """The entity's propensity class (1 = the first of the table's ``propensity.shares``)."""
    return EntityPropensity(scope.settings, scope.table).class_of(scope.row_index, scope, f"_sg_{spec.name}")
