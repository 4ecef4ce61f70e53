"""Cross-table rules: keys, parents, lookups, rollups, pools and date columns name things that exist."""

from __future__ import annotations

from collections.abc import Mapping

from synthgen_spark.catalog.kinds import (
    KEY_KINDS,
    MAX_CHILD_SUM_ROWS_PER_PARENT,
    MAX_CHILDREN_SUMMED,
    PRIMARY_KEY_KINDS,
    SWEEP_FREQUENCIES,
    children_summed,
    column_dependencies,
    is_inline,
    is_number,
)
from synthgen_spark.catalog.model import ColumnSpec, DatasetSpec, TableSpec
from synthgen_spark.changes import has_lifecycle
from synthgen_spark.errors import SpecError, invalid, place

# The pools every locale has (frozen package data or built with Faker by synthgen_spark.pools), with their
# fields: a dataset may name them without defining them, and the catalog checks names and fields up front.
LOCALE_POOL_FIELDS: dict[str, tuple[str, ...]] = {
    "first_names": ("value",),
    "first_names_female": ("value",),
    "first_names_male": ("value",),
    "last_names": ("value",),
    "locations": ("city", "state", "postcode", "area_code", "weight", "region"),
    "streets": ("value",),
    "companies": ("value",),
    "email_domains": ("value",),
}


def validate_references(spec: DatasetSpec) -> None:
    """Cross-table rules: keys, parents, lookups, pools and date columns refer to things that exist."""
    tables = {t.name: t for t in spec.tables}
    _check_table_names(spec)
    for table in spec.tables:
        where = place(spec.source, table=table.name)
        named = [("primary_key", table.primary_key), *(("date_columns", d) for d in table.date_columns)]
        named += [("primary_date_column", table.primary_date_column)] if table.primary_date_column else []
        for field, name in named:
            if name not in table.column_names:
                allowed = ", ".join(table.column_names)
                raise SpecError(
                    invalid(field, allowed, name, where=where, problem="names a column which is not defined")
                )
        _check_primary_key(table, where)
        if table.kind == "incremental" and not table.primary_date_column:
            raise SpecError(
                invalid(
                    "primary_date_column",
                    ", ".join(table.column_names),
                    None,
                    where=where,
                    problem="incremental tables need one",
                )
            )
        if table.parent is not None:
            if table.parent not in tables or tables[table.parent].kind != "incremental" or table.kind != "incremental":
                raise SpecError(
                    invalid("parent", "another incremental table", table.parent, where=where, problem="is not one")
                )
            if table.rows_per_parent < 1:
                raise SpecError(
                    invalid(
                        "rows_per_parent", "numbers >= 1", table.rows_per_parent, where=where, problem="must be >= 1"
                    )
                )
        followed = tables.get(table.follows_population)
        if table.follows_population and (
            followed is None or followed.kind != "snapshot" or not followed.lifecycle.dynamic
        ):
            allowed = (
                ", ".join(t.name for t in spec.tables if t.kind == "snapshot" and t.lifecycle.dynamic) or "none here"
            )
            problem = "is not a snapshot table with a lifecycle (growth or churn)"
            raise SpecError(
                invalid("follows_population", allowed, table.follows_population, where=where, problem=problem)
            )
        for col in table.columns:
            _validate_column_references(spec, tables, table, col)
        _check_column_cycles(table, where)


def _check_table_names(spec: DatasetSpec) -> None:
    """Table names are unique (each is a folder and a Delta table) and parents form no cycle."""
    names = [t.name for t in spec.tables]
    for table in spec.tables:
        where = f"{spec.source}: table '{table.name}'"
        if names.count(table.name) > 1:
            raise SpecError(invalid("name", "unique names", table.name, where=where, problem="is defined twice"))
        chain, current = [table.name], table
        while current.parent is not None and current.parent in names:
            if current.parent in chain:
                raise SpecError(
                    invalid(
                        "parent",
                        "another incremental table, without cycles",
                        " -> ".join([*chain, current.parent]),
                        where=where,
                        problem="parents form a cycle",
                    )
                )
            chain.append(current.parent)
            current = spec.tables[names.index(current.parent)]


