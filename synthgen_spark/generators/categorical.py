"""Categorical and text generators: weighted choice, pool pick, digit/letter templates."""

from __future__ import annotations

import itertools
import math
import re
import string
from fractions import Fraction
from functools import lru_cache

from synthgen_spark.catalog import ColumnSpec, PoolSpec
from synthgen_spark.generators import sql
from synthgen_spark.generators.core import bounded_index, derive_seed, hash_key, unit_interval
from synthgen_spark.generators.family import distinct_record_index
from synthgen_spark.generators.registry import Scope, register
from synthgen_spark.generators.sql import INT_MAX, INT_MIN, Expr
from synthgen_spark.pools import WEIGHT_FIELD, pool_weights

CHOICE_TABLE_MAX = 1000  # entries of a choice's lookup table (weights [37.4, 35.7, ...] need 1000)


def build_weighted_choice_column(u: Expr, *, values: list, weights: list[float | Expr]) -> Expr:
    """One of ``values`` with probability proportional to ``weights``, from a uniform ``u`` on [0, 1).

    ``u`` is compared with the cumulative thresholds, so pass a staged column (read once per branch).
    Weights may be Columns (drift moves them per day); thresholds are then computed per row.
    """
    total = sum(weights[1:], weights[0])
    result = sql.lit(values[-1])
    thresholds, running = [], 0.0
    for weight in weights[:-1]:
        running = running + weight
        thresholds.append(running / total)
    for value, threshold in reversed(list(zip(values[:-1], thresholds, strict=True))):
        bound = threshold if isinstance(threshold, Expr) else sql.lit(threshold)
        result = sql.when(u < bound, sql.lit(value)).otherwise(result)
    return result


def array_literal(values: tuple) -> Expr:
    """One array literal per distinct pool, rendered once.

    Cached by value *and* type: ``(True, False) == (1, 0)`` in Python, and a boolean choice must not get an
    integer pool's array (which one came first depended on the order datasets were built in).
    """
    return _array_literal(tuple((type(v).__name__, v) for v in values))


@lru_cache(maxsize=256)
def _array_literal(typed_values: tuple) -> Expr:
    values = [value for _, value in typed_values]
    element = _json_element_type(values) if len(values) >= JSON_ARRAY_FROM else None
    if element is None:
        return sql.lit(values)
    return sql.json_array(values, element)


JSON_ARRAY_FROM = 16  # elements: from here on, an array is one JSON string (see _json_element_type)


def _json_element_type(values: list) -> str | None:
    """The Spark type of a JSON array that reads back exactly ``array(values...)``, or None to write ``array(...)``.

    A long array is one JSON string (``sql.json_array``: pools hold thousands of values, a weighted choice's
    table a hundred). Only strings, integers and finite doubles, all of one type, round-trip through JSON exactly.
    """
    kinds = {type(v) for v in values}
    if kinds == {str}:
        return "string"
    if kinds == {int}:
        return "int" if all(INT_MIN <= v <= INT_MAX for v in values) else "bigint"
    if kinds == {float} and all(math.isfinite(v) for v in values):
        return "double"
    return None


def build_pool_pick_column(index: Expr, *, values: tuple) -> Expr:
    """``values[index]`` (1-based): ``element_at`` into one array literal (Spark folds it once)."""
    return sql.element_at(array_literal(values), index)


def pool_index(row_key: Expr, seed: int, size: int) -> Expr:
    """A 1-based record index of a pool of ``size`` records, uniform."""
    return (bounded_index(hash_key(row_key, seed), size) + sql.lit(1)).cast("int")


WEIGHTED_SLOTS = 8192
RUNS_AS_CASE = 16  # a weighted pick whose slot table has at most this many runs is a CASE, not an array read


@lru_cache(maxsize=64)
def weighted_slots(weights: tuple[float, ...], slots: int = WEIGHTED_SLOTS) -> tuple[int, ...]:
    """1-based record indexes filling ``slots`` in proportion to ``weights`` (largest remainder; one at least).

    A uniform slot is then a weighted pick with one hash and two array reads per row.

    >>> weighted_slots((3.0, 1.0, 0.0), slots=8)
    (1, 1, 1, 1, 1, 1, 2, 2)
    """
    total = sum(weights)
    shares = [slots * w / total for w in weights]
    counts = [max(1, math.floor(share)) if share > 0 else 0 for share in shares]
    by_remainder = sorted(range(len(weights)), key=lambda i: (counts[i] - shares[i], i))
    for i in by_remainder[: max(0, slots - sum(counts))]:
        counts[i] += 1
    return tuple(i + 1 for i, count in enumerate(counts) for _ in range(count))


