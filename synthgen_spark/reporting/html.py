"""The run report as one self-contained HTML file: Plotly charts with plotly.js inlined, no network.

Without plotly installed the page still has the header and tables, and says how to get the charts.
"""

from __future__ import annotations

import functools
import html
import json
import re
from importlib import resources
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
    rows = [
        ["dataset / job", f"{f['dataset_id']} / {f['job_name']}"],
        ["seed", f["seed_value"]],
        ["package version", f["package_version"]],
        ["config fingerprint", f["fingerprint"]],
        ["dates", f"{f['start_date']} .. {f['end_date']}"],
        ["output", f"{f['output_mode']} {f['path_format']} at {f['state_folder']}"],
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
    data = _json_in_script(json.dumps(rows, separators=(",", ":")))
    return (
        f'{section}<details><summary>{summary}</summary><script type="application/json" class="sg-files">{data}'
        f"</script></details><script>{FILES_LOADER}</script>"
    )


# Draws each chart when it nears the screen (those on the first screen at once), and the rest one per task
# after the load event, so the page opens without waiting for charts below the fold; then it marks the report
# with data-charts-drawn-ms (performance.now()). Scoped to its own report, so a notebook may show several.
LOADER = """(function () {
  const root = document.currentScript.closest('.synthgen-report') || document.body;
  const figures = JSON.parse(root.querySelector('script.sg-figures').textContent);
  const config = {displaylogo: false, responsive: true};
  const pending = new Map();
  root.querySelectorAll('.sg-chart').forEach(div => pending.set(div, figures[div.dataset.figure]));
  const draw = div => {
    const figure = pending.get(div);
    if (!figure) return;
    pending.delete(div);
    Plotly.newPlot(div, figure.data, figure.layout, config);
    if (!pending.size) root.dataset.chartsDrawnMs = Math.round(performance.now());
  };
  const near = new IntersectionObserver(seen => seen.forEach(e => e.isIntersecting && draw(e.target)),
                                        {rootMargin: '300px'});
  pending.forEach((_, div) => near.observe(div));
  [...pending.keys()].filter(div => div.getBoundingClientRect().top < innerHeight).forEach(draw);
  const rest = () => { const next = pending.keys().next(); if (!next.done) { draw(next.value); setTimeout(rest, 0); } };
  if (document.readyState === 'complete') setTimeout(rest, 0); else addEventListener('load', () => setTimeout(rest, 0));
})();"""
# Builds the files table from its JSON rows when the reader unfolds it (thousands of rows cost the page's opening)
FILES_LOADER = """(function () {
  const details = document.currentScript.previousElementSibling;
  details.addEventListener('toggle', () => {
    if (!details.open || details.querySelector('table')) return;
    const table = document.createElement('table');
    const rows = JSON.parse(details.querySelector('script.sg-files').textContent);
    [['path', 'table', 'date', 'rows', 'bytes'], ...rows].forEach((row, i) => {
      const tr = table.insertRow();
      row.forEach((value, j) => {
        const cell = document.createElement(i ? 'td' : 'th');
        cell.textContent = typeof value === 'number' ? value.toLocaleString('en') : (value ?? '-');
        if (j >= 3) cell.className = 'n';
        tr.appendChild(cell);
      });
    });
    details.appendChild(table);
  });
})();"""


def _json_in_script(text: str) -> str:
    """JSON made safe inside a ``<script>`` element (no ``</`` that could close it)."""
    return text.replace("</", "<\\/")


def _charts(facts: dict[str, Any]) -> list[str] | None:
    """The chart sections, or None without plotly."""
    try:
        import plotly  # noqa: F401
    except ImportError:
        return None
    from synthgen_spark.reporting import charts

    key = "".join(f'<span style="background:{c}"></span>{k}' for k, c in DAY_COLOURS.items())
    sections = [
        (
            "Rows per day per table",
            charts.rows_figures(facts, DAY_COLOURS),
            f'<p class="key">rows written per day (bars), by kind of day:{key} &nbsp;·&nbsp; expected rows: dotted line</p>',
        ),
        (
            "Populations of snapshot tables",
            charts.population_figures(facts),
            "<p>signed up (exact); active and churned (expected)</p>",
        ),
        (
            "Changes per day by operation",
            charts.changes_figures(facts),
            "<p>per change feed, the rows expected by operation: inserts exact (the population's growth), "
            "updates per change group and churn from their daily rates</p>",
        ),
        (
            "Late rows per arrival day",
            charts.lateness_figures(facts),
            "<p>per table with late arrivals, the rows each day's file holds by how many days after their event "
            "day they arrived (on time: 0); from the plan (docs/lateness.md)</p>",
        ),
        (
            "Faults per type per table",
            charts.faults_figures(facts),
            "<p>per table, the rows given a data-quality fault on each day by fault type: exact, from the plan; "
            "the `_faults` table labels each one (docs/faults.md)</p>",
        ),
        (
            "Batches over time",
            charts.batches_figures(facts),
            "<p>seconds per batch (bars) and rows per second (line)</p>",
        ),
    ]
    html_parts, figures = [], []
    for title, section_figures, legend in sections:
        if section_figures:
            divs = []
            for figure in section_figures:
                height = figure.layout.height
                divs.append(f'<div class="sg-chart" data-figure="{len(figures)}" style="height:{height}px"></div>')
                figures.append(figure.to_json())
            html_parts.append(f"<h2>{html.escape(title)}</h2>{legend}{''.join(divs)}")
    data = _json_in_script("[" + ",".join(figures) + "]")
    # MathJax "local": plotly.js never fetches MathJax from a network address
    return [
        f"<script>window.PlotlyConfig = {{MathJaxConfig: 'local'}};</script><script>{plotly_js()}</script>",
        *html_parts,
        f'<script type="application/json" class="sg-figures">{data}</script><script>{LOADER}</script>',
    ]


VENDORED_PLOTLY = "data/plotly/plotly-basic.min.js"
_VERSION = re.compile(r"plotly\.js (?:\(basic - minified\) )?v(\d+\.\d+\.\d+)")


@functools.cache
def plotly_js() -> str:
    """plotly.js to inline: the vendored basic bundle (bar, scatter) when it has the installed plotly's version.

    The basic bundle is a quarter of the full one, which is what the page spends most of its opening on; with
    another plotly version installed, its own full bundle keeps figures and library in step.
    """
    import plotly.offline

    full = plotly.offline.get_plotlyjs()
    basic = resources.files("synthgen_spark").joinpath(VENDORED_PLOTLY).read_text(encoding="utf-8")
    versions = [_VERSION.search(bundle[:500]) for bundle in (full, basic)]
    same = all(versions) and versions[0].group(1) == versions[1].group(1)
    return basic if same else full
