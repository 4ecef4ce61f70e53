"""Run ledger and lock: what each job output already holds, and who is writing it now.

The ledger (``_synthgen_state.json`` in the job folder) records the config fingerprint, every
completed table-day with its row count and run, and the runs. It is rewritten atomically after
each batch, only once all of the batch's files are in place, so a day in the ledger is always
complete. The lock (``_synthgen.lock``) is created exclusively and names its holder.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import socket
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from synthgen_spark._version import __version__
from synthgen_spark.catalog import DatasetSpec
from synthgen_spark.config import JobConfig
from synthgen_spark.errors import ConfigError, StateError, WriteError, invalid
from synthgen_spark.layout import LEDGER_NAME as LEDGER_NAME  # re-exported: the ledger's names live in layout
from synthgen_spark.layout import LOCK_NAME as LOCK_NAME
from synthgen_spark.layout import layout_for
from synthgen_spark.layout import state_folder as state_folder
from synthgen_spark.writers.fs import FileSystem

DEFAULT_TIMEOUT_MINUTES = 720  # of locks written before the holder's timeout was stored in them
LOCK_READ_ATTEMPTS, LOCK_READ_PAUSE = 5, 0.4  # an empty lock is being written: wait up to ~2 s
DATA_AFFECTING = (
    "dataset_id",
    "seed_value",
    "scale_factor",
    "enable_seasonal_patterns",
    "seasonal_multipliers",
    "holiday_country",
    "locale",
    "enable_data_drift",
    "drift_percentage",
    "output_mode",
    "path_format",
)


def fingerprint(config: JobConfig, dataset: DatasetSpec) -> dict[str, Any]:
    """What makes generated data what it is: data-affecting parameters, package data version, schema."""
    schema = {t.name: [f"{c.name} {c.type}" for c in t.output_columns] for t in dataset.tables}
    definition = hashlib.sha256(repr(dataset).encode()).hexdigest()[:16]
    params = {k: v for k, v in config.to_dict().items() if k in DATA_AFFECTING}
    if config.late_arrival_rate > 0:  # only then: ledgers of jobs without late arrivals keep their fingerprint
        params.update(late_arrival_rate=config.late_arrival_rate, max_late_days=config.max_late_days)
    if config.fault_rate:  # only then: ledgers of clean runs keep their fingerprint
        params.update(fault_rate=config.fault_rate, fault_types=list(config.fault_types))
    return {"params": params, "package_version": __version__, "dataset_definition": definition, "schema": schema}


@dataclass
class Ledger:
    """The ledger's content; ``done`` maps table -> ISO date -> {rows, run_id}."""

    fingerprint: dict[str, Any]
    done: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    runs: list[dict[str, Any]] = field(default_factory=list)

    def is_done(self, table: str, day: dt.date) -> bool:
        return day.isoformat() in self.done.get(table, {})

    def record(self, table: str, day: dt.date, rows: int, run_id: str, files: int = 1) -> None:
        self.done.setdefault(table, {})[day.isoformat()] = {"rows": rows, "run_id": run_id, "files": files}

    def first_day(self) -> dt.date | None:
        """The earliest completed generation date over all tables."""
        days = [dt.date.fromisoformat(d) for per_table in self.done.values() for d in per_table]
        return min(days) if days else None

    def last_day(self) -> dt.date | None:
        """The latest completed generation date over all tables."""
        days = [dt.date.fromisoformat(d) for per_table in self.done.values() for d in per_table]
        return max(days) if days else None

    def to_json(self) -> str:
        return json.dumps(
            {"version": 1, "fingerprint": self.fingerprint, "done": self.done, "runs": self.runs},
            indent=1,
            sort_keys=True,
        )

    def describe(self, active_run: str | None = None) -> str:
        """The ledger as readable text (``synthgen state show``).

        A run still marked running that does not hold the lock (``active_run``) was killed: shown as interrupted.
        """
        params = self.fingerprint.get("params", {})
        lines = [
            f"fingerprint: {', '.join(f'{k}={v}' for k, v in sorted(params.items()))}",
            f"package {self.fingerprint.get('package_version')}, dataset definition {self.fingerprint.get('dataset_definition')}",
            "",
            f"{'table':<20} {'days':>5} {'first':>11} {'last':>11} {'rows':>14}",
        ]
        for table, days in sorted(self.done.items()):
            dates = sorted(days)
            rows = sum(d["rows"] for d in days.values())
            lines.append(f"{table:<20} {len(dates):>5} {dates[0]:>11} {dates[-1]:>11} {rows:>14,}")
        lines += ["", "runs:"] + [
            f"  {r['run_id']}  {_run_status(r, active_run):<11} {r.get('dates', '')}  host {r.get('host')} pid {r.get('pid')}"
            for r in self.runs
        ]
        return "\n".join(lines)


