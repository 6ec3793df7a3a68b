"""Benchmark: the closed loop replayed over ~1M historical lines with their remittances.

The committed history (examples/history: 837P/835 files read by reclaim's readers) is tiled in
Arrow to N submitted lines (every copy gets its own CLM01, claim/remit ids, REF*6R, REF*F8 and
CLP07, so each copy matches only itself), then, in the same process:

* baseline: what any outcome analysis pays, the recovery matcher and the dollar classifier
  (:mod:`reclaim.recovery.matching`, :mod:`reclaim.recovery.classify`) on the same tables;
* ``adjudication_diff`` (part 1: every 837 line against its 835 lines, priced);
* the edit catalog replayed (:func:`reclaim.edits.check`, the edits colleague's engine), then
  ``edit_effectiveness`` scoring its findings (part 3: outcomes, diff, precision/recall), and
  the two together;
* ``observed_odds`` (the worklist's observed outcomes).

Each prints seconds, submitted lines per second and the ratio to the baseline (run first and
last; the faster run is the reference, so a busy machine inflates neither).
Run: ``.venv/bin/python bench/replay.py [LINES]`` (default 1,000,000). The reference store is
built from ../shared/refdata (or taken from RECLAIM_BENCH_HOME when it holds one).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from reclaim.claims.io import read_claims, read_remits
from reclaim.refdata.store import RefStore

from _store import bench_home

REPO = Path(__file__).resolve().parents[1]
HISTORY = REPO / "examples" / "history"

#: key columns made unique per copy, per table
KEYS = {
    # patients too: copies of one patient's claims would be duplicates and frequency-limit hits
    "claims": ("claim_id", "transaction_id", "patient_control_number", "original_claim_number", "patient_id",
               "subscriber_id"),
    "lines": ("claim_id", "line_control_number"),
    "diagnoses": ("claim_id",),
    "transactions": ("transaction_id",),
    "payments": ("transaction_id",),
    "remit_claims": ("remit_claim_id", "transaction_id", "patient_control_number", "payer_claim_control_number",
                     "patient_id"),
    "remit_lines": ("remit_claim_id", "line_control_number"),
    "adjustments": ("remit_claim_id",),
    "remarks": ("remit_claim_id",),
    "provider_adjustments": ("transaction_id",),
}


def tile(batch, copies: int):
    """``copies`` copies of every table of ``batch``, keys suffixed with the copy number."""
    out = {}
    for name, table in batch.tables.items():
        if name in ("files", "read_issues") or table.num_rows == 0:
            out[name] = table
            continue
        parts = []
        for k in range(copies):
            t = table
            for col in KEYS.get(name, ()):
                if col in t.column_names:
                    i = t.column_names.index(col)
                    t = t.set_column(i, col, pc.binary_join_element_wise(t[col], pa.scalar(f"#{k}"), ""))
            parts.append(t)
        out[name] = pa.concat_tables(parts).combine_chunks()
    return type(batch)(out)


def timed(label: str, fn, results: list):
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    results.append((label, seconds))
    print(f"  {label}: {seconds:.2f} s", flush=True)
    return out, seconds


def main() -> None:
    target = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    claims = read_claims([HISTORY / "claims"])
    remits = read_remits([HISTORY / "remits"])
    copies = max(1, round(target / claims["lines"].num_rows))
    claims, remits = tile(claims, copies), tile(remits, copies)
    lines = claims["lines"].num_rows
    print(f"history x {copies}: {claims['claims'].num_rows:,} claims, {lines:,} submitted lines, "
          f"{remits['remit_lines'].num_rows:,} remit lines, {remits['adjustments'].num_rows:,} CAS amounts")

    with bench_home() as home:
        store_path = home / "refdata.duckdb"
        from reclaim.loop import _common
        from reclaim.loop.adjudication_diff import adjudication_diff
        from reclaim.loop.effectiveness import edit_effectiveness, observed_odds
        from reclaim.recovery import classify, matching, taxonomy

        def baseline():
            con = _common.connect(claims, remits)
            con.register("taxonomy", taxonomy.load())
            matching.match(con)
            classify.classify(con)
            n = con.execute("select count(*) from line_match").fetchone()[0]
            con.close()
            return n

        results: list[tuple[str, float]] = []
        matched, _ = timed("baseline: match + classify (recovery)", baseline, results)
        with RefStore.open(store_path) as store:
            diff, _ = timed("adjudication_diff (part 1)", lambda: adjudication_diff(claims, remits, store=store), results)
            from reclaim.loop.effectiveness import replay_edits

            found, check_s = timed("edit catalog replay (reclaim.edits.check)",
                                   lambda: replay_edits(claims, store=store), results)
            eff, score_s = timed("edit_effectiveness scoring (diff + scores)",
                                 lambda: edit_effectiveness(claims, remits, store=store, findings=found), results)
            results.append(("edit_effectiveness end to end (replay + scoring)", check_s + score_s))
        timed("observed_odds", lambda: observed_odds(claims, remits), results)
        # the baseline again: the faster of the two runs is the reference (less noise from the machine)
        timed("baseline again", baseline, results)
        base = min(seconds for label, seconds in results if label.startswith("baseline"))
        print(f"\n{'step':<50} {'seconds':>9} {'lines/s':>12} {'vs base':>8}")
        for label, seconds in results:
            print(f"{label:<50} {seconds:>9.2f} {lines / seconds:>12,.0f} {seconds / base:>7.2f}x")
        print(f"matched remit lines {matched:,}; differences {diff.findings.num_rows:,}; "
              f"lines flagged {eff.totals['lines_flagged']:,}; adverse {eff.totals['adverse']:,}")


if __name__ == "__main__":
    main()