def _check_column_cycles(table: TableSpec, where: str) -> None:
    """No column reaches itself through the columns its parameters name (bounds, bases, keys)."""

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            chain = " -> ".join((*path[path.index(name) :], name))
            problem = f"depends on itself ({chain})"
            allowed = "parameters naming earlier, independent columns"
            raise SpecError(invalid("parameters", allowed, chain, where=f"{where}, column '{name}'", problem=problem))
        for dep in column_dependencies(table, table.column(name)):
            visit(dep, (*path, name))

    for col in table.columns:
        visit(col.name, ())
        _check_derived_order(table, col, where)


def _check_derived_order(table: TableSpec, col: ColumnSpec, where: str) -> None:
    """A derived column's SQL reads the columns before it, so a column may depend on it only from below it."""
    position = table.column_names.index(col.name)
    seen, todo = set(), list(column_dependencies(table, col))
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        dep = table.column(name)
        if dep.kind == "derived" and table.column_names.index(name) > position:
            problem = f"depends on derived column '{name}', which is defined after it"
            allowed = f"derived columns defined before '{col.name}'"
            raise SpecError(
                invalid("parameters", allowed, name, where=f"{where}, column '{col.name}'", problem=problem)
            )
        todo.extend(column_dependencies(table, dep))


def _check_primary_key(table: TableSpec, where: str) -> None:
    key = table.column(table.primary_key)
    if key.kind not in PRIMARY_KEY_KINDS:
        raise SpecError(
            invalid(
                "primary_key",
                "a sequence column, or a derived column built from one",
                key.name,
                where=where,
                problem=f"column '{key.name}' is a {key.kind} column, whose values can repeat",
            )
        )
    if key.null_rate > 0:
        raise SpecError(
            invalid(
                "null_rate",
                "0",
                key.null_rate,
                where=place(where, column=key.name),
                problem="the primary key cannot be null",
            )
        )


def _check_pool(spec: DatasetSpec, col: ColumnSpec, where: str) -> None:
    """The pool is the dataset's or a locale pool, and has the field (default: its first)."""
    name = col.params["pool"]
    if isinstance(name, str) and name in spec.pools:
        fields, what = spec.pools[name].fields, "pool"
    elif isinstance(name, str) and name in LOCALE_POOL_FIELDS:
        fields, what = LOCALE_POOL_FIELDS[name], "locale pool"
    else:
        own = ", ".join(sorted(spec.pools)) or "none"
        raise SpecError(
            invalid(
                "pool",
                f"the dataset's pools ({own}), the locale pools ({', '.join(LOCALE_POOL_FIELDS)})",
                name,
                where=where,
                problem="unknown pool",
            )
        )
    field_name = col.params.get("field", fields[0])
    if field_name not in fields:
        raise SpecError(
            invalid("field", ", ".join(fields), field_name, where=where, problem=f"{what} '{name}' has no such field")
        )


