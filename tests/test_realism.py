"""Realism defects found by an independent audit of the output (issue 21), each pinned by a test."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F

from synthgen_spark.api import frames as job_frames
from synthgen_spark.api import generate
from synthgen_spark.calendar import snapshot_in_force
from synthgen_spark.catalog import builtin_dataset_ids, load_dataset
from synthgen_spark.changes import change_feed_spec, history_spec, progress_feed_spec
from synthgen_spark.engine import required_columns
from synthgen_spark.planner import build_plan
from synthgen_spark.verify import verify_plan

from .helpers import read_table, small_config


def _schemas_by_table(root: Path) -> dict[str, set[tuple]]:
    """Every parquet file's (name, type, nullable) fields, by table folder."""
    schemas: dict[str, set[tuple]] = {}
    for path in root.rglob("*.parquet"):
        table = path.relative_to(root).parts[6]
        fields = tuple((f.name, str(f.type), f.nullable) for f in pq.read_schema(path))
        schemas.setdefault(table, set()).add(fields)
    return schemas


@pytest.fixture(scope="module")
def two_batch_sizes(spark, tmp_path_factory):
    """One two-day job written with daily batches and with one batch (change feeds included)."""
    roots = []
    for batch_size in (1, 2):
        root = tmp_path_factory.mktemp(f"batch{batch_size}")
        config = small_config(root, batch_size=batch_size, end_date="2024-02-02", scale_factor=0.01, change_feed=True)
        generate(config, spark, progress=None)
        roots.append(root)
    return [_schemas_by_table(root) for root in roots]


def test_every_parquet_file_of_a_table_has_the_same_schema_whatever_the_batch_size(two_batch_sizes):
    daily, batched = two_batch_sizes
    assert set(daily) == set(batched) and "customers_changes" in daily
    for table in daily:
        schemas = daily[table] | batched[table]
        assert len(schemas) == 1, (table, schemas)


def test_only_the_primary_key_and_the_generated_date_are_required(two_batch_sizes):
    daily, _ = two_batch_sizes
    dataset = load_dataset("retail_oltp_small")
    tables = {t.name: t for t in dataset.tables}
    for base in dataset.tables:
        if base.changes:
            tables.update({spec.name: spec for spec in (change_feed_spec(base), history_spec(base))})
        if base.progress:  # the orders' status steps
            tables[f"{base.name}_changes"] = progress_feed_spec(base)
    for name, schemas in daily.items():
        required = {field for field, _, nullable in next(iter(schemas)) if not nullable}
        table = tables[name]
        assert required == required_columns(table) == {table.primary_key, table.primary_date_column}, name


@pytest.mark.parametrize("dataset_id", builtin_dataset_ids())
@pytest.mark.parametrize("start", ["2024-05-29", "2024-06-01", "2024-08-14"])
def test_every_snapshot_and_row_finds_the_referenced_snapshot_in_force_in_the_run(tmp_path, dataset_id, start):
    """The rule: a row dated d (fact or snapshot) joins the referenced table's snapshot in force on d."""
    config = small_config(tmp_path, dataset_id=dataset_id, start_date=start, end_date="2024-08-20")
    plan = build_plan(config)
    written: dict[str, set[dt.date]] = {}
    for td in plan.table_days:
        written.setdefault(td.table.name, set()).add(td.date)
    for table in plan.dataset.tables:
        for target in {c.params["references"].split(".")[0] for c in table.columns if "references" in c.params}:
            frequency = plan.dataset.table(target).frequency
            for day in written[table.name]:
                in_force = snapshot_in_force(frequency, day, plan.dataset.epoch)
                assert in_force in written[target], (table.name, day, target, in_force)


@pytest.fixture(scope="module")
def healthcare(spark, tmp_path_factory):
    """Two days of healthcare_oltp_small, every table read back."""
    config = small_config(
        tmp_path_factory.mktemp("healthcare"),
        dataset_id="healthcare_oltp_small",
        end_date="2024-02-02",
        scale_factor=0.01,
    )
    report = generate(config, spark, progress=None)
    return {name: read_table(spark, report, name).drop("_file") for name in ("patients", "appointments", "diagnoses")}


def test_appointments_have_one_to_three_distinct_diagnoses(healthcare):
    per_appointment = (
        healthcare["diagnoses"]
        .groupBy("appointment_id")
        .agg(F.count("*").alias("codes"), F.countDistinct("icd10_code").alias("distinct_codes"))
    )
    counts = {r["codes"] for r in per_appointment.select("codes").distinct().collect()}
    assert counts == {1, 2, 3}
    assert per_appointment.where("codes != distinct_codes").count() == 0


def test_no_diagnosis_begins_before_the_patient_was_born(healthcare):
    patients = healthcare["patients"].select(
        "patient_id", "birth_date", F.col("snapshot_date").alias("appointment_date")
    )
    visits = healthcare["appointments"].select("appointment_id", "patient_id", "appointment_date")
    diagnoses = (
        healthcare["diagnoses"]
        .join(visits, ["appointment_id", "appointment_date"])
        .join(patients, ["patient_id", "appointment_date"])
    )
    assert diagnoses.count() == healthcare["diagnoses"].count()
    assert diagnoses.where("onset_date < birth_date").count() == 0
    assert diagnoses.where("onset_date > appointment_date").count() == 0


