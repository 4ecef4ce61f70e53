"""Entities that change, in Spark: snapshots replayed from the change feed, versions in force, rates."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from pathlib import Path

import pytest
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from synthgen_spark.api import generate
from synthgen_spark.catalog import load_dataset
from synthgen_spark.changes import affected_columns
from synthgen_spark.derived import image_columns
from synthgen_spark.engine import build_batch_frame
from synthgen_spark.planner import build_plan

from .helpers import dataset_with_tables, small_config

START, END = dt.date(2024, 1, 1), dt.date(2024, 3, 1)  # a Monday (products are weekly), 61 days
RETAIL = load_dataset("retail_oltp_small")
KEYS = {"customers": "customer_id", "products": "product_id"}


@pytest.fixture(scope="module")
def run(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("changes")
    config = small_config(  # final order states: the orders' own feed is tested in test_progress.py
        root,
        start_date=str(START),
        end_date=str(END),
        batch_size=61,
        scale_factor=0.05,
        change_feed=True,
        fact_states="final",
    )
    report = generate(config, spark, progress=None)
    names = ("customers", "products", "order_items", "customers_changes", "products_changes")
    tables = {name: _read(spark, report, name).cache() for name in names}
    yield config, report, tables
    for frame in tables.values():
        frame.unpersist()


def _read(spark, report, table: str) -> DataFrame:
    """Every parquet file a run wrote for ``table`` (a dataset table or a derived one), with ``_file``."""
    paths = [p for r in report.results if r.table == table for p in r.paths]
    return spark.read.parquet(*paths).withColumn("_file", F.col("_metadata.file_path"))


def _replay(snapshot: DataFrame, changes: DataFrame, key: str, image: list[str]) -> DataFrame:
    """Apply ``changes`` in change_seq order to ``snapshot`` (full after-images: the last one wins)."""
    last = Window.partitionBy(key).orderBy(F.col("change_seq").desc())
    latest = changes.withColumn("_n", F.row_number().over(last)).where("_n = 1")
    kept = snapshot.join(latest.select(key), key, "left_anti").select(*image)
    return kept.unionByName(latest.where("change_op != 'delete'").select(*image))


def _same(left: DataFrame, right: DataFrame) -> bool:
    return left.exceptAll(right).limit(1).count() == 0 and right.exceptAll(left).limit(1).count() == 0


@pytest.mark.parametrize(("table", "last_day"), [("customers", END), ("products", dt.date(2024, 2, 26))])
def test_replaying_the_feed_over_the_first_snapshot_gives_the_last(run, table, last_day):
    _, _, t = run
    image = image_columns(RETAIL.table(table))
    first = t[table].where(F.col("snapshot_date") == START)
    last = t[table].where(F.col("snapshot_date") == last_day).select(*image)
    changes = t[f"{table}_changes"].where((F.col("change_date") > START) & (F.col("change_date") <= last_day))
    assert changes.where("change_op = 'update'").limit(1).count() == 1  # something did change
    assert _same(_replay(first, changes, KEYS[table], image), last)
    assert not _same(first.select(*image), last)


def test_every_daily_snapshot_is_the_day_before_plus_that_days_changes(run):
    _, _, t = run
    image = image_columns(RETAIL.table("customers"))
    snapshots, changes = t["customers"], t["customers_changes"]
    before = snapshots.withColumn("day", F.date_add("snapshot_date", 1)).where(F.col("day") <= END)
    feed = changes.withColumn("day", F.col("change_date")).where(F.col("day") > START)
    last = Window.partitionBy("day", "customer_id").orderBy(F.col("change_seq").desc())
    latest = feed.withColumn("_n", F.row_number().over(last)).where("_n = 1")
    kept = before.join(latest.select("day", "customer_id"), ["day", "customer_id"], "left_anti")
    replayed = kept.select("day", *image).unionByName(latest.select("day", *image))
    after = snapshots.where(F.col("snapshot_date") > START).select(F.col("snapshot_date").alias("day"), *image)
    assert _same(replayed, after)


def test_every_day_has_a_feed_file_and_days_without_changes_are_empty_files(run):
    _, report, t = run
    for table in ("customers_changes", "products_changes"):
        results = [r for r in report.results if r.table == table]
        assert [r.date for r in results] == [START + dt.timedelta(i) for i in range(61)]
    days = {r["change_date"] for r in t["products_changes"].select("change_date").distinct().collect()}
    assert len(days) < 61  # some days had no product change, and still got their (empty) file
    file_date = F.to_date(F.regexp_extract("_file", r"/(\d{4}/\d{2}/\d{2})/data", 1), "yyyy/MM/dd")
    assert t["products_changes"].where(F.col("change_date") != file_date).limit(1).count() == 0


def test_updates_change_only_group_columns_and_the_lifecycle(run):
    _, _, t = run
    spec = RETAIL.table("customers")
    image = image_columns(spec)
    allowed = {n for g in spec.changes for n in affected_columns(spec, g)} | {"churn_date", "status"}
    before = t["customers"].withColumn("change_date", F.date_add("snapshot_date", 1))
    updates = t["customers_changes"].where("change_op = 'update'").alias("u")
    joined = updates.join(before.alias("b"), ["customer_id", "change_date"])
    changed = [F.when(~F.col(f"u.{n}").eqNullSafe(F.col(f"b.{n}")), F.lit(n)) for n in image]
    seen = {n for row in joined.select(F.explode(F.array_compact(F.array(*changed)))).distinct().collect() for n in row}
    assert seen and seen <= allowed, seen - allowed
    assert {"city", "loyalty_tier", "status"} <= seen
    no_op = joined.where(" AND ".join(f"u.`{n}` <=> b.`{n}`" for n in image))
    assert no_op.limit(1).count() == 0


def test_no_change_before_signup_or_after_churn_and_inserts_on_signup(run):
    _, _, t = run
    feed = t["customers_changes"]
    assert feed.where("change_op = 'update' AND change_date <= signup_date").limit(1).count() == 0
    assert feed.where("change_date > churn_date").limit(1).count() == 0
    assert feed.where("change_op = 'insert' AND change_date != signup_date").limit(1).count() == 0
    assert feed.where("change_op = 'insert'").count() > 0
    churns = feed.where("change_date = churn_date")
    assert churns.count() > 0 and churns.where("status != 'churned' OR change_op != 'update'").count() == 0


def test_change_seq_orders_changes_and_change_ts_is_within_the_day(run):
    _, _, t = run
    feed = t["customers_changes"]
    assert feed.groupBy("customer_id", "change_date").count().where("count > 1").limit(1).count() == 0
    assert feed.where("to_date(change_ts) != change_date").limit(1).count() == 0
    by_seq = Window.partitionBy("customer_id").orderBy("change_seq")
    out_of_order = feed.withColumn("prev", F.lag("change_date").over(by_seq)).where("prev >= change_date")
    assert out_of_order.limit(1).count() == 0


def test_unit_price_is_the_price_in_force_on_the_order_date(run):
    _, _, t = run
    items = t["order_items"].select(
        "order_item_id",
        "product_id",
        "order_date",
        "unit_price",
        F.date_trunc("week", "order_date").cast("date").alias("monday"),
    )
    monday = t["products"].select("product_id", F.col("snapshot_date").alias("monday"), F.col("price").alias("list"))
    changes = t["products_changes"].select("product_id", "change_date", "change_seq", "price")
    since = items.join(changes, "product_id").where("change_date > monday AND change_date <= order_date")
    latest = Window.partitionBy("order_item_id").orderBy(F.col("change_seq").desc())
    repriced = since.withColumn("_n", F.row_number().over(latest)).where("_n = 1").select("order_item_id", "price")
    state = items.join(monday, ["product_id", "monday"], "left").join(repriced, "order_item_id", "left")
    state = state.withColumn("in_force", F.coalesce("price", "list"))
    assert state.where("in_force IS NULL").limit(1).count() == 0
    assert state.where("unit_price != in_force").limit(1).count() == 0
    assert state.where("unit_price != list").limit(1).count() > 0  # repricing mid-week shows in orders


def test_group_rates_are_the_declared_rates(spark, tmp_path):
    """Share of entities active over 180 days whose group columns changed: 1 - exp(-f T) within 4 sigma."""
    config = small_config(tmp_path, start_date="2024-01-01", end_date="2024-06-29", scale_factor=1.0)
    plan = build_plan(config)
    days = [td for td in plan.table_days if td.table.name == "customers" and td.date in (START, config.end_date)]
    frame = build_batch_frame(spark, config, plan.dataset, days)
    a, b = frame.where(F.col("snapshot_date") == START).alias("a"), frame.where(F.col("snapshot_date") != START)
    both = a.join(b.alias("b"), "customer_id").where("b.churn_date IS NULL")
    # a move changes the phone's area code too (docs/datasets.md), so the phone group shows in the local number
    local = "substring({}.phone, 7, 8)"
    measured = {"address": "{}.city", "phone": local, "marketing_opt_in": "{}.marketing_opt_in"}
    counts = both.agg(
        F.count("*").alias("n"),
        *[
            F.sum(F.when(~F.expr(c.format("a")).eqNullSafe(F.expr(c.format("b"))), 1)).alias(g)
            for g, c in measured.items()
        ],
    ).first()
    span = (config.end_date - START).days
    for group in RETAIL.table("customers").changes:
        if group.name not in measured:
            continue
        events = group.daily_rate * span
        # a toggle shows after an odd number of changes; a redraw after any
        share = (1 - math.exp(-2 * events)) / 2 if group.new_value == "toggle" else 1 - math.exp(-events)
        expected = counts["n"] * share
        assert abs(counts[group.name] - expected) < 4 * math.sqrt(expected) + 0.05 * expected, (group.name, counts)


def test_feed_is_the_same_whatever_the_batch_size(spark, tmp_path):
    rows = []
    for batch_size in (2, 1):
        config = small_config(
            tmp_path, start_date="2024-02-05", end_date="2024-02-06", change_feed=True, batch_size=batch_size
        )
        plan = build_plan(config)
        batches = [[td for td in b.table_days if td.table.name == "customers_changes"] for b in plan.batches]
        rows.append(sorted(r for tds in batches for r in build_batch_frame(spark, config, plan.dataset, tds).collect()))
    assert rows[0] and rows[0] == rows[1]


@pytest.fixture(scope="module")
def history(spark, tmp_path_factory):
    """customers and customers_history on the first and the 120th day of a run (built, not written)."""
    config = small_config(
        tmp_path_factory.mktemp("history"), start_date="2024-01-01", end_date="2024-04-29", history=True
    )
    plan = build_plan(config)
    days = (START, config.end_date)
    frames = {}
    for table in ("customers", "customers_history"):
        table_days = [td for td in plan.table_days if td.table.name == table and td.date in days]
        frames[table] = build_batch_frame(spark, config, plan.dataset, table_days).cache()
    yield frames, days
    for frame in frames.values():
        frame.unpersist()


def test_history_obeys_the_tpc_di_scd2_rules(history):
    frames, (_, last) = history
    h = frames["customers_history"].where(F.col("snapshot_date") == last)
    assert h.groupBy("history_key").count().where("count > 1").limit(1).count() == 0
    by_version = Window.partitionBy("customer_id").orderBy("version")
    h = h.withColumn("next_from", F.lead("valid_from").over(by_version))
    h = h.withColumn("first", F.min("version").over(Window.partitionBy("customer_id")))
    assert h.where("first != 1").limit(1).count() == 0
    assert h.where("NOT (valid_to <=> next_from)").limit(1).count() == 0  # each end is the next start; open last
    assert h.where("valid_to <= valid_from").limit(1).count() == 0  # no zero-length versions, no overlaps
    assert h.where("is_current != (valid_to IS NULL)").limit(1).count() == 0
    open_versions = h.groupBy("customer_id").agg(F.sum(F.col("is_current").cast("int")).alias("open"))
    assert open_versions.where("open != 1").limit(1).count() == 0
    assert h.where("valid_from > snapshot_date").limit(1).count() == 0
    assert h.where("version > 1").limit(1).count() == 1


@pytest.mark.parametrize("which", [0, 1])
def test_history_rows_valid_on_a_day_are_that_days_snapshot(history, which):
    frames, days = history
    day = days[which]
    image = image_columns(RETAIL.table("customers"))
    h = frames["customers_history"].where(F.col("snapshot_date") == day)
    valid = h.where((F.col("valid_from") <= day) & (F.col("valid_to").isNull() | (F.col("valid_to") > day)))
    snapshot = frames["customers"].where(F.col("snapshot_date") == day)
    assert _same(valid.select(*image), snapshot.select(*image))


def test_history_keeps_its_past_versions_as_days_go_by(history):
    frames, (first, last) = history
    h = frames["customers_history"]
    early = h.where(F.col("snapshot_date") == first).where("NOT is_current").drop("snapshot_date")
    late = h.where(F.col("snapshot_date") == last).drop("snapshot_date")
    assert early.count() > 0 and early.exceptAll(late).limit(1).count() == 0


def test_groups_at_rate_zero_change_nothing(spark, tmp_path):
    """Version 0 of every new-value rule is the value of the table without change groups."""
    config = small_config(tmp_path, start_date="2024-02-05", end_date="2024-02-05")
    still = [dataclasses.replace(g, rate=0.0) for g in RETAIL.table("customers").changes]
    rows = []
    for groups in (still, ()):
        tables = tuple(
            dataclasses.replace(t, changes=tuple(groups)) if t.name == "customers" else t for t in RETAIL.tables
        )
        plan = build_plan(config, dataclasses.replace(RETAIL, tables=tables))
        days = [td for td in plan.table_days if td.table.name == "customers"]
        rows.append(sorted(build_batch_frame(spark, config, plan.dataset, days).collect()))
    assert len(rows[0]) > 100 and rows[0] == rows[1]


MEMBERS = """
dataset_id: members
epoch: 2024-01-01
tables:
  - name: members
    kind: snapshot
    rows: 2000
    churn: delete
    lifecycle: {growth_rate: 0.01, churn_rate: 0.02}
    primary_key: member_id
    changes:
      - {name: plan, columns: [plan], rate: 0.05, new_value: step, step: 1}
    columns:
      - {name: member_id, kind: sequence}
      - {name: plan, kind: choice, values: [basic, plus, pro]}
      - {name: joined, kind: lifecycle_start, min_days: -300, max_days: -1}
      - {name: left_on, kind: lifecycle_end}
      - {name: snapshot_date, kind: generation_date}
