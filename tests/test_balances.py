"""Balances that are the running sum of a ledger (finance accounts and transactions): docs/data-model.md#balances."""

from __future__ import annotations

import datetime as dt
from importlib import resources

import pytest
from pyspark.sql import functions as F

from synthgen_spark.api import generate
from synthgen_spark.calendar import Calendar, is_sweep_day, period_days, sweep_before, sweep_on_or_after
from synthgen_spark.catalog import load_dataset, parse_dataset
from synthgen_spark.config import JobConfig
from synthgen_spark.errors import SpecError
from synthgen_spark.planner import build_plan, describe_plan
from synthgen_spark.verify import _balances, verify_plan

from .helpers import read_table, small_config

EPOCH = dt.date(2020, 1, 1)  # finance's epoch, a Wednesday: itself a sweep date, like every Monday after it
FINANCE = resources.files("synthgen_spark").joinpath("data/datasets/finance_oltp_small.yaml").read_text()


def test_sweep_dates_are_the_weekly_snapshot_dates_and_periods_cover_every_day_once():
    assert is_sweep_day("weekly", EPOCH, EPOCH) and not is_sweep_day("weekly", EPOCH + dt.timedelta(1), EPOCH)
    assert sweep_before("weekly", EPOCH, EPOCH) == EPOCH - dt.timedelta(1)
    assert sweep_on_or_after("weekly", EPOCH + dt.timedelta(1), EPOCH) == dt.date(2020, 1, 6)
    assert sweep_before("weekly", dt.date(2024, 3, 11), EPOCH) == dt.date(2024, 3, 4)
    sweeps = [d for d in (EPOCH + dt.timedelta(i) for i in range(60)) if is_sweep_day("weekly", d, EPOCH)]
    covered = [day for s in sweeps for day in period_days("weekly", s, EPOCH)]
    assert covered == [EPOCH + dt.timedelta(i) for i in range(len(covered))]  # each day in exactly one period
    assert all(sweep_on_or_after("weekly", day, EPOCH) == s for s in sweeps for day in period_days("weekly", s, EPOCH))


def test_the_plan_counts_one_sweep_per_active_account_on_mondays_only():
    config = JobConfig.from_mapping(
        {"dataset_id": "finance_oltp_small", "start_date": "2024-03-01", "end_date": "2024-03-12", "scale_factor": 0.02}
    )
    dataset = load_dataset("finance_oltp_small")
    calendar, accounts = Calendar(dataset, config), dataset.table("accounts")
    transactions = dataset.table("transactions")
    for day in (dt.date(2024, 3, 1) + dt.timedelta(i) for i in range(12)):
        volume = calendar.volume(transactions, day)
        expected = calendar.active(accounts, day) if day.weekday() == 0 else 0
        assert volume.sweeps == expected and (expected == 0 or expected > 100)
    monday = calendar.volume(transactions, dt.date(2024, 3, 4))
    assert f"+ {monday.sweeps:,} sweeps" in describe_plan(build_plan(config, dataset))


BROKEN_BALANCES = [
    ("target: raw_balance", "target: currency", "field 'target': "),
    ("target: raw_balance", "target: nothing", "field 'target': "),
    ("ledger: transactions", "ledger: customers", "field 'ledger': "),
    ("amount: signed_amount", "amount: total", "field 'amount': "),
    ("counted: \"status = 'POSTED'\"", "counted: ''", "field 'counted': "),
    ("{name: is_sweep, kind: sweep_row, hidden: true}", "{name: is_sweep, kind: choice, values: [false]}", "sweep_row"),
    ("frequency: weekly\n    rows: 30000", "frequency: daily\n    rows: 30000", "field 'kind': "),
]


@pytest.mark.parametrize(("old", "new", "fragment"), BROKEN_BALANCES)
def test_a_balance_that_names_no_usable_ledger_is_one_line_naming_the_place(old, new, fragment):
    assert old in FINANCE
    with pytest.raises(SpecError) as caught:
        parse_dataset(FINANCE.replace(old, new, 1), "finance.yaml")
    message = str(caught.value)
    assert message.startswith("finance.yaml") and "\n" not in message and fragment in message


def test_a_sweep_column_on_a_table_no_balance_names_is_refused():
    text = FINANCE.replace("ledger: transactions", "ledger: transactions\n        # no ledger").replace(
        "      - {name: reference, kind: template",
        "      - {name: odd, kind: sweep_row}\n      - {name: reference, kind: template",
    )
    with pytest.raises(SpecError, match="one sweep_row column per ledger"):
        parse_dataset(text, "finance.yaml")


@pytest.fixture(scope="module")
def month(spark, tmp_path_factory):
    """Finance over 26 days (four Mondays), in batches of 10 days that cut across the weeks."""
    root = tmp_path_factory.mktemp("balances")
    config = small_config(
        root,
        dataset_id="finance_oltp_small",
        start_date="2024-03-01",
        end_date="2024-03-26",
        batch_size=10,
        scale_factor=0.02,
    )
    report = generate(config, spark, progress=None)
    accounts = read_table(spark, report, "accounts").drop("_file").cache()
    transactions = read_table(spark, report, "transactions").drop("_file").cache()
    yield accounts, transactions, config
    accounts.unpersist()
    transactions.unpersist()


