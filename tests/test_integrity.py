"""Data integrity over a 30-day run: keys unique and joining, totals adding up, dates in order."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from synthgen_spark.api import generate
from synthgen_spark.calendar import Calendar, round_half_up, volume_noise
from synthgen_spark.catalog import load_dataset

from .helpers import read_table, small_config


@pytest.fixture(scope="module")
def month(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("month")
    config = small_config(root, start_date="2024-03-01", end_date="2024-03-30", batch_size=10, scale_factor=0.02)
    report = generate(config, spark, progress=None)
    tables = {
        name: read_table(spark, report, name).drop("_file").cache()
        for name in ("customers", "products", "orders", "order_items")
    }
    yield config, report, tables
    for frame in tables.values():
        frame.unpersist()


def test_ids_are_unique_over_the_whole_run(month):
    _, _, t = month
    for table, key in (("orders", "order_id"), ("order_items", "order_item_id")):
        assert t[table].groupBy(key).count().where("count > 1").limit(1).count() == 0


def test_every_order_item_belongs_to_an_order_of_the_same_day(month):
    _, _, t = month
    orphans = t["order_items"].join(t["orders"], ["order_id", "order_date"], "left_anti")
    assert orphans.limit(1).count() == 0
    childless = t["orders"].join(t["order_items"], ["order_id"], "left_anti")
    assert childless.limit(1).count() == 0


def test_foreign_keys_exist_in_the_snapshot_in_force(month):
    _, _, t = month
    customers = t["customers"].select("customer_id", F.col("snapshot_date").alias("order_date"))
    assert t["orders"].join(customers, ["customer_id", "order_date"], "left_anti").limit(1).count() == 0
    products = t["products"]
    in_force = t["order_items"].withColumn("snapshot_date", F.date_trunc("week", "order_date").cast("date"))
    assert in_force.join(products, ["product_id", "snapshot_date"], "left_anti").limit(1).count() == 0


def test_unit_price_is_the_product_price_and_cost_is_below_price(month):
    _, _, t = month
    items = t["order_items"].withColumn("snapshot_date", F.date_trunc("week", "order_date").cast("date"))
    joined = items.join(t["products"], ["product_id", "snapshot_date"])
    # the price in force on the order date: the Monday snapshot's, unless a repricing came since (test_change_feed)
    monday, products = F.col("snapshot_date"), load_dataset("retail_oltp_small").table("products")
    repriced = joined.where(F.col("unit_price") != F.col("price"))
    assert repriced.where(F.datediff("order_date", monday) == 0).limit(1).count() == 0
    assert repriced.count() < 0.1 * joined.count() and products.changes
    assert t["products"].where("cost >= price or cost <= 0").limit(1).count() == 0


def test_order_totals_equal_the_sum_of_their_items(month):
    _, _, t = month
    sums = t["order_items"].groupBy("order_id").agg(F.sum("line_total").alias("items_total"), F.count("*").alias("n"))
    joined = t["orders"].join(sums, "order_id")
    assert joined.where("order_total != items_total or item_count != n").limit(1).count() == 0
    assert t["order_items"].where("line_total != quantity * unit_price").limit(1).count() == 0
    counts = {r["item_count"] for r in t["orders"].select("item_count").distinct().collect()}
    assert counts <= set(range(1, 8)) and len(counts) >= 3  # children_shape: 1 to 7 items


def test_date_columns_are_ordered_and_consistent_with_status(month):
    _, _, t = month
    orders = t["orders"]
    assert orders.where("shipped_date < order_date or delivered_date < shipped_date").limit(1).count() == 0
    assert orders.where("status in ('SHIPPED', 'DELIVERED') and shipped_date is null").limit(1).count() == 0
    assert orders.where("status not in ('SHIPPED', 'DELIVERED') and shipped_date is not null").limit(1).count() == 0
    assert orders.where("(status = 'DELIVERED') != (delivered_date is not null)").limit(1).count() == 0
    assert orders.where("to_date(order_ts) != order_date").limit(1).count() == 0
    customers = t["customers"]
    assert customers.where("birth_date >= signup_date or signup_date > snapshot_date").limit(1).count() == 0
    assert customers.where("months_between(signup_date, birth_date) < 12 * 18").limit(1).count() == 0


def test_weekday_counts_follow_the_multipliers_and_the_report(month):
    config, report, t = month
    counts = {r["order_date"]: r["count"] for r in t["orders"].groupBy("order_date").count().collect()}
    calendar = Calendar(load_dataset("retail_oltp_small"), config)
    orders = load_dataset("retail_oltp_small").table("orders")
    march = orders.month_multipliers[2]  # no holiday in March 2024 (US)
    for day, rows in counts.items():
        noise = volume_noise(config.seed_value, "orders", day, orders.volume_noise)
        expected = round_half_up(10000 * 0.02 * calendar.weekday_multipliers[day.weekday()] * march * noise)
        assert rows == expected == calendar.rows(orders, day)
    assert sum(counts.values()) == report.rows_by_table()["orders"]


def test_seasonal_patterns_off_gives_base_rows_every_day(spark, tmp_path):
    config = small_config(tmp_path, end_date="2024-02-07", enable_seasonal_patterns=False, batch_size=7)
    report = generate(config, spark, progress=None)
    counts = read_table(spark, report, "orders").groupBy("order_date").count().collect()
    assert {r["count"] for r in counts} == {500} and len(counts) == 7


def test_names_emails_and_places_look_real(month):
    _, _, t = month
    c = t["customers"]
    assert c.where("email not rlike '^[a-z]+\\\\.[a-z]+[0-9]+@[a-z]+\\\\.[a-z]+$'").limit(1).count() == 0
    assert (
        c.where("lower(email) not like concat(lower(regexp_replace(first_name, '[^A-Za-z]', '')), '.%')")
        .limit(1)
        .count()
        == 0
    )
    assert c.where("length(state) != 2 or postcode not rlike '^[0-9]{5}$'").limit(1).count() == 0
    assert c.select("first_name").distinct().count() > 50
