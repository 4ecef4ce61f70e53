"""Column kinds: each kind's parameters and default type, the output types, and the rules of each kind's fields."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any

from synthgen_spark.catalog.model import NAME, ColumnSpec, TableSpec
from synthgen_spark.errors import SpecError, invalid

SIMPLE_TYPES = ("long", "int", "double", "string", "date", "timestamp", "boolean")
DECIMAL_TYPE = re.compile(r"decimal\((\d{1,2}),(\d{1,2})\)")
MAX_DECIMAL_PRECISION = 38  # Spark's DecimalType
# Column kinds that can be a primary key: a sequence (unique over all days and runs), or a derived
# expression over one (dim_date's yyyymmdd date_key). Other kinds repeat values.
PRIMARY_KEY_KINDS = ("sequence", "derived")
# child_sum unrolls its sum over at most this many children per parent (validate checks children_summed);
# without a children_shape a parent has up to ceil(rows_per_parent) + 1 children, so at most one less.
MAX_CHILDREN_SUMMED = 16
MAX_CHILD_SUM_ROWS_PER_PARENT = MAX_CHILDREN_SUMMED - 1
PROBED_PARENTS = 4096  # children_summed's day sizes: its ceilings peak at few parents per day


def most_children(parents: int, children: int, shape: tuple[int, ...]) -> int:
    """The most children a parent gets on a day with these row counts (the child_sum unroll bound)."""
    if not parents:
        return 0
    linear = math.ceil(children / parents) + (children >= 2 * parents and not shape)
    if not shape:
        return linear
    extra = math.ceil(len(shape) * children / parents) - len(shape)
    return max(linear, 1 + math.ceil((max(shape) - 1) * extra / sum(s - 1 for s in shape)))


def children_summed(rows_per_parent: float, shape: tuple[int, ...]) -> int:
    """The most children a parent gets on any day (a day's children: max(P, P x rows_per_parent rounded half up))."""
    return max(
        most_children(p, max(p, math.floor(p * rows_per_parent + 0.5)), shape) for p in range(1, PROBED_PARENTS + 1)
    )


# kind -> (required params, optional params, default type). Generators register one builder per kind;
# a test checks that the two agree.
COLUMN_KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "sequence": ((), ("start",), "long"),
    "uniform": (("min", "max"), ("endings",), "long"),
    "normal": (("mean", "stddev"), ("min", "max"), "double"),
    "lognormal": (("median", "sigma"), ("min", "max"), "double"),
    "choice": (("values",), ("weights", "drift_toward", "given", "cases"), "string"),
    "pool": (("pool",), ("field", "pick", "distinct_per_parent", "given"), "string"),
    "template": (("pattern",), (), "string"),
    "foreign_key": (("references",), ("slots_per_day", "same_segment", "segment_share"), "long"),
    "parent_key": ((), (), "long"),
    "parent_value": (("column",), (), "string"),
    "line_number": ((), (), "int"),
    "slot": (("key",), (), "int"),
    "generation_date": ((), (), "date"),
    "timestamp": ((), ("base", "hourly_weights"), "timestamp"),
    "date_offset": (("min_days", "max_days"), ("base", "band_weights", "given", "cases"), "date"),
    "lookup": (("references", "key"), (), "double"),
    "version_key": (("references", "key"), (), "long"),
    "derived": (("expression",), (), "string"),
    "child_count": (("child",), (), "int"),
    "child_sum": (("child", "of"), (), "decimal(12,2)"),
    "lifecycle_start": (("min_days", "max_days"), (), "date"),
    "lifecycle_end": ((), (), "date"),
    "lifecycle_status": ((), ("values",), "string"),
    "propensity_class": ((), (), "int"),
    "segment": (("pool", "field"), ("max_lifetime_days",), "string"),
    "visit": (("references",), ("orders",), "long"),
    "visit_step": (("key",), (), "int"),
    "visit_event": (("key", "values"), ("weights",), "string"),
    "visit_product": (("key", "event", "product"), ("ordered",), "long"),
    "visit_time": (("key",), ("hourly_weights", "gap_seconds"), "timestamp"),
    "order_visit": (("references", "events"), (), "long"),
    "balance": (("target", "ledger", "amount", "counted"), (), "decimal(14,2)"),
    "sweep_row": ((), (), "boolean"),
    "sweep_amount": ((), (), "decimal(14,2)"),
}
# kinds whose value is a key of the snapshot their ``references`` names (joined as of the row's date)
KEY_KINDS = ("foreign_key", "visit", "order_visit")
# a balance table's snapshot frequencies: its snapshot dates are its sweep dates (a daily sweep would undo every row)
SWEEP_FREQUENCIES = ("weekly", "monthly", "quarterly")
COMMON_COLUMN_KEYS = ("name", "kind", "type", "null_rate", "hidden", "drift", "description")

