"""The e-commerce clickstream agrees with itself and with the orders (issue 21, defect 4)."""

from __future__ import annotations

from importlib import resources

import pytest
from pyspark.sql import Window
from pyspark.sql import functions as F

from synthgen_spark import frames as job_frames
from synthgen_spark.catalog import parse_dataset
from synthgen_spark.errors import SpecError

from .helpers import small_config


@pytest.fixture(scope="module")
def shop(spark, tmp_path_factory):
    """Black Friday 2024 of ecommerce_star_small at 2 % volume: (events, orders) frames, cached."""
    config = small_config(
        tmp_path_factory.mktemp("clickstream"),
        dataset_id="ecommerce_star_small",
        start_date="2024-11-29",
        end_date="2024-11-29",
        scale_factor=0.02,
    )
    by_table = job_frames(config, spark)
    return tuple(by_table[name].cache() for name in ("fact_web_events", "fact_orders"))


def _earlier_adds(events, event_type: str):
    """The ``event_type`` events and whether an add_to_cart of their product came earlier in their session."""
    adds = events.where("event_type = 'add_to_cart'").select(
        "event_date",
        "session_key",
        "product_key",
        F.col("event_ts").alias("add_ts"),
        F.col("event_seq").alias("add_seq"),
    )
    rows = events.where(F.col("event_type") == event_type)
    joined = rows.join(adds, ["event_date", "session_key", "product_key"], "left")
    earlier = (F.col("add_ts") < F.col("event_ts")) & (F.col("add_seq") < F.col("event_seq"))
    return joined.groupBy("event_id").agg(F.max(F.coalesce(earlier, F.lit(False))).alias("has_add"))


@pytest.mark.parametrize("event_type", ["remove_from_cart", "purchase"])
def test_every_removal_and_purchase_has_an_earlier_add_of_its_product_in_the_session(shop, event_type):
    events, _ = shop
    counts = _earlier_adds(events, event_type).agg(F.count("*").alias("n"), F.sum((~F.col("has_add")).cast("int")))
    total, missing = counts.collect()[0]
    assert total > 20 and missing == 0, (event_type, total, missing)


def test_every_order_has_the_purchase_event_of_its_product_at_its_time_in_its_session(shop):
    events, orders = shop
    purchases = events.where("event_type = 'purchase'").select(
        F.col("event_date").alias("order_date"), "session_key", "product_key", F.col("event_ts").alias("order_ts")
    )
    keys = ["order_date", "session_key", "product_key", "order_ts"]
    matched = orders.join(purchases.withColumn("hit", F.lit(1)), keys, "left")
    total, unmatched = matched.agg(F.count("*"), F.sum(F.col("hit").isNull().cast("int"))).collect()[0]
    assert total > 50 and unmatched == 0
    assert purchases.count() == total  # one purchase event per order: every purchase is an order


def test_a_session_steps_forward_in_time_within_its_day_and_mixes_event_types(shop):
    events, _ = shop
    by_session = Window.partitionBy("event_date", "session_key").orderBy("event_seq")
    steps = events.select(
        "event_seq",
        "event_ts",
        "event_date",
        F.lag("event_ts").over(by_session).alias("previous_ts"),
        F.row_number().over(by_session).alias("position"),
    )
    bad = steps.where(
        (F.col("position") != F.col("event_seq"))
        | (F.col("previous_ts") >= F.col("event_ts"))
        | (F.to_date("event_ts") != F.col("event_date"))
    )
    assert bad.count() == 0
    shares = {r["event_type"]: r["count"] for r in events.groupBy("event_type").count().collect()}
    assert set(shares) == {
        "page_view", "product_view", "search", "add_to_cart", "remove_from_cart", "begin_checkout", "purchase"
    }  # fmt: skip
    assert shares["page_view"] > shares["add_to_cart"] > shares["remove_from_cart"]


ECOMMERCE = (resources.files("synthgen_spark") / "data/datasets/ecommerce_star_small.yaml").read_text()
VISIT = "{name: session_key, kind: visit, references: dim_session.session_key, orders: fact_orders}"
EVENT = "values: [page_view, product_view, search, add_to_cart, remove_from_cart, begin_checkout]"


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        (VISIT, VISIT.replace("dim_session.session_key", "dim_customer.customer_key"), "field 'references'"),
        (VISIT, VISIT.replace("fact_orders}", "dim_date}"), "field 'orders': is not one"),
        (EVENT, EVENT.replace("search", "purchase"), "field 'values': names purchase"),
        ("kind: visit_step, key: session_key", "kind: visit_step, key: event_id", "field 'key': is not one"),
        ("event: event_type, product:", "event: search_term, product:", "field 'event': is not one"),
        ("gap_seconds: 45", "gap_seconds: 0", "field 'gap_seconds'"),
        ("events: fact_web_events}", "events: dim_session}", "field 'events': is not one"),
    ],
)
def test_invalid_visit_columns_fail_in_one_line_before_spark(old, new, fragment):
    assert old in ECOMMERCE
    with pytest.raises(SpecError) as caught:
        parse_dataset(ECOMMERCE.replace(old, new, 1), "shop.yaml")
    message = str(caught.value)
    assert message.startswith("shop.yaml") and fragment in message and "\n" not in message, message


def test_an_order_time_needs_the_events_time():
    text = ECOMMERCE.replace("kind: visit_time\n        key: session_key\n", "kind: timestamp\n", 1)
    text = text.replace("        gap_seconds: 45\n", "", 1)
    with pytest.raises(SpecError, match="field 'key': has none"):
        parse_dataset(text, "shop.yaml")
