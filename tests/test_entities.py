"""Entities in closed form (synthgen_spark.entities): the active set as 100 ranges, exact, and the Spark side agrees."""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction

import pytest

from synthgen_spark.api import frames
from synthgen_spark.calendar import UNIX_EPOCH, Calendar
from synthgen_spark.catalog import load_dataset
from synthgen_spark.config import JobConfig
from synthgen_spark.entities import BLOCK, EntityModel, integer_alias, lifetime_levels
from synthgen_spark.seeds import spark_xxhash64

MODELS = [  # (N0, new per period, period days, lifecycle_start window, churn rate)
    (1000, Fraction(2), 1, (-365, -1), 0.002),
    (537, Fraction(1, 3), 7, (-1000, -1), 0.01),
    (50, Fraction(0), 1, (0, 0), 0.05),
    (20, Fraction(1, 10), 1, (-30, -1), 0.3),
]
EPOCH = 19000


def _model(base, per_period, period, window, churn, seed=11) -> EntityModel:
    return EntityModel(
        base=base, per_period=per_period, period_days=period, epoch=EPOCH, window=window, churn_rate=churn, seed=seed
    )


@pytest.mark.parametrize("params", MODELS)
def test_the_ranges_hold_exactly_the_entities_active_one_by_one(params):
    model = _model(*params)
    for day in (EPOCH, EPOCH + 1, EPOCH + 50, EPOCH + 400, EPOCH + 1000):
        for signed_by in (day, day - day % 7):  # a fact's day, and the snapshot in force (weekly)
            population = model.population(signed_by)
            one_by_one = [
                k for k in range(population) if model.end(k) is None or (model.start(k) <= day < model.end(k))
            ]
            ranges = model.ranges(day, signed_by)
            enumerated = sorted(
                BLOCK * (first + b) + model.position(first + b, slot)
                for slot, (first, count) in enumerate(ranges)
                for b in range(count)
            )
            assert enumerated == one_by_one
            assert model.pick_table(day, signed_by)[0] == len(one_by_one)


@pytest.mark.parametrize("params", MODELS)
def test_signup_days_rise_with_the_id_and_the_inverse_finds_the_first(params):
    model = _model(*params)
    population = model.population(EPOCH + 1200)
    starts = [model.start(k) for k in range(population)]
    assert starts == sorted(starts) and starts[0] == EPOCH + params[3][0]
    for day in range(EPOCH - 1100, EPOCH + 1200, 13):
        first = model.first_starting_from(day)
        assert all(s < day for s in starts[:first]) and all(s >= day for s in starts[first:])


def test_one_in_ten_never_churns_once_per_last_digit_and_entity_one_is_one_of_them():
    model = _model(100_000, Fraction(20), 1, (-1460, -1), 0.001)
    for block in range(0, 1000, 37):
        loyal = [k for k in range(block * BLOCK, (block + 1) * BLOCK) if model.end(k) is None]
        assert sorted(k % 10 for k in loyal) == list(range(10))
    assert model.end(0) is None


def test_lifetimes_are_the_geometric_quantiles():
    levels = lifetime_levels(0.001)
    assert len(levels) == 90 and list(levels) == sorted(levels)
    median = levels[44], levels[45]
    assert median[0] <= 1 + math.log(0.5) / math.log(0.999) <= median[1] + 1  # ~693 days
    assert sum(levels) / 90 == pytest.approx(1 / 0.001, rel=0.1)
    model = _model(1000, Fraction(2), 1, (-365, -1), 0.001)
    assert sorted(life for life in model.slot_lifetimes if life) == list(levels)
    assert model.slot_lifetimes != _model(1000, Fraction(2), 1, (-365, -1), 0.001, seed=12).slot_lifetimes


@pytest.mark.parametrize("counts", [[5, 0, 3, 12, 1], [0, 0, 7], [1] * 100, [3**k % 101 for k in range(100)]])
def test_the_integer_alias_table_gives_each_slot_exactly_its_share(counts):
    thresholds, aliases = integer_alias(counts)
    total = sum(counts)
    mass = [0] * len(counts)  # out of len(counts) x total: column c keeps y < threshold, else goes to its alias
    for column, (threshold, alias) in enumerate(zip(thresholds, aliases, strict=True)):
        mass[column] += threshold
        mass[alias] += total - threshold
    assert mass == [len(counts) * c for c in counts]


def test_a_table_of_ten_million_entities_needs_no_array_of_that_size():
    model = _model(10_000_000, Fraction(20_000), 1, (-1460, -1), 0.001)
    tables = [model.pick_table(day) for day in range(EPOCH, EPOCH + 30)]
    assert all(len(t) == 1 + 2 * BLOCK for t in tables)
    assert 5_000_000 < tables[-1][0] < 10_600_000


def test_spark_agrees_with_the_model_on_every_entity(spark):
    """The hash the driver mirrors is Spark's, and each snapshot row's signup and churn are the model's."""
    values = [0, 1, -1, 2**63 - 1, 123456789012345]
    row = spark.sql("SELECT " + ", ".join(f"xxhash64(CAST({v} AS BIGINT))" for v in values)).first()
    assert [v % 2**64 for v in row] == [spark_xxhash64(v) for v in values]
    day = dt.date(2024, 6, 3)
    config = JobConfig.from_mapping(
        {
            "dataset_id": "retail_oltp_small",
            "start_date": day.isoformat(),
            "end_date": day.isoformat(),
            "scale_factor": 0.2,
        }
    )
    customers = frames(config, spark)["customers"].select("customer_id", "signup_date", "churn_date").collect()
    dataset = load_dataset("retail_oltp_small")
    model = Calendar(dataset, config).entities(dataset.table("customers"))
    ordinal = (day - UNIX_EPOCH).days
    for r in customers:
        k = r["customer_id"] - 1
        assert (r["signup_date"] - UNIX_EPOCH).days == model.start(k)
        end = model.end(k)
        assert r["churn_date"] == (None if end is None or end > ordinal else UNIX_EPOCH + dt.timedelta(days=end))
