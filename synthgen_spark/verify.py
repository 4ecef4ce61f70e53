"""Verify what a job wrote: read it back with Spark and score the invariants the generator promises.

Checks (each PASS or FAIL, one line per table or key): volumes equal to the plan, primary keys
unique, foreign and parent keys joining the referenced snapshot in force on the row's date (and
naming an entity active then, where the target has a lifecycle status), the declared ``date_columns`` in order, and ``child_count``/``child_sum`` columns equal to their children.
A ``balance`` moves between two snapshots by exactly the counted amounts of its ledger's rows between them.
Pool picks ``given`` a column keep to it, and keys with ``same_segment`` to their segment (docs/data-model.md#segments).

Shapes: in incremental tables, each plain ``choice`` column's value shares and each ``timestamp`` column's
hour-of-day shares (with ``hourly_weights``) are within total variation distance 0.05 of the declared
weights, judged once there are at least 400 rows per category (fewer: PASS, "not judged").

Targets: each of a table's declared ``targets`` (a top_share or a share, catalog.ShapeTarget) lies within its
``between``, judged from ``min_rows`` rows on.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from itertools import combinations
from numbers import Number

from pyspark.errors import AnalysisException
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from synthgen_spark.balances import ledgers
from synthgen_spark.calendar import snapshot_in_force
from synthgen_spark.catalog import KEY_KINDS, ShapeTarget, TableSpec, share_of_the_top
from synthgen_spark.engine import table_ddl
from synthgen_spark.generators.categorical import case_key
from synthgen_spark.planner import Plan, TableDay, by_table
from synthgen_spark.pools import pool_of
from synthgen_spark.writers import open_file_system, open_sink


@dataclass(frozen=True)
class Check:
    """One verified invariant: what, of which table or key, and whether it holds."""

    name: str
    subject: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class Scorecard:
    """Every check of one job; ``ok`` when all hold."""

    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def describe(self) -> str:
        """One line per check, then a total line."""
        lines = [
            f"{'PASS' if c.ok else 'FAIL'}  {c.name:<26} {c.subject}{'  ' + c.detail if c.detail else ''}"
            for c in self.checks
        ]
        failed = sum(not c.ok for c in self.checks)
        lines.append(f"{len(self.checks) - failed} passed, {failed} failed")
        return "\n".join(lines)


def verify_plan(spark: SparkSession, plan: Plan) -> Scorecard:
    """Read every table the plan writes back through the job's sink, and check it (see the module docstring)."""
    grouped = by_table(list(plan.table_days))
    sink = open_sink(spark, plan, open_file_system(spark, plan.layout))
    frames = {name: sink.read_back(tds, table_ddl(tds[0].table)) for name, tds in grouped.items()}
    checks: list[Check] = []
    for name, tds in grouped.items():
        table, frame = tds[0].table, frames[name]
        if frame is None:
            checks.append(Check("volumes equal the plan", name, False, "no file written"))
            continue
        checks.append(_volumes(table, frame, tds))
        checks.append(_primary_key(table, frame))
        checks.extend(_date_orders(table, frame))
        if not table.derived_from:
            checks.extend(_keys(spark, plan, table, frame, frames, tds))
            checks.extend(_sums(plan, table, frame, frames))
            checks.extend(_balances(plan, table, frame, frames))
            checks.extend(_given_choices(table, frame))
            checks.extend(_given_pools(plan, table, frame))
            checks.extend(_segment_keys(spark, plan, table, frame, frames, tds))
            checks.extend(_declared_shapes(table, frame, drifting=plan.config.enable_data_drift))
        checks.extend(declared_targets(table, frame))
    return Scorecard(tuple(checks))


SHAPE_ROWS_PER_CATEGORY = 400  # below this many rows per category, sampling noise could reach the tolerance
SHAPE_MAX_DISTANCE = 0.05  # total variation distance allowed between observed and declared shares