class StateStore:
    """Reads and writes one job's ledger and lock through the run's file system."""

    def __init__(self, fs: FileSystem, config: JobConfig) -> None:
        self.fs = fs
        self.config = config
        layout = layout_for(config)
        self.folder = layout.state_folder
        self.ledger_path = layout.ledger_path
        self.lock_path = layout.lock_path
        self.temp_folder = layout.temp_folder  # the ledger's temp file; a file run's batches too

    def load(self) -> Ledger | None:
        text = self.fs.read_text(self.ledger_path)
        if text is None:
            return None
        try:
            raw = json.loads(text)
            return Ledger(raw["fingerprint"], raw.get("done", {}), raw.get("runs", []))
        except (ValueError, KeyError):
            raise StateError(
                f"state: ledger {self.ledger_path} is unreadable; move it away or use a new job_name"
            ) from None

    def save(self, ledger: Ledger) -> None:
        self.fs.write_text_atomically(self.ledger_path, ledger.to_json(), self.temp_folder)

    def clear_temp(self) -> None:
        """Delete what killed runs left in the temp folder (call with the lock held: no run uses it)."""
        self.fs.delete(self.temp_folder)

    def drop_empty_temp(self) -> None:
        if not self.fs.list_names(self.temp_folder):
            self.fs.delete(self.temp_folder)

    def open_ledger(self, expected: dict[str, Any], planned: Collection[tuple[str, str]] = ()) -> Ledger:
        """The ledger for this run: the existing one if its fingerprint matches, else a new one.

        With ignore_state, another configuration may replace the job's only if this run rewrites every
        table-day the ledger holds (``planned``: (table, ISO date) pairs): a job never mixes two.

        Raises:
            ConfigError: the job output holds data from another configuration that this run would not replace.
        """
        ledger = self.load()
        if ledger is None:
            return Ledger(expected)
        if ledger.fingerprint == expected:
            return ledger
        old, new = ledger.fingerprint.get("params", {}), expected["params"]
        differing = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        changes = (
            ", ".join(f"{k} {old.get(k)} -> {new.get(k)}" for k in differing) or "dataset definition or package version"
        )
        field_name = differing[0] if differing else "dataset_id"
        if not self.config.ignore_state:
            raise ConfigError(
                invalid(
                    field_name,
                    "the same configuration",
                    new.get(field_name),
                    where="state",
                    problem=f"job '{self.config.job_name}' at {self.folder} was generated with another configuration "
                    f"({changes})",
                    fix="Use a new job_name, or --ignore-state over every generated day to regenerate it.",
                )
            )
        left = sorted(
            {(day, table) for table, days in ledger.done.items() for day in days} - {(d, t) for t, d in planned}
        )
        if left:
            days = sorted({day for day, _ in left})
            raise ConfigError(
                invalid(
                    "ignore_state",
                    f"a range covering every generated day ({ledger.first_day()}..{ledger.last_day()}), so the job "
                    "holds one configuration, or a new job_name",
                    self.config.ignore_state,
                    where="state",
                    problem=f"job '{self.config.job_name}' holds {len(days)} days ({days[0]}..{days[-1]}) this run "
                    f"does not rewrite, made with another configuration ({changes})",
                )
            )
        return Ledger(expected, {}, ledger.runs)

    def acquire_lock(self, run_id: str, warn) -> None:
        """Take the job's lock, or take over one whose holder is proven gone (see ``is_stale``).

        The lock is created exclusively with its whole content in one write; a reader that finds it
        empty (created, not yet written) waits for the content and never takes over an unreadable lock.
        """
        holder = {
            "run_id": run_id,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started": time.time(),
            "timeout_minutes": self.config.lock_timeout_minutes,
        }
        if self.fs.create_exclusive(self.lock_path, json.dumps(holder)):
            return
        current = self.lock_holder()
        if current is None:  # released between our attempt and the read
            if self.fs.create_exclusive(self.lock_path, json.dumps(holder)):
                return
            current = self.lock_holder() or {}
        reason = is_stale(current)
        if not reason:
            raise StateError(
                f"state: job output {self.folder} is locked by host {current.get('host')} pid {current.get('pid')} "
                f"since {_utc(current.get('started'))} (run {current.get('run_id')}, its timeout "
                f"{current.get('timeout_minutes', DEFAULT_TIMEOUT_MINUTES)} min); wait for it, or remove "
                f"{self.lock_path} if that run is dead"
            )
        warn(f"taking over a stale lock of host {current.get('host')} pid {current.get('pid')} ({reason})")
        self._take_over(current, holder)

    def _take_over(self, stale: dict[str, Any], holder: dict[str, Any]) -> None:
        """Move the stale lock aside (one taker wins the move), check it was the one judged, then create ours."""
        aside = f"{self.temp_folder}/{holder['run_id']}.stale-lock"
        try:
            self.fs.move_into_place(self.lock_path, aside)
        except WriteError:
            raise StateError(f"state: another run took the lock {self.lock_path} at the same moment; retry") from None
        moved = _parse_holder(self.fs.read_text(aside) or "")
        if moved is None or moved.get("run_id") != stale.get("run_id"):  # a newer lock: put it back
            self.fs.move_into_place(aside, self.lock_path)
            raise StateError(f"state: another run took the lock {self.lock_path} at the same moment; retry")
        self.fs.delete(aside)
        if not self.fs.create_exclusive(self.lock_path, json.dumps(holder)):
            raise StateError(f"state: another run took the lock {self.lock_path} at the same moment; retry")

    def lock_holder(self) -> dict[str, Any] | None:
        """The lock's holder, None if there is no lock; StateError if it stays empty or malformed."""
        for attempt in range(LOCK_READ_ATTEMPTS):
            text = self.fs.read_text(self.lock_path)
            if text is None:
                return None
            holder = _parse_holder(text)
            if holder is not None:
                return holder
            if attempt + 1 < LOCK_READ_ATTEMPTS:
                time.sleep(LOCK_READ_PAUSE)
        raise StateError(
            f"state: lock {self.lock_path} is malformed (got {text[:60]!r}); allowed: a lock written by synthgen. "
            "If no run is writing this job, remove the file"
        )

    def release_lock(self, run_id: str) -> None:
        """Delete the lock if it is still ours (a run presumed dead may have been taken over)."""
        try:
            holder = self.lock_holder()
        except StateError:
            return
        if holder is not None and holder.get("run_id") == run_id:
            self.fs.delete(self.lock_path)


