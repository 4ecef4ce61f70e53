"""Generators see a narrow scope: the seed and scale of the job, not the whole JobConfig (pure, no Spark)."""

from __future__ import annotations

import ast
import dataclasses
import typing
from pathlib import Path

import pytest

from synthgen_spark.generators.registry import GeneratorSettings, Scope

from .helpers import small_config

PACKAGE = Path(__file__).resolve().parent.parent / "synthgen_spark"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    return found | {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}


@pytest.mark.parametrize("path", sorted((PACKAGE / "generators").glob("*.py")), ids=lambda p: p.name)
def test_no_generator_module_imports_the_job_config_or_the_engine(path):
    imported = _imported_modules(path)
    assert not {m for m in imported if m == "synthgen_spark.config" or m.startswith("synthgen_spark.engine")}
    names = {n.id for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Name)}
    assert "JobConfig" not in names


def test_the_scope_hands_generators_only_the_seed_the_scale_and_the_locale():
    hints = typing.get_type_hints(Scope)
    assert hints["settings"] is GeneratorSettings and "config" not in hints
    assert [f.name for f in dataclasses.fields(GeneratorSettings)] == ["seed_value", "scale_factor", "locale"]


def test_the_row_scope_keeps_no_job_config(tmp_path):
    from synthgen_spark.catalog import load_dataset
    from synthgen_spark.engine import BatchFacts, RowScope, Stages
    from synthgen_spark.generators import sql

    config = small_config(tmp_path, enable_data_drift=True)
    dataset = load_dataset(config.dataset_id)
    stages = Stages()
    scope = RowScope(config, dataset, dataset.tables[0], BatchFacts([], sql.lit(0), stages), stages, sql.lit(0))
    related = scope.related(dataset.tables[-1].name, sql.lit(1), via="x")
    assert scope.settings == GeneratorSettings(config.seed_value, config.scale_factor, config.locale)
    assert related.settings == scope.settings and related.table is dataset.tables[-1]
    for held in (scope, related):
        assert not [v for v in vars(held).values() if type(v).__name__ == "JobConfig"]


def test_an_unknown_kind_is_one_line_naming_the_column_and_the_kinds():
    from synthgen_spark.catalog import ColumnSpec
    from synthgen_spark.errors import SpecError
    from synthgen_spark.generators.registry import build_value

    with pytest.raises(SpecError) as refused:
        build_value(ColumnSpec("qty", "weird", "int"), scope=None)
    message = str(refused.value)
    assert message.startswith("column 'qty': field 'kind': unknown column kind (got 'weird'); allowed: ")
    assert "foreign_key" in message and "\n" not in message
