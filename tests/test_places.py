"""People and places: real US cities weighted by population, a phone valid in the US with an area code of the
customer's state (checked with the phonenumbers package), weighted pools, first names of the recorded sex and
ages by a population pyramid."""

from __future__ import annotations

import math
from collections import Counter

import phonenumbers
import pytest
from phonenumbers import geocoder

from synthgen_spark.api import frames
from synthgen_spark.catalog import parse_dataset
from synthgen_spark.errors import SpecError
from synthgen_spark.generators import sql
from synthgen_spark.generators.categorical import slot_blocks, weighted_pool_index, weighted_slots
from synthgen_spark.generators.core import bounded_index, hash_key
from synthgen_spark.pools import load_locale_pools

from .helpers import small_config

# the independent oracle for "an area code of the customer's state": phonenumbers names a number's place
# either "City, ST" or by the state's full name
STATES = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA", "Colorado": "CO",
    "Connecticut": "CT", "Delaware": "DE", "Florida": "FL", "Georgia": "GA", "Hawaii": "HI", "Idaho": "ID",
    "Illinois": "IL", "Indiana": "IN", "Iowa": "IA", "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA",
    "Maine": "ME", "Maryland": "MD", "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN",
    "Mississippi": "MS", "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV",
    "New Hampshire": "NH", "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY", "North Carolina": "NC",
    "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA",
    "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN", "Texas": "TX",
    "Utah": "UT", "Vermont": "VT", "Virginia": "VA", "Washington State": "WA", "West Virginia": "WV",
    "Wisconsin": "WI", "Wyoming": "WY", "Washington D.C.": "DC",
}  # fmt: skip


def _state_of(number: phonenumbers.PhoneNumber) -> str | None:
    place = geocoder.description_for_number(number, "en")
    city, _, state = place.rpartition(", ")
    return state if city else STATES.get(place)


@pytest.fixture(scope="module")
def customers(spark, tmp_path_factory):
    config = small_config(tmp_path_factory.mktemp("places"), end_date="2024-02-01", scale_factor=0.2)
    frame = frames(config, spark)["customers"]
    columns = ["customer_id", "city", "state", "postcode", "phone", "birth_date", "signup_date"]
    return [r.asDict() for r in frame.select(*columns).collect()]


@pytest.fixture(scope="module")
def patients(spark, tmp_path_factory):
    config = small_config(
        tmp_path_factory.mktemp("patients"), dataset_id="healthcare_oltp_small", end_date="2024-02-01"
    )
    frame = frames(config, spark)["patients"]
    return [r.asDict() for r in frame.select("sex", "first_name", "birth_date", "registration_date").collect()]


def _age(born, on) -> float:
    return (on - born).days / 365.25


def test_every_phone_is_valid_in_the_us_with_an_area_code_of_the_customers_state(customers):
    assert len(customers) > 1000
    for row in customers:
        number = phonenumbers.parse(row["phone"], "US")
        assert phonenumbers.is_valid_number_for_region(number, "US"), row
        assert _state_of(number) == row["state"], row
        assert len(row["postcode"]) == 5 and row["postcode"].isdigit(), row


def test_cities_are_real_and_as_common_as_their_population(customers):
    pool = load_locale_pools("en_US")["locations"]
    population = {(r[0], r[1]): r[4] for r in pool.records}
    assert ("New York City", "NY") in population and ("Los Angeles", "CA") in population
    seen = Counter((row["city"], row["state"]) for row in customers)
    assert set(seen) <= set(population)
    share = population[("New York City", "NY")] / sum(population.values())
    n = len(customers)
    expected, sigma = n * share, math.sqrt(n * share * (1 - share))
    assert abs(seen[("New York City", "NY")] - expected) < 4 * sigma
    assert seen.most_common(1)[0][0] in {("New York City", "NY"), ("Los Angeles", "CA"), ("Brooklyn", "NY")}


def test_weighted_slots_follow_the_weights_and_keep_every_weighted_record():
    slots = weighted_slots((5.0, 0.0001, 2.0, 0.0))
    counts = Counter(slots)
    assert len(slots) == 8192 and counts[2] == 1 and 4 not in counts
    assert abs(counts[1] / counts[3] - 2.5) < 0.01


def _blocks_read(table: tuple[int, ...], slot: int) -> int:
    firsts, masks, records = slot_blocks(table)
    block, j = divmod(slot, 32)
    return records[firsts[block] + bin(masks[block] & ((2 << j) - 1)).count("1")]


WEIGHT_SETS = {
    "populations": tuple(float((i * 7919) % 1000 + 1) for i in range(1000)),  # every record weighted
    "with zeros": tuple(float(i % 7 == 0) * (i % 5 + 0.01) for i in range(700)),  # records without a slot
}


@pytest.mark.parametrize("name", list(WEIGHT_SETS))
def test_slot_blocks_read_every_slot_as_the_slot_table_does(name):
    table = weighted_slots(WEIGHT_SETS[name])
    assert [_blocks_read(table, s) for s in range(len(table))] == list(table)


