"""Facts that progress: orders as of their file's day, later status steps in orders_changes (docs/changes.md)."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from synthgen_spark.catalog import load_dataset, parse_dataset
from synthgen_spark.errors import ConfigError, SpecError
from synthgen_spark.planner import build_plan, describe_derived_day

from .helpers import small_config

START, END = dt.date(2024, 3, 4), dt.date(2024, 3, 17)  # 14 days
STEPS = ("paid_date", "shipped_date", "delivered_date", "cancelled_date")

MINI = """
dataset_id: mini
epoch: 2024-01-01
tables:
  - name: customers
    kind: snapshot
    rows: 10
    primary_key: customer_id
    columns:
      - {name: customer_id, kind: sequence}
      - {name: snapshot_date, kind: generation_date}
  - name: orders
    kind: incremental
    rows: 10
    primary_key: order_id
    primary_date_column: order_date
    columns:
      - {name: order_id, kind: sequence}
      - {name: order_date, kind: generation_date}
      - {name: status, kind: choice, values: [NEW, DONE]}
      - {name: lag, kind: uniform, min: 0, max: 3, type: int}
      - {name: done_date, kind: derived, type: date, expression: "CASE WHEN status = 'DONE' THEN date_add(order_date, lag) END"}
"""
GOOD = {"status": "status", "initial": "NEW", "steps": {"DONE": "done_date"}, "max_days": 3}


def _mini(progress, table: int = 1) -> str:
    raw = yaml.safe_load(MINI)
    raw["tables"][table]["progress"] = progress
    return yaml.safe_dump(raw)


def test_the_builtin_orders_declare_their_lifecycle():
    progress = load_dataset("retail_oltp_small").table("orders").progress
    assert progress.initial == "PENDING" and [s for s, _ in progress.steps] == [
        "PAID",
        "SHIPPED",
        "DELIVERED",
        "CANCELLED",
    ]
    assert progress.step_columns == STEPS and progress.max_days == 11
    assert parse_dataset(_mini(GOOD), "mini.yaml").table("orders").progress.steps == (("DONE", "done_date"),)


@pytest.mark.parametrize(
    ("change", "table", "field"),
    [
        ({}, 0, "progress"),  # a snapshot table
        ({"status": "colour"}, 1, "status"),
        ({"steps": {"DONE": "lag"}}, 1, "steps"),  # not a date column
        ({"steps": {"DONE": "order_date"}}, 1, "steps"),  # the event date itself
        ({"max_days": 0}, 1, "max_days"),
        ({"speed": 1}, 1, "speed"),
    ],
)
def test_bad_lifecycles_are_one_line_errors_naming_file_table_and_field(change, table, field):
    with pytest.raises(SpecError) as err:
        parse_dataset(_mini(GOOD | change, table), "mini.yaml")
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"mini.yaml: table '{('customers', 'orders')[table]}'")
    assert f"field '{field}'" in message


def test_a_column_computed_from_the_status_would_show_it_early_and_is_refused():
    raw = yaml.safe_load(_mini(GOOD))
    raw["tables"][1]["columns"].append({"name": "done", "kind": "derived", "expression": "status = 'DONE'"})
    with pytest.raises(
        SpecError, match=r"^mini.yaml: table 'orders', progress: field 'steps': column 'done' is computed"
    ):
        parse_dataset(yaml.safe_dump(raw), "mini.yaml")


def test_the_feed_of_a_day_scans_the_orders_of_the_days_before_it(tmp_path):
    plan = build_plan(small_config(tmp_path, start_date=str(START), end_date=str(END), change_feed=True))
    feed = [td for td in plan.table_days if td.table.name == "orders_changes"]
    assert [td.date for td in feed] == [START + dt.timedelta(days=i) for i in range(14)]
    last = feed[-1]
    assert [s.source.date for s in last.segments] == [END - dt.timedelta(days=k) for k in range(11, 0, -1)]
    orders = {td.date: td for td in plan.table_days if td.table.name == "orders"}
    assert all(s.rows == s.source.rows and s.start == 0 for s in last.segments)
    assert (
        last.rows == sum(s.rows for s in last.segments) and last.segments[-1].rows == orders[END - dt.timedelta(1)].rows
    )
    assert "order_date" in last.table.column_names and "snapshot_date" not in last.table.column_names
    assert "status steps of orders: updates <=" in describe_derived_day(plan, last)


def test_final_states_need_no_feed_and_unknown_modes_are_refused(tmp_path):
    plan = build_plan(small_config(tmp_path, change_feed=True, fact_states="final"))
    assert "orders_changes" not in {td.table.name for td in plan.table_days}
    assert "customers_changes" in {td.table.name for td in plan.table_days}
    with pytest.raises(ConfigError, match="field 'fact_states'"):
        small_config(tmp_path, fact_states="latest")


# --- in Spark: one small run's orders, their feed, and the same orders with final states --------------------


@pytest.fixture(scope="module")
def frames(spark, tmp_path_factory):
    from synthgen_spark.engine import build_batch_frame

    root = tmp_path_factory.mktemp("progress")
    common = {"start_date": str(START), "end_date": str(END), "batch_size": 14, "scale_factor": 0.01}
    out = {}
    for name, config in (
        ("as_of", small_config(root, change_feed=True, **common)),
        ("final", small_config(root, fact_states="final", **common)),
        ("late", small_config(root, late_arrival_rate=0.3, **common)),
    ):
        plan = build_plan(config)
        for table in ("orders", "orders_changes") if name == "as_of" else ("orders",):
            days = [td for td in plan.table_days if td.table.name == table]
            out[f"{name}_{table}"] = build_batch_frame(spark, config, plan.dataset, days).cache()
    yield out
    for frame in out.values():
        frame.unpersist()


def _latest(frames, day: dt.date):
    """Replay: the event-day rows of orders placed by ``day``, each replaced by its last change on or before it."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    orders = frames["as_of_orders"].where(F.col("order_date") <= day)
    feed = frames["as_of_orders_changes"].where((F.col("change_date") <= day) & (F.col("order_date") >= START))
    last = feed.withColumn("_n", F.row_number().over(Window.partitionBy("order_id").orderBy(F.desc("change_seq"))))
    last = last.where("_n = 1").select(*orders.columns)
    return orders.join(last.select("order_id"), "order_id", "left_anti").unionByName(last)


