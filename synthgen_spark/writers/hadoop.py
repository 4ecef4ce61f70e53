"""The classic-session adapter: file operations through Hadoop's FileSystem API (local, abfss://, dbfs:/).

The only module that reaches the JVM (``sparkContext``, ``_jvm``): a Spark Connect session has none,
and gets ``fs.LocalFileSystem`` instead. Every call into the JVM costs a py4j round trip (about a
millisecond), so filesystems are looked up once per scheme and authority, and a folder's files are
listed in a single call.
"""

from __future__ import annotations

import re

from pyspark.sql import SparkSession

from synthgen_spark.errors import WriteError, java_cause
from synthgen_spark.writers.fs import FileSystem


class HadoopFileSystem(FileSystem):
    """Exists, delete, list, rename-into-place and small text files on any Hadoop filesystem."""

    def __init__(self, spark: SparkSession) -> None:
        self.parallelism = int(spark.sparkContext.defaultParallelism)
        self._jvm = spark.sparkContext._jvm
        self._conf = spark.sparkContext._jsc.hadoopConfiguration()
        self._checksummed = self._jvm.java.lang.Class.forName("org.apache.hadoop.fs.ChecksumFileSystem")
        self._filesystems: dict[str, object] = {}
        self._made_folders: set[str] = set()

    def _fs(self, path: str):
        jpath = self._jvm.org.apache.hadoop.fs.Path(path)
        match = re.match(r"[A-Za-z][\w+.-]*://[^/]*|[A-Za-z][\w+.-]*:", path)
        key = match.group(0) if match else ""
        if key not in self._filesystems:
            fs = jpath.getFileSystem(self._conf)
            # the local checksum filesystem would drag hidden .crc files along with every rename
            self._filesystems[key] = fs.getRawFileSystem() if self._checksummed.isInstance(fs) else fs
        return self._filesystems[key], jpath

    def exists(self, path: str) -> bool:
        fs, jpath = self._fs(path)
        return bool(fs.exists(jpath))

    def delete(self, path: str) -> None:
        fs, jpath = self._fs(path)
        if fs.exists(jpath):
            fs.delete(jpath, True)

    def list_names(self, folder: str) -> list[str]:
        fs, jpath = self._fs(folder)
        if not fs.exists(jpath):
            return []
        return sorted(status.getPath().getName() for status in fs.listStatus(jpath))

    def list_two_levels(self, folder: str) -> list[str]:
        """Files and folders in ``folder`` and in its subfolders, relative to it (``a``, ``a/b``)."""
        fs, jpath = self._fs(folder)
        if not fs.exists(jpath):
            return []
        root = fs.makeQualified(jpath).toString().rstrip("/") + "/"
        hadoop = self._jvm.org.apache.hadoop.fs
        paths = hadoop.FileUtil.stat2Paths(fs.globStatus(hadoop.Path(f"{folder}/{{*,*/*}}")))
        text = str(self._jvm.scala.runtime.ScalaRunTime.stringOf(paths))  # "Array(root/a, root/a/b)"
        listed = text.removeprefix("Array(").removesuffix(")")
        if not listed:
            return []
        if not listed.startswith(root):
            raise WriteError(f"writer: listing {folder} returned paths outside it: {listed[:200]}")
        return sorted(listed[len(root) :].split(", " + root))

    def move_into_place(self, source: str, target: str) -> None:
        """Rename ``source`` to ``target``, replacing an older ``target``; the new file appears whole."""
        fs, src = self._fs(source)
        _, dst = self._fs(target)
        parent = target.rpartition("/")[0]
        if parent not in self._made_folders:
            try:
                fs.mkdirs(dst.getParent())
            except Exception as exc:  # noqa: BLE001 - a Py4J-wrapped Java error: a file in the way, no permission
                raise WriteError(f"writer: cannot create the folder {parent}: {java_cause(exc)}") from None
            self._made_folders.add(parent)
        if fs.rename(src, dst):
            return
        if fs.exists(dst):
            fs.delete(dst, False)
        if not fs.rename(src, dst):
            raise WriteError(f"writer: could not rename {source} to {target}")

    def read_text(self, path: str) -> str | None:
        """The whole file as UTF-8 text, or None if it does not exist."""
        fs, jpath = self._fs(path)
        if not fs.exists(jpath):
            return None
        stream = fs.open(jpath)
        try:
            return self._jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
        finally:
            stream.close()

    def create_exclusive(self, path: str, text: str) -> bool:
        """Create ``path`` with ``text`` only if it does not exist yet; False if it already did."""
        fs, jpath = self._fs(path)
        fs.mkdirs(jpath.getParent())
        try:
            stream = fs.create(jpath, False)
        except Exception:  # py4j wraps FileAlreadyExistsException
            if fs.exists(jpath):
                return False
            raise
        try:
            stream.write(bytearray(text.encode("utf-8")))
        finally:
            stream.close()
        return True

    def file_size(self, path: str) -> int | None:
        """The size in bytes of the file at ``path``; None if there is none (missing, or a folder)."""
        fs, jpath = self._fs(path)
        try:
            status = fs.getFileStatus(jpath)
        except Exception:  # noqa: BLE001 - py4j wraps FileNotFoundException
            return None
        return None if status.isDirectory() else int(status.getLen())
