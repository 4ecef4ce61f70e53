"""Runs where its users run it: spark-submit on a standalone cluster, the wheel in a fresh venv, the
Fabric notebook headless, and the argv Databricks wheel tasks pass.

Markers: ``cluster`` (starts a master and two workers on 127.0.0.1), ``wheel`` (builds the wheel and
installs it with pyspark into a new venv; needs PyPI or pip's cache), ``notebook`` (runs the notebook
in a Jupyter kernel). Every process a test starts is stopped in a ``finally``, also when it fails.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from email.parser import Parser
from importlib import metadata
from pathlib import Path

import pytest

from synthgen_spark.api import generate, plan
from synthgen_spark.cli import main
from synthgen_spark.config import load_config_file

from .helpers import FEB_JOB, JIT_OPTS, files_under

REPO = Path(__file__).resolve().parent.parent
JOB_SCRIPT = REPO / "jobs" / "generate_series.py"
NOTEBOOK = REPO / "notebooks" / "synthgen_fabric.ipynb"
DATA_SUFFIXES = (".csv", ".parquet")
CORE_REQUIREMENTS = ["faker", "holidays", "pyyaml"]


# ---------------------------------------------------------------- helpers


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _planned_files(config, root: Path) -> list[str]:
    """The data files a job's plan says it writes, relative to ``root`` and sorted."""
    return sorted(str(Path(p).relative_to(root)) for td in plan(config).table_days for p in td.paths)


def _data_files(root: Path) -> list[str]:
    return [p for p in files_under(root) if p.endswith(DATA_SUFFIXES) and not Path(p).name.startswith(".")]


def _clean_env(**extra: str) -> dict[str, str]:
    """os.environ without what would point a child at this checkout or another Spark, plus ``extra``."""
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "SPARK_HOME", "SPARK_CONF_DIR", "PYSPARK_SUBMIT_ARGS")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(extra)
    return env


class Processes:
    """Long-running children, each in its own session (process group), logged to files and killed as groups."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.started: list[tuple[str, subprocess.Popen]] = []
        log_dir.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen:
        with open(self.log_dir / f"{name}.log", "wb") as log:
            proc = subprocess.Popen(
                argv, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.started.append((name, proc))
        return proc

    def run(self, name: str, argv: list[str], env: dict[str, str], cwd: Path, timeout: float) -> tuple[int, str]:
        """Run to completion (killed as a group after ``timeout``); returns the exit code and the output."""
        return self.finish(name, self.start(name, argv, env, cwd), timeout)

    def finish(self, name: str, proc: subprocess.Popen, timeout: float) -> tuple[int, str]:
        """Wait for a started process (killed as a group after ``timeout``); returns its exit code and output."""
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill(proc)
            pytest.fail(f"{name} did not finish in {timeout} s\n{self.tail()}")
        return code, (self.log_dir / f"{name}.log").read_text(errors="replace")

    @staticmethod
    def kill(*procs: subprocess.Popen) -> None:
        """SIGTERM to the groups, then SIGKILL to whatever of them is left (a worker's executors, say)."""
        for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            for proc in procs:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, sig)
            deadline = time.monotonic() + grace
            for proc in procs:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=max(0.0, deadline - time.monotonic()))

    def stop_all(self) -> None:
        self.kill(*(proc for _name, proc in reversed(self.started)))

    def tail(self, lines: int = 25) -> str:
        out = []
        for name, _proc in self.started:
            text = (self.log_dir / f"{name}.log").read_text(errors="replace").splitlines()
            out.append(f"--- {name} (last {lines} lines)\n" + "\n".join(text[-lines:]))
        return "\n".join(out)


def _wait_for(condition, timeout: float, what: str, diagnostics) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout} s waiting for {what}\n{diagnostics()}")


def _master_state(webui_port: int) -> dict:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    with opener.open(f"http://127.0.0.1:{webui_port}/json/", timeout=2) as response:
        return json.load(response)


def _events(event_log_dir: Path):
    """Every event of the application logs under ``event_log_dir`` (plain or rolling ``eventlog_v2_*`` folders)."""
    for log in sorted(p for p in event_log_dir.rglob("*") if p.is_file() and not p.name.startswith((".", "appstatus"))):
        for line in log.read_text().splitlines():
            yield json.loads(line)


def _executors_with_tasks(event_log_dir: Path) -> set[str]:
    """Executor ids of the successful tasks in the event log."""
    return {
        event["Task Info"]["Executor ID"]
        for event in _events(event_log_dir)
        if event.get("Event") == "SparkListenerTaskEnd" and event["Task End Reason"]["Reason"] == "Success"
    }