def _validate_column_references(
    spec: DatasetSpec, tables: Mapping[str, TableSpec], table: TableSpec, col: ColumnSpec
) -> None:
    where = place(spec.source, table=table.name, column=col.name)
    p = col.params
    if "references" in p:
        ref_table, ref_col = p["references"].split(".")
        if ref_table not in tables or ref_col not in tables[ref_table].column_names:
            raise SpecError(
                invalid(
                    "references", f"{', '.join(tables)} columns", p["references"], where=where, problem="no such column"
                )
            )
        target = tables[ref_table]
        if col.kind in KEY_KINDS and (target.kind != "snapshot" or target.primary_key != ref_col):
            raise SpecError(
                invalid(
                    "references",
                    "a snapshot table's primary key",
                    p["references"],
                    where=where,
                    problem="a foreign key must name a snapshot table's primary key",
                )
            )
        if col.kind == "lookup" and target.kind != "snapshot":
            snapshots = ", ".join(t.name for t in tables.values() if t.kind == "snapshot") or "none"
            raise SpecError(
                invalid(
                    "references",
                    f"columns of the snapshot tables ({snapshots})",
                    p["references"],
                    where=where,
                    problem=f"a lookup reads an entity of a snapshot table, and '{ref_table}' is {target.kind}",
                )
            )
        if col.kind == "version_key" and (target.primary_key != ref_col or not has_lifecycle(target)):
            keys = ", ".join(f"{t.name}.{t.primary_key}" for t in tables.values() if has_lifecycle(t)) or "none"
            raise SpecError(
                invalid(
                    "references",
                    keys,
                    p["references"],
                    where=where,
                    problem="a version key names the primary key of a snapshot table with a lifecycle",
                )
            )
        if col.kind == "lookup" and not is_inline(target, ref_col):
            raise SpecError(
                invalid(
                    "references",
                    "columns not built from a derived expression",
                    p["references"],
                    where=where,
                    problem="cannot look up a column built from a derived expression",
                )
            )
    _check_balance(tables, table, col, where)
    if col.kind == "propensity_class" and table.propensity is None:
        raise SpecError(
            invalid(
                "kind",
                "a table-level propensity: {shares: [...], weights: [...]} on this snapshot table",
                col.kind,
                where=where,
                problem="a propensity_class column needs its table's propensity",
            )
        )
    if col.kind in ("lookup", "version_key") and p["key"] not in table.column_names:
        raise SpecError(invalid("key", ", ".join(table.column_names), p["key"], where=where, problem="no such column"))
    if col.kind in ("child_count", "child_sum"):
        child = tables.get(p["child"])
        if child is None or child.parent != table.name:
            raise SpecError(
                invalid(
                    "child", f"tables whose parent is '{table.name}'", p["child"], where=where, problem="is not a child"
                )
            )
        for name in p.get("of", ()):
            if name not in child.column_names or not is_inline(child, name):
                raise SpecError(
                    invalid("of", f"generated columns of '{child.name}'", name, where=where, problem="is not one")
                )
        if col.kind == "child_sum" and (most := children_summed(child.rows_per_parent, child.children_shape)) > (
            MAX_CHILDREN_SUMMED
        ):
            shape = " and its children_shape" if child.children_shape else ""
            raise SpecError(
                invalid(
                    "child",
                    f"rows_per_parent <= {MAX_CHILD_SUM_ROWS_PER_PARENT} (less with a children_shape)",
                    p["child"],
                    where=where,
                    problem=f"child_sum adds up at most {MAX_CHILDREN_SUMMED} children per parent, and '{child.name}' has rows_per_parent {child.rows_per_parent:g}{shape}: up to {most}",
                )
            )
    if col.kind in ("parent_key", "line_number", "parent_value") and table.parent is None:
        raise SpecError(
            invalid(
                "kind",
                "kinds of a table with a parent",
                col.kind,
                where=where,
                problem="needs the table to declare a parent",
            )
        )
    _check_family(tables, table, col, where)
    if col.kind in VISIT_KINDS:
        _check_visits(tables, table, col, where)
    if col.kind == "pool":
        _check_pool(spec, col, where)
    _check_segments(spec, tables, table, col, where)
    for name in ("min", "max"):
        if isinstance(p.get(name), str) and p[name] not in table.column_names:
            raise SpecError(
                invalid(
                    name, f"numbers, {', '.join(table.column_names)}", p[name], where=where, problem="no such column"
                )
            )
    given = p.get("given")
    if given is not None and (given not in table.column_names or given == col.name):
        others = ", ".join(n for n in table.column_names if n != col.name)
        raise SpecError(invalid("given", others, given, where=where, problem="no such column"))
    base = p.get("base")
    if base is not None and base not in ("generation_date", "epoch") and base not in table.column_names:
        raise SpecError(
            invalid(
                "base",
                f"generation_date, epoch, {', '.join(table.column_names)}",
                base,
                where=where,
                problem="no such column",
            )
        )


def _pool_fields(spec: DatasetSpec, name: str) -> tuple[str, ...]:
    return spec.pools[name].fields if name in spec.pools else LOCALE_POOL_FIELDS[name]


