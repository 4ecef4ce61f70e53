"""Runtime faults with real Spark and real files: one line naming the cause, exit 1, no stray output."""

from __future__ import annotations

import textwrap

from synthgen_spark.cli import main

OVERFLOWING = textwrap.dedent(
    """
    dataset_id: mini
    epoch: 2024-01-01
    tables:
      - name: events
        kind: incremental
        rows: 5
        primary_key: event_id
        primary_date_column: event_date
        columns:
          - {name: event_id, kind: sequence}
          - {name: event_date, kind: generation_date}
          - {name: big, kind: derived, type: "decimal(10,2)", expression: "event_id * 1e12"}
    """
)


def _generate(tmp_path, *flags: str) -> list[str]:
    return [
        "generate",
        "--start-date",
        "2024-02-01",
        "--end-date",
        "2024-02-01",
        "--output-root",
        str(tmp_path),
        *flags,
    ]


def test_a_value_the_column_type_cannot_hold_shows_sparks_own_error_in_one_line(spark, tmp_path, capsys):
    dataset = tmp_path / "d.yaml"
    dataset.write_text(OVERFLOWING)
    code = main(_generate(tmp_path / "out", "--dataset-id", "mini", "--dataset-file", str(dataset)))
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert len(err.splitlines()) == 1 and "cannot be represented as Decimal" in err and "errorClass" not in err, err