def _declared_shapes(table: TableSpec, frame: DataFrame, drifting: bool) -> list[Check]:
    """An incremental table's plain choices and hourly timestamps against their declared weights (module docstring).

    Plain: no ``given`` (its shares depend on another column), no ``drift_toward`` in a job with drift on
    (the shares move with the date), not the status a ``progress`` moves on (it shows the state as of each day).
    """
    if table.kind != "incremental":
        return []
    moving = table.progress.status if table.progress else None
    checks = []
    for col in table.columns:
        if col.hidden or col.name == moving:
            continue
        moves = "given" in col.params or (drifting and "drift_toward" in col.params)
        if col.kind == "choice" and not moves:
            values = list(col.params["values"])
            counts = frame.where(F.col(col.name).isNotNull()).groupBy(col.name).count().collect()
            observed = [sum(n for value, n in counts if _same_value(value, declared)) for declared in values]
            weights, what = col.params.get("weights", [1] * len(values)), "value"
        elif col.kind == "timestamp" and "hourly_weights" in col.params:
            hour = F.floor(F.pmod(F.unix_seconds(F.col(col.name)), F.lit(86400)) / 3600).cast("int")
            counts = dict(frame.where(F.col(col.name).isNotNull()).groupBy(hour).count().collect())
            observed = [counts.get(h, 0) for h in range(24)]
            weights, what = col.params["hourly_weights"], "hour"
        else:
            continue
        checks.append(_shape_check(f"{table.name}.{col.name} by {what}", observed, [float(w) for w in weights]))
    return checks


def declared_targets(table: TableSpec, frame: DataFrame) -> list[Check]:
    """Each of the table's ``targets`` against ``frame`` (its rows as written): within ``between``, or not judged.

    A top_share counts the key's rows (or sums its ``weight``) per value, then takes the values with the most:
    the top ``ceil(top x values)`` of them, ties broken anyhow (the share is the same).
    """
    if not table.targets:
        return []
    rows = frame.count()
    return [_target_check(table.name, target, frame, rows) for target in table.targets]


def _target_check(table: str, target: ShapeTarget, frame: DataFrame, rows: int) -> Check:
    subject = f"{table}: {target.subject}"
    if rows < target.min_rows:
        return Check("targets as declared", subject, True, f"not judged: {rows:,} rows (at least {target.min_rows:,})")
    try:
        if target.share:
            hits = frame.where(F.coalesce(F.expr(target.share), F.lit(False))).count()
            observed = hits / rows
        else:
            measure = F.sum(target.weight).cast("long") if target.weight else F.count(F.lit(1))
            per_key = frame.where(F.col(target.top_share).isNotNull()).groupBy(target.top_share).agg(measure.alias("n"))
            observed = top_share(
                [(r["n"] or 0, r["count"]) for r in per_key.groupBy("n").count().collect()], target.top
            )
    except AnalysisException as exc:
        problem = str(exc).strip().splitlines()[0]
        return Check("targets as declared", subject, False, f"Spark could not evaluate it: {problem}")
    low, high = target.between
    detail = f"{observed:.3f} (between {low:g} and {high:g}) over {rows:,} rows"
    return Check("targets as declared", subject, low <= observed <= high, detail)


def top_share(histogram: list[tuple[int, int]], top: float) -> float:
    """The share of the total held by the ``top`` fraction of keys, from (value per key, keys with it) pairs.

    >>> top_share([(10, 1), (1, 9)], 0.1)   # 10 keys, the busiest holds 10 of 19
    0.5263157894736842
    """
    keys = sum(count for _, count in histogram)
    return share_of_the_top(histogram, max(1, math.ceil(top * keys - 1e-9))) if keys else 0.0


def _same_value(written: object, declared: object) -> bool:
    """A written value equals a declared one: numbers by value (2.50 == 2.5), the rest as they are."""
    if isinstance(declared, Number) and not isinstance(declared, bool) and isinstance(written, Number):
        return float(written) == float(declared)
    return written == declared


