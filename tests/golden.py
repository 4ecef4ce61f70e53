"""Golden data checksums: a fixed small job's per-table content hashes, the same on Spark 3.5 and 4.x.

Regenerate after a deliberate generator change (and note it in CHANGELOG.md) with::

    .venv/bin/python -m tests.golden
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from pyspark.sql import functions as F

GOLDEN_FILE = Path(__file__).parent / "golden" / "checksums.json"
GOLDEN_JOB = {
    "job_name": "golden",
    "dataset_id": "retail_oltp_small",
    "start_date": "2024-02-26",
    "end_date": "2024-03-03",
    "seed_value": 20240101,
    "scale_factor": 0.01,
    "batch_size": 7,
    "change_feed": True,
    "history": True,
}
ORDER = {
    "customers": ["snapshot_date", "customer_id"],
    "products": ["snapshot_date", "product_id"],
    "orders": ["order_id"],
    "order_items": ["order_item_id"],
    "customers_changes": ["change_seq"],
    "products_changes": ["change_seq"],
    "orders_changes": ["change_seq"],  # the orders' status steps (facts that progress)
    "customers_history": ["snapshot_date", "history_key"],
    "products_history": ["snapshot_date", "history_key"],
}


# the same days with late arrivals (docs/lateness.md): rows move between files, arrival_date is added
LATE_JOB = {**GOLDEN_JOB, "change_feed": False, "history": False, "late_arrival_rate": 0.2, "max_late_days": 2}
LATE_ORDER = {"orders": ["arrival_date", "order_id"], "order_items": ["arrival_date", "order_item_id"]}
# one faulted configuration (docs/faults.md): its dirty tables and labels, under "faulted/{table}"
GOLDEN_FAULTS_JOB = {**GOLDEN_JOB, "change_feed": False, "history": False, "fault_rate": 0.05}
FAULTED_ORDER = {
    "customers": ["snapshot_date", "customer_id"],
    "orders": ["order_id"],
    "order_items": ["order_item_id"],
    "_faults": ["table", "date", "primary_key"],
}
# faults on late tables (docs/faults.md): the late job's days with fault_rate, under "late_faulted/{table}"
LATE_FAULTS_JOB = {**LATE_JOB, "fault_rate": 0.05}
LATE_FAULTED_ORDER = {**LATE_ORDER, "_faults": ["table", "date", "primary_key"]}
# finance over a Monday: balances that are a running sum, the transactions' sweeps (docs/data-model.md#balances)
FINANCE_JOB = {
    **GOLDEN_JOB,
    "dataset_id": "finance_oltp_small",
    "start_date": "2024-03-01",
    "end_date": "2024-03-05",
    "change_feed": False,
    "history": False,
}
FINANCE_ORDER = {"accounts": ["snapshot_date", "account_id"], "transactions": ["transaction_id"]}


# every pinned configuration: its name, the prefix of its checksums' keys, the job and its tables
CONFIGURATIONS = {
    "golden": ("", GOLDEN_JOB, ORDER),
    "late": ("late_", LATE_JOB, LATE_ORDER),
    "faulted": ("faulted/", GOLDEN_FAULTS_JOB, FAULTED_ORDER),
    "late_faulted": ("late_faulted/", LATE_FAULTS_JOB, LATE_FAULTED_ORDER),
    "finance": ("finance/", FINANCE_JOB, FINANCE_ORDER),
}


def table_checksums(spark, names: tuple[str, ...] = tuple(CONFIGURATIONS)) -> dict[str, str]:
    """sha256 over every row of every table of the named configurations (sorted by key; timestamps in UTC)."""
    sums = {}
    for name in names:
        prefix, job, order = CONFIGURATIONS[name]
        sums.update({f"{prefix}{t}": digest for t, digest in job_checksums(spark, job, order).items()})
    return sums


def job_checksums(spark, job: dict, order: dict[str, list[str]]) -> dict[str, str]:
    """The checksums of ``order``'s tables of one job, each generated as one batch over the job's days."""
    from synthgen_spark.config import JobConfig
    from synthgen_spark.dirty import fault_labels_frame
    from synthgen_spark.engine import build_batch_frame
    from synthgen_spark.planner import build_plan

    plan = build_plan(JobConfig.from_mapping(job))
    sums = {}
    for table, keys in order.items():
        table_days = [td for td in plan.table_days if td.table.name == table]
        if table == "_faults":
            frame = fault_labels_frame(spark, plan.config, plan.dataset, table_days, False)
        else:
            frame = build_batch_frame(spark, plan.config, plan.dataset, table_days)
        columns = [
            F.date_format(f.name, "yyyy-MM-dd HH:mm:ss").alias(f.name)
            if f.dataType.typeName() == "timestamp"
            else F.col(f.name)
            for f in frame.schema.fields
        ]
        digest = hashlib.sha256()
        for row in frame.select(*columns).orderBy(*keys).collect():
            digest.update(("|".join(repr(v) for v in row) + "\n").encode())
        sums[table] = digest.hexdigest()
    return sums


def main(argv: list[str]) -> int:
    """Write the checksums to GOLDEN_FILE; with ``--print [NAME ...]``, print those configurations' as JSON.

    The session is the local one, or the Spark Connect server named by ``SPARK_REMOTE``.
    """
    from synthgen_spark.session import get_or_create_session

    spark = get_or_create_session(master="local[2]")
    if argv[:1] == ["--print"]:
        print(json.dumps(table_checksums(spark, tuple(argv[1:]) or tuple(CONFIGURATIONS)), sort_keys=True))
        return 0
    GOLDEN_FILE.write_text(json.dumps(table_checksums(spark), indent=2, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
