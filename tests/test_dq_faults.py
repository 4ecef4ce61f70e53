"""Data-quality faults: the dirty run = the clean twin + exactly the labelled differences (docs/faults.md)."""

from __future__ import annotations

import csv
import datetime as dt
from functools import reduce
from pathlib import Path

import pytest

from synthgen_spark.catalog import load_dataset
from synthgen_spark.cli import main
from synthgen_spark.config import FAULT_TYPES
from synthgen_spark.faults import FAULTS_TABLE, fault_day, fault_targets
from synthgen_spark.planner import build_plan, table_day_faults

from .helpers import cell_differences, files_under, small_config

RATE = 0.05
TABLES = ("customers", "products", "orders", "order_items")
DATE_COLUMN = {"customers": "snapshot_date", "products": "snapshot_date", "orders": "order_date"}


# --- Spark-free: the selection math and the plan ---------------------------------------------------


@pytest.mark.parametrize("rows", [1, 2, 7, 100, 997, 1000])
def test_the_ranks_are_a_permutation_and_each_type_gets_its_share(tmp_path, rows):
    config = small_config(tmp_path, fault_rate=0.3)
    types = FAULT_TYPES[:4]
    day = fault_day(config, "orders", dt.date(2024, 2, 1), rows, types)
    ranks = [day.a_inv * (i - day.b) % rows for i in range(rows)]
    assert sorted(ranks) == list(range(rows))
    assert day.faulted == round(rows * 0.3) == sum(day.counts.values())
    slots = [(j * len(types) // max(day.faulted, 1) + day.rotation) % len(types) for j in range(day.faulted)]
    assert {t: slots.count(i) for i, t in enumerate(types)} == day.counts
    assert max(day.counts.values()) - min(day.counts.values()) <= 1


def test_the_faults_of_a_day_depend_on_seed_table_and_day_only(tmp_path):
    config = small_config(tmp_path, fault_rate=0.1)
    day = dt.date(2024, 2, 1)
    first = fault_day(config, "orders", day, 1000, FAULT_TYPES)
    assert first == fault_day(small_config(tmp_path, fault_rate=0.1, batch_size=1), "orders", day, 1000, FAULT_TYPES)
    others = [
        fault_day(small_config(tmp_path, fault_rate=0.1, seed_value=8), "orders", day, 1000, FAULT_TYPES),
        fault_day(config, "order_items", day, 1000, FAULT_TYPES),
        fault_day(config, "orders", day + dt.timedelta(1), 1000, FAULT_TYPES),
    ]
    assert all((o.a_inv, o.b) != (first.a_inv, first.b) for o in others)


def test_types_apply_only_where_a_table_has_such_a_column_and_never_to_keys_or_the_date(tmp_path):
    config = small_config(tmp_path, fault_rate=RATE)
    dataset = load_dataset("retail_oltp_small")
    columns = {
        t.name: {
            f: {x.column.name for x in targets if x.column} for f, targets in fault_targets(config, dataset, t).items()
        }
        for t in dataset.tables
    }
    assert columns["customers"]["malformed"] == {"email", "phone", "postcode"}
    assert columns["customers"]["out_of_range"] == {"birth_date"}
    assert columns["order_items"]["out_of_range"] == {"quantity"}
    assert columns["order_items"]["orphan_key"] == {"order_id", "product_id"}
    assert columns["orders"]["whitespace_or_case"] == {"status", "payment_method"}
    assert "malformed" not in columns["orders"] and "orphan_key" not in columns["customers"]
    assert "shipped_date" not in columns["orders"]["null"]  # null by status: not declared non-null
    for table in dataset.tables:
        touched = set().union(*columns[table.name].values())
        assert table.primary_key not in touched and table.primary_date_column not in touched
    only = small_config(tmp_path, fault_rate=RATE, fault_types="malformed,orphan_key")
    assert list(fault_targets(only, dataset, dataset.table("orders"))) == ["orphan_key"]


def test_the_plan_counts_duplicates_and_labels_and_rate_zero_plans_nothing_new(tmp_path):
    clean = build_plan(small_config(tmp_path))
    plan = build_plan(small_config(tmp_path, fault_rate=RATE))
    assert FAULTS_TABLE not in {td.table.name for td in clean.table_days}
    labels = {td.date: td.rows for td in plan.table_days if td.table.name == FAULTS_TABLE}
    faulted: dict[dt.date, int] = {}
    for td in plan.table_days:
        if td.table.name != FAULTS_TABLE:
            faults = table_day_faults(plan.config, plan.dataset, td)
            assert td.written_rows == td.rows + faults.duplicates and abs(faults.faulted - td.rows * RATE) <= 0.5
            faulted[td.date] = faulted.get(td.date, 0) + faults.faulted
    assert labels == faulted and all(labels.values())
    label_days = [td for td in plan.table_days if td.table.name == FAULTS_TABLE]
    # a labels day knows the table-days it labels (so a resumed run labels the skipped ones too)
    assert all(s.date == td.date and s.rows for td in label_days for s in td.labels_of)
    assert {s.table.name for td in label_days for s in td.labels_of} == set(TABLES)
    assert [td.rows for td in clean.table_days] == [td.rows for td in plan.table_days if td.table.name != FAULTS_TABLE]


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (["--fault-rate", "1.5"], "field 'fault_rate'"),
        (["--fault-rate", "-0.1"], "field 'fault_rate'"),
        (["--fault-rate", "lots"], "field 'fault_rate'"),
        (["--fault-types", "null,typo"], "field 'fault_types'"),
        (["--fault-types", "null,null"], "field 'fault_types'"),
        (["--fault-types", ","], "field 'fault_types'"),
    ],
)
def test_bad_fault_parameters_exit_2_with_one_line_and_write_nothing(tmp_path, monkeypatch, capsys, flags, fragment):
    monkeypatch.chdir(tmp_path)
    base = ["--dataset-id", "retail_oltp_small", "--start-date", "2024-02-01", "--end-date", "2024-02-02"]
    code = main(["generate", *base, *flags])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and fragment in err, err
    assert "allowed:" in err and files_under(tmp_path) == []


