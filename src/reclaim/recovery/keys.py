"""The recovery engine's tables under the model's names, and its results with the model's ids.

Inputs are loaded as ``in_<table>`` (``in_remit_claims``, ``in_lines``...: the model's tables
as read). :func:`attach` gives the engine its working tables under the model's names
(``remit_claims``, ``lines``...), which every step of :mod:`reclaim.recovery` reads;
:func:`outputs` gives the results (``claim_match_out``, ``dollars_out``, ``claims_out``...)
with the ids the user and the worklist store know.
"""

from __future__ import annotations

import duckdb

from ..claims.model import CLAIM_TABLES, REMIT_TABLES

#: prefix of the tables the inputs are loaded into
INPUT_PREFIX = "in_"

#: engine results whose ids are mapped back for the caller
RESULTS = ("claim_match", "line_match", "unmatched", "dollars", "underpayments", "unpriced", "write_offs")


def input_table(name: str) -> str:
    return f"{INPUT_PREFIX}{name}"


def attach(con: duckdb.DuckDBPyConnection) -> None:
    """Create the engine's working tables (model names) over the loaded ``in_`` tables."""
    for name in {**REMIT_TABLES, **CLAIM_TABLES}:
        con.execute(f'create or replace temp view "{name}" as select * from "{input_table(name)}"')


def outputs(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``<result>_out`` views with the model's ids, and the submitted claims as read
    (``claims_out``, ``lines_out``, ``diagnoses_out``)."""
    for name in RESULTS:
        con.execute(f"create or replace temp view {name}_out as select * from {name}")
    for name in ("claims", "lines", "diagnoses"):
        con.execute(f'create or replace temp view {name}_out as select * from "{input_table(name)}"')
