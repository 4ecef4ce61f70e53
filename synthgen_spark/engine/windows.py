"""Windows: one analysed frame for many small batches of a table.

Spark parses and analyses a frame's expressions in about the time it takes to write a small day, so a run of
one-day batches would spend most of its driver time building the same frame again with other facts. A window
frame covers WINDOW_BATCHES consecutive batches of one file each (``engine.build_batch_frame(window=True)``):
it is built once, and each batch takes its file's rows with a filter (``engine.window_batch``), which Spark's
optimiser applies to the window's inline table of files while planning, so the batch still runs as one task.
A listed change feed's window is one task too; its filter applies after the listed changes are checked
(``engine.frames.window_length``), so a feed's window is as long as lists few of them.

The data is the same as the batch's own frame: a row's values depend on its file's facts and its row index
alone. Batches, their writes, progress and resume are unchanged: only the frames are shared.
"""

from __future__ import annotations

import datetime as dt
from threading import Lock

from pyspark.sql import DataFrame, SparkSession

from synthgen_spark.engine.frames import build_batch_frame, window_batch, window_length, windowable
from synthgen_spark.planner import Plan, TableDay, by_table


class FrameWindows:
    """The window frames of a run's plan, built when a batch first asks for one (from any thread).

    >>> windows = FrameWindows(spark, plan)  # doctest: +SKIP
    >>> frame = windows.frame(table_days)  # one table's table-days of a batch; None: build the batch's own
    """

    def __init__(self, spark: SparkSession, plan: Plan) -> None:
        self.spark, self.plan = spark, plan
        self._days: dict[str, list[TableDay]] = {}  # per table, its one-day batches' table-days in order
        self._index: dict[tuple[str, dt.date], int] = {}  # (table, date) -> its place in ``_days``
        for batch in plan.batches:
            for table_days in by_table(list(batch.table_days)).values():
                if len(table_days) == 1:
                    name = table_days[0].table.name
                    self._index[(name, table_days[0].date)] = len(self._days.setdefault(name, []))
                    self._days[name].append(table_days[0])
        self._lengths = {name: window_length(plan.config, plan.dataset, days) for name, days in self._days.items()}
        self._built: dict[str, tuple[int, DataFrame | None]] = {}  # per table, its latest window (start, frame)
        self._lock = Lock()

    def frame(self, table_days: list[TableDay]) -> DataFrame | None:
        """The batch's rows of one table from its window frame, or None where the table-days have no window
        (several days in the batch, a table that cannot share one, a window of one batch)."""
        if len(table_days) != 1:
            return None
        name = table_days[0].table.name
        index = self._index.get((name, table_days[0].date))
        if index is None:
            return None
        length = self._lengths[name]
        start = index - index % length
        with self._lock:
            latest = self._built.get(name)
            if latest is None or latest[0] != start:  # a batch's window is built once, the run goes forward
                days = self._days[name][start : start + length]
                config, dataset = self.plan.config, self.plan.dataset
                shared = len(days) > 1 and windowable(config, dataset, days)
                window = build_batch_frame(self.spark, config, dataset, days, window=True) if shared else None
                latest = self._built[name] = (start, window)
        window = latest[1]
        return None if window is None else window_batch(window, index - start)
