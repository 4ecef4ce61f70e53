"""Catalog: the built-in dataset loads; invalid dataset definitions fail with the place named."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest

from synthgen_spark.calendar import Calendar, base_rows, round_half_up
from synthgen_spark.catalog import (
    COLUMN_KINDS,
    LOCALE_POOL_FIELDS,
    MAX_CHILDREN_SUMMED,
    PRIMARY_KEY_KINDS,
    builtin_dataset_ids,
    describe_dataset,
    load_dataset,
    most_children,
    parse_dataset,
)
from synthgen_spark.config import JobConfig
from synthgen_spark.errors import ConfigError, SpecError
from synthgen_spark.generators.lifecycle import EntityLifecycle
from synthgen_spark.generators.registry import GeneratorSettings

from .helpers import MINI_DATASET


def test_retail_oltp_small_has_its_four_tables():
    spec = load_dataset("retail_oltp_small")
    kinds = {t.name: (t.kind, t.frequency) for t in spec.tables}
    assert kinds == {
        "customers": ("snapshot", "daily"),
        "products": ("snapshot", "weekly"),
        "orders": ("incremental", "daily"),
        "order_items": ("incremental", "daily"),
    }
    orders = spec.table("orders")
    assert orders.primary_date_column == "order_date"
    assert orders.date_columns == ("order_date", "paid_date", "shipped_date", "delivered_date", "cancelled_date")
    assert spec.weekday_multipliers == (0.8, 0.9, 1.0, 1.1, 1.3, 1.2, 0.7)


def test_describe_dataset_lists_columns_types_and_keys():
    text = describe_dataset(load_dataset("retail_oltp_small"))
    assert "order_items (incremental" in text
    assert "customer_id" in text and "-> customers.customer_id" in text
    assert "unit_price" in text and "decimal(10,2)" in text


def test_unknown_dataset_lists_the_built_in_ones():
    with pytest.raises(ConfigError) as caught:
        load_dataset("nope")
    assert "field 'dataset_id'" in str(caught.value)
    for dataset_id in builtin_dataset_ids():
        assert dataset_id in str(caught.value)


def test_every_catalog_kind_has_a_registered_generator():
    from synthgen_spark.generators import registered_kinds

    assert sorted(COLUMN_KINDS) == registered_kinds()


GOOD = MINI_DATASET


def test_a_minimal_custom_dataset_parses():
    spec = parse_dataset(GOOD, "mini.yaml")
    assert [t.name for t in spec.tables] == ["things", "events"]


BROKEN = [
    ("kind: incremental\n    rows: 5", "kind: weird\n    rows: 5", "field 'kind': unknown table kind"),
    (
        "{name: thing_id, kind: sequence}",
        "{name: thing_id, kind: magic}",
        "column 'thing_id': field 'kind': unknown column kind",
    ),
    ("references: things.thing_id", "references: nowhere.thing_id", "field 'references': no such column"),
    ("references: things.thing_id", "references: things.snapshot_date", "must name a snapshot table's primary key"),
    ("rows: 10", "rows: 0", "field 'rows': must be an integer"),
    (
        "primary_key: event_id",
        "primary_key: missing_id",
        "field 'primary_key': names a column which is not defined (got 'missing_id')",
    ),
    (
        "{name: event_id, kind: sequence}",
        "{name: event_id, kind: sequence, colour: red}",
        "field 'colour': unknown key",
    ),
    (
        "{name: event_id, kind: sequence}",
        "{name: event_id, kind: uniform, min: 5, max: 1}",
        "field 'max': is below min",
    ),
    ("{name: event_id, kind: sequence}", "{name: event_id, kind: sequence, null_rate: 2}", "field 'null_rate'"),
    (
        "{name: event_id, kind: sequence}",
        "{name: event_id, kind: sequence, type: varchar}",
        "field 'type': unknown type",
    ),
    (
        "{name: event_id, kind: sequence}",
        "{name: event_id, kind: choice, values: [a, b], weights: [1]}",
        "field 'weights'",
    ),
    ("{name: event_id, kind: sequence}", "{name: Event, kind: sequence}", "field 'name': must be snake_case"),
]
EVENT_ID = "{name: event_id, kind: sequence}"
EXTRA = "      - {name: thing_id, kind: foreign_key, references: things.thing_id}\n"
# checks that used to fail only at Spark time (or not at all), and table-level checks
BROKEN += [
    (
        EVENT_ID,
        "{name: event_id, kind: sequence, type: 'decimal(40,2)'}",
        "field 'type': decimal precision must be 1..38",
    ),
    (
        EVENT_ID,
        "{name: event_id, kind: sequence, type: 'decimal(5,6)'}",
        "allowed: decimal(p,s) with 1 <= p <= 38, 0 <= s <= p",
    ),
    (EVENT_ID, "{name: event_id, kind: sequence, type: 'decimal(0,0)'}", "field 'type': decimal precision"),
    (EXTRA, EXTRA + "      - {name: level, kind: choice, values: [low, high], type: int}\n", "field 'values': 'low'"),
    (EXTRA, EXTRA + "      - {name: n, kind: choice, values: [1, 3000000000], type: int}\n", "3000000000"),
    (EXTRA, EXTRA + "      - {name: n, kind: choice, values: [1, 2.5], type: long}\n", "allowed: integers"),
    (EXTRA, EXTRA + "      - {name: b, kind: choice, values: [1, 0], type: boolean}\n", "allowed: true, false"),
    (EXTRA, EXTRA + "      - {name: d, kind: choice, values: [1.5, 1000], type: 'decimal(4,1)'}\n", "below 1000"),
    (EXTRA, EXTRA + "      - {name: d, kind: choice, values: [2024-01-01, soon], type: date}\n", "'soon'"),
    (EXTRA, EXTRA + "      - {name: s, kind: choice, values: [a, 1]}\n", "field 'values': 1 is not a value"),
    (EXTRA, EXTRA + "      - {name: s, kind: lifecycle_status, values: [a, b, c]}\n", "must be two values"),
    (EXTRA, EXTRA + "      - {name: p, kind: pool, pool: colours}\n", "field 'pool': unknown pool (got 'colours')"),
    (EXTRA, EXTRA + "      - {name: p, kind: pool, pool: locations, field: country}\n", "locale pool 'locations'"),
    (
        EXTRA,
        EXTRA + "      - {name: p, kind: lookup, references: events.event_id, key: event_id, type: long}\n",
        "field 'references': a lookup reads an entity of a snapshot table, and 'events' is incremental",
    ),
    ("rows: 5\n", "rows: 5\n    rows_per_parent: 2\n", "table 'events': field 'rows_per_parent': needs a parent"),
    ("rows: 5\n", "rows: 5\n    holiday_multiplier: -1\n", "field 'holiday_multiplier': must be a number > 0"),
    ("rows: 5\n", "rows: 5\n    holiday_multiplier: x\n", "field 'holiday_multiplier'"),
    ("rows: 5\n", "rows: 5\n    event_multipliers: {black_friday: 0}\n", "the multiplier of black_friday"),
    ("rows: 5\n", "rows: 5\n    date_columns: event_date\n", "field 'date_columns': must be a list"),
    ("primary_key: event_id", "primary_key: thing_id", "field 'primary_key': column 'thing_id' is a foreign_key"),
    (EVENT_ID, "{name: event_id, kind: sequence, null_rate: 0.1}", "the primary key cannot be null"),
    (  # a derived column reads the columns before it: one depending on a later derived column failed only in Spark
        EXTRA,
        "      - {name: n, kind: uniform, min: 1, max: top}\n      - {name: top, kind: derived, expression: '9', type: int}\n"
        + EXTRA,
        "table 'events', column 'n': field 'parameters': depends on derived column 'top', which is defined after it",
    ),
]


@pytest.mark.parametrize(("old", "new", "fragment"), BROKEN)
def test_invalid_dataset_definitions_name_the_place(old, new, fragment):
    assert old in GOOD
    with pytest.raises(SpecError) as caught:
        parse_dataset(GOOD.replace(old, new, 1), "mini.yaml")
    assert fragment in str(caught.value)
    assert str(caught.value).startswith("mini.yaml") and "\n" not in str(caught.value)


def test_dataset_yaml_that_does_not_parse():
    with pytest.raises(SpecError, match="mini.yaml: not valid YAML"):
        parse_dataset(textwrap.dedent("tables: [unclosed"), "mini.yaml")


def _calendar(spec, scale_factor: float):
    values = {"dataset_id": spec.dataset_id, "start_date": "2024-01-01", "end_date": "2024-01-01"}
    return Calendar(spec, JobConfig.from_mapping({**values, "scale_factor": scale_factor}))


UNSCALED = GOOD.replace("rows: 10\n", "rows: 10\n    scaled: false\n", 1)


def test_scaled_defaults_to_true_and_false_parses_on_a_snapshot():
    assert [t.scaled for t in parse_dataset(GOOD, "mini.yaml").tables] == [True, True]
    spec = parse_dataset(UNSCALED, "mini.yaml")
    assert [t.scaled for t in spec.tables] == [False, True]
    assert "things (snapshot, daily, 10 entities, not scaled" in describe_dataset(spec)
    assert "not scaled" not in describe_dataset(parse_dataset(GOOD, "mini.yaml"))


@pytest.mark.parametrize("scale_factor", [0.01, 0.5, 1, 3, 1000])
def test_an_unscaled_snapshot_keeps_its_rows_at_any_scale_factor(scale_factor):
    spec = parse_dataset(UNSCALED, "mini.yaml")
    things, events = spec.table("things"), spec.table("events")
    calendar = _calendar(spec, scale_factor)
    assert base_rows(things, scale_factor) == calendar.base_population(things) == 10
    assert calendar.population(things, dt.date(2024, 1, 1)) == 10
    # the incremental table next to it still scales
    assert calendar.volume(events, dt.date(2024, 1, 1)).rows == max(1, round_half_up(5 * scale_factor))
    scaled = parse_dataset(GOOD, "mini.yaml").table("things")
    assert base_rows(scaled, scale_factor) == max(1, round_half_up(10 * scale_factor))


def test_an_unscaled_snapshot_with_a_lifecycle_grows_from_its_unscaled_base():
    text = UNSCALED.replace("scaled: false\n", "scaled: false\n    lifecycle: {growth_rate: 0.1}\n", 1)
    spec = parse_dataset(text, "mini.yaml")
    calendar = _calendar(spec, 0.01)
    assert calendar.population(spec.table("things"), dt.date(2020, 1, 3)) == 10 + 2  # two days of 10 x 0.1


def test_the_lifecycle_generator_counts_the_same_base_as_the_calendar():
    spec = parse_dataset(UNSCALED, "mini.yaml")
    calendar = _calendar(spec, 0.01)
    settings = GeneratorSettings(calendar.config.seed_value, calendar.config.scale_factor, calendar.config.locale)
    for table in (spec.table("things"), parse_dataset(GOOD, "mini.yaml").table("things")):
        assert EntityLifecycle(settings, spec, table).model.base == calendar.base_population(table)


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        ("rows: 10\n", "rows: 10\n    scaled: 'no'\n", "table 'things': field 'scaled': must be true or false"),
        ("rows: 10\n", "rows: 10\n    scaled: 0\n", "allowed: true, false"),
        (
            "rows: 5\n",
            "rows: 5\n    scaled: false\n",
            "table 'events': field 'scaled': only snapshot tables can ignore scale_factor",
        ),
    ],
)
def test_invalid_scaled_names_the_table_and_field(old, new, fragment):
    with pytest.raises(SpecError) as caught:
        parse_dataset(GOOD.replace(old, new, 1), "mini.yaml")
    assert fragment in str(caught.value) and "\n" not in str(caught.value)


def test_built_in_calendars_and_reference_lists_are_not_scaled():
    unscaled = {
        (spec.dataset_id, t.name)
        for spec in map(load_dataset, builtin_dataset_ids())
        for t in spec.tables
        if not t.scaled
    }
    assert unscaled == {
        ("retail_star_small", "dim_date"),
        ("retail_star_large", "dim_date"),
        ("ecommerce_star_small", "dim_date"),
        ("finance_oltp_small", "account_types"),
    }


def test_choice_and_status_values_of_every_type_parse():
    columns = [
        "{name: a, kind: choice, values: [1, 2, null], type: int}",
        "{name: b, kind: choice, values: [0.5, 2], type: double}",
        "{name: c, kind: choice, values: [0.0, 0.15, 99.99], type: 'decimal(4,2)'}",
        "{name: d, kind: choice, values: [true, false], type: boolean}",
        "{name: e, kind: choice, values: [2024-01-01, '2024-02-29'], type: date}",
        "{name: f, kind: choice, values: ['2024-01-01 10:00:00', 2024-01-02], type: timestamp}",
        "{name: g, kind: choice, values: [10001, 10002]}",
        "{name: h, kind: choice, values: [low, '1']}",
        "{name: i, kind: lifecycle_status, values: [true, false], type: boolean}",
    ]
    text = GOOD.replace(EXTRA, EXTRA + "".join(f"      - {c}\n" for c in columns))
    assert len(parse_dataset(text, "mini.yaml").table("events").columns) == 3 + len(columns)


def test_pools_default_to_their_first_field(spark):
    """Without ``field``, a pool column (a dataset's pool or a locale pool) takes the record's first field."""
    from synthgen_spark.engine import build_batch_frame
    from synthgen_spark.planner import build_plan

    text = GOOD.replace(
        "tables:", "pools:\n  models: {fields: [model, maker], records: [[A, X], [B, Y], [C, Z]]}\ntables:"
    )
    columns = "".join(
        f"      - {{name: {name}, kind: pool, pool: {pool}{field}, pick: {pick}}}\n"
        for name, pool, field, pick in (
            ("m", "models", "", "model"),
            ("model", "models", ", field: model", "model"),
            ("maker", "models", ", field: maker", "model"),
            ("city", "locations", "", "place"),
            ("city_named", "locations", ", field: city", "place"),
        )
    )
    dataset = parse_dataset(text.replace(EXTRA, EXTRA + columns), "mini.yaml")
    config = JobConfig.from_mapping({"dataset_id": "mini", "start_date": "2024-03-04", "end_date": "2024-03-04"})
    events = [td for td in build_plan(config, dataset).table_days if td.table.name == "events"]
    rows = build_batch_frame(spark, config, dataset, events).collect()
    assert len(rows) == 5 and {r.maker for r in rows} <= {"X", "Y", "Z"}
    assert all(r.m == r.model and r.city == r.city_named for r in rows)


def test_the_catalog_knows_the_fields_of_every_locale_pool():
    from synthgen_spark.pools import frozen_locales, load_locale_pools

    for locale in frozen_locales():
        pools = load_locale_pools(locale)
        assert {name: pool.fields for name, pool in pools.items()} == LOCALE_POOL_FIELDS, locale


def test_built_in_primary_keys_are_sequences_or_derived():
    for spec in map(load_dataset, builtin_dataset_ids()):
        for table in spec.tables:
            assert table.column(table.primary_key).kind in PRIMARY_KEY_KINDS, (spec.dataset_id, table.name)


RETAIL_ITEMS = "rows_per_parent: 2.5\n    children_shape: [1, 1, 1, 1, 2, 2, 3, 3, 4, 7]"


def _retail_with_items(items: str):
    from importlib import resources

    text = (resources.files("synthgen_spark") / "data" / "datasets" / "retail_oltp_small.yaml").read_text("utf-8")
    assert RETAIL_ITEMS in text
    return parse_dataset(text.replace(RETAIL_ITEMS, items), "r.yaml")


@pytest.mark.parametrize(
    ("items", "most"),
    [("rows_per_parent: 15.5", 17), ("rows_per_parent: 2.5\n    children_shape: [" + "1, " * 19 + "40]", 41)],
)
def test_child_sum_over_too_many_children_is_refused_when_parsed(items, most):
    with pytest.raises(
        SpecError, match=rf"column 'order_total': field 'child': .*: up to {most} \(got 'order_items'\)"
    ):
        _retail_with_items(items)


def test_child_sum_at_the_limit_parses_and_its_bound_covers_every_planned_day():
    from synthgen_spark.catalog.kinds import children_summed
    from synthgen_spark.planner import build_plan

    assert _retail_with_items("rows_per_parent: 15").table("order_items").rows_per_parent == 15
    shape = load_dataset("retail_oltp_small").table("order_items").children_shape
    config = JobConfig.from_mapping(
        {
            "dataset_id": "retail_oltp_small",
            "start_date": "2024-02-01",
            "end_date": "2024-02-29",
            "scale_factor": 0.0001,
        }
    )
    days = [td.facts.rows for td in build_plan(config).table_days if td.table.name == "orders"]
    actual = max(most_children(r["orders"], r["order_items"], shape) for r in days)
    assert actual <= children_summed(2.5, shape) <= MAX_CHILDREN_SUMMED
