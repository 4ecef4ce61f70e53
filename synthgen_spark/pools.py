"""Value pools built once with Faker on the driver (seeded), frozen as package data per locale.

Rows never call Faker: they pick from these pools by hash. Regenerate the frozen files with
``python -m synthgen_spark.pools en_US en_GB de_DE fr_FR``.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from synthgen_spark.catalog import LOCALE_POOL_FIELDS, PoolSpec
from synthgen_spark.errors import ConfigError, invalid

POOL_SEED = 20240101
POOL_SIZES = {"first_names": 400, "last_names": 400, "locations": 300, "streets": 300, "companies": 200}
LOCALE_POOLS = tuple(LOCALE_POOL_FIELDS)  # names and fields are the catalog's: it checks datasets against them


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

    def location() -> tuple[str, str, str]:
        if hasattr(fake, "postcode_in_state") and hasattr(fake, "state_abbr"):
            state = fake.state_abbr(include_territories=False)
            return (fake.city(), state, fake.postcode_in_state(state))
        region = fake.administrative_unit() if hasattr(fake, "administrative_unit") else ""
        return (fake.city(), region, fake.postcode())

    return {
        "first_names": {
            "fields": ["value"],
            "records": [[v] for v in _unique(fake.first_name, POOL_SIZES["first_names"])],
        },
        "last_names": {
            "fields": ["value"],
            "records": [[v] for v in _unique(fake.last_name, POOL_SIZES["last_names"])],
        },
        "locations": {
            "fields": ["city", "state", "postcode"],
            "records": [list(v) for v in _unique(location, POOL_SIZES["locations"])],
        },
        "streets": {"fields": ["value"], "records": [[v] for v in _unique(fake.street_address, POOL_SIZES["streets"])]},
        "companies": {"fields": ["value"], "records": [[v] for v in _unique(fake.company, POOL_SIZES["companies"])]},
        "email_domains": {
            "fields": ["value"],
            "records": [[v] for v in _unique(fake.free_email_domain, 8, attempts=200)],
        },
    }


@lru_cache(maxsize=8)
def load_locale_pools(locale: str) -> dict[str, PoolSpec]:
    """The locale's pools: the frozen package file if shipped, else built with Faker now."""
    frozen = resources.files("synthgen_spark") / "data" / "pools" / f"{locale}.yaml"
    raw = yaml.safe_load(frozen.read_text("utf-8")) if frozen.is_file() else build_locale_pools(locale)
    return {
        name: PoolSpec(name, tuple(body["fields"]), tuple(tuple(r) for r in body["records"]))
        for name, body in raw.items()
    }


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
