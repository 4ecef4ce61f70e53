"""Segments (issue 21, "customers mostly shop in their own region"): a snapshot table's entities fall into segments
held by their slots (stores by region), a pool pick keeps to the entity's segment (a store's city is in its
region), and a foreign key draws within the segment another column names (the customer's region on the date)."""

from __future__ import annotations

import textwrap
from collections import Counter
from dataclasses import astuple
from fractions import Fraction

import pytest

from synthgen_spark.catalog import load_dataset, parse_dataset
from synthgen_spark.entities import BLOCK, EntityModel, segment_slots
from synthgen_spark.errors import SpecError
from synthgen_spark.pools import REGIONS, frozen_locales, load_locale_pools, region_of, table_segments

from .helpers import alias_chances, read_table, small_config, yaml_dataset_config

CLASSES = (1, 4, 15, 35, 45), (30, 10, 3, 1.5, 0.03)
SEGMENTS = (17, 21, 38, 24)


def _model(
    base: int = 1050, churn_rate: float = 0.0, propensity=CLASSES, segments=SEGMENTS, seed=5, bounds=None
) -> EntityModel:
    return EntityModel(
        base=base, per_period=Fraction(0), period_days=1, epoch=19723, window=(-300, 0),
        churn_rate=churn_rate, seed=seed, propensity=propensity, segments=segments, segment_bounds=bounds,
    )  # fmt: skip


def _segment_chances(model: EntityModel, day: int, number: int) -> list[Fraction]:
    table = model.segment_table(day)
    whole = len(model.segments) + 1
    entries = table[whole + number * BLOCK : whole + (number + 1) * BLOCK]
    return alias_chances(table[number], entries)


def test_segment_slots_follow_the_weights_with_one_slot_at_least_and_refuse_too_many():
    assert segment_slots(["N", "S", "N", "W"], [30, 50, 10, 10]) == (("N", "S", "W"), (40, 50, 10))
    names, slots = segment_slots(["big", "tiny"], [1_000_000, 1])
    assert names == ("big", "tiny") and slots == (99, 1)
    with pytest.raises(ValueError, match="101 segments"):
        segment_slots([str(i) for i in range(101)], [1] * 101)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_full_block_holds_exactly_its_slots_of_each_segment_apart_from_the_classes(seed):
    model = _model(seed=seed)
    segments = [model.slot_segments[model.slot(k)] for k in range(1000)]
    for block in range(10):
        counts = Counter(segments[block * BLOCK : (block + 1) * BLOCK])
        assert [counts[number] for number in range(1, 5)] == list(SEGMENTS)
    pairs = Counter(zip(model.slot_segments, model.slot_classes, strict=True))
    assert len(pairs) > 12  # segments and propensity classes are placed independently
    first = [k for k, number in enumerate(segments) if number == 1]
    assert len({k % BLOCK for k in first}) > 50  # no visible pattern in the ids


@pytest.mark.parametrize(("churn_rate", "day"), [(0.0, 19730), (0.01, 19900)])
def test_a_segment_pick_draws_only_that_segments_active_entities_by_their_weight(churn_rate, day):
    model = _model(base=12_345, churn_rate=churn_rate)
    counts = [count for _, count in model.ranges(day)]
    masses = model.slot_masses(counts)
    assert _segment_chances(model, day, 0) == alias_chances(
        model.pick_table(day)[0], model.pick_table(day)[1 : 1 + BLOCK]
    )
    for number in range(1, len(SEGMENTS) + 1):
        own = [m if model.slot_segments[s] == number else 0 for s, m in enumerate(masses)]
        for slot, chance in enumerate(_segment_chances(model, day, number)):
            assert chance == Fraction(own[slot], sum(own)), (number, slot)


def test_a_segment_without_an_active_entity_falls_back_on_the_whole_table():
    model = _model(base=3, propensity=None, segments=(1, 99))  # three entities: segment 1 holds one slot of 100
    day = 19730
    counts = [count for _, count in model.ranges(day)]
    empty = [n for n in (1, 2) if not any(c for s, c in enumerate(counts) if model.slot_segments[s] == n)]
    assert empty  # with 3 entities, one of the two segments may hold none; the seed makes it so here
    for number in empty:
        assert _segment_chances(model, day, number) == _segment_chances(model, day, 0)


