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
            f" x holiday {factors['holiday']:g}"
        )
    for name in (calendar["event"], calendar["holiday"], factors and factors["holiday_name"]):
        if name and name not in lines:
            lines.append(name)
    lines.append(f"{len(day['files'])} file(s), {sum(f['bytes'] or 0 for f in day['files']):,} bytes")
    return "<br>".join(lines)


def _panel(title: str, height: int = ROW_HEIGHT, **layout: Any) -> go.Figure:
    """An empty figure of one panel: the report draws each panel on its own, when it scrolls into view."""
    figure = go.Figure()
    figure.update_layout(
        title={"text": title, "font": {"size": 14}, "x": 0.01},
        height=height,
        margin={"t": 34, "b": 26, "l": 60, "r": 20},
        bargap=0.1,
        **layout,
    )
    return figure


def _date_range(facts: dict[str, Any]) -> list[str]:
    """The x range every per-day panel shares (half a day beyond each end), so panels line up."""
    first = dt.date.fromisoformat(facts["start_date"]) - dt.timedelta(days=1)
    return [f"{first.isoformat()} 12:00", f"{facts['end_date']} 12:00"]


def rows_figures(facts: dict[str, Any], colours: dict[str, str]) -> list[go.Figure]:
    """A panel per table: rows written per day (bars coloured by weekday/weekend/holiday/event), expected as a line."""
    tables = {n: t for n, t in facts["tables"].items() if "derived_from" not in t}
    calendar = {d["date"]: d for d in facts["calendar"]}
    figures = []
    for name, table in tables.items():
        days = table["days"]
        dates = [d["date"] for d in days]
        cal = [
            calendar.get(d["date"]) or {"weekday": "", "weekend": False, "holiday": None, "event": None} for d in days
        ]
        figure = _panel(name, showlegend=False, xaxis={"range": _date_range(facts)})
        figure.add_trace(
            go.Bar(
                x=dates,
                y=[d["rows"] for d in days],
                marker_color=[colours[_day_kind(c)] for c in cal],
                width=DAY_MS * 0.8,  # a weekly snapshot's bar is one day wide too
                hovertext=[_hover(d, c) for d, c in zip(days, cal, strict=True)],
                hoverinfo="text",
                name=f"{name} written",
            )
        )
        figure.add_trace(
            go.Scatter(
                x=dates,
                y=[d["expected_rows"] for d in days],
                mode="lines",
                line={"color": "#222", "width": 1, "dash": "dot"},
                hoverinfo="skip",
                name=f"{name} expected",
            )
        )
        figures.append(figure)
    return figures


OPERATION_COLOURS = {"insert": "#54a24b", "delete": "#e45756", "update churn": "#f58518"}
UPDATE_COLOURS = ("#4c78a8", "#72b7b2", "#b279a2", "#9d755d", "#bab0ac")


Series = tuple[str, str, list[str], list[float], str]  # name, colour, dates, values, hover format of a value


def stacked_panels(panels: dict[str, list[Series]], date_range: list[str]) -> list[go.Figure]:
    """A panel of stacked bars per entry (title -> its series)."""
    figures = []
    for title, series in panels.items():
        figure = _panel(title, barmode="stack", xaxis={"range": date_range})
        for name, colour, dates, values, value_format in series:
            figure.add_trace(
                go.Bar(
                    x=dates,
                    y=values,
                    name=name,
                    marker_color=colour,
                    hovertemplate=f"%{{x}}<br>{name}: %{{y:{value_format}}}<extra></extra>",
                )
            )
        figures.append(figure)
    return figures


def changes_figures(facts: dict[str, Any]) -> list[go.Figure]:
    """A panel per change feed: its expected rows per day by operation (inserts exact), stacked."""
    panels = {}
    for name, table in facts["tables"].items():
        days = [d for d in table["days"] if "operations" in d]
        if days:
            dates, updates = [d["date"] for d in days], iter(UPDATE_COLOURS * 4)
            panels[name] = [
                (op, OPERATION_COLOURS.get(op) or next(updates), dates, [d["operations"][op] for d in days], ",.1f")
                for op in days[0]["operations"]
            ]
    return stacked_panels(panels, _date_range(facts))


FAULT_COLOURS = {
    "null": "#4c78a8",
    "out_of_range": "#f58518",
    "malformed": "#e45756",
    "whitespace_or_case": "#72b7b2",
    "duplicate_row": "#54a24b",
    "orphan_key": "#b279a2",
}


def faults_figures(facts: dict[str, Any]) -> list[go.Figure]:
    """A panel per faulted table: its labelled faults per day, stacked by fault type."""
    labels = [d for t in facts["tables"].values() for d in t["days"] if "faults" in d]
    dates = [d["date"] for d in labels]
    panels = {}
    for table in sorted({name for d in labels for name in d["faults"]}):
        counts = {kind: [d["faults"].get(table, {}).get(kind, 0) for d in labels] for kind in FAULT_COLOURS}
        panels[table] = [(k, FAULT_COLOURS[k], dates, n, ",") for k, n in counts.items() if any(n)]
    return stacked_panels(panels, _date_range(facts))


LATE_COLOURS = ("#4c78a8", "#f58518", "#e45756", "#b279a2", "#9d755d", "#bab0ac")


def lateness_figures(facts: dict[str, Any]) -> list[go.Figure]:
    """A panel per table with late arrivals: rows per arrival day by how many days after their event day."""
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
    return stacked_panels(panels, _date_range(facts))


def _late_name(lag: int) -> str:
    return "on time" if lag == 0 else f"{lag} day{'s' * (lag > 1)} late"


def _lag(arrival: str, event: str) -> int:
    return (dt.date.fromisoformat(arrival) - dt.date.fromisoformat(event)).days


def population_figures(facts: dict[str, Any]) -> list[go.Figure]:
    """A panel per snapshot table: signed up, active and churned entities per day."""
    styles = {"signed_up": "#4c78a8", "active": "#54a24b", "churned": "#e45756"}
    figures = []
    for name, table in facts["tables"].items():
        points = table.get("population")
        if not points:
            continue
        figure = _panel(name, xaxis={"range": _date_range(facts)})
        dates = [p["date"] for p in points]
        for key, colour in styles.items():
            figure.add_trace(
                go.Scatter(x=dates, y=[p[key] for p in points], mode="lines", line={"color": colour}, name=key)
            )
        figures.append(figure)
    return figures


def batches_figures(facts: dict[str, Any]) -> list[go.Figure]:
    """Seconds per batch (bars) and rows per second (line) in the order they finished, one colour per run."""
    batches = facts["batches"]
    if not batches:
        return []
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
    return [figure]
