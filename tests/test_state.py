"""Run ledger, resume, locking and crash safety, with real runs and real SIGKILLs."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from synthgen_spark.api import generate
from synthgen_spark.calendar import Calendar
from synthgen_spark.catalog import load_dataset
from synthgen_spark.cli import main
from synthgen_spark.errors import ConfigError, StateError
from synthgen_spark.planner import job_root

from .helpers import files_under, small_config

CSV_FLAGS = ["--output-mode", "csv", "--path-format", "flat", "--scale-factor", "0.01", "--seed-value", "3"]


def cli_args(root: Path, *extra: str, end_date: str = "2024-02-01") -> list[str]:
    """``synthgen generate`` arguments for job 't' from 2024-02-01 (later flags override earlier ones)."""
    job = ["--job-name", "t", "--dataset-id", "retail_oltp_small", "--start-date", "2024-02-01"]
    return ["generate", *job, "--end-date", end_date, "--output-root", str(root), *CSV_FLAGS, *extra]


def csv_config(root: Path, **overrides):
    values = {"output_mode": "csv", "path_format": "flat", "scale_factor": 0.01, "seed_value": 3, **overrides}
    return small_config(root, **values)


def data_files(root: Path) -> dict[str, bytes]:
    """Every data file under ``root`` (ledger and lock excluded) with its bytes."""
    return {f: (root / f).read_bytes() for f in files_under(root) if f.endswith((".csv", ".parquet"))}


def ledger(config) -> dict:
    return json.loads(Path(job_root(config), "_synthgen_state.json").read_text())


def test_rerun_skips_completed_days_and_ignore_state_rewrites_them(spark, tmp_path, capsys):
    config = csv_config(tmp_path, end_date="2024-02-03")
    generate(config, spark, progress=None)
    files = {f: (tmp_path / f).stat().st_mtime_ns for f in data_files(tmp_path)}
    time.sleep(0.05)
    report = generate(csv_config(tmp_path, end_date="2024-02-04"), spark, progress=print)
    assert "skipped 3 days already generated" in capsys.readouterr().out
    assert {r.date.isoformat() for r in report.results} == {"2024-02-04"}
    assert all((tmp_path / f).stat().st_mtime_ns == mtime for f, mtime in files.items())
    generate(csv_config(tmp_path, end_date="2024-02-04", ignore_state=True), spark, progress=None)
    assert all((tmp_path / f).stat().st_mtime_ns > mtime for f, mtime in files.items())
    done = ledger(config)["done"]
    assert sorted(done["orders"]) == ["2024-02-01", "2024-02-02", "2024-02-03", "2024-02-04"]
    retail = load_dataset("retail_oltp_small")
    assert done["orders"]["2024-02-02"]["rows"] == Calendar(retail, config).rows(
        retail.table("orders"), dt.date(2024, 2, 2)
    )
    assert [r["status"] for r in ledger(config)["runs"]] == ["completed"] * 3


def test_another_seed_into_the_same_job_is_refused(spark, tmp_path, capsys):
    generate(csv_config(tmp_path, end_date="2024-02-01"), spark, progress=None)
    before = data_files(tmp_path)
    with pytest.raises(ConfigError, match="field 'seed_value'.*new job_name, or --ignore-state"):
        generate(csv_config(tmp_path, end_date="2024-02-01", seed_value=4), spark, progress=None)
    args = cli_args(tmp_path, "--seed-value", "4")
    assert main(args) == 2
    assert "seed_value" in capsys.readouterr().err
    assert data_files(tmp_path) == before


def test_continue_generates_the_days_after_the_last_one(spark, tmp_path, capsys):
    generate(csv_config(tmp_path, end_date="2024-02-02"), spark, progress=None)
    args = [
        "generate",
        "--job-name",
        "t",
        "--dataset-id",
        "retail_oltp_small",
        "--output-root",
        str(tmp_path),
        *CSV_FLAGS,
        "--continue",
        "--days",
        "3",
    ]
    assert main(args) == 0
    assert sorted(ledger(csv_config(tmp_path))["done"]["orders"]) == [f"2024-02-0{d}" for d in range(1, 6)]
    assert (
        main(
            [
                "state",
                "show",
                "--job-name",
                "t",
                "--dataset-id",
                "retail_oltp_small",
                "--output-root",
                str(tmp_path),
                *CSV_FLAGS,
            ]
        )
        == 0
    )
    shown = capsys.readouterr().out
    assert "orders" in shown and "2024-02-05" in shown and "completed" in shown


def test_a_live_lock_refuses_a_second_run_naming_the_holder(spark, tmp_path, capsys):
    config = csv_config(tmp_path, end_date="2024-02-01")
    folder = Path(job_root(config))
    folder.mkdir(parents=True)
    holder = {"run_id": "other", "host": socket.gethostname(), "pid": os.getppid(), "started": time.time()}
    (folder / "_synthgen.lock").write_text(json.dumps(holder))
    with pytest.raises(StateError, match=f"locked by host {socket.gethostname()} pid {os.getppid()}"):
        generate(config, spark, progress=None)
    args = cli_args(tmp_path)
    assert main(args) == 1
    assert f"pid {os.getppid()}" in capsys.readouterr().err
    assert data_files(tmp_path) == {}


def test_a_stale_lock_of_a_dead_process_is_taken_over(spark, tmp_path, capsys):
    config = csv_config(tmp_path, end_date="2024-02-01")
    folder = Path(job_root(config))
    folder.mkdir(parents=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    holder = {"run_id": "dead", "host": socket.gethostname(), "pid": dead.pid, "started": time.time()}
    (folder / "_synthgen.lock").write_text(json.dumps(holder))
    generate(config, spark, progress=print)
    assert f"taking over a stale lock of host {socket.gethostname()} pid {dead.pid}" in capsys.readouterr().out
    assert not (folder / "_synthgen.lock").exists() and len(data_files(tmp_path)) == 4


def synthgen(root: Path, end_date: str = "2024-02-04") -> subprocess.Popen:
    """A real ``synthgen generate`` of four days from 2024-02-01 (batch_size 1) in its own process group."""
    return subprocess.Popen(
        synthgen_args(root, end_date), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


def wait_for(predicate, timeout: float = 120.0) -> None:
    """Poll ``predicate`` until true; a folder the run deletes while it is being walked means "not yet"."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return
        except FileNotFoundError:
            pass
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_two_concurrent_runs_one_proceeds_the_other_exits_1(spark, tmp_path, capsys):
    """The first run is a real process; the second, the CLI in this one, finds its lock while it runs."""
    first = synthgen(tmp_path, end_date="2024-02-03")  # three daily batches: still running when the second starts
    try:
        wait_for(lambda: any(tmp_path.rglob("_synthgen.lock")))
        assert main(cli_args(tmp_path, end_date="2024-02-03")) == 1
        assert f"locked by host {socket.gethostname()} pid {first.pid}" in capsys.readouterr().err
        assert first.wait(timeout=300) == 0
    finally:
        if first.poll() is None:
            kill_group(first)