def test_every_locale_has_a_region_per_location_and_the_us_census_regions():
    assert region_of("en_US", "TX") == "South" and region_of("en_GB", "Kent") == "England"
    assert region_of("de_DE", "Bayern") == "Süd" and region_of("xx_XX", "Somewhere") == "Somewhere"
    assert sum(len(states) for states in REGIONS["en_US"].values()) == 51  # 50 states and DC, each once
    for locale in frozen_locales():
        pool = load_locale_pools(locale)["locations"]
        regions = [record[pool.fields.index("region")] for record in pool.records]
        states = [record[pool.fields.index("state")] for record in pool.records]
        assert regions == [region_of(locale, state) for state in states]
        assert 2 <= len(set(regions)) <= 5, (locale, Counter(regions))
    star = load_dataset("retail_star_small")
    names, slots, _ = astuple(table_segments(star, star.table("dim_store"), "en_US"))
    assert sorted(names) == ["Midwest", "Northeast", "South", "West"] and sum(slots) == BLOCK


SHOPS = textwrap.dedent(
    """
    dataset_id: regions
    epoch: 2024-01-01
    pools:
      places:
        fields: [town, area, weight]
        records:
          - [Northtown, north, 3]
          - [Northfield, north, 1]
          - [Southport, south, 4]
          - [Westby, west, 2]
    tables:
      - name: shops
        kind: snapshot
        rows: 1000
        scaled: false
        primary_key: shop_id
        columns:
          - {name: shop_id, kind: sequence}
          - {name: area, kind: segment, pool: places, field: area}
          - {name: town, kind: pool, pool: places, field: town, pick: place, given: area}
          - {name: snapshot_date, kind: generation_date}
      - name: shoppers
        kind: snapshot
        rows: 500
        scaled: false
        lifecycle: {growth_rate: 0.01, growth_period: day, churn_rate: 0.01}
        primary_key: shopper_id
        columns:
          - {name: shopper_id, kind: sequence}
          - {name: home, kind: pool, pool: places, field: area, pick: place}
          - {name: joined, kind: lifecycle_start, min_days: -100, max_days: 0}
          - {name: left, kind: lifecycle_end}
          - {name: snapshot_date, kind: generation_date}
      - name: visits
        kind: incremental
        rows: 40000
        primary_key: visit_id
        primary_date_column: visit_date
        columns:
          - {name: visit_id, kind: sequence}
          - {name: visit_date, kind: generation_date}
          - {name: shopper_id, kind: foreign_key, references: shoppers.shopper_id}
          - {name: home, kind: lookup, references: shoppers.home, key: shopper_id, type: string}
          - {name: shop_id, kind: foreign_key, references: shops.shop_id, same_segment: home, segment_share: 0.8}
          - {name: nearby_shop_id, kind: foreign_key, references: shops.shop_id, same_segment: home}
    """
)


@pytest.fixture(scope="module")
def regions(spark, tmp_path_factory):
    """Two days of 40,000 visits: each draws a shop of the shopper's area for 80 % of them, and one always."""
    from pyspark.sql import functions as F

    from synthgen_spark.api import frames

    tables = frames(yaml_dataset_config(tmp_path_factory.mktemp("regions"), "regions", SHOPS), spark)
    shops = tables["shops"].where(F.col("snapshot_date") == "2024-02-02").select("shop_id", "area", "town")
    visits = tables["visits"].select("home", "shop_id", "nearby_shop_id")
    return [r.asDict() for r in shops.collect()], [r.asDict() for r in visits.collect()]


def test_shops_hold_their_areas_share_of_slots_and_a_town_of_their_area(regions):
    shops, _ = regions
    assert sorted(s["shop_id"] for s in shops) == list(range(1, 1001))
    area_of_town = {"Northtown": "north", "Northfield": "north", "Southport": "south", "Westby": "west"}
    assert all(area_of_town[s["town"]] == s["area"] for s in shops)
    assert Counter(s["area"] for s in shops) == {"north": 400, "south": 400, "west": 200}  # weights 4 : 4 : 2
    towns = Counter(s["town"] for s in shops if s["area"] == "north")
    assert towns["Northtown"] / 400 == pytest.approx(0.75, abs=0.07)  # weighted 3 : 1 within the area


def test_a_key_within_the_segment_keeps_to_it_for_its_share_of_rows(regions):
    shops, visits = regions
    area = {s["shop_id"]: s["area"] for s in shops}
    assert len(visits) == 80_000
    assert all(area[v["nearby_shop_id"]] == v["home"] for v in visits)  # segment_share 1: always
    same = sum(area[v["shop_id"]] == v["home"] for v in visits) / len(visits)
    homes = Counter(v["home"] for v in visits)
    by_chance = sum((n / len(visits)) * (sum(1 for a in area.values() if a == h) / 1000) for h, n in homes.items())
    assert same == pytest.approx(0.8 + 0.2 * by_chance, abs=0.01)
    per_area = Counter(v["nearby_shop_id"] for v in visits if v["home"] == "west")
    assert len(per_area) > 190  # uniform within the area: nearly every one of its 200 shops is drawn


