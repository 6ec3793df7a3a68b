"""Claim status readers: 277CA claim acknowledgment (005010X214) and 276/277 claim status
request/response (005010X212) -> :class:`AckBatch` (tables ``status_claims``,
``claim_statuses``, ``status_lines``).

Same columnar design as the 837/835 readers. Both transactions are HL trees: 20 information
source (payer, NM1*PR), 21 information receiver (NM1*41), 19 provider (NM1*1P or 85), then the
claims: under HL 22 subscriber / 23 dependent (X212) or HL PT patient (X214). A claim starts at
the TRN of such an HL (2200D/2200E): after it and before the next HL or SVC come its STC, REF,
DTP and (276) AMT; after an SVC come the line's STC, REF and DTP (2220D/E). Forward-filled
segment numbers of the last ST, SE, HL (per level), claim TRN and SVC place every segment.

HL-level names (payer, receiver, provider, subscriber) are kept while a later claim can point
at them; a claim is emitted whole in the batch where the next claim TRN (or the end of its
transaction) is seen. Statuses above the claim level (the 277CA's 2200B/2200C batch STCs) are
not read (docs/x12.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...errors import InputFormatError
from ..model import CLAIM_STATUSES, MONEY, QUANTITY, STATUS_CLAIMS, STATUS_LINES, AckBatch
from ._columns import Typed, ffill, ffill_position, first_per_key, first_with, keep_rows, rank_within
from ._stream import StreamingReader
from .tokenizer import SEGMENT_CODE, components

C = SEGMENT_CODE
#: HL03 level codes, as small integers for forward fill
LEVELS = ["20", "21", "19", "22", "23", "PT"]
_CLAIM_LEVELS = (3, 4, 5)
#: the HL levels whose NM1 a claim takes (payer, receiver, provider, subscriber)
_NAMED = {0: "PR", 1: "41", 2: None, 3: "IL"}


def status_transaction_type(st01: str | None, version: str | None) -> str | None:
    if st01 == "276":
        return "276"
    if st01 == "277":
        return "277CA" if "X214" in (version or "").upper() else "277"
    return None


class _State:
    def __init__(self) -> None:
        self.last = {k: 0 for k in ("ST", "SE", "HL", "CTRN", "SVC")}
        self.level = -1
        self.hl = {k: 0 for k in _NAMED}  # last HL segment number per named level


class Reader277(StreamingReader):
    State = _State

    def __init__(self, source, *, block_size=None, on_issue=None):
        super().__init__(source, block_size=block_size, on_issue=on_issue)
        self.claims_emitted = np.zeros(0, dtype=np.int64)

    def _block(self, b) -> None:
        st, P, T = self.state, self.parts, Typed(b, self.issues)
        sid, idx, n = b.sid, b.index, len(b)
        if n == 0:
            return
        el, els = b.element, b.elements
        last = {}
        for name in ("ST", "SE", "HL", "SVC"):
            last[name], st.last[name] = ffill_position(sid == C[name], idx, st.last[name])
        hl_rows = np.flatnonzero(sid == C["HL"])
        code = np.full(n, -1, dtype=np.int16)
        code[hl_rows] = pc.index_in(el(hl_rows, 3), value_set=pa.array(LEVELS)).fill_null(-1).to_numpy(
            zero_copy_only=False)
        level, st.level = ffill(sid == C["HL"], code, st.level)
        hl_at = {}
        for k in _NAMED:
            hl_at[k], st.hl[k] = ffill_position((sid == C["HL"]) & (code == k), idx, st.hl[k])
        is_claim_trn = (sid == C["TRN"]) & np.isin(level, _CLAIM_LEVELS)
        last["CTRN"], st.last["CTRN"] = ffill_position(is_claim_trn, idx, st.last["CTRN"])
        in_txn = last["ST"] > last["SE"]
        in_claim = in_txn & (last["CTRN"] > last["HL"])
        claim_level = in_claim & (last["SVC"] < last["CTRN"])
        line_level = in_claim & (last["SVC"] > last["CTRN"])

        def rows(seg, mask):
            r = b.rows(seg)
            return r[mask[r]]

        self._segment_problems(b, in_txn)

        # names at the HL levels claims point at
        r = rows("NM1", in_txn & (last["HL"] > last["ST"]) & ~in_claim)
        q1, n3, n8, n9 = els(r, (1, 3, 8, 9))
        lv = level[r]
        for k, qualifier in _NAMED.items():
            mask = lv == k
            if qualifier is not None:
                mask &= pc.fill_null(pc.equal(q1, qualifier), False).to_numpy(zero_copy_only=False)
            else:  # provider: 1P (277) or 85 (277CA), with an NPI
                mask &= pc.fill_null(pc.equal(n8, "XX"), False).to_numpy(zero_copy_only=False)
            rr = np.flatnonzero(mask)
            P.add(f"nm1_{k}", hl_at[k][r[rr]], name=n3.take(pa.array(rr)), id=n9.take(pa.array(rr)))

        r = np.flatnonzero(is_claim_trn & in_txn)
        P.add("trn", idx[r], txn=last["ST"][r], offset=b.offset[r], trace=el(r, 2),
              **{f"hl{k}": hl_at[k][r] for k in _NAMED})
        for where, prefix, key_line in ((claim_level, "c", None), (line_level, "s", last["SVC"])):
            r = rows("STC", where)
            self._stc(b, T, r, last["CTRN"], key_line, prefix)
            r = rows("REF", where)
            line = {} if key_line is None else {"svc": key_line[r]}
            q1, v2 = els(r, (1, 2))
            P.add(f"{prefix}ref", last["CTRN"][r], **line, q=q1, value=v2)
            r = rows("DTP", where)
            line = {} if key_line is None else {"svc": key_line[r]}
            d_from, d_to = T.period_at(r, 2, 3, "DTP03", "2200D" if key_line is None else "2220D")
            P.add(f"{prefix}dtp", last["CTRN"][r], **line, q=el(r, 1), start=d_from, end=d_to)
        r = rows("AMT", claim_level)
        q1, a2 = els(r, (1, 2))
        P.add("camt", last["CTRN"][r], q=q1, amount=T.money(a2, r, "AMT02", "2200D"))
        r = rows("SVC", in_claim)
        s1, s2, s3, s4, s7 = els(r, (1, 2, 3, 4, 7))
        T.composite(s1, r, "SVC01", "2220D")
        qual, code_, m1, m2 = components(s1, b.delimiters.component, range(4))
        P.add("svc", last["CTRN"][r], svc=idx[r], qual=qual, code=code_, m1=m1, m2=m2,
              charge=T.money(s2, r, "SVC02", "2220D"), paid=T.money(s3, r, "SVC03", "2220D"), revenue=s4,
              units=T.quantity(s7, r, "SVC07", "2220D"))
        stray = rows("STC", in_txn & ~in_claim & np.isin(level, _CLAIM_LEVELS))
        if len(stray):
            self.issues.add("X12-SEGMENT-ORDER", "STC at a claim level (HL 22/23/PT) without a TRN before it: "
                            "the status cannot be tied to a claim; ignored", severity="warning",
                            segment_index=idx[stray], byte_offset=b.offset[stray], loop="2200D", segment_id="STC",
                            skipped="segment")

    def _stc(self, b, T, r, claim_key, line_key, prefix) -> None:
        """STC: up to three status composites (STC01, STC10, STC11) -> one row per composite."""
        if len(r) == 0:
            return
        s = b.elements(r, range(1, 12))
        date_ = T.date_at(r, 2, "STC02", "2200D")
        charge = T.money(s[3], r, "STC04", "2200D")
        paid = T.money(s[4], r, "STC05", "2200D")
        for composite, k in ((1, 1), (2, 10), (3, 11)):
            values = s[k - 1]
            has = values.is_valid().to_numpy(zero_copy_only=False)
            if not has.any():
                continue
            rr = r[has]
            if composite == 1:
                T.composite(values, r, "STC01", "2200D")
            category, status, entity = components(keep_rows(values, has), b.delimiters.component, (0, 1, 2))
            cols = dict(seq=b.index[rr], composite=np.full(len(rr), composite, np.int16), category=category,
                        status=status, entity=entity, date=keep_rows(date_, has), action=keep_rows(s[2], has),
                        charge=keep_rows(charge, has), paid=keep_rows(paid, has), check=keep_rows(s[8], has))
            if line_key is not None:
                cols["svc"] = line_key[rr]
            self.parts.add(f"{prefix}stc", claim_key[rr], **cols)

    def _emit(self, final: bool) -> AckBatch:
        file_id = self.identity["file_id"]
        all_txns = self._typed_transactions(status_transaction_type, "a 276 or 277")
        if final and all_txns and all(t["ST01"] not in ("276", "277") for t in all_txns):
            kinds = sorted({str(t["ST01"]) for t in all_txns})
            raise InputFormatError(f"{self._name()}: holds {', '.join(kinds)} transactions, not 276/277 claim "
                                   "status or 277CA acknowledgments")
        grow = len(all_txns) - len(self.claims_emitted)
        self.claims_emitted = np.concatenate([self.claims_emitted, np.zeros(grow, np.int64)])
        n_closed, cut = self._complete(final, self.state.last["CTRN"])
        P = self.parts.split(_CLAIM_PARTS, cut)
        closed = slice(self.txn_done, n_closed)
        self.txn_done = n_closed
        st_all = np.array([t["index"] for t in all_txns], dtype=np.int64)
        ok_all = np.array([t["type"] is not None for t in all_txns], dtype=bool)
        type_all = [t["type"] for t in all_txns]
        tid_all = pa.array(self.tids, pa.string())
        transactions = self._transactions_table(all_txns[closed], tid_all[closed])

        trn = P.get("trn", {"txn": pa.int64(), "offset": pa.int64(), "trace": pa.string(),
                            **{f"hl{k}": pa.int64() for k in _NAMED}})
        ckey = trn["key"].to_numpy()
        tpos = np.searchsorted(st_all, trn["txn"].to_numpy()) if len(ckey) else np.zeros(0, np.int64)
        truncated = np.array([t["truncated"] for t in all_txns], dtype=bool)
        is_last = np.ones(len(ckey), dtype=bool)
        if len(ckey):
            is_last[:-1] = tpos[1:] != tpos[:-1]
        drop = (truncated[tpos] & is_last) if len(ckey) else np.zeros(0, bool)
        for i in np.flatnonzero(drop):
            self.issues.add("X12-CLAIM-INCOMPLETE", "last claim of a transaction that has no SE: it may be cut "
                            "short, so it is not loaded", segment_index=int(ckey[i]),
                            byte_offset=int(trn["offset"][i].as_py()), loop="2200D", segment_id="TRN",
                            skipped="claim")
        keep = (ok_all[tpos] & ~drop) if len(ckey) else np.zeros(0, bool)
        trn, ckey, tpos = keep_rows(trn, keep), ckey[keep], tpos[keep]
        ordinal = rank_within(tpos) + self.claims_emitted[tpos]
        np.add.at(self.claims_emitted, tpos, 1)
        ctid = tid_all.take(pa.array(tpos, pa.int64()))
        claim_ids = pc.binary_join_element_wise(ctid, pa.array(ordinal).cast(pa.string()), ":")
        ctype = pa.array(type_all, pa.string()).take(pa.array(tpos, pa.int64()))

        names = {k: first_per_key(self.parts.lookup(f"nm1_{k}", {"name": pa.string(), "id": pa.string()}),
                                  trn[f"hl{k}"].to_numpy()) for k in _NAMED}
        cref = P.lookup("cref", {"q": pa.string(), "value": pa.string()})
        ref = {q: first_with(cref, "q", q, ckey, take="value") for q in ("1K", "D9", "EJ", "BLT")}
        cdtp = P.lookup("cdtp", {"q": pa.string(), "start": pa.date32(), "end": pa.date32()})
        d472 = first_with(cdtp, "q", "472", ckey)
        stc_schema = {"seq": pa.int64(), "composite": pa.int16(), "category": pa.string(), "status": pa.string(),
                      "entity": pa.string(), "date": pa.date32(), "action": pa.string(), "charge": MONEY,
                      "paid": MONEY, "check": pa.string()}
        cstc = P.lookup("cstc", stc_schema)
        first_stc = first_per_key(cstc, ckey, columns=["charge"])
        camt = P.lookup("camt", {"q": pa.string(), "amount": MONEY})
        t3 = first_with(camt, "q", "T3", ckey, take="amount")
        is_ca = pc.equal(ctype, "277CA")
        status_claims = pa.table({
            "status_claim_id": claim_ids, "transaction_id": ctid,
            "file_id": pa.repeat(pa.scalar(file_id, pa.string()), len(ckey)), "transaction_type": ctype,
            "payer_name": names[0]["name"], "payer_id": names[0]["id"], "receiver_id": names[1]["id"],
            "provider_npi": names[2]["id"], "subscriber_id": names[3]["id"], "trace_number": trn["trace"],
            "patient_control_number": pc.if_else(is_ca, trn["trace"], ref["EJ"]),
            "payer_claim_control_number": ref["1K"], "clearinghouse_trace": ref["D9"], "bill_type": ref["BLT"],
            "total_charge": pc.coalesce(first_stc["charge"], t3),
            "service_from": d472["start"], "service_to": d472["end"],
        }).cast(STATUS_CLAIMS)

        # lines
        svc = P.get("svc", {"svc": pa.int64(), "qual": pa.string(), "code": pa.string(), "m1": pa.string(),
                            "m2": pa.string(), "charge": MONEY, "paid": MONEY, "revenue": pa.string(),
                            "units": QUANTITY}).combine_chunks()
        cpos, svc = self._claim_pos(svc, ckey)
        line_index = rank_within(cpos)
        svc_key = svc["svc"].to_numpy()
        sref = P.lookup("sref", {"svc": pa.int64(), "q": pa.string(), "value": pa.string()})
        sref = sref.set_column(0, "key", sref["svc"])
        sdtp = P.lookup("sdtp", {"svc": pa.int64(), "q": pa.string(), "start": pa.date32(), "end": pa.date32()})
        sdtp = sdtp.set_column(0, "key", sdtp["svc"])
        l472 = first_with(sdtp, "q", "472", svc_key)
        status_lines = pa.table({
            "status_claim_id": claim_ids.take(pa.array(cpos, pa.int64())),
            "line_index": pa.array(line_index, pa.int32()), "procedure_qualifier": svc["qual"],
            "procedure_code": svc["code"], "modifier_1": svc["m1"], "modifier_2": svc["m2"],
            "charge": svc["charge"], "paid": svc["paid"], "revenue_code": svc["revenue"], "units": svc["units"],
            "line_control_number": first_with(sref, "q", "FJ", svc_key, take="value"),
            "service_date": l472["start"], "service_date_to": l472["end"],
        }).cast(STATUS_LINES)

        # statuses: claim level, then line level (line_index from the SVC)
        parts, sort_claim, sort_line = [], [], []
        for prefix in ("c", "s"):
            stc = P.get(f"{prefix}stc", {**stc_schema, **({"svc": pa.int64()} if prefix == "s" else {})})
            stc = stc.combine_chunks()
            pos, stc = self._claim_pos(stc, ckey)
            if prefix == "s" and len(stc):
                lpos = np.minimum(np.searchsorted(svc_key, stc["svc"].to_numpy()), max(len(svc_key) - 1, 0))
                lidx = pa.array(line_index[lpos].astype(np.int32)) if len(svc_key) else pa.nulls(len(stc), pa.int32())
                group = stc["svc"].to_numpy()
            else:
                lidx = pa.nulls(len(stc), pa.int32())
                group = pos
            seq = stc["seq"].to_numpy()
            # status_index: order of the STC segment within its claim (or line)
            new_seg = np.ones(len(seq), dtype=bool)
            if len(seq):
                new_seg[1:] = (seq[1:] != seq[:-1]) | (group[1:] != group[:-1])
            starts = np.flatnonzero(np.ones(len(group), bool) if not len(group) else
                                    np.concatenate(([True], group[1:] != group[:-1])))
            counter = np.cumsum(new_seg)
            base = np.repeat(counter[starts] - 1, np.diff(np.append(starts, len(group)))) if len(group) else counter
            sort_claim.append(pos)
            sort_line.append(np.zeros(len(pos), np.int64) if prefix == "c" else stc["svc"].to_numpy())
            parts.append(pa.table({
                "status_claim_id": claim_ids.take(pa.array(pos, pa.int64())), "line_index": lidx,
                "status_index": pa.array((counter - base).astype(np.int16)), "composite": stc["composite"],
                "category_code": stc["category"], "status_code": stc["status"], "entity_code": stc["entity"],
                "status_date": stc["date"], "action_code": stc["action"], "charge": stc["charge"],
                "paid": stc["paid"], "check_number": stc["check"],
            }).cast(CLAIM_STATUSES))
        # claim by claim (file order), the claim's own statuses before its lines'
        order = np.lexsort((np.concatenate(sort_line), np.concatenate(sort_claim)))
        claim_statuses = pa.concat_tables(parts).take(pa.array(order, pa.int64()))
        # the HL names no later claim can point at: before the current HL of each level, and
        # before the HLs of the claims not emitted yet (a new HL may follow a pending claim)
        pending = self.parts.get("trn", {f"hl{k}": pa.int64() for k in _NAMED})
        for k in _NAMED:
            keep_from = self.state.hl[k]
            if len(pending):
                keep_from = min(keep_from, int(pc.min(pending[f"hl{k}"]).as_py()))
            self.parts.drop_before((f"nm1_{k}",), keep_from)

        files, issues = self._files_and_issues()
        return AckBatch(tables={"files": files, "transactions": transactions, "status_claims": status_claims,
                                "claim_statuses": claim_statuses, "status_lines": status_lines,
                                "read_issues": issues})

    @staticmethod
    def _claim_pos(table: pa.Table, ckey: np.ndarray):
        """Positions in ``ckey`` of each row's claim (rows of dropped claims are dropped), in
        file order."""
        if len(table) == 0 or len(ckey) == 0:
            return np.zeros(0, np.int64), table.slice(0, 0)
        sort = [("key", "ascending")] + [(c, "ascending") for c in ("svc", "seq", "composite")
                                         if c in table.column_names]
        table = table.sort_by(sort)
        k = table["key"].to_numpy()
        pos = np.minimum(np.searchsorted(ckey, k), len(ckey) - 1)
        hit = ckey[pos] == k
        return pos[hit], keep_rows(table, hit)


#: pieces keyed by a claim's TRN (emitted with the claim)
_CLAIM_PARTS = ("trn", "cref", "cdtp", "camt", "cstc", "svc", "sref", "sdtp", "sstc")


def iter_277(path: str | Path | bytes, *, on_issue=None, block_size: int | None = None) -> Iterator[AckBatch]:
    """Stream a 277CA, 277 or 276 as one :class:`AckBatch` per block; a claim is never split."""
    return Reader277(path, block_size=block_size, on_issue=on_issue).batches()


def read_277(path: str | Path | bytes, *, on_issue=None, block_size: int | None = None) -> AckBatch:
    return AckBatch.concat(list(iter_277(path, on_issue=on_issue, block_size=block_size)))
