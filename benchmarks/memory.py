"""Driver memory and Spark's cache: peak Python RSS, JVM heap and JVM RSS while a case runs; what is cached."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path


def rss_bytes(pid: int | str = "self") -> int:
    """A process's resident set size, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class PeakSampler(threading.Thread):
    """Samples driver Python RSS, driver JVM heap used (Runtime) and JVM RSS every ``interval`` seconds."""

    def __init__(self, spark, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        jvm = spark.sparkContext._jvm
        self.runtime = jvm.java.lang.Runtime.getRuntime()
        self.jvm_pid = int(jvm.java.lang.ProcessHandle.current().pid())
        self.interval = interval
        self.stop_event = threading.Event()
        self.peak = {"python_rss": 0, "jvm_heap_used": 0, "jvm_rss": 0}
        self.samples = 0

    def sample(self) -> dict[str, int]:
        return {
            "python_rss": rss_bytes(),
            "jvm_heap_used": int(self.runtime.totalMemory()) - int(self.runtime.freeMemory()),
            "jvm_rss": rss_bytes(self.jvm_pid),
        }

    def run(self) -> None:
        while not self.stop_event.is_set():
            for key, value in self.sample().items():
                self.peak[key] = max(self.peak[key], value)
            self.samples += 1
            self.stop_event.wait(self.interval)

    def stop(self) -> dict[str, int]:
        self.stop_event.set()
        self.join()
        return self.peak


def gc_and_sample(spark) -> dict[str, int]:
    """Driver memory after a JVM garbage collection."""
    spark.sparkContext._jvm.java.lang.System.gc()
    time.sleep(1.0)
    runtime = spark.sparkContext._jvm.java.lang.Runtime.getRuntime()
    pid = int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())
    return {
        "python_rss": rss_bytes(),
        "jvm_heap_used": int(runtime.totalMemory()) - int(runtime.freeMemory()),
        "jvm_rss": rss_bytes(pid),
    }


def mib(value: float) -> float:
    """Bytes as MiB, one decimal."""
    return round(value / 2**20, 1)


def cache_storage(spark) -> dict:
    """Memory and disk used by cached RDDs, and how many partitions are cached."""
    infos = spark.sparkContext._jsc.sc().getRDDStorageInfo()
    return {
        "memory_mib": mib(sum(int(i.memSize()) for i in infos)),
        "disk_mib": mib(sum(int(i.diskSize()) for i in infos)),
        "cached_partitions": sum(int(i.numCachedPartitions()) for i in infos),
        "partitions": sum(int(i.numPartitions()) for i in infos),
    }


def reads_cache(df) -> bool:
    """Whether ``df``'s plan reads a cached frame (Spark substitutes the cache for an equal plan)."""
    return "InMemoryRelation" in df._jdf.queryExecution().withCachedData().toString()


def dir_size(path: str) -> int:
    """Bytes of every file below ``path``."""
    total = 0
    for folder, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(folder, f)) for f in files)
    return total
