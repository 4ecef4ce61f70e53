"""JobConfig: parsing from YAML, dicts and flags; field validation with precise one-line messages."""

from __future__ import annotations

import datetime as dt

import pytest

from synthgen_spark.config import JobConfig, load_config_file, parse_job_configs
from synthgen_spark.errors import ConfigError

from .helpers import FEB_JOB

BASE = {"dataset_id": "retail_oltp_small", "start_date": "2024-02-01", "end_date": "2024-02-07"}


def test_shipped_feb_job_has_the_documented_values():
    cfg = load_config_file(FEB_JOB)
    assert (cfg.job_name, cfg.dataset_id) == ("test_feb_2024", "retail_oltp_small")
    assert (cfg.start_date, cfg.end_date) == (dt.date(2024, 2, 1), dt.date(2024, 2, 7))
    assert (cfg.batch_size, cfg.path_format, cfg.output_mode) == (1, "flat", "csv")
    assert cfg.seed_value == 99999 and cfg.enable_seasonal_patterns is True


def test_overrides_win_over_the_file_and_leave_it_unchanged():
    cfg = load_config_file(FEB_JOB, {"batch_size": "3", "output_mode": "parquet"})
    assert (cfg.batch_size, cfg.output_mode, cfg.job_name) == (3, "parquet", "test_feb_2024")
    again = cfg.with_overrides({"seed_value": "5"})
    assert again.seed_value == 5 and cfg.seed_value == 99999


def test_job_configs_dict_forms():
    by_name = parse_job_configs({"job_configs": {"a": BASE, "b": {**BASE, "seed_value": 2}}})
    assert [(c.job_name, c.seed_value) for c in by_name] == [("a", 42), ("b", 2)]
    as_list = parse_job_configs({"job_configs": [{**BASE, "job_name": "x"}]})
    assert as_list[0].job_name == "x"
    assert parse_job_configs(BASE)[0].job_name == "retail_oltp_small"


def test_seasonal_multipliers_accept_a_list_or_weekday_mapping():
    listed = JobConfig.from_mapping({**BASE, "seasonal_multipliers": [1, 2, 3, 4, 5, 6, 7]})
    mapped = JobConfig.from_mapping(
        {
            **BASE,
            "seasonal_multipliers": dict(
                zip(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], range(1, 8), strict=False)
            ),
        }
    )
    assert listed.seasonal_multipliers == mapped.seasonal_multipliers == (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0)


def test_config_is_frozen():
    cfg = JobConfig.from_mapping(BASE)
    with pytest.raises(AttributeError):
        cfg.seed_value = 1  # type: ignore[misc]


REJECTED = [
    ({"end_date": "2024-01-01"}, "'end_date': is before start_date"),
    ({"start_date": "2024-02-30"}, "'start_date': is not a real calendar date"),
    ({"start_date": "02/01/2024"}, "'start_date': is not a real calendar date"),
    ({"batch_size": 0}, "'batch_size': is out of range"),
    ({"batch_size": "two"}, "'batch_size': must be an integer"),
    ({"seed_value": "abc"}, "'seed_value': must be an integer"),
    ({"seed_value": 1.5}, "'seed_value': must be an integer"),
    ({"seed_value": 2**64}, "'seed_value': is out of range"),
    ({"path_format": "deep"}, "'path_format': is not a known value"),
    ({"output_mode": "json"}, "'output_mode': is not a known value"),
    ({"job_name": "../escape"}, "'job_name': is not a safe name"),
    ({"job_name": "a/b"}, "'job_name': is not a safe name"),
    ({"dataset_id": "x/../y"}, "'dataset_id': is not a safe name"),
    ({"parallel_workers": 0}, "'parallel_workers': is out of range"),
    ({"chunk_size": 0}, "'chunk_size': is out of range"),
    ({"scale_factor": 0}, "'scale_factor': is out of range"),
    ({"drift_percentage": 101}, "'drift_percentage': is out of range"),
    ({"seasonal_multipliers": [1, 2]}, "'seasonal_multipliers': needs seven multipliers"),
    ({"enable_seasonal_patterns": "maybe"}, "'enable_seasonal_patterns': must be a boolean"),
    ({"colour": "blue"}, "'colour': unknown parameter"),
    ({"locale": "english"}, "'locale': is not a locale name"),
]


@pytest.mark.parametrize(
    ("change", "fragment"), REJECTED, ids=[next(iter(c)) + "-" + str(i) for i, (c, _) in enumerate(REJECTED)]
)
def test_invalid_fields_are_rejected_with_the_field_named(change, fragment):
    with pytest.raises(ConfigError) as caught:
        JobConfig.from_mapping({**BASE, **change})
    message = str(caught.value)
    assert fragment in message
    assert "\n" not in message and "allowed:" in message


def test_missing_required_field_is_named():
    with pytest.raises(ConfigError, match="field 'start_date': is required"):
        JobConfig.from_mapping({"dataset_id": "retail_oltp_small", "end_date": "2024-01-01"})


def test_unparsable_yaml_file_is_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("job_name: [unclosed\nseed_value: 1\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: not valid YAML at line \d+"):
        load_config_file(bad)
