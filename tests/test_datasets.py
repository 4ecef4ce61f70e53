"""The dataset catalog: every built-in dataset and the example user dataset, 14 days each in CSV and parquet, read back.

Primary keys are unique, foreign keys join the snapshot in force, child rows sit under a parent of the
same day, date columns are in order, each file holds its own date, star facts find their date_key in
dim_date, and domain rules hold. Invalid user datasets exit 2 with one line naming the file, table,
column and field, and write nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cached_property, reduce
from pathlib import Path

import pytest
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from synthgen_spark.api import generate
from synthgen_spark.calendar import Calendar, base_rows, snapshot_in_force
from synthgen_spark.catalog import DatasetSpec, TableSpec, builtin_dataset_ids, load_dataset
from synthgen_spark.changes import affected_columns
from synthgen_spark.cli import main
from synthgen_spark.config import JobConfig, load_config_file
from synthgen_spark.engine import table_ddl
from synthgen_spark.planner import build_plan
from synthgen_spark.verify import declared_targets

REPO = Path(__file__).resolve().parent.parent
IOT_DATASET = REPO / "conf" / "datasets" / "iot_sensors.yaml"
IOT_JOB = REPO / "conf" / "jobs" / "iot_sensors_demo.yaml"
BAD_DATASETS = Path(__file__).resolve().parent / "data" / "bad_datasets"
DAYS = 14
SUMMER = "2024-06-24"  # two Mondays, Jul 1 (a month and a quarter start), Jul 4 (a US holiday)
EPOCH = "2020-01-01"  # star schemas start on the epoch, the day dim_date (3653 days, scaled: false) is written


@dataclass(frozen=True)
class Case:
    """How a dataset is generated here: at most a few hundred rows per table per day (the large ones a few thousand)."""

    scale_factor: float
    start_date: str
    dataset_path: str | None = None
    rules: dict[str, tuple[str, ...]] = field(default_factory=dict)  # table -> SQL conditions no row may meet


RETAIL_OLTP_RULES = {
    "customers": (
        "birth_date >= signup_date",
        "months_between(signup_date, birth_date) < 12 * 18",
        "(status = 'churned') != (churn_date IS NOT NULL)",
    ),
    "products": ("cost >= price", "cost <= 0"),
    "orders": (
        "(status IN ('SHIPPED', 'DELIVERED')) != (shipped_date IS NOT NULL)",
        "(status = 'DELIVERED') != (delivered_date IS NOT NULL)",
        "to_date(order_ts) != order_date",
    ),
    "order_items": ("line_total != quantity * unit_price",),
}
RETAIL_STAR_RULES = {
    "dim_customer": (
        "birth_date >= registration_date",
        "months_between(registration_date, birth_date) < 12 * 18",
        "(customer_status = 'churned') != (churn_date IS NOT NULL)",
    ),
    "dim_product": ("unit_cost >= list_price", "unit_cost <= 0", "is_active = (discontinued_date IS NOT NULL)"),
    "dim_store": ("square_feet < 2500", "store_name != concat(city, ' ', store_format)"),
    "dim_date": (
        "date_key != cast(date_format(full_date, 'yyyyMMdd') AS int)",
        "is_weekend != (day_of_week >= 6)",
        "year != year(full_date) OR month != month(full_date)",
    ),
    "fact_sales": (
        "date_key != cast(date_format(sale_date, 'yyyyMMdd') AS int)",
        "to_date(sale_ts) != sale_date",
        "unit_cost >= unit_price",
        "net_amount != gross_amount - discount_amount",
        "net_amount <= cost_amount",
        "sales_channel != 'In-Store' AND payment_method = 'cash'",
    ),
    "fact_inventory": (
        "date_key != cast(date_format(inventory_date, 'yyyyMMdd') AS int)",
        "(stock_status = 'OUT_OF_STOCK') != (quantity_on_hand = 0)",
        "quantity_received > 0 AND last_received_date != inventory_date",
        "inventory_value != quantity_on_hand * unit_cost",
    ),
    "dim_supplier": ("rating < 1 OR rating > 5",),
}
CASES = {
    "retail_oltp_small": Case(0.01, SUMMER, rules=RETAIL_OLTP_RULES),
    "retail_oltp_large": Case(0.001, SUMMER, rules=RETAIL_OLTP_RULES),
    "retail_star_small": Case(0.004, EPOCH, rules=RETAIL_STAR_RULES),
    "retail_star_large": Case(0.004, EPOCH, rules=RETAIL_STAR_RULES),
    "finance_oltp_small": Case(
        0.005,
        SUMMER,
        rules={
            "customers": ("birth_date >= customer_since", "credit_score NOT BETWEEN 300 AND 850"),
            "account_types": ("account_type_name IS NULL OR interest_rate_pct IS NULL",),
            "accounts": (
                "(status = 'CLOSED') != (closed_date IS NOT NULL)",
                "status = 'CLOSED' AND current_balance != 0",
                "opened_date > snapshot_date",
                "closed_date > snapshot_date",
                "(credit_limit IS NOT NULL) != (pmod(account_type_id - 1, 8) = 5)",
            ),
            "transactions": (
                "(status IN ('POSTED', 'REVERSED')) != (posted_date IS NOT NULL)",
                "amount <= 0",
                "signed_amount != CASE WHEN direction = 'CREDIT' THEN amount ELSE -amount END",
                "(transaction_type = 'CARD_PURCHASE') != (merchant_name IS NOT NULL)",
                "to_date(transaction_ts) != transaction_date",
                "(channel = 'ATM') != (transaction_type = 'ATM_WITHDRAWAL')",
            ),
        },
    ),
    "ecommerce_star_small": Case(
        0.004,
        EPOCH,
        rules={
            "dim_customer": (
                "birth_date >= registration_date",
                "(customer_status = 'churned') != (churn_date IS NOT NULL)",
            ),
            "dim_product": ("unit_cost >= list_price",),
            "dim_date": ("date_key != cast(date_format(full_date, 'yyyyMMdd') AS int)",),
            "dim_session": ("browser = 'Safari' AND operating_system IN ('Windows', 'Android')",),
            "fact_web_events": (
                "(event_type IN ('product_view', 'add_to_cart', 'remove_from_cart', 'purchase')) != (product_key IS NOT NULL)",
                "(event_type = 'search') != (search_term IS NOT NULL)",
                "to_date(event_ts) != event_date",
            ),
            "fact_orders": (
                "order_total != subtotal - discount_amount + shipping_fee + tax_amount",
                "(status IN ('SHIPPED', 'DELIVERED', 'RETURNED')) != (shipped_date IS NOT NULL)",
                "(status IN ('DELIVERED', 'RETURNED')) != (delivered_date IS NOT NULL)",
                "(discount_pct > 0) != (coupon_code IS NOT NULL)",
            ),
        },
    ),
    "healthcare_oltp_small": Case(
        0.02,
        SUMMER,
        rules={
            "patients": (
                "birth_date > registration_date",
                "(patient_status = 'inactive') != (inactive_date IS NOT NULL)",
                "insurance_type = 'Medicare' AND add_months(birth_date, 780) > snapshot_date",  # Medicare from 65
                "add_months(birth_date, 780) <= snapshot_date AND inactive_date IS NULL"
                " AND insurance_type NOT IN ('Medicare', 'Self-pay')",
                "(insurance_type = 'Self-pay') != (payer_name IS NULL)",
            ),
            "providers": ("(employment_status = 'terminated') != (termination_date IS NOT NULL)",),
            "appointments": (
                "(status = 'COMPLETED') != (check_in_ts IS NOT NULL)",
                "(status IN ('CANCELLED', 'RESCHEDULED')) != (cancelled_date IS NOT NULL)",
                "check_in_ts > start_ts OR start_ts >= end_ts",
                "to_date(scheduled_ts) != appointment_date OR hour(scheduled_ts) NOT BETWEEN 8 AND 16",
            ),
            "diagnoses": ("(diagnosis_sequence = 1) != (diagnosis_rank = 'PRIMARY')",),
            "prescriptions": ("(status = 'FILLED') != (filled_date IS NOT NULL)", "is_controlled AND refills > 0"),
        },
    ),
    "iot_sensors": Case(
        0.005,
        SUMMER,
        dataset_path=str(IOT_DATASET),
        rules={
            "devices": ("(status = 'RETIRED') != (retired_date IS NOT NULL)", "latitude NOT BETWEEN 25 AND 49"),
            "readings": (
                "temperature_f != round(temperature_c * 9 / 5 + 32, 2)",
                "quality_flag = 'OK' AND error_code IS NOT NULL",
                "device_type = 'temperature' AND coalesce(humidity_pct, pressure_hpa, co2_ppm) IS NOT NULL",
                "device_type = 'multi_sensor' AND pressure_hpa IS NULL",
                "to_date(reading_ts) != reading_date",
            ),
        },
    ),
}
# every dataset as CSV (nested day folders) and as parquet (flat files)
RUNS = [(name, mode) for mode in ("csv", "parquet") for name in CASES]


class Generated:
    """One dataset generated for 14 days in one format, every table read back (cached).

    The checks run as two Spark jobs per dataset: ``row_counts`` (one aggregate per table: rows, key
    duplicates, rows breaking each row rule) and ``join_counts`` (offending rows of every join check).
    """

    def __init__(self, spark, name: str, mode: str, root: Path) -> None:
        case = CASES[name]
        start = dt.date.fromisoformat(case.start_date)
        self.spark, self.name, self.case = spark, name, case
        self.config = JobConfig.from_mapping(
            {
                "job_name": "t",
                "dataset_id": name,
                "dataset_path": case.dataset_path,
                "start_date": start,
                "end_date": start + dt.timedelta(days=DAYS - 1),
                "batch_size": DAYS,
                "scale_factor": case.scale_factor,
                "seed_value": 11,
                "output_mode": mode,
                "path_format": "nested" if mode == "csv" else "flat",
                "output_root": str(root),
            }
        )
        self.dataset: DatasetSpec = load_dataset(name, case.dataset_path)
        self.report = generate(self.config, spark, progress=None)
        self.frames = {t.name: self._read(t).cache() for t in self.dataset.tables}

    def _read(self, table: TableSpec) -> DataFrame:
        paths = [p for r in self.report.results if r.table == table.name for p in r.paths]
        if self.config.output_mode == "csv":
            reader = self.spark.read.schema(table_ddl(table)).options(header="true", enforceSchema="false")
            frame = reader.option("timestampFormat", "yyyy-MM-dd HH:mm:ss").csv(paths)
        else:
            frame = self.spark.read.parquet(*paths)
        return frame.withColumn("_file", F.col("_metadata.file_path"))

    def dates(self, table: str) -> list[dt.date]:
        """The dates the run wrote ``table`` for."""
        return sorted({r.date for r in self.report.results if r.table == table})

    def in_force(self, snapshot: TableSpec, table: TableSpec) -> list[tuple[dt.date, dt.date]]:
        """(date of ``table``'s rows, date of ``snapshot``'s snapshot in force then) for every date of ``table``."""
        return [(d, snapshot_in_force(snapshot.frequency, d, self.dataset.epoch)) for d in self.dates(table.name)]

    def _with_snapshot(self, table: TableSpec, snapshot: TableSpec) -> DataFrame:
        """``table``'s rows with ``_snapshot``: the date of ``snapshot``'s snapshot in force on each row's date."""
        pairs = self.spark.createDataFrame(self.in_force(snapshot, table), "_day date, _snapshot date")
        rows = self.frames[table.name]
        return rows.join(F.broadcast(pairs), rows[table.primary_date_column] == pairs["_day"]).drop("_day")

    def row_rules(self, table: TableSpec) -> dict[str, Column]:
        """Conditions no row may meet: domain rules, date order, file date (and dim_date's range)."""
        rules = {f"domain: {rule}": F.expr(rule) for rule in self.case.rules.get(table.name, ())}
        for i, first in enumerate(table.date_columns):
            for later in table.date_columns[i + 1 :]:
                rules[f"order: {first} > {later}"] = F.col(first) > F.col(later)
        day_in_path = F.regexp_extract("_file", r"(\d{4})/?(\d{2})/?(\d{2})/?(data)?\.|(\d{8})\.", 0)
        file_day = F.regexp_replace(day_in_path, "[^0-9]", "")
        rules["file date"] = F.date_format(table.primary_date_column, "yyyyMMdd") != file_day
        if table.name == "dim_date":
            last = self.dataset.epoch + dt.timedelta(days=base_rows(table, self.case.scale_factor) - 1)
            rules["dim_date: full_date outside the epoch..last day"] = ~F.col("full_date").between(
                F.lit(self.dataset.epoch), F.lit(last)
            )
        return rules

    @cached_property
    def row_counts(self) -> dict[str, dict[str, int]]:
        """Per table: ``rows``, ``key duplicates`` (repeated or null primary keys) and rows breaking each row rule."""
        parts = []
        for table in self.dataset.tables:
            keys = [table.primary_key] + ([table.primary_date_column] if table.kind == "snapshot" else [])
            metrics = {"rows": F.count("*"), "key duplicates": F.count("*") - F.count_distinct(*map(F.col, keys))}
            metrics |= {name: F.sum(F.when(cond, 1).otherwise(0)) for name, cond in self.row_rules(table).items()}
            agg = self.frames[table.name].agg(*[m.cast("long").alias(f"m{i}") for i, m in enumerate(metrics.values())])
            pairs = [F.struct(F.lit(n).alias("metric"), F.col(f"m{i}").alias("n")) for i, n in enumerate(metrics)]
            parts.append(agg.select(F.lit(table.name).alias("table"), F.inline(F.array(*pairs))))
        out: dict[str, dict[str, int]] = {t.name: {} for t in self.dataset.tables}
        for row in reduce(DataFrame.unionByName, parts).collect():
            out[row["table"]][row["metric"]] = row["n"] or 0
        return out

    def join_checks(self) -> dict[str, DataFrame]:
        """Every join check as the DataFrame of its offending rows, by label (``kind: what``)."""
        checks: dict[str, DataFrame] = {}
        for table, column, snapshot in foreign_keys(self.dataset):
            rows = self._with_snapshot(table, snapshot).where(F.col(column).isNotNull())
            lifecycle = {c.kind: c.name for c in snapshot.output_columns if c.kind.startswith("lifecycle_")}
            keys = self.frames[snapshot.name].select(
                F.col(snapshot.primary_key).alias(column),
                F.col(snapshot.primary_date_column).alias("_snapshot"),
                F.lit(True).alias("_found"),
                F.col(lifecycle.get("lifecycle_start", snapshot.primary_date_column)).alias("_start"),
                (F.col(lifecycle["lifecycle_end"]) if "lifecycle_end" in lifecycle else F.lit(None)).alias("_end"),
            )
            # the key exists in the snapshot in force, and that entity had started and not churned by then
            joined = rows.join(keys, [column, "_snapshot"], "left")
            day = F.col(table.primary_date_column)
            checks[f"foreign key: {table.name}.{column} -> {snapshot.name}"] = joined.where(
                F.col("_found").isNull() | (F.col("_start") > day) | F.col("_end").isNotNull()
            )
        for table in self.dataset.tables:
            for col in table.output_columns:
                target = self.dataset.table(col.params["references"].split(".")[0]) if col.kind == "lookup" else None
                source = col.params["references"].split(".")[1] if target else ""
                if target is None or target.column(source).hidden:
                    continue
                values = self.frames[target.name].select(
                    F.col(target.primary_key).alias(col.params["key"]),
                    F.col(target.primary_date_column).alias("_snapshot"),
                    F.col(source).alias("_expected"),
                )
                joined = self._with_snapshot(table, target).join(values, [col.params["key"], "_snapshot"], "left")
                if any(source in affected_columns(target, g) for g in target.changes):
                    # a changing value is the one in force on the row's date (test_change_feed checks every day)
                    joined = joined.where(F.col("_snapshot") == F.col(table.primary_date_column))
                checks[f"lookup: {table.name}.{col.name} != {target.name}.{source}"] = joined.where(
                    ~F.col(col.name).eqNullSafe(F.col("_expected"))
                )
        for child in self.dataset.tables:
            if child.parent is None:
                continue
            parent = self.dataset.table(child.parent)
            key = next(c.name for c in child.columns if c.kind == "parent_key")
            line = next((c.name for c in child.output_columns if c.kind == "line_number"), None)
            kids = self.frames[child.name].select(
                F.col(key).alias("_parent"), F.col(child.primary_date_column).alias("_day"), *([line] if line else [])
            )
            parents = self.frames[parent.name].select(
                F.col(parent.primary_key).alias("_parent"), F.col(parent.primary_date_column).alias("_day"), "*"
            )
            checks[f"child: {child.name} rows without a {parent.name} row of their day"] = kids.join(
                parents, ["_parent", "_day"], "left_anti"
            )
            checks[f"child: {parent.name} rows without {child.name}"] = parents.join(
                kids, ["_parent", "_day"], "left_anti"
            )
            per_parent = kids.groupBy("_parent").agg(
                F.count("*").alias("_n"), *([F.min(line).alias("_first"), F.max(line).alias("_last")] if line else [])
            )
            if line:
                checks[f"child: {child.name}.{line} is not 1..n within its parent"] = per_parent.where(
                    "_first != 1 OR _last != _n"
                )
            for col in parent.output_columns:
                if col.kind == "child_count" and col.params["child"] == child.name:
                    checks[f"child: {parent.name}.{col.name} != rows of {child.name}"] = parents.join(
                        per_parent, "_parent"
                    ).where(F.col(col.name) != F.col("_n"))
        if "dim_date" in self.frames:
            dim = self.frames["dim_date"].select("date_key")
            for fact in self.dataset.tables:
                if fact.name != "dim_date" and "date_key" in fact.column_names:
                    checks[f"dim_date: {fact.name}.date_key not in dim_date"] = self.frames[fact.name].join(
                        dim, "date_key", "left_anti"
                    )
        return checks

    @cached_property
    def join_counts(self) -> dict[str, int]:
        """Offending rows per join check (one Spark job for all of them)."""
        checks = self.join_checks()
        labelled = [frame.select(F.lit(label).alias("check")) for label, frame in checks.items()]
        counts = {label: 0 for label in checks}
        if labelled:
            for row in reduce(DataFrame.unionByName, labelled).groupBy("check").count().collect():
                counts[row["check"]] = row["count"]
        return counts

    def broken(self, prefix: str) -> dict[str, int]:
        """Checks whose name starts with ``prefix`` that found offending rows (row checks as ``table: name``)."""
        found = {
            f"{t}: {m}": n for t, metrics in self.row_counts.items() for m, n in metrics.items() if m.startswith(prefix)
        }
        found |= {label: n for label, n in self.join_counts.items() if label.startswith(prefix)}
        return {label: n for label, n in found.items() if n}

    def close(self) -> None:
        for frame in self.frames.values():
            frame.unpersist()


