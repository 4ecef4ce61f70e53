"""Helpers shared by the test modules (no test module imports another): job configs, reading output back.

Spark-side imports are inside the helpers that need them, so Spark-free tests import this module without pyspark.
"""

from __future__ import annotations

from pathlib import Path

from synthgen_spark.config import JobConfig
from synthgen_spark.planner import build_plan

FEB_JOB = Path(__file__).resolve().parent.parent / "conf" / "jobs" / "test_feb_2024.yaml"
# HotSpot flag for every Spark JVM the tests start (tests/conftest.py): less JIT compiling, the same results
JIT_OPTS = "-XX:CompileThresholdScaling=10"


def small_config(tmp_path: Path, **overrides) -> JobConfig:
    """A quick retail_oltp_small job (5% volume) writing under ``tmp_path``.

    A week per batch: a test's few days cost one Spark job per table, not one per table per day
    (tests about batches set ``batch_size`` themselves; the CLI and crash tests run daily batches).
    """
    values = {
        "job_name": "t",
        "dataset_id": "retail_oltp_small",
        "start_date": "2024-02-01",
        "end_date": "2024-02-03",
        "batch_size": 7,
        "seed_value": 7,
        "scale_factor": 0.05,
        "output_mode": "parquet",
        "path_format": "nested",
        "output_root": str(tmp_path),
    }
    values.update(overrides)
    return JobConfig.from_mapping(values)


def read_table(spark, report, table: str):
    """Read every file a run wrote for ``table`` back, with exact types and a ``_file`` column."""
    from pyspark.sql import functions as F

    from synthgen_spark.catalog import load_dataset
    from synthgen_spark.engine import table_ddl

    paths = [p for r in report.results if r.table == table for p in r.paths]
    spec = load_dataset(report.dataset_id).table(table)
    if paths[0].endswith(".csv"):
        reader = spark.read.schema(table_ddl(spec)).option("header", "true")
        frame = reader.option("timestampFormat", "yyyy-MM-dd HH:mm:ss").csv(paths)
    else:
        frame = spark.read.parquet(*paths)
    return frame.withColumn("_file", F.col("_metadata.file_path"))


def read_facts(config: JobConfig) -> dict:
    """The job's report.json."""
    import json

    from synthgen_spark.reporting import REPORT_FOLDER
    from synthgen_spark.state import state_folder

    return json.loads(Path(state_folder(config), REPORT_FOLDER, "report.json").read_text())


def assert_days_match_plan(facts: dict, config: JobConfig) -> None:
    """Every planned table-day in report.json: rows written = expected = the plan's; files = the plan's, real sizes."""
    for td in build_plan(config).table_days:
        day = next(d for d in facts["tables"][td.table.name]["days"] if d["date"] == td.date.isoformat())
        assert (day["rows"], day["expected_rows"], day["written"]) == (td.rows, td.rows, True), (td.table.name, day)
        assert day["files"] == [{"path": p, "bytes": Path(p).stat().st_size} for p in td.paths]


