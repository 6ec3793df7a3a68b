"""Envelope checks (ISA/GS/ST/SE/GE/IEA) and the transactions table.

Envelope segments are a handful per transaction, so this walks them in Python, carrying its
state across blocks. It records each transaction (keyed by the segment number of its ST),
checks ST/SE counts and control numbers, GE/IEA counts, and flags transactions cut short
(no SE before the next ST or the end of the file): readers drop the last, possibly
incomplete, claim of such a transaction and say so.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from .tokenizer import SEGMENT_CODE, SegmentBlock

ENVELOPE = ("ISA", "GS", "ST", "SE", "GE", "IEA")
ENVELOPE_CODES = np.array([SEGMENT_CODE[s] for s in ENVELOPE], dtype=np.int16)


def _d8(text: str | None) -> date | None:
    if not text or len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def envelope_columns(txns: list[dict]) -> dict[str, pa.Array]:
    """The ``transactions`` columns the envelope gives, one row per transaction dict."""
    def col(key, type_=pa.string()):
        return pa.array([t[key] for t in txns], type_)

    return {"transaction_type": col("type"), "implementation": col("version"), "sender_id": col("ISA06"),
            "receiver_id": col("ISA08"), "interchange_control": col("ISA13"), "group_control": col("GS06"),
            "transaction_control": col("ST02"), "segment_count": col("segment_count", pa.int32()),
            "x12_isa_offset": pa.array([t.get("isa_offset") for t in txns], pa.int64()),
            "x12_gs_offset": pa.array([t.get("gs_offset") for t in txns], pa.int64()),
            "x12_st_offset": col("offset", pa.int64())}


def transaction_type(st01: str | None, version: str | None, has_sv2: bool | None = None) -> str | None:
    if st01 == "835":
        return "835"
    if st01 == "837":
        v = (version or "").upper()
        if "X222" in v or "X098" in v:
            return "837P"
        if "X223" in v or "X096" in v:
            return "837I"
        if has_sv2 is not None:
            return "837I" if has_sv2 else "837P"
        return "837P"
    return None


class EnvelopeWalker:
    def __init__(self, issues, bare: bool = False):
        self.issues = issues
        self.isa: dict | None = {"ISA06": None, "ISA08": None, "ISA13": None, "index": 0} if bare else None
        self.gs: dict | None = {"GS06": None, "GS08": None, "GS04": None, "index": 0, "st_count": 0} if bare else None
        self.gs_count = 0
        self.st: dict | None = None
        self.transactions: list[dict] = []

    def _add(self, code, message, *, severity="error", block=None, r=None, index=None, offset=None,
             segment_id=None, skipped="nothing", column=None, loop=None):
        if block is not None:
            index, offset = int(block.index[r]), int(block.offset[r])
        self.issues.add(code, message, severity=severity, segment_index=index, byte_offset=offset,
                        segment_id=segment_id, skipped=skipped, column=column, loop=loop)

    def _close_st(self, reason: str, index: int, offset: int) -> None:
        st = self.st
        st["truncated"] = True
        st["segment_count"] = index - st["index"]
        self._add("X12-SE-MISSING", f"transaction ST02={st['ST02']} has no SE before {reason}: the file "
                  "is cut short or damaged; its last claim is not loaded", index=st["index"],
                  offset=st["offset"], segment_id="ST", loop="ST", skipped="claim")
        self.st = None

    def walk(self, block: SegmentBlock) -> None:
        rows = np.flatnonzero(np.isin(block.sid, ENVELOPE_CODES))
        if len(rows) == 0:
            return
        # the elements we use, as Python lists, in one vectorized take per element number
        cols = [block.element(rows, k).to_pylist() for k in range(14)]
        indexes, offsets = block.index[rows].tolist(), block.offset[rows].tolist()
        for j, r in enumerate(rows):
            sid = cols[0][j].strip()
            idx, off = indexes[j], offsets[j]

            def get(k, j=j):
                v = cols[k][j]
                return v.strip() or None if v is not None else None
            if sid == "ISA":
                if self.st is not None:
                    self._close_st("the next ISA", idx, off)
                if self.isa is not None and self.isa.get("index"):
                    self._add("X12-IEA-MISSING", "interchange has no IEA before the next ISA", severity="warning",
                              block=block, r=r, segment_id="ISA")
                self.isa = {"ISA06": get(6), "ISA08": get(8), "ISA13": get(13), "index": idx, "gs_count": 0,
                            "offset": off}
                self.gs = None
            elif sid == "GS":
                if self.st is not None:
                    self._close_st("the next GS", idx, off)
                if self.isa is None:
                    self._add("X12-NO-ISA", "GS outside an interchange (no ISA before it)", severity="warning",
                              block=block, r=r, segment_id="GS")
                    self.isa = {"ISA06": None, "ISA08": None, "ISA13": None, "index": 0, "gs_count": 0}
                self.isa["gs_count"] = self.isa.get("gs_count", 0) + 1
                self.gs = {"GS06": get(6), "GS08": get(8), "GS04": _d8(get(4)), "index": idx, "st_count": 0,
                           "offset": off}
            elif sid == "ST":
                if self.st is not None:
                    self._close_st("the next ST", idx, off)
                if self.gs is None:
                    self._add("X12-NO-GS", "ST outside a functional group (no GS before it)", severity="warning",
                              block=block, r=r, segment_id="ST")
                    self.gs = {"GS06": None, "GS08": None, "GS04": None, "index": 0, "st_count": 0}
                    if self.isa is None:
                        self.isa = {"ISA06": None, "ISA08": None, "ISA13": None, "index": 0, "gs_count": 0}
                self.gs["st_count"] += 1
                version = get(3) or self.gs.get("GS08")
                self.st = {"index": idx, "offset": off, "ST01": get(1), "ST02": get(2), "version": version,
                           "ISA06": self.isa.get("ISA06"), "ISA08": self.isa.get("ISA08"),
                           "ISA13": self.isa.get("ISA13"), "GS06": self.gs.get("GS06"), "GS04": self.gs.get("GS04"),
                           "truncated": False, "segment_count": None,
                           "isa_offset": self.isa.get("offset"), "gs_offset": self.gs.get("offset")}
                self.transactions.append(self.st)
            elif sid == "SE":
                if self.st is None:
                    self._add("X12-SE-STRAY", "SE without a matching ST", severity="warning", block=block, r=r,
                              segment_id="SE")
                    continue
                counted = idx - self.st["index"] + 1
                self.st["segment_count"] = counted
                declared = get(1)
                if declared != str(counted):
                    self._add("X12-SE-COUNT", f"SE01 says {declared} segments, the transaction has {counted} "
                              "(ST through SE)", severity="warning", block=block, r=r, segment_id="SE",
                              column="SE01", loop="SE")
                if get(2) != self.st["ST02"]:
                    self._add("X12-SE-CONTROL", f"SE02 {get(2)} does not match ST02 {self.st['ST02']}",
                              severity="warning", block=block, r=r, segment_id="SE", column="SE02", loop="SE")
                self.st = None
            elif sid == "GE":
                if self.st is not None:
                    self._close_st("GE", idx, off)
                if self.gs is not None:
                    if get(1) != str(self.gs["st_count"]):
                        self._add("X12-GE-COUNT", f"GE01 says {get(1)} transactions, the group has "
                                  f"{self.gs['st_count']}", severity="warning", block=block, r=r,
                                  segment_id="GE", column="GE01")
                    if get(2) != self.gs["GS06"]:
                        self._add("X12-GE-CONTROL", f"GE02 {get(2)} does not match GS06 {self.gs['GS06']}",
                                  severity="warning", block=block, r=r, segment_id="GE", column="GE02")
                self.gs = None
            elif sid == "IEA":
                if self.st is not None:
                    self._close_st("IEA", idx, off)
                if self.isa is not None:
                    if get(1) != str(self.isa.get("gs_count", 0)):
                        self._add("X12-IEA-COUNT", f"IEA01 says {get(1)} groups, the interchange has "
                                  f"{self.isa.get('gs_count', 0)}", severity="warning", block=block, r=r,
                                  segment_id="IEA", column="IEA01")
                    if get(2) != self.isa.get("ISA13"):
                        self._add("X12-IEA-CONTROL", f"IEA02 {get(2)} does not match ISA13 {self.isa.get('ISA13')}",
                                  severity="warning", block=block, r=r, segment_id="IEA", column="IEA02")
                self.isa = None

    def finish(self, last_index: int, end_offset: int, bare: bool) -> None:
        if self.st is not None:
            self._close_st("the end of the file", last_index + 1, end_offset)
        if not bare:
            if self.gs is not None and self.gs.get("index"):
                self._add("X12-GE-MISSING", "functional group has no GE: the file ends early", severity="warning",
                          index=self.gs["index"], segment_id="GS")
            if self.isa is not None and self.isa.get("index"):
                self._add("X12-IEA-MISSING", "interchange has no IEA: the file ends early", severity="warning",
                          index=self.isa["index"], segment_id="ISA")
