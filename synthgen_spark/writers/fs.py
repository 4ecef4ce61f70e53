"""The file system a run moves files, keeps its ledger and takes its lock through, chosen once per run.

A classic session (py4j to a JVM driver: spark-submit, Fabric, Databricks dedicated clusters) uses
Hadoop's FileSystem API (``writers.hadoop``), which reaches abfss://, dbfs:/ and local disk alike. A
Spark Connect session (Databricks serverless and standard access mode, Databricks Connect, Spark 4
thin clients) has no JVM: it uses this process's own file system, which works where the output root
is a path both this process and the Spark server see (Unity Catalog volumes under ``/Volumes``,
Fabric's ``/lakehouse/default/Files``, a local path with a local server, a mounted share).

Example::

    fs = open_file_system(spark, layout_for(config))
    fs.write_text_atomically("/Volumes/main/default/synth/note.txt", "hello", "/Volumes/main/default/synth/_tmp")
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from abc import ABC, abstractmethod

from synthgen_spark.errors import ConfigError, WriteError, invalid
from synthgen_spark.layout import Layout

SCHEME = re.compile(r"^([A-Za-z][\w+.-]*):")
# partitions per batch frame where Spark does not say (Spark Connect hides defaultParallelism)
CONNECT_PARALLELISM = 8


class FileSystem(ABC):
    """The few file operations a run needs; every path is a string as the user wrote it."""

    parallelism: int  # tasks Spark runs at once, for sizing a batch's partitions (never changes data)

    @abstractmethod
    def exists(self, path: str) -> bool: ...

    @abstractmethod
    def delete(self, path: str) -> None:
        """Delete a file or a folder with everything in it; nothing if it does not exist."""

    @abstractmethod
    def list_names(self, folder: str) -> list[str]:
        """The names in ``folder``, sorted; [] if it does not exist."""

    @abstractmethod
    def list_two_levels(self, folder: str) -> list[str]:
        """Files and folders in ``folder`` and in its subfolders, relative to it (``a``, ``a/b``), sorted."""

    @abstractmethod
    def move_into_place(self, source: str, target: str) -> None:
        """Rename ``source`` to ``target``, replacing an older ``target``; the new file appears whole."""

    @abstractmethod
    def read_text(self, path: str) -> str | None:
        """The whole file as UTF-8 text, or None if it does not exist."""

    @abstractmethod
    def create_exclusive(self, path: str, text: str) -> bool:
        """Create ``path`` with ``text`` only if it does not exist yet; False if it already did."""

    @abstractmethod
    def file_size(self, path: str) -> int | None:
        """The file's length in bytes, or None if there is no file at ``path``."""

    def write_text_atomically(self, path: str, text: str, temp_folder: str) -> None:
        """Write a temp file in ``temp_folder`` and rename it to ``path``: readers see old or new, never half.

        ``temp_folder`` must be on the same file system; a process killed before the rename leaves
        its temp file there, not beside ``path``.
        """
        temp = f"{temp_folder}/{path.rpartition('/')[2]}.tmp-{uuid.uuid4().hex[:12]}"
        if not self.create_exclusive(temp, text):
            raise WriteError(f"writer: could not create {temp}")
        self.move_into_place(temp, path)


def local_path(path: str) -> str:
    """``path`` as this process's OS path: ``file:`` URIs lose their scheme; other schemes are refused."""
    if not is_local_path(path):
        raise WriteError(f"writer: {path} is not a local path")
    match = SCHEME.match(path)
    if match is None or len(match.group(1)) == 1:  # a Windows drive letter is no scheme
        return path
    rest = path[len(match.group(0)) :]
    return "/" + rest.lstrip("/") if rest.startswith("/") else rest


def is_local_path(path: str) -> bool:
    """True for a path of this process's file system: no URI scheme, or ``file:``."""
    match = SCHEME.match(path)
    return match is None or len(match.group(1)) == 1 or match.group(1).lower() == "file"


