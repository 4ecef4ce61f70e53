"""Entities that sign up and churn, in closed form: who is active on a day, as 100 ranges (pure Python).

Signup. Entity k (0-based) of a snapshot table with N0 entities on the epoch E and r = N0 x growth_rate
new ones per period of P days signs up on
    start(k) = E + low + floor(k x W / N0)                for k < N0 (W = high - low + 1: the window of
                                                            the lifecycle_start column, spread in id order)
    start(k) = E + ceil((k + 1 - N0) / r) x P             after (one cohort per period, in id order)
so start is non-decreasing in k and "signed up by d" is k < population(d).

Lifetime. Ids come in blocks of 100; the 100 positions of block j hold the 100 *slots* in an order
shuffled per block: slot(k) = (a_j x (k mod 100) + b_j) mod 100, a_j a unit mod 100 and b_j hashed
from (seed, j). A slot has a fixed lifetime: 10 slots never churn (the share 1/10 of loyal entities,
one per last digit of k in every block), the other 90 hold the quantiles (i + 0.5) / 90 of the
geometric lifetime with the daily churn rate p: 1 + floor(ln(1 - u) / ln(1 - p)) days. Which slot
holds which quantile is shuffled by the seed. Entity k is active on d iff it signed up by d and
d - start(k) < lifetime(slot(k)).

The active set. Entities of one slot are one per block, in block order, and both their signup and
their churn days rise with the block. So on any day the active entities of slot s are the blocks
[lo_s(d), lo_s(d) + n_s(d)): 100 ranges found in O(100) on the driver (one hash per boundary block),
whatever the table's size. A foreign key picks among them uniformly and exactly in O(1) per row
(an alias table over the slots, then a block of the slot's range), and ``active_count`` is the exact
number of active entities a follows_population volume uses. See docs/data-model.md#entities.

Propensity. A table may give its slots classes of draw weight (``propensity: {shares, weights}``):
class c holds shares[c] of the 100 slots, placed by the seed independently of the lifetimes, so every
full block holds exactly shares[c] entities of class c. A foreign key then weighs slot s by its active
count times its class weight, and stays uniform within the slot: an entity of class c is drawn
weights[c] times as often as one of weight 1. See docs/data-model.md#propensity.

Segments. A table may also split its slots into segments (a ``segment`` column, e.g. stores by region):
segment g holds segments[g] of the 100 slots, placed by the seed independently of lifetimes and classes.
A foreign key that asks for segment g uses an alias table over the slots of g alone (the same masses,
zero elsewhere), so it draws exactly among the active entities of g, weighted as before; a day without an
active entity in g falls back on the whole table. A segment may be bounded to the slots whose entities churn
within some days (children who leave the pediatric panel before they turn 18). See docs/data-model.md#segments.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import cached_property

from synthgen_spark.seeds import derive_seed, seed_of, spark_xxhash64

BLOCK = 100
LOYAL_SLOTS = 10  # slots that never churn: the share 1/10 of loyal entities
UNITS = tuple(a for a in range(1, BLOCK) if math.gcd(a, BLOCK) == 1)  # the 40 multipliers a_j may take
INVERSES = tuple(pow(a, -1, BLOCK) for a in UNITS)
MAX_LIFETIME_DAYS = 1_000_000
RANGE_SHIFT = 31  # a range packs as first_block << 31 | count
ALIAS_SHIFT = 7  # an alias entry packs as threshold << 7 | alias slot (slots < 128)
SEARCH_WIDTH = 128  # a rank table's cumulative counts, padded to a power of two for a binary search
_LOW32 = (1 << 32) - 1
MAX_MASS = 1 << 30  # weighted slot masses are scaled to this total: a uniform draw below it needs 32 bits


def lifetime_levels(churn_rate: float, levels: int = BLOCK - LOYAL_SLOTS) -> tuple[int, ...]:
    """The quantiles (i + 0.5) / levels of the geometric lifetime in days with daily churn ``churn_rate``."""
    log_q = math.log(1.0 - churn_rate)
    return tuple(
        min(MAX_LIFETIME_DAYS, 1 + math.floor(math.log(1.0 - (i + 0.5) / levels) / log_q)) for i in range(levels)
    )


def segment_slots(labels: list[str], weights: list[float]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The segments of a pool field (its distinct values, in first-seen order) and their slots of 100, in
    proportion to the records' weights (largest remainder, one slot at least).

    >>> segment_slots(["N", "S", "N", "W"], [30, 50, 10, 10])
    (('N', 'S', 'W'), (40, 50, 10))
    """
    totals: dict[str, float] = {}
    for label, weight in zip(labels, weights, strict=True):
        totals[label] = totals.get(label, 0.0) + weight
    names, sums = tuple(totals), list(totals.values())
    if not 0 < len(names) <= BLOCK or sum(sums) <= 0:
        raise ValueError(f"{len(names)} segments with a total weight of {sum(sums):g}: 1 to {BLOCK} with weight")
    exact = [BLOCK * w / sum(sums) for w in sums]
    counts = [max(1, math.floor(x)) for x in exact]
    by_remainder = sorted(range(len(names)), key=lambda i: (counts[i] - exact[i], i))
    for i in by_remainder[: max(0, BLOCK - sum(counts))]:
        counts[i] += 1
    while sum(counts) > BLOCK:  # the one-slot floors took too many: take back from the largest
        counts[counts.index(max(counts))] -= 1
    return names, tuple(counts)


