"""Dataset catalog: DatasetSpec -> TableSpec -> ColumnSpec, loaded from YAML package data or a user file."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from synthgen_spark.changes import ChangeGroup, parse_change_groups, parse_churn
from synthgen_spark.errors import SpecError
from synthgen_spark.safe_yaml import YamlProblem, load_yaml, read_yaml_file

TABLE_KINDS = ("incremental", "snapshot")
RETAIL_EVENTS = ("black_friday", "cyber_monday", "christmas_eve", "boxing_day")  # dated by rule in calendar
FREQUENCIES = ("daily", "weekly", "monthly", "quarterly", "once")
SIMPLE_TYPES = ("long", "int", "double", "string", "date", "timestamp", "boolean")
DECIMAL_TYPE = re.compile(r"decimal\((\d{1,2}),(\d{1,2})\)")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_NAME_LENGTH = 64  # table and column names become folder, file and Delta table names
MAX_DECIMAL_PRECISION = 38  # Spark's DecimalType
# The pools every locale has (frozen package data or built with Faker by synthgen_spark.pools), with their
# fields: a dataset may name them without defining them, and the catalog checks names and fields up front.
LOCALE_POOL_FIELDS: dict[str, tuple[str, ...]] = {
    "first_names": ("value",),
    "last_names": ("value",),
    "locations": ("city", "state", "postcode"),
    "streets": ("value",),
    "companies": ("value",),
    "email_domains": ("value",),
}
# Column kinds that can be a primary key: a sequence (unique over all days and runs), or a derived
# expression over one (dim_date's yyyymmdd date_key). Other kinds repeat values.
PRIMARY_KEY_KINDS = ("sequence", "derived")
# child_sum unrolls its sum over at most 16 children per parent (generators.keys.MAX_CHILDREN_SUMMED);
# a parent has up to ceil(rows_per_parent) + 1 children, so rows_per_parent may be at most 15.
MAX_CHILD_SUM_ROWS_PER_PARENT = 15

# kind -> (required params, optional params, default type). Generators register one builder per kind;
# a test checks that the two agree.
COLUMN_KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "sequence": ((), ("start",), "long"),
    "uniform": (("min", "max"), (), "long"),
    "normal": (("mean", "stddev"), ("min", "max"), "double"),
    "lognormal": (("median", "sigma"), ("min", "max"), "double"),
    "choice": (("values",), ("weights", "drift_toward"), "string"),
    "pool": (("pool",), ("field", "pick", "distinct_per_parent"), "string"),
    "template": (("pattern",), (), "string"),
    "foreign_key": (("references",), ("slots_per_day",), "long"),
    "parent_key": ((), (), "long"),
    "parent_value": (("column",), (), "string"),
    "line_number": ((), (), "int"),
    "slot": (("key",), (), "int"),
    "generation_date": ((), (), "date"),
    "timestamp": ((), ("base", "hourly_weights"), "timestamp"),
    "date_offset": (("min_days", "max_days"), ("base",), "date"),
    "lookup": (("references", "key"), (), "double"),
    "derived": (("expression",), (), "string"),
    "child_count": (("child",), (), "int"),
    "child_sum": (("child", "of"), (), "decimal(12,2)"),
    "lifecycle_start": (("min_days", "max_days"), (), "date"),
    "lifecycle_end": ((), (), "date"),
    "lifecycle_status": ((), ("values",), "string"),
}
COMMON_COLUMN_KEYS = ("name", "kind", "type", "null_rate", "hidden", "drift", "description")
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
        "holiday_multiplier",
        "event_multipliers",
        "lifecycle",
        "description",
        "scaled",
        "changes",
        "churn",
    ),
)
LIFECYCLE_KEYS = ((), ("growth_rate", "growth_period", "churn_rate"))
POOL_KEYS = (("fields", "records"), ())
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
}


@dataclass(frozen=True)
class ColumnSpec:
    """One column: its kind (generator), output type and the kind's parameters.

    Example (YAML)::

        - {name: quantity, kind: uniform, min: 1, max: 5, type: int}
    """

    name: str
    kind: str
    type: str
    params: Mapping[str, Any] = field(default_factory=dict)
    null_rate: float = 0.0
    hidden: bool = False
    drift: bool = False
    description: str = ""


@dataclass(frozen=True)
class Lifecycle:
    """Growth and churn of a snapshot table's entities (closed form from the dataset epoch).

    population(d) = N0 + floor(periods(d) x N0 x growth_rate), periods = days (or whole weeks)
    since the epoch; each active entity churns with probability churn_rate per day.
    """

    growth_rate: float = 0.0
    growth_period: str = "day"
    churn_rate: float = 0.0

    @property
    def period_days(self) -> int:
        return 7 if self.growth_period == "week" else 1


@dataclass(frozen=True)
class TableSpec:
    """One table of a dataset: incremental (new rows per day) or snapshot (full table as of a date)."""

    name: str
    kind: str
    rows: int
    columns: tuple[ColumnSpec, ...]
    primary_key: str
    frequency: str = "daily"
    primary_date_column: str = "snapshot_date"
    date_columns: tuple[str, ...] = ()
    parent: str | None = None
    rows_per_parent: float = 0.0
    holiday_multiplier: float = 1.0
    event_multipliers: Mapping[str, float] = field(default_factory=dict)
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    description: str = ""
    # False: ``rows`` is the table's size at any scale_factor (calendars, fixed reference lists; snapshots only)
    scaled: bool = True
    changes: tuple[ChangeGroup, ...] = ()  # change groups of a snapshot table with a lifecycle (changes.py)
    derived_from: str = ""  # a change feed or history table: the snapshot table it is derived from
    churn: str = "keep"  # keep: churned entities stay in snapshots (status, churn date); delete: they leave

    def column(self, name: str) -> ColumnSpec:
        """The column called ``name``; SpecError if there is none."""
        for col in self.columns:
            if col.name == name:
                return col
        raise SpecError(f"table '{self.name}': no column '{name}'; allowed: {', '.join(self.column_names)}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def output_columns(self) -> tuple[ColumnSpec, ...]:
        return tuple(c for c in self.columns if not c.hidden)


@dataclass(frozen=True)
class PoolSpec:
    """A dataset-defined value pool: a list of values or records with named fields."""

    name: str
    fields: tuple[str, ...]
    records: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset: tables, weekday rhythm and pools, loaded from YAML."""

    dataset_id: str
    description: str
    domain: str
    epoch: dt.date
    weekday_multipliers: tuple[float, ...]
    tables: tuple[TableSpec, ...]
    pools: Mapping[str, PoolSpec] = field(default_factory=dict)
    source: str = ""

    def table(self, name: str) -> TableSpec:
        """The table called ``name``; SpecError naming the dataset's tables if there is none."""
        for table in self.tables:
            if table.name == name:
                return table
        names = ", ".join(t.name for t in self.tables)
        raise SpecError(f"{self.source}: dataset '{self.dataset_id}': no table '{name}'; allowed: {names}")

    def children_of(self, name: str) -> tuple[TableSpec, ...]:
        return tuple(t for t in self.tables if t.parent == name)


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
            raise SpecError(f"{dataset_path}: cannot read dataset file ({exc.strerror})") from None
        except YamlProblem as exc:
            raise SpecError(f"{dataset_path}: {exc}") from None
        return dataset_from_yaml(raw, source=str(dataset_path))
    ids = builtin_dataset_ids()
    if dataset_id not in ids:
        raise SpecError(
            f"config: field 'dataset_id': unknown dataset (got {dataset_id!r}); allowed: {', '.join(ids)}. "
            "Use dataset_path for a custom dataset."
        )
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
        raise SpecError(f"{source}: a dataset file must be a mapping with dataset_id and tables")
    _check_keys(raw, *DATASET_KEYS, source)
    pools = {name: _parse_pool(name, body, source) for name, body in (raw.get("pools") or {}).items()}
    tables = tuple(_parse_table(body, source) for body in _as_list(raw["tables"], "tables", source))
    epoch = raw.get("epoch", dt.date(2020, 1, 1))
    if isinstance(epoch, dt.datetime) or not isinstance(epoch, dt.date) or not 1971 <= epoch.year <= 2199:
        raise SpecError(
            f"{source}: field 'epoch': must be a real date from 1971 to 2199 (got {str(epoch)[:40]!r}); "
            "allowed: YYYY-MM-DD, unquoted"
        )
    multipliers = tuple(float(m) for m in raw.get("weekday_multipliers", [1.0] * 7))
    if len(multipliers) != 7 or min(multipliers) <= 0:
        raise SpecError(
            f"{source}: field 'weekday_multipliers': need seven numbers > 0 (got {raw.get('weekday_multipliers')!r})"
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
        raise SpecError(f"{source}: field '{name}': must be a non-empty list (got {value!r})")
    return value


def _check_keys(raw: Mapping, required: tuple[str, ...], optional: tuple[str, ...], where: str) -> None:
    for key in required:
        if key not in raw:
            raise SpecError(f"{where}: field '{key}': is required (got nothing); allowed keys: {', '.join(required)}")
    unknown = sorted(set(raw) - set(required) - set(optional))
    if unknown:
        allowed = ", ".join(sorted(required + optional))
        raise SpecError(f"{where}: field '{unknown[0]}': unknown key (got {unknown[0]!r}); allowed: {allowed}")


def _parse_pool(name: str, body: Any, source: str) -> PoolSpec:
    where = f"{source}: pool '{name}'"
    if isinstance(body, list) and body:
        return PoolSpec(name, ("value",), tuple((v,) for v in body))
    if isinstance(body, Mapping):
        _check_keys(body, *POOL_KEYS, where)
        fields = tuple(body["fields"])
        records = tuple(tuple(r) for r in _as_list(body["records"], "records", where))
        if any(len(r) != len(fields) for r in records):
            raise SpecError(f"{where}: every record needs {len(fields)} values ({', '.join(fields)})")
        return PoolSpec(name, fields, records)
    raise SpecError(f"{where}: must be a non-empty list or a mapping with fields and records (got {body!r})")


def _parse_table(body: Any, source: str) -> TableSpec:
    if not isinstance(body, Mapping) or "name" not in body:
        raise SpecError(f"{source}: every table needs a mapping with a name (got {body!r})")
    name = body["name"]
    if not isinstance(name, str) or not NAME.fullmatch(name) or len(name) > MAX_NAME_LENGTH:
        raise SpecError(
            f"{source}: table {str(name)[:80]!r}: field 'name': must be snake_case of at most {MAX_NAME_LENGTH} "
            f"characters (got {str(name)[:80]!r}); allowed: [a-z][a-z0-9_]*, e.g. order_items"
        )
    where = f"{source}: table '{name}'"
    _check_keys(body, *TABLE_KEYS, where)
    if body["kind"] not in TABLE_KINDS:
        raise SpecError(
            f"{where}: field 'kind': unknown table kind (got {body['kind']!r}); allowed: {', '.join(TABLE_KINDS)}"
        )
    frequency = body.get("frequency", "daily")
    if frequency not in FREQUENCIES:
        raise SpecError(f"{where}: field 'frequency': unknown (got {frequency!r}); allowed: {', '.join(FREQUENCIES)}")
    rows = body["rows"]
    if isinstance(rows, bool) or not isinstance(rows, int) or not 1 <= rows <= 2**31 - 1:
        raise SpecError(f"{where}: field 'rows': must be an integer from 1 to 2147483647 (got {rows!r})")
    columns = tuple(_parse_column(c, where) for c in _as_list(body["columns"], "columns", where))
    names = [c.name for c in columns]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise SpecError(f"{where}: column '{duplicated[0]}' is defined twice")
    _check_table_fields(body, where)
    default_date = "snapshot_date" if body["kind"] == "snapshot" else ""
    scaled = body.get("scaled", True)
    if not isinstance(scaled, bool):
        raise SpecError(f"{where}: field 'scaled': must be true or false (got {scaled!r}); allowed: true, false")
    if not scaled and body["kind"] != "snapshot":
        raise SpecError(
            f"{where}: field 'scaled': only snapshot tables can ignore scale_factor (got {scaled!r}); "
            "allowed: false on snapshot tables (calendars, fixed reference lists), true on incremental ones"
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
        holiday_multiplier=float(body.get("holiday_multiplier", 1.0)),
        event_multipliers=_parse_event_multipliers(body.get("event_multipliers", {}), where),
        lifecycle=_parse_lifecycle(body.get("lifecycle", {}), body["kind"], where),
        description=str(body.get("description", "")),
        scaled=scaled,
    )
    changes = parse_change_groups(body.get("changes"), table, where)
    return dataclasses.replace(table, changes=changes, churn=parse_churn(body.get("churn", "keep"), table, where))


def _check_table_fields(body: Mapping, where: str) -> None:
    """Shapes of the table keys whose values the parser converts (lists, numbers, the parent pairing)."""
    date_columns = body.get("date_columns", [])
    if not isinstance(date_columns, list) or not all(isinstance(n, str) for n in date_columns):
        raise SpecError(
            f"{where}: field 'date_columns': must be a list of column names (got {date_columns!r}); "
            "allowed: e.g. [order_date, shipped_date]"
        )
    parent = body.get("parent")
    if parent is not None and not isinstance(parent, str):
        raise SpecError(
            f"{where}: field 'parent': must be a table name (got {parent!r}); allowed: an incremental table"
        )
    if "rows_per_parent" in body:
        if parent is None:
            raise SpecError(
                f"{where}: field 'rows_per_parent': needs a parent table (got {body['rows_per_parent']!r}); "
                "allowed: only together with parent: <an incremental table>"
            )
        if not _number(body["rows_per_parent"]):
            raise SpecError(
                f"{where}: field 'rows_per_parent': must be a number (got {body['rows_per_parent']!r}); "
                "allowed: numbers >= 1"
            )
    holiday = body.get("holiday_multiplier", 1.0)
    if not _number(holiday) or not holiday > 0:
        raise SpecError(
            f"{where}: field 'holiday_multiplier': must be a number > 0 (got {holiday!r}); "
            "allowed: numbers > 0 (1 = no change, 0.5 = half the rows)"
        )


def _parse_lifecycle(raw: Any, kind: str, where: str) -> Lifecycle:
    if not raw:
        return Lifecycle()
    where = f"{where}, lifecycle"
    if not isinstance(raw, Mapping) or kind != "snapshot":
        raise SpecError(
            f"{where}: only snapshot tables have a lifecycle mapping (got {raw!r}); allowed: growth_rate, growth_period, churn_rate"
        )
    _check_keys(raw, *LIFECYCLE_KEYS, where)
    for name in ("growth_rate", "churn_rate"):
        value = raw.get(name, 0.0)
        if not _number(value) or not 0 <= value < 1:
            raise SpecError(
                f"{where}: field '{name}': must be a number from 0 to below 1 (got {value!r}); allowed: e.g. 0.002"
            )
    if raw.get("growth_period", "day") not in ("day", "week"):
        raise SpecError(
            f"{where}: field 'growth_period': unknown (got {raw.get('growth_period')!r}); allowed: day, week"
        )
    return Lifecycle(
        float(raw.get("growth_rate", 0.0)), raw.get("growth_period", "day"), float(raw.get("churn_rate", 0.0))
    )


def _parse_event_multipliers(raw: Any, where: str) -> dict[str, float]:
    if not isinstance(raw, Mapping) or any(k not in RETAIL_EVENTS for k in raw):
        raise SpecError(
            f"{where}: field 'event_multipliers': must map events to numbers (got {raw!r}); allowed: {', '.join(RETAIL_EVENTS)}"
        )
    for event, value in raw.items():
        if not _number(value) or not value > 0:
            raise SpecError(
                f"{where}: field 'event_multipliers': the multiplier of {event} must be a number > 0 (got {value!r}); "
                "allowed: numbers > 0"
            )
    return {k: float(v) for k, v in raw.items()}


def _parse_column(body: Any, where: str) -> ColumnSpec:
    if not isinstance(body, Mapping) or "name" not in body or "kind" not in body:
        raise SpecError(f"{where}: every column needs a name and a kind (got {body!r})")
    where = f"{where}, column '{body['name']}'"
    kind = body["kind"]
    if kind not in COLUMN_KINDS:
        raise SpecError(
            f"{where}: field 'kind': unknown column kind (got {kind!r}); allowed: {', '.join(sorted(COLUMN_KINDS))}"
        )
    required, optional, default_type = COLUMN_KINDS[kind]
    _check_keys(
        body,
        ("name", "kind") + required,
        tuple(k for k in COMMON_COLUMN_KEYS if k not in ("name", "kind")) + optional,
        where,
    )
    if not NAME.fullmatch(str(body["name"])):
        raise SpecError(f"{where}: field 'name': must be snake_case (got {body['name']!r}); allowed: [a-z][a-z0-9_]*")
    type_name = str(body.get("type", default_type)).replace(" ", "")
    if type_name not in SIMPLE_TYPES and not DECIMAL_TYPE.fullmatch(type_name):
        raise SpecError(
            f"{where}: field 'type': unknown type (got {type_name!r}); allowed: {', '.join(SIMPLE_TYPES)}, decimal(p,s)"
        )
    decimal = DECIMAL_TYPE.fullmatch(type_name)
    if decimal and not (
        1 <= int(decimal.group(1)) <= MAX_DECIMAL_PRECISION and int(decimal.group(2)) <= int(decimal.group(1))
    ):
        raise SpecError(
            f"{where}: field 'type': decimal precision must be 1..{MAX_DECIMAL_PRECISION} and the scale at most the "
            f"precision (got {type_name!r}); allowed: decimal(p,s) with 1 <= p <= {MAX_DECIMAL_PRECISION}, 0 <= s <= p"
        )
    null_rate = body.get("null_rate", 0.0)
    if isinstance(null_rate, bool) or not isinstance(null_rate, int | float) or not 0 <= null_rate <= 1:
        raise SpecError(f"{where}: field 'null_rate': must be a number from 0 to 1 (got {null_rate!r})")
    params = {k: body[k] for k in required + optional if k in body}
    _check_params(kind, params, where)
    _check_values_fit_type(kind, params, type_name, where)
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


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_params(kind: str, params: Mapping[str, Any], where: str) -> None:
    """Field rules of each kind's parameters (ranges, list shapes)."""

    def fail(name: str, problem: str, allowed: str) -> None:
        raise SpecError(f"{where}: field '{name}': {problem} (got {params.get(name)!r}); allowed: {allowed}")

    for name in ("min", "max"):
        if name in params and not (_number(params[name]) or NAME.fullmatch(str(params[name]))):
            fail(name, "must be a number or a column name", "numbers, column names")
    for name in ("mean", "stddev", "median", "sigma", "min_days", "max_days", "start"):
        if name in params and not _number(params[name]):
            fail(name, "must be a number", "numbers")
    if _number(params.get("min")) and _number(params.get("max")) and params["min"] > params["max"]:
        fail("max", "is below min", f"numbers >= {params['min']}")
    if "min_days" in params and "max_days" in params and params["min_days"] > params["max_days"]:
        fail("max_days", "is below min_days", f"integers >= {params['min_days']}")
    for name in ("stddev", "sigma"):
        if name in params and params[name] <= 0:
            fail(name, "must be positive", "numbers > 0")
    if kind == "choice":
        values = params["values"]
        if not isinstance(values, list) or not values:
            fail("values", "must be a non-empty list", "a list of values")
        weights = params.get("weights", [1] * len(values))
        if (
            not isinstance(weights, list)
            or len(weights) != len(values)
            or not all(_number(w) and w >= 0 for w in weights)
            or sum(weights) <= 0
        ):
            fail("weights", f"must be {len(values)} numbers >= 0 with a positive sum", "one weight per value")
        if "drift_toward" in params and params["drift_toward"] not in values:
            fail("drift_toward", "must be one of the values", ", ".join(map(str, values)))
    if "hourly_weights" in params:
        weights = params["hourly_weights"]
        if (
            not isinstance(weights, list)
            or len(weights) != 24
            or not all(_number(w) and w >= 0 for w in weights)
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
        return _number(value)
    if type_name == "date":
        return isinstance(value, dt.date) or (isinstance(value, str) and _parses(dt.date.fromisoformat, value))
    if type_name == "timestamp":
        return isinstance(value, dt.date) or (isinstance(value, str) and _parses(dt.datetime.fromisoformat, value))
    precision, scale = map(int, DECIMAL_TYPE.fullmatch(type_name).groups())
    if not _number(value) or (isinstance(value, float) and not math.isfinite(value)):
        return False
    return abs(round(value, scale)) < 10 ** (precision - scale)


def _values_allowed(type_name: str) -> str:
    """What ``_fits_type`` accepts (besides null), for the message."""
    if type_name.startswith("decimal"):
        precision, scale = map(int, DECIMAL_TYPE.fullmatch(type_name).groups())
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


def _check_values_fit_type(kind: str, params: Mapping[str, Any], type_name: str, where: str) -> None:
    """Choice and lifecycle status values must be values of the column's type (cast by Spark otherwise)."""
    if kind not in ("choice", "lifecycle_status") or "values" not in params:
        return
    values = params["values"]
    if kind == "lifecycle_status" and (not isinstance(values, list) or len(values) != 2):
        raise SpecError(
            f"{where}: field 'values': must be two values, active then churned (got {values!r}); "
            "allowed: e.g. [active, churned]"
        )
    wrong = [v for v in values if not _fits_type(v, type_name)]
    texts = {isinstance(v, str) for v in values if v is not None}
    if type_name == "string" and len(texts) > 1:  # Spark would cast the text to the other values' type
        wrong = [v for v in values if v is not None and not isinstance(v, str)]
    if wrong:
        raise SpecError(
            f"{where}: field 'values': {wrong[0]!r} is not a value of the column type {type_name} "
            f"(got {values!r}); allowed: {_values_allowed(type_name)}, null; or change the column's 'type'"
        )


def column_dependencies(table: TableSpec, col: ColumnSpec) -> tuple[str, ...]:
    """Columns of the same table that ``col``'s parameters name (uniform bounds, date bases, lookup keys)."""
    names = [col.params.get(k) for k in ("min", "max", "base", "key")]
    return tuple(n for n in names if isinstance(n, str) and n in table.column_names)


def is_inline(table: TableSpec, name: str, _seen: frozenset[str] = frozenset()) -> bool:
    """True if the column can be rebuilt for any row key (no derived SQL anywhere beneath it)."""
    col = table.column(name)
    if col.kind not in INLINE_KINDS or name in _seen:
        return False
    return all(is_inline(table, dep, _seen | {name}) for dep in column_dependencies(table, col))


def validate_references(spec: DatasetSpec) -> None:
    """Cross-table rules: keys, parents, lookups, pools and date columns refer to things that exist."""
    tables = {t.name: t for t in spec.tables}
    _check_table_names(spec)
    for table in spec.tables:
        where = f"{spec.source}: table '{table.name}'"
        for name in (table.primary_key, *table.date_columns) + (
            (table.primary_date_column,) if table.primary_date_column else ()
        ):
            if name not in table.column_names:
                raise SpecError(
                    f"{where}: names column '{name}' which is not defined; allowed: {', '.join(table.column_names)}"
                )
        _check_primary_key(table, where)
        if table.kind == "incremental" and not table.primary_date_column:
            raise SpecError(
                f"{where}: field 'primary_date_column': incremental tables need one; allowed: {', '.join(table.column_names)}"
            )
        if table.parent is not None:
            if table.parent not in tables or tables[table.parent].kind != "incremental" or table.kind != "incremental":
                raise SpecError(f"{where}: field 'parent': must name another incremental table (got {table.parent!r})")
            if table.rows_per_parent < 1:
                raise SpecError(f"{where}: field 'rows_per_parent': must be >= 1 (got {table.rows_per_parent!r})")
        for col in table.columns:
            _validate_column_references(spec, tables, table, col)
        _check_column_cycles(table, where)


def _check_table_names(spec: DatasetSpec) -> None:
    """Table names are unique (each is a folder and a Delta table) and parents form no cycle."""
    names = [t.name for t in spec.tables]
    for table in spec.tables:
        where = f"{spec.source}: table '{table.name}'"
        if names.count(table.name) > 1:
            raise SpecError(f"{where}: field 'name': is defined twice (got {table.name!r}); allowed: unique names")
        chain, current = [table.name], table
        while current.parent is not None and current.parent in names:
            if current.parent in chain:
                raise SpecError(
                    f"{where}: field 'parent': parents form a cycle (got {' -> '.join([*chain, current.parent])!r}); "
                    "allowed: another incremental table, without cycles"
                )
            chain.append(current.parent)
            current = spec.tables[names.index(current.parent)]


def _check_column_cycles(table: TableSpec, where: str) -> None:
    """No column reaches itself through the columns its parameters name (bounds, bases, keys)."""

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            chain = " -> ".join((*path[path.index(name) :], name))
            raise SpecError(
                f"{where}, column '{name}': depends on itself ({chain}); allowed: parameters naming earlier, "
                "independent columns"
            )
        for dep in column_dependencies(table, table.column(name)):
            visit(dep, (*path, name))

    for col in table.columns:
        visit(col.name, ())


_FORBIDDEN_SQL = re.compile(r"\b(reflect|java_method|try_reflect)`?\s*\(", re.IGNORECASE)


def _check_derived_sql(params: Mapping[str, Any], where: str) -> None:
    """A derived expression is SQL over the row's columns; calls into Java static methods are not allowed."""
    expression = params.get("expression")
    if not isinstance(expression, str) or not expression.strip():
        raise SpecError(
            f"{where}: field 'expression': must be SQL text (got {str(expression)[:80]!r}); allowed: e.g. a * 2"
        )
    forbidden = _FORBIDDEN_SQL.search(expression)
    if forbidden:
        raise SpecError(
            f"{where}: field 'expression': calls {forbidden.group(1).lower()}(), which runs arbitrary Java methods "
            f"(got {expression[:80]!r}); allowed: Spark SQL functions without reflect, java_method, try_reflect"
        )


def _check_primary_key(table: TableSpec, where: str) -> None:
    key = table.column(table.primary_key)
    if key.kind not in PRIMARY_KEY_KINDS:
        raise SpecError(
            f"{where}: field 'primary_key': column '{key.name}' is a {key.kind} column, whose values can repeat "
            f"(got {key.name!r}); allowed: a sequence column, or a derived column built from one"
        )
    if key.null_rate > 0:
        raise SpecError(
            f"{where}, column '{key.name}': field 'null_rate': the primary key cannot be null (got {key.null_rate!r}); "
            "allowed: 0"
        )


def _check_pool(spec: DatasetSpec, col: ColumnSpec, where: str) -> None:
    """The pool is the dataset's or a locale pool, and has the field (default: its first)."""
    name = col.params["pool"]
    if isinstance(name, str) and name in spec.pools:
        fields, what = spec.pools[name].fields, "pool"
    elif isinstance(name, str) and name in LOCALE_POOL_FIELDS:
        fields, what = LOCALE_POOL_FIELDS[name], "locale pool"
    else:
        own = ", ".join(sorted(spec.pools)) or "none"
        raise SpecError(
            f"{where}: field 'pool': unknown pool (got {name!r}); allowed: the dataset's pools ({own}), "
            f"the locale pools ({', '.join(LOCALE_POOL_FIELDS)})"
        )
    field_name = col.params.get("field", fields[0])
    if field_name not in fields:
        raise SpecError(
            f"{where}: field 'field': {what} '{name}' has no such field (got {field_name!r}); "
            f"allowed: {', '.join(fields)}"
        )


def _validate_column_references(
    spec: DatasetSpec, tables: Mapping[str, TableSpec], table: TableSpec, col: ColumnSpec
) -> None:
    where = f"{spec.source}: table '{table.name}', column '{col.name}'"
    p = col.params
    if "references" in p:
        ref_table, ref_col = p["references"].split(".")
        if ref_table not in tables or ref_col not in tables[ref_table].column_names:
            raise SpecError(
                f"{where}: field 'references': no such column (got {p['references']!r}); allowed: {', '.join(tables)} columns"
            )
        target = tables[ref_table]
        if col.kind == "foreign_key" and (target.kind != "snapshot" or target.primary_key != ref_col):
            raise SpecError(
                f"{where}: field 'references': a foreign key must name a snapshot table's primary key (got {p['references']!r})"
            )
        if col.kind == "lookup" and target.kind != "snapshot":
            snapshots = ", ".join(t.name for t in tables.values() if t.kind == "snapshot") or "none"
            raise SpecError(
                f"{where}: field 'references': a lookup reads an entity of a snapshot table, and '{ref_table}' is "
                f"{target.kind} (got {p['references']!r}); allowed: columns of the snapshot tables ({snapshots})"
            )
        if col.kind == "lookup" and not is_inline(target, ref_col):
            raise SpecError(f"{where}: field 'references': cannot look up a column built from a derived expression")
    if col.kind == "lookup" and p["key"] not in table.column_names:
        raise SpecError(
            f"{where}: field 'key': no such column (got {p['key']!r}); allowed: {', '.join(table.column_names)}"
        )
    if col.kind in ("child_count", "child_sum"):
        child = tables.get(p["child"])
        if child is None or child.parent != table.name:
            raise SpecError(
                f"{where}: field 'child': must name a table whose parent is '{table.name}' (got {p['child']!r})"
            )
        for name in p.get("of", ()):
            if name not in child.column_names or not is_inline(child, name):
                raise SpecError(f"{where}: field 'of': '{name}' must be a generated column of '{child.name}'")
        if col.kind == "child_sum" and child.rows_per_parent > MAX_CHILD_SUM_ROWS_PER_PARENT:
            raise SpecError(
                f"{where}: field 'child': child_sum adds up at most {MAX_CHILD_SUM_ROWS_PER_PARENT + 1} children "
                f"per parent, and '{child.name}' has rows_per_parent {child.rows_per_parent:g} (got {p['child']!r}); "
                f"allowed: rows_per_parent <= {MAX_CHILD_SUM_ROWS_PER_PARENT}"
            )
    if col.kind in ("parent_key", "line_number", "parent_value") and table.parent is None:
        raise SpecError(f"{where}: field 'kind': {col.kind} needs the table to declare a parent")
    slots = p.get("slots_per_day")
    if slots is not None and (not isinstance(slots, int) or isinstance(slots, bool) or not 1 <= slots <= 10_000):
        raise SpecError(
            f"{where}: field 'slots_per_day': must be an integer from 1 to 10000 (got {slots!r}); "
            "allowed: e.g. 36 (15-minute slots from 08:00 to 17:00)"
        )
    if col.kind == "slot" and (
        p["key"] not in table.column_names or "slots_per_day" not in table.column(p["key"]).params
    ):
        raise SpecError(
            f"{where}: field 'key': must name a foreign_key column of this table with slots_per_day (got {p['key']!r}); "
            "allowed: e.g. provider_id"
        )
    if col.kind == "parent_value":
        parent = tables[table.parent]
        if p["column"] not in parent.column_names or not is_inline(parent, p["column"]):
            raise SpecError(
                f"{where}: field 'column': must be a generated column of the parent '{parent.name}', not derived "
                f"(got {p['column']!r}); allowed: {', '.join(n for n in parent.column_names if is_inline(parent, n))}"
            )
    if p.get("distinct_per_parent") is not None and (
        p["distinct_per_parent"] is not True or not {"parent_key", "line_number"} <= {c.kind for c in table.columns}
    ):
        raise SpecError(
            f"{where}: field 'distinct_per_parent': must be true, on a child table with parent_key and line_number "
            f"columns (got {p['distinct_per_parent']!r}); allowed: true"
        )
    if col.kind == "pool":
        _check_pool(spec, col, where)
    for name in ("min", "max"):
        if isinstance(p.get(name), str) and p[name] not in table.column_names:
            raise SpecError(
                f"{where}: field '{name}': no such column (got {p[name]!r}); allowed: numbers, {', '.join(table.column_names)}"
            )
    base = p.get("base")
    if base is not None and base not in ("generation_date", "epoch") and base not in table.column_names:
        raise SpecError(
            f"{where}: field 'base': no such column (got {base!r}); allowed: generation_date, epoch, {', '.join(table.column_names)}"
        )


def describe_dataset(spec: DatasetSpec) -> str:
    """Tables, kinds, frequencies, volumes, columns, types and keys, as text for ``synthgen datasets show``."""
    lines = [
        f"{spec.dataset_id}: {spec.description}",
        f"domain {spec.domain}; epoch {spec.epoch}; weekday multipliers "
        + " ".join(f"{m:g}" for m in spec.weekday_multipliers),
    ]
    for table in spec.tables:
        if table.kind == "snapshot":
            shape = f"snapshot, {table.frequency}, {table.rows:,} entities"
            shape += "" if table.scaled else ", not scaled: the same at any scale_factor"
        else:
            shape = f"incremental, {table.rows:,} rows/day base, holiday x{table.holiday_multiplier:g}"
            shape += f", child of {table.parent} ({table.rows_per_parent:g} per parent)" if table.parent else ""
        lines += [
            "",
            f"{table.name} ({shape}); primary key {table.primary_key}; date column {table.primary_date_column}",
        ]
        for col in table.output_columns:
            key = ""
            if col.name == table.primary_key:
                key = "PK"
            elif col.kind in ("foreign_key", "lookup"):
                key = f"-> {col.params['references']}"
            elif col.kind == "parent_key":
                key = f"-> {table.parent}"
            lines.append(f"  {col.name:<18} {col.type:<14} {col.kind:<16} {key}")
    return "\n".join(lines)
