"""Plans and the profile: what Spark makes of a frame (operators, hash calls, generated code), and where time goes."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from cases import (
    DBL,
    FRAMES,
    FULL,
    SPEC,
    as_run,
    noop_of,
    run_settings,
    synthgen_customers,
    synthgen_orders,
    synthgen_orders_year,
    to_noop,
    to_parquet,
)
from timing import (
    CHANGES_DAYS,
    CHANGES_SCALE,
    JOB_START,
    QUICK_CHANGES_SCALE,
    Run,
    plan_one_batch,
    planning_config,
    round_robin,
    say,
)


def explain(df, mode: str) -> str:
    """Spark's ``EXPLAIN`` text of ``df`` in ``mode`` (formatted, codegen)."""
    return df.sparkSession.sparkContext._jvm.PythonSQLUtils.explainString(df._jdf.queryExecution(), mode)


def codegen_setting(spark) -> str:
    """The session's whole-stage codegen setting."""
    return spark.conf.get("spark.sql.codegen.wholeStage", None) or "unset"


def plan_metrics(df) -> dict:
    """What Spark makes of a frame: whole-stage codegen coverage, generated code size, hash calls."""
    formatted = explain(df, "formatted")
    tree = formatted.split("\n\n\n")[0]
    operators = [line.strip(" +-:") for line in tree.splitlines()[1:] if line.strip()]
    outside = [op for op in operators if not op.startswith("*")]
    codegen = explain(df, "codegen")
    optimized = df._jdf.queryExecution().optimizedPlan().toString()
    subtrees = re.search(r"Found (\d+) WholeStageCodegen subtrees", codegen)
    return {
        "operators": operators,
        "operators_outside_whole_stage_codegen": outside,
        "whole_stage_codegen_subtrees": int(subtrees.group(1)) if subtrees else 0,
        "generated_code_chars": len(codegen),
        "xxhash64_in_optimized_plan": optimized.count("xxhash64("),
        "hashLong_calls_in_generated_code": codegen.count("hashLong("),
        "rand_in_optimized_plan": optimized.count("rand("),
        "round_in_optimized_plan": optimized.count("round("),
        "higher_order_functions": sorted(set(re.findall(r"\b(aggregate|transform|filter|zip_with)\(", optimized))),
        "codegen_fallback_references_in_generated_code": codegen.count("((Expression) references["),
        "spark.sql.codegen.wholeStage": codegen_setting(df.sparkSession),
    }


def profile(run: Run) -> None:
    """Plan metrics, per-column costs, 365 days vs one, planning: synthgen under a run's settings."""
    say("profile")
    p, reps = run.s.partitions, run.s.profile_repeats
    prof: dict = {"plans": {}}
    for name, build in FRAMES.items():
        entry = {}
        if name != DBL:  # a fresh frame per setting: a DataFrame plans once
            with run_settings(run.spark):
                df, _, _ = build(run.spark, run.s.profile_rows_full, p)
                entry["run_settings"] = plan_metrics(df)
        df, _, _ = build(run.spark, run.s.profile_rows_full, p)
        entry["spark_default_codegen"] = plan_metrics(df)
        prof["plans"][name] = entry
        for setting, metrics in entry.items():
            say(f"plan {name} ({setting}): { {k: v for k, v in metrics.items() if k != 'operators'} }")

    with run_settings(run.spark):
        floor_rows = run.s.profile_rows_spec
        timed = round_robin(
            {"spark.range -> noop (floor)": noop_of(run.spark.range(0, floor_rows, 1, p), floor_rows)},
            reps,
            "profile",
        )
        prof["range_floor"] = {
            "rows": floor_rows,
            "best_s": round(min(timed["spark.range -> noop (floor)"][1]), 3),
        }
        prof["columns"] = {}
        for name, rows in ((FULL, run.s.profile_rows_full), (SPEC, run.s.profile_rows_spec)):
            prof["columns"][name] = profile_columns(run, name, rows)
        prof["planning"] = profile_planning(run)
    prof["job_day"] = profile_job_day(run)
    prof["changes"] = profile_changes(run)
    prof["days365"] = profile_days(run)  # run settings, and Spark's default codegen for comparison
    run.out["profile"] = prof


