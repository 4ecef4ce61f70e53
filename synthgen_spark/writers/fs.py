"""The few file operations writers need, through Hadoop's FileSystem API (local, abfss://, dbfs:/)."""

from __future__ import annotations

from pyspark.sql import SparkSession

from synthgen_spark.errors import WriteError


class HadoopFileSystem:
    """Exists, delete, list, rename-into-place and small text files on any Hadoop filesystem."""

    def __init__(self, spark: SparkSession) -> None:
        self._jvm = spark.sparkContext._jvm
        self._conf = spark.sparkContext._jsc.hadoopConfiguration()
        self._checksummed = self._jvm.java.lang.Class.forName("org.apache.hadoop.fs.ChecksumFileSystem")

    def _fs(self, path: str):
        jpath = self._jvm.org.apache.hadoop.fs.Path(path)
        fs = jpath.getFileSystem(self._conf)
        # the local checksum filesystem would drag hidden .crc files along with every rename
        return (fs.getRawFileSystem() if self._checksummed.isInstance(fs) else fs), jpath

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

    def move_into_place(self, source: str, target: str) -> None:
        """Rename ``source`` to ``target``, replacing an older ``target``; the new file appears whole."""
        fs, src = self._fs(source)
        _, dst = self._fs(target)
        fs.mkdirs(dst.getParent())
        if fs.rename(src, dst):
            return
        if fs.exists(dst):
            fs.delete(dst, False)
        if not fs.rename(src, dst):
            raise WriteError(f"writer: could not rename {source} to {target}")