# --- Spark: one dirty CSV run against its clean twin -----------------------------------------------


@pytest.fixture(scope="module")
def dirty_run(spark, tmp_path_factory):
    """A faulted CSV run (2 days, 2% volume) and the clean twin's frames built by the engine."""
    from synthgen_spark.api import generate
    from synthgen_spark.engine import build_batch_frame

    root = tmp_path_factory.mktemp("faults")
    config = small_config(
        root, fault_rate=RATE, output_mode="csv", path_format="flat", scale_factor=0.02, end_date="2024-02-02"
    )
    report = generate(config, spark=spark)
    clean = build_plan(config.with_overrides({"fault_rate": 0.0}))
    twins = {
        name: build_batch_frame(
            spark, clean.config, clean.dataset, [td for td in clean.table_days if td.table.name == name]
        )
        for name in TABLES
    }
    return config, report, twins


def _dirty(spark, report, table):

    from .helpers import read_table

    if table != FAULTS_TABLE:
        return read_table(spark, report, table).drop("_file")
    paths = [p for r in report.results if r.table == table for p in r.paths]
    return (
        spark.read.schema(
            "`table` string, `date` date, primary_key string, `column` string, fault_type string, "
            "clean_value string, dirty_value string"
        )
        .option("header", "true")
        .csv(paths)
    )


