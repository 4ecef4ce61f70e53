"""Timing: the run's sizes, best-of-N round-robin timing, and the timed sections a-g of the benchmark.

Cases that are compared run round-robin (A, B, C, A, B, C, ...) so a burst of load from other processes
hits them alike; each case's best time counts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cases import (
    DBL,
    FAULT_RATE,
    FRAMES,
    FULL,
    LATE_DAYS,
    SPEC,
    as_run,
    faker_rows,
    noop_of,
    run_settings,
    synthgen_customers,
    synthgen_late_days,
    synthgen_orders,
    synthgen_orders_and_items,
    synthgen_orders_year,
    synthgen_spec,
    to_noop,
    to_parquet,
)
from memory import PeakSampler, cache_storage, dir_size, gc_and_sample, mib, reads_cache

JOB_DAYS, JOB_START = 28, dt.date(2024, 3, 4)  # m. the whole job of issue 19: 4 weeks of retail_oltp_small
JOB_BATCHES = (1, 7, 28)
DEFAULT_ROWS = 10_000_000
QUICK_ROWS = 200_000
# the full orders table (order_total reads 1 to 7 child rows, each with a foreign key and a lookup) is
# slower per row than the spec columns: fewer rows for it, to keep the run under an hour
DEFAULT_FULL_ROWS = 1_000_000
QUICK_FULL_ROWS = 50_000
PARTITIONS = 8


@dataclass(frozen=True)
class Settings:
    """The sizes and repeats of one run (``--quick`` makes every one smaller)."""

    rows: int
    full_rows: int
    repeats: int
    partitions: int
    faker_rows: int
    memory_rows: tuple[int, int]
    small_days: int
    small_scale: float
    small_repeats: int
    planning_days: int
    planning_repeats: int
    profile_rows_full: int
    profile_rows_spec: int
    profile_repeats: int
    quick: bool


def make_settings(args: argparse.Namespace) -> Settings:
    """The run's sizes from the command line."""
    if args.quick:
        rows = args.rows or QUICK_ROWS
        full = args.full_rows or min(rows, QUICK_FULL_ROWS)
        return Settings(rows, full, 2, PARTITIONS, 10_000, (rows, rows * 10), 10, 0.1, 1, 30, 2, full, rows, 1, True)
    rows = args.rows or DEFAULT_ROWS
    full = args.full_rows or min(rows, DEFAULT_FULL_ROWS)
    return Settings(
        rows=rows,
        full_rows=full,
        repeats=3,
        partitions=PARTITIONS,
        faker_rows=50_000,
        memory_rows=(5_000_000, 50_000_000),
        small_days=60,
        small_scale=0.1,
        small_repeats=2,
        planning_days=30,
        planning_repeats=5,
        profile_rows_full=max(full // 5, 100_000),
        profile_rows_spec=rows,
        profile_repeats=2,
        quick=False,
    )


# --- output ---

START = time.monotonic()


def say(line: str) -> None:
    """One progress line, stamped with the seconds since the run started."""
    print(f"[{time.monotonic() - START:7.1f}s] {line}", flush=True)


def loadavg() -> float:
    """The 1-minute load average (the JSON keeps it: a shared machine's times vary)."""
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except OSError:
        return float("nan")


@dataclass
class Result:
    """One timed case: its rows and every repeat's seconds."""

    name: str
    sink: str
    rows: int
    times_s: list[float]
    note: str = ""

    @property
    def best_s(self) -> float:
        return min(self.times_s)

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.best_s

    def as_dict(self) -> dict:
        return {**asdict(self), "best_s": round(self.best_s, 4), "rows_per_s": round(self.rows_per_s, 1)}


def round_robin(cases: dict[str, Callable[[], int]], repeats: int, label: str) -> dict[str, tuple[int, list[float]]]:
    """Run each case ``repeats`` times, interleaved; each call returns its row count. -> name: (rows, times)."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    rows: dict[str, int] = {}
    for rep in range(repeats):
        for name, case in cases.items():
            started = time.perf_counter()
            rows[name] = case()
            elapsed = time.perf_counter() - started
            times[name].append(elapsed)
            say(f"{label} #{rep + 1}: {name}: {elapsed:.2f} s (load {loadavg():.1f})")
    return {name: (rows[name], times[name]) for name in cases}


@dataclass
class Run:
    """One benchmark run: its session, sizes and scratch folder, and what it has measured so far."""

    spark: Any
    s: Settings
    tmp: Path
    results: list[Result] = field(default_factory=list)
    out: dict = field(default_factory=dict)

    def scratch(self, name: str) -> str:
        return str(self.tmp / re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_"))

    def add(self, timed: dict[str, tuple[int, list[float]]], sink: str, note: str = "") -> None:
        for name, (rows, times) in timed.items():
            self.results.append(Result(name, sink, rows, times, note))

    def result(self, name: str, sink: str) -> Result:
        return next(r for r in self.results if r.name == name and r.sink == sink)


def rows_for(run: Run, frame: str) -> int:
    """The full orders table may run at fewer rows (--full-rows) than the others: it is far slower."""
    return run.s.full_rows if frame == FULL else run.s.rows


def case_for(run: Run, frame: str, case: Callable[[], int]) -> Callable[[], int]:
    """synthgen frames run in a synthgen run's settings; dbldatagen with Spark's defaults."""
    return case if frame == DBL else as_run(run.spark, case)


def warm_up(run: Run) -> None:
    """Every code path once, on 100,000 rows, before anything is timed."""
    say("warm-up")
    for name, build in FRAMES.items():

        def both(build=build) -> int:
            df, rows, _ = build(run.spark, 100_000, run.s.partitions)
            to_noop(df)
            to_parquet(df, run.scratch("warmup"))
            return rows

        case_for(run, name, both)()
    with run_settings(run.spark):
        df, _, _ = synthgen_spec(run.spark, 100_000, run.s.partitions)
        df.cache()
        to_noop(df)
    to_noop(df)
    to_parquet(df, run.scratch("warmup"))
    df.unpersist(blocking=True)
    shutil.rmtree(run.scratch("warmup"), ignore_errors=True)


def generators(run: Run) -> None:
    """a, b, c. Every generator and floor case of a sink runs interleaved with the others, so the ratios
    (synthgen against dbldatagen, and against writing the same rows from cache) see the same load."""
    p = run.s.partitions

    def write_case(name, build, sink):
        def case() -> int:
            df, rows, _ = build(run.spark, rows_for(run, name), p)
            to_noop(df) if sink == "noop" else to_parquet(df, run.scratch(name))
            return rows

        return case_for(run, name, case)

    cached, storage = {}, {}
    for name in (FULL, SPEC):
        with run_settings(run.spark):  # generated and cached as a run would; the timed writes use defaults
            generated, rows, _ = FRAMES[name](run.spark, rows_for(run, name), p)
            # Spark reads a cached plan for every later query with the same plan: cache a plan that
            # differs (a no-op filter), or the generation cases below would read this cache.
            df = generated.where("true").cache()
            to_noop(df)  # materialise
            fresh, _, _ = FRAMES[name](run.spark, rows_for(run, name), p)
            if reads_cache(fresh) or not reads_cache(df):
                raise RuntimeError(f"{name}: the generation frame must not read the floor's cache")
        storage[name] = cache_storage(run.spark)
        say(f"cached {name}: {storage[name]} (every frame cached so far)")
        cached[f"{name} cached (write-only floor)"] = (df, rows)
    for sink in ("noop", "parquet"):
        cases = {name: write_case(name, build, sink) for name, build in FRAMES.items()}
        for floor, (df, rows) in cached.items():
            path = run.scratch(floor)
            cases[floor] = (
                noop_of(df, rows)
                if sink == "noop"
                else lambda df=df, rows=rows, path=path: (to_parquet(df, path), rows)[1]
            )
        run.add(round_robin(cases, run.s.repeats, sink), sink)
    for name in [*FRAMES, *cached]:
        run.out.setdefault("parquet_bytes", {})[name] = dir_size(run.scratch(name))
        shutil.rmtree(run.scratch(name), ignore_errors=True)
    for df, _ in cached.values():
        df.unpersist(blocking=True)
    run.out["cache_storage"] = storage


def faker(run: Run) -> None:
    """d. The plain Python Faker loop, rows/s into a list."""
    times, rows = [], run.s.faker_rows
    for rep in range(run.s.repeats):
        started = time.perf_counter()
        faker_rows(rows)
        times.append(time.perf_counter() - started)
        say(f"faker #{rep + 1}: {rows:,} rows in {times[-1]:.2f} s")
    run.results.append(Result("Faker row loop (spec columns, 1 Python thread)", "python list", rows, times))


def scaling(run: Run) -> None:
    """e. 365 days in one batch vs one day; batch_size 1 vs 30 and parallel_workers 1 vs 4 over small days."""
    n, p = run.s.full_rows, run.s.partitions

    def days365() -> int:
        df, rows, _ = synthgen_orders_year(run.spark, n)
        to_noop(df)
        return rows

    def one_day() -> int:
        df, rows, _ = synthgen_orders(run.spark, n, p)
        to_noop(df)
        return rows

    one, many = "orders: 1 day x N rows (8 files)", "orders: 365 days x N/365 rows, one batch (365 files)"
    cases = {one: as_run(run.spark, one_day), many: as_run(run.spark, days365)}
    timed = round_robin(cases, run.s.repeats, "scaling")
    run.add(timed, "noop")

    days, small = run.s.small_days, run.s.small_scale

    def small_days(batch_size: int, workers: int) -> Callable[[], int]:
        def case() -> int:
            from synthgen_spark.api import generate

            root = run.scratch(f"small_b{batch_size}_w{workers}")
            shutil.rmtree(root, ignore_errors=True)
            cfg = {
                "dataset_id": "retail_oltp_small",
                "start_date": "2024-01-01",
                "end_date": (dt.date(2024, 1, 1) + dt.timedelta(days=days - 1)).isoformat(),
                "scale_factor": small,
                "batch_size": batch_size,
                "parallel_workers": workers,
                "output_mode": "parquet",
                "output_root": root,
                "enable_seasonal_patterns": False,
            }
            report = generate(cfg, run.spark, progress=None)  # applies generation_settings itself
            shutil.rmtree(root, ignore_errors=True)
            return report.total_rows

        return case

    label = f"generate {days} days, scale {small:g}, parquet"
    cases = {
        f"{label}, batch_size 1, parallel_workers 1": small_days(1, 1),
        f"{label}, batch_size 30, parallel_workers 1": small_days(30, 1),
        f"{label}, batch_size 1, parallel_workers 4": small_days(1, 4),
    }
    run.add(round_robin(cases, run.s.small_repeats, "small days"), "parquet (api.generate)")
    run.out["scaling_cases"] = {"one_day": one, "days365": many, "small": list(cases)}


def lateness(run: Run) -> None:
    """h. orders + order_items over LATE_DAYS days -> parquet, with late_arrival_rate 0.2 against on time."""
    n = run.s.full_rows

    def case(rate: float) -> Callable[[], int]:
        def write() -> int:
            total = 0
            for table, (df, rows) in synthgen_late_days(run.spark, n, rate).items():
                to_parquet(df, run.scratch(f"late_{rate}_{table}"))
                total += rows
            return total

        return as_run(run.spark, write)

    label = f"orders + order_items, {LATE_DAYS} days in one batch"
    on_time, late = f"{label}, on time", f"{label}, late_arrival_rate 0.2"
    run.add(round_robin({on_time: case(0.0), late: case(0.2)}, run.s.repeats, "lateness"), "parquet")
    for rate in (0.0, 0.2):
        for table in ("orders", "order_items"):
            shutil.rmtree(run.scratch(f"late_{rate}_{table}"), ignore_errors=True)
    run.out["lateness_cases"] = {"on_time": on_time, "late": late}


FAULT_DAYS = 7
FAULT_LATE_RATE = 0.2  # the faults case's tables arrive late too (issue 20: faults compose with lateness)


def faults(run: Run) -> None:
    """i. orders + order_items over 7 days -> parquet, with fault_rate 0.05 (dirty frames + _faults) and
    late_arrival_rate 0.2, against the same days without either."""
    rows = run.s.full_rows

    def case(rate: float) -> Callable[[], int]:
        def write() -> int:
            frames, planned = synthgen_orders_and_items(run.spark, rows, FAULT_DAYS, rate, rate and FAULT_LATE_RATE)
            for name, frame in frames:
                to_parquet(frame, run.scratch(f"faults_{rate}_{name}"))
            return planned

        return as_run(run.spark, write)

    label = f"orders + order_items, {FAULT_DAYS} days, one batch"
    dirty = f"{label}, fault_rate {FAULT_RATE:g} (+ _faults), late_arrival_rate {FAULT_LATE_RATE:g}"
    cases = {dirty: case(FAULT_RATE), f"{label}, no faults, on time": case(0.0)}
    run.add(round_robin(cases, run.s.repeats, "faults"), "parquet")
    run.out["fault_cases"] = list(cases)


def driver_memory(run: Run) -> None:
    """f. Peak driver Python RSS, JVM heap used and JVM RSS while the spec columns go to noop at two sizes."""
    report = {}
    for rows in run.s.memory_rows:
        before = gc_and_sample(run.spark)
        sampler = PeakSampler(run.spark)
        sampler.start()
        started = time.perf_counter()
        with run_settings(run.spark):
            df, actual, _ = synthgen_spec(run.spark, rows, run.s.partitions)
            to_noop(df)
        elapsed = time.perf_counter() - started
        peak = sampler.stop()
        after = gc_and_sample(run.spark)
        report[str(rows)] = {
            "rows": actual,
            "seconds": round(elapsed, 2),
            "samples": sampler.samples,
            "before_mib": {k: mib(v) for k, v in before.items()},
            "peak_mib": {k: mib(v) for k, v in peak.items()},
            "after_gc_mib": {k: mib(v) for k, v in after.items()},
            "python_rss_growth_mib": mib(peak["python_rss"] - before["python_rss"]),
        }
        say(f"memory {rows:,} rows: {report[str(rows)]}")
    runtime = run.spark.sparkContext._jvm.java.lang.Runtime.getRuntime()
    report["jvm_max_heap_mib"] = mib(int(runtime.maxMemory()))
    run.out["memory"] = report


def planning_config(run: Run):
    """The job whose first batch is planned: retail_oltp_small, one batch of ``planning_days`` days."""
    from synthgen_spark.config import JobConfig

    days = run.s.planning_days
    return JobConfig.from_mapping(
        {
            "dataset_id": "retail_oltp_small",
            "start_date": "2024-01-01",
            "end_date": (dt.date(2024, 1, 1) + dt.timedelta(days=days - 1)).isoformat(),
            "batch_size": days,
        }
    )


def plan_one_batch(run: Run, cfg) -> dict:
    """build_plan + build_batch_frame + .schema for every table of the first batch, timed."""
    from synthgen_spark.engine import build_batch_frame
    from synthgen_spark.planner import build_plan

    started = time.perf_counter()
    plan = build_plan(cfg)
    planned = time.perf_counter()
    per_table, frames = {}, []
    for table in plan.dataset.tables:
        tds = [td for td in plan.batches[0].table_days if td.table.name == table.name]
        t0 = time.perf_counter()
        df = build_batch_frame(run.spark, cfg, plan.dataset, tds)
        _ = df.schema
        per_table[table.name] = round(time.perf_counter() - t0, 4)
        frames.append(df)
    analysed = time.perf_counter()
    for df in frames:  # optimisation + physical planning, which a write adds (not in the target)
        df._jdf.queryExecution().executedPlan()
    physical = time.perf_counter()
    return {
        "build_plan_s": round(planned - started, 4),
        "frames_and_schema_s": round(analysed - planned, 4),
        "per_table_s": per_table,
        "total_s": round(analysed - started, 4),
        "optimise_and_physical_plan_s": round(physical - analysed, 4),
    }


def planning(run: Run) -> None:
    """g. Planning time per batch, mean of the warm runs (the first, cold run is reported apart)."""
    cfg = planning_config(run)
    runs = []
    with run_settings(run.spark):
        for rep in range(run.s.planning_repeats + 1):  # the first (cold) run is reported apart
            runs.append(plan_one_batch(run, cfg))
            say(f"planning #{rep}: {runs[-1]}")
    warm = runs[1:]
    run.out["planning"] = {
        "days_per_batch": run.s.planning_days,
        "tables": len(runs[0]["per_table_s"]),
        "cold_run": runs[0],
        "warm_runs": warm,
        "mean_s_per_batch": round(sum(r["total_s"] for r in warm) / len(warm), 4),
        "mean_optimise_s_per_batch": round(sum(r["optimise_and_physical_plan_s"] for r in warm) / len(warm), 4),
    }


CHANGES_SCALE, QUICK_CHANGES_SCALE = 10.0, 1.0  # customers: 200,000 (20,000) entities a day
CHANGES_DAYS = 2


def changes(run: Run) -> None:
    """l. customers snapshots with change groups and the change feed vs the same snapshots without changes."""
    scale = QUICK_CHANGES_SCALE if run.s.quick else CHANGES_SCALE
    plain = f"customers: {CHANGES_DAYS} daily snapshots, scale {scale:g}, no change groups"
    feed = f"customers: {CHANGES_DAYS} daily snapshots + change feed, scale {scale:g}, change groups"

    def case(with_changes: bool, sink: str) -> Callable[[], int]:
        def write() -> int:
            frames, rows = synthgen_customers(run.spark, scale, CHANGES_DAYS, with_changes)
            for index, frame in enumerate(frames):
                if sink == "noop":
                    to_noop(frame)
                else:
                    to_parquet(frame, run.scratch(f"changes_{index}"))
            return rows

        return as_run(run.spark, write)

    for sink in ("noop", "parquet"):
        timed = round_robin({plain: case(False, sink), feed: case(True, sink)}, run.s.repeats, f"changes {sink}")
        run.add(timed, sink, note="rows = snapshot entity-days")
    shutil.rmtree(run.scratch("changes_0"), ignore_errors=True)
    shutil.rmtree(run.scratch("changes_1"), ignore_errors=True)
    run.out["changes_cases"] = {"plain": plain, "feed": feed}


def jobs(run: Run) -> None:
    """m. The whole retail job (28 days from 2024-03-04, parquet nested) at batch_size 1, 7 and 28, against its
    write-only floor: the same rows written again from cache, one file per table per day (issue 19)."""
    from synthgen_spark.api import generate

    scale = 0.05 if run.s.quick else 1.0
    end = (JOB_START + dt.timedelta(days=JOB_DAYS - 1)).isoformat()

    def config(batch_size: int, root: str) -> dict:
        return {
            "dataset_id": "retail_oltp_small",
            "start_date": JOB_START.isoformat(),
            "end_date": end,
            "scale_factor": scale,
            "batch_size": batch_size,
            "output_mode": "parquet",
            "path_format": "nested",
            "output_root": root,
        }

    def job(batch_size: int) -> Callable[[], int]:
        def case() -> int:
            root = run.scratch(f"job_b{batch_size}")
            shutil.rmtree(root, ignore_errors=True)
            report = generate(config(batch_size, root), run.spark, progress=None)
            shutil.rmtree(root, ignore_errors=True)
            return report.total_rows

        return case

    reference = run.scratch("job_reference")
    report = generate(config(JOB_DAYS, reference), run.spark, progress=None)
    files = [path for result in report.results for path in result.paths]
    cached = [run.spark.read.parquet(path).cache() for path in files]
    rows = sum(frame.count() for frame in cached)  # materialises the cache (the benchmark reads what it wrote)

    def floor() -> int:
        target = run.scratch("job_floor")
        shutil.rmtree(target, ignore_errors=True)
        for number, frame in enumerate(cached):
            frame.coalesce(1).write.mode("overwrite").parquet(f"{target}/{number}")
        shutil.rmtree(target, ignore_errors=True)
        return rows

    label = f"retail_oltp_small, {JOB_DAYS} days, scale {scale:g}, parquet nested"
    cases = {f"{label}, batch_size {b}": job(b) for b in JOB_BATCHES}
    cases[f"{label}: write-only floor, {len(files)} files from cache"] = floor
    run.add(round_robin(cases, run.s.small_repeats, "jobs"), "parquet (api.generate)")
    run.out["job_cases"] = list(cases)
    for frame in cached:
        frame.unpersist()
    shutil.rmtree(reference, ignore_errors=True)