def profile_columns(run: Run, name: str, rows: int) -> dict:
    """Each column's cost: the time saved by dropping it, the time of it alone, its xxhash64 calls."""
    p, reps = run.s.partitions, run.s.profile_repeats
    df, _, _ = FRAMES[name](run.spark, rows, p)
    optimized = {c: df.select(c)._jdf.queryExecution().optimizedPlan().toString() for c in df.columns}
    cases = {"all columns": noop_of(df, rows)}
    for c in df.columns:
        cases[f"without {c}"] = noop_of(df.drop(c), rows)
        cases[f"only {c}"] = noop_of(df.select(c), rows)
    timed = round_robin(cases, reps, f"profile {name}")
    base = min(timed["all columns"][1])
    per_column = {}
    for c in df.columns:
        without, alone = min(timed[f"without {c}"][1]), min(timed[f"only {c}"][1])
        per_column[c] = {
            "xxhash64_calls_in_plan": optimized[c].count("xxhash64("),
            "without_s": round(without, 3),
            "saved_by_dropping_s": round(base - without, 3),
            "share_of_total": round((base - without) / base, 3),
            "alone_s": round(alone, 3),
            "alone_ns_per_row": round(alone / rows * 1e9, 1),
        }
    say(f"columns {name}: all {base:.2f} s; {per_column}")
    return {"rows": rows, "all_columns_s": round(base, 3), "per_column": per_column}


def profile_days(run: Run) -> dict:
    """Where a 365-day batch differs per row from one day: driver time, tasks (365 vs 8), per-day facts, codegen."""
    n, p, reps = run.s.full_rows, run.s.partitions, run.s.profile_repeats

    def driver_s(build) -> float:
        """Building the frame and its physical plan (what the driver does before the tasks run)."""
        started = time.perf_counter()
        df, _, _ = build()
        df._jdf.queryExecution().executedPlan()
        return time.perf_counter() - started

    def one_day():
        return synthgen_orders(run.spark, n, p)

    def year():
        return synthgen_orders_year(run.spark, n)

    def full_table(build) -> Callable[[], int]:
        def case() -> int:
            df, rows, _ = build()
            to_noop(df)
            return rows

        return case

    with run_settings(run.spark):
        one_df, one_rows, _ = one_day()
        year_df, year_rows, _ = year()
        driver = {
            "1 day": [driver_s(one_day) for _ in range(reps)],
            "365 days": [driver_s(year) for _ in range(reps)],
        }
    spark = run.spark
    cases = {
        f"spark.range, {p} partitions": noop_of(run.spark.range(0, n, 1, p), n),
        "spark.range, 365 partitions": noop_of(run.spark.range(0, n, 1, 365), n),
        "orders without order_total, 1 day": as_run(spark, noop_of(one_df.drop("order_total"), one_rows)),
        "orders without order_total, 365 days": as_run(spark, noop_of(year_df.drop("order_total"), year_rows)),
        "orders item_count only, 1 day": as_run(spark, noop_of(one_df.select("item_count"), one_rows)),
        "orders item_count only, 365 days": as_run(spark, noop_of(year_df.select("item_count"), year_rows)),
        "orders with Spark's default whole-stage codegen, 1 day": full_table(one_day),
        "orders with Spark's default whole-stage codegen, 365 days": full_table(year),
    }
    timed = round_robin(cases, reps, "profile 365 days")
    best = {k: round(min(v[1]), 3) for k, v in timed.items()}
    names = list(best)
    out = {
        "rows": {"1 day": one_rows, "365 days": year_rows},
        "best_s": best,
        "pairs": [  # (one day or 8 partitions, 365 days or partitions), in the order of the cases
            {"one_day": names[i], "days365": names[i + 1]} for i in range(0, len(names) - 1, 2)
        ],
        "driver_build_and_plan_s": {k: round(min(v), 3) for k, v in driver.items()},
        # fresh frames with Spark's defaults: the whole-stage code that runs do not compile
        "plan_one_day": plan_metrics(one_day()[0]),
        "plan_365_days": plan_metrics(year()[0]),
    }
    say(f"profile 365 days: {out['best_s']}; driver {out['driver_build_and_plan_s']}")
    return out


