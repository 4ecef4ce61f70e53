"""Entities over time: growth and churn in closed form, foreign keys to active parents, drift."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from pyspark.sql import Window
from pyspark.sql import functions as F

from synthgen_spark.api import generate
from synthgen_spark.calendar import Calendar
from synthgen_spark.catalog import load_dataset, parse_dataset
from synthgen_spark.config import JobConfig
from synthgen_spark.engine import build_batch_frame
from synthgen_spark.planner import build_plan

from .helpers import TABLES, frames_by_table, read_table, small_config


@pytest.fixture(scope="module")
def season(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("season")
    config = small_config(root, start_date="2024-10-01", end_date="2025-01-28", batch_size=60, scale_factor=0.01)
    report = generate(config, spark, progress=None)
    tables = {
        t: read_table(spark, report, t).drop("_file").cache()
        for t in ("customers", "products", "orders", "order_items")
    }
    yield config, tables
    for frame in tables.values():
        frame.unpersist()


def test_snapshot_populations_equal_the_closed_form(season):
    config, t = season
    calendar = Calendar(load_dataset("retail_oltp_small"), config)
    customers = load_dataset("retail_oltp_small").table("customers")
    counts = {r["snapshot_date"]: r["count"] for r in t["customers"].groupBy("snapshot_date").count().collect()}
    assert len(counts) == 120
    for day, count in counts.items():
        assert count == calendar.population(customers, day) == 100 + (day - dt.date(2020, 1, 1)).days * 2 // 10
    assert (
        t["customers"]
        .groupBy("snapshot_date")
        .agg(F.max("customer_id").alias("m"), F.count("*").alias("n"))
        .where("m != n")
        .count()
        == 0
    )


def test_entities_have_signup_and_churn_dates_and_a_status(season):
    _, t = season
    c = t["customers"]
    assert c.where("signup_date > snapshot_date").count() == 0
    assert c.where("churn_date is not null and (churn_date <= signup_date or churn_date > snapshot_date)").count() == 0
    assert c.where("(status = 'churned') != (churn_date is not null)").count() == 0
    assert c.where("status = 'churned'").count() > 0 and c.where("signup_date >= '2024-10-01'").count() > 0
    first_seen = c.groupBy("customer_id").agg(F.min("snapshot_date").alias("first"), F.first("signup_date").alias("s"))
    assert first_seen.where("first > '2024-10-01' and first != s").count() == 0  # new customers appear on signup day
    assert t["products"].where("discontinued_date is not null and is_active").count() == 0


def test_orders_only_reference_customers_active_on_the_order_date(season):
    _, t = season
    orders = t["orders"].select("order_id", "customer_id", F.col("order_date").alias("snapshot_date"))
    joined = orders.join(t["customers"], ["customer_id", "snapshot_date"], "left")
    assert joined.where("signup_date is null").count() == 0  # every key joins the snapshot of its date
    assert joined.where("status != 'active' or signup_date > snapshot_date").count() == 0


def test_order_items_only_reference_products_live_on_the_order_date(season):
    _, t = season
    items = t["order_items"].withColumn("snapshot_date", F.date_trunc("week", "order_date").cast("date"))
    joined = items.join(t["products"], ["product_id", "snapshot_date"], "left")
    assert joined.where("launch_date is null").count() == 0
    assert joined.where("launch_date > order_date").count() == 0
    assert joined.where("discontinued_date is not null and discontinued_date <= order_date").count() == 0
    # a product discontinued later in the week is still in that Monday's snapshot: check with the full lifecycle
    later = (
        t["products"]
        .where("discontinued_date is not null")
        .select("product_id", F.col("discontinued_date").alias("gone"))
    )
    assert items.join(later.distinct(), "product_id").where("gone <= order_date").count() == 0


DRIFT = """
dataset_id: drifting
epoch: 2024-01-01
tables:
  - name: readings
    kind: incremental
    rows: 4000
    primary_key: reading_id
    primary_date_column: reading_date
    columns:
      - {name: reading_id, kind: sequence}
      - {name: reading_date, kind: generation_date}
      - {name: level, kind: normal, mean: 100, stddev: 10, drift: true}
      - {name: colour, kind: choice, values: [red, blue], weights: [50, 50], drift: true, drift_toward: blue}
