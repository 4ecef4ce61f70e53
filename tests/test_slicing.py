"""Task slicing: table-days into files and files into Spark tasks (pure, no Spark)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from synthgen_spark.engine.slicing import ROWS_PER_TASK, file_segments, file_slices, task_count


def table_day(rows: int, partitions: int = 1, day: int = 1, segments: tuple = ()) -> SimpleNamespace:
    return SimpleNamespace(rows=rows, partitions=partitions, date=dt.date(2024, 3, day), segments=segments)


@pytest.mark.parametrize(("rows", "parts"), [(0, 1), (1, 1), (10, 3), (1_000_001, 4), (7, 7)])
def test_a_day_splits_into_balanced_contiguous_files(rows, parts):
    slices = file_slices([table_day(rows, parts)])
    assert len(slices) == parts
    assert [s.start for s in slices] == [sum(s.rows for s in slices[:i]) for i in range(parts)]
    assert sum(s.rows for s in slices) == rows
    assert max(s.rows for s in slices) - min(s.rows for s in slices) <= 1


def test_files_keep_the_order_of_their_days():
    days = [table_day(5, 2, day=1), table_day(3, 1, day=2)]
    assert [(s.table_day.date.day, s.start, s.rows) for s in file_slices(days)] == [(1, 0, 2), (1, 2, 3), (2, 0, 3)]


def test_a_late_day_cuts_its_event_day_segments_at_the_file_bounds():
    early, late = table_day(100, day=1), table_day(100, day=2)
    segments = (SimpleNamespace(source=early, start=90, rows=4), SimpleNamespace(source=late, start=0, rows=6))
    files = file_segments([table_day(10, partitions=2, day=2, segments=segments)])
    pieces = [[(s.table_day.date.day, s.start, s.rows) for s in f] for f in files]
    assert pieces == [[(1, 90, 4), (2, 0, 1)], [(2, 1, 5)]]


def test_many_small_files_share_tasks_but_never_fewer_than_the_parallelism():
    slices = file_slices([table_day(1_000, day=d) for d in range(1, 29)])
    assert task_count(slices, parallelism=2) == 2
    assert task_count(slices, parallelism=8) == 8
    assert task_count(slices, parallelism=64) == 28  # never more tasks than files


def test_large_files_get_a_task_each_and_empty_files_keep_their_own():
    big = file_slices([table_day(ROWS_PER_TASK, day=d) for d in range(1, 5)])
    assert task_count(big, parallelism=2) == 4
    with_empty = file_slices([table_day(0, day=1), table_day(10, day=2), table_day(10, day=3)])
    assert task_count(with_empty, parallelism=1) == 3
    assert task_count(file_slices([table_day(5)]), parallelism=8) == 1


def test_slicing_runs_without_spark():
    import ast
    from pathlib import Path

    import synthgen_spark.engine.slicing as slicing

    tree = ast.parse(Path(slicing.__file__).read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert imported and not any(m.startswith("pyspark") for m in imported)
