"""YAML -> DatasetSpec: the keys each level allows, the shapes of their values, then cross-table validation."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from synthgen_spark.catalog.kinds import (
    COLUMN_KINDS,
    COMMON_COLUMN_KEYS,
    MAX_DECIMAL_PRECISION,
    SIMPLE_TYPES,
    check_params,
    check_values_fit_type,
    decimal_precision_scale,
    is_number,
)
from synthgen_spark.catalog.model import (
    FREQUENCIES,
    MAX_NAME_LENGTH,
    NAME,
    PROPENSITY_BLOCK,
    RETAIL_EVENTS,
    TABLE_KINDS,
    ColumnSpec,
    DatasetSpec,
    Lifecycle,
    PoolSpec,
    Propensity,
    ShapeTarget,
    TableSpec,
)
from synthgen_spark.catalog.validate import validate_references
from synthgen_spark.changes import parse_change_groups, parse_churn, parse_progress
from synthgen_spark.config import MAX_LATE_DAYS
from synthgen_spark.errors import ConfigError, SpecError, invalid, place
from synthgen_spark.safe_yaml import YamlProblem, load_yaml, read_yaml_file

# (required, optional) keys of a dataset file, a table and a lifecycle; unknown keys are errors, and
# the published JSON Schemas (synthgen_spark.schemas) are built from these same constants
DATASET_KEYS = (("dataset_id", "tables"), ("description", "domain", "epoch", "weekday_multipliers", "pools"))
TABLE_KEYS = (
    ("name", "kind", "rows", "primary_key", "columns"),
    (
        "frequency",
        "primary_date_column",
        "date_columns",
        "parent",
        "rows_per_parent",
        "children_shape",
        "volume_noise",
        "month_multipliers",
        "follows_population",
        "holiday_multiplier",
        "event_multipliers",
        "lifecycle",
        "propensity",
        "description",
        "scaled",
        "changes",
        "churn",
        "progress",
        "late_arrival_rate",
        "max_late_days",
        "targets",
    ),
)
LIFECYCLE_KEYS = ((), ("growth_rate", "growth_period", "churn_rate"))
PROPENSITY_KEYS = (("shares", "weights"), ())
MAX_PROPENSITY_CLASSES = 10
POOL_KEYS = (("fields", "records"), ())
TARGET_KEYS = (("between",), ("top_share", "top", "weight", "share", "min_rows"))
TARGET_WEIGHT_TYPES = ("int", "long")  # a weight sums to whole units per key (a histogram of sums)


def builtin_dataset_ids() -> list[str]:
    """Ids of the datasets shipped as package data, sorted."""
    folder = resources.files("synthgen_spark") / "data" / "datasets"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_dataset(dataset_id: str, dataset_path: str | None = None) -> DatasetSpec:
    """Load a built-in dataset by id, or a user dataset from ``dataset_path``.

    Raises:
        SpecError: unknown id (listing the built-in ones) or an invalid definition.
    """
    if dataset_path:
        try:
            raw = read_yaml_file(Path(dataset_path))
        except OSError as exc:
            problem = f"cannot read dataset file ({exc.strerror})"
            allowed = "a readable YAML dataset file"
            raise SpecError(
                invalid("dataset_path", allowed, str(dataset_path), where="config", problem=problem)
            ) from None
        except YamlProblem as exc:
            raise SpecError(f"{dataset_path}: {exc}") from None
        return dataset_from_yaml(raw, source=str(dataset_path))
    ids = builtin_dataset_ids()
    if dataset_id not in ids:  # a job field, like a bad locale: a ConfigError (a broken dataset file is a SpecError)
        raise ConfigError(
            invalid(
                "dataset_id",
                ", ".join(ids),
                dataset_id,
                where="config",
                problem="unknown dataset",
                fix="Use dataset_path for a custom dataset.",
            )
        )
    return _builtin_dataset(dataset_id)


@functools.cache
def _builtin_dataset(dataset_id: str) -> DatasetSpec:
    """A built-in dataset, parsed once per process: package data does not change (a plan per batch reads it)."""
    text = (resources.files("synthgen_spark") / "data" / "datasets" / f"{dataset_id}.yaml").read_text("utf-8")
    return parse_dataset(text, source=f"{dataset_id}.yaml")


def parse_dataset(text: str, source: str) -> DatasetSpec:
    """Parse and validate a dataset definition from YAML text."""
    try:
        raw = load_yaml(text)
    except YamlProblem as exc:
        raise SpecError(f"{source}: {exc}") from None
    return dataset_from_yaml(raw, source)


def dataset_from_yaml(raw: Any, source: str) -> DatasetSpec:
    """Validate a parsed dataset definition and build its DatasetSpec."""
    if not isinstance(raw, Mapping):
        given = type(raw).__name__
        raise SpecError(
            invalid("dataset", "a mapping with dataset_id and tables", given, where=source, problem="must be a mapping")
        )
    _check_keys(raw, *DATASET_KEYS, source)
    pools = {name: _parse_pool(name, body, source) for name, body in (raw.get("pools") or {}).items()}
    tables = tuple(_parse_table(body, source) for body in _as_list(raw["tables"], "tables", source))
    epoch = raw.get("epoch", dt.date(2020, 1, 1))
    if isinstance(epoch, dt.datetime) or not isinstance(epoch, dt.date) or not 1971 <= epoch.year <= 2199:
        raise SpecError(
            invalid(
                "epoch",
                "YYYY-MM-DD, unquoted",
                str(epoch)[:40],
                where=source,
                problem="must be a real date from 1971 to 2199",
            )
        )
    multipliers = tuple(float(m) for m in raw.get("weekday_multipliers", [1.0] * 7))
    if len(multipliers) != 7 or min(multipliers) <= 0:
        raise SpecError(
            invalid(
                "weekday_multipliers",
                "seven numbers > 0, Mon..Sun",
                raw.get("weekday_multipliers"),
                where=source,
                problem="need seven numbers > 0",
            )
        )
    spec = DatasetSpec(
        dataset_id=str(raw["dataset_id"]),
        description=str(raw.get("description", "")),
        domain=str(raw.get("domain", "generic")),
        epoch=epoch,
        weekday_multipliers=multipliers,
        tables=tables,
        pools=pools,
        source=source,
    )
    validate_references(spec)
    return spec


def _as_list(value: Any, name: str, source: str) -> list:
    if not isinstance(value, list) or not value:
        raise SpecError(invalid(name, "a non-empty list", value, where=source, problem="must be a non-empty list"))
    return value


def _check_keys(raw: Mapping, required: tuple[str, ...], optional: tuple[str, ...], where: str) -> None:
    for key in required:
        if key not in raw:
            raise SpecError(
                invalid(key, f"keys {', '.join(required)} required", None, where=where, problem="is required")
            )
    unknown = sorted(set(raw) - set(required) - set(optional))
    if unknown:
        allowed = ", ".join(sorted(required + optional))
        raise SpecError(invalid(unknown[0], allowed, unknown[0], where=where, problem="unknown key"))


def _check_pool_weights(fields: tuple, records: tuple, where: str) -> None:
    """A ``weight`` field (records picked in proportion to it) holds numbers >= 0, not all 0."""
    if "weight" not in fields:
        return
    weights = [r[fields.index("weight")] for r in records]
    bad = [w for w in weights if isinstance(w, bool) or not isinstance(w, int | float) or not 0 <= w < float("inf")]
    if bad or not sum(weights):
        allowed = "numbers >= 0, not all 0 (a record is picked in proportion to its weight)"
        raise SpecError(invalid("weight", allowed, bad[0] if bad else 0, where=where, problem="is not a weight"))


def _parse_pool(name: str, body: Any, source: str) -> PoolSpec:
    where = f"{source}: pool '{name}'"
    if isinstance(body, list) and body:
        return PoolSpec(name, ("value",), tuple((v,) for v in body))
    if isinstance(body, Mapping):
        _check_keys(body, *POOL_KEYS, where)
        fields = tuple(body["fields"])
        records = tuple(tuple(r) for r in _as_list(body["records"], "records", where))
        if any(len(r) != len(fields) for r in records):
            bad = next(r for r in records if len(r) != len(fields))
            problem = f"every record needs {len(fields)} values"
            raise SpecError(
                invalid(
                    "records", f"one value per field ({', '.join(fields)})", list(bad), where=where, problem=problem
                )
            )
        _check_pool_weights(fields, records, where)
        return PoolSpec(name, fields, records)
    allowed = "a non-empty list of values, or a mapping with fields and records"
    raise SpecError(invalid("values", allowed, body, where=where, problem="is not a pool"))


def _parse_table(body: Any, source: str) -> TableSpec:
    if not isinstance(body, Mapping) or "name" not in body:
        raise SpecError(invalid("tables", "a mapping with a name per table", body, where=source, problem="not a table"))
    name = body["name"]
    if not isinstance(name, str) or not NAME.fullmatch(name) or len(name) > MAX_NAME_LENGTH:
        shown = str(name)[:80]
        raise SpecError(
            invalid(
                "name",
                "[a-z][a-z0-9_]*, e.g. order_items",
                shown,
                where=f"{source}: table {shown!r}",
                problem=f"must be snake_case of at most {MAX_NAME_LENGTH} characters",
            )
        )
    where = f"{source}: table '{name}'"
    _check_keys(body, *TABLE_KEYS, where)
    if body["kind"] not in TABLE_KINDS:
        raise SpecError(
            invalid("kind", ", ".join(TABLE_KINDS), body["kind"], where=where, problem="unknown table kind")
        )
    frequency = body.get("frequency", "daily")
    if frequency not in FREQUENCIES:
        raise SpecError(invalid("frequency", ", ".join(FREQUENCIES), frequency, where=where, problem="unknown"))
    rows = body["rows"]
    if isinstance(rows, bool) or not isinstance(rows, int) or not 1 <= rows <= 2**31 - 1:
        raise SpecError(
            invalid("rows", "integers from 1 to 2147483647", rows, where=where, problem="must be an integer")
        )
    columns = tuple(_parse_column(c, where) for c in _as_list(body["columns"], "columns", where))
    names = [c.name for c in columns]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise SpecError(
            invalid(
                "name",
                "unique column names",
                duplicated[0],
                where=place(where, column=duplicated[0]),
                problem="is defined twice",
            )
        )
    _check_table_fields(body, where)
    default_date = "snapshot_date" if body["kind"] == "snapshot" else ""
    scaled = body.get("scaled", True)
    if not isinstance(scaled, bool):
        raise SpecError(invalid("scaled", "true, false", scaled, where=where, problem="must be true or false"))
    if not scaled and body["kind"] != "snapshot":
        raise SpecError(
            invalid(
                "scaled",
                "false on snapshot tables (calendars, fixed reference lists), true on incremental ones",
                scaled,
                where=where,
                problem="only snapshot tables can ignore scale_factor",
            )
        )
    table = TableSpec(
        name=str(body["name"]),
        kind=body["kind"],
        rows=rows,
        columns=columns,
        primary_key=str(body["primary_key"]),
        frequency=frequency,
        primary_date_column=str(body.get("primary_date_column", default_date)),
        date_columns=tuple(body.get("date_columns", ())),
        parent=body.get("parent"),
        rows_per_parent=float(body.get("rows_per_parent", 0.0)),
        children_shape=tuple(int(s) for s in body.get("children_shape", ())),
        volume_noise=_parse_volume_noise(body, where),
        month_multipliers=_parse_month_multipliers(body, where),
        follows_population=_parse_follows_population(body, where),
        holiday_multiplier=float(body.get("holiday_multiplier", 1.0)),
        event_multipliers=_parse_event_multipliers(body.get("event_multipliers", {}), where),
        lifecycle=_parse_lifecycle(body.get("lifecycle", {}), body["kind"], where),
        propensity=_parse_propensity(body, where),
        description=str(body.get("description", "")),
        scaled=scaled,
        **_parse_lateness(body, where),
        targets=_parse_targets(body.get("targets", []), columns, where),
    )
    changes = parse_change_groups(body.get("changes"), table, where)
    churn = parse_churn(body.get("churn", "keep"), table, where)
    return dataclasses.replace(
        table, changes=changes, churn=churn, progress=parse_progress(body.get("progress"), table, where)
    )


def _check_table_fields(body: Mapping, where: str) -> None:
    """Shapes of the table keys whose values the parser converts (lists, numbers, the parent pairing)."""
    date_columns = body.get("date_columns", [])
    if not isinstance(date_columns, list) or not all(isinstance(n, str) for n in date_columns):
        raise SpecError(
            invalid(
                "date_columns",
                "e.g. [order_date, shipped_date]",
                date_columns,
                where=where,
                problem="must be a list of column names",
            )
        )
    parent = body.get("parent")
    if parent is not None and not isinstance(parent, str):
        raise SpecError(invalid("parent", "an incremental table", parent, where=where, problem="must be a table name"))
    if "rows_per_parent" in body:
        if parent is None:
            raise SpecError(
                invalid(
                    "rows_per_parent",
                    "only together with parent: <an incremental table>",
                    body["rows_per_parent"],
                    where=where,
                    problem="needs a parent table",
                )
            )
        if not is_number(body["rows_per_parent"]):
            raise SpecError(
                invalid(
                    "rows_per_parent", "numbers >= 1", body["rows_per_parent"], where=where, problem="must be a number"
                )
            )
    _check_children_shape(body, where)
    holiday = body.get("holiday_multiplier", 1.0)
    if not is_number(holiday) or not holiday > 0:
        raise SpecError(
            invalid(
                "holiday_multiplier",
                "numbers > 0 (1 = no change, 0.5 = half the rows)",
                holiday,
                where=where,
                problem="must be a number > 0",
            )
        )


def _parse_lateness(body: Mapping, where: str) -> dict[str, Any]:
    """A table's late_arrival_rate / max_late_days overrides: incremental tables without a parent only."""
    given = {key: body[key] for key in ("late_arrival_rate", "max_late_days") if key in body}
    for key, value in given.items():
        if body["kind"] != "incremental" or body.get("parent") is not None:
            allowed = "on the parent table (a child row arrives with its parent)"
            raise SpecError(
                invalid(key, allowed, value, where=where, problem="only incremental tables without a parent set it")
            )
    rate = given.get("late_arrival_rate")
    if rate is not None and (not is_number(rate) or not 0 <= rate <= 1):
        allowed = "0 (the table opts out) to 1"
        raise SpecError(
            invalid("late_arrival_rate", allowed, rate, where=where, problem="must be a number from 0 to 1")
        )
    days = given.get("max_late_days")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_LATE_DAYS):
        allowed = f"integers from 1 to {MAX_LATE_DAYS}"
        raise SpecError(invalid("max_late_days", allowed, days, where=where, problem="must be an integer in range"))
    return {"late_arrival_rate": None if rate is None else float(rate), "max_late_days": days}


