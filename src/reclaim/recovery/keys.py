"""Integer remittance keys inside the recovery engine; the model's string ids outside it.

Inputs are loaded as ``in_<table>`` (the model's tables as read). ``remit_claim_id`` is a long
string (file id : ISA13 : GS06 : ST02 : ordinal, ~60 characters) that every step joins on
several times, so :func:`attach` gives the engine its working tables under the model's names
(``remit_claims``, ``remit_lines``, ``adjustments``, ``remarks``, the claim tables...) with
``remit_claim_id`` replaced by an integer that follows the order of the strings
(``dense_rank``: a tie broken on the id is broken the same way). ``claim_id`` stays a string:
keying it means copying the wide claim tables, which cost more than its joins gained
(measured with bench/recover.py, see docs/recover.md).

:func:`outputs` maps the ids back: the worklist (before the root cause, which joins the edit
catalog's findings), and ``<result>_out`` views of the engine's results (``claim_match_out``,
``dollars_out``...) plus the submitted tables as read (``claims_out``...). What the caller sees,
and the worklist store persists, carries the model's ids unchanged.
"""

from __future__ import annotations

import duckdb

from ..claims.model import CLAIM_TABLES, REMIT_TABLES

#: prefix of the tables the inputs are loaded into
INPUT_PREFIX = "in_"

#: engine results whose ids are mapped back for the caller
RESULTS = ("claim_match", "line_match", "unmatched", "dollars", "underpayments", "unpriced", "write_offs")

#: id column -> (the table that defines the ids, the integer <-> string map table); more
#: columns can be added here, everything below handles them
KEYED = {"remit_claim_id": ("remit_claims", "remit_claim_keys")}


def input_table(name: str) -> str:
    return f"{INPUT_PREFIX}{name}"


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in con.execute(f'describe "{table}"').fetchall()]


def _keyed_select(con, source: str, to_int: bool, fallback: dict[str, str] | None = None) -> str:
    """``select`` of ``source`` with its keyed id columns swapped (string -> int or back);
    ``fallback``: column -> the column that holds the id when the key maps to nothing."""
    cols = _columns(con, source)
    swaps, joins = [], []
    for n, (column, (_, keys)) in enumerate(KEYED.items()):
        if column in cols:
            a = f"k{n}"
            if to_int:
                swaps.append(f"{a}.k as {column}")
                joins.append(f"left join {keys} {a} on {a}.id = t.{column}")
            else:
                other = (fallback or {}).get(column)
                swaps.append(f"coalesce({a}.id, t.{other}) as {column}" if other else f"{a}.id as {column}")
                joins.append(f"left join {keys} {a} on {a}.k = t.{column}")
    if not swaps:
        return f'select * from "{source}"'
    return f'select t.* replace ({", ".join(swaps)}) from "{source}" t ' + " ".join(joins)


def attach(con: duckdb.DuckDBPyConnection) -> None:
    """Create the engine's working tables (model names, integer ids) from the loaded ``in_`` tables."""
    for column, (table, keys) in KEYED.items():
        con.execute(f"""create or replace temp table {keys} as
                        select id, dense_rank() over (order by id)::integer as k
                        from (select distinct {column} as id from "{input_table(table)}" where {column} is not null)""")
    for name in {**REMIT_TABLES, **CLAIM_TABLES}:
        source = input_table(name)
        if any(c in _columns(con, source) for c in KEYED):
            con.execute(f'create or replace temp table "{name}" as {_keyed_select(con, source, True)}')
        else:
            con.execute(f'create or replace temp view "{name}" as select * from "{source}"')


def outputs(con: duckdb.DuckDBPyConnection) -> None:
    """The model's ids again: the ``worklist`` table in place (PLB items keep their
    ``plb_key`` as ``remit_claim_id``), ``<result>_out`` views, and ``claims_out``,
    ``lines_out``, ``diagnoses_out`` (the submitted tables as read)."""
    mapped = _keyed_select(con, "worklist", False, fallback={"remit_claim_id": "plb_key"})
    con.execute(f"create or replace temp table worklist as {mapped}")
    for name in RESULTS:
        con.execute(f"create or replace temp view {name}_out as {_keyed_select(con, name, False)}")
    for name in ("claims", "lines", "diagnoses"):
        con.execute(f'create or replace temp view {name}_out as select * from "{input_table(name)}"')


def to_model_ids(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """A ``select`` of an engine table (or view) with the model's string ids."""
    return _keyed_select(con, table, False)
