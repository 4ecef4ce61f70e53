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


def test_stages_share_a_name_only_with_the_same_text_reading_only_shared_names():
    from synthgen_spark.engine import Stages
    from synthgen_spark.generators import sql

    def stages(day: int) -> Stages:
        made = Stages()
        key = made.stage("key", sql.col("_sg_row_index") * sql.lit(7))
        made.stage("label", sql.call("concat", sql.lit("day"), key.cast("string")))  # 'day' is text: a read too many
        today = made.stage("day", sql.lit(day))
        made.stage("age", today - key)  # the same text on both days, but it reads the day
        return made

    assert stages(1).same_as(stages(2)) == {"key"}
    assert stages(1).same_as(stages(1)) == {"key", "label", "day", "age"}
    assert stages(1).reads("age") == {"day", "key"}


def test_a_change_feeds_two_images_share_what_no_change_group_or_churn_moves(tmp_path):
    from synthgen_spark.catalog import load_dataset
    from synthgen_spark.derived import entity_scope
    from synthgen_spark.engine import file_slices
    from synthgen_spark.planner import build_plan

    config = small_config(tmp_path, change_feed=True)
    plan = build_plan(config, load_dataset("retail_oltp_small"))
    customers = [td for td in plan.table_days if td.table.name == "customers"][:1]
    table = customers[0].table
    _, today = entity_scope(plan.config, plan.dataset, table, file_slices(customers), 0)
    _, yesterday = entity_scope(plan.config, plan.dataset, table, file_slices(customers), -1)
    shared = today.same_as(yesterday)
    assert {"customer_id", "first_name", "last_name", "signup_date", "birth_date", "_sg_start_ordinal"} <= shared
    moved = {"street_address", "city", "email", "phone", "loyalty_tier", "marketing_opt_in", "status", "churn_date"}
    assert not moved & shared and "_sg_day_ordinal" not in shared


def test_a_stage_is_computed_in_the_latest_select_before_its_first_reader():
    from synthgen_spark.engine import Stages
    from synthgen_spark.generators import sql

    stages = Stages()
    key = stages.stage("key", sql.col("_sg_row_index") * sql.lit(7))
    pick = stages.stage("pick", key + sql.lit(1))  # read only by "deep", three selects up
    step = stages.stage("step", key * sql.lit(2))
    step2 = stages.stage("step2", step + key)
    stages.stage("deep", step2 + pick)
    stages.stage("name", sql.call("concat", sql.lit("n"), key.cast("string")))  # an output only: last select
    selects = [sorted(select) for select in stages.selects()]
    assert selects == [["key"], ["step"], ["pick", "step2"], ["deep", "name"]]


def test_a_word_of_a_string_literal_does_not_move_a_later_stage_and_any_case_is_a_read():
    from synthgen_spark.engine import Stages
    from synthgen_spark.generators import sql

    stages = Stages()
    base = stages.stage("base", sql.lit(1))
    stages.stage("late", base + sql.lit(1))  # earliest in select 2
    stages.stage("label", sql.Expr("'late'"))  # names "late" in a string only: no read, nothing moves down
    stages.stage("upper", sql.Expr("(BASE * 3)", base.level))  # reads base as Spark would, whatever the case
    assert stages.reads("upper") == {"base"}
    placed = {name: number for number, select in enumerate(stages.selects()) for name in select}
    assert placed == {"base": 0, "late": 1, "label": 1, "upper": 1}


def test_every_stage_of_a_whole_order_is_in_a_select_after_everything_it_reads(tmp_path):
    from synthgen_spark.catalog import load_dataset
    from synthgen_spark.derived import entity_scope
    from synthgen_spark.engine import file_slices
    from synthgen_spark.planner import build_plan

    plan = build_plan(small_config(tmp_path), load_dataset("retail_oltp_small"))
    orders = [td for td in plan.table_days if td.table.name == "orders"][:1]
    _, stages = entity_scope(plan.config, plan.dataset, orders[0].table, file_slices(orders), 0)
    placed = {name: number for number, select in enumerate(stages.selects()) for name in select}
    assert len(placed) > 100 and "order_total" in placed
    assert all(placed[read] < placed[name] for name in placed for read in stages.reads(name))
    read = {r for name in placed for r in stages.reads(name)}
    unread_outputs = [c.name for c in orders[0].table.output_columns if c.name not in read]
    assert "order_total" in unread_outputs and {placed[name] for name in unread_outputs} == {max(placed.values())}
