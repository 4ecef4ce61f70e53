"""The run report as one self-contained HTML file: Plotly charts with plotly.js inlined, no network.

Without plotly installed the page still has the header and tables, and says how to get the charts.
"""

from __future__ import annotations

import html
from typing import Any

INSTALL_HINT = "pip install 'synthgen_spark[report]'  (or: pip install plotly)"
DAY_COLOURS = {"weekday": "#4c78a8", "weekend": "#9ecae9", "holiday": "#f58518", "event": "#e45756"}
STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:1400px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.9em}td,th{padding:2px 10px;border-bottom:1px solid #eee;text-align:left}
td.n,th.n{text-align:right}.note{background:#fff4e5;border:1px solid #f5a623;padding:.6em 1em}
.key span{display:inline-block;width:.9em;height:.9em;margin:0 .3em 0 1em;vertical-align:middle}
.failed{color:#c00}
"""


def render_html(facts: dict[str, Any], fragment: bool = False) -> str:
    """The report page (or, with ``fragment``, a ``<div>`` for a notebook cell) from report.json's facts."""
    body = [_header(facts)]
    charts = _charts(facts)
    if charts is None:
        body.append(
            f'<p class="note">Charts need plotly, which is not installed: {html.escape(INSTALL_HINT, quote=False)}</p>'
        )
    body += charts or []
    body += [_totals_table(facts), _runs_table(facts), _files_table(facts)]
    content = "\n".join(body)
    if fragment:
        return f'<div class="synthgen-report"><style>{STYLE}</style>{content}</div>'
    title = html.escape(f"synthgen report: {facts['dataset_id']} / {facts['job_name']}")
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{STYLE}</style></head><body>\n{content}\n</body></html>\n"
    )


def _table(headers: list[str], rows: list[list[Any]], numeric: set[int] = frozenset()) -> str:
    head = "".join(f"<th{' class=n' if i in numeric else ''}>{html.escape(h)}</th>" for i, h in enumerate(headers))
    lines = [f"<table><tr>{head}</tr>"]
    for row in rows:
        cells = "".join(
            f"<td{' class=n' if i in numeric else ''}>{html.escape(_fmt(v))}</td>" for i, v in enumerate(row)
        )
        lines.append(f"<tr>{cells}</tr>")
    return "\n".join(lines) + "</table>"


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "yes", False: "no", None: "-"}[value]
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def _header(facts: dict[str, Any]) -> str:
    f = facts
    target = f["state_folder"] if f["output_mode"] == "table" else f["job_root"]
    rows = [
        ["dataset / job", f"{f['dataset_id']} / {f['job_name']}"],
        ["seed", f["seed_value"]],
        ["package version", f["package_version"]],
        ["config fingerprint", f["fingerprint"]],
        ["dates", f"{f['start_date']} .. {f['end_date']}"],
        ["output", f"{f['output_mode']} {f['path_format']} at {target}"],
        ["Spark", f["spark_version"] or "-"],
        ["rows written / expected", f"{f['totals']['rows']:,} / {f['totals']['expected_rows']:,}"],
        ["runs" if len(f["runs"]) <= 10 else f"last 10 of {len(f['runs'])} runs", _runs_text(f["runs"][-10:])],
    ]
    title = html.escape(f"synthgen report: {f['dataset_id']} / {f['job_name']}")
    return f"<h1>{title}</h1>" + _table(["", ""], rows)


def _runs_text(runs: list[dict[str, Any]]) -> str:
    """``run_id status (dates, seconds)`` per run, separated by semicolons."""
    lines = []
    for run in runs:
        seconds = run.get("seconds")
        took = f"{seconds:.1f} s" if isinstance(seconds, int | float) else "?"
        lines.append(f"{run['run_id']} {run.get('status', '?')} ({run.get('dates', '')}, {took})")
    return "; ".join(lines) or "-"


def _totals_table(facts: dict[str, Any]) -> str:
    rows = [
        [name, _kind(t), t["days_written"], len(t["days"]), t["rows"], t["expected_rows"], t["files"], t["bytes"]]
        for name, t in facts["tables"].items()
    ]
    totals = facts["totals"]
    rows.append(["total", "", "", "", totals["rows"], totals["expected_rows"], totals["files"], totals["bytes"]])
    headers = ["table", "kind", "days written", "days", "rows", "expected rows", "files", "bytes"]
    return "<h2>Totals per table</h2>" + _table(headers, rows, {2, 3, 4, 5, 6, 7})


def _kind(table: dict[str, Any]) -> str:
    """A table's kind; a derived table's says where it comes from and that its rows are not in the totals."""
    if "derived_from" in table:
        return f"{table['kind']} from {table['derived_from']} (rows: {table['rows_are']}, not in the total)"
    return table["kind"]


def _runs_table(facts: dict[str, Any]) -> str:
    rows = [
        [r["run_id"], r.get("status"), r.get("dates"), r.get("started_at"), r.get("seconds"), r["batches"], r["rows"]]
        for r in facts["runs"]
    ]
    headers = ["run", "status", "dates", "started", "seconds", "batches", "rows"]
    return "<h2>Runs</h2>" + _table(headers, rows, {4, 5, 6})


def _files_table(facts: dict[str, Any]) -> str:
    """Every file (path, table, date, rows, bytes) folded; in table mode each Delta table's location and files."""
    section = "<h2>Files</h2>"
    delta = {name: t for name, t in facts["tables"].items() if "location" in t}
    if delta:
        summary = [[name, t["location"], t["files"], t["bytes"]] for name, t in delta.items()]
        section += _table(["Delta table", "location", "files", "bytes"], summary, {2, 3})
        rows = [[f["path"], name, "", "", f["bytes"]] for name, t in delta.items() for f in t["delta_files"]]
    else:
        rows = [
            [f["path"], name, day["date"], day["rows"], f["bytes"]]
            for name, table in facts["tables"].items()
            for day in table["days"]
            for f in day["files"]
        ]
    summary = f"{len(rows):,} files, {sum(r[4] or 0 for r in rows):,} bytes (path, table, date, rows, bytes)"
    table = _table(["path", "table", "date", "rows", "bytes"], rows, {3, 4})
    return f"{section}<details><summary>{summary}</summary>{table}</details>"


def _charts(facts: dict[str, Any]) -> list[str] | None:
    """The chart sections, or None without plotly."""
    try:
        import plotly.offline
    except ImportError:
        return None
    from synthgen_spark.reporting.charts import (
        batches_figure,
        changes_figure,
        faults_figure,
        lateness_figure,
        population_figure,
        rows_figure,
    )

    config = {"displaylogo": False, "responsive": True}
    # MathJax "local": plotly.js never fetches MathJax from a network address
    script = f"window.PlotlyConfig = {{MathJaxConfig: 'local'}};</script><script>{plotly.offline.get_plotlyjs()}"
    sections = [f"<script>{script}</script>"]
    key = "".join(f'<span style="background:{c}"></span>{k}' for k, c in DAY_COLOURS.items())
    figures = [
        (
            "Rows per day per table",
            rows_figure(facts, DAY_COLOURS),
            f'<p class="key">rows written per day (bars), by kind of day:{key} &nbsp;·&nbsp; expected rows: dotted line</p>',
        ),
        (
            "Populations of snapshot tables",
            population_figure(facts),
            "<p>signed up (exact); active and churned (expected)</p>",
        ),
        (
            "Changes per day by operation",
            changes_figure(facts),
            "<p>per change feed, the rows expected by operation: inserts exact (the population's growth), "
            "updates per change group and churn from their daily rates</p>",
        ),
        (
            "Late rows per arrival day",
            lateness_figure(facts),
            "<p>per table with late arrivals, the rows each day's file holds by how many days after their event "
            "day they arrived (on time: 0); from the plan (docs/lateness.md)</p>",
        ),
        (
            "Faults per type per table",
            faults_figure(facts),
            "<p>per table, the rows given a data-quality fault on each day by fault type: exact, from the plan; "
            "the `_faults` table labels each one (docs/faults.md)</p>",
        ),
        ("Batches over time", batches_figure(facts), "<p>seconds per batch (bars) and rows per second (line)</p>"),
    ]
    for title, figure, legend in figures:
        if figure is not None:
            chart = figure.to_html(full_html=False, include_plotlyjs=False, config=config)
            sections.append(f"<h2>{html.escape(title)}</h2>{legend}{chart}")
    return sections