def _parse_lifecycle(raw: Any, kind: str, where: str) -> Lifecycle:
    if not raw:
        return Lifecycle()
    where = f"{where}, lifecycle"
    if not isinstance(raw, Mapping) or kind != "snapshot":
        raise SpecError(
            invalid(
                "lifecycle",
                "a mapping of growth_rate, growth_period, churn_rate, on snapshot tables",
                raw,
                where=where.removesuffix(", lifecycle"),
                problem="only snapshot tables have a lifecycle mapping",
            )
        )
    _check_keys(raw, *LIFECYCLE_KEYS, where)
    for name in ("growth_rate", "churn_rate"):
        value = raw.get(name, 0.0)
        if not is_number(value) or not 0 <= value < 1:
            raise SpecError(
                invalid(name, "e.g. 0.002", value, where=where, problem="must be a number from 0 to below 1")
            )
    if raw.get("growth_period", "day") not in ("day", "week"):
        raise SpecError(invalid("growth_period", "day, week", raw.get("growth_period"), where=where, problem="unknown"))
    return Lifecycle(
        float(raw.get("growth_rate", 0.0)), raw.get("growth_period", "day"), float(raw.get("churn_rate", 0.0))
    )


def _parse_propensity(body: Mapping, where: str) -> Propensity | None:
    """``propensity: {shares, weights}`` on a snapshot table: classes of entities per block of 100."""
    if "propensity" not in body:
        return None
    raw = body["propensity"]
    if not isinstance(raw, Mapping) or body["kind"] != "snapshot":
        allowed = "a mapping of shares and weights, on snapshot tables"
        raise SpecError(invalid("propensity", allowed, raw, where=where, problem="only snapshot tables have one"))
    where = f"{where}, propensity"
    _check_keys(raw, *PROPENSITY_KEYS, where)
    shares, weights = raw["shares"], raw["weights"]
    if (
        not isinstance(shares, list)
        or not 2 <= len(shares) <= MAX_PROPENSITY_CLASSES
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shares)
        or sum(shares) != PROPENSITY_BLOCK
    ):
        allowed = f"2 to {MAX_PROPENSITY_CLASSES} integers >= 0 summing to {PROPENSITY_BLOCK}, e.g. [1, 4, 15, 35, 45]"
        raise SpecError(
            invalid("shares", allowed, shares, where=where, problem="must be entities per class in each 100")
        )
    if (
        not isinstance(weights, list)
        or len(weights) != len(shares)
        or not all(is_number(w) and math.isfinite(w) and w >= 0 for w in weights)
        or not any(n and w for n, w in zip(shares, weights, strict=True))
    ):
        allowed = f"{len(shares)} numbers >= 0 (one per share), some class with a share and a weight > 0"
        raise SpecError(invalid("weights", allowed, weights, where=where, problem="must be one weight per class"))
    return Propensity(tuple(shares), tuple(float(w) for w in weights))