@pytest.mark.parametrize("name", list(WEIGHT_SETS))
def test_a_weighted_pick_by_blocks_equals_the_slot_table_read_in_spark(spark, name):
    """The SQL of the block read (bit counts) picks, row by row, the record the 8,192-entry array would."""
    table = weighted_slots(WEIGHT_SETS[name])
    key = sql.col("id")
    by_blocks = weighted_pool_index(key, 77, WEIGHT_SETS[name])
    by_array = sql.element_at(
        sql.lit(list(table)), (bounded_index(hash_key(key, 77), len(table)) + sql.lit(1)).cast("int")
    )
    assert by_blocks.sql.count(",") < 1_200 < 8_192 < by_array.sql.count(",")  # literals Spark parses
    frame = spark.range(0, 50_000).selectExpr(f"{by_blocks.sql} AS picked", f"{by_array.sql} AS expected")
    assert frame.where("picked IS NULL OR picked <> expected").count() == 0
    assert frame.select("picked").distinct().count() > len(set(table)) / 2  # many records, not one


@pytest.mark.parametrize("weight", ["-1", "'heavy'", "0"])
def test_a_bad_pool_weight_is_a_one_line_error_naming_the_pool(weight):
    text = f"""
dataset_id: shop
pools:
  towns: {{fields: [value, weight], records: [[a, {weight}], [b, 0]]}}
tables:
  - name: people
    kind: snapshot
    primary_key: person_id
    columns:
      - {{name: person_id, kind: sequence}}
      - {{name: town, kind: pool, pool: towns}}
"""
    with pytest.raises(SpecError, match=r"^shop.yaml: pool 'towns': field 'weight': is not a weight") as caught:
        parse_dataset(text, source="shop.yaml")
    assert "\n" not in str(caught.value)


def test_a_patients_first_name_is_one_of_their_recorded_sex(patients):
    pools = load_locale_pools("en_US")
    female = {r[0] for r in pools["first_names_female"].records}
    male = {r[0] for r in pools["first_names_male"].records}
    by_sex = Counter(p["sex"] for p in patients)
    assert by_sex["F"] > 300 and by_sex["M"] > 300
    for patient in patients:
        if patient["sex"] in {"F", "M"}:
            assert patient["first_name"] in (female if patient["sex"] == "F" else male), patient


def test_ages_follow_the_population_pyramid_not_a_uniform(patients, customers):
    """Patients: 22 % children registered aged 0-8 (they leave before 18), 78 % adults registered from 18 by the US
    pyramid in 2-year bands (docs/datasets.md); customers: adults by the pyramid."""
    ages = [_age(p["birth_date"], p["registration_date"]) for p in patients]
    n = len(ages)
    assert all(0 <= a < 90.07 for a in ages) and not any(8.01 < a < 18 for a in ages)
    children = sum(a < 8.01 for a in ages) / n
    assert abs(children - 0.22) < 4 * math.sqrt(0.22 * 0.78 / n)
    decade = Counter(min(int(a // 10), 8) for a in ages if a >= 18)
    adults = sum(decade.values())
    for band, weight in {8: 3.1, 7: 7.3, 4: 12.3, 1: 2.6}.items():  # the US pyramid's shares (2020), 18-20 for 10-20
        share = weight / 77.2  # of the adults' band weights: 5 x (0.62 + 1.46 + 2.38 + 2.58 + 2.46 + 2.68 + 2.74) + 2.6
        assert abs(decade[band] / adults - share) < 4 * math.sqrt(share * (1 - share) / adults), (band, decade)
    assert decade[8] / adults < 0.05 < decade[7] / adults  # a uniform over 18-90 years would give each decade 14 %
    adults = [_age(c["birth_date"], c["signup_date"]) for c in customers]
    assert all(18 <= a < 80.01 for a in adults)
    assert sum(a >= 75 for a in adults) / len(adults) < 0.08 < sum(25 <= a < 35 for a in adults) / len(adults)


@pytest.mark.parametrize("weights", ["[]", "[1, -2]", "[0, 0]", "heavy", "[1, 1, 1, 1]"])
def test_bad_band_weights_are_a_one_line_error_naming_the_column(weights):
    text = f"""
dataset_id: shop
tables:
  - name: people
    kind: snapshot
    rows: 10
    primary_key: person_id
    columns:
      - {{name: person_id, kind: sequence}}
      - {{name: born, kind: date_offset, min_days: -2, max_days: 0, band_weights: {weights}}}
"""
    pattern = r"^shop.yaml: table 'people': column 'born': field 'band_weights': must be a list of weights"
    with pytest.raises(SpecError, match=pattern) as caught:
        parse_dataset(text, source="shop.yaml")
    assert "\n" not in str(caught.value) and "1 to 3 numbers" in str(caught.value)
