"""Data-quality faults, Spark-free: which rows of a table-day get a fault, of which type, in which columns.

A table-day of n rows gets k = round(n x fault_rate) faulted rows: the first k ranks of a seeded affine
permutation of its row indices, ``rank(i) = a_inv x (i - b) mod n``. Rank j gets the type slot
``(floor(j x m / k) + rotation) mod m`` among the m fault types that apply to the table, so the count of
each type (duplicates included, which add rows to the file) is known to the plan in closed form. The
duplicate_row ranks are one run [start, start + count), at positions ``(a x j + b) mod n``, which the day's
extra rows enumerate. The column a faulted row's fault lands in is picked in Spark by hash among the type's
columns (docs/faults.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass

from synthgen_spark.catalog import DECIMAL_TYPE, ColumnSpec, DatasetSpec, TableSpec
from synthgen_spark.config import FAULT_TYPES, JobConfig

FAULTS_TABLE = "_faults"
LABEL_COLUMNS = (
    ("table", "string"),
    ("date", "date"),
    ("primary_key", "string"),
    ("column", "string"),
    ("fault_type", "string"),
    ("clean_value", "string"),
    ("dirty_value", "string"),
)
# kinds whose value is never null (a column with null_rate 0 of these kinds is declared non-null)
NEVER_NULL_KINDS = frozenset(
    {
        "sequence", "uniform", "normal", "lognormal", "pool", "template", "foreign_key", "parent_key",
        "line_number", "generation_date", "child_count", "child_sum", "lifecycle_start", "lifecycle_status",
        "propensity_class",
    }
)  # fmt: skip
NUMERIC_TYPES = ("int", "long", "double")
TYPE_RANGES = {"int": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
MALFORMED_NAMES = ("email", "phone", "postcode", "zip")


@dataclass(frozen=True)
class FaultTarget:
    """One (fault type, column) a faulted row can get; ``column`` is None for duplicate_row.

    ``low``/``high``: the declared bounds of an out_of_range column (numbers, or day offsets of a date).
    """

    fault_type: str
    column: ColumnSpec | None = None
    low: float = 0.0
    high: float = 0.0


@dataclass(frozen=True)
class FaultDay:
    """The faults of one table-day: the permutation, the faulted rows and each type's count."""

    rows: int
    faulted: int
    a_inv: int
    b: int
    rotation: int
    counts: dict[str, int]

    @property
    def duplicates(self) -> int:
        return self.counts.get("duplicate_row", 0)

    @property
    def a(self) -> int:
        """The permutation's multiplier: the row of rank j is at position ``(a x j + b) mod rows``."""
        return pow(self.a_inv, -1, self.rows) if self.rows > 1 else 1

    @property
    def duplicates_start(self) -> int:
        """The first rank of the duplicate_row run (its ranks are [start, start + duplicates))."""
        types = list(self.counts)
        if "duplicate_row" not in types:
            return 0
        return first_rank((types.index("duplicate_row") - self.rotation) % len(types), self.faulted, len(types))


def faultable(table: TableSpec) -> bool:
    """Dataset tables get faults; change feeds, histories and hard-deleting snapshots (row counts vary) do not."""
    return not table.derived_from and table.churn != "delete" and not table.name.startswith("_")


def _declared_non_null(table: TableSpec, col: ColumnSpec) -> bool:
    if col.null_rate > 0:
        return False
    if col.kind == "choice":
        return None not in col.params["values"]
    if col.kind in ("date_offset", "timestamp"):
        base = col.params.get("base", "generation_date")
        return base in ("generation_date", "epoch") or _declared_non_null(table, table.column(base))
    return col.kind in NEVER_NULL_KINDS


def _numeric_bounds(col: ColumnSpec) -> tuple[float, float] | None:
    """Declared numeric bounds: uniform/normal/lognormal min and max numbers, or a numeric choice's values."""
    p = col.params
    if col.type not in NUMERIC_TYPES and not DECIMAL_TYPE.fullmatch(col.type):
        return None
    if col.kind == "choice":
        values = p["values"]
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            return float(min(values)), float(max(values))
        return None
    if col.kind in ("uniform", "normal", "lognormal"):
        ends = (p.get("min"), p.get("max"))
        if all(isinstance(e, int | float) and not isinstance(e, bool) for e in ends):
            return float(ends[0]), float(ends[1])
    return None


def _below_fits(col: ColumnSpec, low: float, high: float) -> bool:
    """The out_of_range value (``-v`` above 0, else ``2 low - 1 - v``) fits the column type for every clean v."""
    if low > 0:
        return True
    if col.drift:  # drifted values may leave the bounds on their own
        return False
    smallest = 2 * low - 1 - high
    if col.type in TYPE_RANGES:
        return smallest >= TYPE_RANGES[col.type][0]
    decimal = DECIMAL_TYPE.fullmatch(col.type)
    if decimal:
        return abs(smallest) < 10 ** (int(decimal.group(1)) - int(decimal.group(2)))
    return True


