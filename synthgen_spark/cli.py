"""The one argv entry point: console script, ``python -m synthgen_spark``, spark-submit and wheel tasks.

Exit codes: 0 done, 2 invalid config or usage (one line naming the field; nothing written), 1 failure.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Sequence

from synthgen_spark.catalog import builtin_dataset_ids, describe_dataset, load_dataset
from synthgen_spark.config import JobConfig, load_config_file
from synthgen_spark.errors import ConfigError, SpecError, StateError, SynthgenError, invalid

BOOL_FIELDS = {f.name for f in dataclasses.fields(JobConfig) if f.type == "bool"}
JOB_FIELDS = [f.name for f in dataclasses.fields(JobConfig) if f.name != "source"]


TRUE_WORDS, FALSE_WORDS = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


class _BoolFlag(argparse.Action):
    """``--flag``, ``--no-flag`` and ``--flag=true|false`` (Databricks named_parameters pass every value as --k=v)."""

    def __init__(self, option_strings, dest, default=None, help=None):
        negated = ["--no-" + s[2:] for s in option_strings]
        super().__init__([*option_strings, *negated], dest, nargs="?", default=default, help=help, metavar="true|false")

    def __call__(self, parser, namespace, value, option_string=None):
        negated = option_string.startswith("--no-")
        word = None if value is None else value.strip().lower()
        if word is not None and (negated or word not in TRUE_WORDS + FALSE_WORDS):
            raise argparse.ArgumentError(self, f"expected true or false (got {value!r})")
        setattr(namespace, self.dest, (not negated) if word is None else word in TRUE_WORDS)


class UsageError(Exception):
    """argparse's complaint, turned into one line and exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, no usage dump
        raise UsageError(message)


def _add_job_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="YAML job file (conf/jobs/*.yaml); flags override it")
    for name in JOB_FIELDS:
        flag = "--" + name.replace("_", "-")
        if name in BOOL_FIELDS:
            parser.add_argument(flag, dest=name, action=_BoolFlag, default=None)
        elif name == "dataset_path":
            parser.add_argument(flag, "--dataset-file", dest=name, default=None, metavar="PATH")
        else:
            parser.add_argument(flag, dest=name, default=None, metavar=name.upper())


