"""Change groups without Spark: parsing, the rejection table, and the O(1) version schedule."""

from __future__ import annotations

import functools
import math

import pytest
import yaml

from synthgen_spark.catalog import load_dataset, parse_dataset
from synthgen_spark.changes import affected_columns, changers, event_day, events_by, period_jitter, version_count
from synthgen_spark.errors import SpecError
from synthgen_spark.seeds import seed_of

BASE = """
dataset_id: shop
epoch: 2024-01-01
tables:
  - name: customers
    kind: snapshot
    rows: 100
    lifecycle: {growth_rate: 0.01, churn_rate: 0.001}
    primary_key: customer_id
    columns:
      - {name: customer_id, kind: sequence}
      - {name: domain, kind: choice, values: [a.com, b.com, c.com], hidden: true}
      - {name: email, kind: derived, expression: "concat('c', customer_id, '@', domain)"}
      - {name: city, kind: choice, values: [Paris, Lyon]}
      - {name: solo, kind: choice, values: [only]}
      - {name: tier, kind: choice, values: [Bronze, Silver, Gold]}
      - {name: opt_in, kind: choice, values: [true, false], type: boolean}
      - {name: credit, kind: uniform, min: 100, max: 900, type: "decimal(10,2)"}
      - {name: signup_date, kind: lifecycle_start, min_days: -100, max_days: -1}
      - {name: born, kind: date_offset, base: signup_date, min_days: -30000, max_days: -6600}
      - {name: seen, kind: date_offset, min_days: -5, max_days: 0}
      - {name: snapshot_date, kind: generation_date}
  - name: visits
    kind: incremental
    rows: 10
    primary_key: visit_id
    primary_date_column: visit_date
    columns:
      - {name: visit_id, kind: sequence}
      - {name: visit_date, kind: generation_date}
      - {name: pages, kind: uniform, min: 1, max: 9}
"""


def _with_changes(groups: list, table: int = 0) -> str:
    raw = yaml.safe_load(BASE)
    raw["tables"][table]["changes"] = groups
    return yaml.safe_dump(raw)


def test_valid_groups_parse_with_daily_rates_and_affected_columns():
    spec = parse_dataset(
        _with_changes(
            [
                {"name": "email", "columns": ["domain"], "rate": 0.03, "per": "year"},
                {"name": "tier", "columns": ["tier"], "rate": 0.2, "per": "year", "new_value": "step", "step": 1},
                {
                    "name": "credit",
                    "columns": ["credit"],
                    "rate": 0.01,
                    "per": "week",
                    "new_value": "step",
                    "step": 0.05,
                },
                {"name": "opt_in", "columns": ["opt_in"], "rate": 0.001, "new_value": "toggle"},
            ]
        ),
        "shop.yaml",
    )
    table = spec.table("customers")
    email, tier, credit, opt_in = table.changes
    assert email.daily_rate == pytest.approx(0.03 / 365.25)
    assert credit.daily_rate == pytest.approx(0.01 / 7) and credit.step == 0.05
    assert opt_in.daily_rate == 0.001 and tier.step == 1
    assert affected_columns(table, email) == ("domain", "email")  # the derived email changes with its input
    assert affected_columns(table, tier) == ("tier",)


