"""The one message helper: every one-line error names where, the field, the problem, what was given, what is allowed."""

from __future__ import annotations

import tokenize
from pathlib import Path

import pytest

from synthgen_spark.errors import ConfigError, invalid, place

PACKAGE = Path(__file__).resolve().parent.parent / "synthgen_spark"
# modules whose one-line errors all come from errors.invalid (the parsers, checks and faces)
CHECKED = [
    "config.py",
    "calendar.py",
    "pools.py",
    "planner.py",
    "layout.py",
    "state.py",
    "api.py",
    "cli.py",
    "writers/fs.py",
    *[f"catalog/{p.name}" for p in sorted((PACKAGE / "catalog").glob("*.py"))],
    *[f"engine/{p.name}" for p in sorted((PACKAGE / "engine").glob("*.py"))],
    *[f"generators/{p.name}" for p in sorted((PACKAGE / "generators").glob("*.py"))],
]


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        (("batch_size", "integers >= 1", 0), {"where": "config", "problem": "must be >= 1"},
         "config: field 'batch_size': must be >= 1 (got 0); allowed: integers >= 1."),
        (("kind", "incremental, snapshot", "dim"), {"where": "d.yaml: table 't'"},
         "d.yaml: table 't': field 'kind': is not allowed (got 'dim'); allowed: incremental, snapshot."),
        (("dataset_id", "a, b", "c"), {"where": "config", "problem": "unknown dataset", "fix": "Use dataset_path."},
         "config: field 'dataset_id': unknown dataset (got 'c'); allowed: a, b. Use dataset_path."),
        (("day", "YYYY-MM-DD", None), {"problem": "is required"},
         "field 'day': is required (got None); allowed: YYYY-MM-DD."),
    ],
)  # fmt: skip
def test_invalid_builds_the_one_message_shape(args, kwargs, expected):
    assert invalid(*args, **kwargs) == expected


def test_a_given_value_is_shown_as_written_even_with_newlines_and_quotes():
    message = invalid("name", "snake_case", "a'b\nc", where="x")
    assert "\n" not in message and '(got "a\'b\\nc")' in message


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, "d.yaml"),
        ({"table": "orders"}, "d.yaml: table 'orders'"),
        ({"table": "orders", "column": "qty"}, "d.yaml: table 'orders', column 'qty'"),
        ({"column": "qty"}, "d.yaml: column 'qty'"),
    ],
)
def test_place_names_the_file_table_and_column(kwargs, expected):
    assert place("d.yaml", **kwargs) == expected


TEXT_TOKENS = {tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}  # f-strings: Python 3.12+


def hand_built_field_messages(path: Path) -> list[str]:
    """``file:line`` of string literals in code that spell a message's ``field '...'`` part by hand."""
    with path.open("rb") as source:
        tokens = list(tokenize.tokenize(source.readline))
    return [
        f"{path.relative_to(PACKAGE)}:{t.start[0]}"
        for t in tokens
        if t.type in TEXT_TOKENS and "field '" in t.string and not t.string.lstrip("rfbRFB").startswith('"""')
    ]


def test_the_parsers_checks_and_faces_build_no_field_message_by_hand():
    found = [hit for name in CHECKED for hit in hand_built_field_messages(PACKAGE / name)]
    assert len(CHECKED) > 12 and found == []
    assert hand_built_field_messages(PACKAGE / "errors.py")  # the check sees the helper's own literal


def test_an_unknown_dataset_id_is_a_config_error_like_any_other_bad_job_field():
    from synthgen_spark.catalog import load_dataset
    from synthgen_spark.config import JobConfig

    with pytest.raises(ConfigError, match=r"^config: field 'dataset_id': unknown dataset \(got 'nope'\)"):
        load_dataset("nope")
    with pytest.raises(ConfigError, match=r"field 'locale'"):
        JobConfig.from_mapping(
            {"dataset_id": "retail_oltp_small", "start_date": "2024-01-01", "end_date": "2024-01-01", "locale": "xx-yy"}
        )


def test_the_catalog_config_engine_and_generators_raise_errors_only_through_the_helper():
    """Every ``SpecError(...)``/``ConfigError(...)`` there wraps ``invalid(...)``, or passes on a YAML problem's line."""
    import re

    modules = [PACKAGE / n for n in CHECKED if n.startswith(("catalog/", "engine/", "generators/", "config.py"))]
    pattern = r"(?:Spec|Config)Error\(\s*(invalid\(|f\"\{\w+\}: \{exc\}\"\)|.{0,40})"
    calls = [(m.name, c) for m in modules for c in re.findall(pattern, m.read_text())]
    assert len(calls) >= 60 and [c for c in calls if c[1] != "invalid(" and "{exc}" not in c[1]] == []


def test_a_rejected_stage_is_a_synthgen_error():
    from synthgen_spark.engine import StageError
    from synthgen_spark.errors import SynthgenError

    assert issubclass(StageError, SynthgenError) and str(StageError("total", "bad SQL")) == "total: bad SQL"
