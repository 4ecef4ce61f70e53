"""CLI: invalid input exits 2 with one line naming the field and writes nothing; plan and datasets."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from synthgen_spark.cli import main

from .helpers import FEB_JOB

INVALID = [
    (["--end-date", "2024-01-01"], "end_date"),
    (["--dataset-id", "no_such_dataset"], "dataset_id"),
    (["--batch-size", "0"], "batch_size"),
    (["--batch-size", "-3"], "batch_size"),
    (["--path-format", "deep"], "path_format"),
    (["--output-mode", "xlsx"], "output_mode"),
    (["--start-date", "2024-02-30"], "start_date"),
    (["--end-date", "2024-13-01"], "end_date"),
    (["--seed-value", "abc"], "seed_value"),
    (["--seed-value", "1.5"], "seed_value"),
    (["--job-name", "../up"], "job_name"),
    (["--job-name", "a/b"], "job_name"),
    (["--dataset-id", "../retail"], "dataset_id"),
    (["--parallel-workers", "0"], "parallel_workers"),
    (["--chunk-size", "0"], "chunk_size"),
    (["--scale-factor", "-1"], "scale_factor"),
    (["--holiday-country", "ZZ"], "holiday_country"),
    (["--start-date", "2019-06-01"], "start_date"),
    (["--seasonal-multipliers", "1,2,3"], "seasonal_multipliers"),
]


@pytest.mark.parametrize(("flags", "field"), INVALID, ids=[f"{f}-{i}" for i, (_, f) in enumerate(INVALID)])
def test_invalid_flags_exit_2_with_one_line_and_write_nothing(tmp_path, capsys, flags, field):
    out = tmp_path / "out"
    code = main(["generate", "--config", str(FEB_JOB), "--output-root", str(out), *flags])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and f"'{field}'" in err and "allowed" in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("file_text", "fragment"),
    [
        ("job_name: [unclosed\n", "not valid YAML"),
        ("dataset_id: retail_oltp_small\nstart_date: 2024-02-01\nend_date: 2024-02-02\ncolour: red\n", "'colour'"),
    ],
)
def test_invalid_job_files_exit_2(tmp_path, capsys, file_text, fragment):
    job = tmp_path / "job.yaml"
    job.write_text(file_text)
    code = main(["generate", "--config", str(job), "--output-root", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and fragment in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_unknown_flag_is_a_one_line_usage_error(capsys):
    assert main(["generate", "--no-such-flag", "1"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_plan_prints_days_batches_and_paths_and_writes_nothing(tmp_path, capsys):
    code = main(["plan", "--config", str(FEB_JOB), "--output-root", str(tmp_path), "--batch-size", "7"])
    text = capsys.readouterr().out
    assert code == 0
    assert "-- batch 1: 2024-02-01..2024-02-07" in text
    line = re.search(r"2024-02-03  Sat  orders +([\d,]+)  10000 x 1 x 1.2 x 1 x month 0.86 x noise ([\d.]+)\n", text)
    assert line, text  # base x scale x weekday x holiday x month x noise, and the rows they make
    rows, noise = int(line[1].replace(",", "")), float(line[2])  # the noise as printed, to 4 decimals
    assert abs(rows - 10000 * 1.2 * 0.86 * noise) <= 0.5 + 10000 * 1.2 * 0.86 * 0.00005
    assert "orders/orders_20240203.csv" in text
    assert list(tmp_path.iterdir()) == []


def test_datasets_list_and_show(capsys):
    assert main(["datasets"]) == 0
    assert "retail_oltp_small" in capsys.readouterr().out
    assert main(["datasets", "show", "retail_oltp_small"]) == 0
    shown = capsys.readouterr().out
    assert "orders (incremental" in shown and "order_total" in shown
    assert main(["datasets", "show", "nope"]) == 2


def test_python_dash_m_is_the_same_entry_point(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "synthgen_spark", "generate", "--config", str(FEB_JOB), "--batch-size", "0"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert done.stderr.strip().startswith("synthgen: error: ") and "'batch_size'" in done.stderr
    assert "Traceback" not in done.stderr and list(tmp_path.iterdir()) == []
