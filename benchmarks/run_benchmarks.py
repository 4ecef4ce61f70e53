"""Benchmarks of synthgen_spark: against dbldatagen 0.4.0.post1, a plain Faker loop and its own write-only floor.

Run (``make bench`` runs the second line, with ``--profile``)::

    .venv/bin/python benchmarks/run_benchmarks.py --quick --out bench_results_quick.json   # smoke run, ~5 min
    .venv/bin/python benchmarks/run_benchmarks.py --out bench_results.json                 # 10M rows, ~15 min

Everything runs in ONE local SparkSession (``get_or_create_session(master="local[2]")``, with Spark's own
default ``spark.sql.codegen.wholeStage=true``), after a warm-up. Every synthgen case runs inside
``synthgen_spark.session.generation_settings(spark)``, as a synthgen run does (it turns whole-stage codegen
off for its duration); dbldatagen and the write-only floor's writes run with Spark's defaults.
Each timed case is best of ``repeats``; cases that are compared with each other run round-robin
(A, B, C, A, B, C, ...) so a burst of load from other processes hits them alike. Absolute times on a
shared 2-core machine are noisy: read the ratios, which are measured within one run.

Sections (the JSON file has one key per section):

a. synthgen ``orders`` for one day of N rows (full table, and the dbldatagen spec's columns) -> noop, -> parquet
b. the write-only floor: the same rows cached and materialised -> noop, -> parquet
c. dbldatagen with the same columns, rows and partitions -> noop, -> parquet
d. a plain Python Faker row loop with the same columns (rows/s, no Spark)
e. scaling: 365 days x N/365 rows in one batch vs one day of N rows; batch_size 1 vs 30 and
   parallel_workers 1 vs 4 over 60 small days through ``synthgen_spark.api.generate``
f. driver memory (Python RSS, JVM heap used, JVM RSS) while generating 5M vs 50M rows to noop
g. driver planning time per 30-day batch (build_plan + build_batch_frame + .schema for every table)
h. late arrivals: orders + order_items over 14 days -> parquet with late_arrival_rate 0.2 vs on time
i. data-quality faults: orders + order_items over 7 days -> parquet with fault_rate 0.05 vs without
j. the run report of a year of 10 tables opened in headless Chromium (CPU seconds, net of Chromium's start)
l. entities that change: customers snapshots with change groups and the change feed vs without -> noop, -> parquet
m. the whole retail job (28 days, parquet nested) at batch_size 1, 7 and 28 vs writing the same files from cache
targets: on the spec's columns, which every side makes; the full table's rate against dbldatagen's on the spec's
columns and its parquet time against its own floor (its ratio to the Faker loop is context); the 365-day ratio and
planning on the full table's batches; the whole job against its floor.
profile (when a target is missed, or with --profile): plan metrics (xxhash64 calls, generated code size
under the run's settings and under Spark's default whole-stage codegen), the cost of each column (dropped
one at a time, and alone), a 365-day batch against one day, a cProfile of planning, one day of the job at
batch_size 1 table by table (build, write, floor, Spark's rule times), section l's frames one at a time.

Modules: cases.py (the frames, sinks and the Faker loop), timing.py (sizes, round-robin timing, sections a-g),
memory.py (driver memory and the cache), report_open.py (section h), plans.py (plan metrics and the profile), report.py (ratios, tables,
environment, the JSON document); render_markdown.py turns the JSON into docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import plans
import report
import timing
from report_open import report_open
from timing import DEFAULT_FULL_ROWS, DEFAULT_ROWS, QUICK_FULL_ROWS, QUICK_ROWS, Run, loadavg, make_settings, say


def build_parser() -> argparse.ArgumentParser:
    """The benchmark's options (documented in benchmarks/README.md)."""
    parser = argparse.ArgumentParser(prog="run_benchmarks.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=None, help=f"rows of the one-day orders (default {DEFAULT_ROWS:,})")
    parser.add_argument(
        "--full-rows",
        type=int,
        default=None,
        help=f"rows for the full orders table's cases (default: the smaller of --rows and {DEFAULT_FULL_ROWS:,}, "
        f"{QUICK_FULL_ROWS:,} with --quick); that table is far slower than the others",
    )
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK_ROWS:,} rows, fewer repeats")
    parser.add_argument("--out", default="bench_results.json", help="JSON results file")
    parser.add_argument("--driver-memory", default="4g", help="spark.driver.memory (the cached floor must fit)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--profile", action="store_true", help="always profile (default: only if a target is missed)")
    group.add_argument("--no-profile", action="store_true", help="never profile")
    parser.add_argument("--tmp-dir", default=None, help="where parquet output goes (deleted afterwards)")
    parser.add_argument(
        "--only",
        choices=sorted(SECTIONS),
        action="append",
        help="time only this section (repeatable) after the warm-up; prints its times, writes no JSON file",
    )
    return parser


SECTIONS = {
    "planning": timing.planning,
    "lateness": timing.lateness,
    "faults": timing.faults,
    "changes": timing.changes,
    "jobs": timing.jobs,
}


def measure_only(run: Run, sections: list[str]) -> None:
    """The warm-up and the named sections alone (to time one change), their times printed."""
    timing.warm_up(run)
    for name in sections:
        SECTIONS[name](run)
    for result in run.results:
        say(
            f"{result.name} [{result.sink}]: best {min(result.times_s):.2f} s of {[round(t, 2) for t in result.times_s]}"
        )
    if "planning" in run.out:
        say(f"planning: {run.out['planning']['mean_s_per_batch']} s per batch (mean of the warm runs)")


def measure(run: Run, profile: bool, no_profile: bool) -> list[dict]:
    """Sections a-g, the ratios, then the profile when asked for (or when a target is missed)."""
    timing.warm_up(run)
    timing.generators(run)
    timing.faker(run)
    timing.scaling(run)
    timing.lateness(run)
    timing.faults(run)
    timing.planning(run)
    timing.driver_memory(run)
    report_open(run)
    timing.changes(run)
    timing.jobs(run)
    ratios = report.ratios(run)
    if profile or (any(r["met"] is False for r in ratios) and not no_profile):
        try:
            plans.profile(run)
        except Exception as exc:  # the measurements above still get written
            run.out.setdefault("profile", {})["error"] = f"{type(exc).__name__}: {exc}"
            say(f"profile failed: {exc}")
    return ratios


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = make_settings(args)

    from synthgen_spark.session import get_or_create_session

    # Spark's own default for whole-stage codegen (synthgen's local sessions start with it off): synthgen
    # cases turn it off themselves, as a run does; dbldatagen and the floor's writes keep Spark's default
    spark = get_or_create_session(
        master="local[2]",
        extra={"spark.driver.memory": args.driver_memory, "spark.sql.codegen.wholeStage": "true"},
    )
    tmp = Path(tempfile.mkdtemp(prefix="synthgen_bench_", dir=args.tmp_dir))
    run = Run(spark, settings, tmp)
    env = report.environment(spark, args.driver_memory)
    say(f"settings {settings}; environment {env}; scratch {tmp}")
    if args.only:
        try:
            measure_only(run, args.only)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return 0
    load = {"start": loadavg()}
    try:
        ratios = measure(run, args.profile, args.no_profile)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load["end"] = loadavg()
    command = ["benchmarks/run_benchmarks.py", *(sys.argv[1:] if argv is None else argv)]
    document = report.document(run, command, env, load, ratios)
    print(report.console(run.results, ratios))
    Path(args.out).write_text(json.dumps(document, indent=2, default=str) + "\n")
    say(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