def _shape_check(subject: str, observed: list[int], weights: list[float]) -> Check:
    """Total variation distance between the observed shares and the normalised weights, when enough rows."""
    rows, total = sum(observed), sum(weights)
    if rows < SHAPE_ROWS_PER_CATEGORY * len(weights):
        return Check("shapes as declared", subject, True, f"not judged: {rows:,} rows")
    distance = sum(abs(n / rows - w / total) for n, w in zip(observed, weights, strict=True)) / 2
    detail = f"distance {distance:.3f} (at most {SHAPE_MAX_DISTANCE}) over {rows:,} rows"
    return Check("shapes as declared", subject, distance <= SHAPE_MAX_DISTANCE, detail)


def _volumes(table: TableSpec, frame: DataFrame, tds: list[TableDay]) -> Check:
    """Rows per date as planned (a change feed or a hard-deleting snapshot keeps fewer rows: at most planned)."""
    date = table.primary_date_column
    counts = {r[0]: r[1] for r in frame.groupBy(date).count().collect()}
    exact = not table.derived_from and table.churn != "delete"
    wrong = [
        f"{td.date}: {counts.get(td.date, 0)} rows, planned {td.rows}"
        for td in tds
        if (counts.get(td.date, 0) != td.rows if exact else counts.get(td.date, 0) > td.rows)
    ]
    extra = sorted(set(counts) - {td.date for td in tds})
    wrong += [f"{d}: {counts[d]} rows on an unplanned date" for d in extra]
    return Check("volumes equal the plan", table.name, not wrong, "; ".join(wrong[:3]))


def _primary_key(table: TableSpec, frame: DataFrame) -> Check:
    keys = [table.primary_date_column, table.primary_key] if table.kind == "snapshot" else [table.primary_key]
    repeated = frame.groupBy(*keys).count().where("count > 1").count()
    nulls = frame.where(F.col(table.primary_key).isNull()).count()
    detail = f"{repeated} repeated, {nulls} null" if repeated or nulls else ""
    return Check("primary key unique", f"{table.name}.{table.primary_key}", not detail, detail)


def _date_orders(table: TableSpec, frame: DataFrame) -> list[Check]:
    """Every pair of declared date columns in order on every row (nulls skipped)."""
    pairs = list(combinations(table.date_columns, 2))
    if not pairs:
        return []
    counts = frame.agg(*[F.sum(F.when(F.col(a) > F.col(b), 1).otherwise(0)).alias(f"{a}>{b}") for a, b in pairs])
    row = counts.collect()[0]
    return [
        Check("dates in declared order", f"{table.name}.{a} <= {b}", not row[i], f"{row[i]} rows out of order")
        if row[i]
        else Check("dates in declared order", f"{table.name}.{a} <= {b}", True)
        for i, (a, b) in enumerate(pairs)
    ]