def _application_id(event_log_dir: Path) -> str:
    (app_id,) = {e["App ID"] for e in _events(event_log_dir) if e.get("Event") == "SparkListenerApplicationStart"}
    return app_id


def _assert_same_parquet_files(spark, left: Path, right: Path, files: list[str], primary_key: str) -> None:
    """The rows of each of ``files`` (relative, one table) are the same under ``left`` and ``right``."""
    from chispa import assert_df_equality
    from pyspark.sql import functions as F

    def read(root: Path):
        frame = spark.read.parquet(*(str(root / rel) for rel in files))
        frame = frame.withColumn("_file", F.element_at(F.split(F.col("_metadata.file_path"), "/"), -1))
        return frame.orderBy("_file", primary_key)

    assert_df_equality(read(left), read(right), ignore_nullable=True)


# ---------------------------------------------------------------- a. spark-submit on a standalone cluster

ZIP_CHECK = """
import sys
sys.path.insert(0, sys.argv[1])
import synthgen_spark
from synthgen_spark.catalog import builtin_dataset_ids, load_dataset
from synthgen_spark.cli import main
from synthgen_spark.pools import frozen_locales, load_locale_pools

assert synthgen_spark.__file__.startswith(sys.argv[1]), synthgen_spark.__file__
assert "retail_oltp_small" in builtin_dataset_ids()
assert set(frozen_locales()) >= {"en_US", "en_GB", "de_DE", "fr_FR"}
assert load_dataset("retail_oltp_small").tables and load_locale_pools("en_US")["first_names"].records
sys.exit(main(["plan", "--config", sys.argv[2], "--end-date", "2024-02-02"]))
"""