def _check_segments(
    spec: DatasetSpec, tables: Mapping[str, TableSpec], table: TableSpec, col: ColumnSpec, where: str
) -> None:
    """Segments (docs/data-model.md#segments): a segment column, a pool pick given one, a key within one."""
    p = col.params

    def fail(name: str, allowed: str, problem: str) -> None:
        raise SpecError(invalid(name, allowed, p.get(name), where=where, problem=problem))

    if col.kind == "segment":
        if table.kind != "snapshot" or [c.name for c in table.columns if c.kind == "segment"] != [col.name]:
            fail("kind", "one segment column per snapshot table", "a table's entities fall into one set of segments")
        _check_pool(spec, col, where)
    if col.kind == "pool" and "given" in p:
        fields = _pool_fields(spec, p["pool"])
        if p["given"] not in fields:
            fail("given", f"a column named like a field of pool '{p['pool']}' ({', '.join(fields)})", "no such field")
        pick = p.get("pick", col.name)
        others = [c for c in table.columns if c.kind == "pool" and c.params.get("pick", c.name) == pick]
        if any(c.params.get("given") != p["given"] for c in others):
            fail("given", f"the same given on every column of pick '{pick}'", "columns of one pick read one record")
    if "same_segment" not in p and "segment_share" not in p:
        return
    target = tables[p["references"].split(".")[0]]
    if not any(c.kind == "segment" for c in target.columns):
        fail("same_segment", f"a key into a table with a segment column ('{target.name}' has none)", "no segments")
    if "slots_per_day" in p:
        fail("same_segment", "a foreign key without slots_per_day", "a booking cannot also keep to a segment")
    if p.get("same_segment") not in table.column_names or p["same_segment"] == col.name:
        fail("same_segment", ", ".join(n for n in table.column_names if n != col.name), "no such column")
    share = p.get("segment_share", 1)
    if not is_number(share) or not 0 <= share <= 1:
        fail("segment_share", "numbers from 0 to 1, e.g. 0.85", "must be a share")


def _check_family(tables: Mapping[str, TableSpec], table: TableSpec, col: ColumnSpec, where: str) -> None:
    """Bookings (slots_per_day, slot), a parent's value (parent_value), codes distinct per parent."""
    p = col.params
    slots = p.get("slots_per_day")
    if slots is not None and (not isinstance(slots, int) or isinstance(slots, bool) or not 1 <= slots <= 10_000):
        allowed = "integers from 1 to 10000, e.g. 36 (15-minute slots from 08:00 to 17:00)"
        raise SpecError(invalid("slots_per_day", allowed, slots, where=where, problem="must be an integer in range"))
    if col.kind == "slot" and (
        p["key"] not in table.column_names or "slots_per_day" not in table.column(p["key"]).params
    ):
        allowed = "a foreign_key column of this table with slots_per_day, e.g. provider_id"
        raise SpecError(invalid("key", allowed, p["key"], where=where, problem="must name a booked foreign key"))
    if col.kind == "parent_value":
        parent = tables[table.parent]
        if p["column"] not in parent.column_names or not is_inline(parent, p["column"]):
            allowed = ", ".join(n for n in parent.column_names if is_inline(parent, n))
            problem = f"must be a generated column of the parent '{parent.name}', not derived"
            raise SpecError(invalid("column", allowed, p["column"], where=where, problem=problem))
    distinct = p.get("distinct_per_parent")
    if distinct is not None and (
        distinct is not True or not {"parent_key", "line_number"} <= {c.kind for c in table.columns}
    ):
        problem = "must be true, on a child table with parent_key and line_number columns"
        raise SpecError(invalid("distinct_per_parent", "true", distinct, where=where, problem=problem))


VISIT_KINDS = ("visit", "visit_step", "visit_event", "visit_product", "visit_time", "order_visit")


def _check_visits(tables: Mapping[str, TableSpec], table: TableSpec, col: ColumnSpec, where: str) -> None:
    """Visits (generators/visits.py): one visit column per events table, the others name it, orders agree."""

    def fail(name: str, allowed: str, problem: str) -> None:
        raise SpecError(invalid(name, allowed, col.params.get(name), where=where, problem=problem))

    p, kinds = col.params, {c.name: c.kind for c in table.columns}
    visits = [n for n, k in kinds.items() if k == "visit"]
    if col.kind == "visit":
        target = tables[p["references"].split(".")[0]]
        if len(visits) > 1 or table.kind != "incremental" or target.lifecycle.churn_rate > 0:
            fail("references", "a snapshot without churn, once per incremental table", "every key must be active")
        orders = tables.get(p.get("orders", ""))
        if "orders" in p and (orders is None or not any(c.kind == "order_visit" for c in orders.columns)):
            fail("orders", "an incremental table with an order_visit column", "is not one")
    elif col.kind == "order_visit":
        events = tables.get(p["events"])
        if events is None or not any(
            c.kind == "visit" and c.params.get("orders") == table.name for c in events.columns
        ):
            fail("events", f"a table whose visit column has orders: {table.name}", "is not one")
        if p["references"] != next(c for c in events.columns if c.kind == "visit").params["references"]:
            fail("references", "the references of the events' visit column", "names other sessions")
    elif col.kind == "visit_time" and kinds.get(p["key"]) not in ("visit", "order_visit"):
        fail("key", ", ".join(visits) or "a visit or order_visit column of this table", "is not one")
    elif col.kind == "visit_time" and kinds[p["key"]] == "order_visit":
        events = tables.get(table.column(p["key"]).params["events"])
        if events is not None and not any(c.kind == "visit_time" for c in events.columns):
            fail("key", f"an order_visit whose events table '{events.name}' has a visit_time column", "has none")
    elif col.kind != "visit_time" and kinds.get(p["key"]) != "visit":
        fail("key", ", ".join(visits) or "a visit column of this table", "is not one")
    if col.kind == "visit_event" and "purchase" in p["values"]:
        fail("values", "browsing events (purchases come from the orders)", "names purchase")
    if col.kind == "visit_product":
        if kinds.get(p["event"]) != "visit_event":
            fail("event", "a visit_event column of this table", "is not one")
        if p["product"] not in kinds:
            fail("product", ", ".join(kinds), "no such column")
        orders = tables.get(table.column(p["key"]).params.get("orders", ""))
        if "ordered" in p and (orders is None or p["ordered"] not in orders.column_names):
            fail("ordered", "a column of the visit's orders table", "no such column")