def test_dirty_equals_clean_plus_exactly_the_labelled_cells_and_duplicates(spark, dirty_run):
    from pyspark.sql import functions as F

    config, report, twins = dirty_run
    labels = _dirty(spark, report, FAULTS_TABLE)
    dataset = load_dataset("retail_oltp_small")
    seen_types = set()
    for name in TABLES:
        spec = dataset.table(name)
        date_column = DATE_COLUMN.get(name, "order_date")
        dirty, clean = _dirty(spark, report, name), twins[name]
        mine = labels.where(F.col("table") == name).drop("fault_type")
        cells = mine.where("`column` IS NOT NULL")
        differences = cell_differences(clean, dirty, name, spec.primary_key, date_column)
        assert differences.exceptAll(cells).count() == 0, name  # no unlabelled difference
        assert cells.exceptAll(differences).count() == 0, name  # no label without a difference
        repeated = dirty.groupBy(date_column, spec.primary_key).agg(
            F.count("*").alias("n"), F.countDistinct(*dirty.columns).alias("k")
        )
        assert repeated.where("n > 2 OR k > 1").count() == 0, name  # a duplicate is an exact copy
        copies = repeated.where("n = 2").select(
            F.col(date_column).alias("date"), F.col(spec.primary_key).cast("string").alias("primary_key")
        )
        duplicates = mine.where("`column` IS NULL").select("date", "primary_key")
        assert sorted(copies.collect()) == sorted(duplicates.collect()) and duplicates.count(), name
        seen_types |= {r[0] for r in labels.where(F.col("table") == name).select("fault_type").distinct().collect()}
    assert seen_types == set(FAULT_TYPES)


def test_fault_share_matches_the_rate_and_files_match_the_plan_for_an_independent_reader(spark, dirty_run):
    config, report, _ = dirty_run
    plan = build_plan(config)
    label_rows = {td.date: td.rows for td in plan.table_days if td.table.name == FAULTS_TABLE}
    counted = dict(_dirty(spark, report, FAULTS_TABLE).groupBy("date").count().collect())
    assert {d: counted.get(d, 0) for d in label_rows} == label_rows
    padded = 0
    for td in plan.table_days:
        with Path(td.paths[0]).open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) == td.written_rows, td.paths[0]
        if td.table.name == "orders":
            padded += sum(r[c] != r[c].strip() for r in rows for c in ("status", "payment_method"))
    assert padded, "the CSV writer keeps the padding of whitespace faults"
    by_table = dict(_dirty(spark, report, FAULTS_TABLE).groupBy("table").count().collect())
    for name in TABLES:
        rows = sum(td.rows for td in plan.table_days if td.table.name == name)
        days = sum(td.table.name == name for td in plan.table_days)
        assert abs(by_table[name] - RATE * rows) <= 0.5 * days, name


def test_orphan_keys_do_not_join_and_every_other_key_does(spark, dirty_run):
    from pyspark.sql import functions as F

    _, report, _ = dirty_run
    labels = _dirty(spark, report, FAULTS_TABLE).where("fault_type = 'orphan_key'")
    parents = {"customer_id": "customers", "product_id": "products", "order_id": "orders"}
    for child, key in (("orders", "customer_id"), ("order_items", "product_id"), ("order_items", "order_id")):
        pk = "order_id" if child == "orders" else "order_item_id"
        parent = _dirty(spark, report, parents[key]).select(key).distinct()
        dirty = _dirty(spark, report, child).where(F.col(key).isNotNull())
        unmatched = dirty.join(parent, key, "left_anti").select(F.col(pk).cast("string").alias("primary_key"))
        expected = labels.where((F.col("table") == child) & (F.col("column") == key)).select("primary_key")
        assert sorted(unmatched.collect()) == sorted(expected.collect()) and expected.count(), (child, key)


def test_faults_and_labels_are_the_same_for_any_batch_size(spark, tmp_path):
    from pyspark.sql import DataFrame

    from synthgen_spark.engine import build_batch_frame

    from .helpers import assert_same

    def frames(batch_size: int):
        config = small_config(tmp_path, fault_rate=0.2, scale_factor=0.01, batch_size=batch_size, end_date="2024-02-02")
        plan = build_plan(config)
        orders, labels = [], []
        for batch in plan.batches:
            tds = [td for td in batch.table_days if td.table.name == "orders"]
            orders.append(build_batch_frame(spark, plan.config, plan.dataset, tds))
            labels.append(build_batch_frame(spark, plan.config, plan.dataset, tds, labels=True))
        return reduce(DataFrame.unionByName, orders), reduce(DataFrame.unionByName, labels)

    (orders_1, labels_1), (orders_2, labels_2) = frames(1), frames(2)
    assert_same(orders_1, orders_2, "orders")
    assert labels_1.exceptAll(labels_2).union(labels_2.exceptAll(labels_1)).count() == 0 and labels_2.count()


