"""Task slicing: a batch's table-days as files (row ranges; with late arrivals, their segments) and the files
grouped into Spark tasks. Pure: no Spark.

With P files of at most S rows, id ``f*S + i`` is row i of file f; the ids past a file's size are
filtered out. Files are grouped into T Spark tasks of G = ceil(P/T) whole files each: one file per
task for large files, fewer tasks than files for many small ones. The grouping never changes data.
"""

from __future__ import annotations

from dataclasses import dataclass

from synthgen_spark.planner import TableDay

ROW_INDEX = "_sg_row_index"
LOCAL_INDEX = "_sg_local"
SEGMENT_INDEX = "_sg_segment"
ROWS_PER_TASK = 1_000_000  # small files are grouped into tasks of about this many rows at most


@dataclass(frozen=True)
class FileSlice:
    """Rows [start, start + rows) of one table-day, written as one file."""

    table_day: TableDay
    start: int
    rows: int


def file_slices(table_days: list[TableDay]) -> list[FileSlice]:
    """Split each table-day into its files: balanced parts of at most chunk_size rows, in order."""
    return [file[0] for file in file_segments(table_days)]


def file_segments(table_days: list[TableDay]) -> list[list[FileSlice]]:
    """Each file of the table-days as its slices: one per event day whose rows it holds (late arrivals)."""
    files = []
    for td in table_days:
        pieces = [FileSlice(s.source, s.start, s.rows) for s in td.segments] or [FileSlice(td, 0, td.rows)]
        bounds = [td.rows * i // td.partitions for i in range(td.partitions + 1)]
        files.extend(_cut(pieces, lo, hi) for lo, hi in zip(bounds, bounds[1:], strict=False))
    return files


def _cut(pieces: list[FileSlice], low: int, high: int) -> list[FileSlice]:
    """The slices of rows [low, high) of ``pieces`` laid end to end (one empty slice when there are none)."""
    cut, offset = [], 0
    for piece in pieces:
        first, end = max(low, offset), min(high, offset + piece.rows)
        if first < end:
            cut.append(FileSlice(piece.table_day, piece.start + first - offset, end - first))
        offset += piece.rows
    return cut or [FileSlice(pieces[0].table_day, pieces[0].start + low, 0)]


def task_count(slices: list[FileSlice], parallelism: int) -> int:
    """Spark tasks for a batch's files: at least ``parallelism`` and about ROWS_PER_TASK rows each.

    Every task writes whole files, so there are never more tasks than files. Empty files keep a task
    of their own (a task writes a file for every file index it sees, and an empty one sees none).
    """
    if len(slices) == 1 or min(s.rows for s in slices) == 0:
        return len(slices)
    rows = sum(s.rows for s in slices)
    return min(len(slices), max(parallelism, -(-rows // ROWS_PER_TASK)))
