"""Runtime faults with real Spark and real files: one line naming the cause, exit 1, no stray output."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from synthgen_spark.cli import main
from synthgen_spark.errors import StateError

from .helpers import small_config

OVERFLOWING = textwrap.dedent(
    """
    dataset_id: mini
    epoch: 2024-01-01
    tables:
      - name: events
        kind: incremental
        rows: 5
        primary_key: event_id
        primary_date_column: event_date
        columns:
          - {name: event_id, kind: sequence}
          - {name: event_date, kind: generation_date}
          - {name: big, kind: derived, type: "decimal(10,2)", expression: "event_id * 1e12"}
    """
)


def _generate(tmp_path, *flags: str) -> list[str]:
    return [
        "generate",
        "--start-date",
        "2024-02-01",
        "--end-date",
        "2024-02-01",
        "--output-root",
        str(tmp_path),
        *flags,
    ]


def test_a_value_the_column_type_cannot_hold_shows_sparks_own_error_in_one_line(spark, tmp_path, capsys):
    dataset = tmp_path / "d.yaml"
    dataset.write_text(OVERFLOWING)
    code = main(_generate(tmp_path / "out", "--dataset-id", "mini", "--dataset-file", str(dataset)))
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert len(err.splitlines()) == 1 and "cannot be represented as Decimal" in err and "errorClass" not in err, err


# --- the lock: taken over only from a holder proven gone; never while empty; malformed -> StateError


def _store(spark, tmp_path, **overrides):
    from synthgen_spark.layout import layout_for
    from synthgen_spark.state import StateStore
    from synthgen_spark.writers import open_file_system

    config = small_config(tmp_path, **overrides)
    store = StateStore(open_file_system(spark, layout_for(config)), config)
    Path(store.folder).mkdir(parents=True, exist_ok=True)
    return store


def _holder(pid: int, host: str | None = None, age_minutes: float = 0, **extra) -> str:
    started = time.time() - age_minutes * 60
    return json.dumps(
        {"run_id": "first", "host": host or socket.gethostname(), "pid": pid, "started": started, **extra}
    )


def test_a_live_holder_keeps_its_lock_past_the_asking_runs_timeout(spark, tmp_path):
    store = _store(spark, tmp_path, lock_timeout_minutes=1)
    with subprocess.Popen(["sleep", "30"]) as live:
        try:
            Path(store.lock_path).write_text(_holder(live.pid, age_minutes=120, timeout_minutes=720))
            with pytest.raises(StateError, match=f"pid {live.pid} .*its timeout 720 min"):
                store.acquire_lock("second", print)
        finally:
            live.kill()
    assert json.loads(Path(store.lock_path).read_text())["run_id"] == "first"


def test_a_holder_on_another_host_is_taken_over_only_past_its_own_timeout(spark, tmp_path, capsys):
    store = _store(spark, tmp_path, lock_timeout_minutes=100_000)
    Path(store.lock_path).write_text(_holder(1, host="elsewhere", age_minutes=30, timeout_minutes=60))
    with pytest.raises(StateError, match="locked by host elsewhere"):
        store.acquire_lock("second", print)
    Path(store.lock_path).write_text(_holder(1, host="elsewhere", age_minutes=61, timeout_minutes=60))
    store.acquire_lock("second", print)
    assert "older than its own timeout of 60 min" in capsys.readouterr().out
    assert json.loads(Path(store.lock_path).read_text())["run_id"] == "second"
    store.release_lock("someone else")  # not ours to release
    assert Path(store.lock_path).exists()
    store.release_lock("second")
    assert not Path(store.lock_path).exists()


def test_a_lock_caught_empty_is_waited_for_not_taken_over(spark, tmp_path):
    """A real process creates the lock empty, then writes it: the reader waits and names that process."""
    store = _store(spark, tmp_path)
    writer = (
        "import json, os, socket, sys, time; p = sys.argv[1]; open(p, 'w').close(); time.sleep(0.8); "
        "open(p, 'w').write(json.dumps({'run_id': 'first', 'host': socket.gethostname(), 'pid': os.getpid(), "
        "'started': time.time(), 'timeout_minutes': 5})); time.sleep(20)"
    )
    with subprocess.Popen([sys.executable, "-c", writer, store.lock_path]) as first:
        try:
            deadline = time.monotonic() + 20
            while not Path(store.lock_path).exists():
                assert time.monotonic() < deadline
                time.sleep(0.01)
            with pytest.raises(StateError, match=f"pid {first.pid}"):
                store.acquire_lock("second", print)
        finally:
            first.kill()


def test_a_malformed_lock_is_a_clear_state_error(spark, tmp_path):
    store = _store(spark, tmp_path)
    Path(store.lock_path).write_text("{not json")
    with pytest.raises(StateError, match="is malformed .*remove the file"):
        store.acquire_lock("second", print)
    assert Path(store.lock_path).read_text() == "{not json"


# --- reruns against real files: old layouts go, the ledger is checked against the files


def _run(spark, config, lines=None):
    from synthgen_spark.planner import build_plan
    from synthgen_spark.runner import run_plan

    return run_plan(spark, build_plan(config), progress=None if lines is None else lines.append)


def _data_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*.csv")}


def test_a_rerun_with_another_chunk_size_leaves_only_the_new_layout(spark, tmp_path):
    config = small_config(tmp_path, end_date="2024-02-01", output_mode="csv")
    _run(spark, config)
    report = _run(spark, config.with_overrides({"chunk_size": 300, "ignore_state": True}))
    expected = sorted(str(Path(p).relative_to(tmp_path)) for r in report.results for p in r.paths)
    assert any("-00002.csv" in p for p in expected)
    assert sorted(_data_files(tmp_path)) == expected
    on_disk = [str(tmp_path / p) for p in _data_files(tmp_path) if "/orders/" in p]
    orders = spark.read.option("header", "true").csv(on_disk).select("order_id")
    assert orders.count() == orders.distinct().count() == report.rows_by_table()["orders"]


def test_skipped_days_whose_files_are_missing_or_empty_are_generated_again(spark, tmp_path):
    config = small_config(tmp_path, end_date="2024-02-02", output_mode="csv")
    _run(spark, config)
    first = _data_files(tmp_path)
    deleted, emptied = sorted(p for p in first if "orders/" in p)[:2]
    (tmp_path / deleted).unlink()
    (tmp_path / emptied).write_bytes(b"")
    lines: list[str] = []
    report = _run(spark, config, lines)
    assert any("2 table-days in the ledger have missing or empty output" in line for line in lines), lines
    assert sorted((r.table, str(r.date)) for r in report.results) == [
        ("orders", "2024-02-01"),
        ("orders", "2024-02-02"),
    ]
    assert _data_files(tmp_path) == first  # the same bytes as the first run: generation is deterministic


# --- runtime causes named in one line (exit 1), not hidden behind a Py4J stack


def _small_flags(root, *extra: str) -> list[str]:
    return [
        "generate", "--dataset-id", "retail_oltp_small", "--job-name", "t", "--scale-factor", "0.05",
        "--start-date", "2024-02-01", "--end-date", "2024-02-01", "--output-root", str(root), *extra,
    ]  # fmt: skip


TABLE_PATH = {"output_mode": "table", "table_location": "path"}


@pytest.mark.parametrize(
    ("overrides", "blocker", "fragment"),
    [
        ({}, "ledger folder", "_synthgen_state.json is a folder, not a file"),
        (TABLE_PATH, "delta file", "is a file where the Delta table goes"),
    ],
)
def test_a_path_in_the_way_is_named_in_one_line(spark, tmp_path, capsys, overrides, blocker, fragment):
    from synthgen_spark.layout import delta_table_path
    from synthgen_spark.state import LEDGER_NAME, state_folder

    config = small_config(tmp_path, end_date="2024-02-01", **overrides)
    if blocker == "ledger folder":
        (Path(state_folder(config)) / LEDGER_NAME).mkdir(parents=True)
    else:
        place = Path(delta_table_path(config, "customers"))
        place.parent.mkdir(parents=True)
        place.write_text("not a table")
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in overrides.items()]
    code = main(_small_flags(tmp_path, "--batch-size", "7", "--seed-value", "7", *flags))
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and fragment in err, err


def test_a_scheme_without_its_connector_is_named_in_one_line(spark, tmp_path, capsys):
    code = main(_small_flags("s3a://no-such-bucket/out"))
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1, err
    assert "output_root s3a://no-such-bucket/out: Hadoop cannot use it" in err and "S3AFileSystem" in err, err


def test_ignore_state_with_another_seed_must_rewrite_every_generated_day(spark, tmp_path):
    import datetime as dt

    from synthgen_spark.catalog import load_dataset
    from synthgen_spark.errors import ConfigError
    from synthgen_spark.state import Ledger, fingerprint

    dataset = load_dataset("retail_oltp_small")
    store = _store(spark, tmp_path)
    old = Ledger(fingerprint(store.config, dataset))
    for day in range(1, 6):
        old.record("orders", dt.date(2024, 2, day), 10, "r1")
    store.save(old)
    other = _store(spark, tmp_path, seed_value=8, ignore_state=True)
    part = {("orders", f"2024-02-0{day}") for day in (2, 3)}
    with pytest.raises(ConfigError) as refused:
        other.open_ledger(fingerprint(other.config, dataset), part)
    message = str(refused.value)
    assert "field 'ignore_state'" in message and "holds 3 days (2024-02-01..2024-02-05)" in message
    assert "seed_value 7 -> 8" in message and "2024-02-01..2024-02-05" in message
    whole = {("orders", f"2024-02-0{day}") for day in range(1, 6)}
    fresh = other.open_ledger(fingerprint(other.config, dataset), whole)
    assert fresh.done == {} and fresh.fingerprint["params"]["seed_value"] == 8


def test_ctrl_c_during_a_run_is_one_line_exit_130_and_the_run_is_marked_interrupted(tmp_path):
    """A real process group gets SIGINT, as from a terminal: the JVM stops too, and no traceback shows."""
    import os
    import signal

    command = [sys.executable, "-m", "synthgen_spark", "generate", "--dataset-id", "retail_oltp_small"]
    command += ["--scale-factor", "0.05", "--start-date", "2024-02-01", "--end-date", "2024-02-20"]
    command += ["--output-root", str(tmp_path), "--output-mode", "csv"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True, text=True
    ) as run:
        try:
            assert run.stdout.readline().startswith("batch 1/20")
            os.killpg(run.pid, signal.SIGINT)
            _, err = run.communicate(timeout=300)  # a loaded 2-core machine: in-flight writes finish first
        finally:
            if run.poll() is None:
                os.killpg(run.pid, signal.SIGKILL)
    assert run.returncode == 130, err
    assert err.strip().splitlines()[-1].startswith("synthgen: interrupted") and "Traceback" not in err, err
    ledger = json.loads(next(tmp_path.rglob("_synthgen_state.json")).read_text())
    assert [r["status"] for r in ledger["runs"]] == ["interrupted"]


def test_a_delta_table_gone_since_the_ledger_recorded_it_is_generated_again(spark, tmp_path):
    import shutil

    from synthgen_spark.layout import delta_table_path

    config = small_config(
        tmp_path, end_date="2024-02-01", output_mode="table", table_location="path", scale_factor=0.01
    )
    _run(spark, config)
    shutil.rmtree(delta_table_path(config, "orders"))
    lines: list[str] = []
    report = _run(spark, config, lines)
    assert any("have missing or empty output (first: orders 2024-02-01)" in line for line in lines), lines
    assert [(r.table, str(r.date)) for r in report.results] == [("orders", "2024-02-01")]
    assert spark.read.format("delta").load(delta_table_path(config, "orders")).count() == report.total_rows


def test_a_delta_date_deleted_since_the_ledger_recorded_it_is_generated_again(spark, tmp_path):
    from synthgen_spark.layout import delta_table_path

    config = small_config(
        tmp_path, end_date="2024-02-02", output_mode="table", table_location="path", scale_factor=0.01
    )
    _run(spark, config)
    orders = delta_table_path(config, "orders")
    before = spark.read.format("delta").load(orders).where("order_date = DATE'2024-02-02'").count()
    spark.sql(f"DELETE FROM delta.`{orders}` WHERE order_date = DATE'2024-02-02'")
    lines: list[str] = []
    report = _run(spark, config, lines)
    assert any("(first: orders 2024-02-02)" in line for line in lines), lines
    assert [(r.table, str(r.date)) for r in report.results] == [("orders", "2024-02-02")]
    assert spark.read.format("delta").load(orders).where("order_date = DATE'2024-02-02'").count() == before > 0


def test_a_batch_that_fails_to_write_keeps_the_earlier_batches_and_the_rerun_completes(spark, tmp_path):
    """Daily batches, the next one's frames built while one writes: day 2 cannot be written (a file stands where
    its orders folder goes), so day 1 is recorded and in place, day 3 not even written; the re-run completes them."""
    from synthgen_spark.api import generate, plan
    from synthgen_spark.errors import SynthgenError
    from synthgen_spark.state import LEDGER_NAME, state_folder

    config = small_config(tmp_path, batch_size=1)
    paths = {(td.table.name, td.date.isoformat()): td.paths for td in plan(config).table_days}
    blocker = Path(paths[("orders", "2024-02-02")][0]).parent
    blocker.parent.mkdir(parents=True)
    blocker.write_text("in the way")
    with pytest.raises(SynthgenError, match=f"writer: cannot create the folder {blocker}: .*not a directory"):
        generate(config, spark, progress=None)
    done = json.loads((Path(state_folder(config)) / LEDGER_NAME).read_text())["done"]
    first = {key for key in paths if key[1] <= "2024-02-01"}  # day 1, and a weekly table's snapshot in force then
    assert {(table, day) for table, per_table in done.items() for day in per_table} == first
    assert all(Path(p).is_file() for key in first for p in paths[key])
    assert not any(Path(p).exists() for (_, day), files in paths.items() if day == "2024-02-03" for p in files)
    blocker.unlink()
    report = generate(config, spark, progress=None)
    assert report.skipped_days == 1
    assert all(Path(p).is_file() for files in paths.values() for p in files)
