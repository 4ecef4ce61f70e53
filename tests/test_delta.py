"""Delta output: real Delta tables, each day replaced idempotently, commits labelled with the run."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from synthgen_spark.api import generate
from synthgen_spark.calendar import Calendar
from synthgen_spark.catalog import load_dataset
from synthgen_spark.cli import main
from synthgen_spark.errors import ConfigError

from .helpers import KEYS, frames_by_table, read_table, small_config


def table_config(tmp_path, **overrides):
    values = {"output_mode": "table", "scale_factor": 0.01, "batch_size": 5, **overrides}
    return small_config(tmp_path, **values)


def same(left, right, table):
    columns = sorted(left.columns)
    assert_df_equality(
        left.select(columns).orderBy(*KEYS[table]), right.select(columns).orderBy(*KEYS[table]), ignore_nullable=True
    )


def test_rerunning_days_replaces_exactly_those_days(spark, tmp_path):
    template = "rerun_{table}"
    first = generate(table_config(tmp_path, end_date="2024-02-05", table_name_template=template), spark, progress=None)
    second = generate(
        table_config(
            tmp_path, start_date="2024-02-03", end_date="2024-02-04", table_name_template=template, ignore_state=True
        ),
        spark,
        progress=None,
    )
    orders = spark.table("rerun_orders")
    days = [r["order_date"] for r in orders.select("order_date").distinct().orderBy("order_date").collect()]
    assert days == [dt.date(2024, 2, 1) + dt.timedelta(days=i) for i in range(5)]
    assert orders.count() == first.rows_by_table()["orders"]
    fresh = frames_by_table(spark, table_config(tmp_path, start_date="2024-02-03", end_date="2024-02-04"))
    for table, column in (("orders", "order_date"), ("order_items", "order_date")):
        rerun_days = spark.table(f"rerun_{table}").where(F.col(column).between("2024-02-03", "2024-02-04"))
        same(rerun_days, fresh[table], table)
    history = spark.sql("DESCRIBE HISTORY rerun_orders").select("userMetadata").collect()
    run_ids = {json.loads(r["userMetadata"])["run_id"] for r in history}
    assert run_ids == {first.run_id, second.run_id}
    assert json.loads(history[0]["userMetadata"])["seed_value"] == 7
    state = [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if "_state_" in str(p)]
    assert state and not any("_tmp" in p or ".tmp" in p for p in state), state  # the ledger's temp file is gone


def test_batch_size_does_not_change_tables_and_tables_equal_files(spark, tmp_path):
    generate(
        table_config(tmp_path, end_date="2024-02-02", batch_size=1, table_name_template="one_{table}"),
        spark,
        progress=None,
    )
    by_path = generate(table_config(tmp_path, end_date="2024-02-02", table_location="path"), spark, progress=None)
    files = generate(
        small_config(tmp_path / "files", end_date="2024-02-02", scale_factor=0.01, output_mode="parquet"),
        spark,
        progress=None,
    )
    for table in ("customers", "products", "orders", "order_items"):
        from_files = read_table(spark, files, table).drop("_file")
        path = next(r.paths[0] for r in by_path.results if r.table == table)
        assert path.endswith(f"synthetic_data/table/series/retail_oltp_small/t/{table}")
        by_location = spark.read.format("delta").load(path)  # one batch of both days (batch_size 5)
        same(spark.table(f"one_{table}"), by_location, table)  # one-day batches
        same(by_location, from_files, table)


def test_snapshot_tables_hold_one_complete_snapshot_per_scheduled_date(spark, tmp_path):
    config = table_config(tmp_path, start_date="2024-02-01", end_date="2024-02-14", table_name_template="snap_{table}")
    generate(config, spark, progress=None)
    spec = load_dataset("retail_oltp_small")
    calendar = Calendar(spec, config)
    products = spark.table("snap_products").groupBy("snapshot_date").count().collect()
    mondays = [dt.date(2024, 1, 29), dt.date(2024, 2, 5), dt.date(2024, 2, 12)]
    assert {r["snapshot_date"]: r["count"] for r in products} == {
        d: calendar.population(spec.table("products"), d) for d in mondays
    }
    customers = spark.table("snap_customers").groupBy("snapshot_date").agg(F.countDistinct("customer_id").alias("n"))
    expected = {d: calendar.population(spec.table("customers"), d) for d in config.dates}
    assert {r["snapshot_date"]: r["n"] for r in customers.collect()} == expected and len(expected) == 14


def test_mismatched_existing_table_is_refused_and_nothing_is_written(spark, tmp_path, capsys):
    spark.sql("CREATE TABLE clash_orders (order_id BIGINT, note STRING) USING DELTA")
    config = table_config(tmp_path, end_date="2024-02-02", table_name_template="clash_{table}")
    with pytest.raises(ConfigError) as caught:
        generate(config, spark, progress=None)
    message = str(caught.value)
    assert "table 'clash_orders'" in message and "missing customer_id" in message and "unexpected note" in message
    assert "\n" not in message
    assert not spark.catalog.tableExists("clash_customers") and not spark.catalog.tableExists("clash_products")
    assert spark.table("clash_orders").count() == 0
    code = main(
        [
            "generate",
            "--dataset-id",
            "retail_oltp_small",
            "--start-date",
            "2024-02-01",
            "--end-date",
            "2024-02-01",
            "--output-mode",
            "table",
            "--table-name-template",
            "clash_{table}",
            "--scale-factor",
            "0.01",
        ]
    )
    assert code == 2 and "clash_orders" in capsys.readouterr().err


MEMBERS = """
dataset_id: members
epoch: 2024-01-01
tables:
  - name: customers
    kind: snapshot
    rows: 300
    lifecycle: {growth_rate: 0.01, churn_rate: 0.01}
    churn: delete
    primary_key: customer_id
    changes:
      - {name: tier, columns: [tier], rate: 0.05, new_value: step, step: 1}
      - {name: opt_in, columns: [opt_in], rate: 0.05, new_value: toggle}
    columns:
      - {name: customer_id, kind: sequence}
      - {name: signup_date, kind: lifecycle_start, min_days: -100, max_days: -1}
      - {name: churn_date, kind: lifecycle_end}
      - {name: tier, kind: choice, values: [LOW, MID, HIGH]}
      - {name: opt_in, kind: choice, values: [true, false], type: boolean}
      - {name: snapshot_date, kind: generation_date}
