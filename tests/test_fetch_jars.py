"""``fetch-jars`` puts the Delta jar cache in place whole (Spark-free; a stand-in ``mvn`` writes the jars)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from synthgen_spark import session

ARTIFACT = "io.delta:delta-spark_4.1_2.13:4.2.0"
# writes two jars into -DoutputDirectory, checking on the way that the cache folder is not there yet
FAKE_MVN = """#!/bin/sh
for arg in "$@"; do case "$arg" in -DoutputDirectory=*) out="${arg#-DoutputDirectory=}";; esac; done
test ! -e "$CACHE_TARGET" || exit 3
echo one > "$out/delta-spark.jar"
test ! -e "$CACHE_TARGET" || exit 4
echo two > "$out/delta-storage.jar"
"""


@pytest.fixture
def fake_mvn(tmp_path, monkeypatch):
    folder = tmp_path / "bin"
    folder.mkdir()
    mvn = folder / "mvn"
    mvn.write_text(FAKE_MVN)
    mvn.chmod(mvn.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(session, "JAR_CACHE", tmp_path / "cache")
    monkeypatch.setenv("CACHE_TARGET", str(session.delta_jar_dir(ARTIFACT)))
    return tmp_path / "cache"


def test_the_jars_appear_all_at_once_and_no_staging_folder_is_left(fake_mvn):
    jars = session.fetch_delta_jars(ARTIFACT)
    target = session.delta_jar_dir(ARTIFACT)
    assert [j.name for j in jars] == ["delta-spark.jar", "delta-storage.jar"] and all(j.parent == target for j in jars)
    assert [p.name for p in fake_mvn.iterdir()] == [target.name]


def test_a_second_fetch_uses_the_cache(fake_mvn, monkeypatch):
    first = session.fetch_delta_jars(ARTIFACT)
    monkeypatch.setenv("PATH", "/nonexistent")  # no mvn: the cache must answer
    assert session.fetch_delta_jars(ARTIFACT) == first


def test_a_failed_download_leaves_no_cache_folder(fake_mvn, monkeypatch):
    monkeypatch.setenv("CACHE_TARGET", "/")  # the stand-in fails
    with pytest.raises(Exception, match="exit status 3"):
        session.fetch_delta_jars(ARTIFACT)
    assert list(Path(fake_mvn).iterdir()) == []
