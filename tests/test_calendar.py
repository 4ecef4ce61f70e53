"""Calendar: the volume formula, holidays, snapshot schedules and ID offsets (no Spark)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from synthgen_spark.calendar import Calendar, is_scheduled, round_half_up, snapshot_in_force, volume_noise
from synthgen_spark.catalog import load_dataset
from synthgen_spark.config import JobConfig

BUILT_IN = load_dataset("retail_oltp_small")
# the formula's weekday and holiday factors alone: the built-in orders without their month profile and noise
RETAIL = dataclasses.replace(
    BUILT_IN,
    tables=tuple(dataclasses.replace(t, volume_noise=0.0, month_multipliers=()) for t in BUILT_IN.tables),
)
ORDERS = RETAIL.table("orders")


def calendar(**overrides) -> Calendar:
    values = {"dataset_id": "retail_oltp_small", "start_date": "2024-02-05", "end_date": "2024-02-11", **overrides}
    return Calendar(RETAIL, JobConfig.from_mapping(values))


def test_weekday_rows_follow_the_retail_multipliers():
    cal = calendar()
    week = [dt.date(2024, 2, 5) + dt.timedelta(days=i) for i in range(7)]  # Mon..Sun, no US holiday
    assert [cal.rows(ORDERS, d) for d in week] == [8000, 9000, 10000, 11000, 13000, 12000, 7000]


def test_seasonal_patterns_off_gives_the_base_count_every_day():
    cal = calendar(enable_seasonal_patterns=False)
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(60)]
    assert {cal.rows(ORDERS, d) for d in days} == {10000}


def test_override_multipliers_and_scale_factor():
    cal = calendar(seasonal_multipliers=[2, 1, 1, 1, 1, 1, 1], scale_factor=0.5)
    assert cal.rows(ORDERS, dt.date(2024, 2, 5)) == 10000  # Monday: 10000 x 0.5 x 2
    assert cal.rows(ORDERS, dt.date(2024, 2, 6)) == 5000


def test_public_holiday_multiplies_by_the_table_multiplier():
    cal = calendar()
    july_4 = dt.date(2024, 7, 4)  # a Thursday
    assert cal.holiday_name(july_4) is not None
    assert cal.rows(ORDERS, july_4) == round_half_up(10000 * 1.1 * 2.0)
    assert cal.volume(ORDERS, july_4).holiday == 2.0


def test_child_rows_follow_the_parent_ratio():
    cal = calendar()
    items = RETAIL.table("order_items")
    assert cal.rows(items, dt.date(2024, 2, 9)) == round_half_up(13000 * 2.5)


def test_round_half_up():
    assert [round_half_up(x) for x in (0.5, 1.5, 2.5, 2.4999)] == [1, 2, 3, 2]


def test_id_offsets_are_cumulative_rows_since_the_epoch():
    cal = calendar()
    epoch = RETAIL.epoch
    assert cal.id_offset(ORDERS, epoch) == 0
    day = dt.date(2020, 1, 10)
    expected = sum(cal.rows(ORDERS, epoch + dt.timedelta(days=i)) for i in range((day - epoch).days))
    assert cal.id_offset(ORDERS, day) == expected
    assert cal.id_offset(ORDERS, day + dt.timedelta(days=1)) == expected + cal.rows(ORDERS, day)


def test_snapshot_anchors():
    epoch = dt.date(2020, 1, 1)
    assert is_scheduled("weekly", dt.date(2024, 2, 5), epoch)  # Monday
    assert not is_scheduled("weekly", dt.date(2024, 2, 6), epoch)
    assert is_scheduled("monthly", dt.date(2024, 3, 1), epoch)
    assert is_scheduled("quarterly", dt.date(2024, 4, 1), epoch)
    assert not is_scheduled("quarterly", dt.date(2024, 5, 1), epoch)
    assert is_scheduled("once", epoch, epoch) and not is_scheduled("once", dt.date(2024, 1, 1), epoch)
    assert snapshot_in_force("weekly", dt.date(2024, 2, 8), epoch) == dt.date(2024, 2, 5)
    assert snapshot_in_force("quarterly", dt.date(2024, 5, 20), epoch) == dt.date(2024, 4, 1)
    assert snapshot_in_force("weekly", dt.date(2020, 1, 2), epoch) == epoch


def test_a_range_starting_mid_week_writes_the_snapshot_in_force():
    cal = calendar()
    products = RETAIL.table("products")
    dates = cal.snapshot_dates(products, dt.date(2024, 2, 1), dt.date(2024, 2, 14))
    assert dates == [dt.date(2024, 1, 29), dt.date(2024, 2, 5), dt.date(2024, 2, 12)]


def test_named_retail_events_land_on_their_dates_for_several_years():
    from synthgen_spark.calendar import retail_event

    assert [
        d
        for d in (dt.date(2023, 11, 24), dt.date(2024, 11, 29), dt.date(2025, 11, 28))
        if retail_event(d, "US") == "black_friday"
    ] == [dt.date(2023, 11, 24), dt.date(2024, 11, 29), dt.date(2025, 11, 28)]
    assert retail_event(dt.date(2023, 11, 27), "US") == "cyber_monday"
    assert retail_event(dt.date(2024, 12, 2), "US") == "cyber_monday"
    assert retail_event(dt.date(2025, 12, 24), "DE") == "christmas_eve"
    assert retail_event(dt.date(2024, 12, 26), "GB") == "boxing_day"
    assert retail_event(dt.date(2024, 12, 26), "US") is None
    assert retail_event(dt.date(2024, 11, 28), "US") is None  # Thanksgiving itself is a public holiday instead


def test_events_carry_the_table_multiplier_exactly_and_win_over_public_holidays():
    cal = calendar()
    black_friday = dt.date(2024, 11, 29)  # a Friday: weekday 1.3
    assert cal.volume(ORDERS, black_friday).holiday == 3.0
    assert cal.rows(ORDERS, black_friday) == round_half_up(10000 * 1.3 * 3.0)
    christmas = dt.date(2024, 12, 25)  # a public holiday whose own event multiplier (a low day) wins
    assert cal.volume(ORDERS, christmas).holiday == 0.4
    assert cal.volume(ORDERS, dt.date(2024, 7, 4)).holiday == 2.0  # a public holiday without an event
    assert cal.rows(RETAIL.table("order_items"), black_friday) == round_half_up(cal.rows(ORDERS, black_friday) * 2.5)
    off = calendar(enable_seasonal_patterns=False)
    assert off.volume(ORDERS, black_friday).holiday == 1.0


def test_built_in_volumes_have_a_month_profile_noise_and_a_low_christmas_day():
    """rows = base x weekday x holiday x month x noise: December builds up, Christmas Day is low, days breathe."""
    cal = Calendar(
        BUILT_IN,
        JobConfig.from_mapping(
            {"dataset_id": "retail_oltp_small", "start_date": "2024-12-01", "end_date": "2024-12-31"}
        ),
    )
    orders = BUILT_IN.table("orders")
    for day in (dt.date(2024, 2, 6), dt.date(2024, 12, 10), dt.date(2024, 12, 25)):
        volume = cal.volume(orders, day)
        month = orders.month_multipliers[day.month - 1]
        noise = volume_noise(cal.config.seed_value, "orders", day, 0.08)
        assert (volume.month, volume.noise) == (month, noise) and noise != 1
        assert volume.rows == round_half_up(10000 * volume.weekday * volume.holiday * month * noise)
    december, february = orders.month_multipliers[11], orders.month_multipliers[1]
    assert december > 1.2 and february < 0.9  # the build-up to Christmas, the quiet after it
    christmas, week_before = cal.rows(orders, dt.date(2024, 12, 25)), cal.rows(orders, dt.date(2024, 12, 18))
    assert christmas < 0.5 * week_before  # both Wednesdays: the shops are shut, the web shop is quiet
    days = [dt.date(2024, 3, 4) + dt.timedelta(weeks=w) for w in range(8)]  # eight Mondays of March and April
    assert len({cal.rows(orders, d) for d in days}) == 8  # noise: no two alike
    off = Calendar(BUILT_IN, JobConfig.from_mapping({"dataset_id": "retail_oltp_small", "start_date": "2024-12-01",
                                                     "end_date": "2024-12-31", "enable_seasonal_patterns": False}))  # fmt: skip
    flat = off.volume(orders, dt.date(2024, 12, 10))
    assert (flat.month, flat.noise, flat.rows) == (1.0, 1.0, 10000)  # seasonal patterns off: the flat base


def test_plan_marks_holidays_and_events():
    from synthgen_spark.planner import build_plan, describe_plan

    config = JobConfig.from_mapping(
        {"dataset_id": "retail_oltp_small", "start_date": "2024-11-28", "end_date": "2024-11-29", "output_root": "/x"}
    )
    text = describe_plan(build_plan(config))
    assert re.search(r"x 1.1 x 2 x month 1.12 x noise [\d.]+ \(holiday: Thanksgiving", text)
    assert re.search(r"x 1.3 x 3 x month 1.12 x noise [\d.]+ \(holiday: Black Friday\)", text)
