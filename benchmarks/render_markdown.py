"""Render a results JSON (from run_benchmarks.py) as the page docs/performance.md.

Every number on the page comes from the JSON: the tables, the summary, the profile's findings
(when the run profiled) and the run's command, machine and commit. Nothing is pasted by hand.

Usage: .venv/bin/python benchmarks/render_markdown.py benchmarks/results.json [--out docs/performance.md | -]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HEADING = "# Performance"
PAGE = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
FULL = "synthgen orders (full)"
SPEC = "synthgen orders (dbldatagen spec columns)"
DBL = "dbldatagen 0.4.0.post1 (spec)"
FAKER = "Faker row loop (spec columns, 1 Python thread)"

INTRO = f"""{HEADING}

Generation is one Spark job per table per batch: `spark.range` plus hashed, seeded column
expressions written as Spark SQL text (one `selectExpr` per level of the frame), no UDFs, no shuffles, no `rand()`.
Batches of one file per table (one-day batches) share a window frame: a table's frame for 32 batches is built and
analysed once, and each batch takes its file's rows with a filter Spark applies while planning (`engine/windows.py`).
How fast that is, against [dbldatagen](https://pypi.org/project/dbldatagen/) 0.4.0.post1, a plain
Python Faker loop and the cost of writing alone, is measured by `benchmarks/run_benchmarks.py`
(`make bench`; see `benchmarks/README.md`). The session has Spark's default whole-stage codegen;
synthgen's cases run inside `generation_settings(spark)`, as a run does (per-expression code
generation), and dbldatagen's cases and the write-only floor keep Spark's defaults."""


def result(doc: dict, name: str, sink: str) -> dict | None:
    return next((r for r in doc["results"] if r["name"] == name and r["sink"] == sink), None)


def fmt_rate(value: float) -> str:
    if value >= 1e6:
        return f"{value / 1e6:.2f}M"
    if value >= 1e4:
        return f"{value / 1e3:.0f}k"
    return f"{value:,.0f}"


def environment_line(doc: dict) -> str:
    env = doc["environment"]
    line = (
        f"Measured {env['date_utc'][:10]} at commit {env['git_commit']} (synthgen_spark "
        f"{env.get('synthgen_spark', '?')}): {env['cpu_count']} cores, {env['memory_total_gib']:.0f} GiB, "
        f"Spark {env['spark']} (`{env['spark_master']}`, driver memory {env['spark_driver_memory']}), "
        f"Java {env['java']}, Python {env['python']}, dbldatagen {env['dbldatagen']}, Faker {env['faker']}. "
    )
    if "spark_sql_codegen_wholeStage" in env:
        run = ", ".join(f"`{k}={v}`" for k, v in env.get("synthgen_run_settings", {}).items())
        line += (
            f"Session `spark.sql.codegen.wholeStage={env['spark_sql_codegen_wholeStage']}`; "
            f"synthgen cases: {run or 'the session settings'}. "
        )
    line += (
        f"Load average {doc['load_average']['start']:.1f} at the start and {doc['load_average']['end']:.1f} at the end."
    )
    modified = env.get("package_files_modified_since_commit")
    if modified:
        line += f" Package files modified since that commit: {', '.join(f'`{m}`' for m in modified)}."
    return line


def tables(doc: dict) -> list[str]:
    lines = ["| case | sink | rows | best of | best s | rows/s |", "| --- | --- | ---: | ---: | ---: | ---: |"]
    for r in doc["results"]:
        lines.append(
            f"| {r['name']} | {r['sink']} | {r['rows']:,} | {len(r['times_s'])} | {r['best_s']:.2f} | "
            f"{r['rows_per_s']:,.0f} |"
        )
    lines += ["", "| ratio | value | target | result | detail |", "| --- | ---: | ---: | --- | --- |"]
    for r in doc["ratios"]:
        verdict = "" if r["met"] is None else ("met" if r["met"] else "**missed**")
        target = r["target"].replace(">=", "≥").replace("<=", "≤")
        lines.append(f"| {r['name']} | {r['value']:.2f} | {target} | {verdict} | {r['detail']} |")
    mem = doc.get("memory")
    if mem:
        lines += [
            "",
            "| rows -> noop | seconds | peak Python RSS | peak JVM heap used | JVM heap after GC | peak JVM RSS |",
            "| ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for m in mem.values():
            if not isinstance(m, dict):
                continue
            lines.append(
                f"| {m['rows']:,} | {m['seconds']:.1f} | {m['peak_mib']['python_rss']:.0f} MiB | "
                f"{m['peak_mib']['jvm_heap_used']:.0f} MiB | {m['after_gc_mib']['jvm_heap_used']:.0f} MiB | "
                f"{m['peak_mib']['jvm_rss']:.0f} MiB |"
            )
        lines.append(f"\nJVM max heap: {mem['jvm_max_heap_mib']:.0f} MiB.")
    return lines


def times(value: float) -> str:
    return f"{value:.2f}x" if value < 10 else f"{value:.0f}x"


def summary(doc: dict) -> list[str]:
    """What the run shows, in sentences made of its numbers."""
    targets = [r for r in doc["ratios"] if r["met"] is not None]
    missed = [r for r in targets if not r["met"]]
    lines = [f"- Targets met: {len(targets) - len(missed)} of {len(targets)}."]
    if missed:
        lines[0] = lines[0][:-1] + "; missed: " + "; ".join(r["name"] for r in missed) + "."
    lines.append(
        "- The targets on the dbldatagen spec's 7 columns compare the same work: synthgen, dbldatagen and the Faker "
        "loop all make exactly those. The full `orders` table has targets of its own (to `noop` at least "
        "dbldatagen's rate on the spec's columns, to parquet at most 1.5x its own floor) and is context against the "
        "Faker loop: it has 12 columns (a status lifecycle and its dates among them), a churn-aware customer key and "
        "an `order_total` over 1 to 7 items, each with a churn-aware product key and that product's price in force."
    )
    lines += full_table_cost(doc)
    spec, full, dbl = result(doc, SPEC, "noop"), result(doc, FULL, "noop"), result(doc, DBL, "noop")
    faker = result(doc, FAKER, "python list")
    if spec and full and dbl and faker:
        for row, what in ((spec, "the dbldatagen spec's 7 columns"), (full, "the full `orders` table")):
            lines.append(
                f"- To `noop`, {what} at {fmt_rate(row['rows_per_s'])} rows/s: "
                f"{times(row['rows_per_s'] / dbl['rows_per_s'])} dbldatagen ({fmt_rate(dbl['rows_per_s'])} rows/s), "
                f"{times(row['rows_per_s'] / faker['rows_per_s'])} the Faker loop ({fmt_rate(faker['rows_per_s'])})."
            )
    for name, short in ((SPEC, "spec columns"), (FULL, "full table")):
        gen, floor = result(doc, name, "parquet"), result(doc, f"{name} cached (write-only floor)", "parquet")
        noop = result(doc, name, "noop")
        if gen and floor and noop:
            lines.append(
                f"- To parquet ({short}): {gen['best_s']:.2f} s, against {floor['best_s']:.2f} s for writing the "
                f"same rows from cache; generating them to `noop` takes {noop['best_s']:.2f} s."
            )
    mem = doc.get("memory")
    runs = [m for m in (mem or {}).values() if isinstance(m, dict)]
    if len(runs) == 2:
        low, high = runs
        lines.append(
            f"- Driver memory, {low['rows']:,} vs {high['rows']:,} rows: Python RSS peaks at "
            f"{low['peak_mib']['python_rss']:.0f} vs {high['peak_mib']['python_rss']:.0f} MiB, JVM heap after GC "
            f"{low['after_gc_mib']['jvm_heap_used']:.0f} vs {high['after_gc_mib']['jvm_heap_used']:.0f} MiB."
        )
    lines += report_open_lines(doc.get("report_open"))
    lines += changes_lines(doc)
    lines += jobs_lines(doc)
    return lines


def full_table_cost(doc: dict) -> list[str]:
    """What the full table's gap to the spec's columns is made of, from the profile: hashes per row and the item sum."""
    prof = doc.get("profile") or {}
    plans, columns = prof.get("plans", {}), prof.get("columns", {}).get(FULL)
    full, spec = (plans.get(n, {}).get("run_settings", {}).get("xxhash64_in_optimized_plan") for n in (FULL, SPEC))
    if not (columns and full and spec and "order_total" in columns["per_column"]):
        return []
    total = columns["per_column"]["order_total"]
    return [
        f"- What the full table's row costs beyond the spec's (profile below): {full} `xxhash64` calls in its plan "
        f"against {spec}, and `order_total` alone, its items' product picks and prices in force, "
        f"{total['share_of_total']:.0%} of its time ({total['saved_by_dropping_s']:.2f} of "
        f"{columns['all_columns_s']:.2f} s for {columns['rows']:,} rows)."
    ]


def jobs_lines(doc: dict) -> list[str]:
    """The whole job at three batch sizes against writing the same files again from cache (issue 19)."""
    cases = doc.get("job_cases")
    if not cases:
        return []
    sink = "parquet (api.generate)"
    floor = result(doc, cases[-1], sink)
    jobs = [result(doc, name, sink) for name in cases[:-1]]
    if not floor or not all(jobs):
        return []
    parts = [
        f"{job['name'].split(', ')[-1]} {job['best_s']:.1f} s ({times(job['best_s'] / floor['best_s'])})"
        for job in jobs
    ]
    return [
        f"- The whole job, {cases[-1].split(':')[0]}: {'; '.join(parts)}, against {floor['best_s']:.1f} s for "
        f"writing the same {floor['rows']:,} rows again from cache, one file per table per day (targets ≤ 2.5x, "
        "1.6x and 1.3x)."
    ]


def report_open_lines(opened: dict | None) -> list[str]:
    """Section h: how long the run report of a year of 10 tables takes to open in Chromium."""
    if not opened:
        return []
    if "skipped" in opened:
        return [f"- Run report opening: not measured ({opened['skipped']})."]
    verdict = "met" if opened["met"] else "missed"
    return [
        f"- The run report of {opened['tables']} tables over {opened['days']} days ({opened['html_bytes']:,} bytes, "
        f"plotly.js embedded) opens in headless Chromium in {opened['open_seconds']:.2f} s beyond Chromium's own "
        f"start, every chart drawn after {opened['all_charts_seconds']:.2f} s (load "
        f"average {opened['load_average']}): target to open <= {opened['target_seconds']:g} s, {verdict}."
    ]


def changes_lines(doc: dict) -> list[str]:
    """Entities that change: the snapshot with change groups and its feed against the same snapshot without."""
    cases = doc.get("changes_cases")
    lines = []
    for sink in ("noop", "parquet") if cases else ():
        plain, feed = result(doc, cases["plain"], sink), result(doc, cases["feed"], sink)
        if plain and feed:
            lines.append(
                f"- Entities that change (to {sink}): customers with their change groups and the change feed "
                f"take {feed['best_s']:.2f} s, {times(feed['best_s'] / plain['best_s'])} the "
                f"{plain['best_s']:.2f} s of the same {plain['rows']:,} snapshot rows without changes (target ≤ 1.5x)."
            )
    return lines


def costliest(columns: dict, count: int = 4) -> str:
    per = sorted(columns["per_column"].items(), key=lambda kv: kv[1]["saved_by_dropping_s"], reverse=True)[:count]
    return "; ".join(
        f"`{c}` {v['saved_by_dropping_s']:.2f} s ({v['share_of_total']:.0%}; alone {v['alone_s']:.2f} s, "
        f"{v['xxhash64_calls_in_plan']} `xxhash64`)"
        for c, v in per
    )


def plan_line(name: str, entry: dict) -> str:
    run = entry.get("run_settings", entry.get("spark_default_codegen", {}))
    default = entry.get("spark_default_codegen", {})
    hof = ", ".join(f"`{h}`" for h in run.get("higher_order_functions", [])) or "none"
    text = (
        f"  - {name}: {len(run.get('operators', []))} operators, "
        f"{run.get('xxhash64_in_optimized_plan', 0)} `xxhash64` calls in the optimised plan, "
        f"higher-order functions: {hof}"
    )
    if default:
        text += (
            f"; with Spark's default whole-stage codegen, {default['whole_stage_codegen_subtrees']} subtree(s) "
            f"and {default['generated_code_chars'] / 1000:.0f} KB of generated code"
        )
        outside = default.get("operators_outside_whole_stage_codegen") or []
        if outside:
            text += f" ({len(outside)} operator(s) outside it: {', '.join(outside)})"
    return text + "."


def days_lines(days: dict) -> list[str]:
    best = days["best_s"]
    pairs = days.get("pairs") or [
        {"one_day": k, "days365": k2} for k, k2 in zip(list(best)[::2], list(best)[1::2], strict=False)
    ]
    rows = days.get("rows", {})
    head = "- **365 days in one batch vs one day**"
    if rows:
        head += f" ({rows['365 days']:,} vs {rows['1 day']:,} rows)"
    lines = [head + ", -> `noop`, best times:"]
    for pair in pairs:
        one, year = pair["one_day"], pair["days365"]
        lines.append(f"  - {year}: {best[year]:.2f} s; {one}: {best[one]:.2f} s.")
    driver = days.get("driver_build_and_plan_s")
    if driver:
        lines.append(
            f"  - building the frame and its physical plan on the driver: {driver['365 days']:.2f} s for 365 days, "
            f"{driver['1 day']:.2f} s for one day."
        )
    one, year = days.get("plan_one_day", {}), days.get("plan_365_days", {})
    if one and year and year.get("spark.sql.codegen.wholeStage") == "true":
        lines.append(
            f"  - plans: {year['xxhash64_in_optimized_plan']} vs {one['xxhash64_in_optimized_plan']} `xxhash64` "
            f"calls; whole-stage code with Spark's default {year['generated_code_chars'] / 1000:.0f} KB vs "
            f"{one['generated_code_chars'] / 1000:.0f} KB."
        )
    return lines


def job_day_lines(day: dict) -> list[str]:
    """One day at batch_size 1, table by table: where its seconds go, against writing the same files again."""
    tables = day["tables"]
    total = {k: sum(t[k] for t in tables.values()) for k in ("build_s", "write_s", "floor_s")}
    per_table = "; ".join(
        f"`{name}` {t['build_s']:.2f} / {t['write_s']:.2f} / {t['floor_s']:.2f} s" for name, t in tables.items()
    )
    lines = [
        f"- **One day of the job at batch_size 1** ({day['day']}, scale {day['scale']:g}, parquet, the tables one "
        f"after another): building the frames (Python, and Spark parsing and analysing their expressions) "
        f"{total['build_s']:.2f} s, writing them (Spark's optimiser and physical planning, then the run) "
        f"{total['write_s']:.2f} s, against {total['floor_s']:.2f} s for writing the same files again from cache. "
        f"Per table (build / write / floor): {per_table}."
    ]
    rules = day.get("rules")
    if rules:
        phases = ", ".join(f"{phase} {sec:.2f} s" for phase, sec in rules["seconds_by_phase"].items())
        costliest = ", ".join(
            f"`{r['rule']}` ({r['phase']}) {r['seconds']:.2f} s in {r['runs']:,} runs" for r in rules["costliest_rules"]
        )
        lines.append(f"  - Spark's rule time over that day: {phases}; the costliest rules: {costliest}.")
    return lines


def changes_profile_lines(changes: dict) -> list[str]:
    """Section l's frames one at a time: build and run of the snapshot without and with change groups, and of
    the feed."""
    best = changes["best_s"]
    parts = "; ".join(f"{name} {t['build_s']:.2f} / {t['run_s']:.2f} s" for name, t in best.items())
    return [
        f"- **Entities that change**, customers, {changes['days']} daily snapshots at scale {changes['scale']:g} -> "
        f"`noop`, one frame at a time (build / run, with Spark's optimiser and physical planning): {parts}."
    ]


def profile(doc: dict) -> list[str]:
    prof = doc.get("profile")
    if not prof:
        return []
    lines = ["", "## Where the time goes (profile of the same run)", ""]
    if "error" in prof:
        return [*lines, f"The profile failed: {prof['error']}."]
    columns = prof.get("columns", {})
    floor = prof.get("range_floor")
    for name in (FULL, SPEC):
        if name in columns:
            c = columns[name]
            lines.append(
                f"- **{name}**, {c['rows']:,} rows -> `noop` in {c['all_columns_s']:.2f} s; the columns that cost "
                f"most (time saved by dropping each; the column alone; its `xxhash64` calls): {costliest(c)}."
            )
    if floor:
        lines.append(f"- `spark.range` alone -> `noop`: {floor['best_s']:.2f} s for {floor['rows']:,} rows.")
    plans = prof.get("plans", {})
    if plans:
        lines.append("- Plans (operators and `xxhash64` calls as the cases ran):")
        lines += [plan_line(n, e) for n, e in plans.items()]
    if prof.get("job_day"):
        lines += job_day_lines(prof["job_day"])
    if prof.get("changes"):
        lines += changes_profile_lines(prof["changes"])
    if prof.get("days365"):
        lines += days_lines(prof["days365"])
    plan = prof.get("planning")
    if plan:
        timing = plan["timing_under_cprofile"]
        tables_s = ", ".join(f"`{t}` {s:.2f} s" for t, s in timing["per_table_s"].items())
        top = [f for f in plan["top_synthgen_functions_by_cumulative_s"] if "build_batch_frame" not in f["function"]]
        heaviest = ", ".join(f"`{f['function']}` {f['cumulative_s']:.2f} s" for f in top[:4])
        lines.append(
            f"- **Planning** one batch under cProfile: {timing['total_s']:.2f} s (build_plan "
            f"{timing['build_plan_s']:.2f} s; frames and schema: {tables_s}), then "
            f"{timing['optimise_and_physical_plan_s']:.2f} s of optimiser and physical planning; "
            f"{plan['py4j_round_trips']:,} py4j round trips in all, {plan['py4j_wait_s']:.2f} s waiting on the JVM. "
            f"Heaviest synthgen functions (cumulative): {heaviest}."
        )
    return lines


def reproduce(doc: dict) -> list[str]:
    env, settings = doc["environment"], doc["settings"]
    command = doc.get("command")
    shown = " ".join(command) if command else "benchmarks/run_benchmarks.py"
    return [
        "",
        "## Reproduce",
        "",
        "```bash",
        'make setup && .venv/bin/pip install -e ".[bench]"',
        "make bench        # runs the benchmarks into benchmarks/results.json, then renders this page from it",
        "```",
        "",
        f"The run above is `.venv/bin/python {shown}`: N = {settings['rows']:,} rows for the spec columns, "
        f"dbldatagen and the floor; {settings['full_rows']:,} rows for every case of the full `orders` table; "
        f"best of {settings['repeats']} per case, interleaved, on a machine with {env['cpu_count']} cores and "
        f"{env['memory_total_gib']:.0f} GiB, Spark {env['spark']} in local mode (`{env['spark_master']}`), "
        f"Java {env['java']}, at commit {env['git_commit']}. It took {doc['seconds'] / 60:.0f} minutes. "
        "Timings on a shared machine vary between repeats; the ratios, measured within one run, are what to compare.",
    ]


def render(doc: dict) -> str:
    lines = [INTRO, "", "## Results", "", environment_line(doc), "", *tables(doc), "", *summary(doc)]
    lines += profile(doc)
    lines += reproduce(doc)
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("results", help="the results JSON written by run_benchmarks.py --out")
    parser.add_argument("--out", default=str(PAGE), help=f"the page to write, '-' for stdout (default {PAGE})")
    args = parser.parse_args(argv)
    page = render(json.loads(Path(args.results).read_text()))
    if args.out == "-":
        sys.stdout.write(page)
    else:
        Path(args.out).write_text(page)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