def _run_status(run: dict[str, Any], active_run: str | None) -> str:
    status = run.get("status", "?")
    return "interrupted" if status == "running" and run.get("run_id") != active_run else status


def _utc(seconds: Any) -> str:
    try:
        return dt.datetime.fromtimestamp(float(seconds), dt.timezone.utc).isoformat(timespec="seconds")
    except (TypeError, ValueError, OverflowError, OSError):
        return "an unknown time"


def _parse_holder(text: str) -> dict[str, Any] | None:
    """A lock's content as a dict with run_id, host, pid and started, or None if it is not one."""
    try:
        holder = json.loads(text)
    except ValueError:
        return None
    if not isinstance(holder, dict) or not {"run_id", "host", "pid", "started"} <= set(holder):
        return None
    return holder


def is_stale(holder: dict[str, Any], now: float | None = None) -> str:
    """Why the lock's holder is proven gone ('' if it is not): its process is dead on this host,
    or it is older than the holder's own declared timeout (never the timeout of the run asking)."""
    try:
        age_minutes = ((now or time.time()) - float(holder["started"])) / 60
        timeout = float(holder.get("timeout_minutes", DEFAULT_TIMEOUT_MINUTES))
    except (TypeError, ValueError, KeyError):
        return ""
    if age_minutes > timeout:
        return f"older than its own timeout of {timeout:g} min"
    if holder.get("host") != socket.gethostname():
        return ""
    pid = holder.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return ""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "its process is gone"
    except (PermissionError, OverflowError):
        return ""
    return ""