REJECTIONS = [
    # (groups, table index, group, field, fragment of the message)
    ([{"name": "g", "columns": ["nope"], "rate": 0.1}], 0, "g", "columns", "unknown column"),
    (
        [{"name": "a", "columns": ["city"], "rate": 0.1}, {"name": "b", "columns": ["tier", "city"], "rate": 0.1}],
        0,
        "b",
        "columns",
        "already in group 'a'",
    ),
    ([{"name": "g", "columns": ["city"], "rate": 1.5}], 0, "g", "rate", "from 0 to 1"),
    ([{"name": "g", "columns": ["city"], "rate": -0.1}], 0, "g", "rate", "from 0 to 1"),
    ([{"name": "g", "columns": ["city"], "rate": "often"}], 0, "g", "rate", "from 0 to 1"),
    ([{"name": "g", "columns": ["email"], "rate": 0.1}], 0, "g", "columns", "derived column"),
    ([{"name": "g", "columns": ["signup_date"], "rate": 0.1}], 0, "g", "columns", "lifecycle_start column"),
    ([{"name": "g", "columns": ["customer_id"], "rate": 0.1}], 0, "g", "columns", "sequence column"),
    ([{"name": "g", "columns": ["city"], "rate": 0.1, "per": "fortnight"}], 0, "g", "per", "unknown period"),
    ([{"name": "g", "columns": ["city"], "rate": 0.1, "new_value": "guess"}], 0, "g", "new_value", "unknown"),
    (
        [{"name": "g", "columns": ["email_x"], "rate": 0.1, "new_value": "step", "step": 0.1}],
        0,
        "g",
        "columns",
        "unknown column",
    ),
    ([{"name": "g", "columns": ["city"], "rate": 0.1, "new_value": "toggle"}], 0, "g", "new_value", "not one"),
    ([{"name": "g", "columns": ["tier"], "rate": 0.1, "new_value": "step", "step": 2}], 0, "g", "step", "one level"),
    ([{"name": "g", "columns": ["opt_in"], "rate": 0.1, "new_value": "step", "step": 0.1}], 0, "g", "step", "numeric"),
    ([{"name": "g", "columns": ["credit"], "rate": 0.1, "new_value": "step", "step": 5}], 0, "g", "step", "fraction"),
    ([{"name": "g", "columns": ["credit"], "rate": 0.1, "step": 0.1}], 0, "g", "step", "only with new_value"),
    ([{"name": "g", "columns": ["city"], "rate": 0.1, "speed": 1}], 0, "g", "speed", "unknown key"),
    ([{"name": "g", "columns": ["pages"], "rate": 0.1}], 1, None, "changes", "lifecycle"),
    ([{"name": "g", "columns": ["solo"], "rate": 0.1, "new_value": "step", "step": 1}], 0, "g", "step", "one level"),
    *[
        ([{"name": "g", "columns": ["city"], "rate": 0.1, "at_age": at_age}], 0, "g", "at_age", fragment)
        for at_age, fragment in [
            ({"column": "city", "years": 65}, "'city' is not a date_offset or lifecycle_start date column"),
            ({"column": "nope", "years": 65}, "'nope' is not a date_offset"),
            ({"column": "seen", "years": 65}, "'seen' is not a date_offset or lifecycle_start date column that stays"),
            ({"column": "born", "years": 0}, "years must be a whole number"),
            ({"column": "born", "years": 151}, "years must be a whole number"),
            ({"column": "born", "years": True}, "years must be a whole number"),
            ({"column": "born"}, "needs exactly column and years"),
            ("born", "needs exactly column and years"),
        ]
    ],
    (
        [
            {"name": "a", "columns": ["born"], "rate": 0.1},
            {"name": "g", "columns": ["city"], "rate": 0.1, "at_age": {"column": "born", "years": 65}},
        ],
        0,
        "g",
        "at_age",
        "'born' moves with column 'born' of group 'a'",
    ),
]


@pytest.mark.parametrize(("groups", "table", "group", "field", "fragment"), REJECTIONS)
def test_bad_change_groups_are_one_line_errors_naming_file_table_group_and_field(groups, table, group, field, fragment):
    with pytest.raises(SpecError) as err:
        parse_dataset(_with_changes(groups, table), "shop.yaml")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"shop.yaml: table '{('customers', 'visits')[table]}'")
    if group:
        assert f"change group '{group}'" in message
    assert f"field '{field}'" in message and fragment in message


def test_pool_columns_sharing_a_pick_change_together():
    text = BASE.replace(
        "      - {name: city, kind: choice, values: [Paris, Lyon]}",
        "      - {name: city, kind: pool, pool: locations, field: city, pick: address}\n"
        "      - {name: state, kind: pool, pool: locations, field: state, pick: address}",
    )
    raw = yaml.safe_load(text)
    raw["tables"][0]["changes"] = [{"name": "move", "columns": ["city"], "rate": 0.1}]
    with pytest.raises(SpecError, match=r"change group 'move': field 'columns': 'city' shares the record pick"):
        parse_dataset(yaml.safe_dump(raw), "shop.yaml")
    raw["tables"][0]["changes"] = [{"name": "move", "columns": ["city", "state"], "rate": 0.1}]
    assert parse_dataset(yaml.safe_dump(raw), "shop.yaml").table("customers").changes[0].columns == ("city", "state")