@pytest.fixture(scope="module")
def star(spark, tmp_path_factory):
    """retail_star_small as written: two days at scale 0.02 (about 3,000 sales)."""
    from synthgen_spark.api import generate

    config = small_config(
        tmp_path_factory.mktemp("star"),
        dataset_id="retail_star_small",
        start_date="2024-03-04",
        end_date="2024-03-05",
        scale_factor=0.02,
    )
    return config, generate(config, spark, progress=None)


def test_customers_mostly_shop_in_their_own_region_in_retail_star(spark, star):
    """85 % of sales at a store of the customer's region as of the sale date (the dimension version in force),
    the rest anywhere; every store's and customer's state is in its region."""
    _, report = star
    stores = read_table(spark, report, "dim_store").select("store_key", "state", "region").collect()
    assert all(region_of("en_US", s["state"]) == s["region"] for s in stores)
    assert {s["region"] for s in stores} == {"Northeast", "Midwest", "South", "West"}
    customers = read_table(spark, report, "dim_customer").select("customer_key", "state", "region").collect()
    assert all(region_of("en_US", c["state"]) == c["region"] for c in customers)  # one weekly snapshot: 03-04
    home = {c["customer_key"]: c["region"] for c in customers}
    at = {s["store_key"]: s["region"] for s in stores}
    sales = read_table(spark, report, "fact_sales").select("customer_key", "store_key").collect()
    assert len(sales) > 2000
    same = sum(home[s["customer_key"]] == at[s["store_key"]] for s in sales) / len(sales)
    assert 0.85 < same < 0.95  # 0.85 + 0.15 x the chance that a random store is in the customer's region


def test_verify_scores_the_segments_and_fails_sales_moved_out_of_the_region(spark, star, tmp_path, capsys):
    import shutil

    from pyspark.sql import functions as F

    from synthgen_spark.cli import main
    from synthgen_spark.planner import build_plan

    from .test_verify import _flags

    config, _ = star
    assert main(["verify", *_flags(config)]) == 0
    out = capsys.readouterr().out
    assert "PASS  keys keep to their segment fact_sales.store_key -> dim_store.region  0.8" in out
    assert "PASS  pool picks keep to given   dim_store.state given region" in out
    copy = config.with_overrides({"output_root": str(tmp_path / "copy")})
    shutil.copytree(config.output_root, copy.output_root)
    days = build_plan(copy).table_days
    stores = next(td for td in days if td.table.name == "dim_store").paths[0]
    frame = spark.read.parquet(stores)
    south = frame.where("region = 'South'").select("state").first()[0]
    frame.withColumn("state", F.lit(south)).coalesce(1).write.parquet(str(tmp_path / "moved"))
    shutil.move(next((tmp_path / "moved").glob("part-*.parquet")), stores)
    sales = next(td for td in days if td.table.name == "fact_sales").paths[0]  # and the first day's sales at one store
    frame = spark.read.parquet(sales)
    frame.withColumn("store_key", F.lit(1).cast("long")).coalesce(1).write.parquet(str(tmp_path / "one"))
    shutil.move(next((tmp_path / "one").glob("part-*.parquet")), sales)
    assert main(["verify", *_flags(copy)]) == 1
    out = capsys.readouterr().out
    assert f"FAIL  pool picks keep to given   dim_store.state given region  {south} when region = " in out
    assert "FAIL  keys keep to their segment fact_sales.store_key -> dim_store.region  0." in out
    assert "PASS  keys join as of date       fact_sales.store_key -> dim_store" in out  # the broken rows still join


BROKEN = [
    ("      - {name: r, kind: segment, pool: locations, field: nope}\n", "things", "field 'field'"),
    ("      - {name: r, kind: segment, pool: locations}\n", "things", "field 'field': is required"),
    (
        "      - {name: r, kind: segment, pool: locations, field: region}\n"
        "      - {name: q, kind: segment, pool: locations, field: state}\n",
        "things",
        "one segment column per snapshot table",
    ),
    ("      - {name: c, kind: pool, pool: locations, field: city, given: thing_id}\n", "things", "field 'given'"),
]


