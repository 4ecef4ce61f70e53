"""The same seed gives the same data on every supported Spark version (pinned content checksums)."""

from __future__ import annotations

import json

from .golden import GOLDEN_FILE, table_checksums


def test_data_matches_the_golden_checksums(spark):
    expected = json.loads(GOLDEN_FILE.read_text())
    assert table_checksums(spark) == expected, (
        "data changed: if deliberate, run `make golden` and note it in CHANGELOG.md"
    )