def test_tasks_with_a_padding_file_give_the_same_dirty_rows_copies_and_labels(spark, tmp_path):
    """3 days in 2 tasks: the range holds a 4th, empty file, whose rows meet the pushed-down label and copy filters.

    Its facts are the last file's, so those filters stay within their lookup arrays (Spark may evaluate a
    lookup before the filter that drops the padding file), and the data is the data of 3 tasks.
    """
    from synthgen_spark.engine import FILE_INDEX, build_batch_frame

    from .helpers import assert_same

    config = small_config(tmp_path, fault_rate=0.2, scale_factor=0.01, batch_size=3, end_date="2024-02-03")
    plan = build_plan(config)
    tds = [td for td in plan.table_days if td.table.name == "orders"]
    assert len(tds) == 3 and table_day_faults(config, plan.dataset, tds[0]).duplicates > 0

    def frames(tasks: int):
        labels = {}
        frame = build_batch_frame(
            spark, plan.config, plan.dataset, tds, with_file_index=True, tasks=tasks, labels_into=labels
        )
        return frame, labels["orders"][1]

    (padded, padded_labels), (whole, whole_labels) = frames(2), frames(3)
    assert padded.rdd.getNumPartitions() == 2
    assert padded.select(FILE_INDEX).distinct().count() == 3 and FILE_INDEX not in whole.columns
    assert_same(padded.drop(FILE_INDEX), whole, "orders")
    assert padded_labels.exceptAll(whole_labels).union(whole_labels.exceptAll(padded_labels)).count() == 0
    assert whole_labels.count()


def test_a_day_in_several_files_has_the_same_faults_and_keeps_each_copy_in_its_originals_file(spark, tmp_path):
    """chunk_size splits a day into files: the same rows, faults and labels, each copy in its original's file."""
    from pyspark.sql import functions as F

    from synthgen_spark.api import generate

    from .helpers import read_table

    def run(folder: str, **chunks):
        config = small_config(
            tmp_path / folder, fault_rate=0.1, fault_types=["duplicate_row", "null"], end_date="2024-02-02", **chunks
        )
        return config, generate(config, spark=spark, progress=None)

    config, report = run("chunked", chunk_size=150)
    _, whole = run("whole")
    orders = read_table(spark, report, "orders")
    written = {r["_file"].removeprefix("file:"): r["count"] for r in orders.groupBy("_file").count().collect()}
    plan = build_plan(config)
    for td in (t for t in plan.table_days if t.table.name == "orders"):
        faults = table_day_faults(config, plan.dataset, td)
        slot = (list(faults.counts).index("duplicate_row") - faults.rotation) % len(faults.counts)
        start = -(-slot * faults.faulted // len(faults.counts))  # the first rank of the duplicate_row type
        places = [(faults.a * (start + j) + faults.b) % td.rows for j in range(faults.duplicates)]
        bounds = [td.rows * i // td.partitions for i in range(td.partitions + 1)]
        expected = [hi - lo + sum(lo <= p < hi for p in places) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
        assert td.partitions > 1 and faults.duplicates > 0
        assert [written[path] for path in td.target.files] == expected  # each file: its rows and their copies
    pairs = orders.groupBy("order_id").agg(F.count("*").alias("n"), F.countDistinct("_file").alias("files"))
    assert pairs.where("n > 2 OR files > 1").count() == 0  # a copy is in its original's file
    for table in ("orders", FAULTS_TABLE):  # chunk_size changes the files, never the data
        split, one = (
            spark.read.parquet(*[p for x in r.results if x.table == table for p in x.paths]) for r in (report, whole)
        )
        assert split.exceptAll(one).count() == 0 and one.exceptAll(split).count() == 0, table
