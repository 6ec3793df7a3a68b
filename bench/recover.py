"""Benchmark: ``reclaim recover`` from X12 files, its memory, and match + classify at 1M lines.

Part 1, the whole ``recover`` from files (what ``reclaim recover R.835 --claims C.837`` runs,
without the edit catalog and without saving, like the previous measurements): an 835 and the
837 it answers are built in ``bench/.data/`` (gitignored) by replicating the demo's claims and
remittances (examples/: real HCPCS codes, NDCs, ASP-priced payments, denials, a reversal, a
mistyped CLP01, PLB), every copy with its own CLM01/CLP01, REF*6R, CLP07 and member ids, so
the joins see realistic keys and every category. Each size runs in a fresh subprocess:
seconds, remit lines/s, peak RSS, and the seconds per step (``RecoveryResult.timings``). Two
sizes of 835 (default 100 and 300 MB) show whether memory grows with the file.

Part 2, on in-memory synthetic tables of ``--lines`` remit lines (default 1M) in one process:
match (claims and lines, with fallbacks) + classify (every dollar into a category) against a
baseline, a plain DuckDB join of the same remit lines to the submitted lines on REF*6R plus a
group-by of the adjustments (the floor any matcher pays), on the same connection.

Run: ``.venv/bin/python bench/recover.py [--mb 100 300] [--lines 1000000] [--skip-files] [--skip-match]``.
The reference store comes from ``RECLAIM_BENCH_HOME`` or is built from ../shared/refdata.
Every number is measured in this run; ``os.getloadavg()`` is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
EX = REPO / "examples"
DATA = HERE / ".data"
#: the demo's claim files and the remittances answering them
PAIRS = [(EX / "claims" / "recover-medicare.837", EX / "remits" / "recover-medicare.835"),
         (EX / "claims" / "recover-acme.837", EX / "remits" / "recover-acme.835")]
TERMS = EX / "remits" / "acme-terms.yaml"
AS_OF = "2025-12-15"
COPIES_PER_ST = 1000


# --------------------------------------------------------------------------- X12 generation


def _segments(path: Path) -> list[str]:
    text = path.read_text(encoding="latin-1").replace("\r", "").replace("\n", "")
    return [s for s in text.split("~") if s.strip()]


def _split_837(segs: list[str]) -> tuple[list[str], list[str]]:
    """(ST..billing provider HL segments, subscriber blocks' segments) of a one-ST 837."""
    first = next(i for i, s in enumerate(segs) if s.startswith("HL*") and s.split("*")[3] == "22")
    end = next(i for i, s in enumerate(segs) if s.startswith("SE*"))
    start = next(i for i, s in enumerate(segs) if s.startswith("ST*"))
    return segs[start + 1:first], segs[first:end]


def _split_835(segs: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(header after ST, claim segments LX..., PLB segments) of a one-ST 835."""
    start = next(i for i, s in enumerate(segs) if s.startswith("ST*"))
    first = next(i for i, s in enumerate(segs) if s.startswith("LX*"))
    end = next(i for i, s in enumerate(segs) if s.startswith("SE*"))
    body = segs[first:end]
    return segs[start + 1:first], [s for s in body if not s.startswith("PLB*")], [s for s in body if s.startswith("PLB*")]


_CLAIM_ID = re.compile(r"\bRC(\d{4})")  # CLM01/CLP01 and REF*6R (RC1001, RC1001-1); RC1O09 stays mistyped


def _copy(segs: list[str], i: int) -> list[str]:
    """One copy of claim segments with its own CLM01/CLP01, REF*6R, member ids and CLP07."""
    out = []
    for s in segs:
        s = _CLAIM_ID.sub(rf"RC\g<1>X{i}", s)
        e = s.split("*")
        if e[0] == "NM1" and e[1] in ("IL", "QC") and len(e) > 9:
            e[9] = f"{e[9]}X{i}"
        elif e[0] == "CLP" and len(e) > 7:
            e[7] = f"{e[7]}X{i}"
        elif e[0] == "HL":
            pass
        out.append("*".join(e))
    return out


def _renumber_hl(segs: list[str], next_hl: int) -> tuple[list[str], int]:
    ids: dict[str, str] = {"1": "1"}
    out = []
    for s in segs:
        e = s.split("*")
        if e[0] == "HL":
            ids[e[1]] = str(next_hl)
            e[1], e[2] = str(next_hl), ids.get(e[2], "1")
            next_hl += 1
        out.append("*".join(e))
    return out, next_hl


def _cents(amount: str) -> int:
    return round(float(amount) * 100)


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def generate(mb: float) -> tuple[Path, Path]:
    """``bench/.data/recover-<mb>MB.835`` (about ``mb`` MB) and the 837 it answers (reused when present)."""
    r_path, c_path = DATA / f"recover-{mb:g}MB.835", DATA / f"recover-{mb:g}MB.837"
    if r_path.exists() and c_path.exists():
        return r_path, c_path
    DATA.mkdir(parents=True, exist_ok=True)
    target = int(mb * 1_000_000)
    parts = []
    for claim_file, remit_file in PAIRS:
        c_head, c_body = _split_837(_segments(claim_file))
        r_segs = _segments(remit_file)
        r_head, r_body, plb = _split_835(r_segs)
        bpr = next(s for s in r_head if s.startswith("BPR*")).split("*")
        paid = sum(_cents(s.split("*")[4]) for s in r_body if s.startswith("CLP*"))
        parts.append((c_head, c_body, r_head, r_body, plb, bpr, paid))
    isa_835 = "ISA*00*          *00*          *ZZ*RECLAIMBENCH   *ZZ*VALLEYINF      *251210*1200*^*00501*000000001*0*T*:~"
    isa_837 = "ISA*00*          *00*          *ZZ*VALLEYINF      *ZZ*RECLAIMBENCH   *251201*0900*^*00501*000000001*0*T*:~"
    written, st, copy = 0, 0, 0
    with r_path.open("w", encoding="latin-1") as rf, c_path.open("w", encoding="latin-1") as cf:
        rf.write(isa_835 + "GS*HP*RECLAIMBENCH*VALLEYINF*20251210*1200*1*X*005010X221A1~")
        cf.write(isa_837 + "GS*HC*VALLEYINF*RECLAIMBENCH*20251201*0900*1*X*005010X222A1~")
        while written < target:
            for c_head, c_body, r_head, r_body, plb, bpr, paid in parts:
                st += 1
                st02 = f"{st:06d}"
                first = copy
                c_segs, r_claims, hl = [], [], 2
                for n in range(COPIES_PER_ST):
                    body, hl = _renumber_hl(_copy(c_body, copy), hl)
                    c_segs += body
                    r_claims += _copy(r_body, copy)
                    copy += 1
                # BPR02 = sum(CLP04) - PLB (domain-facts 11): the PLB is kept once per transaction
                plb_total = sum(_cents(s.split("*")[4]) for s in plb)
                head = [("*".join(bpr[:2] + [_money(paid * COPIES_PER_ST - plb_total)] + bpr[3:]) if s.startswith("BPR*")
                         else s.replace("EFT", f"EFT{first}X") if s.startswith("TRN*") else s) for s in r_head]
                r_st = [f"ST*835*{st02}"] + head + r_claims + plb
                c_st = [f"ST*837*{st02}*005010X222A1"] + c_head + c_segs
                r_text = "~".join(r_st + [f"SE*{len(r_st) + 1}*{st02}"]) + "~"
                c_text = "~".join(c_st + [f"SE*{len(c_st) + 1}*{st02}"]) + "~"
                rf.write(r_text)
                cf.write(c_text)
                written += len(r_text)
        rf.write(f"GE*{st}*1~IEA*1*000000001~")
        cf.write(f"GE*{st}*1~IEA*1*000000001~")
    return r_path, c_path


# --------------------------------------------------------------------------- part 1: recover from files

_CHILD = r"""
import datetime as dt, json, resource, sys, time
from pathlib import Path
from reclaim.recovery import recover, terms
from reclaim.refdata.store import RefStore
remit, claims, store_path, terms_path, as_of, memory_limit = sys.argv[1:7]
store = RefStore.open(Path(store_path))
t = time.perf_counter()
result = recover([remit], [claims], store=store, terms=terms.load(Path(terms_path)),
                 as_of=dt.date.fromisoformat(as_of), run_edits=False, memory_limit=memory_limit)
items = result.count("items")
elapsed = time.perf_counter() - t
print(json.dumps({"seconds": elapsed, "remit_lines": result.counts["remit_lines"], "claims": result.counts["claims"],
                  "items": items, "read_issues": result.read_issues.num_rows, "timings": result.timings,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def recover_files(mb: float, store_path: Path, memory_limit: str) -> dict:
    remit, claims = generate(mb)
    done = subprocess.run([sys.executable, "-c", _CHILD, str(remit), str(claims), str(store_path), str(TERMS), AS_OF,
                           memory_limit],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"recover failed on {remit}:\n{done.stderr[-3000:]}")
    row = json.loads(done.stdout.strip().splitlines()[-1])
    row.update(mb_835=remit.stat().st_size / 1e6, mb_837=claims.stat().st_size / 1e6)
    return row


# --------------------------------------------------------------------------- part 2: match + classify vs a plain join


def _suffix(table, reps: int, columns: list[str]):
    """``table`` repeated ``reps`` times, each listed string column suffixed with '#<rep>'."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = table.num_rows
    idx = pa.array(np.tile(np.arange(n), reps))
    rep = pa.array(np.repeat(np.arange(reps), n).astype(str))
    out = table.take(idx)
    for col in columns:
        if col not in out.column_names:
            continue
        i = out.schema.get_field_index(col)
        out = out.set_column(i, col, pc.binary_join_element_wise(out[col], rep, "#").cast(pa.string()))
    return out


def synthetic(lines_wanted: int):
    from reclaim.claims.model import ClaimBatch, RemitBatch
    from reclaim.claims.x12 import read_835, read_837

    remits = RemitBatch.concat([read_835(r) for _, r in PAIRS])
    claims = ClaimBatch.concat([read_837(c) for c, _ in PAIRS])
    reps = -(-lines_wanted // remits["remit_lines"].num_rows)
    ids_r = ["remit_claim_id", "patient_control_number", "payer_claim_control_number", "line_control_number",
             "patient_id", "transaction_id"]
    ids_c = ["claim_id", "patient_control_number", "line_control_number", "patient_id", "subscriber_id",
             "original_claim_number", "transaction_id"]
    r = {name: _suffix(remits[name], reps, ids_r) for name in
         ("payments", "remit_claims", "remit_lines", "adjustments", "remarks", "provider_adjustments")}
    c = {name: _suffix(claims[name], reps, ids_c) for name in ("claims", "lines", "diagnoses")}
    return RemitBatch(tables=r), ClaimBatch(tables=c)


def match_ratio(lines_wanted: int, memory_limit: str) -> dict:
    from reclaim.recovery import classify, engine, keys, matching, taxonomy

    remits, claims = synthetic(lines_wanted)
    run = engine._Run(memory_limit)
    con = run.con
    try:
        # the engine's own loading, outside the timings: both sides read the same tables
        engine._load(con, remits, "remits")
        engine._load(con, claims, "claims")
        keys.attach(con)
        con.register("taxonomy", taxonomy.load())
        t = time.perf_counter()
        con.execute("""
            create temp table b as
            select rl.remit_claim_id, rl.line_index, l.claim_id, l.line_number, a.total
            from remit_lines rl
            left join lines l on l.line_control_number = rl.line_control_number
            left join (select remit_claim_id, line_index, sum(amount) as total from adjustments group by all) a
                   on a.remit_claim_id = rl.remit_claim_id and a.line_index = rl.line_index""")
        base = time.perf_counter() - t
        t = time.perf_counter()
        matching.match(con)
        classify.classify(con)
        mc = time.perf_counter() - t
    finally:
        run.close()
    return {"lines": remits["remit_lines"].num_rows, "baseline": base, "match_classify": mc}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, nargs="+", default=[100, 300], help="835 sizes in MB (one run each)")
    ap.add_argument("--lines", type=int, default=1_000_000, help="remit lines for the match + classify ratio")
    ap.add_argument("--memory-limit", default=None, help="DuckDB memory for each run (default: recover's MEMORY_LIMIT)")
    ap.add_argument("--skip-files", action="store_true", help="skip part 1 (recover from X12 files)")
    ap.add_argument("--skip-match", action="store_true", help="skip part 2 (match + classify vs a plain join)")
    args = ap.parse_args(argv)

    from reclaim.recovery.engine import MEMORY_LIMIT

    limit = args.memory_limit or MEMORY_LIMIT
    if not args.skip_files:
        sys.path.insert(0, str(HERE))
        from _store import bench_home

        with bench_home() as home:
            for mb in args.mb:
                row = recover_files(mb, home / "refdata.duckdb", limit)
                print(f"recover from X12 ({row['mb_835']:.0f} MB 835 + {row['mb_837']:.0f} MB 837, "
                      f"{row['remit_lines']:,} remit lines, {row['claims']:,} claims -> {row['items']:,} items): "
                      f"{row['seconds']:.1f}s, {row['remit_lines'] / row['seconds']:,.0f} lines/s, "
                      f"peak RSS {row['peak_mb']:,.0f} MB (DuckDB memory_limit {limit}); loadavg {os.getloadavg()[0]:.2f}")
                print("    steps (s): " + ", ".join(f"{k} {v:.1f}" for k, v in row["timings"].items()))
    if not args.skip_match:
        row = match_ratio(args.lines, limit)
        n = row["lines"]
        print(f"in-memory tables, {n:,} remit lines (DuckDB memory_limit {limit}); loadavg {os.getloadavg()[0]:.2f}")
        print(f"  baseline (plain DuckDB join on REF*6R + CAS group-by): {row['baseline']:.2f}s, "
              f"{n / row['baseline']:,.0f} lines/s")
        print(f"  match + classify:                                     {row['match_classify']:.2f}s, "
              f"{n / row['match_classify']:,.0f} lines/s, {row['match_classify'] / row['baseline']:.1f}x the baseline")


if __name__ == "__main__":
    main()
