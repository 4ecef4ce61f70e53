"""The benchmark's cases: the frames each side generates (synthgen, dbldatagen), the sinks, the Faker loop.

synthgen's frames are built as a run builds them (``build_plan`` + ``build_batch_frame``) and written inside
``generation_settings``, as a run writes them; dbldatagen's keep Spark's defaults.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from collections import OrderedDict
from collections.abc import Callable

DAY = dt.date(2024, 1, 15)
STATUSES = ["NEW", "PAID", "SHIPPED", "DELIVERED", "CANCELLED"]
STATUS_WEIGHTS = [10, 30, 30, 25, 5]

# the dbldatagen spec's columns, as a synthgen dataset (orders' base rows = N, scale 1 -> 100,000 customers)
SPEC_DATASET = """
dataset_id: bench_orders_spec
description: The dbldatagen benchmark spec's columns, as a synthgen dataset.
epoch: 2020-01-01
tables:
  - name: customers
    kind: snapshot
    rows: 100000
    primary_key: customer_id
    columns:
      - {{name: customer_id, kind: sequence}}
      - {{name: snapshot_date, kind: generation_date}}
  - name: orders
    kind: incremental
    rows: {rows}
    primary_key: order_id
    primary_date_column: order_date
    columns:
      - {{name: order_id, kind: sequence}}
      - {{name: customer_id, kind: foreign_key, references: customers.customer_id}}
      - {{name: order_date, kind: generation_date}}
      - {{name: order_ts, kind: timestamp, base: order_date}}
      - {{name: status, kind: choice, values: {statuses}, weights: {weights}}}
      - {{name: amount, kind: uniform, min: 1.00, max: 999.99, type: "decimal(10,2)"}}
      - {{name: email, kind: derived, expression: "concat('user', customer_id, '@example.com')"}}
"""


def synthgen_orders(spark, rows: int, partitions: int):
    """synthgen's full ``orders`` table for one day of ``rows`` rows in ``partitions`` files."""
    from synthgen_spark.config import JobConfig
    from synthgen_spark.engine import build_batch_frame
    from synthgen_spark.planner import build_plan

    cfg = JobConfig.from_mapping(
        {
            "dataset_id": "retail_oltp_small",
            "start_date": DAY.isoformat(),
            "end_date": DAY.isoformat(),
            "enable_seasonal_patterns": False,
            "scale_factor": rows / 10000,
            "chunk_size": math.ceil(rows / partitions),
        }
    )
    plan = build_plan(cfg)
    tds = [td for td in plan.table_days if td.table.name == "orders"]
    return build_batch_frame(spark, cfg, plan.dataset, tds), sum(td.rows for td in tds), (cfg, plan, tds)


def synthgen_orders_year(spark, rows: int):
    """synthgen ``orders`` over 365 days (2024-01-01..2024-12-30) of about rows/365 each, in ONE batch."""
    from synthgen_spark.config import JobConfig
    from synthgen_spark.engine import build_batch_frame
    from synthgen_spark.planner import build_plan

    cfg = JobConfig.from_mapping(
        {
            "dataset_id": "retail_oltp_small",
            "start_date": "2024-01-01",
            "end_date": "2024-12-30",
            "batch_size": 365,
            "enable_seasonal_patterns": False,
            "scale_factor": rows / 365 / 10000,
        }
    )
    plan = build_plan(cfg)
    tds = [td for td in plan.table_days if td.table.name == "orders"]
    return build_batch_frame(spark, cfg, plan.dataset, tds), sum(td.rows for td in tds), (cfg, plan, tds)


LATE_DAYS = 14


def synthgen_late_days(spark, rows: int, rate: float) -> dict[str, tuple]:
    """orders and order_items over LATE_DAYS days of about rows/LATE_DAYS orders, one batch each, with
    ``late_arrival_rate`` ``rate`` (0: every row on time) -> table: (frame, rows)."""
    from synthgen_spark.config import JobConfig
    from synthgen_spark.engine import build_batch_frame
    from synthgen_spark.planner import build_plan

    cfg = JobConfig.from_mapping(
        {
            "dataset_id": "retail_oltp_small",
            "start_date": "2024-01-01",
            "end_date": (dt.date(2024, 1, 1) + dt.timedelta(days=LATE_DAYS - 1)).isoformat(),
            "batch_size": LATE_DAYS,
            "enable_seasonal_patterns": False,
            "scale_factor": rows / LATE_DAYS / 10000,
            "late_arrival_rate": rate,
        }
    )
    plan = build_plan(cfg)
    frames = {}
    for table in ("orders", "order_items"):
        tds = [td for td in plan.table_days if td.table.name == table]
        frames[table] = (build_batch_frame(spark, cfg, plan.dataset, tds), sum(td.rows for td in tds))
    return frames


