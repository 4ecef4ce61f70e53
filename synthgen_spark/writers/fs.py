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

    def write_text_atomically(self, path: str, text: str) -> None:
        """Write a temp file next to ``path`` and rename it into place: readers see old or new, never half."""
        temp = f"{path}.tmp-{id(text):x}"
        self.delete(temp)
        if not self.create_exclusive(temp, text):
            raise WriteError(f"writer: could not create {temp}")
        self.move_into_place(temp, path)
