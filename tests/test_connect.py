"""Spark Connect: the same data, files, Delta tables, resume and lock as a classic session, with no JVM here.

A real Spark Connect server (pyspark's own, on 127.0.0.1) serves clients that run in their own
processes (``SPARK_REMOTE``): the ``synthgen`` CLI and ``tests.golden``, as a user would run them.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import tokenize
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from synthgen_spark.api import generate, plan
from synthgen_spark.planner import job_root

from .connect_server import connect_server
from .golden import GOLDEN_FILE, ORDER
from .helpers import files_under, read_facts, small_config

PACKAGE = Path(__file__).resolve().parent.parent / "synthgen_spark"
CLASSIC_ONLY = {"writers/hadoop.py"}  # the classic-session adapter: the one module that may reach the JVM
JVM_NAMES = {"sparkContext", "_jvm", "_jsc", "py4j", "SparkContext"}


def jvm_names_in_code(path: Path) -> list[str]:
    """``file:line`` of every name in code (not in comments or strings) that reaches the JVM."""
    with path.open("rb") as source:
        tokens = list(tokenize.tokenize(source.readline))
    return [f"{path.name}:{t.start[0]}" for t in tokens if t.type == tokenize.NAME and t.string in JVM_NAMES]


def test_no_module_but_the_classic_adapter_reaches_the_jvm():
    modules = [p for p in sorted(PACKAGE.rglob("*.py")) if str(p.relative_to(PACKAGE)) not in CLASSIC_ONLY]
    assert len(modules) > 20 and [hit for path in modules for hit in jvm_names_in_code(path)] == []
    assert jvm_names_in_code(PACKAGE / "writers" / "hadoop.py")  # the check sees names where they are


@pytest.fixture(scope="module")
def remote(tmp_path_factory) -> str:
    with connect_server(tmp_path_factory.mktemp("connect_server")) as url:
        yield url


def run_client(remote: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """A Python process of this venv whose SparkSession is the Connect server's (it has no JVM)."""
    env = {**os.environ, "SPARK_REMOTE": remote, "PYTHONPATH": str(PACKAGE.parent)}
    return subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=PACKAGE.parent
    )


def synthgen_flags(root: Path | str, mode: str, layout: str, end_date: str = "2024-02-03", *extra: str) -> list[str]:
    """``synthgen generate`` flags for the job of ``small_config`` (three days, 5% volume)."""
    return [
        "-m", "synthgen_spark", "generate", "--job-name", "t", "--dataset-id", "retail_oltp_small",
        "--start-date", "2024-02-01", "--end-date", end_date, "--batch-size", "7", "--seed-value", "7",
        "--scale-factor", "0.05", "--output-mode", mode, "--path-format", layout, "--output-root", str(root),
        *extra,
    ]  # fmt: skip


def same_data_files(connect_root: Path, classic_root: Path) -> None:
    """The same files; CSV byte for byte, Parquet equal as read by pyarrow (an independent reader)."""
    names = [f for f in files_under(classic_root) if f.endswith((".csv", ".parquet"))]
    assert [f for f in files_under(connect_root) if f.endswith((".csv", ".parquet"))] == names
    for name in names:
        if name.endswith(".csv"):
            assert (connect_root / name).read_bytes() == (classic_root / name).read_bytes(), name
        else:
            assert pq.read_table(connect_root / name).equals(pq.read_table(classic_root / name)), name


def test_golden_checksums_over_connect(remote):
    """Connect gives the same data: the base golden job's nine tables (change feeds and history among them);
    test_golden.py pins all four configurations (late and faulted too) on the classic session."""
    result = run_client(remote, "-m", "tests.golden", "--print", "golden")
    assert result.returncode == 0, result.stderr[-2000:]
    expected = {table: digest for table, digest in json.loads(GOLDEN_FILE.read_text()).items() if table in ORDER}
    assert len(expected) == len(ORDER)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == expected


@pytest.mark.parametrize(("mode", "layout"), [("csv", "flat"), ("parquet", "nested")])  # each writer, each layout
def test_files_over_connect_equal_a_classic_run(spark, remote, tmp_path, mode, layout):
    connect_root, classic_root = tmp_path / "connect", tmp_path / "classic"
    result = run_client(remote, *synthgen_flags(connect_root, mode, layout))
    assert result.returncode == 0, result.stderr[-2000:]
    generate(small_config(classic_root, output_mode=mode, path_format=layout), spark, progress=None)
    assert files_under(connect_root) == files_under(classic_root)  # the ledger too; nothing else beside
    same_data_files(connect_root, classic_root)


