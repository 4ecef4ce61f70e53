"""Layout: where a job's outputs, ledger and report live (paths and Delta table names), without Spark.

The one place that reads which output mode a job writes: ``layout_for`` picks a ``FileLayout``
(csv, parquet) or a ``TableLayout`` (Delta); the planner and the sinks ask the layout, never the mode.
"""

from __future__ import annotations

import datetime as dt
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass

from synthgen_spark.config import JobConfig
from synthgen_spark.errors import SpecError

# the batch frame's column naming the file (of the batch's files, in plan order) a row belongs to
FILE_INDEX = "_sg_file_index"
LEDGER_NAME = "_synthgen_state.json"
LOCK_NAME = "_synthgen.lock"
TEMP_NAME = "_tmp"


@dataclass(frozen=True)
class Target:
    """Where one table-day goes: its files (one per chunk) for a file output, or the Delta table holding it."""

    files: tuple[str, ...] = ()
    table: str = ""  # a Delta table: its path (table_location=path) or its metastore name

    @property
    def places(self) -> tuple[str, ...]:
        """The files, or the table: what a user looks at."""
        return self.files or (self.table,)


def job_root(config: JobConfig) -> str:
    """``{output_root}/synthetic_data/{output_mode}/series/{dataset_id}/{job_name}/{path_format}``."""
    root = config.output_root.rstrip("/") or "/"
    parts = ("synthetic_data", config.output_mode, "series", config.dataset_id, config.job_name, config.path_format)
    return "/".join((root.rstrip("/"), *parts)) if root != "/" else "/" + "/".join(parts)


def tables_root(config: JobConfig) -> str:
    """The folder of a table output's path-mode tables and state: the job root without its path_format level."""
    return job_root(config).rsplit("/", 1)[0]


def inside_folder(root: str, path: str) -> str:
    """``path`` itself, checked to lie strictly inside ``root`` (no '..', '.' or empty segment).

    Names are validated where they are read; this is the layout's own guarantee, whatever built the spec.
    """
    rest = path[len(root) + 1 :].split("/") if path.startswith(root + "/") else [""]
    if any(part in ("", ".", "..") for part in rest):
        raise SpecError(f"layout: path {path[:200]!r} is not inside the job folder {root}; check table names")
    return path


def delta_table_name(config: JobConfig, table: str) -> str:
    """The metastore name of a dataset table's Delta table: ``[database.]{table_name_template}``."""
    name = config.table_name_template.format(dataset_id=config.dataset_id, table=table, job_name=config.job_name)
    return f"{config.database}.{name}" if config.database else name


def delta_table_path(config: JobConfig, table: str) -> str:
    """Path of a dataset table's Delta table when table_location is ``path``."""
    return inside_folder(tables_root(config), f"{tables_root(config)}/{table}")


def delta_target(config: JobConfig, table: str) -> str:
    """Where a table output writes a dataset table: a metastore name or a path."""
    return delta_table_path(config, table) if config.table_location == "path" else delta_table_name(config, table)


def file_paths(config: JobConfig, table: str, day: dt.date, parts: int) -> tuple[str, ...]:
    """The files of one table-day; a day split by chunk_size gets ``-00001``, ``-00002``... suffixes."""
    root, ext = job_root(config), config.output_mode  # a file output's mode is its format: csv or parquet
    if config.path_format == "nested":
        stem = f"{root}/{table}/{day:%Y/%m/%d}/data"
    else:  # Spark skips files whose names start with '_': the labels table's flat files are faults_{day}
        stem = f"{root}/{table}/{table.lstrip('_')}_{day:%Y%m%d}"
    if parts == 1:
        return (inside_folder(root, f"{stem}.{ext}"),)
    return tuple(inside_folder(root, f"{stem}-{i:05d}.{ext}") for i in range(1, parts + 1))


def day_files_pattern(path: str) -> tuple[str, re.Pattern[str]]:
    """The folder of a table-day's file ``path`` and a pattern matching the day's names under any chunking.

    A rewritten day deletes the names that match and are not among its new paths (another chunk_size
    before), so a day never holds files of two layouts.
    """
    folder, _, name = path.rpartition("/")
    stem, _, ext = re.sub(r"-\d{5}(?=\.[a-z]+$)", "", name).rpartition(".")
    return folder, re.compile(rf"{re.escape(stem)}(-\d{{5}})?\.{re.escape(ext)}")


@dataclass(frozen=True)
class Layout(ABC):
    """A job's places: each table-day's target, and the folder of its ledger, lock and report."""

    config: JobConfig

    @abstractmethod
    def target(self, table: str, day: dt.date, parts: int) -> Target:
        """Where ``table`` on ``day`` goes, split into ``parts`` files where the output is files."""

    @property
    @abstractmethod
    def state_folder(self) -> str:
        """The folder of the ledger, the lock, the report and the run's temp files."""

    @property
    def moves_files(self) -> bool:
        """True where Spark writes files this process renames into place (the file system must be shared)."""
        return False

    @property
    def ledger_path(self) -> str:
        return f"{self.state_folder}/{LEDGER_NAME}"

    @property
    def lock_path(self) -> str:
        return f"{self.state_folder}/{LOCK_NAME}"

    @property
    def temp_folder(self) -> str:
        """The ledger's temp files, and a file output's batches before their renames."""
        return f"{self.state_folder}/{TEMP_NAME}"


@dataclass(frozen=True)
class FileLayout(Layout):
    """csv or parquet: ``{job root}/{table}/{YYYY}/{MM}/{DD}/data.{ext}`` or ``{table}/{table}_{YYYYMMDD}.{ext}``."""

    def target(self, table: str, day: dt.date, parts: int) -> Target:
        return Target(files=file_paths(self.config, table, day, parts))

    @property
    def file_format(self) -> str:
        """``csv`` or ``parquet``: a file output's mode is its format."""
        return self.config.output_mode

    @property
    def state_folder(self) -> str:
        return job_root(self.config)

    @property
    def moves_files(self) -> bool:
        return True


@dataclass(frozen=True)
class TableLayout(Layout):
    """Delta: one table per dataset table (a metastore name or a path), whatever the day or chunking."""

    def target(self, table: str, day: dt.date, parts: int) -> Target:
        return Target(table=delta_target(self.config, table))

    @property
    def state_folder(self) -> str:
        """One state folder per set of target tables beside the path-mode tables (another template is another output)."""
        config = self.config
        tables = f"{config.table_location}_{config.database or ''}_{config.table_name_template}"
        return f"{tables_root(config)}/_state_{re.sub(r'[^A-Za-z0-9]+', '_', tables).strip('_')}"


def layout_for(config: JobConfig) -> Layout:
    """The job's layout: the one place that asks which output mode the config names."""
    return TableLayout(config) if config.output_mode == "table" else FileLayout(config)


def state_folder(config: JobConfig) -> str:
    """The folder that holds the job's ledger, lock and report."""
    return layout_for(config).state_folder
