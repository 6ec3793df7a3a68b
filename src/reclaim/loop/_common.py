"""Shared plumbing of the closed-loop reports: a DuckDB connection over the claim/remit Arrow
tables, and the reference tables in force on each date of service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ..claims.model import ClaimBatch, RemitBatch
from ..refdata.store import TABLES as REF_TABLES

#: reference tables the loop reads, with the column that starts a release
REF_START = {"hcpcs": "release_effective", "asp_pricing": "effective_from", "ndc_crosswalk": "effective_from",
             "mue": "effective_from"}


def arrow(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pa.Table:
    res = con.execute(sql, params or []).arrow()
    return res.read_all() if hasattr(res, "read_all") else res


def store_path(store: Any) -> Path | None:
    """The DuckDB file of a RefStore, Settings or path (None when no store is given)."""
    if store is None:
        return None
    for attr in ("store_path", "path"):
        if hasattr(store, attr):
            return Path(getattr(store, attr))
    return Path(store)


def connect(claims: ClaimBatch | None = None, remits: RemitBatch | None = None) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory connection with the batches' tables registered under their own names."""
    con = duckdb.connect()
    for name in ("claims", "lines", "diagnoses"):
        con.register(name, (claims or ClaimBatch())[name])
    for name in ("payments", "remit_claims", "remit_lines", "adjustments", "remarks", "provider_adjustments"):
        con.register(name, (remits or RemitBatch())[name])
    return con


def attach_reference(con: duckdb.DuckDBPyConnection, store: Any) -> bool:
    """Create views ``ref_<table>_dos`` (each row with ``valid_from``/``valid_to``: the dates its
    release is in force, until the next release starts) for hcpcs, asp_pricing, ndc_crosswalk, mue.

    Without a store the views are empty (same columns), so the SQL that reads them still runs and
    finds nothing. Returns whether a store was attached.
    """
    path = store_path(store)
    if path is not None:
        con.execute(f"ATTACH '{path}' AS ref (READ_ONLY)")
    for table, start in REF_START.items():
        if path is not None:
            source = f'ref.main."{table}"'
        else:
            con.register(f"empty_{table}", REF_TABLES[table].empty_table())
            source = f"empty_{table}"
        con.execute(f"""
            create or replace temp view ref_{table}_dos as
            with r as (select distinct {start} as d from {source}),
                 ri as (select d, lead(d) over (order by d) as next_d from r)
            select t.*, ri.d as valid_from, ri.next_d as valid_to
            from {source} t join ri on t.{start} = ri.d
        """)
    return path is not None
