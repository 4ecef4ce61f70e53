"""JobConfig: every job parameter, from a YAML file, a dict or CLI flags, validated before Spark."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthgen_spark.errors import ConfigError, invalid
from synthgen_spark.safe_yaml import YamlProblem, read_yaml_file

PATH_FORMATS = ("flat", "nested")
OUTPUT_MODES = ("csv", "parquet", "table")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
MAX_NAME_LENGTH = 100  # job_name and dataset_id are folder names; most file systems allow 255 bytes
# schemes of Hadoop file systems (a scheme whose connector is missing fails when the run starts, exit 1)
FAULT_TYPES = ("null", "out_of_range", "malformed", "whitespace_or_case", "duplicate_row", "orphan_key")
URI_SCHEMES = (
    "file", "hdfs", "viewfs", "webhdfs", "swebhdfs", "s3", "s3a", "s3n", "gs", "abfs", "abfss", "wasb", "wasbs",
    "adl", "dbfs", "oss", "cosn", "obs", "ofs", "o3fs", "alluxio", "lakefs", "har", "ftp", "sftp",
)  # fmt: skip
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_LATE_DAYS = 90  # a run plans the late rows of this many event days before its start


@dataclass(frozen=True)
class JobConfig:
    """All parameters of one generation job; frozen and validated on construction.

    Example::

        JobConfig.from_mapping({"dataset_id": "retail_oltp_small",
                                "start_date": "2024-02-01", "end_date": "2024-02-07"})
    """

    dataset_id: str
    start_date: dt.date
    end_date: dt.date
    job_name: str = ""
    batch_size: int = 1
    path_format: str = "nested"
    output_mode: str = "parquet"
    seed_value: int = 42
    enable_seasonal_patterns: bool = True
    seasonal_multipliers: tuple[float, ...] | None = None
    parallel_workers: int = 1
    chunk_size: int | None = None
    enable_data_drift: bool = False
    drift_percentage: float = 2.0
    ignore_state: bool = False
    output_root: str = "."
    holiday_country: str = "US"
    locale: str = "en_US"
    scale_factor: float = 1.0
    dataset_path: str | None = None
    table_name_template: str = "{dataset_id}_{table}"
    database: str | None = None
    table_location: str = "metastore"
    partition_by_date: bool = False
    lock_timeout_minutes: int = 720
    change_feed: bool = False
    history: bool = False
    late_arrival_rate: float = 0.0
    max_late_days: int = 3
    fault_rate: float = 0.0
    fault_types: tuple[str, ...] = FAULT_TYPES
    snapshot_write: str = "replace"
    fact_states: str = "as_of"
    source: str = field(default="config", compare=False, repr=False)

    def __post_init__(self) -> None:
        for check in _FIELD_CHECKS:
            check(self)
        if not self.job_name:
            object.__setattr__(self, "job_name", self.dataset_id)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], source: str = "config") -> JobConfig:
        """Build a JobConfig from a flat mapping of parameter names to values (YAML or dict)."""
        if not isinstance(values, Mapping):
            given, allowed = type(values).__name__, "a mapping of parameter names to values"
            raise ConfigError(invalid("parameters", allowed, given, where=source, problem="expected a mapping"))
        known = {f.name for f in dataclasses.fields(cls) if f.name != "source"}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(
                invalid(unknown[0], ", ".join(sorted(known)), unknown[0], where=source, problem="unknown parameter")
            )
        for required in ("dataset_id", "start_date", "end_date"):
            if values.get(required) in (None, ""):
                raise ConfigError(invalid(required, _ALLOWED[required], None, where=source, problem="is required"))
        parsed = {name: _PARSERS.get(name, _identity)(name, value, source) for name, value in values.items()}
        return cls(**parsed, source=source)

    def with_overrides(self, overrides: Mapping[str, Any], source: str = "flags") -> JobConfig:
        """Return a copy with ``overrides`` applied (flags override the file); self is unchanged."""
        merged = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "source"}
        merged.update({k: v for k, v in overrides.items() if v is not None})
        return JobConfig.from_mapping(merged, source=source)

    @property
    def dates(self) -> list[dt.date]:
        """Every generation date from start_date to end_date inclusive."""
        days = (self.end_date - self.start_date).days
        return [self.start_date + dt.timedelta(days=i) for i in range(days + 1)]

    def to_dict(self) -> dict[str, Any]:
        """Plain parameters (dates as ISO text), suitable for YAML, JSON and fingerprints."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name == "source":
                continue
            value = getattr(self, f.name)
            out[f.name] = value.isoformat() if isinstance(value, dt.date) else value
            if isinstance(value, tuple):
                out[f.name] = list(value)
        return out


