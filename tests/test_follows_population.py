"""Volumes that follow the active population (issue 21, item 3): population(d) exact, in the plan."""

from __future__ import annotations

import datetime as dt

import pytest

from synthgen_spark.calendar import UNIX_EPOCH, Calendar, round_half_up
from synthgen_spark.catalog import parse_dataset
from synthgen_spark.config import JobConfig
from synthgen_spark.errors import SpecError
from synthgen_spark.planner import build_plan, describe_plan

FOLLOWING = """
dataset_id: mini
epoch: 2020-01-01
tables:
  - name: members
    kind: snapshot
    rows: 1000
    primary_key: member_id
    lifecycle: {growth_rate: 0.01, growth_period: week, churn_rate: 0.002}
    columns:
      - {name: member_id, kind: sequence}
      - {name: joined, kind: lifecycle_start, min_days: -300, max_days: -1}
      - {name: left_on, kind: lifecycle_end}
      - {name: snapshot_date, kind: generation_date}
  - name: visits
    kind: incremental
    rows: 200
    follows_population: members
    primary_key: visit_id
    primary_date_column: visit_date
    columns:
      - {name: visit_id, kind: sequence}
      - {name: visit_date, kind: generation_date}
"""
EPOCH = dt.date(2020, 1, 1)


def _calendar(text: str = FOLLOWING) -> Calendar:
    values = {
        "dataset_id": "mini",
        "start_date": "2021-01-04",
        "end_date": "2021-01-10",
        "enable_seasonal_patterns": False,
    }
    return Calendar(parse_dataset(text, "mini.yaml"), JobConfig.from_mapping(values))


def _active_by_entities(calendar: Calendar, day: dt.date) -> int:
    """Active entities counted one by one: each entity's own signup and churn day (not the ranges)."""
    members = calendar.dataset.table("members")
    model, ordinal = calendar.entities(members), (day - UNIX_EPOCH).days
    return sum(model.is_active(k, ordinal) for k in range(calendar.population(members, day)))


def _geometric_expectation(calendar: Calendar, day: dt.date) -> float:
    """What a geometric lifetime (daily churn 0.002, 1 in 10 never churning) expects to be active."""
    members = calendar.dataset.table("members")
    q, t = 1 - members.lifecycle.churn_rate, (day - EPOCH).days
    total = sum(0.1 + 0.9 * q ** (t - s) for s in range(-300, 0) if s <= t) * 1000 / 300  # the epoch's entities
    for k in range(1001, calendar.population(members, day) + 1):  # entity k joins ceil((k - N0) / r) weeks in
        weeks = -(-(k - 1000) // 10)
        total += 0.1 + 0.9 * q ** (t - 7 * weeks)
    return total


def test_population_factor_is_the_active_count_over_the_epochs():
    calendar = _calendar()
    members, visits = calendar.dataset.table("members"), calendar.dataset.table("visits")
    assert calendar.population_factor(visits, EPOCH) == 1.0
    for day in (EPOCH + dt.timedelta(days=n) for n in (6, 7, 100, 365, 1000)):
        assert calendar.active(members, day) == _active_by_entities(calendar, day)
        assert calendar.active(members, day) == pytest.approx(_geometric_expectation(calendar, day), rel=0.05)
        factor = calendar.population_factor(visits, day)
        assert factor == calendar.active(members, day) / calendar.active(members, EPOCH)
        assert calendar.rows(visits, day) == round_half_up(200 * factor)
    later = [calendar.population_factor(visits, EPOCH + dt.timedelta(weeks=w)) for w in range(0, 200, 20)]
    assert later == sorted(later) and later[-1] > 1.15  # 1% a week joins, 0.2% a day leaves: the base grows


def test_without_churn_every_entity_signed_up_is_active():
    calendar = _calendar(FOLLOWING.replace("churn_rate: 0.002", "churn_rate: 0"))
    members = calendar.dataset.table("members")
    for day in (EPOCH, EPOCH + dt.timedelta(days=70), EPOCH + dt.timedelta(days=701)):
        assert calendar.active(members, day) == calendar.population(members, day)


def test_the_plan_prints_the_factor_and_predicts_the_rows(tmp_path):
    path = tmp_path / "mini.yaml"
    path.write_text(FOLLOWING)
    values = {"dataset_id": "mini", "dataset_path": str(path), "start_date": "2021-01-04", "end_date": "2021-01-05"}
    plan = build_plan(JobConfig.from_mapping({**values, "output_root": str(tmp_path)}))
    calendar = Calendar(plan.dataset, plan.config)
    visits = [td for td in plan.table_days if td.table.name == "visits"]
    assert [td.rows for td in visits] == [calendar.rows(td.table, td.date) for td in visits]
    assert all(td.rows > 200 for td in visits)  # a year in, the active base has grown
    text = describe_plan(plan)
    assert f"x population {calendar.population_factor(visits[0].table, visits[0].date):.4f}" in text


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("follows_population: members", "follows_population: visits"),  # not a snapshot
        ("follows_population: members", "follows_population: nobody"),
        ("follows_population: members", "follows_population: [members]"),
        ("    lifecycle: {growth_rate: 0.01, growth_period: week, churn_rate: 0.002}\n", ""),  # no lifecycle
        ("    primary_key: member_id\n", "    primary_key: member_id\n    follows_population: members\n"),  # a snapshot
    ],
)
def test_invalid_follows_population_fails_in_one_line(old, new):
    text = FOLLOWING.replace(old, new, 1)
    if "lifecycle:" not in text:  # lifecycle columns need a lifecycle: keep the table valid but static
        text = text.replace("      - {name: joined, kind: lifecycle_start, min_days: -300, max_days: -1}\n", "")
        text = text.replace("      - {name: left_on, kind: lifecycle_end}\n", "")
    with pytest.raises(SpecError, match=r"^mini.yaml: .*field 'follows_population'") as caught:
        parse_dataset(text, "mini.yaml")
    assert "\n" not in str(caught.value)
