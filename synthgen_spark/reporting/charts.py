"""The report's Plotly figures, built from report.json's facts (imported only when plotly is installed)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

ROW_HEIGHT = 230
DAY_MS = 86_400_000


def _day_kind(day: dict[str, Any]) -> str:
    if day["event"]:
        return "event"
    if day["holiday"]:
        return "holiday"
    return "weekend" if day["weekend"] else "weekday"


def _hover(day: dict[str, Any], calendar: dict[str, Any]) -> str:
    """Hover text of one table-day: the calendar and, for incremental tables, the formula's factors."""
    lines = [f"{day['date']} {calendar['weekday']}", f"written {day['rows']:,} / expected {day['expected_rows']:,}"]
    factors = day.get("factors")
    if factors:
        lines.append(
            f"{factors['base_rows']:,} x scale {factors['scale_factor']:g} x weekday {factors['weekday']:g}"
            f" x holiday {factors['holiday']:g} x growth {factors['growth']:g}"
        )
    for name in (calendar["event"], calendar["holiday"], factors and factors["holiday_name"]):
        if name and name not in lines:
            lines.append(name)
    lines.append(f"{len(day['files'])} file(s), {sum(f['bytes'] or 0 for f in day['files']):,} bytes")
    return "<br>".join(lines)


def rows_figure(facts: dict[str, Any], colours: dict[str, str]) -> go.Figure | None:
    """One panel per table: rows written per day (bars coloured by weekday/weekend/holiday/event), expected as a line."""
    tables = {n: t for n, t in facts["tables"].items() if "derived_from" not in t}
    if not tables:
        return None
    calendar = {d["date"]: d for d in facts["calendar"]}
    names = list(tables)
    figure = make_subplots(
        rows=len(names), cols=1, shared_xaxes=True, subplot_titles=names, vertical_spacing=0.25 / len(names)
    )
    for row, name in enumerate(names, start=1):
        days = tables[name]["days"]
        dates = [d["date"] for d in days]
        cal = [
            calendar.get(d["date"]) or {"weekday": "", "weekend": False, "holiday": None, "event": None} for d in days
        ]
        hover = [_hover(d, c) for d, c in zip(days, cal, strict=True)]
        figure.add_trace(
            go.Bar(
                x=dates,
                y=[d["rows"] for d in days],
                marker_color=[colours[_day_kind(c)] for c in cal],
                width=DAY_MS * 0.8,  # a weekly snapshot's bar is one day wide too
                hovertext=hover,
                hoverinfo="text",
                name=f"{name} written",
                showlegend=False,
            ),
            row=row,
            col=1,
        )
        figure.add_trace(
            go.Scatter(
                x=dates,
                y=[d["expected_rows"] for d in days],
                mode="lines+markers",
                line={"color": "#222", "width": 1, "dash": "dot"},
                marker={"size": 4},
                hoverinfo="skip",
                name=f"{name} expected",
                showlegend=False,
            ),
            row=row,
            col=1,
        )
    figure.update_layout(height=ROW_HEIGHT * len(names), margin={"t": 40, "b": 30, "l": 60, "r": 20}, bargap=0.1)
    return figure


OPERATION_COLOURS = {"insert": "#54a24b", "delete": "#e45756", "update churn": "#f58518"}
UPDATE_COLOURS = ("#4c78a8", "#72b7b2", "#b279a2", "#9d755d", "#bab0ac")


Series = tuple[str, str, list[str], list[float], str]  # name, colour, dates, values, hover format of a value


def stacked_panels(panels: dict[str, list[Series]]) -> go.Figure | None:
    """One panel of stacked bars per entry (title -> its series); a series' name shows once in the legend."""
    if not panels:
        return None
    figure = make_subplots(rows=len(panels), cols=1, subplot_titles=list(panels), vertical_spacing=0.3 / len(panels))
    shown: set[str] = set()
    for row, series in enumerate(panels.values(), start=1):
        for name, colour, dates, values, value_format in series:
            figure.add_trace(
                go.Bar(
                    x=dates,
                    y=values,
                    name=name,
                    marker_color=colour,
                    legendgroup=name,
                    showlegend=name not in shown,
                    hovertemplate=f"%{{x}}<br>{name}: %{{y:{value_format}}}<extra></extra>",
                ),
                row=row,
                col=1,
            )
            shown.add(name)
    figure.update_layout(
        barmode="stack", height=ROW_HEIGHT * len(panels), margin={"t": 40, "b": 30, "l": 60, "r": 20}, bargap=0.1
    )
    return figure