def _bounded_first(item: tuple[int, tuple[int, int]]) -> tuple[bool, int]:
    number, (_, bound) = item
    return (not bound, number)


def block_arrangement(block: int, seed: int, first_loyal_slot: int) -> tuple[int, int]:
    """(index of a_j in UNITS, b_j) of block ``block``, as the Spark side computes them from one hash.

    Block 0 starts with a loyal slot, so entity 0 never churns: a day with signed-up entities has an active one.
    """
    hashed = spark_xxhash64(block ^ seed)
    unit = ((hashed >> 32) * len(UNITS)) >> 32
    offset = first_loyal_slot if block == 0 else ((hashed & _LOW32) * BLOCK) >> 32
    return unit, offset


def integer_alias(counts: list[int]) -> tuple[list[int], list[int]]:
    """Walker's alias table over ``counts``, in integers: exact, deterministic.

    Column c (chosen uniformly) keeps slot c when a uniform y in [0, A) is below ``thresholds[c]``, else
    takes ``aliases[c]``; slot s then comes up with probability counts[s] / A exactly (A = sum of counts).
    """
    size, total = len(counts), sum(counts)
    weights = [size * count for count in counts]
    thresholds, aliases = [total] * size, list(range(size))
    small = [s for s in range(size) if weights[s] < total]
    large = [s for s in range(size) if weights[s] >= total]
    while small and large:
        low, high = small.pop(), large.pop()
        thresholds[low], aliases[low] = weights[low], high
        weights[high] -= total - weights[low]
        (small if weights[high] < total else large).append(high)
    return thresholds, aliases


