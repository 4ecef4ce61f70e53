"""Error classes: one root, one class per kind of fault, each with a one-line message."""

from __future__ import annotations

import re


class SynthgenError(Exception):
    """Root of every error this package raises on purpose."""


class ConfigError(SynthgenError, ValueError):
    """A job parameter is invalid (exit code 2)."""


class SpecError(SynthgenError, ValueError):
    """A dataset definition is invalid (exit code 2)."""


class StateError(SynthgenError):
    """The run ledger refuses the run or is held by another run."""


class WriteError(SynthgenError):
    """Output could not be written (exit code 1)."""


def place(source: str, *, table: str = "", column: str = "") -> str:
    """Where a fault is: ``source`` (a file, ``config``, ``api``), then the table and column it concerns.

    Example: ``place("shop.yaml", table="orders", column="qty")`` is ``shop.yaml: table 'orders', column 'qty'``.
    """
    parts = [f"table '{table}'"] * bool(table) + [f"column '{column}'"] * bool(column)
    return f"{source}: {', '.join(parts)}" if parts and source else ", ".join(parts) or source


def invalid(field: str, allowed: str, given: object, *, where: str = "", problem: str = "", fix: str = "") -> str:
    """The one-line message of every invalid input: where, the field, what is wrong, what was given, what is allowed.

    ``where`` comes from ``place`` (or is a source such as ``config``); ``problem`` defaults to
    "is not allowed"; ``fix`` is one more sentence saying what to do.

    Example: ``invalid("batch_size", "integers >= 1", 0, where="config", problem="must be >= 1")`` is
    ``config: field 'batch_size': must be >= 1 (got 0); allowed: integers >= 1.``
    """
    head = f"{where}: " if where else ""
    message = f"{head}field '{field}': {problem or 'is not allowed'} (got {given!r}); allowed: {allowed}."
    return f"{message} {fix}" if fix else message


def java_cause(exc: Exception) -> str:
    """The most telling line of a (Py4J-wrapped) Java error: the innermost 'SomeException: message'."""
    lines = [line.strip() for line in str(exc).splitlines()]
    causes = [line for line in lines if re.match(r"^(Caused by: |: )?[\w.$]+(Exception|Error): ", line)]
    line = causes[-1] if causes else (lines or [""])[0]
    return re.sub(r"^(Caused by: |: )?([\w$]+\.)+(?=\w+(Exception|Error): )", "", line)[:300]
