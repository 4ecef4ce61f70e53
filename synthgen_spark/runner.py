"""Runner: plan -> batches (optionally concurrent) -> files -> RunReport, with one progress line per batch."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import socket
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from threading import Lock

from pyspark.errors import AnalysisException
from pyspark.sql import SparkSession

from synthgen_spark.engine import build_batch_frame
from synthgen_spark.errors import SpecError
from synthgen_spark.planner import Batch, Plan, TableDay, job_root
from synthgen_spark.session import generation_settings
from synthgen_spark.state import Ledger, StateStore, fingerprint
from synthgen_spark.writers import HadoopFileSystem, check_delta_schema, write_delta, write_files

Progress = Callable[[str], None]


@dataclass(frozen=True)
class TableDayResult:
    """One table on one date as written: rows (from the plan) and the files."""

    table: str
    date: dt.date
    rows: int
    paths: tuple[str, ...]


@dataclass(frozen=True)
class RunReport:
    """What a run wrote, per table per day, plus totals and timing."""

    run_id: str
    job_name: str
    dataset_id: str
    seed_value: int
    output_root: str
    results: tuple[TableDayResult, ...]
    seconds: float
    output_mode: str = "parquet"
    skipped_days: int = 0

    @property
    def total_rows(self) -> int:
        return sum(r.rows for r in self.results)

    def rows_by_table(self) -> dict[str, int]:
        """Total rows per table, in dataset order."""
        totals: dict[str, int] = {}
        for result in self.results:
            totals[result.table] = totals.get(result.table, 0) + result.rows
        return totals

    def summary(self) -> str:
        """A readable table of rows and files per table, and where they are."""
        lines = [f"run {self.run_id}: dataset {self.dataset_id}, job {self.job_name}, seed {self.seed_value}"]
        lines.append(f"{'table':<20} {'days':>5} {'files':>6} {'rows':>14}")
        for table, rows in self.rows_by_table().items():
            mine = [r for r in self.results if r.table == table]
            files = sum(len(r.paths) for r in mine)
            lines.append(f"{table:<20} {len(mine):>5} {files:>6} {rows:>14,}")
        lines.append(
            f"{'total':<20} {len(self.results):>5} {sum(len(r.paths) for r in self.results):>6} {self.total_rows:>14,}"
        )
        targets = sorted({r.paths[0] for r in self.results}) if self.output_mode == "table" else [self.output_root]
        lines.append(f"written to {', '.join(targets)} in {self.seconds:.1f} s")
        if self.skipped_days:
            lines.append(f"skipped {self.skipped_days} days already generated")
        return "\n".join(lines)


def _batch_tables(batch: Batch) -> list[list[TableDay]]:
    groups: dict[str, list[TableDay]] = {}
    for td in batch.table_days:
        groups.setdefault(td.table.name, []).append(td)
    return list(groups.values())


def _analyse_first_batch(spark: SparkSession, plan: Plan, fs: HadoopFileSystem) -> None:
    """Resolve every table's DataFrame (and check existing Delta tables) before writing anything."""
    for table_days in _batch_tables(plan.batches[0]):
        try:
            schema = build_batch_frame(spark, plan.config, plan.dataset, table_days).schema
        except AnalysisException as exc:
            first_line = str(exc).strip().splitlines()[0]
            raise SpecError(f"{plan.dataset.source}: table '{table_days[0].table.name}': {first_line}") from None
        if plan.config.output_mode == "table":
            check_delta_schema(spark, plan.config, table_days[0].table, table_days[0].paths[0], schema, fs)
    if plan.config.output_mode == "table" and plan.config.database and plan.config.table_location == "metastore":
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {plan.config.database}")


def pending_plan(plan: Plan, ledger: Ledger) -> tuple[Plan, int]:
    """The plan without the table-days the ledger has (unless ignore_state), and the number of skipped days."""
    if plan.config.ignore_state:
        return plan, 0
    batches, skipped_dates = [], set()
    for batch in plan.batches:
        remaining = tuple(td for td in batch.table_days if not ledger.is_done(td.table.name, td.date))
        skipped_dates |= {td.date for td in batch.table_days if td not in remaining}
        if remaining:
            batches.append(Batch(len(batches), batch.dates, remaining))
    left_dates = {td.date for b in batches for td in b.table_days}
    in_range = set(plan.config.dates)
    return dataclasses.replace(plan, batches=tuple(batches)), len((skipped_dates - left_dates) & in_range)


