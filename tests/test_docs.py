"""The README and docs/ name only commands, flags, parameters, column kinds, make targets and pages that exist.

Spark-free: the CLI's own parser, the generator registry, JobConfig's fields and the Makefile are the judges.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import re
import shlex
import sys
from pathlib import Path

import pytest
import yaml

from synthgen_spark.cli import build_parser
from synthgen_spark.config import JobConfig
from synthgen_spark.generators import registered_kinds

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
DOCS = REPO / "docs"
BENCHMARKS = REPO / "benchmarks"
PAGES = [README, *sorted(DOCS.glob("*.md")), BENCHMARKS / "README.md"]
# pages other engineers are writing: the README links them; until they land each is a one-sentence stub
PLACEHOLDERS = {"changes.md", "report.md"}
# flags of other tools that the docs show beside synthgen's and the benchmark's, and the prose placeholders
# `--k=v`, `--key=value`
OTHER_FLAGS = {
    "--master": "spark-submit",
    "--conf": "spark-submit",
    "--packages": "spark-submit",
    "--py-files": "spark-submit",
    "--files": "spark-submit",
    "--class": "spark-submit",
    "--jars": "spark-submit",
    "--wheel": "python -m build",
    "--check": "ruff format",
    "--k": "placeholder",
    "--key": "placeholder",
}
CODE_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


def text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def code_blocks(page: Path, language: str) -> list[str]:
    return [body for lang, body in CODE_BLOCK.findall(text(page)) if lang == language]


def shell_commands(page: Path) -> list[list[str]]:
    """Every command of the page's bash blocks, continuation lines joined, comments dropped."""
    commands = []
    for block in code_blocks(page, "bash"):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words:
                commands.append(words)
    return commands


def synthgen_flags() -> set[str]:
    """Every option string of every ``synthgen`` subcommand."""
    parser = build_parser()
    commands = next(a for a in parser._actions if a.choices and "generate" in a.choices).choices
    return {flag for sub in commands.values() for action in sub._actions for flag in action.option_strings}


def benchmark_module(name: str):
    """A module of benchmarks/ (scripts that import each other by plain name), loaded without running it."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location(f"_docs_{name}", BENCHMARKS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCHMARKS))


def benchmark_flags() -> set[str]:
    return {
        flag for action in benchmark_module("run_benchmarks").build_parser()._actions for flag in action.option_strings
    }


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^a-z0-9 _-]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(h) for h in re.findall(r"^#+ (.+)$", re.sub(CODE_BLOCK, "", text(page)), re.M)}


def links(page: Path) -> list[tuple[Path, str]]:
    """The page's relative links to markdown files: (target file, anchor or '')."""
    found = re.findall(r"\]\(([^)#:\s]+\.md)(?:#([^)\s]+))?\)", text(page))
    return [((page.parent / target).resolve(), anchor) for target, anchor in found]


def test_the_readme_is_short_and_links_every_docs_page():
    assert len(text(README).splitlines()) <= 200
    linked = {target.name for target, _ in links(README) if target.parent == DOCS}
    assert linked == {p.name for p in DOCS.glob("*.md")}
    assert linked >= PLACEHOLDERS


def test_the_quick_start_is_exactly_make_demo_and_make_test():
    quick_start = text(README).split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = CODE_BLOCK.search(quick_start).group(2)
    assert [shlex.split(line, comments=True) for line in block.splitlines()] == [["make", "demo"], ["make", "test"]]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_points_to_an_existing_page_and_heading(page):
    for target, anchor in links(page):
        assert target.is_file(), f"{page.name} links {target}"
        if anchor:
            assert anchor in anchors(target), f"{page.name} links {target.name}#{anchor}"


@pytest.mark.parametrize("name", sorted(PLACEHOLDERS))
def test_placeholder_pages_say_they_are_placeholders_or_have_grown(name):
    page = text(DOCS / name)
    assert page.startswith("# ") and ("being written" in page or len(page.splitlines()) > 3)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_synthgen_command_shown_parses(page):
    for words in shell_commands(page):
        if words[0] == "synthgen":
            build_parser().parse_args(words[1:])
        elif any(w.endswith("benchmarks/run_benchmarks.py") for w in words):
            script = next(i for i, w in enumerate(words) if w.endswith("benchmarks/run_benchmarks.py"))
            benchmark_module("run_benchmarks").build_parser().parse_args(words[script + 1 :])
        elif "jobs/generate_series.py" in words:  # spark-submit ... script, then synthgen generate's flags
            build_parser().parse_args(["generate", *words[words.index("jobs/generate_series.py") + 1 :]])


def test_the_databricks_task_parameters_parse():
    bundle = yaml.safe_load(code_blocks(DOCS / "deploy.md", "yaml")[0])
    tasks = [t["python_wheel_task"] for job in bundle["resources"]["jobs"].values() for t in job["tasks"]]
    assert {"parameters", "named_parameters"} <= {key for task in tasks for key in task}
    for task in tasks:
        if "parameters" in task:
            build_parser().parse_args(task["parameters"])
        else:  # Databricks passes --key=value for each entry; flags alone mean generate
            build_parser().parse_args(["generate", *(f"--{k}={v}" for k, v in task["named_parameters"].items())])


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_flag_mentioned_is_synthgens_or_a_named_other_tools(page):
    known = synthgen_flags() | benchmark_flags() | set(OTHER_FLAGS)
    for flag in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", text(page)):
        assert flag in known, f"{page.name}: {flag}"


def test_the_parameters_table_is_exactly_jobconfigs_fields():
    table = text(DOCS / "parameters.md").split("## Parameters", 1)[1]
    documented = {name for row in re.findall(r"^\| (.+?) \|", table, re.M) for name in re.findall(r"`(\w+)`", row)}
    fields = {f.name for f in dataclasses.fields(JobConfig) if f.name != "source"}
    assert documented == fields


def test_the_column_kinds_table_is_exactly_the_registry():
    reference = text(DOCS / "datasets.md").split("### Column keys", 1)[1].split("\n### ", 1)[0]
    documented = set(re.findall(r"^\| `(\w+)` \|", reference, re.M))
    assert documented == set(registered_kinds())


def test_every_make_target_mentioned_exists():
    targets = set(re.findall(r"^([a-z][a-z0-9-]*):", text(REPO / "Makefile"), re.M))
    for page in PAGES:
        shown = re.findall(r"`make ([a-z][a-z0-9-]*)", text(page))  # inline, and in shell blocks below
        shown += [w[i + 1] for w in shell_commands(page) for i in range(len(w) - 1) if w[i] == "make"]
        for target in shown:
            assert target in targets, f"{page.name}: make {target}"


def test_the_performance_page_is_the_benchmark_renderers():
    renderer = benchmark_module("render_markdown")
    page = text(DOCS / "performance.md")
    assert page.startswith(renderer.INTRO + "\n\n## Results\n\n") and "\n## Reproduce\n" in page
    assert renderer.PAGE == DOCS / "performance.md"
