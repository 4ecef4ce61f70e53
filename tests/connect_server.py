"""A real local Spark Connect server for the tests: pyspark's own server class, on 127.0.0.1, with Delta.

Clients run in their own processes (``SPARK_REMOTE``): a Spark Connect session switches PySpark's
functions to Connect mode for the whole process, so it cannot share a process with the classic one.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyspark

from synthgen_spark.session import DELTA_SETTINGS, LOCAL_SETTINGS, delta_jar_dir, installed_delta_artifact

SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_command(port: int, warehouse: Path) -> list[str]:
    """spark-submit of the Connect server with the settings and Delta jars of a local synthgen session."""
    spark_home = Path(pyspark.__file__).parent
    settings = {
        **LOCAL_SETTINGS,
        "spark.driver.memory": "3g",  # like the test session: the server plans every client's jobs
        **DELTA_SETTINGS,
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.warehouse.dir": str(warehouse),
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(port),
    }
    command = [
        str(spark_home / "bin" / "spark-submit"),
        "--class",
        SERVER_CLASS,
        "--master",
        "local[2]",
        "--driver-memory",
        "3g",
    ]
    jars = sorted(delta_jar_dir(installed_delta_artifact()).glob("*.jar"))
    command += ["--jars", ",".join(str(j) for j in jars)]
    for key, value in settings.items():
        command += ["--conf", f"{key}={value}"]
    return [*command, "spark-internal"]


@contextmanager
def connect_server(folder: Path, timeout_s: float = 180.0) -> Iterator[str]:
    """Start a server in ``folder`` (its log, warehouse and metastore), yield its URL, stop it on exit."""
    port = free_port()
    env = {
        **os.environ,
        "SPARK_HOME": str(Path(pyspark.__file__).parent),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen(
        server_command(port, folder / "warehouse"),
        cwd=folder,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Spark Connect server did not start: {(folder / 'server.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield f"sc://127.0.0.1:{port}"
    finally:
        with_group = process.poll() is None
        if with_group:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()