def _parse_targets(raw: Any, columns: tuple[ColumnSpec, ...], where: str) -> tuple[ShapeTarget, ...]:
    """``targets: [...]``: shapes ``synthgen verify`` judges, each a top_share or a share within ``between``."""
    if not isinstance(raw, list):
        allowed = "a list of {top_share, top, between} or {share, between} mappings"
        raise SpecError(invalid("targets", allowed, raw, where=where, problem="must be a list"))
    return tuple(_parse_target(item, columns, f"{where}, targets[{i}]") for i, item in enumerate(raw))


def _parse_target(raw: Any, columns: tuple[ColumnSpec, ...], where: str) -> ShapeTarget:
    if not isinstance(raw, Mapping) or ("top_share" in raw) == ("share" in raw):
        allowed = "a mapping with one of top_share (a column) or share (a Spark SQL predicate), and between"
        raise SpecError(invalid("targets", allowed, raw, where=where, problem="must measure one thing"))
    _check_keys(raw, *TARGET_KEYS, where)
    between = raw["between"]
    if (
        not isinstance(between, list)
        or len(between) != 2
        or not all(is_number(b) and 0 <= b <= 1 for b in between)
        or between[0] > between[1]
    ):
        allowed = "[low, high] with 0 <= low <= high <= 1, e.g. [0.40, 0.60]"
        raise SpecError(invalid("between", allowed, between, where=where, problem="must be a range of shares"))
    min_rows = raw.get("min_rows", 2000)
    if isinstance(min_rows, bool) or not isinstance(min_rows, int) or min_rows < 1:
        raise SpecError(invalid("min_rows", "an integer >= 1", min_rows, where=where, problem="must count rows"))
    bounds = (float(between[0]), float(between[1]))
    if "share" in raw:
        extra = sorted({"top", "weight"} & set(raw))
        if extra:
            allowed = "between, min_rows beside share"
            raise SpecError(invalid(extra[0], allowed, raw[extra[0]], where=where, problem="belongs to top_share"))
        if not isinstance(raw["share"], str) or not raw["share"].strip():
            allowed = 'a Spark SQL predicate over the table\'s written columns, e.g. "item_count = 1"'
            raise SpecError(invalid("share", allowed, raw["share"], where=where, problem="must be a predicate"))
        return ShapeTarget(bounds, share=raw["share"].strip(), min_rows=min_rows)
    written = {c.name: c for c in columns if not c.hidden}
    for key in ("top_share", "weight"):
        if key in raw and raw[key] not in written:
            allowed = f"a written column of the table ({', '.join(written)})"
            raise SpecError(invalid(key, allowed, raw[key], where=where, problem="is not a written column"))
    weight = raw.get("weight", "")
    if weight and written[weight].type not in TARGET_WEIGHT_TYPES:
        allowed = "an integer column (int, long), e.g. quantity"
        raise SpecError(invalid("weight", allowed, weight, where=where, problem="is not a count"))
    top = raw.get("top")
    if not is_number(top) or not 0 < top < 1:
        allowed = "a fraction of the key's values, 0 < top < 1, e.g. 0.1"
        raise SpecError(invalid("top", allowed, top, where=where, problem="must be a fraction"))
    return ShapeTarget(bounds, top_share=raw["top_share"], top=float(top), weight=weight, min_rows=min_rows)