def load_config_file(path: str | Path, overrides: Mapping[str, Any] | None = None) -> JobConfig:
    """Read a YAML job file (``conf/jobs/*.yaml``) and apply optional overrides."""
    source = str(path)
    try:
        values = read_yaml_file(path)
    except OSError as exc:
        problem = f"cannot read job file ({exc.strerror})"
        raise ConfigError(
            invalid("config", "a readable YAML job file", source, where="config", problem=problem)
        ) from None
    except YamlProblem as exc:
        raise ConfigError(f"{source}: {exc}") from None
    values = dict(values or {}) if isinstance(values, Mapping) else values
    if isinstance(values, dict):
        values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return JobConfig.from_mapping(values, source=source)


def parse_job_configs(values: Mapping[str, Any], source: str = "job_configs") -> list[JobConfig]:
    """Parse the ``job_configs`` dict form: ``{"job_configs": {name: {params}}}`` or a list of params.

    A flat mapping of parameters is accepted too and gives one JobConfig.

    Example::

        parse_job_configs({"job_configs": {"test_feb_2024": {"dataset_id": "retail_oltp_small",
                           "start_date": "2024-02-01", "end_date": "2024-02-07"}}})
    """
    if set(values) != {"job_configs"}:
        return [JobConfig.from_mapping(values, source)]
    jobs = values["job_configs"]
    if isinstance(jobs, Mapping):
        return [
            JobConfig.from_mapping({"job_name": name, **params}, f"{source}.{name}") for name, params in jobs.items()
        ]
    if isinstance(jobs, list):
        return [JobConfig.from_mapping(params, f"{source}[{i}]") for i, params in enumerate(jobs)]
    raise ConfigError(
        invalid("job_configs", "mapping, list", jobs, where=source, problem="must be a mapping or a list")
    )


# --- parsing (text and YAML values to typed values) -------------------------------------------


def _identity(name: str, value: Any, source: str) -> Any:
    return value


def _parse_date(name: str, value: Any, source: str) -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ConfigError(invalid(name, "YYYY-MM-DD", value, where=source, problem="is not a real calendar date"))


def _parse_int(name: str, value: Any, source: str) -> int:
    if isinstance(value, bool):
        raise ConfigError(invalid(name, _ALLOWED[name], value, where=source, problem="must be an integer"))
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
        return int(value)
    raise ConfigError(invalid(name, _ALLOWED[name], value, where=source, problem="must be an integer"))


def _parse_optional_int(name: str, value: Any, source: str) -> int | None:
    return None if value is None else _parse_int(name, value, source)


def _parse_float(name: str, value: Any, source: str) -> float:
    if not isinstance(value, bool) and isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise ConfigError(invalid(name, _ALLOWED[name], value, where=source, problem="must be a number"))


def _parse_bool(name: str, value: Any, source: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    raise ConfigError(invalid(name, "true, false", value, where=source, problem="must be a boolean"))


def _parse_multipliers(name: str, value: Any, source: str) -> tuple[float, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [part for part in re.split(r"[,\s]+", value.strip()) if part]
    if isinstance(value, Mapping):
        keys = {str(k).lower()[:3]: v for k, v in value.items()}
        if set(keys) != set(WEEKDAYS):
            raise ConfigError(invalid(name, _ALLOWED[name], value, where=source, problem="needs all seven weekdays"))
        value = [keys[day] for day in WEEKDAYS]
    if not isinstance(value, list | tuple) or len(value) != 7:
        raise ConfigError(
            invalid(name, _ALLOWED[name], value, where=source, problem="needs seven multipliers Mon..Sun")
        )
    return tuple(_parse_float(name, item, source) for item in value)


def _parse_fault_types(name: str, value: Any, source: str) -> tuple[str, ...]:
    """A comma list (flags) or a YAML list of fault type names, in the order given."""
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list | tuple) or not value or not all(isinstance(v, str) for v in value):
        raise ConfigError(invalid(name, _ALLOWED[name], value, where=source, problem="must be a list of fault types"))
    return tuple(value)


def _parse_text(name: str, value: Any, source: str) -> str:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value)
    raise ConfigError(invalid(name, _ALLOWED.get(name, "text"), value, where=source, problem="must be text"))


def _parse_optional_text(name: str, value: Any, source: str) -> str | None:
    return None if value is None else _parse_text(name, value, source)