@pytest.mark.parametrize(("lines", "table", "fragment"), BROKEN)
def test_an_invalid_segment_is_one_line_naming_the_table_and_field(mini_segment_dataset, lines, table, fragment):
    with pytest.raises(SpecError) as caught:
        parse_dataset(mini_segment_dataset(things=lines), "mini.yaml")
    message = str(caught.value)
    assert fragment in message and f"table '{table}'" in message and "\n" not in message


KEYS = [
    ("same_segment: nope", "field 'same_segment'"),
    ("same_segment: event_id, segment_share: 1.5", "field 'segment_share'"),
    ("same_segment: event_id, slots_per_day: 4", "a booking cannot also keep to a segment"),
    ("segment_share: 0.5", "field 'same_segment'"),
]


@pytest.mark.parametrize(("params", "fragment"), KEYS)
def test_an_invalid_key_within_a_segment_is_one_line(mini_segment_dataset, params, fragment):
    region = "      - {name: r, kind: segment, pool: locations, field: region}\n"
    with pytest.raises(SpecError) as caught:
        parse_dataset(mini_segment_dataset(things=region, key=params), "mini.yaml")
    message = str(caught.value)
    assert fragment in message and "table 'events'" in message and "\n" not in message


def test_a_key_within_a_segment_needs_a_table_with_segments_and_a_pick_agrees_on_given(mini_segment_dataset):
    with pytest.raises(SpecError, match="field 'same_segment': no segments"):
        parse_dataset(mini_segment_dataset(key="same_segment: event_id"), "mini.yaml")
    split = (
        "      - {name: region, kind: pool, pool: locations, field: region, pick: address}\n"
        "      - {name: city, kind: pool, pool: locations, field: city, pick: address, given: region}\n"
        "      - {name: state, kind: pool, pool: locations, field: state, pick: address}\n"
    )
    with pytest.raises(SpecError, match="columns of one pick read one record"):
        parse_dataset(mini_segment_dataset(things=split), "mini.yaml")


@pytest.fixture
def mini_segment_dataset():
    from .helpers import MINI_DATASET

    def build(things: str = "", key: str = "") -> str:
        column = "      - {name: thing_id, kind: sequence}\n"
        text = MINI_DATASET.replace(column, column + things, 1)
        if key:
            text = text.replace("references: things.thing_id}", f"references: things.thing_id, {key}}}")
        return text

    return build


def test_a_segment_never_changes_but_a_location_within_it_may():
    head = "    primary_key: shop_id\n"
    text = SHOPS.replace(
        head,
        head + "    lifecycle: {growth_rate: 0, growth_period: day, churn_rate: 0}\n"
        "    changes: [{name: move, columns: [area], rate: 0.1, per: year}]\n",
    ).replace(
        "      - {name: area, kind: segment",
        "      - {name: opened, kind: lifecycle_start, min_days: -10, max_days: 0}\n      - {name: area, kind: segment",
    )
    assert "changes: [{name: move" in text and "name: opened" in text
    with pytest.raises(SpecError, match="column 'area' is a segment column, which a group cannot change"):
        parse_dataset(text, "regions.yaml")
    moving = parse_dataset(text.replace("columns: [area]", "columns: [town]"), "regions.yaml")
    assert moving.table("shops").changes[0].columns == ("town",)


def test_a_bounded_segment_takes_only_slots_that_churn_within_its_bound():
    model = _model(churn_rate=0.0003, propensity=None, segments=(22, 78), bounds=(3650, 0))
    bounded = [s for s in range(BLOCK) if model.slot_segments[s] == 1]
    assert len(bounded) == 22 and all(0 < model.slot_lifetimes[s] <= 3650 for s in bounded)
    free = _model(churn_rate=0.0003, propensity=None, segments=(22, 78))
    assert Counter(free.slot_segments) == Counter(model.slot_segments)  # the same counts, placed under the bound
    assert any(
        free.slot_lifetimes[s] == 0 or free.slot_lifetimes[s] > 3650 for s in range(BLOCK) if free.slot_segments[s] == 1
    )
    tight = _model(churn_rate=0.0003, propensity=None, segments=(50, 50), bounds=(100, 0))  # few lifetimes so short
    with pytest.raises(ValueError, match="segment 1 needs 50 of the 100 slots churning within 100 days"):
        tight.slot_segments  # noqa: B018


