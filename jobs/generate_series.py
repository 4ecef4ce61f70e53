"""spark-submit driver: ``synthgen generate`` on the session spark-submit configures.

Same arguments as ``synthgen generate`` (``--config`` plus any overrides), for example::

    python -m zipfile -c dist/synthgen_spark.zip synthgen_spark/
    spark-submit --master spark://host:7077 --py-files dist/synthgen_spark.zip \\
        jobs/generate_series.py --config conf/jobs/test_feb_2024.yaml --output-root hdfs:///synth

The SparkSession is created here first, from spark-submit's settings (master, --conf, --packages),
so the package reuses it unchanged instead of building a local one. Generation runs only JVM code
on the executors: worker nodes need no Python packages; the driver needs pyyaml and holidays (and
faker for locales without frozen pools).

Exits with ``synthgen``'s code (0 done, 2 invalid config or usage, 1 failure); spark-submit passes
it on as its own exit code.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from pyspark.sql import SparkSession


def run(argv: Sequence[str]) -> int:
    """Get or create spark-submit's session, then run ``synthgen generate`` with ``argv``."""
    spark = SparkSession.builder.getOrCreate()  # active from now on: get_or_create_session() returns it

    import synthgen_spark
    from synthgen_spark.cli import main

    print(
        f"synthgen_spark {synthgen_spark.__version__} from {synthgen_spark.__file__}; "
        f"Spark {spark.version}, master {spark.conf.get('spark.master', '?')}",
        file=sys.stderr,
        flush=True,
    )
    return main(["generate", *argv])


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