@pytest.fixture(scope="module", params=RUNS, ids=[f"{name}-{mode}" for name, mode in RUNS])
def run(request, spark, tmp_path_factory):
    name, mode = request.param
    generated = Generated(spark, name, mode, tmp_path_factory.mktemp(f"{name}_{mode}"))
    yield generated
    generated.close()


def foreign_keys(dataset: DatasetSpec):
    """(table, column, referenced snapshot) for every output column holding a snapshot's key.

    A foreign_key column, or any column named like a snapshot's primary key (lookups and derived
    copies such as fact_web_events.customer_key): facts and dimensions share key names.
    """
    by_key = {t.primary_key: t for t in dataset.tables if t.kind == "snapshot"}
    for table in dataset.tables:
        for col in table.output_columns:
            if col.kind == "foreign_key":
                yield table, col.name, dataset.table(col.params["references"].split(".")[0])
            elif col.name in by_key and by_key[col.name] is not table:
                yield table, col.name, by_key[col.name]


def test_every_built_in_dataset_is_covered():
    assert set(builtin_dataset_ids()) <= set(CASES), "add the new dataset to CASES"


def test_every_table_is_written_with_the_planned_rows(run):
    rows = run.report.rows_by_table()
    assert list(rows) == [t.name for t in run.dataset.tables]
    for table in run.dataset.tables:
        assert run.row_counts[table.name]["rows"] == rows[table.name] > 0, table.name
        if table.kind == "incremental":
            assert run.dates(table.name) == run.config.dates, table.name
            assert rows[table.name] <= DAYS * 5000, f"{table.name}: too many rows for a fast test"


