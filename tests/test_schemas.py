"""Published JSON Schemas: built from the validators' constants, shipped up to date, and every shipped YAML fits."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from synthgen_spark.cli import main
from synthgen_spark.schemas import SCHEMA_NAMES, build_schema, render, shipped_schema_text

REPO = Path(__file__).resolve().parent.parent
DATASET_FILES = sorted((REPO / "synthgen_spark" / "data" / "datasets").glob("*.yaml")) + sorted(
    (REPO / "conf" / "datasets").glob("*.yaml")
)
JOB_FILES = sorted((REPO / "conf" / "jobs").glob("*.yaml"))


def as_json(value):
    """A YAML document as JSON sees it (dates as ISO text)."""
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_json(item) for item in value]
    return value.isoformat() if isinstance(value, dt.date) else value


def validator(name: str) -> jsonschema.Draft202012Validator:
    schema = build_schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_shipped_schemas_are_the_models_own(name):
    assert shipped_schema_text(name) == render(name), "regenerate with: python -m synthgen_spark.schemas"


@pytest.mark.parametrize("path", DATASET_FILES, ids=lambda p: p.name)
def test_every_shipped_dataset_fits_the_dataset_schema(path):
    assert DATASET_FILES and list(validator("dataset").iter_errors(as_json(yaml.safe_load(path.read_text())))) == []


@pytest.mark.parametrize("path", JOB_FILES, ids=lambda p: p.name)
def test_every_shipped_job_fits_the_job_schema(path):
    assert JOB_FILES and list(validator("job").iter_errors(as_json(yaml.safe_load(path.read_text())))) == []


def test_the_job_configs_form_fits_and_unknown_keys_do_not():
    job = {"dataset_id": "retail_oltp_small", "start_date": "2024-02-01", "end_date": "2024-02-07"}
    assert validator("job").is_valid({"job_configs": {"feb": job}})
    assert validator("job").is_valid({"job_configs": [job]})
    assert not validator("job").is_valid({**job, "batchsize": 7})
    assert not validator("job").is_valid({**job, "output_mode": "xlsx"})


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda d: d["tables"][0].update(colour="red"), "an unknown table key"),
        (lambda d: d["tables"][0]["columns"][0].update(kind="fancy"), "an unknown column kind"),
        (lambda d: d["tables"][0]["columns"][0].update(pattern="x{n}"), "a key of another kind"),
        (lambda d: d["tables"][0].update(kind="rolling"), "an unknown table kind"),
        (lambda d: d.pop("tables"), "no tables"),
    ],
)
def test_the_dataset_schema_refuses_what_the_catalog_refuses(change, why):
    dataset = as_json(yaml.safe_load(DATASET_FILES[0].read_text()))
    change(dataset)
    assert not validator("dataset").is_valid(dataset), why


def test_synthgen_schema_prints_them(capsys):
    assert main(["schema", "dataset"]) == 0
    assert json.loads(capsys.readouterr().out) == build_schema("dataset")
