"""The dataset as text for ``synthgen datasets show``."""

from __future__ import annotations

from synthgen_spark.catalog.kinds import KEY_KINDS
from synthgen_spark.catalog.model import DatasetSpec


def describe_dataset(spec: DatasetSpec) -> str:
    """Tables, kinds, frequencies, volumes, columns, types and keys, as text for ``synthgen datasets show``."""
    lines = [
        f"{spec.dataset_id}: {spec.description}",
        f"domain {spec.domain}; epoch {spec.epoch}; weekday multipliers "
        + " ".join(f"{m:g}" for m in spec.weekday_multipliers),
    ]
    for table in spec.tables:
        if table.kind == "snapshot":
            shape = f"snapshot, {table.frequency}, {table.rows:,} entities"
            shape += "" if table.scaled else ", not scaled: the same at any scale_factor"
        else:
            shape = f"incremental, {table.rows:,} rows/day base, holiday x{table.holiday_multiplier:g}"
            shape += f", child of {table.parent} ({table.rows_per_parent:g} per parent)" if table.parent else ""
        lines += [
            "",
            f"{table.name} ({shape}); primary key {table.primary_key}; date column {table.primary_date_column}",
        ]
        for col in table.output_columns:
            key = ""
            if col.name == table.primary_key:
                key = "PK"
            elif col.kind in (*KEY_KINDS, "lookup", "version_key"):
                key = f"-> {col.params['references']}"
            elif col.kind == "parent_key":
                key = f"-> {table.parent}"
            lines.append(f"  {col.name:<18} {col.type:<14} {col.kind:<16} {key}")
    return "\n".join(lines)