def spec_dataset(rows: int):
    """The dbldatagen spec's columns as a parsed synthgen dataset with ``rows`` orders a day."""
    from synthgen_spark.catalog import parse_dataset

    text = SPEC_DATASET.format(rows=rows, statuses=json.dumps(STATUSES), weights=json.dumps(STATUS_WEIGHTS))
    return parse_dataset(text, source="benchmarks:bench_orders_spec")


def synthgen_spec(spark, rows: int, partitions: int):
    """synthgen ``orders`` with exactly the dbldatagen spec's columns (a small custom dataset)."""
    from synthgen_spark.config import JobConfig
    from synthgen_spark.engine import build_batch_frame
    from synthgen_spark.planner import build_plan

    dataset = spec_dataset(rows)
    cfg = JobConfig.from_mapping(
        {
            "dataset_id": "bench_orders_spec",
            "start_date": DAY.isoformat(),
            "end_date": DAY.isoformat(),
            "enable_seasonal_patterns": False,
            "scale_factor": 1,
            "chunk_size": math.ceil(rows / partitions),
        }
    )
    plan = build_plan(cfg, dataset)
    tds = [td for td in plan.table_days if td.table.name == "orders"]
    return build_batch_frame(spark, cfg, dataset, tds), sum(td.rows for td in tds), (cfg, plan, tds)


def dbldatagen_spec(spark, rows: int, partitions: int):
    """The peer: dbldatagen 0.4.0.post1 with the benchmark spec."""
    import dbldatagen as dg
    from pyspark.sql.types import DateType, DecimalType, LongType, StringType, TimestampType

    spec = (
        dg.DataGenerator(spark, name="orders", rows=rows, partitions=partitions, randomSeedMethod="hash_fieldname")
        .withColumn("order_id", LongType(), expr="id + 1")
        .withColumn("customer_id", LongType(), minValue=1, maxValue=100000, random=True)
        .withColumn("order_date", DateType(), expr=f"to_date('{DAY.isoformat()}')")
        .withColumn(
            "order_ts",
            TimestampType(),
            begin=f"{DAY.isoformat()} 00:00:00",
            end=f"{DAY.isoformat()} 23:59:59",
            interval="1 second",
            random=True,
        )
        .withColumn("status", StringType(), values=STATUSES, weights=STATUS_WEIGHTS, random=True)
        .withColumn("amount", DecimalType(10, 2), minValue=1.00, maxValue=999.99, step=0.01, random=True)
        .withColumn("email", StringType(), expr="concat('user', customer_id, '@example.com')", baseColumn="customer_id")
    )
    return spec.build(), rows, None


FRAMES: dict[str, Callable] = {
    "synthgen orders (full)": synthgen_orders,
    "synthgen orders (dbldatagen spec columns)": synthgen_spec,
    "dbldatagen 0.4.0.post1 (spec)": dbldatagen_spec,
}
FULL, SPEC, DBL = FRAMES
FULL_VS_SPEC = "full orders vs the spec's 7 columns"


def to_noop(df) -> None:
    """Run ``df`` to Spark's noop sink: generation without writing."""
    df.write.format("noop").mode("overwrite").save()


def to_parquet(df, path: str) -> None:
    """Write ``df`` as parquet under ``path``."""
    df.write.mode("overwrite").parquet(path)


def noop_of(df, rows: int) -> Callable[[], int]:
    """A timed case: write ``df`` to noop, return its row count."""

    def case() -> int:
        to_noop(df)
        return rows

    return case


def run_settings(spark):
    """The Spark settings of a synthgen run (a context manager): ``generation_settings`` of the package."""
    from synthgen_spark.session import generation_settings

    return generation_settings(spark)


def as_run(spark, case: Callable[[], int]) -> Callable[[], int]:
    """A timed case that builds and writes inside a synthgen run's settings, as ``api.generate`` does."""

    def wrapped() -> int:
        with run_settings(spark):
            return case()

    return wrapped


