"""JSON Schemas of job files and dataset files, built from the same constants the validators use.

Editors validate and complete YAML with them (``# yaml-language-server: $schema=<path>``); the
package ships them as ``data/schemas/{job,dataset}.schema.json`` and ``synthgen schema job|dataset``
prints them. The schemas describe shape (keys, types, enums); the validators still own every rule
that spans fields (dates in order, references that exist), with their one-line messages.

Example::

    import json
    from synthgen_spark.schemas import job_schema
    print(json.dumps(job_schema(), indent=1))
"""

from __future__ import annotations

import dataclasses
import json
from importlib import resources
from typing import Any

from synthgen_spark import catalog, config

SCHEMA_DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_NAMES = ("job", "dataset")
_DATE = {"type": "string", "format": "date"}
# how each parser of config reads a value, as JSON Schema
_PARSER_TYPES: dict[Any, dict[str, Any]] = {
    config._parse_date: {"anyOf": [_DATE, {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}]},
    config._parse_int: {"type": "integer"},
    config._parse_optional_int: {"type": ["integer", "null"]},
    config._parse_float: {"type": "number"},
    config._parse_bool: {"type": "boolean"},
    config._parse_text: {"type": ["string", "number"]},
    config._parse_optional_text: {"type": ["string", "number", "null"]},
    config._parse_fault_types: {
        "anyOf": [
            {"type": "string", "description": "a comma list"},
            {"type": "array", "items": {"enum": list(config.FAULT_TYPES)}, "minItems": 1, "uniqueItems": True},
        ]
    },
    config._parse_multipliers: {
        "anyOf": [
            {"type": "array", "items": {"type": "number", "exclusiveMinimum": 0}, "minItems": 7, "maxItems": 7},
            {
                "type": "object",
                "properties": {day: {"type": "number", "exclusiveMinimum": 0} for day in config.WEEKDAYS},
                "additionalProperties": False,
            },
            {"type": "null"},
        ]
    },
}
_ENUMS = {
    "path_format": config.PATH_FORMATS,
    "output_mode": config.OUTPUT_MODES,
    "table_location": ("metastore", "path"),
    "snapshot_write": ("replace", "merge"),
    "fact_states": ("as_of", "final"),
}


def _job_parameters() -> dict[str, Any]:
    """One flat job: every JobConfig field with its type, allowed values and the validator's wording."""
    properties = {}
    for field in dataclasses.fields(config.JobConfig):
        if field.name == "source":
            continue
        prop = dict(_PARSER_TYPES[config._PARSERS[field.name]])
        if field.name in _ENUMS:
            prop = {"enum": list(_ENUMS[field.name])}
        if field.name in config._ALLOWED:
            prop["description"] = f"allowed: {config._ALLOWED[field.name]}"
        properties[field.name] = prop
    return {"type": "object", "properties": properties, "additionalProperties": False}


def job_schema() -> dict[str, Any]:
    """A job file: one job's parameters, or ``job_configs`` (a mapping of job name to parameters, or a list)."""
    one_job = {"$ref": "#/$defs/job"}
    return {
        "$schema": SCHEMA_DRAFT,
        "title": "synthgen_spark job file",
        "$defs": {"job": _job_parameters()},
        "anyOf": [
            one_job,
            {
                "type": "object",
                "properties": {
                    "job_configs": {
                        "anyOf": [
                            {"type": "object", "additionalProperties": one_job},
                            {"type": "array", "items": one_job},
                        ]
                    }
                },
                "required": ["job_configs"],
                "additionalProperties": False,
            },
        ],
    }


def _keys_object(keys: tuple[tuple[str, ...], tuple[str, ...]], **properties: Any) -> dict[str, Any]:
    """An object with exactly the (required, optional) keys a validator accepts; any value unless given."""
    required, optional = keys
    return {
        "type": "object",
        "properties": {key: properties.get(key, {}) for key in (*required, *optional)},
        "required": list(required),
        "additionalProperties": False,
    }