def _expected(frames, day: dt.date):
    """The final-state orders placed by ``day`` as of ``day``: later step dates unknown, the last step reached."""
    from pyspark.sql import functions as F

    final = frames["final_orders"].where(F.col("order_date") <= day)
    d = f"DATE'{day}'"
    known = {c: F.expr(f"CASE WHEN {c} <= {d} THEN {c} END") for c in STEPS}
    status = (
        f"CASE WHEN cancelled_date <= {d} THEN 'CANCELLED' WHEN delivered_date <= {d} THEN 'DELIVERED' "
        f"WHEN shipped_date <= {d} THEN 'SHIPPED' WHEN paid_date <= {d} THEN 'PAID' ELSE 'PENDING' END"
    )
    return final.withColumns(known | {"status": F.expr(status)})


def test_no_file_holds_a_date_after_its_own(frames):
    from pyspark.sql import functions as F

    orders, feed = frames["as_of_orders"], frames["as_of_orders_changes"]
    late_in_orders = orders.where(" OR ".join(f"{c} > order_date" for c in STEPS))
    late_in_feed = feed.where(" OR ".join(f"{c} > change_date" for c in STEPS) + " OR order_date >= change_date")
    assert late_in_orders.limit(1).count() == 0 and late_in_feed.limit(1).count() == 0
    assert frames["final_orders"].where("delivered_date > order_date").limit(1).count() == 1  # final states do
    ops = feed.agg(F.count("*").alias("n"), F.count(F.when(F.col("change_op") != "update", 1)).alias("other")).first()
    assert ops["n"] > 0 and ops["other"] == 0


@pytest.mark.parametrize("day", [START + dt.timedelta(days=6), END])
def test_replaying_the_feed_over_the_event_day_files_gives_every_orders_state_on_later_days(frames, day):
    state, expected = _latest(frames, day), _expected(frames, day).select(*frames["as_of_orders"].columns)
    assert state.exceptAll(expected).limit(1).count() == 0 and expected.exceptAll(state).limit(1).count() == 0


def test_a_late_order_keeps_its_event_day_values_in_the_later_file(frames):
    late = frames["late_orders"].where(f"arrival_date > order_date AND order_date >= DATE'{START}'")
    on_time = frames["as_of_orders"]
    assert late.limit(1).count() == 1
    assert late.drop("arrival_date").exceptAll(on_time).limit(1).count() == 0


def test_the_status_mix_of_a_weeks_orders_evolves_as_they_progress(frames):
    from pyspark.sql import functions as F

    week = F.col("order_date") < START + dt.timedelta(days=7)

    def shares(frame) -> dict[str, float]:
        rows = frame.where(week).groupBy("status").count().collect()
        total = sum(r["count"] for r in rows)
        return {r["status"]: r["count"] / total for r in rows}

    placed, later = shares(frames["as_of_orders"]), shares(_latest(frames, END))
    assert placed.get("DELIVERED", 0) == 0 and later["DELIVERED"] > 0.3
    # placed: still PENDING (8 %), or paid (87 %, a day later in 20 %) or cancelled (5 %, later in 40 %) after the day
    assert placed["PENDING"] == pytest.approx(0.08 + 0.87 * 0.20 + 0.05 * 0.40, abs=0.03)
    assert later["PENDING"] < placed["PENDING"] - 0.1
    assert later["CANCELLED"] > placed.get("CANCELLED", 0)
