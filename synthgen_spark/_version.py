"""The package version, in one place: pyproject.toml reads it, the ledger's fingerprint records it."""

__version__ = "0.17.3"
