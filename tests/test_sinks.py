"""Layout and sinks without Spark: every place a job writes, and one place that reads the output mode."""

from __future__ import annotations

import datetime as dt
import tokenize
from pathlib import Path

import pytest

from synthgen_spark.config import JobConfig
from synthgen_spark.errors import SpecError
from synthgen_spark.layout import (
    FileLayout,
    TableLayout,
    Target,
    day_files_pattern,
    inside_folder,
    job_root,
    layout_for,
    state_folder,
)
from synthgen_spark.planner import build_plan

PACKAGE = Path(__file__).resolve().parent.parent / "synthgen_spark"
BASE = {"job_name": "j", "dataset_id": "retail_oltp_small", "start_date": "2024-02-01", "end_date": "2024-02-03"}
JOB = "/data/synthetic_data/{mode}/series/retail_oltp_small/j"
DAY = dt.date(2024, 2, 3)


def config(**overrides) -> JobConfig:
    return JobConfig.from_mapping({**BASE, "output_root": "/data", **overrides})


@pytest.mark.parametrize(("mode", "kind"), [("csv", FileLayout), ("parquet", FileLayout), ("table", TableLayout)])
def test_the_output_mode_picks_the_layout(mode, kind):
    assert type(layout_for(config(output_mode=mode))) is kind


def test_a_file_target_is_its_files_and_names_no_table():
    target = layout_for(config(output_mode="csv", path_format="flat")).target("orders", DAY, 2)
    folder = f"{JOB.format(mode='csv')}/flat/orders"
    assert target == Target(files=(f"{folder}/orders_20240203-00001.csv", f"{folder}/orders_20240203-00002.csv"))
    assert target.places == target.files and target.table == ""


@pytest.mark.parametrize(
    ("overrides", "table"),
    [
        ({}, "retail_oltp_small_orders"),
        ({"database": "lake", "table_name_template": "{job_name}_{table}"}, "lake.j_orders"),
        ({"table_location": "path"}, f"{JOB.format(mode='table')}/orders"),
    ],
)
def test_a_table_target_is_the_delta_table_and_holds_no_files(overrides, table):
    target = layout_for(config(output_mode="table", **overrides)).target("orders", DAY, 3)
    assert target == Target(table=table) and target.places == (table,)


def test_a_table_plan_gives_table_days_no_paths_and_a_file_plan_one_per_chunk():
    table_plan = build_plan(config(output_mode="table"))
    assert {td.paths for td in table_plan.table_days} == {()}
    assert {td.target.table for td in table_plan.table_days} >= {"retail_oltp_small_orders"}
    file_plan = build_plan(config(output_mode="parquet", chunk_size=100))
    assert all(len(td.paths) == td.partitions and td.target.table == "" for td in file_plan.table_days)
    assert any(td.partitions > 1 for td in file_plan.table_days)


def test_the_ledger_lock_and_temp_files_live_in_the_state_folder():
    files = layout_for(config(output_mode="parquet"))
    assert files.state_folder == job_root(files.config) == f"{JOB.format(mode='parquet')}/nested"
    assert (files.ledger_path, files.lock_path, files.temp_folder) == (
        f"{files.state_folder}/_synthgen_state.json",
        f"{files.state_folder}/_synthgen.lock",
        f"{files.state_folder}/_tmp",
    )
    tables = layout_for(config(output_mode="table", database="lake"))
    assert tables.state_folder == f"{JOB.format(mode='table')}/_state_metastore_lake_dataset_id_table"
    other = layout_for(config(output_mode="table", database="lake", table_name_template="x_{table}"))
    assert other.state_folder != tables.state_folder  # another set of tables is another output
    assert state_folder(tables.config) == tables.state_folder


def test_only_files_are_moved_into_place():
    assert layout_for(config(output_mode="csv")).moves_files and not layout_for(config(output_mode="table")).moves_files


@pytest.mark.parametrize("path", ["/root/a/../b", "/root//b", "/root/./b", "/rootx/b", "/root", "/other/root/b"])
def test_a_path_outside_its_folder_is_refused(path):
    with pytest.raises(SpecError, match="is not inside the job folder /root"):
        inside_folder("/root", path)


def test_a_days_pattern_matches_its_names_under_any_chunking_and_no_other_day():
    folder, pattern = day_files_pattern("/r/orders/orders_20240203-00002.csv")
    assert folder == "/r/orders"
    names = ["orders_20240203.csv", "orders_20240203-00001.csv", "orders_20240203-00017.csv"]
    assert all(pattern.fullmatch(name) for name in names)
    others = ["orders_20240204.csv", "orders_20240203.parquet", "orders_20240203-1.csv", "xorders_20240203.csv"]
    assert not any(pattern.fullmatch(name) for name in others)


def mode_checks(path: Path, root: Path = PACKAGE) -> list[str]:
    """``file:line`` of every comparison with ``output_mode`` in code, a name or a key (a branch on the output mode)."""
    kinds = (tokenize.NAME, tokenize.OP, tokenize.STRING)
    with path.open("rb") as source:
        tokens = [t for t in tokenize.tokenize(source.readline) if t.type in kinds]
    comparisons = {"==", "!=", "in", "not", "is"}

    def compared(i: int) -> bool:
        after = i + 1
        while after < len(tokens) and tokens[after].string in {
            "]",
            ")",
        }:  # f["output_mode"] == ..., get("output_mode") ==
            after += 1
        before = i - 3 if tokens[i - 1].string in {"[", "("} else i - 1  # "table" == f["output_mode"]
        return (
            after < len(tokens)
            and tokens[after].string in comparisons
            or before >= 0
            and tokens[before].string in comparisons
        )

    return [
        f"{path.relative_to(root)}:{t.start[0]}"
        for i, t in enumerate(tokens)
        if t.string.strip("'\"") == "output_mode" and compared(i)
    ]


def test_the_mode_check_sees_names_and_keys(tmp_path):
    lines = ['a = f["output_mode"] == "table"', "b = 'csv' != f['output_mode']", "c = config.output_mode != 'csv'"]
    sample = tmp_path / "probe.py"
    sample.write_text("\n".join([*lines, "print(f['output_mode'], config.output_mode)"]) + "\n")
    assert mode_checks(sample, tmp_path) == ["probe.py:1", "probe.py:2", "probe.py:3"]


def test_only_the_config_and_the_layout_branch_on_the_output_mode():
    found = {str(path.relative_to(PACKAGE)): mode_checks(path) for path in sorted(PACKAGE.rglob("*.py"))}
    assert len(found) > 20 and {name for name, hits in found.items() if hits} <= {"config.py", "layout.py"}
    assert len(found["layout.py"]) == 1  # layout_for: the one choice, which also picks the sink


def test_no_writer_imports_the_engine():
    for path in sorted((PACKAGE / "writers").glob("*.py")):
        assert "synthgen_spark.engine" not in path.read_text(), path.name


def test_every_layout_has_its_sink():
    from synthgen_spark.layout import Layout
    from synthgen_spark.writers import SINKS, DeltaSink, FileSink

    assert set(SINKS) == set(Layout.__subclasses__()) and {FileLayout: FileSink, TableLayout: DeltaSink} == SINKS
    assert FileSink.file_index and not DeltaSink.file_index  # only files need each row's file