def test_package_zip_loads_datasets_and_pools_with_importlib_resources(tmp_path):
    package_zip = tmp_path / "synthgen_spark.zip"
    subprocess.run([sys.executable, "-m", "zipfile", "-c", str(package_zip), "synthgen_spark/"], cwd=REPO, check=True)
    result = subprocess.run(
        [sys.executable, "-c", ZIP_CHECK, str(package_zip), str(FEB_JOB)],
        cwd=tmp_path,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "total rows:" in result.stdout


CLUSTER_OVERRIDES = {
    "output_mode": "parquet",
    "batch_size": "3",  # 3 files per table in 2 tasks (one per core): both 1-core executors get one
    "scale_factor": "0.02",
    "end_date": "2024-02-03",
}


@pytest.mark.cluster
def test_spark_submit_with_py_files_zip_on_a_two_worker_cluster_matches_local_mode(spark, tmp_path):
    import pyspark

    spark_home = Path(pyspark.__file__).resolve().parent
    conf_dir = tmp_path / "conf"  # empty: no spark-defaults.conf or log4j2 settings from elsewhere
    conf_dir.mkdir()
    env = _clean_env(
        SPARK_HOME=str(spark_home),
        SPARK_CONF_DIR=str(conf_dir),
        SPARK_LOCAL_IP="127.0.0.1",
        PYSPARK_PYTHON=sys.executable,
        PYSPARK_DRIVER_PYTHON=sys.executable,
    )
    spark_class = str(spark_home / "bin" / "spark-class")
    master_port, master_ui = _free_port(), _free_port()
    master_url = f"spark://127.0.0.1:{master_port}"
    procs = Processes(tmp_path / "logs")
    try:
        procs.start(
            "master",
            [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1"]
            + ["--port", str(master_port), "--webui-port", str(master_ui)],
            env,
            tmp_path,
        )
        work_dirs = [tmp_path / f"worker{i}" for i in (1, 2)]
        for i, work_dir in enumerate(work_dirs, start=1):
            procs.start(
                f"worker{i}",
                [spark_class, "org.apache.spark.deploy.worker.Worker", master_url, "--cores", "1", "--memory", "1g"]
                + ["--host", "127.0.0.1", "--webui-port", str(_free_port()), "--work-dir", str(work_dir)],
                env,
                tmp_path,
            )
        _wait_for(
            lambda: sum(w["state"] == "ALIVE" for w in _master_state(master_ui)["workers"]) == 2,
            90,
            "two workers registered with the master",
            procs.tail,
        )

        # the package as a --py-files zip, built with the command docs/deploy_section.md gives
        package_zip = tmp_path / "synthgen_spark.zip"
        subprocess.run(
            [sys.executable, "-m", "zipfile", "-c", str(package_zip), "synthgen_spark/"], cwd=REPO, check=True
        )
        names = zipfile.ZipFile(package_zip).namelist()
        assert "synthgen_spark/data/datasets/retail_oltp_small.yaml" in names
        assert "synthgen_spark/data/pools/en_US.yaml" in names

        events = tmp_path / "events"
        events.mkdir()
        cluster_root = tmp_path / "cluster_out"
        base = [str(spark_home / "bin" / "spark-submit"), "--master", master_url, "--py-files", str(package_zip)]
        confs = {
            "spark.sql.session.timeZone": "UTC",
            "spark.executor.cores": "1",
            "spark.executor.memory": "1g",
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.ui.enabled": "false",
            "spark.scheduler.minRegisteredResourcesRatio": "1.0",  # start tasks once both executors are up
            "spark.eventLog.enabled": "true",
            "spark.eventLog.dir": events.as_uri(),
            "spark.eventLog.compress": "false",
            "spark.executor.extraJavaOptions": JIT_OPTS,  # as tests/conftest.py gives the driver (less JIT CPU)
        }
        submit = [*base, *(arg for key, value in confs.items() for arg in ("--conf", f"{key}={value}"))]
        submit += ["--total-executor-cores", "2"]
        flags = [arg for key, value in CLUSTER_OVERRIDES.items() for arg in ("--" + key.replace("_", "-"), value)]
        argv = [*submit, str(JOB_SCRIPT), "--config", str(FEB_JOB), "--output-root", str(cluster_root), *flags]
        code, output = procs.run("spark-submit", argv, env, tmp_path, timeout=240)
        assert code == 0, f"spark-submit exited {code}\n{procs.tail(60)}"
        assert f"synthgen_spark/__init__.py; Spark {pyspark.__version__}, master {master_url}" in output
        assert f"{package_zip.name}/synthgen_spark/__init__.py" in output  # (the driver's copy of) the zip

        # both workers ran tasks: executors of the event log's successful tasks, found in each worker's work dir
        app_id = _application_id(events)
        busy = _executors_with_tasks(events)
        per_worker = [{p.name for p in (work_dir / app_id).iterdir()} for work_dir in work_dirs]
        assert len(busy) == 2, f"tasks ran on executors {sorted(busy)}; workers had {per_worker}"
        assert all(executors & busy for executors in per_worker), f"busy {sorted(busy)}, per worker {per_worker}"

        # exit codes pass through spark-submit: an invalid override is 2 (runs while local mode runs below)
        bad_root = tmp_path / "bad_out"
        bad = [*base, "--conf", "spark.ui.enabled=false", "--conf", "spark.driver.host=127.0.0.1"]
        bad += [str(JOB_SCRIPT), "--config", str(FEB_JOB), "--output-root", str(bad_root), "--batch-size", "0"]
        invalid = procs.start("spark-submit-invalid", bad, env, tmp_path)

        # the same job in local mode gives the same files with the same content
        local_root = tmp_path / "local_out"
        config = load_config_file(FEB_JOB, {**CLUSTER_OVERRIDES, "output_root": str(local_root)})
        report = generate(config, spark, progress=None)
        assert files_under(cluster_root) == files_under(local_root)
        data_files = _data_files(local_root)
        assert data_files == _planned_files(config, local_root) and len(data_files) == 10
        dataset = plan(config).dataset
        for table in dataset.tables:  # flat layout: {table}/{table}_YYYYMMDD.parquet
            files = [rel for rel in data_files if Path(rel).parent.name == table.name]
            _assert_same_parquet_files(spark, cluster_root, local_root, files, table.primary_key)
        assert report.total_rows > 0

        code, output = procs.finish("spark-submit-invalid", invalid, timeout=120)
        assert code == 2, f"expected exit 2, got {code}\n{output[-3000:]}"
        assert "synthgen: error:" in output and "'batch_size'" in output  # one line naming the field
        assert not bad_root.exists()
    finally:
        procs.stop_all()


# ---------------------------------------------------------------- b. the wheel, in a fresh venv


def _requirement_name(requirement: str) -> str:
    name = re.match(r"[A-Za-z0-9._-]+", requirement.strip()).group()
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="module")
def built_wheel(tmp_path_factory) -> Path:
    """``python -m build --wheel`` on a copy of the checkout (tracked and new files, nothing ignored)."""
    base = tmp_path_factory.mktemp("wheel")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout.decode()
    source = base / "src"
    for rel in filter(None, listed.split("\0")):
        if (REPO / rel).is_file():
            (source / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, source / rel)
    dist = base / "dist"
    result = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist)],
        cwd=source,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"python -m build failed\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    wheels = sorted(dist.glob("synthgen_spark-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.mark.wheel
