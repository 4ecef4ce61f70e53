"""The run report: report.json against the plan and the files on disk, re-rendering, every mode, a real browser."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from pathlib import Path

import pytest

from synthgen_spark.api import generate, report
from synthgen_spark.cli import main
from synthgen_spark.planner import build_plan, job_root
from synthgen_spark.reporting import REPORT_FOLDER, build_facts, render_html
from synthgen_spark.state import Ledger, state_folder

from . import report_browser
from .helpers import assert_days_match_plan, read_facts, small_config


@pytest.fixture(scope="module")
def csv_job(spark, tmp_path_factory):
    """Two runs of one csv flat job with its change feeds: 02-01..02-02, then resumed to 02-03 (daily batches)."""
    root = tmp_path_factory.mktemp("csv_job")
    job = {"output_mode": "csv", "path_format": "flat", "batch_size": 1, "change_feed": True}
    first = small_config(root, end_date="2024-02-02", **job)
    generate(first, spark, progress=None)
    second = small_config(root, end_date="2024-02-03", **job)
    result = generate(second, spark, progress=None)
    return first, second, result


def test_report_json_holds_the_plans_rows_and_the_files_sizes_over_both_runs(csv_job):
    first, second, result = csv_job
    facts = read_facts(second)
    assert_days_match_plan(facts, second)
    assert [d["date"] for d in facts["tables"]["orders"]["days"]] == ["2024-02-01", "2024-02-02", "2024-02-03"]
    assert [r["status"] for r in facts["runs"]] == ["completed", "completed"]
    assert [len([b for b in facts["batches"] if b["run_id"] == r["run_id"]]) for r in facts["runs"]] == [2, 1]
    assert all(b["seconds"] > 0 and b["rows"] > 0 for b in facts["batches"])
    written = [Path(p) for t in facts["tables"].values() for d in t["days"] for p in (f["path"] for f in d["files"])]
    assert facts["totals"]["bytes"] == sum(p.stat().st_size for p in written) > 0
    plan = build_plan(second)
    assert facts["totals"]["rows"] == sum(td.rows for td in plan.table_days if not td.table.derived_from)
    feed = facts["tables"]["customers_changes"]
    assert feed["derived_from"] == "customers" and [d["date"] for d in feed["days"]] == [
        "2024-02-01",
        "2024-02-02",
        "2024-02-03",
    ]
    for day in feed["days"]:  # inserts are exact (the population's growth): the files hold as many
        with open(day["files"][0]["path"], newline="") as handle:
            inserts = sum(row["change_op"] == "insert" for row in csv.DictReader(handle))
        assert day["operations"]["insert"] == inserts and "update churn" in day["operations"]
    assert result.report.facts["runs"] == facts["runs"] and "<div" in result._repr_html_()


def test_re_render_covers_every_run_and_every_day_the_job_holds(csv_job, spark, capsys):
    first, second, _ = csv_job
    grown = Path(read_facts(second)["tables"]["orders"]["days"][0]["files"][0]["path"])
    with grown.open("a") as handle:  # a file that changed since the run: a re-render looks every size up again
        handle.write("\n")
    rendered = report(first, spark)  # the first run's config: the resumed day comes from the ledger
    facts = read_facts(first)
    assert facts == json.loads(json.dumps(rendered.facts))
    assert len(facts["runs"]) == 2 and facts["end_date"] == "2024-02-03"
    assert_days_match_plan(facts, second)
    args = ["report", "--job-name", "t", "--dataset-id", "retail_oltp_small", "--start-date", "2024-02-01"]
    args += ["--end-date", "2024-02-01", "--output-root", first.output_root, "--output-mode", "csv"]
    args += ["--path-format", "flat", "--scale-factor", "0.05", "--seed-value", "7"]
    assert main(args) == 0
    assert f"report written: {rendered.html_path}" in capsys.readouterr().out
    assert main([*args[:-1], "8"]) == 2  # another seed: another configuration
    assert "seed_value" in capsys.readouterr().err


def test_parquet_nested_chunks_and_a_failed_run_shows_what_completed(spark, tmp_path):
    config = small_config(tmp_path, batch_size=1, chunk_size=200)
    blocker = Path(job_root(config), "orders", "2024", "02", "03")
    blocker.parent.mkdir(parents=True)
    blocker.write_text("a file where the day's folder should be")  # the third batch cannot move its files in
    with pytest.raises(Exception):  # noqa: B017 - the writer's or Hadoop's error, whichever comes first
        generate(config, spark, progress=None)
    facts = read_facts(config)
    assert [r["status"] for r in facts["runs"]] == ["failed"]
    orders = {d["date"]: d for d in facts["tables"]["orders"]["days"]}
    assert [orders[d]["written"] for d in sorted(orders)] == [True, True, False]
    assert orders["2024-02-03"]["rows"] == 0 and orders["2024-02-03"]["files"] == []
    assert orders["2024-02-03"]["expected_rows"] > 0
    done = build_plan(small_config(tmp_path, batch_size=1, chunk_size=200, end_date="2024-02-02"))
    assert any(len(td.paths) > 1 for td in done.table_days)  # chunk_size split some days into several files
    assert_days_match_plan(facts, done.config)


def test_table_mode_reports_in_the_state_folder_with_each_days_delta_files(spark, tmp_path):
    config = small_config(
        tmp_path,
        output_mode="table",
        table_location="path",
        partition_by_date=True,
        scale_factor=0.01,
        end_date="2024-02-02",
    )
    generate(config, spark, progress=None)
    facts = read_facts(config)
    assert Path(state_folder(config), REPORT_FOLDER, "report.html").is_file()
    plan = build_plan(config)
    for td in plan.table_days:
        day = next(d for d in facts["tables"][td.table.name]["days"] if d["date"] == td.date.isoformat())
        assert (day["rows"], day["expected_rows"], day["written"]) == (td.rows, td.rows, True)
        folder = Path(td.target.table, f"{td.table.primary_date_column}={td.date.isoformat()}")
        on_disk = {str(p): p.stat().st_size for p in folder.glob("*.parquet")}
        assert on_disk and {f["path"].removeprefix("file:"): f["bytes"] for f in day["files"]} == on_disk
    orders = facts["tables"]["orders"]
    data = [p for p in Path(tmp_path).rglob("*.parquet") if "/orders/" in str(p) and "_delta_log" not in str(p)]
    assert orders["location"].endswith("/orders") and orders["files"] == len(data)
    assert orders["bytes"] == sum(p.stat().st_size for p in data)


def test_the_report_opens_offline_in_chromium_with_charts_and_no_errors(csv_job, tmp_path):
    if report_browser.chromium() is None:
        pytest.skip("chromium is not installed (make test installs it when run as root)")
    html_path = Path(state_folder(csv_job[1]), REPORT_FOLDER, "report.html")
    html = html_path.read_text()
    assert report_browser.external_references(html) == []
    unfolded = tmp_path / "unfolded.html"  # the reader unfolds the files table
    unfolded.write_text(
        html.replace("</body>", "<script>document.querySelector('details').open = true</script></body>")
    )
    dom, probe = report_browser.dump_dom(unfolded, tmp_path)
    charts = html.count('class="sg-chart"')
    assert charts >= 4 and dom.count('class="main-svg"') >= charts  # every chart drawn, the first screen's first
    assert "Changes per day by operation" in dom and "data-charts-drawn-ms" in dom
    assert probe == {"errors": [], "resources": []}
    facts = read_facts(csv_job[1])
    paths = [f["path"] for t in facts["tables"].values() for d in t["days"] for f in d["files"]]
    assert dom.count("<tr>") >= len(paths) + 1 and all(path in dom for path in paths)
    png = tmp_path / "report.png"
    report_browser.screenshot(html_path, png)
    assert report_browser.distinct_colours(png) > 50


def _facts_without_spark(tmp_path) -> dict:
    config = small_config(tmp_path, end_date="2024-02-02")
    plan = build_plan(config)
    ledger = Ledger({"params": {}})
    for td in plan.table_days[:2]:
        ledger.record(td.table.name, td.date, td.rows, "r1", len(td.paths))
    return build_facts(plan, ledger, lambda path: 123)


def test_without_plotly_the_page_says_how_to_get_the_charts(tmp_path, monkeypatch):
    facts = _facts_without_spark(tmp_path)
    monkeypatch.setitem(sys.modules, "plotly", None)  # import plotly now raises ImportError
    page = render_html(facts)
    assert "pip install 'synthgen_spark[report]'" in page and "plotly.js" not in page.lower()
    assert "<table>" in page


def test_the_page_inlines_the_basic_plotly_bundle_only_when_its_version_matches_the_installed_plotly(
    tmp_path, monkeypatch
):
    import plotly.offline

    from synthgen_spark.reporting import html as page_html

    facts = _facts_without_spark(tmp_path)
    page_html.plotly_js.cache_clear()
    assert "plotly.js (basic - minified) v" in render_html(facts)
    monkeypatch.setattr(plotly.offline, "get_plotlyjs", lambda: "/* plotly.js v0.0.1 */ window.Plotly = {};")
    page_html.plotly_js.cache_clear()
    page = render_html(facts)
    assert "plotly.js v0.0.1" in page and "(basic - minified)" not in page
    page_html.plotly_js.cache_clear()


def test_chart_and_file_data_cannot_close_their_script_elements(tmp_path):
    facts = _facts_without_spark(tmp_path)
    table = next(iter(facts["tables"].values()))
    day = next(d for d in table["days"] if d["files"])
    day["files"][0]["path"] = "/x/</script><script>alert(1)</script>.csv"
    page = render_html(facts)
    assert "</script><script>alert(1)" not in page and "<\\/script><script>alert(1)<\\/script>" in page


def test_populations_count_signed_up_exactly_and_never_more_active_than_signed_up(tmp_path):
    facts = _facts_without_spark(tmp_path)
    customers = facts["tables"]["customers"]
    by_date = {d["date"]: d for d in customers["days"]}
    for point in customers["population"]:
        assert 0 <= point["active"] <= point["signed_up"] and point["churned"] == point["signed_up"] - point["active"]
        if point["date"] in by_date:
            assert point["signed_up"] == by_date[point["date"]]["expected_rows"]
    written = [d for t in facts["tables"].values() for d in t["days"] if d["written"]]
    assert len(written) == 2 and all(f["bytes"] == 123 for d in written for f in d["files"])


def test_a_change_feed_the_ledger_holds_is_reported_even_when_the_re_render_config_omits_it(tmp_path):
    feed_plan = build_plan(small_config(tmp_path, end_date="2024-02-02", change_feed=True))
    ledger = Ledger({"params": {}})
    for td in feed_plan.table_days:
        ledger.record(td.table.name, td.date, td.rows, "r1", len(td.paths))
    facts = build_facts(build_plan(small_config(tmp_path, end_date="2024-02-02")), ledger, lambda path: 1)
    feed = facts["tables"]["customers_changes"]
    assert feed["derived_from"] == "customers" and [d["written"] for d in feed["days"]] == [True, True]
    assert all(set(d["operations"]) >= {"insert", "update churn"} for d in feed["days"])
    assert facts["totals"]["rows"] == sum(td.rows for td in feed_plan.table_days if not td.table.derived_from)
    assert "customers_changes" in render_html(facts)


def test_late_arrivals_show_each_days_rows_by_event_day_within_the_lateness_window(tmp_path):
    plan = build_plan(small_config(tmp_path, end_date="2024-02-10", late_arrival_rate=0.3, max_late_days=2))
    ledger = Ledger({"params": {}})
    for td in plan.table_days:
        ledger.record(td.table.name, td.date, td.rows, "r1", len(td.paths))
    facts = build_facts(plan, ledger, lambda path: 1)
    orders = facts["tables"]["orders"]["days"]
    late = 0
    for day in orders:
        arrival = dt.date.fromisoformat(day["date"])
        lags = {(arrival - dt.date.fromisoformat(event)).days: rows for event, rows in day["arrivals"].items()}
        assert sum(lags.values()) == day["expected_rows"] and set(lags) <= {0, 1, 2} and lags[0] > 0
        late += sum(rows for lag, rows in lags.items() if lag)
    assert late > 0 and "arrivals" not in facts["tables"]["customers"]["days"][0]
    assert "Late rows per arrival day" in render_html(facts)


def test_faults_show_per_table_and_type_as_many_as_the_labels_table_holds(tmp_path):
    plan = build_plan(small_config(tmp_path, end_date="2024-02-04", fault_rate=0.1))
    ledger = Ledger({"params": {}})
    for td in plan.table_days:
        ledger.record(td.table.name, td.date, td.written_rows, "r1", len(td.paths))
    facts = build_facts(plan, ledger, lambda path: 1)
    labels = facts["tables"]["_faults"]["days"]
    assert {"2024-02-01", "2024-02-04"} <= {d["date"] for d in labels}  # and the leading snapshot's date
    orders = {d["date"]: d for d in facts["tables"]["orders"]["days"]}
    for day in labels:
        assert sum(n for kinds in day["faults"].values() for n in kinds.values()) == day["rows"]
        if day["date"] in orders:  # the day's file holds its rows and their duplicates
            duplicates = day["faults"]["orders"].get("duplicate_row", 0)
            assert orders[day["date"]]["expected_rows"] == orders[day["date"]]["rows"] > duplicates > 0
    assert "Faults per type per table" in render_html(facts)
