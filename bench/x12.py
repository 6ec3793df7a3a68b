"""X12 reading speed and memory: reclaim's 837/835 readers against pyx12, in the same run.

    .venv/bin/python bench/x12.py                # 200 MB files (+ 50 MB for the memory check)
    .venv/bin/python bench/x12.py --mb 400 --pyx12-mb 5

What it does:

1. builds a large 837P and a large 835 in ``bench/.data/`` (gitignored) by replicating the
   claims of the real samples in ``../shared/x12-samples`` (one claim block per CLM/CLP taken
   from the files): every copy gets its own CLM01/CLP01, HL numbers, payer claim number,
   amounts scaled by an integer factor (so 835 balancing still holds), and a drug HCPCS
   rotated through real J-codes; ST/SE per 5,000 claims with correct counts; BPR02 = sum CLP04;
2. reads each file with reclaim in a fresh subprocess (time, claims/s, MB/s, peak RSS), at
   two sizes (``--mb`` and a quarter of it) to show memory does not grow with the file;
3. times oxedi 0.6 (Rust, 835 only, the fastest Python-installable 835 parser) on the same
   835 files;
4. runs pyx12 4.0 (``x12n_document``: parse + validate, the reference Python X12 library) on a
   slice of the same content (the first ``--pyx12-mb`` MB, built by the same generator with the
   same seed), because it is far too slow for the whole file, and prints the ratio of MB/s.

Every number is measured in this run; nothing is remembered from earlier runs.
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
DATA = HERE / ".data"
SHARED = Path(os.environ.get("RECLAIM_SHARED", HERE.parent.parent / "shared"))
SAMPLES = SHARED / "x12-samples"
#: samples without defects (the others carry deliberate errors: copying them would bench error paths)
SAMPLES_837 = ["x12__demo.drug.example10.1.837", "x12__demo.drug.example10.2.837", "x12__demo.drug.example10.3.837",
               "x12__demo.example1.837", "x12__demo.cob.example4.837", "x12__demo.ambulance.example5.837"]
SAMPLES_835 = ["x12__medicare-part-a.835", "edi-835-parser__emedny_sample.txt",
               "edi-835-parser__united_healthcare_legacy_sample.txt", "pyx12__835_mult_loops.txt"]
#: real HCPCS drug codes (CMS HCPCS 2025-10) a J-code line is rotated through
DRUG_CODES = ["J0897", "J1745", "J9035", "J2505", "J0881", "J1550"]
CLAIMS_PER_ST = 5000


# --------------------------------------------------------------------------- generation


def _segments(path: Path) -> tuple[list[list[str]], str, str]:
    """Segments as element lists, with the file's element and component separators."""
    text = path.read_text(encoding="latin-1").replace("\r", "").replace("\n", "")
    element, component, terminator = text[3], text[104], text[105]
    segs = [s.split(element) for s in text.split(terminator) if s.strip()]
    return segs, element, component


def _blocks_837(path: Path) -> list[list[list[str]]]:
    """One block per subscriber HL (2000B) with its claims, re-split per CLM: HL 22 .. before next HL/SE."""
    segs, el, comp = _segments(path)
    blocks, current = [], None
    for s in segs:
        s = [e.replace(comp, ":") for e in s]
        if s[0] == "HL" and len(s) > 3 and s[3] == "22":
            current = [s]
            blocks.append(current)
        elif s[0] == "HL" and len(s) > 3 and s[3] == "20":
            current = None
        elif s[0] in ("SE", "GE", "IEA"):
            current = None
        elif current is not None:
            current.append(s)
    return [b for b in blocks if any(x[0] == "CLM" for x in b)]


def _blocks_835(path: Path) -> list[list[list[str]]]:
    segs, el, comp = _segments(path)
    blocks, current = [], None
    for s in segs:
        s = [e.replace(comp, ":") for e in s]
        if s[0] == "CLP":
            current = [s]
            blocks.append(current)
        elif s[0] in ("LX", "PLB", "SE", "GE", "IEA"):
            current = None
        elif current is not None:
            current.append(s)
    return blocks


def _scale(value: str, k: int) -> str:
    if not re.fullmatch(r"-?\d+(\.\d{1,2})?", value or ""):
        return value
    cents = round(float(value) * 100) * k
    return f"{cents // 100}.{cents % 100:02d}" if cents >= 0 else f"-{(-cents) // 100}.{(-cents) % 100:02d}"


def _code(composite: str, i: int) -> str:
    parts = composite.split(":")
    if len(parts) > 1 and parts[1].startswith("J"):
        parts[1] = DRUG_CODES[i % len(DRUG_CODES)]
    return ":".join(parts)


