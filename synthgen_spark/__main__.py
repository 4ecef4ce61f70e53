"""``python -m synthgen_spark ...``: the same as the ``synthgen`` command."""

from synthgen_spark.cli import console_main

console_main()
