"""The run report's facts (``report.json``): the plan, the calendar and the ledger, with file sizes.

Pure Python: file sizes and table details come in as functions, so nothing here touches Spark and
nothing reads generated data. Documented in docs/report.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Callable
from typing import Any

from synthgen_spark.calendar import WEEKDAY_NAMES, Calendar, retail_event
from synthgen_spark.catalog import TableSpec
from synthgen_spark.changes import CHANGES_SUFFIX, change_feed_spec, has_lifecycle, history_spec, progress_feed_spec
from synthgen_spark.faults import faults_spec
from synthgen_spark.lateness import write_date_column
from synthgen_spark.layout import job_root, state_folder
from synthgen_spark.planner import Plan, TableDay, expected_operations, progress_events, table_day_faults
from synthgen_spark.state import Ledger

REPORT_VERSION = 1
Sizes = Callable[[str], "int | None"]


def build_facts(
    plan: Plan,
    ledger: Ledger,
    file_size: Sizes,
    spark_version: str = "",
    table_details: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Everything report.json holds: header, calendar, per table per day rows/files, populations, runs, batches."""
    from synthgen_spark import __version__

    config, calendar = plan.config, plan.calendar
    tables = {
        t.name: _table_facts(plan, ledger, t, file_size, (table_details or {}).get(t.name))
        for t in report_tables(plan, ledger)
    }
    dates = sorted({d["date"] for t in tables.values() for d in t["days"]})
    counted = [t for t in tables.values() if "derived_from" not in t]  # a derived table's rows are entities scanned
    first, last = (dates[0], dates[-1]) if dates else (config.start_date.isoformat(), config.end_date.isoformat())
    runs = [_run_facts(run) for run in ledger.runs]
    return {
        "report_version": REPORT_VERSION,
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "dataset_id": config.dataset_id,
        "job_name": config.job_name,
        "seed_value": config.seed_value,
        "package_version": __version__,
        "fingerprint": hashlib.sha256(json.dumps(ledger.fingerprint, sort_keys=True).encode()).hexdigest()[:16],
        "params": ledger.fingerprint.get("params", {}),
        "start_date": first,
        "end_date": last,
        "output_mode": config.output_mode,
        "path_format": config.path_format,
        "output_root": config.output_root,
        "job_root": job_root(config),
        "state_folder": state_folder(config),
        "spark_version": spark_version,
        "holiday_country": config.holiday_country,
        "weekday_multipliers": dict(zip(WEEKDAY_NAMES, calendar.weekday_multipliers, strict=True)),
        "calendar": [_day_facts(calendar, dt.date.fromisoformat(d)) for d in _all_days(first, last)],
        "tables": tables,
        "totals": {
            **{key: sum(t[key] for t in counted) for key in ("rows", "expected_rows")},
            **{key: sum(t[key] for t in tables.values()) for key in ("files", "bytes")},
        },
        "runs": runs,
        "batches": [dict(b, run_id=r["run_id"]) for r in ledger.runs for b in r.get("batches", [])],
    }


def report_tables(plan: Plan, ledger: Ledger) -> list[TableSpec]:
    """The dataset's tables, then the derived ones (change feeds, SCD2 histories, status steps) this run or an earlier one wrote."""
    planned = {td.table.name for td in plan.table_days}
    derived = [spec(t) for t in plan.dataset.tables if has_lifecycle(t) for spec in (change_feed_spec, history_spec)]
    derived += [progress_feed_spec(t) for t in plan.dataset.tables if t.progress]  # facts' status steps
    derived.append(faults_spec())
    return [*plan.dataset.tables, *(t for t in derived if t.name in planned or t.name in ledger.done)]