def run_plan(spark: SparkSession, plan: Plan, progress: Progress | None = None) -> RunReport:
    """Generate and write every batch of ``plan`` not already in the job's ledger.

    Holds the job's lock for the whole run; ``parallel_workers`` batches run at once; the ledger
    records each batch once all of its files are in place. Row counts come from the plan: nothing
    is counted or collected.
    """
    say = progress or (lambda _line: None)
    config = plan.config
    run_id = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    root = job_root(config)
    fs = HadoopFileSystem(spark)
    _analyse_first_batch(spark, plan, fs)  # before anything is written, even the lock
    store = StateStore(fs, config)
    temp_root = f"{store.temp_folder}/{run_id}"
    store.acquire_lock(run_id, lambda line: say(f"warning: {line}"))
    try:
        ledger = store.open_ledger(fingerprint(config, plan.dataset))
        todo, skipped = pending_plan(plan, ledger)
        if skipped:
            say(f"skipped {skipped} days already generated (use --ignore-state to regenerate them)")
        store.clear_temp()  # leftovers of killed runs; we hold the lock, so no run is using them
        run = {
            "run_id": run_id,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "status": "running",
            "dates": f"{config.start_date}..{config.end_date}",
            "seed_value": config.seed_value,
        }
        ledger.runs.append(run)
        store.save(ledger)
        started = time.monotonic()
        with generation_settings(spark):
            _write_batches(spark, todo, run_id, temp_root, fs, store, ledger, say)
        run["status"] = "completed"
    except BaseException:
        if "run" in locals():
            run["status"] = "failed"
        raise
    finally:
        if "run" in locals():
            store.save(ledger)
        if config.output_mode != "table":
            fs.delete(temp_root)
        store.drop_empty_temp()
        store.release_lock()
    results = tuple(TableDayResult(td.table.name, td.date, td.rows, td.paths) for td in todo.table_days)
    seconds = time.monotonic() - started
    return RunReport(
        run_id,
        config.job_name,
        config.dataset_id,
        config.seed_value,
        root,
        results,
        seconds,
        config.output_mode,
        skipped,
    )


def _write_batches(spark, plan: Plan, run_id, temp_root, fs, store: StateStore, ledger: Ledger, say: Progress) -> None:
    config = plan.config
    started = time.monotonic()
    done_rows, lock = [0], Lock()
    table_locks = {td.table.name: Lock() for td in plan.table_days}  # one Delta commit per table at a time

    def run_batch(batch: Batch) -> None:
        batch_started = time.monotonic()
        for table_days in _batch_tables(batch):
            frame = build_batch_frame(spark, config, plan.dataset, table_days, config.output_mode != "table")
            if config.output_mode == "table":
                with table_locks[table_days[0].table.name]:
                    write_delta(frame, table_days, config, run_id)
                continue
            temp_dir = f"{temp_root}/batch{batch.index:05d}_{table_days[0].table.name}"
            write_files(frame, table_days, config.output_mode, temp_dir, fs)
        with lock:
            for td in batch.table_days:
                ledger.record(td.table.name, td.date, td.rows, run_id)
            store.save(ledger)
            done_rows[0] += batch.rows
            elapsed = time.monotonic() - started
            remaining = elapsed * (plan.total_rows - done_rows[0]) / max(done_rows[0], 1)
            say(
                f"batch {batch.index + 1}/{len(plan.batches)} {batch.dates[0]}..{batch.dates[-1]}: "
                f"{len(_batch_tables(batch))} tables, {batch.rows:,} rows in {time.monotonic() - batch_started:.1f} s; "
                f"ETA {remaining:.1f} s"
            )

    if config.parallel_workers == 1:
        for batch in plan.batches:
            run_batch(batch)
        return
    with ThreadPoolExecutor(max_workers=config.parallel_workers, thread_name_prefix="synthgen") as pool:
        for future in [pool.submit(run_batch, b) for b in plan.batches]:
            future.result()