def _parse_event_multipliers(raw: Any, where: str) -> dict[str, float]:
    if not isinstance(raw, Mapping) or any(k not in RETAIL_EVENTS for k in raw):
        raise SpecError(
            invalid(
                "event_multipliers", ", ".join(RETAIL_EVENTS), raw, where=where, problem="must map events to numbers"
            )
        )
    for event, value in raw.items():
        if not is_number(value) or not value > 0:
            raise SpecError(
                invalid(
                    "event_multipliers",
                    "numbers > 0",
                    value,
                    where=where,
                    problem=f"the multiplier of {event} must be a number > 0",
                )
            )
    return {k: float(v) for k, v in raw.items()}


def _parse_column(body: Any, where: str) -> ColumnSpec:
    if not isinstance(body, Mapping) or "name" not in body or "kind" not in body:
        allowed = "a mapping with a name and a kind per column"
        raise SpecError(invalid("columns", allowed, body, where=where, problem="not a column"))
    where = place(where, column=body["name"])
    kind = body["kind"]
    if kind not in COLUMN_KINDS:
        raise SpecError(
            invalid("kind", ", ".join(sorted(COLUMN_KINDS)), kind, where=where, problem="unknown column kind")
        )
    required, optional, default_type = COLUMN_KINDS[kind]
    _check_keys(
        body,
        ("name", "kind") + required,
        tuple(k for k in COMMON_COLUMN_KEYS if k not in ("name", "kind")) + optional,
        where,
    )
    if not NAME.fullmatch(str(body["name"])):
        raise SpecError(invalid("name", "[a-z][a-z0-9_]*", body["name"], where=where, problem="must be snake_case"))
    type_name = str(body.get("type", default_type)).replace(" ", "")
    decimal = decimal_precision_scale(type_name)
    if type_name not in SIMPLE_TYPES and decimal is None:
        raise SpecError(
            invalid("type", f"{', '.join(SIMPLE_TYPES)}, decimal(p,s)", type_name, where=where, problem="unknown type")
        )
    if decimal and not (1 <= decimal[0] <= MAX_DECIMAL_PRECISION and decimal[1] <= decimal[0]):
        raise SpecError(
            invalid(
                "type",
                f"decimal(p,s) with 1 <= p <= {MAX_DECIMAL_PRECISION}, 0 <= s <= p",
                type_name,
                where=where,
                problem=f"decimal precision must be 1..{MAX_DECIMAL_PRECISION} and the scale at most the precision",
            )
        )
    null_rate = body.get("null_rate", 0.0)
    if isinstance(null_rate, bool) or not isinstance(null_rate, int | float) or not 0 <= null_rate <= 1:
        raise SpecError(invalid("null_rate", "numbers from 0 to 1", null_rate, where=where, problem="must be a share"))
    params = {k: body[k] for k in required + optional if k in body}
    check_params(kind, params, where)
    check_values_fit_type(kind, params, type_name, where)
    return ColumnSpec(
        name=str(body["name"]),
        kind=kind,
        type=type_name,
        params=params,
        null_rate=float(null_rate),
        hidden=bool(body.get("hidden", False)),
        drift=bool(body.get("drift", False)),
        description=str(body.get("description", "")),
    )