def _copy_837(block, i: int, hl_start: int) -> tuple[list[str], int]:
    """A claim block with new HL numbers, CLM01, amounts x k, rotated drug code."""
    k = 1 + i % 3
    out, hl_map, hl, nth = [], {}, hl_start, 0
    for s in block:
        s = list(s)
        if s[0] == "HL":
            hl_map[s[1]] = str(hl)
            s[1] = str(hl)
            s[2] = hl_map.get(s[2], "1") if s[3] == "23" else "1"
            hl += 1
        elif s[0] == "CLM":  # a block may hold several claims: each gets its own CLM01
            nth += 1
            s[1] = f"C{i:09d}" if nth == 1 else f"C{i:09d}-{nth}"
            s[2] = _scale(s[2], k)
        elif s[0] == "SV1":
            s[1], s[2] = _code(s[1], i), _scale(s[2], k)
        elif s[0] == "CAS":  # COB adjustments (2320/2430): amounts are CAS03, 06, ...
            s = [s[0], s[1]] + [(_scale(e, k) if (j - 2) % 3 == 1 else e) for j, e in enumerate(s[2:], 2)]
        elif s[0] == "AMT" and len(s) > 2:
            s[2] = _scale(s[2], k)
        out.append("*".join(s))
    return out, hl


def _copy_835(block, i: int) -> tuple[list[str], int]:
    """A CLP block with CLP01/CLP07 unique, amounts x k; returns the paid amount in cents."""
    k = 1 + i % 3
    out, paid = [], 0
    for s in block:
        s = list(s)
        if s[0] == "CLP":
            s[1] = f"C{i:09d}"
            for j in (3, 4, 5):
                if len(s) > j:
                    s[j] = _scale(s[j], k)
            if len(s) > 7:
                s[7] = f"ICN{i:011d}"
            paid = round(float(s[4] or 0) * 100)
        elif s[0] == "SVC":
            s[1] = _code(s[1], i)
            for j in (2, 3):
                if len(s) > j:
                    s[j] = _scale(s[j], k)
        elif s[0] == "CAS":
            s = [s[0], s[1]] + [(_scale(e, k) if (j - 2) % 3 == 1 else e) for j, e in enumerate(s[2:], 2)]
        elif s[0] == "AMT" and len(s) > 2:
            s[2] = _scale(s[2], k)
        out.append("*".join(s))
    return out, paid


def _envelope(kind: str, st: str) -> tuple[str, str]:
    isa = ("ISA*00*          *00*          *ZZ*RECLAIMBENCH   *ZZ*RECEIVER       *251103*0930*^*00501*000000001*0*T*:~")
    version = "005010X222A1" if kind == "837" else "005010X221A1"
    gs = f"GS*{'HC' if kind == '837' else 'HP'}*RECLAIMBENCH*RECEIVER*20251103*0930*1*X*{version}~"
    return isa + gs, version


def generate(kind: str, path: Path, target_mb: float, seed: int = 0) -> dict:
    """Write a file of about ``target_mb`` MB; the same seed gives the same prefix."""
    files = SAMPLES_837 if kind == "837" else SAMPLES_835
    blocks = [b for name in files for b in (_blocks_837 if kind == "837" else _blocks_835)(SAMPLES / name)]
    if not blocks:
        raise SystemExit(f"no claim blocks found in {SAMPLES}")
    target = int(target_mb * 1_000_000)
    header, version = _envelope(kind, "")
    written = len(header)
    claims = st_count = 0  # claim blocks (copies): an 837 block may hold several CLMs
    clm_count = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="latin-1") as fh:
        fh.write(header)
        while written < target:
            st_count += 1
            st02 = f"{st_count:04d}"
            if kind == "837":
                segs = [f"ST*837*{st02}*{version}", f"BHT*0019*00*{st02}*20251103*0930*CH",
                        "NM1*41*2*RECLAIM BENCH*****46*RECLAIMBENCH", "PER*IC*DESK*TE*8005551212",
                        "NM1*40*2*RECEIVER*****46*RECEIVER", "HL*1**20*1",
                        "NM1*85*2*EXAMPLE ONCOLOGY CLINIC*****XX*1234567893", "N3*1 MAIN ST",
                        "N4*CHICAGO*IL*60601", "REF*EI*123456789"]
                hl = 2
                size = sum(len(x) + 1 for x in segs)
                for n in range(CLAIMS_PER_ST):
                    body, hl = _copy_837(blocks[(seed + claims) % len(blocks)], claims, hl)
                    segs.extend(body)
                    claims += 1
                    clm_count += sum(1 for x in body if x.startswith("CLM*"))
                    size += sum(len(x) + 1 for x in body)
                    if written + size >= target:
                        break
            else:
                body_segs, total, size = [], 0, 400
                for n in range(CLAIMS_PER_ST):
                    body, paid = _copy_835(blocks[(seed + claims) % len(blocks)], claims)
                    body_segs.extend(body)
                    total += paid
                    claims += 1
                    clm_count += 1
                    size += sum(len(x) + 1 for x in body)
                    if written + size >= target:
                        break
                amount = f"{total // 100}.{total % 100:02d}" if total >= 0 else f"-{(-total) // 100}.{(-total) % 100:02d}"
                segs = [f"ST*835*{st02}*{version}", f"BPR*I*{amount}*C*ACH*CCP*01*999999999*DA*123456*1512345678**01*"
                        f"999988880*DA*98765*20251103", f"TRN*1*EFT{st_count:08d}*1512345678", "DTM*405*20251103",
                        "N1*PR*EXAMPLE PAYER", "N3*1 PAYER WAY", "N4*CHICAGO*IL*60601", "REF*2U*00882",
                        "N1*PE*EXAMPLE ONCOLOGY CLINIC*XX*1234567893", "LX*1"] + body_segs
            segs.append(f"SE*{len(segs) + 1}*{st02}")
            chunk = "~".join(segs) + "~"
            fh.write(chunk)
            written += len(chunk)
            if claims and written >= target:
                break
        tail = f"GE*{st_count}*1~IEA*1*000000001~"
        fh.write(tail)
    return {"path": str(path), "bytes": path.stat().st_size, "claims": clm_count, "transactions": st_count}