def synthgen_args(root: Path, end_date: str = "2024-02-04") -> list[str]:
    return [sys.executable, "-m", "synthgen_spark", *cli_args(root, end_date=end_date)]


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the run and its Spark JVM, and wait until the whole process group is gone."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()

    def gone() -> bool:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return True
        return False

    wait_for(gone, timeout=30)


def recorded_days_are_complete(root: Path) -> None:
    """Every day in the ledger has all its files, whole; no temp or partial file is in the layout."""
    states = list(root.rglob("_synthgen_state.json"))
    for name in files_under(root):
        assert "_tmp/" in name or not Path(name).name.startswith(".") and ".tmp" not in name, name
    if not states:
        return
    done = json.loads(states[0].read_text())["done"]
    for table, days in done.items():
        for day, info in days.items():
            path = states[0].parent / table / f"{table}_{day.replace('-', '')}.csv"
            assert len(path.read_text().splitlines()) == info["rows"] + 1, path


@pytest.fixture(scope="module")
def clean_run(spark, tmp_path_factory) -> Path:
    clean = tmp_path_factory.mktemp("clean")
    generate(csv_config(clean, end_date="2024-02-04"), spark, progress=None)
    return clean


@pytest.mark.parametrize("kill_when", ["first_file", "first_ledger_day", "midway"])
def test_sigkill_at_any_moment_then_rerun_equals_a_clean_run(spark, tmp_path, capsys, clean_run, kill_when):
    """A real ``synthgen`` process killed with SIGKILL; the rerun (here, in this process) completes the job."""
    clean, crashed = clean_run, tmp_path / "crashed"
    victim = synthgen(crashed)
    try:
        if kill_when == "first_file":
            wait_for(lambda: any(p.suffix == ".csv" for p in crashed.rglob("*.csv") if "_tmp" not in str(p)))
        elif kill_when == "first_ledger_day":
            wait_for(lambda: any('"orders"' in p.read_text() for p in crashed.rglob("_synthgen_state.json")))
        else:
            wait_for(lambda: len([p for p in crashed.rglob("orders_*.csv")]) >= 2)
    finally:
        kill_group(victim)
    recorded_days_are_complete(crashed)
    generate(csv_config(crashed, end_date="2024-02-04"), spark, progress=print)
    assert "taking over a stale lock" in capsys.readouterr().out
    assert data_files(crashed) == data_files(clean)
    assert not any("_tmp" in f for f in files_under(crashed))