def test_primary_keys_are_unique(run):
    assert not run.broken("key duplicates")


def test_foreign_keys_join_the_snapshot_in_force(run):
    for table, _, snapshot in foreign_keys(run.dataset):
        needed = {in_force for _, in_force in run.in_force(snapshot, table)}
        assert needed <= set(run.dates(snapshot.name)), f"{snapshot.name}: a snapshot in force was not written"
    assert any(label.startswith("foreign key:") for label in run.join_counts)
    assert not run.broken("foreign key:")


def test_lookups_copy_the_referenced_value(run):
    assert not run.broken("lookup:")


def test_child_rows_belong_to_a_parent_of_the_same_day(run):
    assert not run.broken("child:")


def test_date_columns_are_in_order(run):
    assert not run.broken("order:")


def test_primary_date_column_is_the_file_date(run):
    assert not run.broken("file date")


def test_domain_rules_hold(run):
    assert not run.broken("domain:")


def test_declared_targets_hold_or_are_not_judged(run):
    """``synthgen verify``'s judge of each table's declared targets (docs/verify.md#targets) on the written rows."""
    checks = [check for t in run.dataset.tables for check in declared_targets(t, run.frames[t.name])]
    assert all(check.ok for check in checks), [(c.subject, c.detail) for c in checks if not c.ok]
    if run.dataset.dataset_id == "healthcare_oltp_small":  # an invariant (min_rows: 1) is judged at any size
        assert [c.detail.split(" ")[0] for c in checks] == ["0.000"]