def files_under(root: Path) -> list[str]:
    """Every file below ``root``, relative and sorted (hidden files included)."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


TABLES = ("customers", "products", "orders", "order_items")
KEYS = {
    "customers": ["snapshot_date", "customer_id"],
    "products": ["snapshot_date", "product_id"],
    "orders": ["order_id"],
    "order_items": ["order_item_id"],
}


def frames_by_table(spark, config):
    """Every table of a planned job as one DataFrame (built by the engine, not written), at 1% volume."""
    from synthgen_spark.engine import build_batch_frame

    plan = build_plan(config if config.scale_factor < 0.01 else config.with_overrides({"scale_factor": 0.01}))
    by_table: dict[str, list] = {}
    for batch in plan.batches:
        for name in TABLES:
            tds = [td for td in batch.table_days if td.table.name == name]
            if tds:
                by_table.setdefault(name, []).append(build_batch_frame(spark, plan.config, plan.dataset, tds))
    out = {}
    for name, frames in by_table.items():
        frame = frames[0]
        for other in frames[1:]:
            frame = frame.union(other)
        out[name] = frame
    return out


def dataset_with_tables(root: Path, dataset_id: str, tables: tuple[str, ...]) -> Path:
    """A built-in dataset's YAML file with only ``tables`` kept: fewer tables to write where a test reads only these."""
    from importlib import resources

    import yaml

    text = (resources.files("synthgen_spark") / "data" / "datasets" / f"{dataset_id}.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)
    raw["tables"] = [t for t in raw["tables"] if t["name"] in tables]
    path = root / f"{dataset_id}_{'_'.join(tables)}.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def assert_same(left, right, table):
    """The two frames of ``table`` hold the same rows, duplicates included (ordered by the table's keys)."""
    from chispa import assert_df_equality

    assert_df_equality(left.orderBy(*KEYS[table]), right.orderBy(*KEYS[table]), ignore_nullable=True)


# a two-table dataset (a snapshot and an incremental table that references it) for catalog and input tests
def alias_chances(total: int, entries: tuple[int, ...]) -> list:
    """Each slot's chance (Fractions) under one alias table of an entity model's pick table: column c uniform,
    kept below its threshold (entry >> ALIAS_SHIFT), else its alias (the low bits)."""
    from fractions import Fraction

    from synthgen_spark.entities import ALIAS_SHIFT, BLOCK

    chance = [Fraction(0)] * BLOCK
    for column, entry in enumerate(entries):
        threshold, alias = entry >> ALIAS_SHIFT, entry & ((1 << ALIAS_SHIFT) - 1)
        chance[column] += Fraction(threshold, total * BLOCK)
        chance[alias] += Fraction(total - threshold, total * BLOCK)
    return chance


def yaml_dataset_config(root: Path, dataset_id: str, text: str, **overrides) -> JobConfig:
    """A ``small_config`` job of the dataset ``text`` (YAML, written under ``root``): scale 1, to 2024-02-02."""
    path = root / f"{dataset_id}.yaml"
    path.write_text(text)
    values = {"scale_factor": 1.0, "end_date": "2024-02-02", **overrides}
    return small_config(root, dataset_id=dataset_id, dataset_path=str(path), **values)


MINI_DATASET = """
dataset_id: mini
tables:
  - name: things
    kind: snapshot
    rows: 10
    primary_key: thing_id
    columns:
      - {name: thing_id, kind: sequence}
      - {name: snapshot_date, kind: generation_date}
  - name: events
    kind: incremental
    rows: 5
    primary_key: event_id
    primary_date_column: event_date
    columns:
      - {name: event_id, kind: sequence}
      - {name: event_date, kind: generation_date}
      - {name: thing_id, kind: foreign_key, references: things.thing_id}
"""


def cell_differences(clean, dirty, table, pk, date_column):
    """(table, date, pk, column, clean, dirty) of every cell that differs, rows paired by (date, key) in one join."""
    from pyspark.sql import functions as F

    cells = [
        F.struct(
            F.lit(c).alias("column"),
            F.col(f"c.{c}").cast("string").alias("clean_value"),
            F.col(f"d.{c}").cast("string").alias("dirty_value"),
            (~F.col(f"c.{c}").eqNullSafe(F.col(f"d.{c}"))).alias("differs"),
        )
        for c in clean.columns
        if c not in (pk, date_column)
    ]
    joined = clean.alias("c").join(dirty.dropDuplicates().alias("d"), [date_column, pk], "full_outer")
    exploded = joined.select(
        F.col(date_column).alias("date"),
        F.col(pk).cast("string").alias("primary_key"),
        F.explode(F.array(*cells)).alias("x"),
    )
    return exploded.where("x.differs").select(
        F.lit(table).alias("table"), "date", "primary_key", "x.column", "x.clean_value", "x.dirty_value"
    )
