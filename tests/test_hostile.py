"""Hostile input: each case is input -> exit code 2 -> one line naming the field -> nothing written.

Every case here is refused before Spark starts (the CLI runs in-process), so the file runs in seconds.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import string
import subprocess
import sys
from pathlib import Path

import pytest

from synthgen_spark.catalog import load_dataset, parse_dataset
from synthgen_spark.cli import MAX_MESSAGE, main
from synthgen_spark.config import JobConfig
from synthgen_spark.planner import build_plan, drift_factor, job_root
from synthgen_spark.state import Ledger

from .helpers import MINI_DATASET, files_under

DATASET = MINI_DATASET.replace("dataset_id: mini\n", "dataset_id: mini\nepoch: 2024-01-01\n")
JOB = "dataset_id: retail_oltp_small\nstart_date: 2024-02-01\nend_date: 2024-02-02\n"
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
)


def _dataset(old: str, new: str) -> str:
    assert old in DATASET
    return DATASET.replace(old, new, 1)


# (case id, flags, files to create {name: text or bytes}, exit code, fragment of the one-line message)
CASES = [
    # 1: table names become folders: snake_case and unique
    ("table-name-escapes", ["--dataset-file", "d.yaml"], {"d.yaml": _dataset("name: events", "name: ../../evil")}, "field 'name'"),
    ("table-name-slash", ["--dataset-file", "d.yaml"], {"d.yaml": _dataset("name: events", "name: a/b")}, "snake_case"),
    ("table-name-twice", ["--dataset-file", "d.yaml"], {"d.yaml": _dataset("name: events", "name: things")}, "defined twice"),
    ("table-name-number", ["--dataset-file", "d.yaml"], {"d.yaml": _dataset("name: events", "name: 12")}, "field 'name'"),
    # 2: output roots no run can use
    ("root-empty", ["--output-root", ""], {}, "field 'output_root'"),
    ("root-blank", ["--output-root", "  "], {}, "field 'output_root'"),
    ("root-is-file", ["--output-root", "afile"], {"afile": "x"}, "is a file"),
    ("root-under-file", ["--output-root", "afile/sub"], {"afile": "x"}, "is a file"),
    ("root-colon-relative", ["--output-root", "out/a:b"], {}, "':'"),
    ("root-unknown-scheme", ["--output-root", "nosuch://bucket/x"], {}, "unknown scheme"),
    ("root-proc", ["--output-root", "/proc/synthgen"], {}, "system file system"),
    ("job-name-300", ["--job-name", "j" * 300], {}, "field 'job_name'"),
    # 7: YAML content
    ("job-impossible-date", ["--config", "j.yaml"], {"j.yaml": JOB.replace("2024-02-02", "2023-02-30")}, "field 'end_date'"),
    ("job-not-utf8", ["--config", "j.yaml"], {"j.yaml": b"dataset_id: \xff\xfe\n"}, "not UTF-8"),
    ("job-binary", ["--config", "j.yaml"], {"j.yaml": b"\x00\x01\x02PK\x03\x04"}, "NUL"),
    ("job-duplicate-key", ["--config", "j.yaml"], {"j.yaml": JOB + "seed_value: 1\nseed_value: 2\n"}, "given twice"),
    ("job-int-key", ["--config", "j.yaml"], {"j.yaml": JOB + "1: x\n"}, "must be text"),
    ("job-alias-bomb", ["--config", "j.yaml"], {"j.yaml": BOMB}, "aliases expand"),
    ("job-huge", ["--config", "j.yaml"], {"j.yaml": JOB + "#" * 1_100_000}, "larger than"),
    ("job-dev-zero", ["--config", "/dev/zero"], {}, "larger than"),
    ("job-long-value", ["--config", "j.yaml"], {"j.yaml": JOB + "job_name: " + "k" * 50_000 + "\n"}, "field 'job_name'"),
    ("dataset-bad-epoch", ["--dataset-file", "d.yaml"], {"d.yaml": _dataset("2024-01-01", "2023-02-30")}, "field 'epoch'"),
    ("dataset-epoch-year-1", ["--dataset-file", "d.yaml"], {"d.yaml": _dataset("2024-01-01", "0001-01-01")}, "field 'epoch'"),
    ("dataset-duplicate-key", ["--dataset-file", "d.yaml"], {"d.yaml": _dataset("rows: 5", "rows: 5\n    rows: 6")}, "given twice"),
    ("dataset-self-parent", ["--dataset-file", "d.yaml"], {"d.yaml": _dataset("rows: 5", "rows: 5\n    parent: events\n    rows_per_parent: 2")}, "cycle"),
    ("dataset-alias-bomb", ["--dataset-file", "d.yaml"], {"d.yaml": DATASET + "pools:\n  " + BOMB.replace("\n", "\n  ")}, "aliases expand"),
    ("dataset-date-repr", ["--dataset-file", "d.yaml"], {"d.yaml": _dataset("{name: event_date, kind: generation_date}", "{name: event_date, kind: generation_date}\n      - {name: n, kind: choice, type: int, values: [1, 2024-01-05]}")}, "'2024-01-05'"),
]  # fmt: skip


@pytest.mark.parametrize(("flags", "files", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_input_exits_2_with_one_line_and_writes_nothing(tmp_path, monkeypatch, capsys, flags, files, fragment):
    monkeypatch.chdir(tmp_path)
    for name, content in files.items():
        (tmp_path / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    before = files_under(tmp_path)
    base = ["--dataset-id", "retail_oltp_small", "--start-date", "2024-02-01", "--end-date", "2024-02-02"]
    if "--config" in flags:
        base = []
    elif "--dataset-file" in flags:
        base = ["--dataset-id", "mini", "--start-date", "2024-02-01", "--end-date", "2024-02-02"]
    code = main(["generate", *base, *flags])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and fragment in err, err
    assert len(err) <= MAX_MESSAGE + len("synthgen: ") and "datetime.date" not in err
    assert files_under(tmp_path) == before


def _random_name(rng: random.Random, first: str, rest: str, longest: int) -> str:
    return rng.choice(first) + "".join(rng.choice(rest) for _ in range(rng.randrange(longest)))


def test_every_layout_path_is_inside_the_job_folder_for_random_valid_names(tmp_path):
    """Property: any valid table and job names give paths strictly below the job folder."""
    rng = random.Random(16)
    snake = string.ascii_lowercase + string.digits + "_"
    safe = string.ascii_letters + string.digits + "_.-"
    for _ in range(60):
        tables = sorted({_random_name(rng, string.ascii_lowercase, snake, 40) for _ in range(2)})
        text = DATASET.replace("name: things", f"name: {tables[0]}").replace("things.thing_id", f"{tables[0]}.thing_id")
        text = text.replace("name: events", f"name: {tables[-1]}" if len(tables) > 1 else "name: events_x")
        job_name = _random_name(rng, string.ascii_letters + string.digits, safe, 99).replace("..", "._")
        dataset = parse_dataset(text, "random.yaml")
        for mode, layout in (("parquet", "nested"), ("csv", "flat"), ("table", "nested")):
            config = JobConfig.from_mapping(
                {
                    "dataset_id": "mini",
                    "job_name": job_name,
                    "start_date": "2024-02-27",
                    "end_date": "2024-03-01",
                    "output_root": str(tmp_path / "root"),
                    "output_mode": mode,
                    "path_format": layout,
                    "table_location": "path",
                    "chunk_size": rng.choice([None, 1, 2]),
                }
            )
            folder = Path(job_root(config)).parent if mode == "table" else Path(job_root(config))
            paths = [p for td in build_plan(config, dataset).table_days for p in td.target.places]
            for path in paths:
                resolved = Path(path).resolve()
                assert folder.resolve() in resolved.parents and resolved.is_relative_to(tmp_path / "root"), path


DERIVED = "{name: event_date, kind: generation_date}"


@pytest.mark.parametrize(
    ("new", "fragment"),
    [
        (DERIVED + "\n      - {name: x, kind: derived, expression: \"reflect('java.lang.System', 'exit', 1)\"}", "reflect()"),
        (DERIVED + "\n      - {name: x, kind: derived, expression: \"JAVA_METHOD ('java.util.UUID', 'randomUUID')\"}", "java_method()"),
        (DERIVED + "\n      - {name: x, kind: derived, expression: \"`try_reflect`('java.util.UUID', 'randomUUID')\"}", "try_reflect()"),
        (DERIVED + "\n      - {name: a, kind: uniform, min: 1, max: b}\n      - {name: b, kind: uniform, min: a, max: 9}", "table 'events', column 'a': field 'parameters': depends on itself (a -> b -> a)"),
    ],
)  # fmt: skip
def test_dataset_rules_found_before_spark_name_file_table_and_column(tmp_path, capsys, new, fragment):
    dataset = tmp_path / "d.yaml"
    dataset.write_text(_dataset(DERIVED, new))
    flags = ["--dataset-id", "mini", "--dataset-file", str(dataset), "--start-date", "2024-02-01"]
    code = main(["generate", *flags, "--end-date", "2024-02-01", "--output-root", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and fragment in err and str(dataset) in err, err
    assert not (tmp_path / "out").exists()


def test_plan_warns_above_the_documented_size(capsys):
    flags = ["--dataset-id", "retail_oltp_small", "--start-date", "2024-02-01", "--end-date", "2024-02-02"]
    assert main(["plan", *flags, "--scale-factor", "10000", "--end-date", "2024-02-29"]) == 0
    assert "warning: this plan makes" in capsys.readouterr().err
    assert main(["plan", *flags]) == 0
    assert capsys.readouterr().err == ""


def test_plan_into_a_closed_pipe_exits_quietly():
    command = [sys.executable, "-m", "synthgen_spark", "plan", "--dataset-id", "retail_oltp_small"]
    command += ["--start-date", "2024-01-01", "--end-date", "2024-12-31"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as plan:
        plan.stdout.readline()
        plan.stdout.close()  # what `| head -1` does
        err = plan.stderr.read().decode()
        assert plan.wait(timeout=60) == 0 and err == "", err


def test_ctrl_c_is_one_line_and_exit_130(monkeypatch, capsys):
    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("synthgen_spark.planner.build_plan", interrupted)
    assert (
        main(["plan", "--dataset-id", "retail_oltp_small", "--start-date", "2024-02-01", "--end-date", "2024-02-01"])
        == 130
    )
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("synthgen: interrupted")


def test_state_show_tells_killed_runs_as_interrupted():
    runs = [
        {"run_id": "r1", "status": "completed"},
        {"run_id": "r2", "status": "running"},
        {"run_id": "r3", "status": "running"},
    ]
    text = Ledger({"params": {}}, {}, runs).describe(active_run="r3")
    statuses = {line.split()[0]: line.split()[1] for line in text.splitlines() if line.startswith("  r")}
    assert statuses == {"r1": "completed", "r2": "interrupted", "r3": "running"}


def test_drift_that_would_overflow_a_column_type_is_refused_naming_column_and_first_date(tmp_path, capsys):
    flags = ["--dataset-id", "retail_oltp_small", "--enable-data-drift", "--drift-percentage", "10"]
    code = main(["generate", *flags, "--start-date", "2030-09-02", "--end-date", "2030-09-02"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "'drift_percentage'" in err and "column 'price' (decimal(10,2)" in err and "99999999.99" in err
    first = dt.date.fromisoformat(err.split(" from ")[1][:10])
    dataset = load_dataset("retail_oltp_small")
    config = JobConfig.from_mapping(
        {
            "dataset_id": "retail_oltp_small",
            "start_date": "2024-01-01",
            "end_date": "2024-01-01",
            "drift_percentage": 10,
        }
    )
    price_max = max(record[3] for record in dataset.pools["product_types"].records)
    assert price_max * drift_factor(config, dataset, first - dt.timedelta(days=1)) <= 99999999.995
    assert price_max * drift_factor(config, dataset, first) > 99999999.995
    day_before = {"start_date": first - dt.timedelta(days=7), "end_date": first - dt.timedelta(days=1)}
    assert build_plan(config.with_overrides({**day_before, "enable_data_drift": True})).total_rows > 0


def test_a_job_its_ledger_refuses_is_refused_before_spark_starts(tmp_path):
    """Another seed into a job on a local path: exit 2 and exactly one line, no JVM start-up lines."""
    from synthgen_spark.state import StateStore, fingerprint
    from synthgen_spark.writers.fs import LocalFileSystem

    flags = ["--job-name", "t", "--dataset-id", "retail_oltp_small", "--start-date", "2024-02-01"]
    flags += ["--end-date", "2024-02-01", "--output-mode", "csv", "--output-root", str(tmp_path)]
    config = JobConfig.from_mapping(
        {"job_name": "t", "dataset_id": "retail_oltp_small", "start_date": "2024-02-01", "end_date": "2024-02-01",
         "output_mode": "csv", "output_root": str(tmp_path)}
    )  # fmt: skip
    plan = build_plan(config)
    store = StateStore(LocalFileSystem(), config)
    store.save(Ledger(fingerprint(config, plan.dataset)))
    before = files_under(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "synthgen_spark", "generate", *flags, "--seed-value", "4"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "field 'seed_value'" in result.stderr, result.stderr
    assert files_under(tmp_path) == before


def test_a_file_where_a_days_folder_goes_is_one_line_naming_the_folder(tmp_path):
    """The Python file system (a Spark Connect session's, on a local root): the same one-line error as Hadoop's."""
    from synthgen_spark.errors import WriteError
    from synthgen_spark.writers.fs import LocalFileSystem

    part = tmp_path / "temp" / "part-00000.parquet"
    part.parent.mkdir()
    part.write_text("rows")
    (tmp_path / "orders").write_text("in the way")
    with pytest.raises(WriteError, match=rf"writer: cannot create the folder {tmp_path}/orders/2024: Not a directory"):
        LocalFileSystem().move_into_place(str(part), f"{tmp_path}/orders/2024/orders_2024-02-02.parquet")
    assert part.read_text() == "rows"