# kinds whose expression can be rebuilt for another row key (lookups and child rollups need that)
INLINE_KINDS = frozenset(COLUMN_KINDS) - {
    "derived",
    "child_count",
    "child_sum",
    "parent_key",
    "parent_value",
    "slot",
    "line_number",
    "lifecycle_end",
    "lifecycle_status",
    "balance",
    "sweep_row",
    "sweep_amount",
}


def decimal_precision_scale(type_name: str) -> tuple[int, int] | None:
    """(p, s) of a ``decimal(p,s)`` type name, else None."""
    match = DECIMAL_TYPE.fullmatch(type_name)
    return (int(match.group(1)), int(match.group(2))) if match else None


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_params(kind: str, params: Mapping[str, Any], where: str) -> None:
    """Field rules of each kind's parameters (ranges, list shapes)."""

    def fail(name: str, problem: str, allowed: str) -> None:
        raise SpecError(invalid(name, allowed, params.get(name), where=where, problem=problem))

    for name in ("min", "max"):
        if name in params and not (is_number(params[name]) or NAME.fullmatch(str(params[name]))):
            fail(name, "must be a number or a column name", "numbers, column names")
    for name in ("mean", "stddev", "median", "sigma", "min_days", "max_days", "start"):
        if name in params and not is_number(params[name]):
            fail(name, "must be a number", "numbers")
    if is_number(params.get("min")) and is_number(params.get("max")) and params["min"] > params["max"]:
        fail("max", "is below min", f"numbers >= {params['min']}")
    if "min_days" in params and "max_days" in params and params["min_days"] > params["max_days"]:
        fail("max_days", "is below min_days", f"integers >= {params['min_days']}")
    if kind == "lifecycle_start" and params.get("max_days", 0) > 0:  # the epoch's entities sign up by the epoch
        fail("max_days", "is after the epoch: the epoch's entities have signed up by then", "integers <= 0")
    for name in ("stddev", "sigma"):
        if name in params and params[name] <= 0:
            fail(name, "must be positive", "numbers > 0")
    if kind in ("choice", "visit_event"):
        values = params["values"]
        if not isinstance(values, list) or not values:
            fail("values", "must be a non-empty list", "a list of values")
        weights = params.get("weights", [1] * len(values))
        if (
            not isinstance(weights, list)
            or len(weights) != len(values)
            or not all(is_number(w) and w >= 0 for w in weights)
            or sum(weights) <= 0
        ):
            fail("weights", f"must be {len(values)} numbers >= 0 with a positive sum", "one weight per value")
        _check_cases(params, len(values), fail)
        if "drift_toward" in params and params["drift_toward"] not in values:
            fail("drift_toward", "must be one of the values", ", ".join(map(str, values)))
    endings = params.get("endings")
    if endings is not None and (
        not isinstance(endings, list) or not endings or not all(is_number(e) and 0 <= e < 1 for e in endings)
    ):
        fail("endings", "must be a non-empty list of numbers from 0 to below 1", "e.g. [0.99, 0.49]")
    gap = params.get("gap_seconds")
    if gap is not None and (not isinstance(gap, int) or isinstance(gap, bool) or not 1 <= gap <= 3600):
        fail("gap_seconds", "must be an integer from 1 to 3600", "integers from 1 to 3600, e.g. 45")
    if "band_weights" in params:
        weights, days = params["band_weights"], params["max_days"] - params["min_days"] + 1
        if (
            not isinstance(weights, list)
            or not 0 < len(weights) <= days
            or not all(is_number(w) and w >= 0 for w in weights)
            or sum(weights) <= 0
        ):
            allowed = f"1 to {days} numbers >= 0 with a positive sum, one per equal band from min_days"
            fail("band_weights", "must be a list of weights", allowed)
    if kind == "date_offset" and ("given" in params or "cases" in params):  # band weights given another column
        if "band_weights" not in params:
            fail("cases", "needs band_weights: each case weighs the same bands", "band_weights and cases")
        _check_cases(params, len(params["band_weights"]), fail)
    bounds = params.get("max_lifetime_days")
    if bounds is not None and (
        not isinstance(bounds, Mapping)
        or not bounds
        or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in bounds.values())
    ):
        fail("max_lifetime_days", "must map segments to whole days >= 1", "{segment: days, ...}, e.g. {children: 3650}")
    if "hourly_weights" in params:
        weights = params["hourly_weights"]
        if (
            not isinstance(weights, list)
            or len(weights) != 24
            or not all(is_number(w) and w >= 0 for w in weights)
            or sum(weights) <= 0
        ):
            fail("hourly_weights", "must be 24 numbers >= 0 with a positive sum", "one weight per hour, midnight first")
    for name in ("references",):
        if name in params and not re.fullmatch(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*", str(params[name])):
            fail(name, "must be table.column", "table.column")
    if kind == "child_sum" and (not isinstance(params["of"], list) or not params["of"]):
        fail("of", "must be a non-empty list of child columns", "column names of the child table")
    if kind == "derived":
        _check_derived_sql(params, where)
    if kind == "template" and not isinstance(params["pattern"], str):
        fail("pattern", "must be text", "text with # for digits and ? for letters")


def _good_weights(weights: Any, count: int) -> bool:
    return (
        isinstance(weights, list)
        and len(weights) == count
        and all(is_number(w) and w >= 0 for w in weights)
        and sum(weights) > 0
    )


def _check_cases(params: Mapping[str, Any], count: int, fail: Any) -> None:
    """A conditional choice: ``given`` names a column, ``cases`` maps its values to weights (one per value)."""
    if ("given" in params) != ("cases" in params):
        fail("cases" if "given" in params else "given", "is missing: given and cases go together", "both, or neither")
    cases = params.get("cases")
    if cases is None:
        return
    if not isinstance(cases, Mapping) or not cases:
        fail("cases", "must map values of the given column to weights", "{value: [weights], ...}")
    for value, weights in cases.items():
        if isinstance(value, dt.date) or not _good_weights(weights, count):
            fail("cases", f"case {value!r} must be {count} numbers >= 0 with a positive sum", "one weight per value")


INTEGER_RANGES = {"int": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}


def _parses(parse: Any, text: str) -> bool:
    try:
        parse(text)
    except ValueError:
        return False
    return True


def _fits_type(value: Any, type_name: str) -> bool:
    """True if a YAML literal (a choice or status value) is a value of the catalog type ``type_name``.

    Nulls fit every type. Unquoted date-times have no SQL literal here: timestamps are quoted text.
    """
    if value is None:
        return True
    if isinstance(value, dt.datetime):
        return False
    if type_name == "string":
        return isinstance(value, str | int | float | bool | dt.date)
    if type_name == "boolean":
        return isinstance(value, bool)
    if type_name in INTEGER_RANGES:
        low, high = INTEGER_RANGES[type_name]
        return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
    if type_name == "double":
        return is_number(value)
    if type_name == "date":
        return isinstance(value, dt.date) or (isinstance(value, str) and _parses(dt.date.fromisoformat, value))
    if type_name == "timestamp":
        return isinstance(value, dt.date) or (isinstance(value, str) and _parses(dt.datetime.fromisoformat, value))
    precision, scale = decimal_precision_scale(type_name)
    if not is_number(value) or (isinstance(value, float) and not math.isfinite(value)):
        return False
    return abs(round(value, scale)) < 10 ** (precision - scale)


def _values_allowed(type_name: str) -> str:
    """What ``_fits_type`` accepts (besides null), for the message."""
    if type_name.startswith("decimal"):
        precision, scale = decimal_precision_scale(type_name)
        return f"numbers below {10 ** (precision - scale)} in absolute value"
    return {
        "string": "text (quote numbers, dates and true/false mixed with text)",
        "boolean": "true, false",
        "int": "integers from -2147483648 to 2147483647",
        "long": "integers from -9223372036854775808 to 9223372036854775807",
        "double": "numbers",
        "date": "dates YYYY-MM-DD",
        "timestamp": "dates YYYY-MM-DD, quoted 'YYYY-MM-DD HH:MM:SS'",
    }[type_name]


def check_values_fit_type(kind: str, params: Mapping[str, Any], type_name: str, where: str) -> None:
    """Choice and lifecycle status values must be values of the column's type (cast by Spark otherwise)."""
    if kind not in ("choice", "lifecycle_status") or "values" not in params:
        return
    values = params["values"]
    if kind == "lifecycle_status" and (not isinstance(values, list) or len(values) != 2):
        raise SpecError(
            invalid(
                "values",
                "e.g. [active, churned]",
                values,
                where=where,
                problem="must be two values, active then churned",
            )
        )
    wrong = [v for v in values if not _fits_type(v, type_name)]
    texts = {isinstance(v, str) for v in values if v is not None}
    if type_name == "string" and len(texts) > 1:  # Spark would cast the text to the other values' type
        wrong = [v for v in values if v is not None and not isinstance(v, str)]
    if wrong:
        raise SpecError(
            invalid(
                "values",
                f"{_values_allowed(type_name)}, null; or change the column's 'type'",
                values,
                where=where,
                problem=f"{wrong[0]!r} is not a value of the column type {type_name}",
            )
        )


def column_dependencies(table: TableSpec, col: ColumnSpec) -> tuple[str, ...]:
    """Columns of the same table that ``col``'s parameters name (uniform bounds, date bases, lookup keys)."""
    names = [col.params.get(k) for k in ("min", "max", "base", "key", "event", "product", "given", "same_segment")]
    return tuple(n for n in names if isinstance(n, str) and n in table.column_names)


def is_inline(table: TableSpec, name: str, _seen: frozenset[str] = frozenset()) -> bool:
    """True if the column can be rebuilt for any row key (no derived SQL anywhere beneath it)."""
    col = table.column(name)
    if col.kind not in INLINE_KINDS or name in _seen:
        return False
    return all(is_inline(table, dep, _seen | {name}) for dep in column_dependencies(table, col))


_FORBIDDEN_SQL = re.compile(r"\b(reflect|java_method|try_reflect)`?\s*\(", re.IGNORECASE)


def _check_derived_sql(params: Mapping[str, Any], where: str) -> None:
    """A derived expression is SQL over the row's columns; calls into Java static methods are not allowed."""
    expression = params.get("expression")
    if not isinstance(expression, str) or not expression.strip():
        raise SpecError(
            invalid("expression", "e.g. a * 2", str(expression)[:80], where=where, problem="must be SQL text")
        )
    forbidden = _FORBIDDEN_SQL.search(expression)
    if forbidden:
        raise SpecError(
            invalid(
                "expression",
                "Spark SQL functions without reflect, java_method, try_reflect",
                expression[:80],
                where=where,
                problem=f"calls {forbidden.group(1).lower()}(), which runs arbitrary Java methods",
            )
        )
