"""Catalog: the built-in dataset loads; invalid dataset definitions fail with the place named."""

from __future__ import annotations

import textwrap

import pytest

from synthgen_spark.catalog import COLUMN_KINDS, builtin_dataset_ids, describe_dataset, load_dataset, parse_dataset
from synthgen_spark.errors import SpecError


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
    assert orders.date_columns == ("order_date", "shipped_date", "delivered_date")
    assert spec.weekday_multipliers == (0.8, 0.9, 1.0, 1.1, 1.3, 1.2, 0.7)


def test_describe_dataset_lists_columns_types_and_keys():
    text = describe_dataset(load_dataset("retail_oltp_small"))
    assert "order_items (incremental" in text
    assert "customer_id" in text and "-> customers.customer_id" in text
    assert "unit_price" in text and "decimal(10,2)" in text


def test_unknown_dataset_lists_the_built_in_ones():
    with pytest.raises(SpecError) as caught:
        load_dataset("nope")
    assert "field 'dataset_id'" in str(caught.value)
    for dataset_id in builtin_dataset_ids():
        assert dataset_id in str(caught.value)


def test_every_catalog_kind_has_a_registered_generator():
    from synthgen_spark.generators import registered_kinds

    assert sorted(COLUMN_KINDS) == registered_kinds()


GOOD = """
dataset_id: mini
tables:
  - name: things
    kind: snapshot
    rows: 10
    primary_key: thing_id
    columns:
      - {name: thing_id, kind: sequence}
      - {name: snapshot_date, kind: generation_date}
  - name: events
    kind: incremental
    rows: 5
    primary_key: event_id
    primary_date_column: event_date
    columns:
      - {name: event_id, kind: sequence}
      - {name: event_date, kind: generation_date}
      - {name: thing_id, kind: foreign_key, references: things.thing_id}
"""


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
    ("primary_key: event_id", "primary_key: missing_id", "names column 'missing_id'"),
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
