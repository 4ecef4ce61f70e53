"""Volumes breathe (issue 21, item 3): seeded day-level noise around the formula, predicted exactly by the plan."""

from __future__ import annotations

import datetime as dt
import math
import statistics

import pytest

from synthgen_spark.calendar import Calendar
from synthgen_spark.catalog import parse_dataset
from synthgen_spark.config import JobConfig
from synthgen_spark.errors import SpecError
from synthgen_spark.planner import build_plan, describe_plan

from .helpers import MINI_DATASET

NOISY = (
    MINI_DATASET.replace("    rows: 5\n", "    rows: 1000\n    volume_noise: 0.2\n", 1)
    + """  - name: lines
    kind: incremental
    rows: 1
    parent: events
    rows_per_parent: 2
    primary_key: line_id
    primary_date_column: line_date
    columns:
      - {name: line_id, kind: sequence}
      - {name: event_id, kind: parent_key}
      - {name: line_date, kind: generation_date}
"""
)
DAYS = [dt.date(2021, 1, 1) + dt.timedelta(days=i) for i in range(730)]


def _calendar(text: str = NOISY, seed: int = 7) -> Calendar:
    values = {"dataset_id": "mini", "start_date": "2024-01-01", "end_date": "2024-01-01", "seed_value": seed}
    return Calendar(parse_dataset(text, "mini.yaml"), JobConfig.from_mapping(values))


def test_noise_is_lognormal_with_mean_one_and_the_declared_spread():
    calendar = _calendar()
    events = calendar.dataset.table("events")
    factors = [calendar.volume(events, day).noise for day in DAYS]
    assert abs(statistics.fmean(factors) - 1) < 0.03
    assert abs(statistics.stdev(math.log(f) for f in factors) - 0.2) < 0.02
    assert [calendar.rows(events, day) for day in DAYS[:5]] == [round(1000 * f) for f in factors[:5]]


def test_noise_is_seeded_and_children_follow_their_parent():
    first, again, other = _calendar(), _calendar(), _calendar(seed=8)
    events, lines = first.dataset.table("events"), first.dataset.table("lines")
    rows = [first.rows(events, day) for day in DAYS[:60]]
    assert rows == [again.rows(events, day) for day in DAYS[:60]] != [other.rows(events, day) for day in DAYS[:60]]
    assert [first.rows(lines, day) for day in DAYS[:60]] == [2 * r for r in rows]
    quiet = _calendar(MINI_DATASET)
    assert {quiet.rows(quiet.dataset.table("events"), day) for day in DAYS[:60]} == {5}


def test_the_plan_predicts_the_noisy_volumes_and_ids_exactly(tmp_path):
    path = tmp_path / "mini.yaml"
    path.write_text(NOISY)
    values = {"dataset_id": "mini", "dataset_path": str(path), "start_date": "2020-03-01", "end_date": "2020-03-05"}
    config = JobConfig.from_mapping({**values, "output_root": str(tmp_path), "seed_value": 7})
    plan = build_plan(config)
    calendar = Calendar(plan.dataset, config)
    events = [td for td in plan.table_days if td.table.name == "events"]
    assert [td.rows for td in events] == [calendar.rows(td.table, td.date) for td in events]
    epoch = plan.dataset.epoch
    offset = sum(
        calendar.rows(events[0].table, epoch + dt.timedelta(days=i)) for i in range((events[0].date - epoch).days)
    )
    assert events[0].id_offset == offset and len({td.rows for td in events}) > 1
    assert "x noise " in describe_plan(plan)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("    rows: 1000\n    volume_noise: 0.2\n", "    rows: 1000\n    volume_noise: 1.5\n"),
        ("    rows: 10\n", "    rows: 10\n    volume_noise: 0.1\n"),  # a snapshot
        ("    rows_per_parent: 2\n", "    rows_per_parent: 2\n    volume_noise: 0.1\n"),  # a child
    ],
)
def test_invalid_volume_noise_fails_in_one_line(old, new):
    with pytest.raises(SpecError, match=r"^mini.yaml: .*field 'volume_noise'") as caught:
        parse_dataset(NOISY.replace(old, new, 1), "mini.yaml")
    assert "\n" not in str(caught.value)
