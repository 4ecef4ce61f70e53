"""Render a bench_results.json (from run_benchmarks.py) as Markdown tables for the README.

Usage: .venv/bin/python benchmarks/render_markdown.py bench_results.json > section.md
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def render(doc: dict) -> str:
    env = doc["environment"]
    lines = [
        f"Measured {env['date_utc'][:10]} at commit {env['git_commit']}: {env['cpu_count']} cores, "
        f"{env['memory_total_gib']:.0f} GiB, Spark {env['spark']} (`{env['spark_master']}`, driver memory "
        f"{env['spark_driver_memory']}), Java {env['java']}, Python {env['python']}, dbldatagen {env['dbldatagen']}, "
        f"Faker {env['faker']}. Load average {doc['load_average']['start']:.1f} at the start and "
        f"{doc['load_average']['end']:.1f} at the end.",
        "",
        "| case | sink | rows | best of | best s | rows/s |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in doc["results"]:
        lines.append(
            f"| {r['name']} | {r['sink']} | {r['rows']:,} | {len(r['times_s'])} | {r['best_s']:.2f} | "
            f"{r['rows_per_s']:,.0f} |"
        )
    lines += ["", "| ratio | value | target | result | detail |", "| --- | ---: | ---: | --- | --- |"]
    for r in doc["ratios"]:
        verdict = "" if r["met"] is None else ("met" if r["met"] else "**missed**")
        target = r["target"].replace(">=", "≥").replace("<=", "≤")
        lines.append(f"| {r['name']} | {r['value']:.2f} | {target} | {verdict} | {r['detail']} |")
    mem = doc.get("memory")
    if mem:
        lines += [
            "",
            "| rows -> noop | seconds | peak Python RSS | peak JVM heap used | JVM heap after GC | peak JVM RSS |",
            "| ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for m in mem.values():
            if not isinstance(m, dict):
                continue
            lines.append(
                f"| {m['rows']:,} | {m['seconds']:.1f} | {m['peak_mib']['python_rss']:.0f} MiB | "
                f"{m['peak_mib']['jvm_heap_used']:.0f} MiB | {m['after_gc_mib']['jvm_heap_used']:.0f} MiB | "
                f"{m['peak_mib']['jvm_rss']:.0f} MiB |"
            )
        lines.append(f"\nJVM max heap: {mem['jvm_max_heap_mib']:.0f} MiB.")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    sys.stdout.write(render(json.loads(Path(argv[0]).read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