def _column_schema(kind: str) -> dict[str, Any]:
    required, optional, default_type = catalog.COLUMN_KINDS[kind]
    common = tuple(k for k in catalog.COMMON_COLUMN_KEYS if k not in ("name", "kind"))
    column = _keys_object(
        (("name", "kind", *required), (*common, *optional)),
        name={"type": "string", "pattern": catalog.NAME.pattern},
        kind={"const": kind},
        type={"type": "string", "description": f"default {default_type}"},
        null_rate={"type": "number", "minimum": 0, "maximum": 1},
        hidden={"type": "boolean"},
        description={"type": "string"},
    )
    return column


def dataset_schema() -> dict[str, Any]:
    """A dataset file: tables of columns, each column one of the registered kinds with its own keys."""
    kinds = sorted(catalog.COLUMN_KINDS)
    lifecycle = _keys_object(catalog.LIFECYCLE_KEYS, **{k: {"type": "number"} for k in ("growth_rate", "churn_rate")})
    table = _keys_object(
        catalog.TABLE_KEYS,
        name={"type": "string", "pattern": catalog.NAME.pattern},
        kind={"enum": list(catalog.TABLE_KINDS)},
        rows={"type": "number", "minimum": 0},
        frequency={"enum": list(catalog.FREQUENCIES)},
        lifecycle=lifecycle,
        propensity=_keys_object(
            catalog.PROPENSITY_KEYS,
            shares={"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 2},
            weights={"type": "array", "items": {"type": "number", "minimum": 0}, "minItems": 2},
        ),
        columns={"type": "array", "items": {"$ref": "#/$defs/column"}, "minItems": 1},
        targets={
            "type": "array",
            "items": _keys_object(
                catalog.TARGET_KEYS,
                between={"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1}, "minItems": 2},
                top_share={"type": "string"},
                top={"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
                weight={"type": "string"},
                share={"type": "string"},
                min_rows={"type": "integer", "minimum": 1},
            ),
        },
        scaled={"type": "boolean"},
        description={"type": "string"},
        late_arrival_rate={"type": "number", "minimum": 0, "maximum": 1},
        max_late_days={"type": "integer", "minimum": 1, "maximum": config.MAX_LATE_DAYS},
    )
    pool = {"anyOf": [{"type": "array", "minItems": 1}, _keys_object(catalog.POOL_KEYS)]}
    return {
        "$schema": SCHEMA_DRAFT,
        "title": "synthgen_spark dataset file",
        "$defs": {
            "table": table,
            "column": {"oneOf": [{"$ref": f"#/$defs/column_{kind}"} for kind in kinds]},
            **{f"column_{kind}": _column_schema(kind) for kind in kinds},
        },
        **_keys_object(
            catalog.DATASET_KEYS,
            dataset_id={"type": "string"},
            tables={"type": "array", "items": {"$ref": "#/$defs/table"}, "minItems": 1},
            epoch={"anyOf": [_DATE, {"type": "string"}]},
            weekday_multipliers={"type": "array", "items": {"type": "number"}, "minItems": 7, "maxItems": 7},
            pools={"type": "object", "additionalProperties": pool},
            description={"type": "string"},
        ),
    }


def build_schema(name: str) -> dict[str, Any]:
    """The schema called ``name`` (``job`` or ``dataset``)."""
    return {"job": job_schema, "dataset": dataset_schema}[name]()


def render(name: str) -> str:
    """The schema as the shipped file holds it (sorted keys, two-space indent, final newline)."""
    return json.dumps(build_schema(name), indent=2, sort_keys=True) + "\n"


def shipped_schema_text(name: str) -> str:
    """The schema file shipped in the package (``data/schemas/{name}.schema.json``)."""
    return resources.files("synthgen_spark").joinpath(f"data/schemas/{name}.schema.json").read_text()


def main() -> int:
    """``python -m synthgen_spark.schemas``: rewrite the shipped schema files from the models."""
    folder = resources.files("synthgen_spark").joinpath("data/schemas")
    for name in SCHEMA_NAMES:
        path = folder.joinpath(f"{name}.schema.json")
        with open(str(path), "w", encoding="utf-8") as handle:
            handle.write(render(name))
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