# --------------------------------------------------------------------------- measuring

_CHILD = r"""
import json, resource, sys, time
kind, path = sys.argv[1], sys.argv[2]
if kind == "pyx12":
    import io, logging
    import pyx12.params, pyx12.x12n_document
    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    logging.getLogger("pyx12").propagate = False
    t = time.perf_counter()
    pyx12.x12n_document.x12n_document(pyx12.params.params(), path, io.StringIO(), None, None, None)
    elapsed, n, issues = time.perf_counter() - t, None, None
elif kind == "oxedi":
    import oxedi
    t = time.perf_counter()
    result = oxedi.parse_file(path)
    n = result.count_claims()
    elapsed, issues = time.perf_counter() - t, len(result.diagnostics)
elif kind.startswith("convert"):
    import tempfile
    from reclaim.claims.io import convert
    t = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        summary, _ = convert([path], out, "parquet")
    elapsed = time.perf_counter() - t
    n = summary["claims"] + summary["remit_claims"]
    issues = summary["errors"] + summary["warnings"]
else:
    from reclaim.claims.x12 import read_835, read_837
    reader = read_837 if kind == "837" else read_835
    t = time.perf_counter()
    batch = reader(path)
    elapsed = time.perf_counter() - t
    n = batch["claims" if kind == "837" else "remit_claims"].num_rows
    issues = batch["read_issues"].num_rows
print(json.dumps({"seconds": elapsed, "claims": n, "issues": issues,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(kind: str, path: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", _CHILD, kind, str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{kind} reader failed on {path}:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=200, help="size of the large files (MB)")
    ap.add_argument("--pyx12-mb", type=float, default=5, help="size of the slice pyx12 reads (MB)")
    ap.add_argument("--keep", action="store_true", help="reuse generated files of the same size")
    ap.add_argument("--convert-mb", default="100,300",
                    help="sizes (MB) at which the streaming `reclaim convert` to Parquet is measured")
    ap.add_argument("--convert-only", action="store_true", help="measure only the streaming convert")
    args = ap.parse_args(argv)
    if not SAMPLES.is_dir():
        raise SystemExit(f"the X12 samples are missing: {SAMPLES}")
    rows = _convert_rows(args)
    if args.convert_only:
        _print_convert(rows)
        return
    for kind in ("837", "835"):
        sizes = {"large": args.mb, "quarter": args.mb / 4, "slice": args.pyx12_mb}
        files = {}
        for label, mb in sizes.items():
            path = DATA / f"bench-{kind}-{mb:g}MB.x12"
            if not (args.keep and path.exists()):
                t = time.perf_counter()
                info = generate(kind, path, mb)
                print(f"generated {path.name}: {info['bytes'] / 1e6:.1f} MB, {info['claims']:,} claims, "
                      f"{info['transactions']} ST/SE in {time.perf_counter() - t:.1f} s", file=sys.stderr)
            files[label] = path
        for label in ("large", "quarter", "slice"):
            path = files[label]
            m = measure(kind, path)
            rows.append({"reader": f"reclaim read_{kind}", "file": label, "mb": path.stat().st_size / 1e6, **m})
        m = measure("pyx12", files["slice"])
        rows.append({"reader": "pyx12 4.0 x12n_document", "file": "slice", "mb": files["slice"].stat().st_size / 1e6,
                     **m, "claims": rows[-1]["claims"], "kind": kind})
        if kind == "835":  # oxedi (Rust, 835 only): the fastest Python-installable 835 parser
            for label in ("large", "quarter"):
                m = measure("oxedi", files[label])
                rows.append({"reader": "oxedi 0.6 parse_file", "file": label, "mb": files[label].stat().st_size / 1e6,
                             **m, "kind": kind})
    _print([r for r in rows if not r["reader"].startswith("reclaim convert")])
    _print_convert([r for r in rows if r["reader"].startswith("reclaim convert")])


def _convert_rows(args) -> list[dict]:
    """Streaming ``reclaim convert`` (claims.io.convert, Parquet) at each --convert-mb size, each
    in a fresh subprocess: peak RSS should not grow with the file."""
    rows = []
    for kind in ("837", "835"):
        for mb in (float(x) for x in args.convert_mb.split(",") if x.strip()):
            path = DATA / f"bench-{kind}-{mb:g}MB.x12"
            if not (args.keep and path.exists()):
                generate(kind, path, mb)
            m = measure(f"convert{kind}", path)
            rows.append({"reader": f"reclaim convert {kind}", "file": f"{mb:g}MB", "mb": path.stat().st_size / 1e6, **m})
    return rows


def _print_convert(rows: list[dict]) -> None:
    print()
    print("streaming convert to Parquet (one subprocess each; memory should stay flat as the file grows):")
    print(f"{'reader':<26} {'MB':>8} {'claims':>10} {'seconds':>9} {'MB/s':>8} {'peak RSS MB':>12}")
    for r in rows:
        print(f"{r['reader']:<26} {r['mb']:>8.1f} {r['claims'] or 0:>10,} {r['seconds']:>9.2f} "
              f"{r['mb'] / r['seconds']:>8.2f} {r['peak_mb']:>12.0f}")


def _print(rows: list[dict]) -> None:
    print()
    print("(load average at the end: %.1f on %d cores: other work on the machine slows every reader alike)"
          % (os.getloadavg()[0], os.cpu_count() or 1))
    print(f"{'reader':<26} {'file':<8} {'MB':>8} {'claims':>10} {'seconds':>9} {'MB/s':>8} {'claims/s':>10} "
          f"{'peak RSS MB':>12} {'issues':>7}")
    for r in rows:
        mbps = r["mb"] / r["seconds"]
        cps = (r["claims"] or 0) / r["seconds"]
        print(f"{r['reader']:<26} {r['file']:<8} {r['mb']:>8.1f} {r['claims'] or 0:>10,} {r['seconds']:>9.2f} "
              f"{mbps:>8.2f} {cps:>10,.0f} {r['peak_mb']:>12.0f} {'' if r.get('issues') is None else r['issues']:>7}")
    print()
    for kind in ("837", "835"):
        ours = next(r for r in rows if r["reader"] == f"reclaim read_{kind}" and r["file"] == "slice")
        large = next(r for r in rows if r["reader"] == f"reclaim read_{kind}" and r["file"] == "large")
        quarter = next(r for r in rows if r["reader"] == f"reclaim read_{kind}" and r["file"] == "quarter")
        base = next(r for r in rows if r["reader"].startswith("pyx12") and r.get("kind") == kind)
        ratio = (ours["mb"] / ours["seconds"]) / (base["mb"] / base["seconds"])
        ox = next((r for r in rows if r["reader"].startswith("oxedi") and r["file"] == "large" and r.get("kind") == kind), None)
        if ox:
            print(f"{kind}: reclaim reads {large['mb'] / large['seconds']:.1f} MB/s, oxedi {ox['mb'] / ox['seconds']:.1f} MB/s "
                  f"on the same {large['mb']:.0f} MB file (ratio {(large['mb'] / large['seconds']) / (ox['mb'] / ox['seconds']):.2f}; "
                  "oxedi builds typed tables but not the reclaim model)")
        print(f"{kind}: reclaim is {ratio:,.0f}x pyx12 on the same {base['mb']:.1f} MB slice "
              f"(pyx12 parses and validates; it is too slow for the {large['mb']:.0f} MB file, so it reads only the slice); "
              f"peak memory {quarter['peak_mb']:.0f} MB at {quarter['mb']:.0f} MB vs {large['peak_mb']:.0f} MB at "
              f"{large['mb']:.0f} MB")


if __name__ == "__main__":
    main()