def faker_rows(rows: int) -> list[tuple]:
    """A plain Python Faker loop making the spec's columns (one thread, as such scripts usually run)."""
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(42)
    weights = OrderedDict(zip(STATUSES, [w / 100 for w in STATUS_WEIGHTS], strict=True))
    day_start = dt.datetime.combine(DAY, dt.time())
    day_end = day_start + dt.timedelta(seconds=86399)
    out = []
    for i in range(rows):
        customer_id = fake.random_int(1, 100000)
        out.append(
            (
                i + 1,
                customer_id,
                DAY,
                fake.date_time_between_dates(day_start, day_end).replace(microsecond=0),
                fake.random_element(weights),
                fake.pydecimal(left_digits=3, right_digits=2, min_value=1, max_value=999.99),
                f"user{customer_id}@example.com",
            )
        )
    return out


FAULT_RATE = 0.05


def synthgen_orders_and_items(spark, rows: int, days: int, fault_rate: float, late_rate: float = 0.0):
    """orders + order_items over ``days`` days (about ``rows`` orders in all) in one batch, as a run builds them:
    with ``fault_rate`` the dirty frames and the ``_faults`` labels of both, with ``late_rate`` late arrivals
    (max 3 days). -> [(name, frame)], rows planned."""
    from synthgen_spark.config import JobConfig
    from synthgen_spark.dirty import fault_labels_frame
    from synthgen_spark.engine import build_batch_frame
    from synthgen_spark.faults import FAULTS_TABLE
    from synthgen_spark.planner import build_plan

    cfg = JobConfig.from_mapping(
        {
            "dataset_id": "retail_oltp_small",
            "start_date": DAY.isoformat(),
            "end_date": (DAY + dt.timedelta(days=days - 1)).isoformat(),
            "batch_size": days,
            "enable_seasonal_patterns": False,
            "scale_factor": rows / 10000 / days,
            "fault_rate": fault_rate,
            "late_arrival_rate": late_rate,
        }
    )
    plan = build_plan(cfg)
    [batch] = plan.batches
    frames, planned, built = [], 0, {}
    for name in ("orders", "order_items"):
        tds = [td for td in batch.table_days if td.table.name == name]
        frames.append((name, build_batch_frame(spark, cfg, plan.dataset, tds, with_file_index=True, labels_into=built)))
        planned += sum(td.written_rows for td in tds)
    if fault_rate:
        labels = [  # the labels of orders and order_items only
            dataclasses.replace(
                td, labels_of=tuple(s for s in td.labels_of if s.table.name in ("orders", "order_items"))
            )
            for td in batch.table_days
            if td.table.name == FAULTS_TABLE and td.date >= DAY
        ]
        frames.append((FAULTS_TABLE, fault_labels_frame(spark, cfg, plan.dataset, labels, True, built)))
    return frames, planned


def synthgen_customers(spark, scale: float, days: int, changes: bool, only: str | None = None):
    """retail customers over ``days`` daily snapshots: with its change groups and the change feed, or neither.

    -> (frames: the snapshot's, plus the feed's with changes; ``only`` that table's), entity-days of the snapshot.
    """
    import dataclasses

    from synthgen_spark.catalog import load_dataset
    from synthgen_spark.config import JobConfig
    from synthgen_spark.engine import build_batch_frame
    from synthgen_spark.planner import build_plan

    dataset = load_dataset("retail_oltp_small")
    if not changes:
        tables = tuple(dataclasses.replace(t, changes=()) for t in dataset.tables)
        dataset = dataclasses.replace(dataset, tables=tables)
    cfg = JobConfig.from_mapping(
        {
            "dataset_id": "retail_oltp_small",
            "start_date": DAY.isoformat(),
            "end_date": (DAY + dt.timedelta(days=days - 1)).isoformat(),
            "batch_size": days,
            "enable_seasonal_patterns": False,
            "scale_factor": scale,
            "change_feed": changes,
        }
    )
    plan = build_plan(cfg, dataset)
    names = ("customers", "customers_changes") if changes else ("customers",)
    names = tuple(n for n in names if only in (None, n))
    frames = [
        build_batch_frame(spark, cfg, dataset, [td for td in plan.table_days if td.table.name == name])
        for name in names
    ]
    return frames, sum(td.rows for td in plan.table_days if td.table.name == "customers")