def _all_days(first: str, last: str) -> list[str]:
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return [(start + dt.timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]


def _day_facts(calendar: Calendar, day: dt.date) -> dict[str, Any]:
    """A date's place in the calendar: weekday, weekend, public holiday and named retail event."""
    return {
        "date": day.isoformat(),
        "weekday": WEEKDAY_NAMES[day.weekday()],
        "weekend": day.weekday() >= 5,
        "holiday": calendar.holiday_name(day),
        "event": retail_event(day, calendar.config.holiday_country),
    }


def _table_facts(
    plan: Plan, ledger: Ledger, table: TableSpec, file_size: Sizes, detail: dict[str, Any] | None
) -> dict[str, Any]:
    """One table: its days (planned or in the ledger), totals, and for snapshots the population.

    A derived table (change feed, SCD2 history) says which table it comes from; its rows, in the plan and
    the ledger alike, are the entities its frames scan, and a change feed's days hold the expected rows
    by operation.
    """
    planned = {td.date: td for td in plan.table_days if td.table.name == table.name}
    held = {dt.date.fromisoformat(d) for d in ledger.done.get(table.name, {})}
    delta_files = detail["files"] if detail else None
    days = [
        _table_day(plan, ledger, table, planned.get(day), day, file_size, delta_files)
        for day in sorted(planned.keys() | held)
    ]
    facts: dict[str, Any] = {
        "kind": table.kind,
        "frequency": table.frequency if table.kind == "snapshot" else "daily",
        **({"derived_from": table.derived_from, "rows_are": "entities scanned"} if table.derived_from else {}),
        "days": days,
        "rows": sum(d["rows"] for d in days),
        "expected_rows": sum(d["expected_rows"] for d in days),
        "days_written": sum(d["written"] for d in days),
        "files": sum(len(d["files"]) for d in days),
        "bytes": sum(f["bytes"] or 0 for d in days for f in d["files"]),
    }
    if detail is not None:  # table mode: the Delta table's files (one day's files only when partitioned by date)
        files = detail["files"]
        facts.update(location=detail["location"], delta_files=files, files=len(files))
        facts["bytes"] = sum(f["bytes"] or 0 for f in files)
    if table.kind == "snapshot" and days and not table.derived_from:
        facts["population"] = population(plan.calendar, table, days[0]["date"], days[-1]["date"])
    return facts


def _table_day(
    plan: Plan,
    ledger: Ledger,
    table: TableSpec,
    planned: TableDay | None,
    day: dt.date,
    file_size: Sizes,
    delta_files: list | None,
) -> dict[str, Any]:
    """One table-day: expected rows (with the formula's factors), rows written, files with their sizes."""
    config, calendar = plan.config, plan.calendar
    derived = plan.dataset.table(table.derived_from) if table.derived_from else None
    labels = table.name == faults_spec().name  # the _faults table: as many rows as the plan says it labels
    expected = planned.written_rows if planned else 0 if labels else calendar.rows(derived or table, day)
    if derived is not None and derived.progress is not None and not planned:  # a fact's steps: rows scanned
        expected = sum(calendar.rows(derived, event) for event in progress_events(calendar, derived, day))
    entry = ledger.done.get(table.name, {}).get(day.isoformat())
    facts: dict[str, Any] = {
        "date": day.isoformat(),
        "expected_rows": expected,
        "rows": entry["rows"] if entry else 0,
        "written": entry is not None,
        "run_id": entry["run_id"] if entry else None,
    }
    if table.name.endswith(CHANGES_SUFFIX) and derived:
        facts["operations"] = expected_operations(plan, table, day, expected)
    if table.kind == "incremental" and not derived and not labels:
        volume = calendar.volume(table, day)
        source = plan.dataset.table(table.parent) if table.parent else table
        facts["factors"] = {
            "base_rows": volume.base_rows,
            "scale_factor": volume.scale_factor,
            "weekday": volume.weekday,
            "holiday": volume.holiday,
            "month": volume.month,
            "noise": volume.noise,
            "population": volume.population,
            "holiday_name": calendar.holiday_factor(source, day)[1],
        }
    if planned and planned.labels_of:  # the _faults table: its labels by table and fault type
        facts["faults"] = {
            td.table.name: {k: n for k, n in table_day_faults(config, plan.dataset, td).counts.items() if n}
            for td in planned.labels_of
        }
    if planned and planned.segments:  # a late table: the event days of the rows arriving on the day
        facts["arrivals"] = {s.source.date.isoformat(): s.rows for s in planned.segments if s.rows}
    facts["files"] = []
    if entry:  # a file output's files; a table output has none per day
        parts = entry.get("files") or (math.ceil(entry["rows"] / config.chunk_size) if config.chunk_size else 1)
        facts["files"] = [{"path": p, "bytes": file_size(p)} for p in plan.layout.target(table.name, day, parts).files]
    if entry and delta_files:
        folder = f"/{write_date_column(table)}={day.isoformat()}/"
        facts["files"] = [f for f in delta_files if folder in f["path"]]
    return facts


def _run_facts(run: dict[str, Any]) -> dict[str, Any]:
    """A ledger run without its batch list (report.json lists batches on their own)."""
    batches = run.get("batches", [])
    return {
        **{k: v for k, v in run.items() if k != "batches"},
        "batches": len(batches),
        "rows": sum(b["rows"] for b in batches),
    }


def population(calendar: Calendar, table: TableSpec, first: str, last: str) -> list[dict[str, Any]]:
    """Signed up, active and churned entities on each day first..last, exactly (``Calendar.active``)."""
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    result = []
    for offset in range((end - start).days + 1):
        day = start + dt.timedelta(days=offset)
        signed_up = calendar.population(table, day)
        active = calendar.active(table, day)
        result.append(
            {"date": day.isoformat(), "signed_up": signed_up, "active": active, "churned": signed_up - active}
        )
    return result