class LocalFileSystem(FileSystem):
    """The file system of this Python process (``os``): for Spark Connect sessions on a shared path."""

    def __init__(self, parallelism: int = CONNECT_PARALLELISM) -> None:
        self.parallelism = parallelism

    def exists(self, path: str) -> bool:
        return os.path.lexists(local_path(path))

    def delete(self, path: str) -> None:
        target = local_path(path)
        if os.path.isdir(target) and not os.path.islink(target):
            shutil.rmtree(target, ignore_errors=True)
        elif os.path.lexists(target):
            os.unlink(target)

    def list_names(self, folder: str) -> list[str]:
        target = local_path(folder)
        return sorted(os.listdir(target)) if os.path.isdir(target) else []

    def list_two_levels(self, folder: str) -> list[str]:
        names = []
        for name in self.list_names(folder):
            names.append(name)
            names += [f"{name}/{inner}" for inner in self.list_names(f"{folder}/{name}")]
        return sorted(names)

    def move_into_place(self, source: str, target: str) -> None:
        destination = local_path(target)
        try:
            os.makedirs(os.path.dirname(destination) or ".", exist_ok=True)
        except OSError as exc:  # a file in the way of a folder, no permission
            raise WriteError(f"writer: cannot create the folder {target.rpartition('/')[0]}: {exc.strerror}") from None
        try:
            os.replace(local_path(source), destination)
        except OSError as exc:
            raise WriteError(f"writer: could not rename {source} to {target}: {exc.strerror}") from None

    def read_text(self, path: str) -> str | None:
        try:
            with open(local_path(path), encoding="utf-8") as handle:
                return handle.read()
        except FileNotFoundError:
            return None
        except IsADirectoryError:
            raise WriteError(f"writer: {path} is a folder, not a file; move it away") from None

    def create_exclusive(self, path: str, text: str) -> bool:
        """Write a private temp file, then hard-link it to ``path``: it appears whole or not at all."""
        target = local_path(path)
        os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
        temp = f"{target}.new-{uuid.uuid4().hex[:12]}"
        with open(temp, "x", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temp, target)
            return True
        except FileExistsError:
            return False
        finally:
            os.unlink(temp)

    def file_size(self, path: str) -> int | None:
        target = local_path(path)
        return os.path.getsize(target) if os.path.isfile(target) else None


def is_connect(spark) -> bool:
    """True for a Spark Connect session (no JVM in this process), without touching the JVM."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


def connect_parallelism(spark) -> int:
    """``spark.default.parallelism`` where the session sets it, else CONNECT_PARALLELISM."""
    try:
        value = spark.conf.get("spark.default.parallelism", None)
    except Exception:  # noqa: BLE001 - a managed session may refuse to show a setting
        value = None
    return int(value) if value and str(value).isdigit() and int(value) > 0 else CONNECT_PARALLELISM


def open_file_system(spark, layout: Layout) -> FileSystem:
    """The file system for a run writing under the output root: Hadoop's on a classic session, else this process's.

    On Spark Connect, a layout that moves files Spark wrote needs the root to be a path this process
    and the Spark server both see; it is checked by writing a probe file here and reading it through
    Spark, before anything else is written. Tables only keep their ledger and lock there, so a local
    path suffices.

    Raises:
        ConfigError: on Spark Connect, ``root`` is a remote URI, or (file modes) the server cannot
            read what this process writes there.
    """
    if not is_connect(spark):
        from synthgen_spark.writers.hadoop import HadoopFileSystem

        return HadoopFileSystem(spark)
    fs, root = LocalFileSystem(connect_parallelism(spark)), layout.config.output_root
    fix = "use a path both see (a Unity Catalog volume /Volumes/..., /lakehouse/default/Files, a mounted share)"
    if layout.moves_files:
        fix += " or output_mode: table"
    try:
        folder = os.path.abspath(local_path(root))
    except WriteError:
        raise ConfigError(
            invalid(
                "output_root",
                f"a path this process sees; {fix}",
                root,
                where="config",
                problem="a Spark Connect session has no Hadoop file system for it (this process cannot move files there)",
            )
        ) from None
    if layout.moves_files:
        _check_shared(spark, folder, root, fix)
    return fs


def _check_shared(spark, folder: str, root: str, fix: str) -> None:
    """Write a probe file where ``folder`` is (or its nearest existing parent) and read it through Spark.

    Nothing stays behind: the probe is deleted and no folder is created.
    """
    anchor = folder
    while not os.path.isdir(anchor) and os.path.dirname(anchor) != anchor:
        anchor = os.path.dirname(anchor)
    token = uuid.uuid4().hex
    probe = os.path.join(anchor, f"synthgen_probe_{token}.txt")  # Spark skips names starting with . or _
    try:
        with open(probe, "x", encoding="utf-8") as handle:
            handle.write(token)
    except OSError as exc:
        raise ConfigError(
            invalid(
                "output_root",
                "a writable path",
                root,
                where="config",
                problem=f"cannot write under it ({exc.strerror})",
            )
        ) from None
    try:
        rows = spark.read.text(probe).limit(1).collect()
        seen = rows[0][0] if rows else None
    except Exception:  # noqa: BLE001 - any failure to read it means the server does not see the path
        seen = None
    finally:
        os.unlink(probe)
    if seen != token:
        raise ConfigError(
            invalid(
                "output_root",
                fix,
                root,
                where="config",
                problem="the Spark Connect server does not see it as this process does "
                "(a probe file written here could not be read through Spark)",
            )
        )
