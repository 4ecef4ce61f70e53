"""Balances that are the running sum of a ledger's rows, kept exact by sweeps (pure Python; the plan's side).

A snapshot table with a lifecycle may hold a ``balance`` column whose ``ledger`` is an incremental table
with a foreign key to it (finance: ``accounts.current_balance``, moved by ``transactions``). The balance
table's snapshot dates (weekly: every Monday, and the epoch) are its **sweep dates** S_0 < S_1 < ...,
with S_-1 = the day before the epoch. For an entity a (an account):

    P(a, S_k) = round(target(a, S_k), scale)  if a signed up by S_k and is still active on S_k+1, else 0

``target(a, S_k)`` is a fresh draw of the ``target`` column with the row key versioned by S_k, and the 0
empties an account in the period before it closes. A ledger row of a day d in (S_k-1, S_k] picks among the
entities signed up by S_k-1 and active on S_k (so P(a, S_k-1) > 0 for each), and on S_k the ledger gets one
**sweep row** per entity active on S_k, after the day's other rows:

    sweep(a, S_k) = P(a, S_k) - P(a, S_k-1) - (the counted amounts of a's rows dated in (S_k-1, S_k])

so the balance a snapshot shows on S_k, P(a, S_k), is exactly the running sum of all of a's counted rows,
sweeps included. Each value is a pure function of (seed, table, entity, date); the sweep's sum is a Spark
aggregate over the period's ledger rows, regenerated (``engine.ledger``). The sweep dates are the calendar's
(``calendar.is_sweep_day``, ``sweep_before``, ``sweep_on_or_after``, ``period_days``); this module finds the
ledger a balance names. See docs/data-model.md#balances-running-sums-of-a-ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from synthgen_spark.catalog import DatasetSpec, TableSpec


@dataclass(frozen=True)
class Ledger:
    """A balance column and the ledger whose rows move it (the catalog checked every name)."""

    table: str  # the snapshot table holding the balance
    column: str  # its balance column
    ledger: str  # the incremental table whose rows move it
    account: str  # the ledger's foreign key to ``table``
    amount: str  # the ledger's signed amount column
    counted: str  # Spark SQL over the ledger's columns: the rows that move the balance
    target: str  # the balance table's column drawn anew on each sweep date
    sweep_row: str  # the ledger's boolean column: true on the sweep rows
    sweep_amount: str  # the ledger's column holding a sweep row's amount
    key_start: int  # the balance table's first key: entity index = key - key_start


def ledgers(dataset: DatasetSpec) -> tuple[Ledger, ...]:
    """Every balance column of the dataset, with its ledger."""
    found = []
    for table in dataset.tables:
        for col in table.columns:
            if col.kind != "balance":
                continue
            ledger = dataset.table(col.params["ledger"])
            found.append(
                Ledger(
                    table=table.name,
                    column=col.name,
                    ledger=ledger.name,
                    account=account_column(ledger, table),
                    amount=col.params["amount"],
                    counted=col.params["counted"],
                    target=col.params["target"],
                    sweep_row=_only(ledger, "sweep_row"),
                    sweep_amount=_only(ledger, "sweep_amount"),
                    key_start=int(table.column(table.primary_key).params.get("start", 1)),
                )
            )
    return tuple(found)


def ledger_of(dataset: DatasetSpec, table: str) -> Ledger | None:
    """The balance the incremental table ``table`` moves, if any."""
    return next((ledger for ledger in ledgers(dataset) if ledger.ledger == table), None)


def account_column(ledger: TableSpec, table: TableSpec) -> str:
    """The ledger's foreign key to ``table``'s primary key (the catalog checks there is exactly one)."""
    wanted = f"{table.name}.{table.primary_key}"
    return next(c.name for c in ledger.columns if c.kind == "foreign_key" and c.params["references"] == wanted)


def _only(table: TableSpec, kind: str) -> str:
    return next(c.name for c in table.columns if c.kind == kind)