"""


def test_snapshot_write_merge_keeps_a_current_table_whose_change_data_feed_is_the_change_feed(spark, tmp_path):
    """snapshot_write: merge: {table}_current is the last snapshot, and Delta's CDF over the run = {table}_changes."""
    dataset = tmp_path / "members.yaml"
    dataset.write_text(MEMBERS)
    config = table_config(
        tmp_path,
        dataset_id="members",
        dataset_path=str(dataset),
        start_date="2024-02-05",
        end_date="2024-02-07",
        scale_factor=1,
        batch_size=3,
        table_name_template="merge_{table}",
        change_feed=True,
        snapshot_write="merge",
    )
    generate(config, spark, progress=None)
    current = spark.table("merge_customers_current")
    last = spark.table("merge_customers").where("snapshot_date = DATE'2024-02-07'").drop("snapshot_date")
    assert current.count() == last.count() > 0
    assert current.exceptAll(last).limit(1).count() == 0 and last.exceptAll(current).limit(1).count() == 0
    first_merge = (
        spark.sql("DESCRIBE HISTORY merge_customers_current").where("operation = 'MERGE'").agg(F.min("version"))
    )
    cdf = spark.read.format("delta").option("readChangeFeed", "true").option("startingVersion", first_merge.first()[0])
    cdf = cdf.table("merge_customers_current").where("_change_type != 'update_preimage'")
    ops = F.expr("CASE _change_type WHEN 'update_postimage' THEN 'update' ELSE _change_type END")
    ours = spark.table("merge_customers_changes").drop("change_date", "change_ts", "change_seq")
    delta = cdf.withColumn("change_op", ops).select(*ours.columns)
    assert ours.where("change_op = 'update'").limit(1).count() == 1 and ours.where("change_op = 'delete'").count() > 0
    assert delta.exceptAll(ours).limit(1).count() == 0 and ours.exceptAll(delta).limit(1).count() == 0


def test_snapshot_write_merge_needs_the_change_feed_in_table_mode(tmp_path):
    with pytest.raises(ConfigError, match="field 'snapshot_write'"):
        small_config(tmp_path, output_mode="table", snapshot_write="merge")
    with pytest.raises(ConfigError, match="field 'snapshot_write'"):
        small_config(tmp_path, change_feed=True, snapshot_write="upsert")


def test_date_partitioned_metastore_tables_take_a_second_batch(spark, tmp_path):
    # Spark 4.1 asserts a catalog table's partition columns come last in its schema: the date column goes last
    config = table_config(
        tmp_path, end_date="2024-02-04", batch_size=2, partition_by_date=True, table_name_template="parted_{table}"
    )
    report = generate(config, spark, progress=None)
    orders = spark.table("parted_orders")
    assert orders.columns[-1] == "order_date"
    assert orders.count() == report.rows_by_table()["orders"]
    detail = spark.sql("DESCRIBE DETAIL parted_orders").collect()[0]
    assert detail["partitionColumns"] == ["order_date"]