_PARSERS = {
    "start_date": _parse_date,
    "end_date": _parse_date,
    "batch_size": _parse_int,
    "seed_value": _parse_int,
    "parallel_workers": _parse_int,
    "lock_timeout_minutes": _parse_int,
    "chunk_size": _parse_optional_int,
    "scale_factor": _parse_float,
    "drift_percentage": _parse_float,
    "late_arrival_rate": _parse_float,
    "max_late_days": _parse_int,
    "fault_rate": _parse_float,
    "fault_types": _parse_fault_types,
    "enable_seasonal_patterns": _parse_bool,
    "enable_data_drift": _parse_bool,
    "ignore_state": _parse_bool,
    "partition_by_date": _parse_bool,
    "change_feed": _parse_bool,
    "history": _parse_bool,
    "seasonal_multipliers": _parse_multipliers,
    "job_name": _parse_text,
    "dataset_id": _parse_text,
    "path_format": _parse_text,
    "output_mode": _parse_text,
    "output_root": _parse_text,
    "holiday_country": _parse_text,
    "locale": _parse_text,
    "table_name_template": _parse_text,
    "table_location": _parse_text,
    "snapshot_write": _parse_text,
    "fact_states": _parse_text,
    "dataset_path": _parse_optional_text,
    "database": _parse_optional_text,
}

# --- field rules (run in __post_init__, so every construction path is validated) ---------------

_ALLOWED = {
    "dataset_id": "a built-in dataset id (see 'synthgen datasets') or a name for dataset_path, at most 100 characters",
    "start_date": "YYYY-MM-DD",
    "end_date": "YYYY-MM-DD on or after start_date",
    "job_name": "letters, digits, '_', '-', '.', at most 100 characters; no path separators or '..'",
    "output_root": "a local path, or a URI such as abfss://container@account.dfs.core.windows.net/folder or dbfs:/x",
    "batch_size": "integers >= 1",
    "seed_value": f"integers from {INT64_MIN} to {INT64_MAX}",
    "parallel_workers": "integers from 1 to 64",
    "lock_timeout_minutes": "integers >= 1",
    "chunk_size": "integers >= 1, or null for one file per day",
    "scale_factor": "numbers > 0 and <= 10000",
    "drift_percentage": "numbers from 0 to 100",
    "late_arrival_rate": "numbers from 0 to 1 (the share of an incremental table's rows that arrive late)",
    "max_late_days": f"integers from 1 to {MAX_LATE_DAYS}",
    "fault_rate": "numbers from 0 to 1 (the share of each table's rows that get one fault)",
    "fault_types": "a non-empty comma list or YAML list of " + ", ".join(FAULT_TYPES),
    "seasonal_multipliers": "seven numbers > 0 for Mon..Sun, as a list or a mon..sun mapping",
    "path_format": ", ".join(PATH_FORMATS),
    "output_mode": ", ".join(OUTPUT_MODES),
    "table_location": "metastore, path",
    "snapshot_write": "replace, or merge (with output_mode: table and change_feed: true)",
    "fact_states": "as_of (a fact's row as of its event day, later steps in its change feed), final",
    "table_name_template": "text containing {table} (and optionally {dataset_id}, {job_name}) that gives letters, digits and _",
    "database": "a database name, or catalog.schema",
    "locale": "a Faker locale such as en_US, en_GB, de_DE, fr_FR",
    "holiday_country": "an ISO country code known to the holidays package, e.g. US, GB, DE",
}


def _fail(cfg: JobConfig, name: str, problem: str) -> None:
    raise ConfigError(invalid(name, _ALLOWED[name], getattr(cfg, name), where=cfg.source, problem=problem))


def _check_names(cfg: JobConfig) -> None:
    for name in ("dataset_id", "job_name"):
        value = getattr(cfg, name)
        if name == "job_name" and value == "":
            continue
        if not isinstance(value, str) or ".." in value or not SAFE_NAME.fullmatch(value):
            _fail(cfg, name, "is not a safe name")
        if len(value) > MAX_NAME_LENGTH:
            _fail(cfg, name, f"is longer than {MAX_NAME_LENGTH} characters")