def _out_of_range(table: TableSpec, col: ColumnSpec) -> FaultTarget | None:
    if col.kind == "date_offset":
        return FaultTarget("out_of_range", col, float(col.params["min_days"]), float(col.params["max_days"]))
    bounds = _numeric_bounds(col)
    if bounds is None or not _below_fits(col, *bounds):
        return None
    return FaultTarget("out_of_range", col, *bounds)


def _malformed(col: ColumnSpec) -> bool:
    """A string with a pattern: a template with digits, or an email, phone or postcode column."""
    if col.type != "string":
        return False
    if col.kind == "template":
        return "#" in col.params["pattern"]
    return any(word in col.name for word in MALFORMED_NAMES) and col.kind in ("derived", "pool", "template")


def _categorical(col: ColumnSpec) -> bool:
    values = col.params.get("values", [])
    return col.kind == "choice" and col.type == "string" and all(isinstance(v, str) for v in values)


def _orphan(dataset: DatasetSpec, table: TableSpec, col: ColumnSpec) -> bool:
    """A foreign or parent key whose parent keys are a sequence from >= 0 (so ``-(key + 1)`` has no parent)."""
    if col.kind == "foreign_key":
        parent_table, parent_column = col.params["references"].split(".")
    elif col.kind == "parent_key":
        parent_table = table.parent
        parent_column = dataset.table(parent_table).primary_key
    else:
        return False
    parent = dataset.table(parent_table).column(parent_column)
    return parent.kind == "sequence" and int(parent.params.get("start", 1)) >= 0


def fault_targets(config: JobConfig, dataset: DatasetSpec, table: TableSpec) -> dict[str, tuple[FaultTarget, ...]]:
    """The selected fault types that apply to ``table``, each with its targets, in FAULT_TYPES order.

    Never the primary key or the table's date column (the file's date, Delta's replaceWhere column).
    """
    if not faultable(table):
        return {}
    candidates = [c for c in table.output_columns if c.name not in (table.primary_key, table.primary_date_column)]
    found: dict[str, list[FaultTarget]] = {t: [] for t in FAULT_TYPES}
    found["duplicate_row"].append(FaultTarget("duplicate_row"))
    for col in candidates:  # a faulted value always differs from the clean one, so that is never null
        if _malformed(col) and (col.kind == "derived" or _declared_non_null(table, col)):  # email: coalesced
            found["malformed"].append(FaultTarget("malformed", col))
        if not _declared_non_null(table, col):
            continue
        found["null"].append(FaultTarget("null", col))
        out_of_range = _out_of_range(table, col)
        found["out_of_range"] += [out_of_range] if out_of_range else []
        found["whitespace_or_case"] += [FaultTarget("whitespace_or_case", col)] if _categorical(col) else []
        found["orphan_key"] += [FaultTarget("orphan_key", col)] if _orphan(dataset, table, col) else []
    return {t: tuple(found[t]) for t in FAULT_TYPES if t in config.fault_types and found[t]}


def _hash(*parts: object) -> int:
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def first_rank(slot: int, faulted: int, types: int) -> int:
    """The first of the ranks j with floor(j x types / faulted) == slot: ceil(slot x faulted / types)."""
    return -(-slot * faulted // types)


def fault_day(config: JobConfig, table: str, day: dt.date, rows: int, types: tuple[str, ...]) -> FaultDay:
    """The faults of ``table`` on ``day`` with ``rows`` rows: a pure function of (seed, table, day, rows, types)."""
    faulted = round(rows * config.fault_rate) if types else 0
    if not faulted:
        return FaultDay(rows, 0, 1, 0, 0, dict.fromkeys(types, 0))
    seed = _hash("faults", config.seed_value, table, day.isoformat())
    a = seed % rows or 1
    while math.gcd(a, rows) != 1:
        a = a % rows + 1
    m = len(types)
    rotation = (seed >> 32) % m
    counts = {t: 0 for t in types}
    for slot in range(m):  # ranks j with floor(j m / k) == slot: ceil((slot+1) k/m) - ceil(slot k/m)
        count = first_rank(slot + 1, faulted, m) - first_rank(slot, faulted, m)
        counts[types[(slot + rotation) % m]] += count
    return FaultDay(rows, faulted, pow(a, -1, rows), (seed >> 16) % rows, rotation, counts)


def faults_spec() -> TableSpec:
    """The labels table ``_faults``: one row per fault, dated by the file holding the faulted row."""
    columns = tuple(ColumnSpec(name, "derived", type_name) for name, type_name in LABEL_COLUMNS)
    return TableSpec(
        name=FAULTS_TABLE,
        kind="incremental",
        rows=1,
        columns=columns,
        primary_key="primary_key",
        primary_date_column="date",
        date_columns=("date",),
        description="Ground truth of the data-quality faults: one row per fault (docs/faults.md).",
    )
