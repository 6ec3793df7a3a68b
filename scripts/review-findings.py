"""The reviewed-findings snapshot: the whole edit catalog over every real 837 in
../shared/x12-samples/ (those LIST.csv types as 837) and every claim file in examples/claims/,
kept in tests/edits/reviewed_findings.csv with a one-line justification per finding citing the
rule (see docs/check.md, "How we keep findings right").

    .venv/bin/python scripts/review-findings.py            # rewrite the snapshot from today's code
    .venv/bin/python scripts/review-findings.py --check    # only say what changed (exit 1 if anything)

Rewriting keeps each finding's justification by its key (file, code, claim, claim_ref, line, message); a
new finding gets ``UNREVIEWED``, which tests/edits/test_reviewed_findings.py refuses for errors:
read it as a billing expert would, and either justify it (the rule it follows) or, when it is
false, fix the edit (a false positive is fixed, not recorded). Needs ../shared (or
RECLAIM_SHARED) and builds its own reference store from ../shared/refdata under RECLAIM_HOME
(default: a temporary folder)."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SNAPSHOT = REPO / "tests" / "edits" / "reviewed_findings.csv"
#: false positives of edits another change is fixing (code, message pattern, owner, why): not
#: recorded as reviewed, only tolerated until the fix lands; then delete the row
PENDING = REPO / "tests" / "edits" / "pending_false_positives.csv"
#: the check runs as of this date (timely filing) so the snapshot does not move with the calendar
DATE_OF_CHECK = dt.date(2025, 12, 15)
#: claim: CLM01 (patient control number); claim_ref: where the claim sits in its file (the
#: interchange, group, transaction control numbers and its ordinal: CLM01 may repeat in a file)
COLUMNS = ("file", "code", "severity", "claim", "claim_ref", "line", "procedure_code", "message", "justification")
KEY = ("file", "code", "claim", "claim_ref", "line", "message")
UNREVIEWED = "UNREVIEWED"


def shared() -> Path:
    return Path(os.environ.get("RECLAIM_SHARED", REPO.parent / "shared"))


def input_files(shared_dir: Path) -> list[tuple[str, Path]]:
    """(name in the snapshot, path) of every 837 sample and example claim file."""
    samples = shared_dir / "x12-samples"
    with open(samples / "LIST.csv", newline="", encoding="utf-8") as f:
        names = sorted(r["file"] for r in csv.DictReader(f) if r["type"].startswith("837"))
    out = [(f"x12-samples/{n}", samples / n) for n in names]
    out += [(f"examples/claims/{p.name}", p) for p in sorted((REPO / "examples" / "claims").iterdir()) if p.is_file()]
    return out


def current_findings(store, shared_dir: Path | None = None) -> list[dict]:
    """Today's findings on every input file, each file checked on its own (default policies)."""
    from reclaim.edits import check_files

    rows = []
    for name, path in input_files(shared_dir or shared()):
        found = check_files([path], store=store, date_of_check=DATE_OF_CHECK)
        for r in found.table.to_pylist():
            rows.append({"file": name, "code": r["code"], "severity": r["severity"],
                         "claim": r["patient_control_number"] or "", "claim_ref": r["claim_id"].split(":", 1)[-1],
                         "line": "" if r["line_number"] is None else str(r["line_number"]),
                         "procedure_code": r["procedure_code"] or "", "message": r["message"]})
    return sorted(rows, key=lambda r: tuple(r[k] for k in ("file", "claim", "line", "code", "message")))


def pending_rules(path: Path = PENDING) -> list[dict]:
    import re

    with open(path, newline="", encoding="utf-8") as f:
        return [{**r, "pattern": re.compile(r["message_pattern"])} for r in csv.DictReader(f)]


def pending(row: dict, rules: list[dict]) -> dict | None:
    """The pending false-positive rule ``row`` falls under, if any."""
    return next((p for p in rules if p["code"] == row["code"] and p["pattern"].search(row["message"])), None)


def key(row: dict) -> tuple:
    return tuple(row[k] for k in KEY)


def read_snapshot(path: Path = SNAPSHOT) -> list[dict]:
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def merge(current: list[dict], reviewed: list[dict]) -> list[dict]:
    """Today's findings with the justifications of the reviewed ones (by key)."""
    why = {key(r): r["justification"] for r in reviewed}
    return [{**r, "justification": why.get(key(r), UNREVIEWED)} for r in current]


def write_snapshot(rows: list[dict], path: Path = SNAPSHOT) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows({k: r[k] for k in COLUMNS} for r in rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def open_store():
    from reclaim.config import Settings
    from reclaim.refdata.store import RefStore, import_dir

    home = Path(os.environ.get("RECLAIM_HOME") or tempfile.mkdtemp(prefix="reclaim-review-"))
    settings = Settings(home=str(home))
    if not Path(settings.store_path).is_file():
        import_dir(shared() / "refdata", settings.store_path)
    return RefStore.open(settings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="report the differences, write nothing")
    args = parser.parse_args(argv)
    with open_store() as store:
        found = current_findings(store)
    rules = pending_rules()
    current = [r for r in found if not pending(r, rules)]
    for rule in rules:
        hits = sum(1 for r in found if pending(r, rules) is rule)
        print(f"pending false positives ({rule['owner']}): {rule['code']} {rule['message_pattern']!r}: {hits}")
    reviewed = read_snapshot()
    merged = merge(current, reviewed)
    old, new = {key(r) for r in reviewed}, {key(r) for r in current}
    for r in reviewed:
        if key(r) not in new:
            print(f"gone:  {r['file']} {r['code']} claim {r['claim']} line {r['line']}: {r['message']}")
    for r in merged:
        if key(r) not in old:
            print(f"new:   {r['file']} {r['code']} {r['severity']} claim {r['claim']} line {r['line']}: {r['message']}")
    counts: dict[tuple, int] = {}
    for r in merged:
        counts[(r["code"], r["severity"])] = counts.get((r["code"], r["severity"]), 0) + 1
    print(f"{len(merged)} findings on {len(input_files(shared()))} files; "
          + ", ".join(f"{c} {s} {n}" for (c, s), n in sorted(counts.items())))
    if args.check:
        return 1 if old != new else 0
    write_snapshot(merged)
    print(f"wrote {SNAPSHOT.relative_to(REPO)} ({sum(r['justification'] == UNREVIEWED for r in merged)} unreviewed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
