"""Per-entity propensity (issue 21, item 1): the class layout, exact draws, and the retail shape it gives."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest
from pyspark.sql import functions as F

from synthgen_spark.api import frames
from synthgen_spark.catalog import load_dataset, parse_dataset
from synthgen_spark.errors import SpecError

from .helpers import MINI_DATASET, small_config

CUSTOMERS = (1, 4, 15, 35, 45), (30, 10, 3, 1.5, 0.03)

SHOPS = textwrap.dedent(
    """
    dataset_id: shops
    epoch: 2024-01-01
    tables:
      - name: shoppers
        kind: snapshot
        rows: 1050          # 10 full blocks of 100 and a partial one of 50
        scaled: false
        propensity: {shares: [1, 4, 15, 35, 45], weights: [30, 10, 3, 1.5, 0.03]}
        primary_key: shopper_id
        columns:
          - {name: shopper_id, kind: sequence}
          - {name: activity, kind: propensity_class}
          - {name: snapshot_date, kind: generation_date}
      - name: visits
        kind: incremental
        rows: 100000
        primary_key: visit_id
        primary_date_column: visit_date
        columns:
          - {name: visit_id, kind: sequence}
          - {name: visit_date, kind: generation_date}
          - {name: shopper_id, kind: foreign_key, references: shoppers.shopper_id}
          - {name: activity, kind: lookup, references: shoppers.activity, key: shopper_id, type: int}
    """
)


def test_the_shipped_profiles_give_the_documented_top_ten_percent_share():
    dataset = load_dataset("retail_oltp_small")
    customers, products = dataset.table("customers").propensity, dataset.table("products").propensity
    assert (customers.shares, customers.weights) == CUSTOMERS
    assert customers.top_share() == pytest.approx(0.503, abs=0.001)
    assert products.top_share() == pytest.approx(0.518, abs=0.001)
    assert customers.mean_weight == pytest.approx(1.6885)


PROPENSITY = "    rows: 10\n"
BROKEN = [
    ("propensity: {shares: [50, 40], weights: [2, 1]}", "field 'shares': must be entities per class in each 100"),
    ("propensity: {shares: [100], weights: [1]}", "field 'shares'"),
    ("propensity: {shares: [50, 50.0], weights: [2, 1]}", "field 'shares'"),
    ("propensity: {shares: [50, 50], weights: [2]}", "field 'weights': must be one weight per class"),
    ("propensity: {shares: [50, 50], weights: [2, -1]}", "field 'weights'"),
    ("propensity: {shares: [100, 0], weights: [0, 5]}", "some class with a share and a weight > 0"),
    ("propensity: {shares: [50, 50]}", "field 'weights': is required"),
    ("propensity: {shares: [50, 50], weights: [2, 1], top: 3}", "field 'top': unknown key"),
    ("propensity: [50, 50]", "field 'propensity': only snapshot tables have one"),
]


@pytest.mark.parametrize(("line", "fragment"), BROKEN)
def test_invalid_propensity_is_one_line_naming_the_table_and_field(line, fragment):
    text = MINI_DATASET.replace(PROPENSITY, f"{PROPENSITY}    {line}\n", 1)
    with pytest.raises(SpecError) as caught:
        parse_dataset(text, "mini.yaml")
    message = str(caught.value)
    assert fragment in message and "table 'things'" in message
    assert message.startswith("mini.yaml") and "\n" not in message


def test_propensity_only_on_snapshot_tables_and_a_class_column_needs_one():
    incremental = MINI_DATASET.replace(
        "    rows: 5\n", "    rows: 5\n    propensity: {shares: [50, 50], weights: [2, 1]}\n"
    )
    with pytest.raises(SpecError, match="table 'events': field 'propensity': only snapshot tables"):
        parse_dataset(incremental, "mini.yaml")
    column = "      - {name: thing_id, kind: sequence}\n"
    orphan = MINI_DATASET.replace(column, column + "      - {name: activity, kind: propensity_class}\n", 1)
    with pytest.raises(SpecError, match="column 'activity': field 'kind': a propensity_class column needs"):
        parse_dataset(orphan, "mini.yaml")


@pytest.fixture(scope="module")
def shops(spark, tmp_path_factory):
    """Two days of 100,000 visits drawn by propensity from 1,050 shoppers (no lifecycle: no churned candidates)."""
    root = tmp_path_factory.mktemp("shops")
    (root / "shops.yaml").write_text(SHOPS)
    config = small_config(
        root, dataset_id="shops", dataset_path=str(root / "shops.yaml"), scale_factor=1.0, end_date="2024-02-02"
    )
    tables = frames(config, spark)
    shoppers = tables["shoppers"].where(F.col("snapshot_date") == "2024-02-02").select("shopper_id", "activity")
    visits = tables["visits"].groupBy("shopper_id", "activity").count()
    return shoppers.toPandas(), visits.toPandas()


def test_every_full_block_holds_exactly_its_shares_of_each_class_at_no_fixed_offset(shops):
    shoppers, _ = shops
    assert sorted(shoppers.shopper_id) == list(range(1, 1051))
    full = shoppers[shoppers.shopper_id <= 1000].assign(block=lambda d: (d.shopper_id - 1) // 100)
    counts = full.groupby(["block", "activity"]).size().unstack(fill_value=0)
    assert (counts.to_numpy() == list(CUSTOMERS[0])).all()
    assert set(shoppers.activity) == {1, 2, 3, 4, 5}
    top = full[full.activity == 1]
    assert top.shopper_id.mod(100).nunique() > 5  # the top entity of each block sits at its own offset
    assert top.shopper_id.mod(10).nunique() > 3


def test_keys_are_drawn_in_proportion_to_their_class_weight_the_partial_block_included(shops):
    shoppers, visits = shops
    total = visits["count"].sum()
    assert total == 200_000 and visits.shopper_id.between(1, 1050).all()
    joined = shoppers.merge(visits, on="shopper_id", how="left", suffixes=("", "_looked_up")).fillna({"count": 0})
    drawn = joined[joined["count"] > 0]
    assert (drawn.activity_looked_up == drawn.activity).all()  # a lookup of the class agrees with the snapshot
    weight = dict(enumerate(CUSTOMERS[1], start=1))
    joined["weight"] = joined.activity.map(weight)
    mass = joined.weight.sum()
    for part in (joined[joined.shopper_id <= 1000], joined[joined.shopper_id > 1000]):  # full blocks, partial block
        for number, group in part.groupby("activity"):
            expected = total * group.weight.sum() / mass
            observed = group["count"].sum()
            assert abs(observed - expected) < 4 * expected**0.5 + 0.01 * expected, (number, observed, expected)
    top_tenth = joined["count"].nlargest(105).sum() / total
    assert top_tenth == pytest.approx(0.503, abs=0.01)


@pytest.fixture(scope="module")
def retail(spark, tmp_path_factory):
    """retail_oltp_small in December 2024 at scale 0.05 (orders per customer do not depend on the scale).

    Small aggregates come back to pandas one by one: no Spark join of two generated frames' plans.
    """
    config = small_config(
        tmp_path_factory.mktemp("retail"),
        start_date="2024-12-01",
        end_date="2024-12-31",
        batch_size=31,
        scale_factor=0.05,
        seed_value=42,
    )
    tables = frames(config, spark)
    customers = tables["customers"].where((F.col("snapshot_date") == "2024-12-31") & (F.col("status") == "active"))
    customers = customers.select("customer_id", "loyalty_tier", "signup_date").toPandas()
    orders = tables["orders"].groupBy("customer_id").count().toPandas()
    units = tables["order_items"].groupBy("product_id").agg(F.sum("quantity").alias("units")).toPandas()
    per_customer = customers.merge(orders, on="customer_id", how="left").fillna({"count": 0})
    return per_customer, units


def _top_tenth(counts) -> float:
    return counts.nlargest(max(1, len(counts) // 10)).sum() / counts.sum()


def test_the_top_tenth_of_customers_places_40_to_60_percent_of_orders(retail):
    per_customer, _ = retail
    assert len(per_customer) > 500
    assert 0.40 <= _top_tenth(per_customer["count"]) <= 0.60
    ordering = per_customer["count"][per_customer["count"] > 0]
    assert 0.40 <= _top_tenth(ordering) <= 0.60


def test_the_top_tenth_of_products_sells_at_least_40_percent_of_units(retail):
    _, units = retail
    assert len(units) > 50 and _top_tenth(units.units) >= 0.40


def test_a_realistic_share_of_active_customers_places_no_order_in_a_month(retail):
    per_customer, _ = retail
    all_month = per_customer[per_customer.signup_date < dt.date(2024, 12, 1)]  # active on every day of December
    assert 0.20 <= (all_month["count"] == 0).mean() <= 0.50


def test_the_order_rate_increases_with_the_loyalty_tier(retail):
    per_customer, _ = retail
    rates = per_customer.groupby("loyalty_tier")["count"].mean()
    tiers = ["Bronze", "Silver", "Gold", "Platinum"]
    assert list(rates[tiers]) == sorted(rates[tiers]) and rates["Platinum"] > 2 * rates["Bronze"]
