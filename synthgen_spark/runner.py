"""Runner: plan -> batches (optionally concurrent) -> files -> RunReport, with one progress line per batch."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import html
import json
import os
import re
import socket
import time
import uuid
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from threading import Lock

from pyspark.errors import AnalysisException
from pyspark.sql import SparkSession

from synthgen_spark.engine import build_batch_frame, quiet_query_context_logs
from synthgen_spark.errors import SpecError, WriteError
from synthgen_spark.lateness import lateness_manifest, manifest_name
from synthgen_spark.layout import job_root
from synthgen_spark.planner import Batch, Plan, TableDay, by_table, check_output_root
from synthgen_spark.reporting import JobReport, write_report
from synthgen_spark.session import generation_settings
from synthgen_spark.state import Ledger, StateStore, fingerprint
from synthgen_spark.writers import FileSystem, Sink, open_file_system, open_sink

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
    report: JobReport | None = None  # the job's report (report.json's facts), None if it could not be written
    lateness: dict | None = None  # the lateness manifest (docs/lateness.md), None without late tables
    written_to: tuple[str, ...] = ()  # the job folder, or the tables (default: output_root)

    def _repr_html_(self) -> str:
        """The job's report in a notebook cell (Jupyter, Fabric, Databricks), else the summary."""
        if self.report is None:
            return f"<pre>{html.escape(self.summary())}</pre>"
        return self.report._repr_html_()

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
        lines.append(f"written to {', '.join(self.written_to or (self.output_root,))} in {self.seconds:.1f} s")
        if self.skipped_days:
            lines.append(f"skipped {self.skipped_days} days already generated")
        return "\n".join(lines)


def _batch_tables(batch: Batch) -> list[list[TableDay]]:
    return list(by_table(list(batch.table_days)).values())


def _analyse_first_batch(spark: SparkSession, plan: Plan, fs: FileSystem, sink: Sink) -> None:
    """Resolve every table's DataFrame, then let the sink check (and create) its tables, before writing anything."""
    schemas = []
    for table_days in _batch_tables(plan.batches[0]):
        try:
            schema = build_batch_frame(spark, plan.config, plan.dataset, table_days, parallelism=fs.parallelism).schema
        except AnalysisException as exc:
            first_line = str(exc).strip().splitlines()[0]
            raise SpecError(f"{plan.dataset.source}: table '{table_days[0].table.name}': {first_line}") from None
        schemas.append((table_days, schema))
    sink.prepare(schemas)


def missing_outputs(plan: Plan, ledger: Ledger, sink: Sink) -> set[tuple[str, dt.date]]:
    """Table-days the ledger has whose output is gone: a file missing or empty, a Delta table or date missing."""
    return sink.missing([td for td in plan.table_days if ledger.is_done(td.table.name, td.date)])


def java_cause(exc: Exception) -> str:
    """The most telling line of a (Py4J-wrapped) Java error: the innermost 'SomeException: message'."""
    lines = [line.strip() for line in str(exc).splitlines()]
    causes = [line for line in lines if re.match(r"^(Caused by: )?[\w.$]+(Exception|Error): ", line)]
    line = causes[-1] if causes else (lines or [""])[0]
    return re.sub(r"^(Caused by: )?([\w$]+\.)+(?=\w+(Exception|Error): )", "", line)[:300]


def check_output_usable(plan: Plan, fs: FileSystem, store: StateStore, sink: Sink) -> None:
    """Before anything is written: Hadoop can use the output root, the ledger is a file, the sink's places are usable.

    Raises:
        WriteError: one line naming the path and the cause (instead of a Py4J stack later).
    """
    check_output_root(plan.config)
    try:
        fs.exists(store.folder)
    except Exception as exc:  # py4j: no FileSystem for the scheme, connector class missing, no credentials
        raise WriteError(f"output_root {plan.config.output_root}: Hadoop cannot use it ({java_cause(exc)})") from None
    if fs.exists(store.ledger_path) and fs.file_size(store.ledger_path) is None:
        raise WriteError(f"state: ledger {store.ledger_path} is a folder, not a file; move it away")
    sink.check_usable()


