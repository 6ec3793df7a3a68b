"""999 implementation acknowledgment (005010X231A1) and TA1 interchange acknowledgment reader
-> :class:`AckBatch` (tables ``ack_groups``, ``ack_sets``, ``ack_errors``, ``interchange_acks``).

Same columnar design as the 837/835 readers: forward-filled segment numbers of the last ST, SE,
AK1, AK2 and IK3 give every segment its loop:

* AK1 / AK9 (functional group response header and trailer): after ST, keyed by the ST;
* 2000 AK2 (transaction set response header) with its IK5 (status), keyed by the AK2;
* 2100 IK3 (segment error) with its CTX (segment context, business unit CTX*CLM01:...) and
  2110 IK4 (element error) with its CTX, keyed by the AK2 and the IK3.

A TA1 may stand between ISA and GS (or alone in an interchange without GS): it is read
wherever it is, with the ISA13 of its interchange. An AK2 loop is emitted whole, in the batch
of the block where the next AK2 (or the end of its 999) is seen.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...errors import InputFormatError
from ..model import ACK_ERRORS, ACK_GROUPS, ACK_SETS, INTERCHANGE_ACKS, AckBatch
from ._columns import Typed, ffill_position, first_per_key, join_present, keep_rows, rank_within
from ._stream import StreamingReader
from .tokenizer import SEGMENT_CODE, components

C = SEGMENT_CODE
_TRIGGER = "SITUATIONAL TRIGGER"


class _State:
    def __init__(self) -> None:
        self.last = {k: 0 for k in ("ST", "SE", "AK2", "IK3", "ISA")}


def _yymmdd(text: str | None) -> date | None:
    if not text or len(text) != 6 or not text.isdigit():
        return None
    try:
        return date(2000 + int(text[:2]), int(text[2:4]), int(text[4:]))
    except ValueError:
        return None


class Reader999(StreamingReader):
    State = _State

    def __init__(self, source, *, block_size=None, on_issue=None):
        super().__init__(source, block_size=block_size, on_issue=on_issue)
        self.sets_emitted = np.zeros(0, dtype=np.int64)  # per transaction, for the AK2 ordinal
        self.isa13: dict[int, str | None] = {}  # ISA segment number -> ISA13 (for TA1 rows)
        self.ta1_seen = False  # a TA1 was emitted (a file of TA1s only holds no 999)

    def _block(self, b) -> None:
        st, P, T = self.state, self.parts, Typed(b, self.issues)
        sid, idx, n = b.sid, b.index, len(b)
        if n == 0:
            return
        el, els = b.element, b.elements
        last = {}
        for name in st.last:
            last[name], st.last[name] = ffill_position(sid == C[name], idx, st.last[name])
        in_txn = last["ST"] > last["SE"]
        in_set = in_txn & (last["AK2"] > last["ST"])
        in_ik3 = in_set & (last["IK3"] > last["AK2"])

        def rows(seg, mask):
            r = b.rows(seg)
            return r[mask[r]]

        self._segment_problems(b, in_txn | (sid == C["TA1"]))

        r = b.rows("ISA")
        for i, v in zip(idx[r].tolist(), el(r, 13).to_pylist()):
            self.isa13[i] = v.strip() if v else None
        r = b.rows("TA1")
        t1, t2, t3, t4, t5 = els(r, range(1, 6))
        P.add("ta1", idx[r], isa=last["ISA"][r], control=t1, date=t2, time=t3, status=t4, note=t5)

        r = rows("AK1", in_txn)
        a1, a2, a3 = els(r, (1, 2, 3))
        P.add("ak1", last["ST"][r], functional=a1, control=a2, version=a3)
        r = rows("AK9", in_txn)
        k = els(r, range(1, 10))
        P.add("ak9", last["ST"][r], status=k[0], included=T.integer(k[1], r, "AK902", "AK9"),
              received=T.integer(k[2], r, "AK903", "AK9"), accepted=T.integer(k[3], r, "AK904", "AK9"),
              errors=join_present(k[4:9], " "))
        r = rows("AK2", in_txn)
        s1, s2, s3 = els(r, (1, 2, 3))
        P.add("ak2", idx[r], txn=last["ST"][r], set_id=s1, control=s2, version=s3)
        r = rows("IK5", in_set)
        k = els(r, range(1, 7))
        P.add("ik5", last["AK2"][r], status=k[0], errors=join_present(k[1:6], " "))
        r = rows("IK3", in_set)
        i1, i2, i3, i4 = els(r, (1, 2, 3, 4))
        P.add("ik3", last["AK2"][r], ik3=idx[r], segment=i1, position=T.integer(i2, r, "IK302", "2100"),
              loop=i3, error=i4)
        r = rows("IK4", in_ik3)
        e1, e2, e3, e4 = els(r, (1, 2, 3, 4))
        pos, comp, rep = components(e1, b.delimiters.component, (0, 1, 2))
        P.add("ik4", last["AK2"][r], ik3=last["IK3"][r], position=T.integer(pos, r, "IK401-1", "2110"),
              component=T.integer(comp, r, "IK401-2", "2110"), repetition=T.integer(rep, r, "IK401-3", "2110"),
              reference=e2, error=e3, bad=e4)
        r = rows("CTX", in_ik3)
        c1, c2, c3, c4, c5 = els(r, range(1, 6))
        name, value = components(c1, b.delimiters.component, (0, 1))
        epos, ecomp = components(c5, b.delimiters.component, (0, 1))
        P.add("ctx", last["AK2"][r], ik3=last["IK3"][r], name=name, value=value, segment=c2,
              position=T.integer(c3, r, "CTX03", "2100"), loop=c4,
              element=T.integer(epos, r, "CTX05-1", "2100"), component=T.integer(ecomp, r, "CTX05-2", "2100"))
        stray = rows("IK4", in_set & ~in_ik3)
        if len(stray):
            self.issues.add("X12-SEGMENT-ORDER", "IK4 without an IK3 before it in its AK2 loop: the element error "
                            "cannot be placed; ignored", segment_index=idx[stray], byte_offset=b.offset[stray],
                            loop="2110", segment_id="IK4", skipped="segment")

    def _emit(self, final: bool) -> AckBatch:
        file_id = self.identity["file_id"]
        all_txns = self._typed_transactions(lambda st01, version: "999" if st01 == "999" else None, "a 999")
        if final and all(t["ST01"] != "999" for t in all_txns) and not self.parts.pieces.get("ta1") \
                and not self.ta1_seen:
            kinds = sorted({str(t["ST01"]) for t in all_txns}) or ["no"]
            raise InputFormatError(f"{self._name()}: holds {', '.join(kinds)} transactions, not 999 or TA1 "
                                   "acknowledgments")
        grow = len(all_txns) - len(self.sets_emitted)
        self.sets_emitted = np.concatenate([self.sets_emitted, np.zeros(grow, np.int64)])
        n_closed, cut = self._complete(final, self.state.last["AK2"])
        ak1_all = self.parts.lookup("ak1", {"functional": pa.string(), "control": pa.string(),
                                            "version": pa.string()})
        P = self.parts.split(_SET_PARTS, cut)
        P.pieces.update(self.parts.split(_ST_PARTS, all_txns[n_closed]["index"] if n_closed < len(all_txns)
                                         else self.last_index + 1).pieces)
        P.pieces.update(self.parts.split(("ta1",), self.last_index + 1).pieces)
        closed = slice(self.txn_done, n_closed)
        self.txn_done = n_closed
        st_all = np.array([t["index"] for t in all_txns], dtype=np.int64)
        is999_all = np.array([t["type"] == "999" for t in all_txns], dtype=bool)
        tid_all = pa.array(self.tids, pa.string())
        txns = all_txns[closed]
        st_index, is999, tid_closed = st_all[closed], is999_all[closed], tid_all[closed]
        fid = pa.repeat(pa.scalar(file_id, pa.string()), len(txns))
        transactions = self._transactions_table(txns, tid_closed)

        ak1 = first_per_key(P.get("ak1", {"functional": pa.string(), "control": pa.string(),
                                          "version": pa.string()}), st_index)
        ak9 = first_per_key(P.get("ak9", {"status": pa.string(), "included": pa.int32(), "received": pa.int32(),
                                          "accepted": pa.int32(), "errors": pa.string()}), st_index)
        groups = pa.table({
            "transaction_id": tid_closed, "file_id": fid, "functional_id": ak1["functional"],
            "group_control": ak1["control"], "group_version": ak1["version"], "status": ak9["status"],
            "sets_included": ak9["included"], "sets_received": ak9["received"], "sets_accepted": ak9["accepted"],
            "error_codes": ak9["errors"],
        }).cast(ACK_GROUPS).filter(pa.array(is999 & ak1["control"].is_valid().to_numpy(zero_copy_only=False)))
        for i in np.flatnonzero(is999 & ak1["control"].is_null().to_numpy(zero_copy_only=False)):
            self.issues.add("X12-MISSING-SEGMENT", "999 without an AK1 (functional group response header): the "
                            "acknowledged group is unknown", segment_index=int(st_index[i]),
                            byte_offset=txns[i]["offset"], segment_id="AK1", loop="HEADER")
        for i in np.flatnonzero(is999 & ak9["status"].is_null().to_numpy(zero_copy_only=False)):
            self.issues.add("X12-MISSING-SEGMENT", "999 without an AK9 (functional group response trailer)",
                            severity="warning", segment_index=int(st_index[i]), byte_offset=txns[i]["offset"],
                            segment_id="AK9", loop="HEADER")

        # 2000 AK2 loops
        ak2 = P.get("ak2", {"txn": pa.int64(), "set_id": pa.string(), "control": pa.string(),
                            "version": pa.string()})
        skey = ak2["key"].to_numpy()
        tpos = np.searchsorted(st_all, ak2["txn"].to_numpy()) if len(skey) else np.zeros(0, np.int64)
        keep = is999_all[tpos] if len(skey) else np.zeros(0, bool)
        ak2, skey, tpos = keep_rows(ak2, keep), skey[keep], tpos[keep]
        ordinal = rank_within(tpos) + self.sets_emitted[tpos]
        np.add.at(self.sets_emitted, tpos, 1)
        stid = tid_all.take(pa.array(tpos, pa.int64()))
        set_ids = pc.binary_join_element_wise(stid, pa.array(ordinal).cast(pa.string()), ":")
        group = first_per_key(ak1_all, ak2["txn"].to_numpy(), columns=["control"])["control"]
        ik5 = first_per_key(P.get("ik5", {"status": pa.string(), "errors": pa.string()}), skey)
        sets = pa.table({
            "ack_set_id": set_ids, "transaction_id": stid,
            "file_id": pa.repeat(pa.scalar(file_id, pa.string()), len(skey)), "group_control": group,
            "set_id": ak2["set_id"], "set_control": ak2["control"], "set_version": ak2["version"],
            "status": ik5["status"], "error_codes": ik5["errors"],
        }).cast(ACK_SETS)
        for i in np.flatnonzero(ik5["status"].is_null().to_numpy(zero_copy_only=False)):
            self.issues.add("X12-MISSING-SEGMENT", "AK2 without an IK5: the transaction set's acceptance is unknown",
                            segment_index=int(skey[i]), segment_id="IK5", loop="2000")

        errors = self._errors(P, skey, set_ids)
        ta1 = P.get("ta1", {"isa": pa.int64(), "control": pa.string(), "date": pa.string(), "time": pa.string(),
                            "status": pa.string(), "note": pa.string()})
        if len(ta1):
            self.ta1_seen = True
        interchange_acks = pa.table({
            "file_id": pa.repeat(pa.scalar(file_id, pa.string()), len(ta1)),
            "interchange_control": pa.array([self.isa13.get(i) for i in ta1["isa"].to_pylist()], pa.string()),
            "acknowledged_control": ta1["control"],
            "acknowledged_date": pa.array([_yymmdd(v) for v in ta1["date"].to_pylist()], pa.date32()),
            "acknowledged_time": ta1["time"], "status": ta1["status"], "note_code": ta1["note"],
        }).cast(INTERCHANGE_ACKS)

        files, issues = self._files_and_issues()
        return AckBatch(tables={"files": files, "transactions": transactions, "ack_groups": groups,
                                "ack_sets": sets, "ack_errors": errors, "interchange_acks": interchange_acks,
                                "read_issues": issues})

    def _errors(self, P, skey, set_ids) -> pa.Table:
        """One row per IK4 (or per IK3 without IK4), with the IK3's business-unit and trigger CTX."""
        ik3 = P.get("ik3", {"ik3": pa.int64(), "segment": pa.string(), "position": pa.int32(),
                            "loop": pa.string(), "error": pa.string()}).combine_chunks()
        if len(ik3) == 0 or len(skey) == 0:
            return ACK_ERRORS.empty_table()
        k = ik3["key"].to_numpy()
        spos = np.minimum(np.searchsorted(skey, k), len(skey) - 1)
        hit = skey[spos] == k
        ik3, spos = keep_rows(ik3, hit), spos[hit]
        error_index = rank_within(spos)
        ik3 = ik3.append_column("set_pos", pa.array(spos)).append_column("error_index",
                                                                         pa.array(error_index, pa.int32()))
        ik3_key = ik3["ik3"].to_numpy()
        ctx = P.get("ctx", {"ik3": pa.int64(), "name": pa.string(), "value": pa.string(), "segment": pa.string(),
                            "position": pa.int32(), "loop": pa.string(), "element": pa.int32(),
                            "component": pa.int32()}).combine_chunks()
        ctx = ctx.set_column(0, "key", ctx["ik3"])
        is_trigger = pc.fill_null(pc.equal(ctx["name"], _TRIGGER), False).to_numpy(zero_copy_only=False)
        business = first_per_key(ctx, ik3_key, where=~is_trigger & ctx["value"].is_valid().to_numpy(
            zero_copy_only=False), columns=["name", "value"])
        trigger = first_per_key(ctx, ik3_key, where=is_trigger,
                                columns=["segment", "position", "loop", "element", "component"])
        ik3 = ik3.append_column("ctx_name", business["name"]).append_column("ctx_value", business["value"])
        for name in ("segment", "position", "loop", "element", "component"):
            ik3 = ik3.append_column(f"trigger_{name}", trigger[name])
        ik4 = P.get("ik4", {"ik3": pa.int64(), "position": pa.int32(), "component": pa.int32(),
                            "repetition": pa.int32(), "reference": pa.string(), "error": pa.string(),
                            "bad": pa.string()}).combine_chunks()
        ik4 = ik4.append_column("seq", pa.array(np.arange(len(ik4), dtype=np.int64))).drop_columns(["key"])
        ik4 = ik4.rename_columns([c if c in ("ik3", "seq") else f"e_{c}" for c in ik4.column_names])
        joined = ik3.join(ik4, keys="ik3", join_type="left outer").sort_by([("ik3", "ascending"),
                                                                            ("seq", "ascending")])
        return pa.table({
            "ack_set_id": set_ids.take(joined["set_pos"]), "error_index": joined["error_index"],
            "segment_id": joined["segment"], "segment_position": joined["position"], "loop_id": joined["loop"],
            "segment_error": joined["error"], "element_position": joined["e_position"],
            "component_position": joined["e_component"], "repetition_position": joined["e_repetition"],
            "element_reference": joined["e_reference"], "element_error": joined["e_error"],
            "bad_value": joined["e_bad"], "claim_key": joined["ctx_value"], "context_name": joined["ctx_name"],
            "trigger_segment_id": joined["trigger_segment"], "trigger_segment_position": joined["trigger_position"],
            "trigger_loop_id": joined["trigger_loop"], "trigger_element_position": joined["trigger_element"],
            "trigger_component_position": joined["trigger_component"],
        }).cast(ACK_ERRORS)


#: pieces keyed by an AK2 (emitted with their transaction set response)
_SET_PARTS = ("ak2", "ik5", "ik3", "ik4", "ctx")
#: pieces keyed by the 999's ST (emitted when it closes)
_ST_PARTS = ("ak1", "ak9")


def iter_999(path: str | Path | bytes, *, on_issue=None, block_size: int | None = None) -> Iterator[AckBatch]:
    """Stream a 999 (or TA1) file as one :class:`AckBatch` per block; an AK2 loop is never split."""
    return Reader999(path, block_size=block_size, on_issue=on_issue).batches()


def read_999(path: str | Path | bytes, *, on_issue=None, block_size: int | None = None) -> AckBatch:
    return AckBatch.concat(list(iter_999(path, on_issue=on_issue, block_size=block_size)))