def changes_figure(facts: dict[str, Any]) -> go.Figure | None:
    """One panel per change feed: its expected rows per day by operation (inserts exact), stacked."""
    panels = {}
    for name, table in facts["tables"].items():
        days = [d for d in table["days"] if "operations" in d]
        if days:
            dates, updates = [d["date"] for d in days], iter(UPDATE_COLOURS * 4)
            panels[name] = [
                (op, OPERATION_COLOURS.get(op) or next(updates), dates, [d["operations"][op] for d in days], ",.1f")
                for op in days[0]["operations"]
            ]
    return stacked_panels(panels)


FAULT_COLOURS = {
    "null": "#4c78a8",
    "out_of_range": "#f58518",
    "malformed": "#e45756",
    "whitespace_or_case": "#72b7b2",
    "duplicate_row": "#54a24b",
    "orphan_key": "#b279a2",
}


def faults_figure(facts: dict[str, Any]) -> go.Figure | None:
    """One panel per faulted table: its labelled faults per day, stacked by fault type."""
    labels = [d for t in facts["tables"].values() for d in t["days"] if "faults" in d]
    dates = [d["date"] for d in labels]
    panels = {}
    for table in sorted({name for d in labels for name in d["faults"]}):
        counts = {kind: [d["faults"].get(table, {}).get(kind, 0) for d in labels] for kind in FAULT_COLOURS}
        panels[table] = [(k, FAULT_COLOURS[k], dates, n, ",") for k, n in counts.items() if any(n)]
    return stacked_panels(panels)


LATE_COLOURS = ("#4c78a8", "#f58518", "#e45756", "#b279a2", "#9d755d", "#bab0ac")


def lateness_figure(facts: dict[str, Any]) -> go.Figure | None:
    """One panel per table with late arrivals: rows per arrival day by how many days after their event day."""
    panels = {}
    for name, table in facts["tables"].items():
        days = [d for d in table["days"] if "arrivals" in d]
        if days:
            dates = [d["date"] for d in days]
            lags = [{_lag(d["date"], event): rows for event, rows in d["arrivals"].items()} for d in days]
            panels[name] = [
                (
                    _late_name(lag),
                    LATE_COLOURS[min(lag, len(LATE_COLOURS) - 1)],
                    dates,
                    [x.get(lag, 0) for x in lags],
                    ",",
                )
                for lag in sorted({lag for by_lag in lags for lag in by_lag})
            ]
    return stacked_panels(panels)


def _late_name(lag: int) -> str:
    return "on time" if lag == 0 else f"{lag} day{'s' * (lag > 1)} late"


def _lag(arrival: str, event: str) -> int:
    return (dt.date.fromisoformat(arrival) - dt.date.fromisoformat(event)).days


def population_figure(facts: dict[str, Any]) -> go.Figure | None:
    """One panel per snapshot table: signed up, active and churned entities per day."""
    tables = {n: t for n, t in facts["tables"].items() if t.get("population")}
    if not tables:
        return None
    figure = make_subplots(rows=len(tables), cols=1, subplot_titles=list(tables), vertical_spacing=0.3 / len(tables))
    styles = {"signed_up": "#4c78a8", "active": "#54a24b", "churned": "#e45756"}
    for row, table in enumerate(tables.values(), start=1):
        points = table["population"]
        for key, colour in styles.items():
            figure.add_trace(
                go.Scatter(
                    x=[p["date"] for p in points],
                    y=[p[key] for p in points],
                    mode="lines",
                    line={"color": colour},
                    name=key.replace("_", " "),
                    legendgroup=key,
                    showlegend=row == 1,
                ),
                row=row,
                col=1,
            )
    figure.update_layout(height=ROW_HEIGHT * len(tables), margin={"t": 40, "b": 30, "l": 60, "r": 20})
    return figure


def batches_figure(facts: dict[str, Any]) -> go.Figure | None:
    """Seconds per batch (bars) and rows per second (line) in the order they finished, one colour per run."""
    batches = facts["batches"]
    if not batches:
        return None
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    for run in dict.fromkeys(b["run_id"] for b in batches):
        mine = [b for b in batches if b["run_id"] == run]
        x = [b["ended_at"] for b in mine]
        text = [
            f"run {run}<br>batch {b['index'] + 1}: {b['dates']}<br>{b['rows']:,} rows in {b['seconds']:.2f} s"
            for b in mine
        ]
        figure.add_trace(
            go.Bar(x=x, y=[b["seconds"] for b in mine], name=f"{run} seconds", hovertext=text, hoverinfo="text")
        )
        rates = [b["rows"] / b["seconds"] if b["seconds"] else None for b in mine]
        figure.add_trace(
            go.Scatter(x=x, y=rates, mode="lines+markers", name=f"{run} rows/s", hovertext=text, hoverinfo="text+y"),
            secondary_y=True,
        )
    figure.update_yaxes(title_text="seconds", secondary_y=False)
    figure.update_yaxes(title_text="rows/s", secondary_y=True)
    figure.update_layout(height=340, margin={"t": 30, "b": 30, "l": 60, "r": 60})
    return figure