def test_which_customers_never_churn_shows_no_id_pattern(spark, tmp_path):
    """One in ten never churns, 10 per block of 100 ids at places shuffled per block: no last digit stands out."""
    plan = build_plan(small_config(tmp_path, start_date="2024-06-03", end_date="2024-06-03", scale_factor=0.2))
    day = next(td for td in plan.table_days if td.table.name == "customers")  # its planned rows size the blocks
    customers = job_frames(plan.config, spark)["customers"]
    shares = customers.groupBy((F.col("customer_id") % 10).alias("last_digit")).agg(
        F.avg(F.col("churn_date").isNotNull().cast("double")).alias("churned")
    )
    churned = {r["last_digit"]: r["churned"] for r in shares.collect()}
    assert len(churned) == 10 and min(churned.values()) > 0.4 and max(churned.values()) - min(churned.values()) < 0.1
    blocks = customers.groupBy(F.floor((F.col("customer_id") - 1) / 100).alias("block")).agg(
        F.sum(F.col("churn_date").isNull().cast("int")).alias("never")
    )
    assert blocks.where(f"never < 10 AND block < {day.rows // 100}").count() == 0  # every full block keeps 10


def test_no_transaction_on_an_account_closed_dormant_or_frozen_that_day(spark, tmp_path):
    config = small_config(
        tmp_path, dataset_id="finance_oltp_small", start_date="2024-06-03", end_date="2024-06-04", scale_factor=0.01
    )
    report = generate(config, spark, progress=None)
    accounts = read_table(spark, report, "accounts").select(
        "account_id", F.col("status").alias("account_status"), "closed_date", F.col("snapshot_date").alias("week")
    )
    transactions = read_table(spark, report, "transactions").withColumn(
        "week", F.date_trunc("week", "transaction_date").cast("date")
    )
    joined = transactions.join(accounts, ["account_id", "week"])
    assert joined.count() == transactions.count()
    assert joined.where("closed_date <= transaction_date OR account_status = 'CLOSED'").count() == 0
    blocked = joined.where("account_status IN ('DORMANT', 'FROZEN')")
    assert blocked.where("status != 'DECLINED' AND transaction_type NOT IN ('FEE', 'INTEREST', 'SWEEP')").count() == 0
    assert accounts.where("account_status = 'CLOSED'").count() > 0  # accounts do close (and then see no transactions)
    assert verify_plan(spark, build_plan(config)).ok


def _one_day_frame(spark, tmp_path, dataset_id: str, table: str, scale_factor: float):
    config = small_config(tmp_path, dataset_id=dataset_id, end_date="2024-02-01", scale_factor=scale_factor)
    return job_frames(config, spark)[table]


def test_timestamps_follow_the_domain_s_hours(spark, tmp_path):
    orders = _one_day_frame(spark, tmp_path, "retail_oltp_small", "orders", 0.5)
    sales = _one_day_frame(spark, tmp_path, "retail_star_small", "fact_sales", 0.05)
    hours = (
        orders.groupBy(F.hour("order_ts").alias("h"))
        .count()
        .union(sales.groupBy((F.hour("sale_ts") + 100).alias("h")).count())
    )
    by_hour = {r["h"]: r["count"] for r in hours.collect()}
    evening = sum(by_hour.get(h, 0) for h in (19, 20, 21))
    night = sum(by_hour.get(h, 0) for h in (2, 3, 4))
    assert evening > 10 * night > 0  # the web shop sleeps at night, peaks in the evening
    assert {h - 100 for h in by_hour if h >= 100} == set(range(8, 22))  # stores sell only while open


def test_shipping_and_delivery_lags_are_skewed_to_a_day_or_two(spark, tmp_path):
    """Issue 21, shape item 5: the retail lags are a declared skewed choice (docs/datasets.md), not uniform."""
    config = small_config(tmp_path, end_date="2024-02-01", scale_factor=0.5, fact_states="final")
    orders = job_frames(config, spark)["orders"]
    lags = orders.select(
        F.datediff("shipped_date", "paid_date").alias("ship"),
        F.datediff("delivered_date", "shipped_date").alias("deliver"),
    )
    ship = {r["ship"]: r["count"] for r in lags.where("ship IS NOT NULL").groupBy("ship").count().collect()}
    deliver = {r["deliver"]: r["count"] for r in lags.where("deliver IS NOT NULL").groupBy("deliver").count().collect()}
    assert set(ship) == {0, 1, 2, 3} and max(ship, key=ship.get) == 1 and ship[3] < ship[1] / 3
    assert set(deliver) == set(range(1, 8)) and max(deliver, key=deliver.get) in (2, 3)
    assert deliver[7] < deliver[2] / 4 and sum(deliver.values()) > 1000


def test_no_provider_is_double_booked(healthcare):
    slots = healthcare["appointments"].groupBy("provider_id", "scheduled_ts").count()
    assert slots.where("count > 1").count() == 0
    assert healthcare["appointments"].select("provider_id").distinct().count() > 1
