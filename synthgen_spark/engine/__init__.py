"""Engine: one DataFrame per table per batch (``engine.frames``), in five small modules.

``slicing`` (files, late-arrival segments and Spark tasks; pure), ``stages`` (named expressions, one
select), ``scope`` (what generators see of the rows), ``frames`` (the batch frame) and ``windows`` (one
frame that many small batches share). The names below are the engine's face.
"""

from synthgen_spark.engine.frames import (
    WINDOW_BATCHES,
    build_batch_frame,
    output_selection,
    required_columns,
    table_ddl,
)
from synthgen_spark.engine.scope import BatchFacts, RowScope
from synthgen_spark.engine.slicing import (
    LOCAL_INDEX,
    ROW_INDEX,
    ROWS_PER_TASK,
    SEGMENT_INDEX,
    FileSlice,
    file_segments,
    file_slices,
    task_count,
)
from synthgen_spark.engine.stages import StageError, Stages, quiet_query_context_logs
from synthgen_spark.engine.windows import FrameWindows
from synthgen_spark.layout import FILE_INDEX

__all__ = [
    "FILE_INDEX",
    "WINDOW_BATCHES",
    "LOCAL_INDEX",
    "ROW_INDEX",
    "ROWS_PER_TASK",
    "SEGMENT_INDEX",
    "BatchFacts",
    "FileSlice",
    "FrameWindows",
    "RowScope",
    "StageError",
    "Stages",
    "build_batch_frame",
    "file_segments",
    "file_slices",
    "output_selection",
    "quiet_query_context_logs",
    "required_columns",
    "table_ddl",
    "task_count",
]