def _brute_force_version(start: int, last: int, rate: float, jitter) -> int:
    """Enumerate the periods k = 0, 1, ... and count the events whose day lies in (start, last]."""
    return sum(1 for k in range(math.floor((last + 1) * rate) + 2) if start < event_day(k, rate, jitter) <= last)


@pytest.mark.parametrize("rate", [1.0, 0.9, 0.3, 0.01, 0.12 / 365.25])
def test_o1_version_equals_enumerating_the_events(rate):
    seed = seed_of("test", rate)
    for entity in [0, 1, 77, 2**20 + 5, 3 * 2**20 + 12345]:
        jitter = functools.partial(period_jitter, seed, entity)
        for start in [19_000, 19_001, 19_350]:
            for last in [18_990, start, start + 1, start + 2, start + 10, start + 99, start + 365, start + 4000]:
                assert version_count(start, last, rate, jitter) == _brute_force_version(start, last, rate, jitter)


def test_version_rate_over_many_entities_is_the_daily_rate():
    rate, start, days, entities = 0.02, 19_000, 300, 2000
    seed = seed_of("rate")
    total = sum(
        version_count(start, start + days, rate, functools.partial(period_jitter, seed, e)) for e in range(entities)
    )
    assert total / (entities * days) == pytest.approx(rate, rel=0.05)


@pytest.mark.parametrize("rate", [1.0, 0.5, 0.01, 0.12 / 365.25])
def test_changers_list_every_entity_with_an_event_on_the_day(rate):
    """The preimages ``changers`` lists hold every entity whose version moves on the day, and few others."""
    seed, population = seed_of("changers", rate), 2**20 + 3000  # two blocks, the second nearly empty
    entities = [*range(0, 30_000), *range(2**20 - 1000, 2**20 + 3000)]
    for day in [19_000, 19_001, 20_123]:
        listed = set()
        for block, _period, first, count, inverse, c in changers(seed, rate, day, population):
            listed |= {(block << 20) + inverse * (v - c) % 2**20 for v in range(first, first + count)}
        moved = {
            e
            for e in entities
            if events_by(day, rate, functools.partial(period_jitter, seed, e))
            > events_by(day - 1, rate, functools.partial(period_jitter, seed, e))
        }
        assert moved and moved <= listed
        assert len(listed) <= rate * 2 * 2**20 + 16  # an interval of j of width f per period and block


def test_builtin_datasets_declare_change_groups():
    retail = load_dataset("retail_oltp_small")
    assert {g.name for g in retail.table("customers").changes} >= {"address", "email", "loyalty_tier"}
    assert {g.name for g in retail.table("products").changes} >= {"price"}
    assert load_dataset("healthcare_oltp_small").table("patients").changes
    accounts = load_dataset("finance_oltp_small").table("accounts")
    assert {g.name for g in accounts.changes} >= {"status", "credit_limit"}
    assert accounts.lifecycle.churn_rate > 0  # closures are churn: an update of status and closed_date on its day