def test_star_fact_date_keys_exist_in_dim_date(run):
    if "dim_date" not in run.frames:  # not a star schema: then no table has a date key to join
        assert not [t.name for t in run.dataset.tables if "date_key" in t.column_names]
        return
    dim_date = run.dataset.table("dim_date")
    assert not dim_date.scaled  # the whole calendar at any scale_factor
    assert run.row_counts["dim_date"]["rows"] == dim_date.rows == 3653
    assert any(label.startswith("dim_date:") for label in run.join_counts)
    assert not run.broken("dim_date:")


@pytest.mark.parametrize("name", ["retail_star_small", "retail_star_large", "ecommerce_star_small"])
@pytest.mark.parametrize("scale_factor", [0.004, 1, 25])
def test_dim_date_keeps_its_ten_years_at_any_scale_factor(name, scale_factor):
    config = JobConfig.from_mapping(
        {"dataset_id": name, "start_date": "2024-06-24", "end_date": "2024-06-24", "scale_factor": scale_factor}
    )
    dataset = load_dataset(name)
    assert Calendar(dataset, config).population(dataset.table("dim_date"), config.start_date) == 3653


def _volumes(spec: DatasetSpec) -> dict[str, int]:
    return {t.name: t.rows for t in spec.tables}


def _without_volumes(spec: DatasetSpec, tables: list[str]) -> list:
    return [dataclasses.replace(spec.table(name), rows=0, description="") for name in tables]