def _keys(
    spark: SparkSession,
    plan: Plan,
    table: TableSpec,
    frame: DataFrame,
    frames: dict[str, DataFrame | None],
    tds: list[TableDay],
) -> list[Check]:
    """Foreign keys join the referenced snapshot in force on the row's date; parent keys their parent that day."""
    date, checks = table.primary_date_column, []
    for col in table.columns:
        if col.hidden or col.kind not in (*KEY_KINDS, "parent_key"):
            continue
        if col.kind == "parent_key":
            target = plan.dataset.table(table.parent)
            pairs = [(td.date, td.date) for td in tds]
        else:
            target = plan.dataset.table(col.params["references"].split(".")[0])
            pairs = _in_force_pairs(plan, target, tds)
        subject = f"{table.name}.{col.name} -> {target.name}"
        referenced = frames.get(target.name)
        if referenced is None:
            checks.append(Check("keys join as of date", subject, False, f"{target.name} was not written"))
            continue
        in_force = spark.createDataFrame(pairs, IN_FORCE_SCHEMA)
        rows = frame.where(F.col(col.name).isNotNull()).select(F.col(col.name).alias("_sg_key"), F.col(date))
        rows = rows.join(in_force, rows[date] == in_force["_sg_day"])
        keys = referenced.select(
            F.col(target.primary_key).alias("_sg_key"),
            F.col(target.primary_date_column).alias("_sg_in_force"),
            _is_active(target).alias("_sg_active"),
        )
        joined = rows.join(keys, ["_sg_key", "_sg_in_force"], "left")
        counts = joined.agg(
            F.sum(F.col("_sg_active").isNull().cast("int")).alias("orphans"),
            F.sum((~F.coalesce(F.col("_sg_active"), F.lit(True))).cast("int")).alias("inactive"),
        ).collect()[0]
        orphans, inactive = counts["orphans"] or 0, counts["inactive"] or 0
        checks.append(Check("keys join as of date", subject, not orphans, f"{orphans} orphans" if orphans else ""))
        if col.kind in KEY_KINDS and _status_column(target):
            detail = f"{inactive} rows refer to an inactive entity" if inactive else ""
            checks.append(Check("keys refer to active", subject, not inactive, detail))
    return checks


IN_FORCE_SCHEMA = "_sg_day date, _sg_in_force date"


def _in_force_pairs(plan: Plan, target: TableSpec, tds: list[TableDay]) -> list[tuple]:
    """(day, the date of ``target``'s snapshot in force on it) for each of the table-days' dates."""
    return [(td.date, snapshot_in_force(target.frequency, td.date, plan.dataset.epoch)) for td in tds]


def _status_column(table: TableSpec) -> str | None:
    """The written lifecycle status column of a snapshot table, if it has one."""
    return next((c.name for c in table.output_columns if c.kind == "lifecycle_status"), None)


def _given_choices(table: TableSpec, frame: DataFrame) -> list[Check]:
    """A conditional ``choice`` (``given``/``cases``) never takes a value its case weighs 0 (no cash online)."""
    checks = []
    for col in table.columns:
        given = col.params.get("given")
        if col.kind != "choice" or given is None or col.hidden or table.column(given).hidden:
            continue
        values = list(col.params["values"])
        cases = {case_key(k): w for k, w in col.params["cases"].items()}
        default = col.params.get("weights", [1] * len(values))
        pairs = frame.where(F.col(col.name).isNotNull()).select(F.col(given).cast("string"), col.name).distinct()
        wrong = [
            f"{value} when {given} = {condition}"
            for condition, value in pairs.collect()
            if value in values and not cases.get(condition, default)[values.index(value)]
        ]
        subject = f"{table.name}.{col.name} given {given}"
        checks.append(Check("choices follow their given", subject, not wrong, "; ".join(sorted(wrong)[:3])))
    return checks


def _given_pools(plan: Plan, table: TableSpec, frame: DataFrame) -> list[Check]:
    """A pool pick ``given`` a column only takes records whose field of that name holds the row's value
    (a store's state is in its region)."""
    checks = []
    for col in table.columns:
        given = col.params.get("given")
        if col.kind != "pool" or given is None or col.hidden or table.column(given).hidden:
            continue
        pool = pool_of(plan.dataset, col.params["pool"], plan.config.locale)
        field = pool.fields.index(col.params.get("field", pool.fields[0]))
        allowed = {(str(r[pool.fields.index(given)]), str(r[field])) for r in pool.records}
        pairs = frame.select(F.col(given).cast("string"), F.col(col.name).cast("string")).distinct().collect()
        wrong = sorted(
            f"{value} when {given} = {condition}" for condition, value in pairs if (condition, value) not in allowed
        )
        subject = f"{table.name}.{col.name} given {given}"
        checks.append(Check("pool picks keep to given", subject, not wrong, "; ".join(wrong[:3])))
    return checks


SEGMENT_TOLERANCE = 0.02  # below segment_share by more than this (over SHAPE_ROWS_PER_CATEGORY rows or more): FAIL


