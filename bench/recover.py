"""Benchmark: ``reclaim recover`` matching and classification on 1M remittance lines.

The input is synthetic but built from realistic claims: the demo's submitted 837P claims and
their 835 remittances (examples/, real HCPCS codes, NDCs, ASP-priced payments, denials,
reversal, PLB) are read with the real X12 readers and replicated N times with unique ids
(CLM01, REF*6R, CLP07, claim ids), so the joins see realistic keys and every category.

Prints, for the same tables in the same process:

* match (claims and lines, with fallbacks) + classify (every dollar into a category): seconds
  and remit lines/s;
* the whole ``recover`` pipeline without the edit catalog and without saving (adds expected
  payments against ASP, items, deadlines, priority): seconds and lines/s;
* the baseline: a plain DuckDB join of the same remit lines to the submitted lines on REF*6R
  plus a group-by of the adjustments (the floor any matcher pays), and the ratio to it.

Run: ``.venv/bin/python bench/recover.py [REMIT_LINES]`` (default 1,000,000).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from reclaim.claims.model import ClaimBatch, RemitBatch
from reclaim.claims.x12 import read_835, read_837
from reclaim.recovery import classify, engine, matching, recover, terms

REPO = Path(__file__).resolve().parents[1]
EX = REPO / "examples"


def _suffix(table: pa.Table, reps: int, columns: list[str]) -> pa.Table:
    """``table`` repeated ``reps`` times, each listed string column suffixed with '#<rep>'."""
    n = table.num_rows
    idx = pa.array(np.tile(np.arange(n), reps))
    rep = pa.array(np.repeat(np.arange(reps), n).astype(str))
    out = table.take(idx)
    for col in columns:
        if col not in out.column_names:
            continue
        i = out.schema.get_field_index(col)
        joined = pc.binary_join_element_wise(out[col], rep, "#")
        out = out.set_column(i, col, joined.cast(pa.string()))
    return out


def build(lines_wanted: int) -> tuple[RemitBatch, ClaimBatch]:
    remits = RemitBatch.concat([read_835(EX / "remits" / "recover-medicare.835"), read_835(EX / "remits" / "recover-acme.835")])
    claims = ClaimBatch.concat([read_837(EX / "claims" / "recover-medicare.837"), read_837(EX / "claims" / "recover-acme.837")])
    reps = -(-lines_wanted // remits["remit_lines"].num_rows)
    ids_r = ["remit_claim_id", "patient_control_number", "payer_claim_control_number", "line_control_number",
             "patient_id", "transaction_id"]
    ids_c = ["claim_id", "patient_control_number", "line_control_number", "patient_id", "subscriber_id",
             "original_claim_number", "transaction_id"]
    r = {name: _suffix(remits[name], reps, ids_r) for name in
         ("payments", "remit_claims", "remit_lines", "adjustments", "remarks", "provider_adjustments")}
    c = {name: _suffix(claims[name], reps, ids_c) for name in ("claims", "lines", "diagnoses")}
    return RemitBatch(tables=r), ClaimBatch(tables=c)


def time_it(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    wanted = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    t0 = time.perf_counter()
    remits, claims = build(wanted)
    n = remits["remit_lines"].num_rows
    print(f"synthetic input: {n:,} remit lines, {remits['remit_claims'].num_rows:,} remit claims, "
          f"{remits['adjustments'].num_rows:,} CAS amounts, {claims['lines'].num_rows:,} submitted lines "
          f"(built in {time.perf_counter() - t0:.1f}s)")

    def connect():
        # the same registration recover() does, so the baseline joins the same tables
        return engine._connect(remits, claims)

    def baseline():
        con = connect()
        con.execute("""
            create temp table b as
            select rl.remit_claim_id, rl.line_index, l.claim_id, l.line_number, a.total
            from remit_lines rl
            left join lines l on l.line_control_number = rl.line_control_number
            left join (select remit_claim_id, line_index, sum(amount) as total from adjustments group by all) a
                   on a.remit_claim_id = rl.remit_claim_id and a.line_index = rl.line_index""")
        con.close()

    def match_classify():
        con = connect()
        matching.match(con)
        classify.classify(con)
        con.close()

    store = None
    home = os.environ.get("RECLAIM_BENCH_HOME")
    if home and (Path(home) / "refdata.duckdb").is_file():
        from reclaim.refdata.store import RefStore

        store = RefStore.open(Path(home) / "refdata.duckdb")

    def full():
        recover(remits, claims, store=store, terms=terms.load(EX / "remits" / "acme-terms.yaml"),
                as_of=dt.date(2025, 12, 15), run_edits=False)

    base = time_it(baseline)
    mc = time_it(match_classify)
    whole = time_it(full)
    print(f"baseline (plain DuckDB join on REF*6R + CAS group-by): {base:.2f}s, {n / base:,.0f} lines/s")
    print(f"match + classify:                                     {mc:.2f}s, {n / mc:,.0f} lines/s, "
          f"{mc / base:.1f}x the baseline")
    print(f"whole recover (no edits, no save{'' if store else ', no ASP store'}):"
          f"{' ' * (15 if store else 1)}{whole:.2f}s, {n / whole:,.0f} lines/s, {whole / base:.1f}x the baseline")


if __name__ == "__main__":
    main()
