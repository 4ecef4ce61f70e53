"""Error classes: one root, one class per kind of fault, each with a one-line message."""

from __future__ import annotations


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


def describe_field_error(source: str, field: str, problem: str, got: object, allowed: str, fix: str = "") -> str:
    """Build the one-line message shape shared by config and catalog errors.

    Example: ``config: field 'batch_size': must be >= 1 (got 0); allowed: integers >= 1.``
    """
    message = f"{source}: field '{field}': {problem} (got {got!r}); allowed: {allowed}."
    return f"{message} {fix}" if fix else message