def _segment_keys(
    spark: SparkSession,
    plan: Plan,
    table: TableSpec,
    frame: DataFrame,
    frames: dict[str, DataFrame | None],
    tds: list[TableDay],
) -> list[Check]:
    """A foreign key with ``same_segment`` names an entity of the row's segment for at least ``segment_share`` of
    the rows (docs/data-model.md#segments): the segment read from the written snapshots in force on the row's date,
    the row's own from its column, or, for a hidden lookup, from the looked-up snapshot."""
    checks = []
    for col in table.columns:
        wanted = col.params.get("same_segment")
        if col.kind != "foreign_key" or wanted is None or col.hidden:
            continue
        target = plan.dataset.table(col.params["references"].split(".")[0])
        segment = next(c for c in target.columns if c.kind == "segment")
        if segment.hidden:
            continue
        segment = segment.name
        subject = f"{table.name}.{col.name} -> {target.name}.{segment}"
        day, key, source = (
            F.col(table.primary_date_column).alias("_sg_day"),
            F.col(col.name).alias("_sg_key"),
            table.column(wanted),
        )
        if not source.hidden:
            rows = frame.select(day, key, F.col(wanted).cast("string").alias("_sg_wanted"))
        elif source.kind == "lookup" and _written(plan, table.name, source.params["key"], source.params["references"]):
            looked_up, column = source.params["references"].split(".")
            rows = frame.select(day, key, F.col(source.params["key"]).alias("_sg_by"))
            rows = _as_of(spark, plan, rows, "_sg_by", looked_up, column, "_sg_wanted", frames, tds)
        else:
            continue  # the row's segment is neither written nor looked up by a written key: nothing to compare
        rows = _as_of(spark, plan, rows, "_sg_key", target.name, segment, "_sg_segment", frames, tds)
        if rows is None:
            checks.append(Check("keys keep to their segment", subject, False, "a referenced table was not written"))
            continue
        same, count = rows.agg(
            F.avg((F.col("_sg_wanted") == F.col("_sg_segment")).cast("double")), F.count(F.lit(1))
        ).first()
        share = float(col.params.get("segment_share", 1))
        if count < SHAPE_ROWS_PER_CATEGORY:
            checks.append(Check("keys keep to their segment", subject, True, f"not judged: {count:,} rows"))
            continue
        detail = f"{same:.3f} in the row's segment (at least {share:g}) over {count:,} rows"
        checks.append(Check("keys keep to their segment", subject, same >= share - SEGMENT_TOLERANCE, detail))
    return checks


def _written(plan: Plan, table: str, key: str, reference: str) -> bool:
    """Both the key column of ``table`` and the ``table.column`` it looks up are written (not hidden)."""
    looked_up, column = reference.split(".")
    return not plan.dataset.table(table).column(key).hidden and not plan.dataset.table(looked_up).column(column).hidden


def _as_of(
    spark: SparkSession,
    plan: Plan,
    rows: DataFrame | None,
    key: str,
    table: str,
    column: str,
    alias: str,
    frames: dict[str, DataFrame | None],
    tds: list[TableDay],
) -> DataFrame | None:
    """``rows`` (with ``_sg_day``) with ``alias``: ``table.column`` of the entity ``key`` names, in the snapshot
    in force on the row's day (None if the table was not written)."""
    written = frames.get(table)
    if rows is None or written is None:
        return None
    target = plan.dataset.table(table)
    in_force = spark.createDataFrame(_in_force_pairs(plan, target, tds), IN_FORCE_SCHEMA)
    values = written.select(
        F.col(target.primary_key).alias(key),
        F.col(target.primary_date_column).alias("_sg_in_force"),
        F.col(column).cast("string").alias(alias),
    )
    return rows.join(in_force, "_sg_day").join(values, [key, "_sg_in_force"], "left").drop("_sg_in_force")