"""


def monthly(spark, drift: bool):
    dataset = parse_dataset(DRIFT, "drifting.yaml")
    config = JobConfig.from_mapping(
        {
            "dataset_id": "drifting",
            "start_date": "2024-01-01",
            "end_date": "2024-03-31",
            "batch_size": 91,
            "enable_data_drift": drift,
            "drift_percentage": 5,
            "enable_seasonal_patterns": False,
        }
    )
    frame = build_batch_frame(spark, config, dataset, list(build_plan(config, dataset).table_days))
    stats = frame.groupBy(F.month("reading_date").alias("m")).agg(
        F.mean("level").alias("mean"), F.mean(F.when(F.col("colour") == "blue", 1.0).otherwise(0.0)).alias("blue")
    )
    return {r["m"]: (r["mean"], r["blue"]) for r in stats.collect()}


def test_drift_moves_the_mean_by_the_formula_and_off_changes_nothing(spark):
    on, off = monthly(spark, True), monthly(spark, False)
    for month, days in ((1, range(0, 31)), (2, range(31, 60)), (3, range(60, 91))):
        factors = [1.05 ** (d / 30) for d in days]
        expected = 100 * sum(factors) / len(factors)
        assert abs(on[month][0] - expected) / expected < 0.01
        assert abs(off[month][0] - 100) < 0.5
        blue = sum(f / (1 + f) for f in factors) / len(factors)
        assert abs(on[month][1] - blue) < 0.01
    assert on[3][0] > on[2][0] > on[1][0]


def test_one_quarter_in_one_run_equals_three_monthly_runs(spark, tmp_path):
    common = {"enable_data_drift": True, "drift_percentage": 3, "batch_size": 31, "scale_factor": 0.005}
    whole = frames_by_table(spark, small_config(tmp_path, start_date="2024-01-01", end_date="2024-03-31", **common))
    months = [
        frames_by_table(spark, small_config(tmp_path, start_date=a, end_date=b, **common))
        for a, b in (("2024-01-01", "2024-01-31"), ("2024-02-01", "2024-02-29"), ("2024-03-01", "2024-03-31"))
    ]
    for table in TABLES:
        quarter = whole[table].collect()
        by_month = months[0][table].union(months[1][table]).union(months[2][table]).collect()
        # each monthly run also writes the snapshot in force on its first day: the same rows again
        assert len(quarter) == len(set(quarter)) > 0
        assert set(quarter) == set(by_month), table


def test_the_active_count_of_the_plan_is_what_snapshots_hold_and_keys_pick_uniformly_among_them(spark):
    """calendar.active (follows_population, the report) is exact; a foreign key picks every active entity alike.

    The customers' propensity is taken off, so that the draw is uniform (test_propensity checks the weighted one).
    """
    day = dt.date(2024, 2, 5)
    config = JobConfig.from_mapping(
        {"dataset_id": "retail_oltp_small", "start_date": day.isoformat(), "end_date": day.isoformat()}
    )
    plan = build_plan(config)
    uniform = dataclasses.replace(
        plan.dataset, tables=tuple(dataclasses.replace(t, propensity=None) for t in plan.dataset.tables)
    )
    days = [td for td in plan.table_days if td.table.name in ("customers", "products", "orders") and td.date == day]
    frames = {td.table.name: build_batch_frame(spark, config, uniform, [td]) for td in days}
    for table, status in (("customers", "status = 'active'"), ("products", "is_active")):
        assert frames[table].where(status).count() == plan.calendar.active(plan.dataset.table(table), day)
    active = (
        frames["customers"]
        .where("status = 'active'")
        .select("customer_id", (F.row_number().over(Window.orderBy("customer_id")) - 1).alias("rank"))
    )
    picks = frames["orders"].select("customer_id").join(active, "customer_id", "left")
    summary = picks.agg(F.count("*").alias("n"), F.count("rank").alias("active"), F.avg("rank").alias("mean")).first()
    assert summary["n"] > 5000 and summary["active"] == summary["n"]  # every key active on the order's day
    count = plan.calendar.active(plan.dataset.table("customers"), day)
    assert abs(summary["mean"] / (count - 1) - 0.5) < 0.02  # uniform over the active: the mean rank is the middle
