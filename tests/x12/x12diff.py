"""Segment-level comparison of 837 files for the writer's tests: the transaction sets of a file
(control numbers and creation dates masked), a segment diff naming each changed element, and
pyx12 findings without their line numbers (what pyx12 says, not where)."""

from __future__ import annotations

import difflib
import re
from collections import Counter
from pathlib import Path

from reclaim.claims.x12.tokenizer import X12Tokenizer

#: element positions that are control numbers or creation dates (compared apart)
CONTROL = {"ST": (2,), "SE": (2,), "BHT": (3, 4, 5)}


def segments(data: bytes) -> list[list[str]]:
    """Every segment of the file as its elements (element 0 the id), as the reader sees them."""
    out = []
    for b in X12Tokenizer(data).blocks():
        raw = b.raw.to_pylist()
        for first, count in zip(b.first.tolist(), b.count.tolist()):
            els = [e[:-1] for e in raw[first:first + count]]
            els[0] = els[0].strip(" \t\x00")
            out.append(els)
    return out


def transaction_sets(data: bytes, *, mask_numbering: bool = False) -> list[list[str]]:
    """ST..SE of each transaction, segments joined with '*', control numbers and dates blank;
    with ``mask_numbering`` also HL01/HL02 and SE01 (for sources whose own are wrong)."""
    out, current = [], None
    for els in segments(data):
        sid = els[0]
        if sid == "ST":
            current = []
        if current is None:
            continue
        els = list(els)
        for k in CONTROL.get(sid, ()):
            if k < len(els):
                els[k] = ""
        if mask_numbering and sid in ("HL", "SE"):
            els[1] = ""
            if sid == "HL" and len(els) > 2:
                els[2] = ""
        current.append("*".join(els))
        if sid == "SE":
            out.append(current)
            current = None
    return out


def numbering_is_right(data: bytes) -> bool:
    """HL01 counts from 1 in each transaction, HL02 names an earlier HL, SE01 counts ST..SE."""
    hl: set[str] = set()
    count = 0
    for els in segments(data):
        if els[0] == "ST":
            hl, count = set(), 0
        count += 1
        if els[0] == "HL":
            if els[1] != str(len(hl) + 1) or (len(els) > 2 and els[2] and els[2] not in hl):
                return False
            hl.add(els[1])
        if els[0] == "SE" and els[1] != str(count):
            return False
    return True


def segment_diff(before: bytes, after: bytes) -> list[tuple]:
    """What changed from ``before`` to ``after`` inside the transaction sets: ``("element", seg_id,
    k, old, new)`` for an element of a segment kept in place, ``("insert", segment)`` and
    ``("delete", segment)``. Control numbers, dates and SE01 (a count, checked apart) are masked."""
    def masked(data):
        return [s if not s.startswith("SE*") else "SE" for t in transaction_sets(data) for s in t]

    a, b = masked(before), masked(after)
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        # inside a changed block, segments with the same id in the same order are the same segment
        ida, idb = [s.split("*")[0] for s in a[i1:i2]], [s.split("*")[0] for s in b[j1:j2]]
        for op2, p1, p2, q1, q2 in difflib.SequenceMatcher(a=ida, b=idb, autojunk=False).get_opcodes():
            if op2 != "equal":
                out += [("delete", s) for s in a[i1 + p1:i1 + p2]] + [("insert", s) for s in b[j1 + q1:j1 + q2]]
                continue
            for old, new in zip(a[i1 + p1:i1 + p2], b[j1 + q1:j1 + q2]):
                oe, ne = old.split("*"), new.split("*")
                for k in range(1, max(len(oe), len(ne))):
                    ov, nv = (oe[k] if k < len(oe) else ""), (ne[k] if k < len(ne) else "")
                    if ov != nv:
                        out.append(("element", oe[0], k, ov, nv))
    return out


def pyx12_findings(validate, path: Path, tmp_path: Path) -> Counter:
    """pyx12's findings on ``path`` without line numbers. pyx12 4.0 has maps for X222A1 and
    X223A2 only: later versions (X222A2, X223A3; the same segments and loops) are read as those."""
    data = path.read_bytes().replace(b"005010X222A2", b"005010X222A1").replace(b"005010X223A3", b"005010X223A2")
    copy = tmp_path / f"pyx12-{path.name}"
    copy.write_bytes(data)
    return Counter(re.sub(r"^Line:\d+ ", "", m).replace(str(copy), "<file>") for m in validate(copy))