def _is_active(table: TableSpec) -> Column:
    """True where the snapshot row's entity is active (its lifecycle status is the first value); True without one."""
    status = _status_column(table)
    if status is None:
        return F.lit(True)
    active = table.column(status).params.get("values", ["active", "churned"])[0]
    return F.col(status) == F.lit(active)


def _sums(plan: Plan, table: TableSpec, frame: DataFrame, frames: dict[str, DataFrame | None]) -> list[Check]:
    """``child_count`` and ``child_sum`` columns equal the count and sum of the written children."""
    checks = []
    for col in table.columns:
        if col.hidden or col.kind not in ("child_count", "child_sum"):
            continue
        if any(plan.dataset.table(col.params["child"]).column(n).hidden for n in col.params.get("of", ())):
            continue  # the factors are not written: nothing to add up
        child = plan.dataset.table(col.params["child"])
        children = frames.get(child.name)
        subject = f"{table.name}.{col.name} = {child.name}"
        if children is None:
            checks.append(Check("declared sums hold", subject, False, f"{child.name} was not written"))
            continue
        link = next(c.name for c in child.columns if c.kind == "parent_key")
        if col.kind == "child_count":
            value = F.count(F.lit(1))
        else:
            product = F.col(col.params["of"][0])
            for name in col.params["of"][1:]:
                product = product * F.col(name)
            value = F.sum(product)
        totals = children.groupBy(F.col(link).alias(table.primary_key)).agg(value.alias("_sg_total"))
        joined = frame.join(totals, table.primary_key, "left")
        wrong = joined.where(~F.coalesce(F.col("_sg_total"), F.lit(0)).eqNullSafe(F.col(col.name))).count()
        checks.append(Check("declared sums hold", subject, not wrong, f"{wrong} rows differ" if wrong else ""))
    return checks


def _balances(plan: Plan, table: TableSpec, frame: DataFrame, frames: dict[str, DataFrame | None]) -> list[Check]:
    """A ``balance`` moves from one snapshot to the next by the counted amounts of its ledger's rows between them."""
    checks = []
    for ledger in ledgers(plan.dataset):
        if ledger.table != table.name:
            continue
        subject = f"{table.name}.{ledger.column} = running sum of {ledger.ledger}.{ledger.amount}"
        rows = frames.get(ledger.ledger)
        if rows is None:
            checks.append(Check("declared sums hold", subject, False, f"{ledger.ledger} was not written"))
            continue
        if plan.config.fault_rate or plan.config.late_arrival_rate:
            checks.append(Check("declared sums hold", subject, True, "not judged: faults and late rows move amounts"))
            continue
        written = {td.date for td in plan.table_days if td.table.name == ledger.ledger}
        dates = sorted({td.date for td in plan.table_days if td.table.name == table.name})
        pairs = [
            (a, b)
            for a, b in zip(dates, dates[1:], strict=False)
            if all(a + dt.timedelta(i) in written for i in range(1, (b - a).days + 1))
        ]
        key, day = table.primary_key, plan.dataset.table(ledger.ledger).primary_date_column
        wrong = 0
        for first, second in pairs:
            before = frame.where(F.col(table.primary_date_column) == first).select(
                key, F.col(ledger.column).alias("_b1")
            )
            after = frame.where(F.col(table.primary_date_column) == second).select(
                key, F.col(ledger.column).alias("_b2")
            )
            period = rows.where(ledger.counted).where((F.col(day) > first) & (F.col(day) <= second))
            flows = period.groupBy(F.col(ledger.account).alias(key)).agg(F.sum(ledger.amount).alias("_flow"))
            moved = after.join(before, key, "left").join(flows, key, "left")
            wrong += moved.where("_b2 - coalesce(_b1, 0) <> coalesce(_flow, 0)").count()
        detail = (
            f"{wrong} rows differ" if wrong else "" if pairs else "not judged: no two snapshots with the days between"
        )
        checks.append(Check("declared sums hold", subject, not wrong, detail))
    return checks