def pending_plan(
    plan: Plan, ledger: Ledger, missing: AbstractSet[tuple[str, dt.date]] = frozenset()
) -> tuple[Plan, int]:
    """The plan without the table-days the ledger has (unless ignore_state or ``missing``), and the skipped days."""
    if plan.config.ignore_state:
        return plan, 0
    batches, skipped_dates = [], set()
    for batch in plan.batches:
        remaining = tuple(
            td
            for td in batch.table_days
            if not ledger.is_done(td.table.name, td.date) or (td.table.name, td.date) in missing
        )
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
    is counted or collected. The run report is written at the end, of a failed run too.
    """
    say = progress or (lambda _line: None)
    run_started = time.monotonic()
    config = plan.config
    run_id = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    root = job_root(config)
    fs = open_file_system(spark, plan.layout)
    store = StateStore(fs, config)
    sink = open_sink(spark, plan, fs, run_id)
    check_output_usable(plan, fs, store, sink)
    _analyse_first_batch(spark, plan, fs, sink)  # before anything is written, even the lock
    store.acquire_lock(run_id, lambda line: say(f"warning: {line}"))
    interrupted = False
    try:
        planned = {(td.table.name, td.date.isoformat()) for td in plan.table_days}
        ledger = store.open_ledger(fingerprint(config, plan.dataset), planned)
        missing = set() if config.ignore_state else missing_outputs(plan, ledger, sink)
        if missing:
            first = min(missing, key=lambda item: (item[1], item[0]))
            say(
                f"warning: {len(missing)} table-days in the ledger have missing or empty output (first: "
                f"{first[0]} {first[1]}); generating them again"
            )
        todo, skipped = pending_plan(plan, ledger, missing)
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
            "started_at": _now(),
            "batches": [],
        }
        ledger.runs.append(run)
        store.save(ledger)
        started = time.monotonic()
        with generation_settings(spark), quiet_query_context_logs():  # the raised error tells the cause
            _write_batches(spark, todo, run, sink, store, ledger, say)
        run["status"] = "completed"
        lateness = _write_lateness_manifest(todo, run_id, fs, store)
    except BaseException as exc:
        interrupted = isinstance(exc, KeyboardInterrupt)
        if "run" in locals():
            run["status"] = "interrupted" if interrupted else "failed"
        raise
    finally:
        # after Ctrl-C the JVM may be gone too: the interruption, not a Py4J error, is what the user sees
        with contextlib.suppress(Exception) if interrupted else contextlib.nullcontext():
            if "run" in locals():
                run["seconds"] = round(time.monotonic() - run_started, 3)
                _save_ledger(store, ledger, retry=interrupted)
            sink.close()
            # the report of a failed run shows what completed; an interrupted run's is left to the next
            job_report = None if interrupted else _write_report(spark, fs, plan, locals().get("ledger"), say)
            store.drop_empty_temp()
            store.release_lock(run_id)
    results = tuple(TableDayResult(td.table.name, td.date, td.rows, td.target.places) for td in todo.table_days)
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
        job_report,
        lateness,
        sink.locations(todo.table_days),
    )


def _write_lateness_manifest(plan: Plan, run_id: str, fs: FileSystem, store: StateStore) -> dict | None:
    """Write the run's lateness manifest beside the ledger (when a table has late arrivals); return it."""
    manifest = lateness_manifest(plan.table_days, run_id, plan.config)
    if manifest is not None:
        path = f"{store.folder}/{manifest_name(run_id)}"
        fs.write_text_atomically(path, json.dumps(manifest, indent=1), store.temp_folder)
    return manifest


def _save_ledger(store: StateStore, ledger: Ledger, retry: bool) -> None:
    """Save the ledger; after Ctrl-C once more if the first try fails (the interrupted call can break the
    connection it used to the JVM, and the next call opens another)."""
    try:
        store.save(ledger)
    except Exception:
        if not retry:
            raise
        store.save(ledger)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


def _write_report(spark, fs: FileSystem, plan: Plan, ledger: Ledger | None, say: Progress) -> JobReport | None:
    """Write the run report (a failed run's too); a report that cannot be written only warns."""
    if ledger is None:
        return None
    try:
        return write_report(spark, fs, plan, ledger)
    except Exception as exc:  # the data is written; the report must not turn the run into a failure
        say(f"warning: run report not written: {type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0]}")
        return None


def _write_batches(spark, plan: Plan, run: dict, sink: Sink, store: StateStore, ledger: Ledger, say: Progress) -> None:
    config, run_id = plan.config, run["run_id"]
    started = time.monotonic()
    done_rows, lock = [0], Lock()

    def run_batch(batch: Batch) -> None:
        batch_started = time.monotonic()
        parallelism = sink.fs.parallelism
        frames = [
            (tds, build_batch_frame(spark, config, plan.dataset, tds, sink.file_index, parallelism=parallelism))
            for tds in _batch_tables(batch)
        ]
        sink.write_batch(batch, frames)
        with lock:  # one ledger write per batch, once every table of it is in place
            for td in batch.table_days:
                ledger.record(td.table.name, td.date, td.rows, run_id, len(td.target.places))
            seconds = time.monotonic() - batch_started
            dates = f"{batch.dates[0]}..{batch.dates[-1]}"
            run["batches"].append(
                {
                    "index": batch.index,
                    "dates": dates,
                    "rows": batch.rows,
                    "seconds": round(seconds, 3),
                    "ended_at": _now(),
                }
            )
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
