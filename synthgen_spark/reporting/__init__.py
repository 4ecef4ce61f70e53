"""The run report: ``_synthgen_report/report.json`` and ``report.html`` beside the job's ledger.

Written at the end of every run (a failed one too: it shows what completed) and again by
``synthgen report`` / ``report(config)`` from the ledger, covering every day the job holds over all
its runs. Files go through the run's file system (Hadoop's on a classic session: abfss://, dbfs:/ and
OneLake work alike; this process's on Spark Connect).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from synthgen_spark.config import JobConfig
from synthgen_spark.planner import Plan, build_plan
from synthgen_spark.reporting.facts import build_facts, report_tables
from synthgen_spark.reporting.html import render_html
from synthgen_spark.state import Ledger, StateStore, fingerprint, state_folder
from synthgen_spark.writers import FileSystem, open_file_system, open_sink

REPORT_FOLDER = "_synthgen_report"

__all__ = ["REPORT_FOLDER", "JobReport", "build_facts", "render_html", "render_report", "report_folder", "write_report"]


@dataclass(frozen=True)
class JobReport:
    """A job's report: its facts (report.json) and where both files are; shows itself in notebooks."""

    facts: dict[str, Any]
    folder: str

    @property
    def json_path(self) -> str:
        return f"{self.folder}/report.json"

    @property
    def html_path(self) -> str:
        return f"{self.folder}/report.html"

    def html(self) -> str:
        """The whole self-contained page."""
        return render_html(self.facts)

    def _repr_html_(self) -> str:
        return render_html(self.facts, fragment=True)


def report_folder(config: JobConfig) -> str:
    """``{state folder}/_synthgen_report``: the job folder for files, the state folder for tables."""
    return f"{state_folder(config)}/{REPORT_FOLDER}"


def _known_sizes(fs: FileSystem, path: str, ledger: Ledger) -> dict[str, int]:
    """File sizes in the previous report that still hold: Delta files (immutable), and the files of days
    the ledger still credits to the same run. A run's report then looks up only what it wrote."""
    try:
        old = json.loads(fs.read_text(path) or "{}")
    except ValueError:
        return {}
    sizes = {}
    for name, table in old.get("tables", {}).items():
        done = ledger.done.get(name, {})
        same = [d for d in table.get("days", []) if done.get(d.get("date"), {}).get("run_id", "") == d.get("run_id")]
        for item in table.get("delta_files", []) + [f for d in same for f in d.get("files", [])]:
            if item.get("bytes") is not None:
                sizes[item["path"]] = item["bytes"]
    return sizes


def write_report(spark, fs: FileSystem, plan: Plan, ledger: Ledger, fresh: bool = False) -> JobReport:
    """Build the facts from the plan, ledger and file sizes; write report.json and report.html atomically.

    ``fresh`` looks every file's size up again instead of taking the previous report's.
    """
    folder = report_folder(plan.config)
    known = {} if fresh else _known_sizes(fs, f"{folder}/report.json", ledger)
    sizes = _SizeLookup(fs, known)
    details = open_sink(spark, plan, fs).table_files(sizes, report_tables(plan, ledger))
    facts = build_facts(plan, ledger, sizes, spark.version, details)
    report = JobReport(facts, folder)
    temp = f"{report.folder}/_tmp"
    fs.write_text_atomically(report.json_path, json.dumps(facts, indent=1, sort_keys=True), temp)
    fs.write_text_atomically(report.html_path, report.html(), temp)
    fs.delete(temp)
    return report


@dataclass(frozen=True)
class _SizeLookup:
    """File sizes: the known ones, else one file system call each."""

    fs: FileSystem
    known: dict[str, int]

    def __call__(self, path: str) -> int | None:
        return self.known[path] if path in self.known else self.fs.file_size(path)


def render_report(spark, config: JobConfig) -> JobReport:
    """Render a job's report again from its ledger (``synthgen report``): every day it holds, every run.

    Raises:
        ConfigError: the job output was generated with another configuration.
    """
    plan = build_plan(config)
    fs = open_file_system(spark, plan.layout)
    ledger = StateStore(fs, config).open_ledger(fingerprint(config, plan.dataset))
    return write_report(spark, fs, plan, ledger, fresh=True)