def test_plan_adds_feed_days_every_day_and_history_on_snapshot_days_with_expected_changes(tmp_path):
    from synthgen_spark.config import JobConfig
    from synthgen_spark.planner import build_plan, describe_plan

    values = {"dataset_id": "retail_oltp_small", "start_date": "2024-02-05", "end_date": "2024-02-11"}
    values |= {"output_root": str(tmp_path), "change_feed": True, "history": True, "batch_size": 3}
    plan = build_plan(JobConfig.from_mapping(values))
    days = {}
    for td in plan.table_days:
        days.setdefault(td.table.name, []).append(td.date)
    assert len(days["customers_changes"]) == len(days["products_changes"]) == 7
    assert days["customers_history"] == days["customers"] and days["products_history"] == days["products"]
    assert len(days["products_history"]) == 1 and "order_items_changes" not in days and "orders_history" not in days
    assert len(days["orders_changes"]) == 7  # orders progress: their status steps (tests/test_progress.py)
    feed = plan.table_days[[td.table.name for td in plan.table_days].index("customers_changes")]
    assert feed.paths[0].endswith("/customers_changes/2024/02/05/data.parquet")
    assert feed.table.primary_date_column == "change_date" and feed.table.column_names[0] == "change_op"
    text = describe_plan(plan)
    assert "change feed of customers: expected inserts 20, updates <= address 13.1" in text
    plain = build_plan(JobConfig.from_mapping({**values, "change_feed": False, "history": False}))
    assert {td.table.name for td in plain.table_days} == {"customers", "products", "orders", "order_items"}


@pytest.mark.parametrize(
    ("churn", "lifecycle", "fragment"),
    [("erase", {"churn_rate": 0.01}, "unknown"), ("delete", {"growth_rate": 0.01}, "churn_rate")],
)
def test_bad_churn_mode_is_a_one_line_error(churn, lifecycle, fragment):
    raw = yaml.safe_load(BASE)
    raw["tables"][0] |= {"churn": churn, "lifecycle": lifecycle}
    with pytest.raises(SpecError, match=rf"^shop.yaml: table 'customers': field 'churn': .*{fragment}"):
        parse_dataset(yaml.safe_dump(raw), "shop.yaml")


def test_cli_exits_2_on_a_bad_change_group_and_plans_the_feed_with_its_flags(tmp_path, capsys):
    from synthgen_spark.cli import main

    bad = tmp_path / "shop.yaml"
    bad.write_text(_with_changes([{"name": "g", "columns": ["city"], "rate": 2}]))
    flags = ["--dataset-id", "shop", "--start-date", "2024-02-01", "--end-date", "2024-02-01"]
    flags += ["--output-root", str(tmp_path / "out")]
    assert main(["plan", *flags, "--dataset-path", str(bad), "--change-feed"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and f"{bad}: table 'customers', change group 'g': field 'rate'" in err
    good = tmp_path / "good.yaml"
    good.write_text(_with_changes([{"name": "g", "columns": ["city"], "rate": 0.5}]))
    assert main(["plan", *flags, "--dataset-path", str(good), "--change-feed", "--history"]) == 0
    out = capsys.readouterr().out
    assert "customers_changes" in out and "customers_history" in out and "updates <= g " in out
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("references", "fragment"),
    [("customers.city", "primary key of a snapshot table with a lifecycle"), ("visits.visit_id", "lifecycle")],
)
def test_version_key_must_name_the_key_of_a_table_with_a_lifecycle(references, fragment):
    raw = yaml.safe_load(BASE)
    raw["tables"][1]["columns"] += [
        {"name": "customer_id", "kind": "foreign_key", "references": "customers.customer_id"},
        {"name": "customer_sk", "kind": "version_key", "references": references, "key": "customer_id"},
    ]
    with pytest.raises(SpecError, match=f"table 'visits', column 'customer_sk': field 'references'.*{fragment}"):
        parse_dataset(yaml.safe_dump(raw), source="shop.yaml")
    raw["tables"][1]["columns"][-1]["references"] = "customers.customer_id"
    assert parse_dataset(yaml.safe_dump(raw), source="shop.yaml").table("visits").column("customer_sk").type == "long"


def test_a_birthday_group_parses_on_a_fixed_date_column():
    groups = [{"name": "g", "columns": ["city"], "rate": 0.1, "at_age": {"column": "born", "years": 65}}]
    (group,) = parse_dataset(_with_changes(groups), "shop.yaml").table("customers").changes
    assert group.at_age == ("born", 65)
    healthcare = load_dataset("healthcare_oltp_small").table("patients")
    assert [g.at_age for g in healthcare.changes if g.at_age] == [("birth_date", 65)]
