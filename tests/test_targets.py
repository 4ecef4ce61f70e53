"""Declared shape targets (issue 21, item 7): parsed with one-line errors, judged by ``synthgen verify``."""

from __future__ import annotations

import pytest

from synthgen_spark.catalog import ShapeTarget, load_dataset, parse_dataset
from synthgen_spark.errors import SpecError
from synthgen_spark.verify import declared_targets, top_share

from .helpers import MINI_DATASET

EVENTS = "    primary_date_column: event_date\n"
ANCHOR = MINI_DATASET.index(EVENTS) + len(EVENTS)


def _with_targets(lines: str) -> str:
    return MINI_DATASET[:ANCHOR] + "    targets:\n" + lines + MINI_DATASET[ANCHOR:]


def test_a_top_share_and_a_share_parse_into_targets():
    text = _with_targets(
        "      - {top_share: thing_id, top: 0.1, between: [0.4, 0.6]}\n"
        '      - {share: "qty = 1", between: [0.2, 0.5], min_rows: 500}\n'
    )
    events = parse_dataset(text, "mini.yaml").table("events")
    assert events.targets == (
        ShapeTarget((0.4, 0.6), top_share="thing_id", top=0.1),
        ShapeTarget((0.2, 0.5), share="qty = 1", min_rows=500),
    )
    assert [t.subject for t in events.targets] == ["top 10% of thing_id", "share where qty = 1"]


BROKEN = [
    ("      - {top_share: thing_id, top: 0.1}\n", "field 'between': is required"),
    ("      - {top_share: thing_id, top: 0.1, between: [0.6, 0.4]}\n", "field 'between': must be a range of shares"),
    ("      - {top_share: thing_id, top: 0.1, between: [0, 1.5]}\n", "field 'between'"),
    ("      - {top_share: thing_id, top: 1, between: [0, 1]}\n", "field 'top': must be a fraction"),
    ("      - {top_share: thing_id, between: [0, 1]}\n", "field 'top'"),
    ("      - {top_share: nothing, top: 0.1, between: [0, 1]}\n", "field 'top_share': is not a written column"),
    (
        "      - {top_share: thing_id, top: 0.1, weight: event_date, between: [0, 1]}\n",
        "field 'weight': is not a count",
    ),
    ("      - {share: '', between: [0, 1]}\n", "field 'share': must be a predicate"),
    ('      - {share: "qty = 1", top: 0.1, between: [0, 1]}\n', "field 'top': belongs to top_share"),
    ('      - {share: "qty = 1", top_share: thing_id, between: [0, 1]}\n', "must measure one thing"),
    ('      - {share: "qty = 1", between: [0, 1], min_rows: 0}\n', "field 'min_rows': must count rows"),
    ('      - {share: "qty = 1", between: [0, 1], bins: 3}\n', "field 'bins': unknown key"),
    ("      {share: x}\n", "field 'targets': must be a list"),
]


@pytest.mark.parametrize(("lines", "fragment"), BROKEN)
def test_an_invalid_target_is_one_line_naming_the_table_and_field(lines, fragment):
    with pytest.raises(SpecError) as caught:
        parse_dataset(_with_targets(lines), "mini.yaml")
    message = str(caught.value)
    assert fragment in message and "table 'events'" in message
    assert message.startswith("mini.yaml") and "\n" not in message


def test_top_share_takes_the_busiest_keys_first_and_splits_a_tie():
    assert top_share([(10, 1), (1, 9)], 0.1) == pytest.approx(10 / 19)
    assert top_share([(3, 10)], 0.2) == pytest.approx(0.2)  # ten equal keys: the top two hold a fifth
    assert top_share([(5, 2), (1, 18)], 0.05) == pytest.approx(5 / 28)  # one key of the tied pair
    assert top_share([], 0.1) == 0.0


def test_every_built_in_target_names_written_columns():
    for dataset_id in ("retail_oltp_small", "retail_oltp_large", "healthcare_oltp_small"):
        dataset = load_dataset(dataset_id)
        targets = [(t.name, target) for t in dataset.tables for target in t.targets]
        assert targets, dataset_id
        for name, target in targets:
            written = {c.name for c in dataset.table(name).output_columns}
            assert not target.top_share or {target.top_share, target.weight} - {""} <= written


@pytest.fixture(scope="module")
def orders(spark):
    """2,000 orders: customer 1 places 1,010 of them, customers 2..991 one each; a tenth of them cost 0."""
    rows = [(i, 1 if i <= 1010 else i - 1009, 0 if i % 10 == 0 else 5) for i in range(1, 2001)]
    return spark.createDataFrame(rows, "order_id long, customer_id long, amount int")


def _table(targets: str):
    """The mini dataset's events table with these targets (the frames below stand for its rows)."""
    return parse_dataset(_with_targets(targets), "mini.yaml").table("events")


def test_verify_passes_a_target_met_and_fails_one_missed(orders):
    # 991 customers: the top tenth (100) hold 1,010 + 99 of the 2,000 orders
    checks = declared_targets(
        _table(
            "      - {top_share: thing_id, top: 0.1, between: [0.55, 0.56]}\n"
            "      - {top_share: thing_id, top: 0.1, between: [0.0, 0.5]}\n"
            '      - {share: "qty = 0", between: [0.09, 0.11]}\n'
            '      - {share: "qty = 0", between: [0.5, 1.0]}\n'
        ),
        orders.selectExpr("order_id AS event_id", "customer_id AS thing_id", "amount AS qty"),
    )
    assert [c.ok for c in checks] == [True, False, True, False]
    assert checks[0].subject == "events: top 10% of thing_id" and "0.554 (between 0.55 and 0.56)" in checks[0].detail
    assert checks[2].name == "targets as declared" and "over 2,000 rows" in checks[2].detail


def test_too_few_rows_are_not_judged_and_a_bad_predicate_fails_in_one_line(orders):
    checks = declared_targets(
        _table(
            '      - {share: "qty = 0", between: [0.5, 1.0], min_rows: 5000}\n'
            '      - {share: "no_such_column = 1", between: [0, 1]}\n'
        ),
        orders.selectExpr("order_id AS event_id", "customer_id AS thing_id", "amount AS qty"),
    )
    assert checks[0].ok and checks[0].detail.startswith("not judged: 2,000 rows")
    assert not checks[1].ok and "Spark could not evaluate it" in checks[1].detail and "\n" not in checks[1].detail