SLOT_BLOCK = 32  # a slot table read as blocks: per block its first run's rank and a mask of the runs it starts


@lru_cache(maxsize=64)
def slot_blocks(table: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """A sorted slot table as (first rank per block, run starts per block as a bit mask, record of each rank).

    Slot s (0-based) is record ``records[firsts[b] + popcount(masks[b] & bits 0..j)]``, b = s // 32, j = s % 32:
    the same record as ``table[s]``, in 2 x 256 + the records' numbers instead of 8,192 literals.

    >>> slot_blocks((1, 1, 3, 3, 3, 4) + (4,) * 30)
    ((0, 2), (36, 0), (1, 3, 4))
    """
    records = tuple(index for index, _ in itertools.groupby(table))
    firsts, masks, rank = [], [], -1
    for start in range(0, len(table), SLOT_BLOCK):
        mask = 0
        for j, slot in enumerate(range(start, min(start + SLOT_BLOCK, len(table)))):
            if slot == 0 or table[slot] != table[slot - 1]:
                rank += 1
                mask |= (1 << j) if j else 0
            if j == 0:
                firsts.append(rank)
        masks.append(mask)
    return tuple(firsts), tuple(masks), records


def weighted_pool_index(row_key: Expr, seed: int, weights: tuple[float, ...]) -> Expr:
    """A 1-based record index picked with probability proportional to its weight (to 1/WEIGHTED_SLOTS).

    A uniform slot of the slot table (``weighted_slots``), read without an array of 8,192 literals for Spark
    to parse and analyse every batch: up to RUNS_AS_CASE runs as a CASE over the ends of the runs, else by
    blocks of 32 slots (``slot_blocks``: two array reads and a bit count). The same index as the table's.
    """
    table = weighted_slots(weights)
    runs = [(index, len(list(run))) for index, run in itertools.groupby(table)]
    if len(runs) == 1:
        return sql.lit(runs[0][0])
    if len(runs) > RUNS_AS_CASE:
        firsts, masks, records = slot_blocks(table)
        slot = bounded_index(hash_key(row_key, seed), len(table))
        block = (sql.shiftright(slot, SLOT_BLOCK.bit_length() - 1) + sql.lit(1)).cast("int")
        below = sql.shiftleft(sql.lit(2).cast("bigint"), (slot % sql.lit(SLOT_BLOCK)).cast("int")) - sql.lit(1)
        mask = sql.element_at(array_literal(masks), block).cast("bigint")
        starts = Expr(f"({mask.sql} & {below.sql})", max(mask.level, below.level))  # the runs begun by slot j
        rank = sql.element_at(array_literal(firsts), block) + sql.call("bit_count", starts)
        if records == tuple(range(1, len(records) + 1)):
            return rank + sql.lit(1)
        return sql.element_at(array_literal(records), rank + sql.lit(1))
    slot = pool_index(row_key, seed, len(table))
    ends = list(itertools.accumulate(length for _, length in runs))
    case = sql.when(slot <= sql.lit(ends[0]), sql.lit(runs[0][0]))
    for (index, _), end in zip(runs[1:-1], ends[1:-1], strict=True):
        case = case.when(slot <= sql.lit(end), sql.lit(index))
    return case.otherwise(sql.lit(runs[-1][0]))


def build_template_column(row_key: Expr, seed: int, *, pattern: str) -> Expr:
    """Text from a pattern: each ``#`` a digit, each ``?`` an upper-case letter, the rest literal."""
    parts: list[Expr] = []
    for index, token in enumerate(re.findall(r"#+|\?+|[^#?]+", pattern)):
        hashed = hash_key(row_key, derive_seed(seed, index + 1))
        if token[0] == "#":
            digits = bounded_index(hashed, 10 ** min(len(token), 18)).cast("string")
            parts.append(sql.lpad(digits, len(token), "0"))
        elif token[0] == "?":
            letters = array_literal(tuple(string.ascii_uppercase))
            for position in range(len(token)):
                pick = sql.pmod(sql.shiftright(hashed, 5 * position), sql.lit(26).cast("bigint")) + sql.lit(1)
                parts.append(sql.element_at(letters, pick.cast("int")))
        else:
            parts.append(sql.lit(token))
    return sql.concat(*parts)


def choice_table(values: list, weights: list[float]) -> tuple | None:
    """``values``, each repeated in exact proportion to its weight, or None past CHOICE_TABLE_MAX entries.

    A uniform entry of the table is the weighted choice with one hash and one array read per row.

    >>> choice_table(["a", "b", "c"], [50, 37.5, 0])
    ('a', 'a', 'a', 'a', 'b', 'b', 'b')
    """
    exact = [Fraction(repr(float(weight))) for weight in weights]
    scale = math.lcm(*(weight.denominator for weight in exact))
    counts = [int(weight * scale) for weight in exact]
    common = math.gcd(*counts)
    counts = [count // common for count in counts]
    if sum(counts) > CHOICE_TABLE_MAX:
        return None
    return tuple(value for value, count in zip(values, counts, strict=True) for _ in range(count))


def case_key(value: object) -> str:
    """A ``cases`` key as the given column's value reads cast to text (true, 3, 2.5, text)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _conditional_choice(spec: ColumnSpec, scope: Scope) -> Expr:
    """One weighted choice per case of the ``given`` column's value (text), the default weights otherwise."""
    values = list(spec.params["values"])
    u = scope.stage(f"_sg_{spec.name}_u", unit_interval(hash_key(scope.row_key, scope.seed(spec.name))))
    given = scope.stage(f"_sg_{spec.name}_given", scope.column(spec.params["given"]).cast("string"))
    weights = [float(w) for w in spec.params.get("weights", [1] * len(values))]
    result = None
    for value, case in spec.params["cases"].items():
        branch = build_weighted_choice_column(u, values=values, weights=[float(w) for w in case])
        condition = given == sql.lit(case_key(value))
        result = sql.when(condition, branch) if result is None else result.when(condition, branch)
    return result.otherwise(build_weighted_choice_column(u, values=values, weights=weights))


@register("choice")
def _choice(spec: ColumnSpec, scope: Scope) -> Expr:
    """A table lookup when the weights are fixed and small in lowest terms, else a uniform against thresholds."""
    if "given" in spec.params:
        return _conditional_choice(spec, scope)
    values = list(spec.params["values"])
    weights: list = [float(w) for w in spec.params.get("weights", [1] * len(values))]
    target, factor = spec.params.get("drift_toward"), scope.drift_factor()
    if spec.drift and target is not None and factor is not None:
        weights[values.index(target)] = sql.lit(weights[values.index(target)]) * factor
    elif (table := choice_table(values, weights)) is not None:
        return build_pool_pick_column(pool_index(scope.row_key, scope.seed(spec.name), len(table)), values=table)
    u = scope.stage(f"_sg_{spec.name}_u", unit_interval(hash_key(scope.row_key, scope.seed(spec.name))))
    return build_weighted_choice_column(u, values=values, weights=weights)


@register("pool")
def _pool(spec: ColumnSpec, scope: Scope) -> Expr:
    pool = scope.pool(spec.params["pool"])
    field_index = pool.fields.index(spec.params.get("field", pool.fields[0]))
    values = tuple(record[field_index] for record in pool.records)
    pick = spec.params.get("pick", spec.name)  # columns with one pick name read the same record
    if spec.params.get("distinct_per_parent"):  # e.g. no ICD-10 code twice in one appointment
        index = distinct_record_index(scope, scope.seed(pick, "pick"), len(values))
    elif "given" in spec.params:
        index = _given_pool_index(spec, scope, pool, scope.seed(pick, "pick"))
    elif WEIGHT_FIELD in pool.fields:
        index = weighted_pool_index(scope.row_key, scope.seed(pick, "pick"), pool_weights(pool))
    else:
        index = pool_index(scope.row_key, scope.seed(pick, "pick"), len(values))
    if "pick" in spec.params:
        index = scope.stage(f"_sg_pick_{pick}_{spec.params['pool']}", index)
    return build_pool_pick_column(index, values=values)


def _given_pool_index(spec: ColumnSpec, scope: Scope, pool: PoolSpec, seed: int) -> Expr:
    """A record whose field named like the ``given`` column holds the row's value of that column (weighted as
    the pool is), e.g. a store's city in the store's region; any record for a value the field never holds."""
    given = spec.params["given"]
    labels = [str(record[pool.fields.index(given)]) for record in pool.records]
    weights = pool_weights(pool)
    value = scope.stage(f"_sg_{spec.name}_given", scope.column(given).cast("string"))

    def within(label: str) -> Expr:
        own = tuple(w if other == label else 0.0 for w, other in zip(weights, labels, strict=True))
        return weighted_pool_index(scope.row_key, seed, own)

    branches = tuple((value == sql.lit(label), within(label)) for label in dict.fromkeys(labels))
    return sql.When(branches).otherwise(weighted_pool_index(scope.row_key, seed, weights))


@register("template")
def _template(spec: ColumnSpec, scope: Scope) -> Expr:
    return build_template_column(scope.row_key, scope.seed(spec.name), pattern=spec.params["pattern"])