def test_delta_days_are_replaced_over_connect(spark, remote, tmp_path):
    """Three days, then the middle one again: each date holds exactly its planned rows, once."""
    flags = ["--table-location", "path"]
    first = run_client(remote, *synthgen_flags(tmp_path, "table", "nested", "2024-02-03", *flags))
    assert first.returncode == 0, first.stderr[-2000:]
    again = ["--start-date", "2024-02-02", "--end-date", "2024-02-02", "--ignore-state"]
    second = run_client(remote, *synthgen_flags(tmp_path, "table", "nested", "2024-02-03", *flags, *again))
    assert second.returncode == 0, second.stderr[-2000:]
    config = small_config(tmp_path, output_mode="table", table_location="path")
    expected = {td.date: td.rows for td in plan(config).table_days if td.table.name == "orders"}
    orders_path = next(td.target.table for td in plan(config).table_days if td.table.name == "orders")
    orders = spark.read.format("delta").load(orders_path)
    counts = {row["order_date"]: row["count"] for row in orders.groupBy("order_date").count().collect()}
    assert counts == expected
    assert orders.select("order_id").distinct().count() == sum(expected.values())
    history = spark.sql(f"DESCRIBE HISTORY delta.`{orders_path}`").select("userMetadata").collect()
    assert len({json.loads(row[0])["run_id"] for row in history}) == 2
    report = read_facts(config)  # the run report, written over Connect through this process's file system
    assert {d["date"]: d["rows"] for d in report["tables"]["orders"]["days"]} == {
        day.isoformat(): rows for day, rows in expected.items()
    }
    assert len(report["runs"]) == 2 and report["tables"]["orders"]["bytes"] > 0


def test_an_interrupted_run_over_connect_resumes_to_a_classic_run(spark, remote, tmp_path):
    crashed, clean = tmp_path / "crashed", tmp_path / "clean"
    flags = synthgen_flags(crashed, "csv", "flat", "2024-02-04", "--batch-size", "1")
    env = {**os.environ, "SPARK_REMOTE": remote, "PYTHONPATH": str(PACKAGE.parent)}
    victim = subprocess.Popen(
        [sys.executable, *flags], env=env, cwd=PACKAGE.parent, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while not any('"orders"' in p.read_text() for p in crashed.rglob("_synthgen_state.json")):
            assert victim.poll() is None and time.monotonic() < deadline, "the run ended before its first day"
            time.sleep(0.05)
    finally:
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()
    rerun = run_client(remote, *flags)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "taking over a stale lock" in rerun.stdout
    state_flags = [*flags[:2], "state", "show", *flags[3:]]  # `synthgen state show` with the same job flags
    state = run_client(remote, *state_flags)
    assert state.returncode == 0, state.stderr[-2000:]
    assert re.search(r"orders\s+4\s+2024-02-01\s+2024-02-04", state.stdout) and "completed" in state.stdout
    generate(small_config(clean, output_mode="csv", path_format="flat", end_date="2024-02-04"), spark, progress=None)
    same_data_files(crashed, clean)


def test_a_live_lock_refuses_a_run_over_connect(remote, tmp_path):
    config = small_config(tmp_path, output_mode="csv", path_format="flat")
    folder = Path(job_root(config))
    folder.mkdir(parents=True)
    holder = {"run_id": "live", "host": socket.gethostname(), "pid": os.getpid(), "started": time.time()}
    (folder / "_synthgen.lock").write_text(json.dumps(holder))
    result = run_client(remote, *synthgen_flags(tmp_path, "csv", "flat"))
    assert result.returncode == 1
    assert f"locked by host {socket.gethostname()} pid {os.getpid()}" in result.stderr
    assert files_under(tmp_path) == [str((folder / "_synthgen.lock").relative_to(tmp_path))]


def test_a_root_the_server_cannot_see_is_refused_before_writing(remote, tmp_path):
    result = run_client(remote, *synthgen_flags("abfss://data@account.dfs.core.windows.net/synth", "csv", "flat"))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "field 'output_root'" in result.stderr
    assert "output_mode: table" in result.stderr