@pytest.mark.parametrize(
    ("small", "large"), [("retail_oltp_small", "retail_oltp_large"), ("retail_star_small", "retail_star_large")]
)
def test_large_is_small_at_ten_times_the_volume(small, large):
    s, big = load_dataset(small), load_dataset(large)
    shared = [t.name for t in s.tables]
    assert [t.name for t in big.tables if t.name in shared] == shared
    for mine, theirs in zip(_without_volumes(s, shared), _without_volumes(big, shared), strict=True):
        assert mine == theirs, f"{large}.{mine.name} differs from {small}.{mine.name} beyond its rows"
    assert s.weekday_multipliers == big.weekday_multipliers and s.epoch == big.epoch
    for name in shared:
        factor = 10 if s.table(name).scaled else 1  # scaled: false (dim_date, a calendar) does not grow with volume
        assert _volumes(big)[name] == factor * _volumes(s)[name], name


def test_iot_job_file_uses_the_dataset_file_relative_to_the_current_directory(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(REPO)
    plan = build_plan(load_config_file(IOT_JOB.relative_to(REPO)))
    assert plan.dataset.dataset_id == "iot_sensors" and [t.name for t in plan.dataset.tables] == ["devices", "readings"]
    monkeypatch.chdir(tmp_path)  # elsewhere the relative dataset_path does not resolve: exit 2, one line
    assert main(["plan", "--config", str(IOT_JOB)]) == 2
    err = capsys.readouterr().err.strip()
    assert "field 'dataset_path': cannot read dataset file" in err and "conf/datasets/iot_sensors.yaml" in err
    assert len(err.splitlines()) == 1


def _bad_dataset_params():
    params = []
    for path in sorted(BAD_DATASETS.glob("*.yaml")):
        gap = re.search(r"^# gap: (.+)$", path.read_text(), re.MULTILINE)
        # strict: once the catalog catches a known gap, the run fails until its '# gap:' line is removed
        marks = [pytest.mark.xfail(reason=gap.group(1), strict=True)] if gap else []
        params.append(pytest.param(path, marks=marks, id=path.stem))
    return params


def test_there_are_at_least_ten_invalid_dataset_files_the_catalog_catches():
    caught = [p for p in BAD_DATASETS.glob("*.yaml") if "# gap:" not in p.read_text()]
    assert len(caught) >= 10


@pytest.mark.parametrize("path", _bad_dataset_params())
def test_invalid_dataset_file_exits_2_naming_file_table_column_and_field(spark, tmp_path, capsys, path):
    expect = re.search(r"^# expect: (.+)$", path.read_text(), re.MULTILINE).group(1)
    out = tmp_path / "out"
    argv = ["generate", "--dataset-file", str(path), "--dataset-id", "x", "--start-date", "2024-06-03"]
    code = main([*argv, "--end-date", "2024-06-04", "--output-root", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"synthgen: error: {path}: "), err
    for fragment in re.findall(r"(?:table|column|field) '[^']+'", expect):
        assert fragment in err, f"{fragment} not in: {err}"
    assert not out.exists() or not any(out.rglob("*"))