"""


def test_hard_deletes_leave_snapshots_and_appear_as_deletes_in_feed_and_history(spark, tmp_path):
    from synthgen_spark.catalog import parse_dataset

    dataset = parse_dataset(MEMBERS, "members.yaml")
    config = small_config(
        tmp_path, dataset_id="members", start_date="2024-03-01", end_date="2024-03-21", change_feed=True, history=True
    )
    plan = build_plan(config, dataset)
    frames = {}
    for table in ("members", "members_changes", "members_history"):
        table_days = [td for td in plan.table_days if td.table.name == table]
        frames[table] = build_batch_frame(spark, config, dataset, table_days).cache()
    first, last = dt.date(2024, 3, 1), dt.date(2024, 3, 21)
    snapshots, feed, history = frames["members"], frames["members_changes"], frames["members_history"]
    image = image_columns(dataset.table("members"))
    assert snapshots.where("left_on IS NOT NULL").limit(1).count() == 0
    deletes = feed.where("change_op = 'delete'")
    assert deletes.count() > 3
    changes = feed.where(F.col("change_date") > first)
    replayed = _replay(snapshots.where(F.col("snapshot_date") == first), changes, "member_id", image)
    assert _same(replayed, snapshots.where(F.col("snapshot_date") == last).select(*image))
    gone = deletes.select("member_id", F.col("change_date").alias("snapshot_date"))
    assert gone.join(snapshots, ["member_id", "snapshot_date"]).limit(1).count() == 0
    gone_later = gone.where(F.col("snapshot_date") > first)  # the eve of the first day has no snapshot here
    before = gone_later.withColumn("snapshot_date", F.date_sub("snapshot_date", 1))
    assert before.join(snapshots, ["member_id", "snapshot_date"]).count() == gone_later.count() > 3
    h = history.where(F.col("snapshot_date") == last)
    valid = h.where((F.col("valid_from") <= last) & (F.col("valid_to").isNull() | (F.col("valid_to") > last)))
    assert _same(valid.select(*image), snapshots.where(F.col("snapshot_date") == last).select(*image))
    closed = h.join(deletes.select("member_id", F.col("change_date").alias("valid_to")), ["member_id", "valid_to"])
    assert closed.count() == deletes.count() and closed.where("is_current").count() == 0
    assert h.groupBy("member_id").agg(F.sum(F.col("is_current").cast("int")).alias("n")).where("n > 1").count() == 0
    for frame in frames.values():
        frame.unpersist()


def test_csv_feed_files_are_flat_and_a_day_without_changes_is_a_header(spark, tmp_path):
    config = small_config(
        tmp_path,
        start_date="2024-02-06",
        end_date="2024-02-08",
        output_mode="csv",
        path_format="flat",
        scale_factor=0.01,
        change_feed=True,
    )
    report = generate(config, spark, progress=None)
    paths = [p for r in report.results if r.table == "products_changes" for p in r.paths]
    assert [p.rsplit("/", 1)[1] for p in paths] == [f"products_changes_2024020{d}.csv" for d in (6, 7, 8)]
    texts = [Path(p).read_text(encoding="utf-8").splitlines() for p in paths]
    assert all(t[0].startswith("change_op,product_id,sku,") for t in texts)
    assert min(len(t) for t in texts) == 1  # ten products: some day has no change, and still a file


def test_delta_table_mode_writes_the_feed_as_a_table_of_its_own(spark, tmp_path):
    config = small_config(  # customers alone: the other tables' Delta commits would test nothing more here
        tmp_path,
        dataset_path=str(dataset_with_tables(tmp_path, "retail_oltp_small", ("customers",))),
        start_date="2024-02-05",
        end_date="2024-02-07",
        output_mode="table",
        scale_factor=0.2,
        table_name_template="feed_{table}",
        change_feed=True,
    )
    generate(config, spark, progress=None)
    table = spark.table("feed_customers_changes")
    plan = build_plan(config)
    days = [td for td in plan.table_days if td.table.name == "customers_changes"]
    expected = build_batch_frame(spark, config, plan.dataset, days)
    assert table.count() > 0 and _same(table.select(*expected.columns), expected)


def test_finance_accounts_close_on_their_day_and_change_status_and_credit_limits(spark, tmp_path):
    """Closures are updates to CLOSED dated on their day; status and credit-limit groups change open accounts."""
    config = small_config(
        tmp_path,
        dataset_id="finance_oltp_small",
        start_date="2024-01-01",
        end_date="2024-02-14",
        change_feed=True,
        scale_factor=0.1,
        batch_size=45,
    )
    plan = build_plan(config)
    days = [td for td in plan.table_days if td.table.name == "accounts_changes"]
    feed = build_batch_frame(spark, config, plan.dataset, days).cache()
    counts = feed.agg(
        F.count(F.when(F.col("status") == "CLOSED", 1)).alias("closed"),
        F.count(F.when((F.col("status") == "CLOSED") & (F.col("closed_date") != F.col("change_date")), 1)).alias(
            "misdated"
        ),
        F.count(F.when((F.col("status") == "CLOSED") & (F.col("current_balance") != 0), 1)).alias("balance"),
        F.count(F.when(F.col("status").isin("DORMANT", "FROZEN"), 1)).alias("dormant"),
        F.count(F.when(F.expr("(credit_limit IS NOT NULL) != (pmod(account_type_id - 1, 8) = 5)"), 1)).alias("limit"),
        F.count(F.when((F.col("change_op") == "insert") & (F.col("status") == "CLOSED"), 1)).alias("closed_insert"),
        F.count(F.when(F.col("change_op") == "delete", 1)).alias("deleted"),
    ).first()
    feed.unpersist()
    assert counts["closed"] > 0 and counts["dormant"] > 0
    assert (
        counts["misdated"] == counts["balance"] == counts["limit"] == counts["closed_insert"] == counts["deleted"] == 0
    )


def test_star_facts_carry_the_surrogate_key_of_the_dimension_version_in_force(spark, tmp_path):
    """fact_sales.customer_sk / product_sk = the history_key of the version valid on sale_date (SCD2 join)."""
    config = small_config(
        tmp_path,
        dataset_id="retail_star_small",
        start_date="2020-01-27",
        end_date="2020-02-03",
        scale_factor=0.004,
        history=True,
        batch_size=8,
    )
    plan = build_plan(config)

    def frame(table: str, days: set[dt.date] | None = None) -> DataFrame:
        tds = [td for td in plan.table_days if td.table.name == table and (days is None or td.date in days)]
        return build_batch_frame(spark, config, plan.dataset, tds)

    sales = frame("fact_sales").where("sale_date <= DATE'2020-02-01'").cache()
    for dim, key, day in (("customer", "customer_key", "2020-02-03"), ("product", "product_key", "2020-02-01")):
        history = frame(f"dim_{dim}_history", {dt.date.fromisoformat(day)})
        joined = sales.join(history, sales[f"{dim}_sk"] == history["history_key"], "left")
        counts = joined.agg(
            F.count(F.when(history["history_key"].isNull(), 1)).alias("missing"),
            F.count(F.when(sales[key] != history[key], 1)).alias("other_entity"),
            F.count(F.when(~F.expr("valid_from <= sale_date AND (valid_to IS NULL OR sale_date < valid_to)"), 1)).alias(
                "not_in_force"
            ),
            F.count(F.when(history["version"] > 1, 1)).alias("later_versions"),
        ).first()
        assert counts["missing"] == counts["other_entity"] == counts["not_in_force"] == 0, (dim, counts)
        assert counts["later_versions"] > 0, (dim, counts)
    sales.unpersist()


@pytest.fixture(scope="module")
def patients(spark, tmp_path_factory):
    """healthcare patients over 31 days at scale 1 (about 20 patients turn 65): snapshots, feed and history."""
    config = small_config(
        tmp_path_factory.mktemp("patients"),
        dataset_id="healthcare_oltp_small",
        start_date="2024-01-01",
        end_date="2024-01-31",
        scale_factor=1.0,
        batch_size=31,
        change_feed=True,
        history=True,
    )
    plan = build_plan(config)
    first, last = config.start_date, config.end_date

    def frame(table: str, days: tuple[dt.date, ...] | None = None) -> DataFrame:
        table_days = [td for td in plan.table_days if td.table.name == table and (days is None or td.date in days)]
        return build_batch_frame(spark, config, plan.dataset, table_days).cache()

    frames = {
        "patients": frame("patients", (first, last)),
        "patients_changes": frame("patients_changes"),
        "patients_history": frame("patients_history", (last,)),
    }
    yield plan.dataset.table("patients"), first, last, frames
    for each in frames.values():
        each.unpersist()


def test_insurance_turns_medicare_on_the_65th_birthday_in_snapshots_feed_and_history(patients):
    table, first, last, t = patients
    image = image_columns(table)
    birthday = F.add_months("birth_date", 780)
    snapshots = t["patients"].withColumn("as_of", F.coalesce(F.date_sub("inactive_date", 1), F.col("snapshot_date")))
    assert snapshots.where((F.col("insurance_type") == "Medicare") & (birthday > F.col("as_of"))).count() == 0
    senior = snapshots.where(birthday <= F.col("as_of"))
    assert senior.count() > 1000
    assert senior.where(~F.col("insurance_type").isin("Medicare", "Self-pay")).count() == 0
    feed = t["patients_changes"]
    turning = feed.where((F.col("change_op") == "update") & (F.col("change_date") == birthday))
    assert turning.count() >= 5  # the birthdays of the month are changes, dated on the day
    assert turning.where(~F.col("insurance_type").isin("Medicare", "Self-pay")).count() == 0
    start = t["patients"].where(F.col("snapshot_date") == first)
    end = t["patients"].where(F.col("snapshot_date") == last).select(*image)
    assert _same(_replay(start, feed.where(F.col("change_date") > first), "patient_id", image), end)
    history = t["patients_history"]
    valid = history.where(F.col("valid_to").isNull() | (F.col("valid_to") > last))
    assert _same(valid.select(*image), end)
    began = history.join(
        turning.select("patient_id", F.col("change_date").alias("valid_from")), ["patient_id", "valid_from"]
    )
    assert began.count() == turning.count()  # each birthday begins a version