def build_parser() -> argparse.ArgumentParser:
    """The ``synthgen`` command line: generate, plan, state show, report, verify, datasets [show ID]."""
    parser = _Parser(prog="synthgen", description="Seeded, reproducible synthetic data on Spark, day by day.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    generate = commands.add_parser("generate", help="generate and write a job")
    _add_job_flags(generate)
    generate.add_argument(
        "--continue",
        dest="continue_run",
        action="store_true",
        help="generate the --days days after the last completed day in the ledger",
    )
    generate.add_argument("--days", type=int, default=1, help="days to add with --continue (default 1)")
    _add_job_flags(commands.add_parser("plan", help="print per-day rows, batches and paths; write nothing"))
    state = commands.add_parser("state", help="'state show': the job's ledger (days done, rows, runs)")
    state.add_argument("action", choices=["show"])
    _add_job_flags(state)
    _add_job_flags(commands.add_parser("report", help="write the job's report (HTML and JSON) again from its ledger"))
    _add_job_flags(
        commands.add_parser("verify", help="read what the job wrote and check its invariants (exit 1 if any fails)")
    )
    schema = commands.add_parser("schema", help="print the JSON Schema of job files or dataset files")
    schema.add_argument("kind", choices=["job", "dataset"])
    datasets = commands.add_parser("datasets", help="list datasets, or 'datasets show ID'")
    datasets.add_argument("action", nargs="?", choices=["list", "show"], default="list")
    datasets.add_argument("dataset_id", nargs="?")
    return parser


def config_from_args(args: argparse.Namespace, dates_optional: bool = False) -> JobConfig:
    """JobConfig from flags over the optional --config file over the defaults.

    With ``dates_optional`` (continue, state show) missing dates default to today: they are not used.
    """
    overrides = {name: getattr(args, name) for name in JOB_FIELDS if getattr(args, name) is not None}
    if dates_optional:
        file_values = load_config_file(args.config).to_dict() if args.config else {}
        for name in ("start_date", "end_date"):
            if name not in overrides and name not in file_values:
                overrides[name] = dt.date.today().isoformat()
    if args.config:
        return load_config_file(args.config, overrides)
    return JobConfig.from_mapping(overrides, source="flags")


def _datasets(args: argparse.Namespace) -> int:
    if args.action == "show":
        if not args.dataset_id:
            raise UsageError("datasets show needs a dataset id; allowed: " + ", ".join(builtin_dataset_ids()))
        print(describe_dataset(load_dataset(args.dataset_id)))
        return 0
    for dataset_id in builtin_dataset_ids():
        print(f"{dataset_id:<24} {load_dataset(dataset_id).description}")
    return 0


def check_ledger_before_spark(job_plan) -> None:
    """Where the job's ledger is on a local path, refuse a run its ledger would refuse, before Spark starts.

    The run checks the same again under its lock (any root); this only moves the exit-2 line ahead
    of Spark's start-up, for the common local case.
    """
    from synthgen_spark.state import StateStore, fingerprint
    from synthgen_spark.writers.fs import LocalFileSystem, is_local_path

    if is_local_path(job_plan.config.output_root):
        planned = {(td.table.name, td.date.isoformat()) for td in job_plan.table_days}
        StateStore(LocalFileSystem(), job_plan.config).open_ledger(
            fingerprint(job_plan.config, job_plan.dataset), planned
        )


def _run(args: argparse.Namespace) -> int:
    from synthgen_spark.planner import PLAN_WARN_ROWS, build_plan, check_output_root, describe_plan, size_warning

    continuing = args.command == "generate" and args.continue_run
    config = config_from_args(args, dates_optional=continuing or args.command == "state")
    if args.command == "plan":
        plan = build_plan(config)
        if plan.total_rows > PLAN_WARN_ROWS:
            _say(size_warning(plan))
        print(describe_plan(plan))
        return 0
    if continuing and args.days < 1:
        raise UsageError(f"argument --days: must be >= 1 (got {args.days})")
    job_plan = build_plan(config)  # validate everything before Spark starts
    if args.command == "generate":
        check_output_root(config)
        if not continuing:
            check_ledger_before_spark(job_plan)
    from synthgen_spark.runner import run_plan
    from synthgen_spark.session import get_or_create_session
    from synthgen_spark.state import StateStore, is_stale
    from synthgen_spark.writers import open_file_system

    spark = get_or_create_session()
    if threading.current_thread() is threading.main_thread():  # PySpark's handler calls the JVM mid-call
        signal.signal(signal.SIGINT, signal.default_int_handler)
    # a logger's filters see only its own records, not those its children propagate: filter at the source
    for name in PY4J_LOGGERS:
        logging.getLogger(name).addFilter(_drop_py4j_interrupt_log)  # once: the same filter is not added twice
    if args.command == "verify":
        from synthgen_spark.verify import verify_plan

        scorecard = verify_plan(spark, job_plan)
        print(scorecard.describe())
        return 0 if scorecard.ok else 1
    store = StateStore(open_file_system(spark, job_plan.layout), config)
    if args.command == "state":
        ledger = store.load()
        try:
            holder = store.lock_holder() if ledger else None
        except StateError:  # a malformed lock is reported by the next run; the ledger is still shown
            holder = None
        active = holder.get("run_id") if holder and not is_stale(holder) else None
        print(ledger.describe(active) if ledger else f"no ledger at {store.ledger_path}: nothing generated yet")
        return 0
    if args.command == "report":
        from synthgen_spark.reporting import render_report

        print(f"report written: {render_report(spark, config).html_path}")
        return 0
    if continuing:
        config = continue_config(config, store, args.days)
    report = run_plan(spark, build_plan(config), progress=lambda line: print(line, flush=True))
    print(report.summary())
    return 0


def continue_config(config: JobConfig, store, days: int) -> JobConfig:
    """The config for the ``days`` days after the last day the job's ledger has completed."""
    ledger = store.load()
    last = ledger.last_day() if ledger else None
    if last is None:
        raise ConfigError(
            invalid(
                "continue",
                "a job generated before",
                None,
                where="state",
                problem=f"job '{config.job_name}' has no completed day at {store.folder}",
                fix="Run it once with --start-date and --end-date.",
            )
        )
    start = last + dt.timedelta(days=1)
    return config.with_overrides({"start_date": start, "end_date": start + dt.timedelta(days=days - 1)})


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script exits with it)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0].startswith("--") and argv[0] != "--help":
        argv = ["generate", *argv]  # flags alone (Databricks named_parameters) mean generate
    try:
        args = build_parser().parse_args(argv)
        if args.command == "schema":
            from synthgen_spark.schemas import render

            print(render(args.kind), end="")
            return 0
        return _datasets(args) if args.command == "datasets" else _run(args)
    except (UsageError, ConfigError, SpecError) as exc:
        _say(f"error: {exc}")
        return 2
    except SynthgenError as exc:
        _say(f"failed: {exc}")
        return 1
    except KeyboardInterrupt:
        _say("interrupted: days already written stay in the ledger; rerun the same command to finish")
        return 130
    except BrokenPipeError:  # `synthgen plan | head`: the reader has what it wanted
        _silence_stdout()
        return 0
    except Exception as exc:  # one line for users; the type tells developers where to look
        first_line = (str(exc).strip().splitlines() or [""])[0]
        _say(f"failed: {type(exc).__name__}: {first_line}")
        return 1


PY4J_LOGGERS = ("", "py4j.java_gateway", "py4j.clientserver")


def _drop_py4j_interrupt_log(record: logging.LogRecord) -> bool:
    """py4j logs Ctrl-C during a call with a traceback on the root logger; our one line says it instead."""
    message = record.getMessage()
    return "while sending command" not in message and "while shutting down connection" not in message


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not hit the closed pipe again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):  # stdout is no real file (tests, notebooks)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


MAX_MESSAGE = 600  # characters of an error line; a hostile value must not print megabytes


def one_line(message: str) -> str:
    """A message as one readable line: dates as YYYY-MM-DD, no line breaks, at most MAX_MESSAGE characters."""
    text = re.sub(
        r"datetime\.date\((\d+), (\d+), (\d+)\)",
        lambda m: f"'{int(m[1]):04d}-{int(m[2]):02d}-{int(m[3]):02d}'",
        " ".join(message.split()),
    )
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


def _say(message: str) -> None:
    print(f"synthgen: {one_line(message)}", file=sys.stderr)


def console_main() -> None:
    """Entry point of the ``synthgen`` console script: returns on success, else exits with main's code.

    Returning (not ``sys.exit(0)``) keeps hosts that call the function in-process (Databricks
    python_wheel_task) from seeing a SystemExit on success.
    """
    code = main()
    if code:
        sys.exit(code)