class EntityModel:
    """Signup, lifetime and the active set of one snapshot table's entities (see the module docstring).

    >>> model = EntityModel(base=1000, per_period=Fraction(2), period_days=1, epoch=19000, window=(-365, -1),
    ...                     churn_rate=0.002, seed=7)
    >>> model.active_count(19010) == sum(model.is_active(k, 19010) for k in range(model.population(19010)))
    True
    """

    def __init__(
        self,
        *,
        base: int,
        per_period: Fraction,
        period_days: int,
        epoch: int,
        window: tuple[int, int],
        churn_rate: float,
        seed: int,
        propensity: tuple[tuple[int, ...], tuple[float, ...]] | None = None,
        segments: tuple[int, ...] | None = None,
        segment_bounds: tuple[int, ...] | None = None,
    ) -> None:
        self.base, self.per_period, self.period_days, self.epoch = base, per_period, period_days, epoch
        self.low, self.width = window[0], window[1] - window[0] + 1
        self.churn_rate = churn_rate
        self.seed = seed
        self.propensity = propensity
        self.segments, self.segment_bounds = segments, segment_bounds
        self.arrangement_seed = derive_seed(seed, 1)
        self._ranges: dict[tuple[int, int], list[tuple[int, int]]] = {}
        self._picks: dict[tuple[int, int | None], tuple[int, ...]] = {}  # a frame reads three parts of each
        self._segment_picks: dict[tuple[int, int | None], tuple[int, ...]] = {}

    @cached_property
    def slot_lifetimes(self) -> tuple[int, ...]:
        """Lifetime in days of each of the 100 slots, 0 for the 10 slots that never churn.

        The loyal slots are one per last digit (slot 10 t_r + r for r = 0..9, t_r from the seed): a block
        puts slot s at position a^-1 (s - b) mod 100, so its loyal entities end in ten different digits.
        """
        if self.churn_rate <= 0:
            return (0,) * BLOCK
        loyal = {10 * (seed_of(self.seed, "loyal", digit) % 10) + digit for digit in range(LOYAL_SLOTS)}
        churning = sorted(set(range(BLOCK)) - loyal, key=lambda slot: seed_of(self.seed, "slot", slot))
        lifetimes = [0] * BLOCK
        for slot, days in zip(churning, lifetime_levels(self.churn_rate), strict=True):
            lifetimes[slot] = days
        return tuple(lifetimes)

    @cached_property
    def slot_classes(self) -> tuple[int, ...]:
        """Propensity class of each of the 100 slots (1 = the first listed), 0 for all without a propensity.

        Class c takes shares[c] slots in an order shuffled by the seed alone, whatever their lifetimes.
        """
        if self.propensity is None:
            return (0,) * BLOCK
        order = iter(sorted(range(BLOCK), key=lambda slot: seed_of(self.seed, "class", slot)))
        classes = [0] * BLOCK
        for number, share in enumerate(self.propensity[0], start=1):
            for _ in range(share):
                classes[next(order)] = number
        return tuple(classes)

    @cached_property
    def slot_segments(self) -> tuple[int, ...]:
        """Segment of each of the 100 slots (1 = the first), 0 for all without segments.

        Segment g takes segments[g] slots in an order shuffled by the seed alone (not the classes' order). A
        segment with a lifetime bound (``segment_bounds[g]`` > 0: children who leave before they turn 18) takes
        the first slots in that order whose entities churn within the bound, before the other segments take theirs.
        """
        if self.segments is None:
            return (0,) * BLOCK
        order = sorted(range(BLOCK), key=lambda slot: seed_of(self.seed, "segment", slot))
        bounds = self.segment_bounds or (0,) * len(self.segments)
        segments = [0] * BLOCK
        for number, (share, bound) in sorted(enumerate(zip(self.segments, bounds, strict=True), 1), key=_bounded_first):
            free = [s for s in order if not segments[s] and (not bound or 0 < self.slot_lifetimes[s] <= bound)]
            if len(free) < share:
                raise ValueError(f"segment {number} needs {share} of the 100 slots churning within {bound} days")
            for slot in free[:share]:
                segments[slot] = number
        return tuple(segments)

    def slot_masses(self, counts: list[int]) -> list[int]:
        """What the alias table weighs each slot by: its active count, times its class weight if any.

        Weighted masses are scaled to integers summing to about MAX_MASS: each slot's chance is exact within 2**-24.
        A day whose active entities all have weight 0 falls back on the counts (the key stays active).
        """
        if self.propensity is None:
            return counts
        weights = self.propensity[1]
        raw = [count * weights[number - 1] for count, number in zip(counts, self.slot_classes, strict=True)]
        total = sum(raw)
        if total <= 0:
            return counts
        return [round(mass * MAX_MASS / total) for mass in raw]

    @cached_property
    def first_loyal_slot(self) -> int:
        return self.slot_lifetimes.index(0)

    def start(self, k: int) -> int:
        """Signup day ordinal of entity ``k``."""
        if k < self.base:
            return self.epoch + self.low + k * self.width // self.base
        num, den = self.per_period.numerator, self.per_period.denominator
        return self.epoch + -(-(k + 1 - self.base) * den // num) * self.period_days

    def first_starting_from(self, day: int) -> int:
        """The first entity whose signup day is ``day`` or later (start is non-decreasing)."""
        tau = day - self.epoch - self.low
        if tau <= 0:
            return 0
        if tau < self.width:
            return -(-tau * self.base // self.width)
        if self.per_period == 0:
            return self.base
        periods = max(1, -(-(day - self.epoch) // self.period_days))
        return self.base + math.floor((periods - 1) * self.per_period)

    def population(self, day: int) -> int:
        """Entities signed up by ``day``, as ``Calendar.population`` counts them."""
        periods = max(0, day - self.epoch) // self.period_days
        return self.base + math.floor(periods * self.per_period)

    def _arrangement(self, block: int) -> tuple[int, int]:
        return block_arrangement(block, self.arrangement_seed, self.first_loyal_slot)

    def slot(self, k: int) -> int:
        unit, offset = self._arrangement(k // BLOCK)
        return (UNITS[unit] * (k % BLOCK) + offset) % BLOCK

    def position(self, block: int, slot: int) -> int:
        """Where in block ``block`` slot ``slot`` sits (the inverse of ``slot``)."""
        unit, offset = self._arrangement(block)
        return INVERSES[unit] * (slot - offset) % BLOCK

    def end(self, k: int) -> int | None:
        """Churn day ordinal of entity ``k`` (the first day it is not active), None if it never churns."""
        lifetime = self.slot_lifetimes[self.slot(k)]
        return None if lifetime == 0 else self.start(k) + lifetime

    def is_active(self, k: int, day: int) -> bool:
        if k >= self.population(day):
            return False
        end = self.end(k)
        return end is None or day < end

    def ranges(self, day: int, signed_by: int | None = None) -> list[tuple[int, int]]:
        """(first block, blocks) of each slot's active entities on ``day``: entity 100 x block + position.

        ``signed_by``: count only the entities signed up by that day instead (a fact picks among the
        entities of the snapshot in force on its day, if they are still active on the day itself).
        """
        key = (day, day if signed_by is None else signed_by)
        if key not in self._ranges:
            self._ranges[key] = self._count_ranges(*key)
        return self._ranges[key]

    def _count_ranges(self, day: int, signed_by: int) -> list[tuple[int, int]]:
        full, rest = divmod(self.population(signed_by), BLOCK)
        result = []
        for slot, lifetime in enumerate(self.slot_lifetimes):
            last = full + (1 if self.position(full, slot) < rest else 0)  # blocks [0, last) signed up
            first = 0
            if lifetime:
                oldest = self.first_starting_from(day - lifetime + 1)  # active iff start >= day - lifetime + 1
                block = oldest // BLOCK
                first = block if block * BLOCK + self.position(block, slot) >= oldest else block + 1
            result.append((first, max(0, last - first)))
        return result

    def active_count(self, day: int) -> int:
        """Active entities on ``day``, exactly."""
        return sum(count for _, count in self.ranges(day))

    def pick_table(self, day: int, signed_by: int | None = None) -> tuple[int, ...]:
        """What a foreign key reads to pick an active entity on ``day``, one array per day.

        [A, then per slot threshold << 7 | alias, then per slot first_block << 31 | blocks]: the alias
        table over the slots' masses (``slot_masses``, total A), then each slot's active range.
        """
        key = (day, signed_by)
        if key not in self._picks:
            ranges = self.ranges(day, signed_by)
            masses = self.slot_masses([count for _, count in ranges])
            thresholds, aliases = integer_alias(masses)
            alias = [t << ALIAS_SHIFT | a for t, a in zip(thresholds, aliases, strict=True)]
            packed = [first << RANGE_SHIFT | count for first, count in ranges]
            self._picks[key] = (sum(masses), *alias, *packed)
        return self._picks[key]

    def segment_table(self, day: int, signed_by: int | None = None) -> tuple[int, ...]:
        """What a foreign key reads to pick an active entity of one segment: ``pick_table``'s total and alias
        table for the whole table (segment 0), then for each segment g, over the masses of g's slots alone.

        [A_0, A_1, .., A_G, then per g = 0..G the 100 entries threshold << 7 | alias]. A segment without an
        active mass on the day gets the whole table's (its keys stay active).
        """
        key = (day, signed_by)
        if key not in self._segment_picks:
            whole = self.pick_table(day, signed_by)
            masses = self.slot_masses([count for _, count in self.ranges(day, signed_by)])
            totals, aliases = [whole[0]], list(whole[1 : 1 + BLOCK])
            for number in range(1, len(self.segments or ()) + 1):
                own = [m if g == number else 0 for m, g in zip(masses, self.slot_segments, strict=True)]
                if sum(own) <= 0:
                    totals.append(whole[0])
                    aliases.extend(whole[1 : 1 + BLOCK])
                    continue
                thresholds, alias = integer_alias(own)
                totals.append(sum(own))
                aliases.extend(t << ALIAS_SHIFT | a for t, a in zip(thresholds, alias, strict=True))
            self._segment_picks[key] = (*totals, *aliases)
        return self._segment_picks[key]

    def rank_table(self, day: int, signed_by: int | None = None) -> tuple[int, ...]:
        """What a booking reads to find the a-th active entity on ``day`` (slots in order, then blocks), besides
        the ranges of ``pick_table``: the active counts before slots 0..127 (padded with the total)."""
        cumulative = [0]
        for _, count in self.ranges(day, signed_by):
            cumulative.append(cumulative[-1] + count)
        return tuple(cumulative + [cumulative[-1]] * (SEARCH_WIDTH - len(cumulative)))