def _check_output_root(cfg: JobConfig) -> None:
    """The root's shape (the file system is checked by planner.check_output_root before writing)."""
    root = cfg.output_root
    if not isinstance(root, str) or not root.strip() or root != root.strip() or not root.isprintable():
        _fail(cfg, "output_root", "must be a non-empty path without surrounding spaces or control characters")
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", root)
    if scheme and scheme.group(1).lower() not in URI_SCHEMES:
        _fail(cfg, "output_root", f"has an unknown scheme '{scheme.group(1)}:' (or a ':' in a relative path)")
    if not scheme and ":" in root:
        _fail(cfg, "output_root", "has a ':' in a relative path (Hadoop reads it as a URI scheme)")


def _check_dates(cfg: JobConfig) -> None:
    for name in ("start_date", "end_date"):
        if not isinstance(getattr(cfg, name), dt.date):
            _fail(cfg, name, "is not a date")
    if cfg.end_date < cfg.start_date:
        _fail(cfg, "end_date", f"is before start_date {cfg.start_date.isoformat()}")
    if cfg.start_date.year < 1971 or cfg.end_date.year > 2199:
        _fail(cfg, "start_date" if cfg.start_date.year < 1971 else "end_date", "is outside 1971..2199")


def _check_numbers(cfg: JobConfig) -> None:
    rules = {
        "batch_size": lambda v: isinstance(v, int) and v >= 1,
        "seed_value": lambda v: isinstance(v, int) and not isinstance(v, bool) and INT64_MIN <= v <= INT64_MAX,
        "parallel_workers": lambda v: isinstance(v, int) and 1 <= v <= 64,
        "lock_timeout_minutes": lambda v: isinstance(v, int) and v >= 1,
        "chunk_size": lambda v: v is None or (isinstance(v, int) and v >= 1),
        "scale_factor": lambda v: isinstance(v, float | int) and 0 < v <= 10000,
        "drift_percentage": lambda v: isinstance(v, float | int) and 0 <= v <= 100,
        "late_arrival_rate": lambda v: isinstance(v, float | int) and 0 <= v <= 1,
        "max_late_days": lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_LATE_DAYS,
        "fault_rate": lambda v: isinstance(v, float | int) and not isinstance(v, bool) and 0 <= v <= 1,
        "seasonal_multipliers": lambda v: v is None or (len(v) == 7 and all(0 < m <= 100 for m in v)),
    }
    for name, ok in rules.items():
        if not ok(getattr(cfg, name)):
            _fail(cfg, name, "is out of range")


def _check_choices(cfg: JobConfig) -> None:
    for name, allowed in (("path_format", PATH_FORMATS), ("output_mode", OUTPUT_MODES)):
        if getattr(cfg, name) not in allowed:
            _fail(cfg, name, "is not a known value")
    if cfg.table_location not in ("metastore", "path"):
        _fail(cfg, "table_location", "is not a known value")
    if cfg.snapshot_write not in ("replace", "merge"):
        _fail(cfg, "snapshot_write", "is not a known value")
    if cfg.fact_states not in ("as_of", "final"):
        _fail(cfg, "fact_states", "is not a known value")
    if cfg.snapshot_write == "merge" and not (cfg.output_mode == "table" and cfg.change_feed):
        _fail(cfg, "snapshot_write", "merges the change feed into Delta tables")
    if "{table}" not in cfg.table_name_template:
        _fail(cfg, "table_name_template", "must contain {table}")
    try:
        rendered = cfg.table_name_template.format(dataset_id=cfg.dataset_id, table="t", job_name=cfg.job_name or "j")
    except (KeyError, IndexError, ValueError):
        rendered = ""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", rendered):
        _fail(cfg, "table_name_template", "does not give a plain table name")
    if cfg.database is not None and not re.fullmatch(
        r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?", cfg.database
    ):
        _fail(cfg, "database", "is not a plain database or catalog.schema name")
    if not re.fullmatch(r"[a-z]{2,3}(_[A-Z]{2})?", cfg.locale):
        _fail(cfg, "locale", "is not a locale name")
    if not re.fullmatch(r"[A-Z]{2,3}", cfg.holiday_country):
        _fail(cfg, "holiday_country", "is not an ISO country code")


def _check_fault_types(cfg: JobConfig) -> None:
    types = cfg.fault_types
    if not isinstance(types, tuple) or not types:
        _fail(cfg, "fault_types", "must name at least one fault type")
    unknown = [t for t in types if t not in FAULT_TYPES]
    if unknown:
        _fail(cfg, "fault_types", f"names an unknown fault type {unknown[0]!r}")
    if len(set(types)) != len(types):
        _fail(cfg, "fault_types", "names a fault type twice")


_FIELD_CHECKS = (_check_names, _check_output_root, _check_dates, _check_numbers, _check_choices, _check_fault_types)
