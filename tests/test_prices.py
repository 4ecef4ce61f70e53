"""Baskets and prices (issue 21, item 5): price endings, unique product names, skewed delivery lags."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pyspark.sql import functions as F

from synthgen_spark import frames as job_frames
from synthgen_spark.catalog import parse_dataset
from synthgen_spark.errors import SpecError

from .helpers import MINI_DATASET, small_config

ENDINGS = {Decimal("0.99"), Decimal("0.49"), Decimal("0.95"), Decimal("0.00")}


def _frame(spark, tmp_path, dataset_id: str, table: str, day: str):
    return job_frames(small_config(tmp_path, dataset_id=dataset_id, start_date=day, end_date=day), spark)[table]


@pytest.mark.parametrize(
    ("dataset_id", "table", "price", "day"),
    [
        ("retail_oltp_small", "products", "price", "2026-06-01"),  # years of weekly repricing since the epoch
        ("retail_star_small", "dim_product", "list_price", "2024-02-01"),
    ],
)
def test_prices_end_in_99_mostly_and_product_names_are_unique(spark, tmp_path, dataset_id, table, price, day):
    frame = _frame(spark, tmp_path, dataset_id, table, day)
    cents = F.col(price) - F.floor(F.col(price))
    row = frame.agg(
        F.count("*"),
        F.countDistinct("product_name"),
        F.collect_set(cents.cast("decimal(3,2)")),
        F.avg((cents == Decimal("0.99")).cast("int")),
    ).collect()[0]
    rows, names, endings, share_99 = row
    assert rows > 100 and names == rows
    assert set(endings) <= ENDINGS and 0.4 < share_99 < 0.65, (endings, share_99)


def test_shipping_and_delivery_lags_are_skewed_to_the_next_days(spark, tmp_path):
    orders = _frame(spark, tmp_path, "ecommerce_star_small", "fact_orders", "2024-02-01")
    lags = orders.select(
        F.datediff("shipped_date", "order_date").alias("ship"),
        F.datediff("delivered_date", "shipped_date").alias("deliver"),
    )
    ship = {r[0]: r[1] for r in lags.where("ship IS NOT NULL").groupBy("ship").count().collect()}
    deliver = {r[0]: r[1] for r in lags.where("deliver IS NOT NULL").groupBy("deliver").count().collect()}
    assert max(ship, key=ship.get) == 1 and ship[1] > 2 * ship[2]
    assert set(deliver) <= set(range(1, 7)) and deliver[2] > 3 * deliver[6]


@pytest.mark.parametrize("endings", ["[]", "[1.5]", "0.99", "[0.99, x]"])
def test_invalid_endings_fail_in_one_line(endings):
    text = MINI_DATASET.replace(
        "    columns:\n",
        f"    columns:\n      - {{name: p, kind: uniform, min: 1, max: 9, type: double, endings: {endings}}}\n",
        1,
    )
    with pytest.raises(SpecError, match=r"^mini.yaml: .*field 'endings'") as caught:
        parse_dataset(text, "mini.yaml")
    assert "\n" not in str(caught.value)


def test_baskets_are_mostly_one_item_and_the_orders_add_up_their_items(spark, tmp_path):
    orders = _frame(spark, tmp_path, "retail_oltp_small", "orders", "2024-02-02")
    items = _frame(spark, tmp_path, "retail_oltp_small", "order_items", "2024-02-02")
    sums = items.groupBy("order_id").agg(
        F.count("*").alias("lines"),
        F.sum("line_total").alias("total"),
        F.max("line_number").alias("last_line"),
    )
    joined = orders.join(sums, "order_id", "left")
    wrong = joined.where(
        F.col("lines").isNull()
        | (F.col("lines") != F.col("item_count"))
        | (F.col("last_line") != F.col("lines"))
        | (F.col("total") != F.col("order_total"))
    )
    assert wrong.count() == 0
    sizes = {r[0]: r[1] for r in orders.groupBy("item_count").count().collect()}
    assert max(sizes, key=sizes.get) == 1 and 0.3 < sizes[1] / sum(sizes.values()) < 0.5, sizes
    assert max(sizes) >= 6 and min(sizes) == 1


@pytest.mark.parametrize("shape", ["[1, 1]", "[3]", "[1, 0, 4]", "x"])
def test_invalid_children_shapes_fail_in_one_line(shape):
    text = MINI_DATASET.replace("    rows: 5\n", f"    rows: 5\n    parent: events\n    children_shape: {shape}\n", 1)
    with pytest.raises(SpecError, match=r"^mini.yaml: .*field 'children_shape'") as caught:
        parse_dataset(text, "mini.yaml")
    assert "\n" not in str(caught.value)