def test_a_balance_moves_by_exactly_the_posted_transactions_between_two_snapshots(month):
    accounts, transactions, _ = month
    dates = sorted(r[0] for r in accounts.select("snapshot_date").distinct().collect())
    assert dates == [dt.date(2024, 2, 26)] + [dt.date(2024, 3, 4) + dt.timedelta(7 * i) for i in range(4)]
    posted = transactions.where("status = 'POSTED'")
    checked = moved = 0
    for first, second in zip(dates[1:], dates[2:], strict=False):  # the files hold every day after the first Monday
        before = accounts.where(F.col("snapshot_date") == first).select(
            "account_id", F.col("current_balance").alias("b1")
        )
        after = accounts.where(F.col("snapshot_date") == second).select(
            "account_id", F.col("current_balance").alias("b2")
        )
        flows = (
            posted.where((F.col("transaction_date") > first) & (F.col("transaction_date") <= second))
            .groupBy("account_id")
            .agg(F.sum("signed_amount").alias("flow"))
        )
        pairs = after.join(before, "account_id", "left").join(flows, "account_id", "left").fillna(0, ["b1", "flow"])
        assert pairs.where("b2 - b1 <> flow").count() == 0
        checked += pairs.count()
        moved += pairs.where("b2 <> b1").count()
    assert checked > 1000 and moved > 0.8 * checked  # balances move, every week


def test_one_sweep_per_open_account_each_monday_brings_it_to_the_snapshot_balance(month):
    accounts, transactions, _ = month
    sweeps = transactions.where("transaction_type = 'SWEEP'")
    assert {r[0].weekday() for r in sweeps.select("transaction_date").distinct().collect()} == {0}
    assert sweeps.where("channel <> 'SYSTEM' OR status <> 'POSTED' OR posted_date <> transaction_date").count() == 0
    assert sweeps.where("is_flagged_fraud OR (direction = 'CREDIT') <> (signed_amount >= 0)").count() == 0
    open_ = accounts.where("status <> 'CLOSED'").select("account_id", F.col("snapshot_date").alias("transaction_date"))
    mondays = open_.where(F.col("transaction_date") >= "2024-03-04")
    assert sweeps.groupBy("account_id", "transaction_date").count().where("count > 1").count() == 0
    assert sweeps.select("account_id", "transaction_date").exceptAll(mondays).count() == 0
    assert mondays.exceptAll(sweeps.select("account_id", "transaction_date")).count() == 0


def test_transactions_move_only_funded_accounts_and_closed_accounts_hold_nothing(month):
    accounts, transactions, _ = month
    assert accounts.where("status = 'CLOSED' AND current_balance <> 0").count() == 0
    assert accounts.where("status <> 'CLOSED' AND current_balance < 0").count() == 0
    flows = transactions.where("transaction_type <> 'SWEEP'")
    monday = F.date_sub(F.next_day(F.date_sub("transaction_date", 1), "Mon"), 7)  # the sweep before the period
    funded = accounts.where("current_balance > 0").select("account_id", F.col("snapshot_date").alias("funded_on"))
    unfunded = flows.withColumn("funded_on", monday).join(funded, ["account_id", "funded_on"], "left_anti")
    assert unfunded.count() == 0


def test_verify_judges_the_running_sum_and_fails_a_balance_that_does_not_add_up(month, spark):
    accounts, transactions, config = month
    plan = build_plan(config)
    card = verify_plan(spark, plan)
    (check,) = [c for c in card.checks if c.subject.startswith("accounts.current_balance = running sum")]
    assert check.ok and not check.detail  # judged (the Mondays of March, every day between them written)
    wrong = (F.col("account_id") == 7) & (F.col("snapshot_date") == "2024-03-18")
    one_off = F.when(wrong, F.col("current_balance") + 1).otherwise(F.col("current_balance"))
    tampered = accounts.withColumn("current_balance", one_off)
    frames = {"accounts": tampered, "transactions": transactions}
    (broken,) = _balances(plan, plan.dataset.table("accounts"), tampered, frames)
    assert not broken.ok and broken.detail == "2 rows differ"  # the week into the 18th, and the one after


def test_a_mondays_sweeps_are_the_same_in_daily_batches_with_late_arrivals(month, spark, tmp_path):
    """The sweep's sum is generated again from the week's rows, the same whatever the batches and arrivals."""
    _, transactions, _ = month
    config = small_config(
        tmp_path,
        dataset_id="finance_oltp_small",
        start_date="2024-03-01",
        end_date="2024-03-07",
        batch_size=1,
        scale_factor=0.02,
        late_arrival_rate=0.3,
        max_late_days=3,
    )
    report = generate(config, spark, progress=None)
    days = "transaction_date BETWEEN DATE'2024-03-01' AND DATE'2024-03-04'"  # late rows of February came too
    late = read_table(spark, report, "transactions").where(days)
    columns = ["transaction_id", "transaction_date", "account_id", "transaction_type", "signed_amount", "status"]
    on_time = transactions.where(days).select(*columns)
    assert late.where("transaction_type = 'SWEEP'").count() > 100
    assert late.where("arrival_date > transaction_date").count() > 0
    assert (
        late.select(*columns).exceptAll(on_time).count() == 0 and on_time.exceptAll(late.select(*columns)).count() == 0
    )