def test_a_bound_no_lifetime_meets_is_one_line_before_spark_starts():
    from synthgen_spark.calendar import entity_model

    shipped = resources_text("healthcare_oltp_small")
    assert load_dataset("healthcare_oltp_small").table("patients").column("age_group").params["max_lifetime_days"] == {
        "children": 3650
    }
    dataset = parse_dataset(shipped.replace("{children: 3650}", "{children: 30}"), "healthcare.yaml")
    with pytest.raises(SpecError) as caught:
        entity_model(dataset, dataset.table("patients"), 42, 1.0, "en_US")
    message = str(caught.value)
    assert "column 'age_group': field 'max_lifetime_days': segment 1 needs 22 of the 100 slots" in message
    assert "\n" not in message
    dataset = parse_dataset(shipped.replace("{children: 3650}", "{kids: 3650}"), "healthcare.yaml")
    with pytest.raises(
        SpecError, match="field 'max_lifetime_days': 'kids' is not a segment: a value of the pool's age_group"
    ):
        entity_model(dataset, dataset.table("patients"), 42, 1.0, "en_US")


def resources_text(dataset_id: str) -> str:
    from importlib import resources

    return (resources.files("synthgen_spark") / "data" / "datasets" / f"{dataset_id}.yaml").read_text("utf-8")


OFFSETS = [
    ("band_weights: [1, 1], given: thing_id, cases: {'1': [1]}", "field 'cases'"),
    ("given: thing_id, cases: {'1': [1, 1]}", "field 'cases': needs band_weights"),
    ("band_weights: [1, 1], given: thing_id", "field 'cases': is missing"),
    ("band_weights: [1, 1], given: nope, cases: {'1': [1, 0]}", "field 'given'"),
]


@pytest.mark.parametrize(("params", "fragment"), OFFSETS)
def test_an_invalid_date_offset_given_another_column_is_one_line(mini_segment_dataset, params, fragment):
    line = f"      - {{name: born, kind: date_offset, min_days: -10, max_days: 0, {params}}}\n"
    with pytest.raises(SpecError) as caught:
        parse_dataset(mini_segment_dataset(things=line), "mini.yaml")
    message = str(caught.value)
    assert fragment in message and "column 'born'" in message and "\n" not in message


@pytest.mark.parametrize(
    ("bounds", "fragment"), [("[3650]", "must map segments to whole days"), ("{north: 0}", "must map segments")]
)
def test_an_invalid_lifetime_bound_is_one_line(bounds, fragment):
    text = SHOPS.replace("field: area}", f"field: area, max_lifetime_days: {bounds}}}", 1)
    with pytest.raises(SpecError) as caught:
        parse_dataset(text, "regions.yaml")
    assert fragment in str(caught.value) and "column 'area'" in str(caught.value)


@pytest.fixture(scope="module")
def clinic(spark, tmp_path_factory):
    """healthcare_oltp_small as written: a week at scale 0.1 (about 5,000 appointments and 3,500 prescriptions)."""
    from synthgen_spark.api import generate

    config = small_config(
        tmp_path_factory.mktemp("clinic"),
        dataset_id="healthcare_oltp_small",
        start_date="2024-03-04",
        end_date="2024-03-10",
        scale_factor=0.1,
    )
    return generate(config, spark, progress=None)


@pytest.mark.parametrize(
    ("table", "date"), [("appointments", "appointment_date"), ("prescriptions", "prescribed_date")]
)
def test_children_see_pediatricians_and_adults_never_do(spark, clinic, table, date):
    from pyspark.sql import functions as F

    patients = read_table(spark, clinic, "patients").select(
        "patient_id", "birth_date", F.col("snapshot_date").alias(date)
    )
    providers = read_table(spark, clinic, "providers").select("provider_id", "specialty")
    rows = read_table(spark, clinic, table).join(patients, ["patient_id", date]).join(providers, "provider_id")
    child = F.col("birth_date") > F.add_months(F.col(date), -216)  # under 18 on the date
    counts = {(c, p): n for c, p, n in rows.groupBy(child, F.col("specialty") == "Pediatrics").count().collect()}
    assert set(counts) == {(True, True), (False, False)}, counts  # exact: no child elsewhere, no adult there
    assert 0.04 < counts[(True, True)] / sum(counts.values()) < 0.25


def test_children_register_young_and_leave_before_they_turn_18(spark, clinic):
    from pyspark.sql import functions as F

    patients = read_table(spark, clinic, "patients")
    active = patients.where("patient_status = 'active'")
    at_registration = F.months_between("registration_date", "birth_date") / 12
    under = active.where(F.col("birth_date") > F.add_months(F.col("snapshot_date"), -216))
    assert under.count() > 0
    assert under.where(at_registration >= 8.01).count() == 0  # every child on the date registered aged 0-8
    assert active.where((at_registration > 8.01) & (at_registration < 18)).count() == 0
