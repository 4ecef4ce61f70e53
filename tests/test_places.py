"""Places and phones: real US cities weighted by population, a phone valid in the US with an area code of the
customer's state (checked with the phonenumbers package), and weighted pools in general."""

from __future__ import annotations

import math
from collections import Counter

import phonenumbers
import pytest
from phonenumbers import geocoder

from synthgen_spark.api import frames
from synthgen_spark.catalog import parse_dataset
from synthgen_spark.errors import SpecError
from synthgen_spark.generators.categorical import weighted_slots
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
    return [r.asDict() for r in frame.select("customer_id", "city", "state", "postcode", "phone").collect()]


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