def _check_balance(tables: Mapping[str, TableSpec], table: TableSpec, col: ColumnSpec, where: str) -> None:
    """A balance names a ledger (an incremental table with one foreign key to this table, a sweep_row and a
    sweep_amount column), an amount of it and a target of its own; a sweep column belongs to such a ledger."""

    def fail(name: str, allowed: str, given: object, problem: str) -> None:
        raise SpecError(invalid(name, allowed, given, where=where, problem=problem))

    if col.kind in ("sweep_row", "sweep_amount"):
        named = [c for t in tables.values() for c in t.columns if c.kind == "balance"]
        if not any(c.params["ledger"] == table.name for c in named):
            fail("kind", "a table that a balance column names as its ledger", col.kind, "no balance names this table")
        if sum(c.kind == col.kind for c in table.columns) > 1:
            fail("kind", f"one {col.kind} column per ledger", col.kind, "the table has two")
        return
    if col.kind != "balance":
        return
    p = col.params
    if table.kind != "snapshot" or not has_lifecycle(table) or table.frequency not in SWEEP_FREQUENCIES:
        allowed = f"a {', '.join(SWEEP_FREQUENCIES)} snapshot table with a lifecycle"
        fail("kind", allowed, col.kind, f"'{table.name}' is not one (its snapshot dates are the sweep dates)")
    target = table.column(p["target"]) if p["target"] in table.column_names else None
    if target is None or target.kind not in ("uniform", "normal", "lognormal"):
        numbers = ", ".join(c.name for c in table.columns if c.kind in ("uniform", "normal", "lognormal")) or "none"
        fail("target", numbers, p["target"], "is not a uniform, normal or lognormal column of the table")
    ledger = tables.get(str(p["ledger"]))
    if ledger is None or ledger.kind != "incremental":
        incremental = ", ".join(t.name for t in tables.values() if t.kind == "incremental") or "none"
        fail("ledger", incremental, p["ledger"], "is not an incremental table")
    keys = [c for c in ledger.columns if c.kind == "foreign_key" and c.params["references"].split(".")[0] == table.name]
    if len(keys) != 1 or "slots_per_day" in keys[0].params or "same_segment" in keys[0].params:
        fail("ledger", f"a table with one plain foreign key to {table.name}", p["ledger"], f"has {len(keys)}")
    for kind in ("sweep_row", "sweep_amount"):
        if not any(c.kind == kind for c in ledger.columns):
            fail("ledger", f"a table with a {kind} column", p["ledger"], f"has no {kind} column")
    if p["amount"] not in ledger.column_names:
        fail("amount", ", ".join(ledger.column_names), p["amount"], f"is not a column of '{ledger.name}'")
    if not isinstance(p["counted"], str) or not p["counted"].strip():
        fail("counted", "Spark SQL over the ledger's written columns", p["counted"], "is not an expression")
    others = [c for c in table.columns if c.kind == "balance" and c is not col and c.params["ledger"] == ledger.name]
    if others:
        fail("ledger", "a table no other balance names", p["ledger"], f"'{others[0].name}' names it too")
