"""How soon the run report opens: a year of 10 tables in headless Chromium (section j).

The report's facts come from a plan and a ledger that credits every planned table-day (no Spark, no data):
ecommerce_star_small over 2024 with its change feeds and SCD2 histories, 10 tables. Chromium opens the page
offline; a probe logs on the console the page's own clock (``performance.now()``, from navigation start) at the
load event (the page is shown: plotly.js parsed, the charts on the first screen drawn) and when the report marks
every chart drawn (those below the fold are drawn one per task after the load event). Both are net of the same
for an empty page (Chromium's own start), median of ``repeats``, with the load average (a shared machine slows it).
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import tempfile
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


# logs, on the console, the load event's time and the time the report marked every chart drawn
PROBE = """<script>addEventListener('load', () => {
  console.log('sg-open ' + performance.now());
  const wait = () => {
    const done = document.querySelector('[data-charts-drawn-ms]');
    if (done || !document.querySelector('.sg-chart'))
      console.log('sg-drawn ' + (done ? done.dataset.chartsDrawnMs : performance.now()));
    else setTimeout(wait, 10);
  };
  wait();
});</script>"""
TIMES = re.compile(r'"sg-(open|drawn) ([0-9.]+)"')


def _open(page: Path) -> dict[str, float]:
    """Milliseconds from navigation start to the load event and to every chart drawn."""
    probed = page.with_suffix(".probed.html")
    probed.write_text(page.read_text(encoding="utf-8").replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    command = [report_browser.chromium(), *report_browser.LIVE, *report_browser.OFFLINE, "--enable-logging=stderr"]
    times: dict[str, float] = {}
    with subprocess.Popen([*command, "--v=0", probed.as_uri()], stderr=subprocess.PIPE, text=True) as chromium:
        for line in chromium.stderr:
            if match := TIMES.search(line):
                times[match.group(1)] = float(match.group(2))
            if "drawn" in times:
                break
        chromium.terminate()
    if "drawn" not in times:
        raise RuntimeError(f"the report's charts did not draw in Chromium: {page}")
    return times


def report_open(run: Run, repeats: int = 5) -> None:
    """Section j: how soon the report of a year of 10 tables opens and has every chart drawn, net of an empty page."""
    if report_browser.chromium() is None:
        run.out["report_open"] = {"skipped": "chromium is not installed (make browser installs it)"}
        say("report open: skipped, no chromium")
        return
    with tempfile.TemporaryDirectory(dir=run.tmp) as scratch:
        folder = Path(scratch)
        page, tables, size = year_of_ten_tables(folder)
        empty = folder / "empty.html"
        empty.write_text("<!DOCTYPE html><html><head></head><body></body></html>")
        pairs = [(_open(empty), _open(page)) for _ in range(repeats)]
    start = {key: statistics.median(p[0][key] for p in pairs) for key in ("open",)}
    opened = {key: statistics.median(p[1][key] for p in pairs) for key in ("open", "drawn")}
    run.out["report_open"] = {
        "tables": tables,
        "days": 366,
        "html_bytes": size,
        "open_seconds": round((opened["open"] - start["open"]) / 1000, 3),
        "all_charts_seconds": round((opened["drawn"] - start["open"]) / 1000, 3),
        "load_average": Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else None,
        "target_seconds": TARGET_SECONDS,
        "met": opened["open"] - start["open"] <= TARGET_SECONDS * 1000,
    }
    out = run.out["report_open"]
    say(
        f"report open: {tables} tables x 366 days, {size:,} bytes, opens in {out['open_seconds']:.2f} s, "
        f"all charts in {out['all_charts_seconds']:.2f} s"
    )
