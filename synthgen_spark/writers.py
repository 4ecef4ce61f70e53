"""Writers: one real file per table per day (or per chunk), made visible atomically by a rename.

Spark writes a batch into a hidden temp folder (one part file per partition, in partition order);
each part is then renamed through the Hadoop FileSystem API to its final name, so local disk,
abfss:// and dbfs:/ behave alike and no reader ever sees a half-written file.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from synthgen_spark.errors import WriteError
from synthgen_spark.planner import TableDay

CSV_OPTIONS = {"header": "true", "timestampFormat": "yyyy-MM-dd HH:mm:ss", "dateFormat": "yyyy-MM-dd"}


class HadoopFileSystem:
    """The few file operations the writers and the ledger need, through Hadoop's FileSystem API."""

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


def _part_number(name: str) -> int:
    return int(name.split("-")[1])


def write_files(
    frame: DataFrame, table_days: list[TableDay], output_mode: str, temp_dir: str, fs: HadoopFileSystem
) -> None:
    """Write a batch of one table to its files: one per partition, renamed in partition order."""
    writer = frame.write.mode("overwrite")
    if output_mode == "csv":
        writer.options(**CSV_OPTIONS).csv(temp_dir)
    else:
        writer.parquet(temp_dir)
    parts = sorted((n for n in fs.list_names(temp_dir) if n.startswith("part-")), key=_part_number)
    targets = [path for td in table_days for path in td.paths]
    if len(parts) != len(targets):
        raise WriteError(
            f"writer: table '{table_days[0].table.name}': Spark wrote {len(parts)} part files for {len(targets)} "
            "expected files; nothing was moved into place."
        )
    for part, target in zip(parts, targets, strict=True):
        fs.move_into_place(f"{temp_dir}/{part}", target)
    fs.delete(temp_dir)
