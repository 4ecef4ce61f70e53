"""How long the run report takes to open: a year of 10 tables in headless Chromium (section h).

The report's facts come from a plan and a ledger that credits every planned table-day (no Spark, no data):
ecommerce_star_small over 2024 with its change feeds and SCD2 histories, 10 tables. Chromium opens the
page offline (``--dump-dom`` returns once the load event has fired, after every inline script, plotly.js and
each ``Plotly.newPlot`` included, has run). The time to open is the CPU time of Chromium's processes for
the report minus the same for an empty page (Chromium's own start), median of ``repeats``: on a shared machine
the wall time counts other processes' load too (it is recorded as well), while an idle reader's machine spends
about the CPU time (the page's work is one renderer thread: parsing plotly.js, then drawing).
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import Run, say

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests import report_browser  # noqa: E402  (the repository's headless-Chromium helper)

YEAR = {"dataset_id": "ecommerce_star_small", "start_date": "2024-01-01", "end_date": "2024-12-31"}
TARGET_SECONDS = 1.0


def year_of_ten_tables(folder: Path) -> tuple[Path, int, int]:
    """Write the report page of a year of 10 tables; its path, its table count and its size in bytes."""
    from synthgen_spark.config import JobConfig
    from synthgen_spark.planner import build_plan
    from synthgen_spark.reporting import build_facts, render_html
    from synthgen_spark.state import Ledger

    config = JobConfig.from_mapping(
        {**YEAR, "job_name": "year", "output_root": str(folder), "change_feed": True, "history": True}
    )
    plan = build_plan(config)
    ledger = Ledger({"params": {}})
    batches = []
    for batch in plan.batches:  # a daily batch each, as a default run writes them
        for td in batch.table_days:
            ledger.record(td.table.name, td.date, td.rows, "r1", len(td.paths))
        ended = f"{batch.dates[-1]}T12:00:00+00:00"
        batches.append({"index": batch.index, "dates": str(batch.dates[0]), "rows": batch.rows, "seconds": 1.0})
        batches[-1]["ended_at"] = ended
    dates = f"{config.start_date}..{config.end_date}"
    ledger.runs.append({"run_id": "r1", "status": "completed", "dates": dates, "seconds": 366.0, "batches": batches})
    facts = build_facts(plan, ledger, lambda path: 100_000, "4.1.1")
    page = folder / "report.html"
    page.write_text(render_html(facts), encoding="utf-8")
    return page, len(facts["tables"]), page.stat().st_size


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _open_seconds(page: Path) -> tuple[float, float]:
    """CPU and wall seconds of Chromium opening ``page`` until its load event (start included)."""
    started, cpu = time.monotonic(), _children_cpu()
    dom = subprocess.run(
        [report_browser.chromium(), *report_browser.LIVE, *report_browser.OFFLINE, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    seconds = (_children_cpu() - cpu, time.monotonic() - started)
    if "main-svg" not in dom and page.stat().st_size > 1000:
        raise RuntimeError(f"the report's charts did not render in Chromium: {page}")
    return seconds


def report_open(run: Run, repeats: int = 5) -> None:
    """Section h: seconds to open the report of a year of 10 tables, net of Chromium's start."""
    if report_browser.chromium() is None:
        run.out["report_open"] = {"skipped": "chromium is not installed (make browser installs it)"}
        say("report open: skipped, no chromium")
        return
    with tempfile.TemporaryDirectory(dir=run.tmp) as scratch:
        folder = Path(scratch)
        page, tables, size = year_of_ten_tables(folder)
        empty = folder / "empty.html"
        empty.write_text("<!DOCTYPE html><html><head></head><body></body></html>")
        pairs = [(_open_seconds(empty), _open_seconds(page)) for _ in range(repeats)]
    start = [statistics.median(p[0][i] for p in pairs) for i in (0, 1)]
    opened = [statistics.median(p[1][i] for p in pairs) - start[i] for i in (0, 1)]
    run.out["report_open"] = {
        "tables": tables,
        "days": 366,
        "html_bytes": size,
        "chromium_start_cpu_seconds": round(start[0], 3),
        "open_cpu_seconds": round(opened[0], 3),
        "open_wall_seconds": round(opened[1], 3),
        "load_average": Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else None,
        "target_seconds": TARGET_SECONDS,
        "met": opened[0] <= TARGET_SECONDS,
    }
    say(f"report open: {tables} tables x 366 days, {size:,} bytes, {opened[0]:.2f} s CPU, {opened[1]:.2f} s wall")