def test_wheel_has_package_data_and_only_three_core_requirements(built_wheel):
    with zipfile.ZipFile(built_wheel) as wheel:
        names = wheel.namelist()
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(wheel.read(meta_name).decode())
        entry_points = wheel.read(meta_name.replace("METADATA", "entry_points.txt")).decode()
    assert "synthgen_spark/data/datasets/retail_oltp_small.yaml" in names
    assert "synthgen_spark/data/pools/en_US.yaml" in names
    assert not [n for n in names if n.startswith(("tests/", "jobs/", "notebooks/", "conf/"))]
    requires = meta.get_all("Requires-Dist") or []
    core = sorted(_requirement_name(r) for r in requires if "extra ==" not in r)
    local = sorted(_requirement_name(r) for r in requires if re.search(r"extra\s*==\s*['\"]local['\"]", r))
    assert core == CORE_REQUIREMENTS, requires
    assert local == ["delta-spark", "pyspark"], requires
    assert re.search(r"^synthgen\s*=\s*synthgen_spark\.cli:console_main$", entry_points, re.M), entry_points


@pytest.mark.wheel
def test_wheel_with_local_extra_runs_synthgen_in_a_fresh_venv_outside_the_source_tree(built_wheel, tmp_path):
    venv = tmp_path / "venv"
    bin_dir = venv / "bin"
    env = _clean_env(PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", SPARK_LOCAL_IP="127.0.0.1")
    run_dir = tmp_path / "run"  # not the checkout: nothing may be imported from it
    run_dir.mkdir()

    def run(argv: list[str], timeout: float) -> subprocess.CompletedProcess:
        result = subprocess.run(argv, cwd=run_dir, env=env, capture_output=True, text=True, timeout=timeout)
        assert result.returncode == 0, (
            f"{argv[:3]} exited {result.returncode}\n{result.stdout[-3000:]}\n" + (result.stderr[-3000:])
        )
        return result

    run([sys.executable, "-m", "venv", str(venv)], 120)
    run(
        [str(bin_dir / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-compile"]
        + [f"{built_wheel}[local]"],
        900,
    )
    where = run([str(bin_dir / "python"), "-c", "import synthgen_spark; print(synthgen_spark.__file__)"], 60)
    assert where.stdout.strip().startswith(str(venv)), where.stdout
    assert "retail_oltp_small" in run([str(bin_dir / "synthgen"), "datasets"], 60).stdout  # package data

    out = tmp_path / "out"
    flags = ["--output-root", str(out), "--scale-factor", "0.01", "--end-date", "2024-02-02"]
    result = run([str(bin_dir / "synthgen"), "generate", "--config", str(FEB_JOB), *flags], 300)
    assert "total" in result.stdout
    config = load_config_file(FEB_JOB, {"output_root": str(out), "scale_factor": "0.01", "end_date": "2024-02-02"})
    expected = _planned_files(config, out)
    assert all(p.endswith(".csv") for p in expected) and len(expected) == 7
    assert _data_files(out) == expected


# ---------------------------------------------------------------- c. the Fabric notebook


def _notebook():
    import nbformat

    return nbformat.read(NOTEBOOK, as_version=4)


def test_notebook_parameters_cell_is_first_code_cell_and_has_every_parameter():
    nb = _notebook()
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code_cells[0].metadata.get("tags", [])
    assert nb.metadata.kernelspec.name == "python3" and nb.nbformat == 4
    values: dict = {}
    exec(code_cells[0].source, {}, values)
    expected = {
        "job_name",
        "dataset_id",
        "start_date",
        "end_date",
        "batch_size",
        "path_format",
        "output_mode",
        "seed_value",
        "enable_seasonal_patterns",
        "output_root",
        "scale_factor",
    }
    assert set(values) == expected
    assert values["output_root"] == "Files/synthgen"
    assert plan(values).batches  # the defaults are a valid job


def test_notebook_only_imports_notebookutils_inside_try_except():
    for cell in _notebook().cells:
        if cell.cell_type != "code" or "notebookutils" not in cell.source:
            continue
        tree = ast.parse(cell.source)
        guarded = {id(node) for t in ast.walk(tree) if isinstance(t, ast.Try) for b in t.body for node in ast.walk(b)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                modules = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
                if any(m and m.split(".")[0] in ("notebookutils", "mssparkutils") for m in modules):
                    assert id(node) in guarded, f"unguarded import in cell {cell.get('id')}"


@pytest.mark.notebook
def test_notebook_runs_headless_with_papermill_style_parameters(tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    # a python3 kernelspec that is this interpreter (the venv), found before any other python3
    kernel_dir = tmp_path / "jupyter" / "kernels" / "python3"
    kernel_dir.mkdir(parents=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"], "language": "python"}
    (kernel_dir / "kernel.json").write_text(json.dumps({**spec, "display_name": "synthgen test"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("PYTHONPATH", str(REPO))  # the kernel imports this checkout's package, however installed
    monkeypatch.setenv("SPARK_LOCAL_IP", "127.0.0.1")

    out = tmp_path / "out"
    overrides = {"output_root": str(out), "end_date": "2024-02-02", "scale_factor": 0.01, "output_mode": "csv"}
    nb = _notebook()
    index = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    injected = "# Parameters\n" + "\n".join(f"{k} = {v!r}" for k, v in overrides.items())
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell(injected, metadata={"tags": ["injected-parameters"]}))
    nb.cells.append(nbformat.v4.new_code_cell("import sys\nprint(sys.executable)"))
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    client = NotebookClient(
        nb, kernel_name="python3", timeout=600, startup_timeout=120, resources={"metadata": {"path": str(run_dir)}}
    )
    client.execute()

    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert printed.strip().endswith(sys.executable)
    assert "total" in printed and "order_items" in printed
    values: dict = {}
    exec(nb.cells[index].source + "\n" + injected, {}, values)
    expected = _planned_files(values, out)
    assert expected and all(p.endswith(".csv") for p in expected)
    assert _data_files(out) == expected


# ---------------------------------------------------------------- d. Databricks python_wheel_task argv

WHEEL_TASK_NAMED = {
    "batch-size": "2",
    "scale-factor": "0.01",
    "end-date": "2024-02-04",
    "seed-value": "5",
    "path-format": "nested",
}


def _positional(command: str, output_root: Path) -> list[str]:
    """``parameters: [...]``: the list is the argv."""
    flags = [arg for key, value in WHEEL_TASK_NAMED.items() for arg in (f"--{key}", value)]
    return [command, "--config", str(FEB_JOB), "--output-root", str(output_root), *flags]


def _named(command: str, output_root: Path) -> list[str]:
    """``named_parameters: {k: v}``, rendered by Databricks as ``--k=v``."""
    named = {"config": str(FEB_JOB), "output-root": str(output_root), **WHEEL_TASK_NAMED}
    return [command, *(f"--{key}={value}" for key, value in named.items())]


def test_wheel_task_parameters_and_named_parameters_plan_the_same(tmp_path, capsys):
    assert main(_positional("plan", tmp_path)) == 0
    positional = capsys.readouterr().out
    assert main(_named("plan", tmp_path)) == 0
    assert capsys.readouterr().out == positional
    assert "2 batches of 2 day(s)" in positional and "/nested/" in positional


def test_wheel_task_parameters_and_named_parameters_write_the_same_files(spark, tmp_path):
    assert main(_positional("generate", tmp_path / "positional")) == 0
    assert main(_named("generate", tmp_path / "named")) == 0
    written = _data_files(tmp_path / "positional")
    assert written and written == _data_files(tmp_path / "named")
    overrides = {key.replace("-", "_"): value for key, value in WHEEL_TASK_NAMED.items()}
    config = load_config_file(FEB_JOB, {**overrides, "output_root": str(tmp_path / "named")})
    assert written == _planned_files(config, tmp_path / "named")


def _console_entry_point(name: str = "synthgen"):
    (entry,) = [e for e in metadata.entry_points(group="console_scripts") if e.name == name]
    return entry.load()


def test_named_parameters_alone_through_the_synthgen_entry_point(spark, tmp_path, monkeypatch):
    named = {"config": str(FEB_JOB), "output-root": str(tmp_path), **WHEEL_TASK_NAMED}
    monkeypatch.setattr(sys, "argv", ["synthgen", *(f"--{key}={value}" for key, value in named.items())])
    try:
        _console_entry_point()()  # what a python_wheel_task with entry_point: synthgen calls
        code = 0
    except SystemExit as exited:
        code = exited.code or 0
    assert code == 0
    assert _data_files(tmp_path)


def test_named_parameters_boolean_false(tmp_path, capsys):
    assert main([*_named("plan", tmp_path), "--no-enable-seasonal-patterns"]) == 0
    negated = capsys.readouterr().out
    assert main([*_named("plan", tmp_path), "--enable-seasonal-patterns=false"]) == 0
    assert capsys.readouterr().out == negated