def profile_planning(run: Run) -> dict:
    """cProfile of one 30-day batch's planning: py4j round trips and the heaviest functions."""
    import cProfile
    import pstats

    cfg = planning_config(run)
    plan_one_batch(run, cfg)
    profiler = cProfile.Profile()
    profiler.enable()
    timing = plan_one_batch(run, cfg)
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    sends = [(nc, ct) for (_, _, fn), (_, nc, _, ct, _) in stats.items() if fn == "send_command"]
    top = sorted(
        (
            (ct, nc, f"{Path(f).parent.name}/{Path(f).name}:{line} {fn}")
            for (f, line, fn), (_, nc, _, ct, _) in stats.items()
            if "synthgen_spark" in f
        ),
        reverse=True,
    )[:20]
    lit_calls = sum(nc for (f, _, fn), (_, nc, _, _, _) in stats.items() if fn == "lit" and "pyspark" in f)
    out = {
        "timing_under_cprofile": timing,
        "py4j_round_trips": max((nc for nc, _ in sends), default=0),
        "py4j_wait_s": round(max((ct for _, ct in sends), default=0.0), 3),
        "pyspark_lit_calls": lit_calls,
        "top_synthgen_functions_by_cumulative_s": [
            {"function": name, "calls": nc, "cumulative_s": round(ct, 4)} for ct, nc, name in top
        ],
    }
    say(f"profile planning: { ({k: v for k, v in out.items() if k != 'top_synthgen_functions_by_cumulative_s'}) }")
    return out


RULE_LINE = re.compile(r"^(\S+)\s+\d+ / (\d+)\s+\d+ / (\d+)\s*$")


def _rules(spark):
    """Spark's rule metering (a classic session's JVM): ``reset()``, then ``read()`` -> {rule: (seconds, runs)}.

    None where the session has no JVM to ask."""
    try:
        executor = spark.sparkContext._jvm.org.apache.spark.sql.catalyst.rules.RuleExecutor
    except Exception:  # noqa: BLE001 - Spark Connect: no JVM
        return None

    def read() -> dict[str, tuple[float, int]]:
        found = (RULE_LINE.match(line.strip()) for line in executor.dumpTimeSpent().splitlines())
        return {m.group(1): (int(m.group(2)) / 1e9, int(m.group(3))) for m in found if m}

    return executor.resetMetrics, read


def _phase_of(rule: str) -> str:
    """Which of Spark's phases runs ``rule``: the analyser (resolution, type coercion, checks) or the optimiser."""
    return "analysis" if any(k in rule for k in (".analysis.", "Analyzer$", ".resolver.")) else "optimisation"


def rule_summary(rules: dict[str, tuple[float, int]], top: int = 6) -> dict:
    """Seconds per phase, and the costliest rules (with their runs), from Spark's rule metering."""
    phases: dict[str, float] = {}
    for rule, (seconds, _) in rules.items():
        phases[_phase_of(rule)] = phases.get(_phase_of(rule), 0.0) + seconds
    costliest = sorted(rules.items(), key=lambda item: item[1][0], reverse=True)[:top]
    return {
        "seconds_by_phase": {k: round(v, 3) for k, v in sorted(phases.items())},
        "costliest_rules": [
            {"rule": rule.rsplit(".", 1)[-1], "phase": _phase_of(rule), "seconds": round(sec, 3), "runs": runs}
            for rule, (sec, runs) in costliest
        ],
    }


