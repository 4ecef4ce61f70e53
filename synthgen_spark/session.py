"""SparkSession: reuse the active one untouched (Fabric, Databricks, spark-submit), else build local mode.

Local sessions get Delta Lake: the jars of the installed delta-spark, fetched once from Maven
Central into a cache (``python -m synthgen_spark.session fetch-jars``), so later runs need no network.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from importlib import metadata
from pathlib import Path

from pyspark.sql import SparkSession

# Generated plans are wide (a child_sum reads several child rows, each with keys and lookups): as
# one whole-stage-codegen method they exceed the 8000 bytes of bytecode HotSpot will JIT-compile,
# and Spark only finds out after compiling them. Per-expression code generation is faster for
# daily batches and large days (15-25% for a week of retail_oltp_small, 2.4x for one large day of
# orders); it costs more per task, so batches of many small files lose some (README: Development).
#
# Constraint propagation makes the optimizer derive every constraint of every projection (each generated
# column is an alias, and PruneFilters asks for them all): 30-60 ms per plan of a change feed or a faulted
# table, for filters that a generated frame never lets it prune. The data is the same either way.
GENERATION_SETTINGS = {"spark.sql.codegen.wholeStage": "false", "spark.sql.constraintPropagation.enabled": "false"}
SPARK_DEFAULTS = {"spark.sql.codegen.wholeStage": "true", "spark.sql.constraintPropagation.enabled": "true"}
LOCAL_SETTINGS = {
    **GENERATION_SETTINGS,
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.driver.memory": "2g",  # planning a whole dataset's expressions needs more than the 1g default
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "8",
    "spark.scheduler.mode": "FAIR",
    # a job's tables, feeds and labels generate a few hundred classes; at Spark's default of 100 the
    # code cache evicts them and every batch compiles them again (about 50 ms each, seconds per batch)
    "spark.sql.codegen.cache.maxEntries": "1000",
}
DELTA_SETTINGS = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    "spark.databricks.delta.snapshotPartitions": "2",  # local mode: 50 tiny tasks per commit cost seconds
}
# set where the platform provides the session (Databricks: classic or serverless; Connect mode)
PLATFORM_VARIABLES = ("DATABRICKS_RUNTIME_VERSION", "SPARK_CONNECT_MODE_ENABLED")
# local sessions log errors only (the start-up warnings would bury synthgen's one-line messages)
QUIET_LOGGING = Path(__file__).parent / "data" / "log4j2-quiet.properties"
JAR_CACHE = Path.home() / ".cache" / "synthgen_spark" / "jars"
POM = """<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>local</groupId><artifactId>synthgen-delta-jars</artifactId><version>1</version>
<dependencies><dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId><version>{version}</version>
</dependency></dependencies></project>"""


def delta_artifact(spark_version: str, delta_version: str) -> str:
    """Maven coordinates of delta-spark for a Spark and delta-spark version.

    Example: ``delta_artifact("4.1.1", "4.2.0") == "io.delta:delta-spark_4.1_2.13:4.2.0"``.
    """
    major, minor = (int(part) for part in delta_version.split(".")[:2])
    if (major, minor) >= (4, 1):
        spark_minor = ".".join(spark_version.split(".")[:2])
        return f"io.delta:delta-spark_{spark_minor}_2.13:{delta_version}"
    return f"io.delta:delta-spark_{'2.13' if major >= 4 else '2.12'}:{delta_version}"


def installed_delta_artifact() -> str | None:
    """The delta-spark artifact matching the installed pyspark and delta-spark, or None without delta-spark."""
    import pyspark

    try:
        return delta_artifact(pyspark.__version__, metadata.version("delta-spark"))
    except metadata.PackageNotFoundError:
        return None


def delta_jar_dir(artifact: str) -> Path:
    """Where the jars of ``artifact`` are cached."""
    return JAR_CACHE / artifact.replace(":", "_")


def fetch_delta_jars(artifact: str) -> list[Path]:
    """Copy the artifact's Delta jars from Maven Central into the cache with ``mvn`` (once).

    They land in a temporary folder beside the cache, renamed into place whole: a session started
    meanwhile sees no jars (and resolves the package itself), never a half-written one.
    """
    target = delta_jar_dir(artifact)
    jars = sorted(target.glob("*.jar"))
    if jars:
        return jars
    group, name, version = artifact.split(":")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}.", ignore_cleanup_errors=True)
    with tempfile.TemporaryDirectory() as folder, staging as download:
        Path(folder, "pom.xml").write_text(POM.format(group=group, artifact=name, version=version))
        subprocess.run(
            [
                "mvn",
                "-q",
                "-B",
                "dependency:copy-dependencies",
                f"-DoutputDirectory={download}",
                "-DincludeScope=runtime",
                "-DincludeGroupIds=io.delta,io.unitycatalog",
            ],
            cwd=folder,
            check=True,
        )
        try:
            Path(download).rename(target)
        except OSError:  # another fetch put its folder in place first
            if not any(target.glob("*.jar")):
                raise
    return sorted(target.glob("*.jar"))


def get_or_create_session(
    master: str = "local[*]", app_name: str = "synthgen", extra: dict | None = None, with_delta: bool = True
) -> SparkSession:
    """The active SparkSession if there is one (left exactly as it is), else a new one.

    The active session may be classic or Spark Connect. With no active session, ``SPARK_REMOTE``
    (e.g. ``sc://127.0.0.1:15002``) names a Spark Connect server to use; else a local-mode session
    is built. A new local session has Delta configured when delta-spark is installed: the cached jars if fetched,
    else ``spark.jars.packages`` (Spark then resolves them from ~/.m2 or Maven Central).

    Example::

        spark = get_or_create_session()          # in a notebook: the notebook's own session
    """
    active = active_session()
    if active is not None:
        return active
    if os.environ.get("SPARK_REMOTE"):  # pyspark's own variable: a Spark Connect server to use
        return SparkSession.builder.remote(os.environ["SPARK_REMOTE"]).getOrCreate()
    if any(os.environ.get(name) for name in PLATFORM_VARIABLES):  # the platform's session, as it built it
        return SparkSession.builder.getOrCreate()
    settings = {**LOCAL_SETTINGS, "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={QUIET_LOGGING}"}
    artifact = installed_delta_artifact() if with_delta else None
    if artifact:
        jars = sorted(delta_jar_dir(artifact).glob("*.jar"))
        settings.update(DELTA_SETTINGS)
        if jars:
            settings["spark.jars"] = ",".join(str(j) for j in jars)
        else:
            settings["spark.jars.packages"] = artifact
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in {**settings, **(extra or {})}.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def active_session() -> SparkSession | None:
    """The session this process is using, classic or Spark Connect, or None."""
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    try:
        from pyspark.sql.connect.session import SparkSession as ConnectSession
    except ImportError:  # pyspark without its Spark Connect client dependencies
        return None
    return ConnectSession.getActiveSession()


@contextmanager
def generation_settings(spark: SparkSession) -> Iterator[None]:
    """GENERATION_SETTINGS for the duration of a run, where the session still has Spark's default.

    A setting the user chose is kept; a session that refuses the change (some managed ones) too.
    """
    changed: dict[str, str | None] = {}
    for key, value in GENERATION_SETTINGS.items():
        try:
            current = spark.conf.get(key, None)
            if current in (None, SPARK_DEFAULTS[key]):
                spark.conf.set(key, value)
                changed[key] = current
        except Exception:  # noqa: BLE001 - py4j/Spark Connect errors differ; the run works without it
            continue
    try:
        yield
    finally:
        for key, previous in changed.items():
            with suppress(Exception):
                spark.conf.unset(key) if previous is None else spark.conf.set(key, previous)


def main(argv: list[str]) -> int:
    """``python -m synthgen_spark.session fetch-jars``: cache the Delta jars for the installed versions."""
    if argv != ["fetch-jars"]:
        print("usage: python -m synthgen_spark.session fetch-jars", file=sys.stderr)
        return 2
    artifact = installed_delta_artifact()
    if artifact is None:
        print("delta-spark is not installed: nothing to fetch (pip install 'synthgen_spark[local]')")
        return 0
    jars = fetch_delta_jars(artifact)
    print(f"{artifact}: {len(jars)} jars in {delta_jar_dir(artifact)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
