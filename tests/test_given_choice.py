"""Columns that belong together are drawn together: a choice ``given`` another column (issue 21, item 6)."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from synthgen_spark import frames as job_frames
from synthgen_spark.catalog import parse_dataset
from synthgen_spark.errors import SpecError
from synthgen_spark.planner import build_plan
from synthgen_spark.verify import _given_choices

from .helpers import MINI_DATASET, small_config

# (dataset, table, column, given, forbidden (given value, value) pairs, a pair that must occur)
PAIRS = [
    ("retail_star_small", "fact_sales", "payment_method", "sales_channel", [("Online", "cash")], ("In-Store", "cash")),
    (
        "ecommerce_star_small",
        "dim_session",
        "browser",
        "operating_system",
        [("Windows", "Safari"), ("Android", "Safari"), ("iOS", "Edge")],
        ("macOS", "Safari"),
    ),
    (
        "finance_oltp_small",
        "transactions",
        "channel",
        "transaction_type",
        [("CARD_PURCHASE", "ATM"), ("FEE", "MOBILE"), ("ATM_WITHDRAWAL", "POS")],
        ("ATM_WITHDRAWAL", "ATM"),
    ),
]


@pytest.fixture(scope="module")
def frames(spark, tmp_path_factory):
    """One day of each table above (cached), by dataset."""
    built = {}
    for dataset_id, table, *_ in PAIRS:
        config = small_config(tmp_path_factory.mktemp(dataset_id), dataset_id=dataset_id, end_date="2024-02-01")
        spec = next(t for t in build_plan(config).dataset.tables if t.name == table)
        built[dataset_id] = (spec, job_frames(config, spark)[table].cache())
    return built


@pytest.mark.parametrize(
    ("dataset_id", "table", "column", "given", "forbidden", "seen"), PAIRS, ids=[p[2] for p in PAIRS]
)
def test_a_conditional_choice_never_takes_a_value_its_case_excludes(
    frames, dataset_id, table, column, given, forbidden, seen
):
    spec, frame = frames[dataset_id]
    pairs = {(r[0], r[1]) for r in frame.select(given, column).distinct().collect()}
    assert not pairs & set(forbidden) and seen in pairs, sorted(pairs)
    checks = _given_choices(spec, frame)
    assert f"{table}.{column} given {given}" in {c.subject for c in checks} and all(c.ok for c in checks), checks


def test_verify_flags_a_pair_the_case_excludes(frames, spark):
    spec, frame = frames["retail_star_small"]
    broken = frame.withColumn("payment_method", F.when(F.col("sales_channel") == "Online", "cash").otherwise("cash"))
    (check,) = _given_choices(spec, broken)
    assert not check.ok and "cash when sales_channel = Online" in check.detail


@pytest.mark.parametrize(
    ("column", "fragment"),
    [
        ("{name: tier, kind: choice, values: [a, b], given: thing_id}", "field 'cases': is missing"),
        ("{name: tier, kind: choice, values: [a, b], cases: {x: [1, 0]}}", "field 'given': is missing"),
        ("{name: tier, kind: choice, values: [a, b], given: nothing, cases: {x: [1, 0]}}", "field 'given'"),
        ("{name: tier, kind: choice, values: [a, b], given: thing_id, cases: {x: [1]}}", "case 'x' must be 2 numbers"),
        ("{name: tier, kind: choice, values: [a, b], given: thing_id, cases: {x: [0, 0]}}", "field 'cases'"),
        ("{name: tier, kind: choice, values: [a, b], given: thing_id, cases: [1, 2]}", "field 'cases'"),
    ],
)
def test_invalid_conditional_choices_fail_in_one_line(column, fragment):
    text = MINI_DATASET.replace("    columns:\n", f"    columns:\n      - {column}\n", 1)
    with pytest.raises(SpecError) as caught:
        parse_dataset(text, "mini.yaml")
    message = str(caught.value)
    assert message.startswith("mini.yaml") and fragment in message and "\n" not in message, message


def test_a_boolean_pool_never_gets_an_integer_pools_array_literal():
    from synthgen_spark.generators.categorical import array_literal

    ints, booleans = array_literal((1, 0)), array_literal((True, False))
    assert "true" in booleans.sql.lower() and "true" not in ints.sql.lower()