MAX_CHILDREN_SHAPE = 32  # parents per block of a children_shape (the child side compares with each)


def _check_children_shape(body: Mapping, where: str) -> None:
    """``children_shape``: 2..32 integers >= 1, not all equal, on a child table (generators.keys.ChildLayout)."""
    if "children_shape" not in body:
        return
    shape = body["children_shape"]
    if (
        body.get("parent") is None
        or not isinstance(shape, list)
        or not 2 <= len(shape) <= MAX_CHILDREN_SHAPE
        or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in shape)
        or max(shape) == 1
    ):
        raise SpecError(
            invalid(
                "children_shape",
                f"2 to {MAX_CHILDREN_SHAPE} integers >= 1, some > 1, on a table with a parent, e.g. [1, 1, 1, 1, 2, 2, 3, 3, 4, 7]",
                shape,
                where=where,
                problem="is not a list of relative child counts",
            )
        )


def _parse_month_multipliers(body: Mapping, where: str) -> tuple[float, ...]:
    """``month_multipliers``: 12 volume factors > 0 (January..December) of an incremental table without a parent."""
    raw = body.get("month_multipliers")
    if raw is None:
        return ()
    fits = isinstance(raw, list) and len(raw) == 12 and all(is_number(v) and v > 0 for v in raw)
    if not fits or body["kind"] != "incremental" or body.get("parent"):
        allowed = "12 numbers > 0 (January..December) on an incremental table without a parent, e.g. [0.9, ..., 1.3]"
        raise SpecError(invalid("month_multipliers", allowed, raw, where=where, problem="is not that"))
    return tuple(float(v) for v in raw)


def _parse_follows_population(body: Mapping, where: str) -> str:
    """``follows_population``: the snapshot table whose active population an incremental table's volume follows."""
    name = body.get("follows_population", "")
    if not isinstance(name, str) or (name and (body["kind"] != "incremental" or body.get("parent"))):
        allowed = "the name of a snapshot table with a lifecycle, on an incremental table without a parent"
        raise SpecError(invalid("follows_population", allowed, name, where=where, problem="is not one"))
    return name


def _parse_volume_noise(body: Mapping, where: str) -> float:
    """``volume_noise``: the log-sd (0..1) of an incremental table's day-level noise; not on a child table."""
    noise = body.get("volume_noise", 0.0)
    if not is_number(noise) or not 0 <= noise <= 1 or (noise and (body["kind"] != "incremental" or body.get("parent"))):
        allowed = "a number from 0 to 1 on an incremental table without a parent (children follow it), e.g. 0.1"
        raise SpecError(invalid("volume_noise", allowed, noise, where=where, problem="is not one"))
    return float(noise)