def profile_job_day(run: Run) -> dict:
    """One day of the job at batch_size 1 (the first day of section m), table by table and one after another:
    building the frame (Python, and Spark parsing and analysing its expressions), writing it as parquet (Spark's
    optimiser and physical planning, then the run); the write-only floor of the same file; Spark's rule times
    (analyser and optimiser) over the day."""
    from synthgen_spark.catalog import load_dataset
    from synthgen_spark.config import JobConfig
    from synthgen_spark.engine import build_batch_frame
    from synthgen_spark.planner import build_plan, by_table

    scale = 0.05 if run.s.quick else 1.0
    day = JOB_START.isoformat()
    mapping = {"dataset_id": "retail_oltp_small", "start_date": day, "end_date": day, "scale_factor": scale}
    cfg = JobConfig.from_mapping({**mapping, "batch_size": 1, "output_mode": "parquet", "path_format": "nested"})
    dataset = load_dataset(cfg.dataset_id)
    plan = build_plan(cfg, dataset)
    tables = by_table(list(plan.table_days))
    meter = _rules(run.spark)
    runs = []
    for _ in range(run.s.profile_repeats + 1):  # the first run warms up
        if meter:
            meter[0]()
        per: dict[str, dict[str, float]] = {}
        with run_settings(run.spark):
            for name, table_days in tables.items():
                start = time.perf_counter()
                frame = build_batch_frame(run.spark, cfg, dataset, table_days)
                built = time.perf_counter()
                to_parquet(frame, run.scratch(f"job_day_{name}"))  # its optimiser and physical planning too
                per[name] = {"build_s": built - start, "write_s": time.perf_counter() - built}
        runs.append((per, meter[1]() if meter else {}))
    floor = {}
    for name in tables:  # the same file written again from cache, as the job's floor does
        cached = run.spark.read.parquet(run.scratch(f"job_day_{name}")).cache()
        cached.count()
        times = []
        for _ in range(run.s.profile_repeats + 1):
            start = time.perf_counter()
            cached.coalesce(1).write.mode("overwrite").parquet(run.scratch(f"job_day_floor_{name}"))
            times.append(time.perf_counter() - start)
        floor[name] = round(min(times[1:]), 3)
        cached.unpersist()
    warm = runs[1:]
    out = {
        "day": day,
        "scale": scale,
        "tables": {
            name: {
                **{k: round(min(r[0][name][k] for r in warm), 3) for k in ("build_s", "write_s")},
                "floor_s": floor[name],
            }
            for name in tables
        },
        "rules": rule_summary(warm[-1][1]) if meter else None,
    }
    say(f"profile job day: {out}")
    return out


def profile_changes(run: Run) -> dict:
    """Section l's frames one at a time -> noop: building (Python and Spark's analysis), then running (Spark's
    optimiser and physical planning too); the snapshot without change groups, with them, and the change feed."""
    scale = QUICK_CHANGES_SCALE if run.s.quick else CHANGES_SCALE
    variants = {
        "snapshot without change groups": (False, "customers"),
        "snapshot with change groups": (True, "customers"),
        "change feed": (True, "customers_changes"),
    }
    times: dict[str, dict[str, list[float]]] = {v: {"build_s": [], "run_s": []} for v in variants}
    with run_settings(run.spark):
        for rep in range(run.s.profile_repeats + 1):  # the first round warms up
            for variant, (changes, table) in variants.items():
                start = time.perf_counter()
                (frame,), _ = synthgen_customers(run.spark, scale, CHANGES_DAYS, changes, only=table)
                built = time.perf_counter()
                to_noop(frame)  # its optimiser and physical planning too
                if rep:
                    times[variant]["build_s"].append(built - start)
                    times[variant]["run_s"].append(time.perf_counter() - built)
    out = {
        "scale": scale,
        "days": CHANGES_DAYS,
        "best_s": {v: {k: round(min(t), 3) for k, t in spent.items()} for v, spent in times.items()},
    }
    say(f"profile changes: {out}")
    return out
