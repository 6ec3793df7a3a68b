"""837P / 837I reader (005010X222A1/A2, 005010X223A2/A3) -> :class:`ClaimBatch`.

Loop position is derived per segment, by columns: for each block we forward-fill the segment
number of the last ST, SE, HL (and HL per level 20/22/23), CLM, SBR, line anchor (LX, or an
SV1/SV2 not preceded by LX), NM1 (with its NM101), LIN, SVD and LQ. A segment's loop follows:

* ``in_claim``  = the last CLM comes after the last HL (2300 and below);
* ``in_line``   = a line anchor after that CLM (2400 and below);
* ``in_cob``    = an SBR after the CLM and before any line (2320/2330: other payers, never
  read as the claim's own fields): 2320 = no NM1 since that SBR, 2330x = an NM1 since (NM101
  says which: IL 2330A subscriber, PR 2330B payer; 2330C-G provider loops are not kept);
* 2300 = in the claim, no NM1 since the CLM; 2310x = an NM1 since the CLM (NM101 says which);
* 2400 = in a line, no LIN/NM1/SVD/LQ since the anchor; 2410 = a LIN since; 2420x = an NM1;
  2430 = an SVD since the anchor and no LQ since that SVD (line adjudication by another payer).

Coordination of benefits (2320/2330/2430) goes to the ``other_payers``, ``line_adjudications``
and ``other_payer_adjustments`` tables, keyed by the segment number of the SBR / SVD that opens
the loop; a block without COB segments does no COB work.

Every attribute is then a filter on (segment id, loop, qualifier) and a take of element
columns, keyed by the segment number of its loop's first segment (CLM, line anchor, HL),
and joined at the end. Keys are global, so loops may straddle blocks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...errors import InputFormatError
from ..model import (CLAIMS, DIAGNOSES, LINE_ADJUDICATIONS, LINES, MONEY, OTHER_PAYER_ADJUSTMENTS,
                     OTHER_PAYERS, QUANTITY, TRANSACTIONS, ClaimBatch)
from ._columns import Typed, ffill, ffill_position, first_per_key, first_with, join_present, keep_rows, rank_within
from .envelope import envelope_columns, transaction_type
from .ids import transaction_ids
from ._stream import StreamingReader
from .tokenizer import SEGMENT_CODE, components

C = SEGMENT_CODE
NM1_QUALIFIERS = ["85", "87", "PE", "IL", "PR", "QC", "82", "77", "DN", "DQ", "71", "72", "ZZ", "DK",
                  "41", "40", "FA", "PW", "45", "P3"]
Q = {q: i for i, q in enumerate(NM1_QUALIFIERS)}
HL_LEVELS = ["20", "22", "23"]

#: HI qualifier -> category (diagnosis codes carry the pointer positions)
HI_CATEGORY = {
    **{q: "diagnosis" for q in ("ABK", "ABF", "ABJ", "APR", "ABN", "BK", "BF", "BJ", "PR", "BN", "DR")},
    **{q: "procedure" for q in ("BBR", "BBQ", "BR", "BQ", "CAH")},
    "BH": "occurrence", "BI": "occurrence_span", "BE": "value", "BG": "condition", "TC": "treatment",
}

#: category names, and the code of each HI_CATEGORY qualifier's category (then "other")
_CATEGORY_NAMES = pa.array(sorted({*HI_CATEGORY.values(), "other"}), pa.string())
_CATEGORY_CODE = np.array([_CATEGORY_NAMES.to_pylist().index(c) for c in [*HI_CATEGORY.values(), "other"]])


def _s(n):
    return pa.nulls(n, pa.string())


class _State:
    """Forward-fill carries between blocks (segment numbers; 0 = none yet)."""

    def __init__(self) -> None:
        self.last = {k: 0 for k in ("ST", "SE", "HL", "HL20", "HL22", "HL23", "CLM", "SBR", "LINE", "NM1",
                                    "LIN", "SVD", "LQ")}
        self.nm1q = -1
        self.prev_sid = -1


class Reader837(StreamingReader):
    State = _State

    def __init__(self, source, *, block_size=None, on_issue=None):
        super().__init__(source, block_size=block_size, on_issue=on_issue)
        self.claims_emitted: list[int] = []  # per transaction, for the claim ordinal

    # ------------------------------------------------------------------ per block
    def _block(self, b) -> None:
        st, P, T = self.state, self.parts, Typed(b, self.issues)
        sid, idx, n = b.sid, b.index, len(b)
        if n == 0:
            return
        isx = {s: sid == C[s] for s in ("ST", "SE", "HL", "CLM", "SBR", "LX", "SV1", "SV2", "NM1", "LIN", "SVD", "LQ")}
        prev = np.empty(n, dtype=np.int16)
        prev[0] = st.prev_sid
        prev[1:] = sid[:-1]
        st.prev_sid = int(sid[-1])
        is_line = isx["LX"] | ((isx["SV1"] | isx["SV2"]) & (prev != C["LX"]))
        hl_rows = np.flatnonzero(isx["HL"])
        level = np.full(n, -1, dtype=np.int16)
        level[hl_rows] = pc.index_in(b.element(hl_rows, 3), value_set=pa.array(HL_LEVELS)).fill_null(-1).to_numpy(
            zero_copy_only=False)
        nm1_rows = np.flatnonzero(isx["NM1"])
        q1 = np.full(n, -1, dtype=np.int16)
        q1[nm1_rows] = pc.index_in(b.element(nm1_rows, 1), value_set=pa.array(NM1_QUALIFIERS)).fill_null(
            -1).to_numpy(zero_copy_only=False)

        last = {}
        for name, mask in (("ST", isx["ST"]), ("SE", isx["SE"]), ("HL", isx["HL"]), ("HL20", level == 0),
                           ("HL22", level == 1), ("HL23", level == 2), ("CLM", isx["CLM"]), ("SBR", isx["SBR"]),
                           ("LINE", is_line), ("NM1", isx["NM1"]), ("LIN", isx["LIN"]), ("SVD", isx["SVD"]),
                           ("LQ", isx["LQ"])):
            last[name], st.last[name] = ffill_position(mask, idx, st.last[name])
        nm1q, st.nm1q = ffill(isx["NM1"], q1, st.nm1q)

        in_txn = last["ST"] > last["SE"]
        in_claim = in_txn & (last["CLM"] > last["HL"]) & (last["CLM"] > last["ST"])
        in_line = in_claim & (last["LINE"] > last["CLM"])
        in_cob = in_claim & ~in_line & (last["SBR"] > last["CLM"])
        in_2300 = in_claim & ~in_line & ~in_cob & (last["NM1"] < last["CLM"])
        in_2310 = in_claim & ~in_line & ~in_cob & (last["NM1"] > last["CLM"])
        anchor = last["LINE"]
        in_2400 = in_line & (last["LIN"] < anchor) & (last["NM1"] < anchor) & (last["SVD"] < anchor) & (last["LQ"] < anchor)
        in_2410 = in_line & (last["LIN"] > anchor) & (last["NM1"] < last["LIN"]) & (last["SVD"] < last["LIN"])
        in_2420 = in_line & (last["NM1"] > anchor) & (last["SVD"] < last["NM1"])
        in_hl = in_txn & ~in_claim & (last["HL"] > last["ST"])
        in_header = in_txn & (last["HL"] < last["ST"])

        def rows(seg, mask):
            r = b.rows(seg)
            return r[mask[r]]

        el, els = b.element, b.elements

        self._segment_problems(b, in_txn)

        # -- transaction header: BHT, 1000A submitter, 1000B receiver
        r = rows("BHT", in_header)
        P.add("bht", last["ST"][r], created=T.date_at(r, 4, "BHT04", "ST"))
        r = rows("NM1", in_header)
        q, name, id_ = els(r, (1, 3, 9))
        P.add("header_nm1", last["ST"][r], q=q, name=name, id=id_)

        # -- 2000A/B/C hierarchical levels and their 2010 names
        r = rows("NM1", in_hl)
        last_name, first_name, id_qual, id_ = els(r, (3, 4, 8, 9))
        P.add("hl_nm1", last["HL"][r], q=q1[r], last=last_name, first=first_name, id_qual=id_qual, id=id_)
        hl_sub = in_hl & (last["NM1"] > last["HL"])
        r = rows("N3", hl_sub)
        a1, a2 = els(r, (1, 2))
        P.add("hl_n3", last["HL"][r], q=nm1q[r], a1=a1, a2=a2)
        r = rows("N4", hl_sub)
        city, state, zip_ = els(r, (1, 2, 3))
        P.add("hl_n4", last["HL"][r], q=nm1q[r], city=city, state=state, zip=zip_)
        r = rows("REF", hl_sub)
        ref_q, value = els(r, (1, 2))
        P.add("hl_ref", last["HL"][r], q=nm1q[r], ref_q=ref_q, value=value)
        r = rows("DMG", hl_sub)
        P.add("hl_dmg", last["HL"][r], q=nm1q[r], birth=T.date_at(r, 2, "DMG02", "2010"), sex=el(r, 3))
        r = hl_rows[in_txn[hl_rows]]
        P.add("hl_at", idx[r], offset=b.offset[r])  # where the corrected-claim writer finds the loop
        r = rows("SBR", in_hl)
        resp, rel, group, filing = els(r, (1, 2, 3, 9))
        P.add("hl_sbr", last["HL"][r], resp=resp, rel=rel, group=group, filing=filing)
        r = rows("PAT", in_hl)
        P.add("hl_pat", last["HL"][r], rel=el(r, 1))
        r = rows("PRV", in_hl)
        kind, taxonomy = els(r, (1, 3))
        P.add("hl_prv", last["HL"][r], kind=kind, taxonomy=taxonomy)

        # -- 2300 claim
        r = rows("CLM", in_txn)
        clm01, clm02, clm05 = els(r, (1, 2, 5))
        T.composite(clm05, r, "CLM05", "2300")
        pos, bill_qual, freq = components(clm05, b.delimiters.component, range(3))
        patient_hl = np.where(last["HL23"][r] > last["HL22"][r], last["HL23"][r], 0)
        P.add("clm", idx[r], txn=last["ST"][r], billing=last["HL20"][r], subscriber=last["HL22"][r],
              patient=patient_hl, offset=b.offset[r], pcn=clm01, charge=T.money(clm02, r, "CLM02", "2300"),
              charge_given=clm02.is_valid(),
              pos=pos, bill_qual=bill_qual, freq=freq)
        r = rows("REF", in_2300)
        q, value = els(r, (1, 2))
        P.add("clm_ref", last["CLM"][r], q=q, value=value)
        r = rows("DTP", in_2300)
        f, t = T.period_at(r, 2, 3, "DTP03", "2300")
        P.add("clm_dtp", last["CLM"][r], q=el(r, 1), start=f, end=t)
        r = rows("NTE", in_2300)
        P.add("clm_nte", last["CLM"][r], text=el(r, 2))
        self._hi(b, rows("HI", in_2300), last["CLM"], T)
        r = rows("NM1", in_2310)
        id_qual, id_ = els(r, (8, 9))
        P.add("clm_nm1", last["CLM"][r], q=q1[r], id_qual=id_qual, id=id_)
        # 2300 segments that sit after an NM1 (out of TR3 order) would be misread as 2310 data: flag
        r = np.flatnonzero(np.isin(sid, [C["HI"], C["CLM"]]) & in_2310)
        if len(r):
            self.issues.add("X12-SEGMENT-ORDER", "2300 segment after a 2310 provider loop: read as part of the claim",
                            severity="warning", segment_index=idx[r], byte_offset=b.offset[r], loop="2310",
                            segment_id=el(r, 0))
            self._hi(b, r[sid[r] == C["HI"]], last["CLM"], T)

        # -- 2400 lines
        r = np.flatnonzero(is_line & in_claim)
        is_lx = sid[r] == C["LX"]
        lx_value = pc.if_else(pa.array(is_lx), el(r, 1), pa.scalar(None, pa.string()))
        P.add("line", idx[r], claim=last["CLM"][r], lx=T.integer(lx_value, r, "LX01", "2400"), has_lx=is_lx,
              offset=b.offset[r])
        stray = np.flatnonzero(is_line & ~in_claim)
        if len(stray):
            self.issues.add("X12-LINE-OUTSIDE-CLAIM", "service line (LX/SV1/SV2) outside a claim (no CLM before it)",
                            segment_index=idx[stray], byte_offset=b.offset[stray], loop="2400",
                            segment_id=el(stray, 0), skipped="line")
        no_lx = np.flatnonzero(is_line & in_claim & (sid != C["LX"]))
        if len(no_lx):
            self.issues.add("X12-MISSING-SEGMENT", "service line without LX: expected LX before SV1/SV2 "
                            "(line read, without line number)", severity="warning", segment_index=idx[no_lx],
                            byte_offset=b.offset[no_lx], loop="2400", segment_id=el(no_lx, 0))
        for seg, proc_k, loop_label in (("SV1", 1, "SV1"), ("SV2", 2, "SV2")):
            r = rows(seg, in_line & (last["LIN"] < anchor) & (last["NM1"] < anchor) & (last["SVD"] < anchor))
            wanted = (1, 2, 3, 4, 5, 7) if seg == "SV1" else (1, 2, 3, 4, 5)
            e = dict(zip(wanted, els(r, wanted)))
            proc = e[proc_k]
            T.composite(proc, r, f"{seg}0{proc_k}", "2400")
            cols = dict(zip(("qual", "code", "m1", "m2", "m3", "m4", "desc"),
                            components(proc, b.delimiters.component, range(7))))
            if seg == "SV1":
                ptr = components(e[7], b.delimiters.component, range(4))
                cols.update(revenue=_s(len(r)), charge=T.money(e[2], r, "SV102", "2400"), basis=e[3],
                            units=T.quantity(e[4], r, "SV104", "2400"), pos=e[5],
                            p1=T.integer(ptr[0], r, "SV107-1", "2400", pa.int16()),
                            p2=T.integer(ptr[1], r, "SV107-2", "2400", pa.int16()),
                            p3=T.integer(ptr[2], r, "SV107-3", "2400", pa.int16()),
                            p4=T.integer(ptr[3], r, "SV107-4", "2400", pa.int16()))
            else:
                cols.update(revenue=e[1], charge=T.money(e[3], r, "SV203", "2400"), basis=e[4],
                            units=T.quantity(e[5], r, "SV205", "2400"), pos=_s(len(r)),
                            p1=pa.nulls(len(r), pa.int16()), p2=pa.nulls(len(r), pa.int16()),
                            p3=pa.nulls(len(r), pa.int16()), p4=pa.nulls(len(r), pa.int16()))
            P.add("sv", anchor[r], **cols)
        r = rows("DTP", in_2400)
        f, t = T.period_at(r, 2, 3, "DTP03", "2400")
        P.add("line_dtp", anchor[r], q=el(r, 1), start=f, end=t)
        r = rows("REF", in_2400)
        q, value = els(r, (1, 2))
        P.add("line_ref", anchor[r], q=q, value=value)
        r = rows("NTE", in_2400)
        P.add("line_nte", anchor[r], text=el(r, 2))
        r = rows("LIN", in_line)
        q, ndc = els(r, (2, 3))
        P.add("lin", anchor[r], q=q, ndc=ndc)
        r = rows("CTP", in_2410)
        P.add("ctp", anchor[r], qty=T.quantity(el(r, 4), r, "CTP04", "2410"), unit=b.components(r, 5, (0,))[0])
        r = rows("NM1", in_2420)
        P.add("line_nm1", anchor[r], q=q1[r], id=el(r, 9))

        # -- 2320/2330A/2330B other payers (most blocks have none: skip the work)
        if in_cob[0] or in_cob[b.rows("SBR")].any():  # a 2320 open from the last block, or one here
            sbr_key = last["SBR"]

            def cob_rows(seg, in_2330):  # 2320 (no NM1 since the SBR) or 2330 rows: tested on the segment's rows only
                r = rows(seg, in_cob)
                after = last["NM1"][r] > sbr_key[r]
                return r[after] if in_2330 else r[~after]

            r = rows("SBR", in_cob)
            resp, rel, group, group_name, filing = els(r, (1, 2, 3, 4, 9))
            P.add("cob_sbr", idx[r], claim=last["CLM"][r], offset=b.offset[r], resp=resp, rel=rel, group=group,
                  group_name=group_name, filing=filing)
            r = cob_rows("AMT", False)
            P.add("cob_amt", sbr_key[r], q=el(r, 1), amount=T.money(el(r, 2), r, "AMT02", "2320"))
            r = cob_rows("OI", False)
            oi03, oi06 = els(r, (3, 6))
            P.add("cob_oi", sbr_key[r], assignment=oi03, release=oi06)
            self._cas(b, cob_rows("CAS", False), sbr_key, "cob_cas", "2320", T)
            r = cob_rows("NM1", True)
            last_name, first_name, id_ = els(r, (3, 4, 9))
            P.add("cob_nm1", sbr_key[r], q=q1[r], last=last_name, first=first_name, id=id_)
            r = cob_rows("DTP", True)
            r = r[nm1q[r] == Q["PR"]]
            P.add("cob_dtp", sbr_key[r], q=el(r, 1), date=T.date_at(r, 3, "DTP03", "2330B"))
        # -- 2430 line adjudication
        if len(b.rows("SVD")) or last["SVD"][0] > anchor[0]:  # an SVD here, or a 2430 open from the last block
            svd_key = last["SVD"]

            def rows_2430(seg):  # an SVD since the line anchor and no LQ (2440) since that SVD
                r = rows(seg, in_line)
                return r[(svd_key[r] > anchor[r]) & (last["LQ"][r] < svd_key[r])]

            r = rows("SVD", in_line)
            payer, paid, proc, revenue, units, bundled = els(r, (1, 2, 3, 4, 5, 6))
            T.composite(proc, r, "SVD03", "2430")
            cols = dict(zip(("qual", "code", "m1", "m2", "m3", "m4", "desc"),
                            components(proc, b.delimiters.component, range(7))))
            P.add("svd", idx[r], line=anchor[r], payer=payer, paid=T.money(paid, r, "SVD02", "2430"),
                  revenue=revenue, units=T.quantity(units, r, "SVD05", "2430"),
                  bundled=T.integer(bundled, r, "SVD06", "2430"), **cols)
            self._cas(b, rows_2430("CAS"), svd_key, "svd_cas", "2430", T)
            r = rows_2430("DTP")
            P.add("svd_dtp", svd_key[r], q=el(r, 1), date=T.date_at(r, 3, "DTP03", "2430"))
            r = rows_2430("AMT")
            P.add("svd_amt", svd_key[r], q=el(r, 1), amount=T.money(el(r, 2), r, "AMT02", "2430"))

    def _cas(self, b, r, loop_key, part: str, loop: str, T) -> None:
        """CAS (group, then up to 6 reason/amount/quantity triplets) -> one row per triplet,
        in file order (``seq``), keyed by the loop's SBR / SVD."""
        if len(r) == 0:
            return
        e = b.elements(r, range(1, 20))
        group = e[0]
        for j in range(6):
            reason, amount, qty = e[1 + 3 * j], e[2 + 3 * j], e[3 + 3 * j]
            given = pc.or_(reason.is_valid(), amount.is_valid()).to_numpy(zero_copy_only=False)
            if not given.any():
                continue
            rr = r[given]
            keep = pa.array(given)
            self.parts.add(part, loop_key[rr], seq=b.index[rr] * 8 + j, group=group.filter(keep),
                           reason=reason.filter(keep),
                           amount=T.money(amount.filter(keep), rr, f"CAS{3 + 3 * j:02d}", loop),
                           qty=T.quantity(qty.filter(keep), rr, f"CAS{4 + 3 * j:02d}", loop))

    def _hi(self, b, r, claim_key, T) -> None:
        """HI composites (HI01..HI24) -> one row per code, in file order."""
        if len(r) == 0:
            return
        counts = b.count[r] - 1  # elements after the id
        total = int(counts.sum())
        if total == 0:
            return
        seg_rep = np.repeat(r, counts)
        starts = np.repeat(np.cumsum(counts) - counts, counts)
        k = np.arange(total) - starts + 1  # element number 1..n within its segment
        e = b.first[seg_rep] + k
        keep = b.raw_offsets[e + 1] - b.raw_offsets[e] > 1  # an empty element (HI01**HI03) is skipped
        seg_rep, k, e = seg_rep[keep], k[keep], e[keep]
        comp = components(b.gather(e, np.ones(len(e), dtype=bool)), b.delimiters.component, (0, 1, 2, 3, 4, 8))
        qual, code, fmt, date, amount, poa = comp
        no_code = code.is_null().to_numpy(zero_copy_only=False)
        if no_code.any():
            # one issue per HI segment, naming its first bad element and how many there are
            bad_seg, first_bad, n_bad = np.unique(seg_rep[no_code], return_index=True, return_counts=True)
            self.parts.add("hi_bad", claim_key[bad_seg])
            first_k = np.minimum(k[no_code][first_bad], 99)
            labels = pa.array([f"HI{i:02d}" for i in range(100)])
            message = pc.binary_join_element_wise(
                pa.array(np.minimum(n_bad, 99).astype(str)),
                pa.scalar(" HI element(s) are not qualifier" + b.delimiters.component + "code composites (e.g. ABK"
                          + b.delimiters.component + "M810) and were skipped; the first is named in column"), "")
            self.issues.add("X12-BAD-VALUE", message, segment_index=b.index[bad_seg],
                            byte_offset=b.offset[bad_seg], loop="2300", segment_id="HI",
                            column=labels.take(pa.array(first_k)), skipped="element")
            keep = ~no_code
            seg_rep, k = seg_rep[keep], k[keep]
            qual, code, fmt, date, amount, poa = (keep_rows(c, keep) for c in comp)
        date_value = pc.if_else(pc.equal(pc.fill_null(fmt, ""), "D8"), date, pa.scalar(None, pa.string()))
        self.parts.add("hi", claim_key[seg_rep], seq=b.index[seg_rep] * 100 + k, qual=qual,
                       code=pc.replace_substring(pc.utf8_upper(code), ".", ""),
                       date=T.date(date_value, seg_rep, "HI-4", "2300"),
                       amount=T.money(amount, seg_rep, "HI-5", "2300"), poa=poa)

    # ------------------------------------------------------------------ assembly
    def _emit(self, final: bool) -> ClaimBatch:
        """The batch of what is complete: claims before the last CLM (or all of them once its
        transaction is closed), and the transactions closed so far. Pieces keyed by HL or ST
        stay while a later claim may still point at them."""
        tk = self.tokenizer
        path = self._name()
        identity = self.identity
        file_id = identity["file_id"]
        for d in tk.issues[self.tk_issues_done:]:
            self.issues.add_dict(d)
        self.tk_issues_done = len(tk.issues)
        all_txns = self.walker.transactions if self.walker else []
        for t in all_txns[len(self.tids):]:
            t["type"] = transaction_type(t["ST01"], t["version"], None)
        self.tids += transaction_ids(file_id, all_txns[len(self.tids):], self.issues, self.tid_seen)
        self.claims_emitted += [0] * (len(all_txns) - len(self.claims_emitted))
        open_st = self.walker.st if (self.walker and not final) else None
        n_closed = len(all_txns) - (1 if open_st is not None else 0)
        last_clm = self.state.last["CLM"]
        cut = last_clm if (open_st is not None and open_st["index"] < last_clm) else self.last_index + 1
        if final and all_txns and not any(t["type"] in ("837P", "837I") for t in all_txns):
            kinds = sorted({str(t["ST01"]) for t in all_txns})
            raise InputFormatError(f"{path}: holds {', '.join(kinds)} transactions, not 837 claims"
                                   + ("; read it as a remittance (835)" if "835" in kinds else ""))
        P = self.parts.split(_CLAIM_PARTS, cut)
        P.pieces.update({k: v for k, v in self.parts.pieces.items() if k not in _CLAIM_PARTS})  # read, not moved
        txns = all_txns
        tids = self.tids
        st_index = np.array([t["index"] for t in txns], dtype=np.int64)
        new_txns = range(self.txn_done, n_closed)
        others = [txns[i] for i in new_txns if txns[i]["type"] not in ("837P", "837I")]
        for t in others:
            self.issues.add("X12-WRONG-TRANSACTION", f"transaction set {t['ST01']} is not an 837; skipped",
                            segment_index=t["index"], byte_offset=t["offset"], segment_id="ST", loop="ST",
                            skipped="transaction")

        # transactions table: those closed since the last batch
        emitted = txns[self.txn_done:n_closed]
        emitted_tids = tids[self.txn_done:n_closed]
        emitted_st = st_index[self.txn_done:n_closed]
        bht = first_per_key(P.get("bht", {"created": pa.date32()}), emitted_st)
        header = P.lookup("header_nm1", {"q": pa.string(), "name": pa.string(), "id": pa.string()})
        sub = first_with(header, "q", "41", emitted_st)
        rcv = first_with(header, "q", "40", emitted_st)
        self.txn_done = n_closed
        keep_txn = np.array([t["type"] in ("837P", "837I") for t in emitted], dtype=bool)
        gs04 = pa.array([t["GS04"] for t in emitted], pa.date32())
        transactions = pa.table({
            "transaction_id": pa.array(emitted_tids, pa.string()),
            "file_id": pa.array([file_id] * len(emitted), pa.string()),
            **envelope_columns(emitted),
            "created": pc.coalesce(bht["created"], gs04),
            "submitter_name": sub["name"], "submitter_id": sub["id"], "receiver_name": rcv["name"],
        }).filter(pa.array(keep_txn)).select(TRANSACTIONS.names).cast(TRANSACTIONS) if emitted \
            else TRANSACTIONS.empty_table()

        # claims: only in wanted transactions; drop the last claim of a transaction cut short
        clm = P.get("clm", {})
        if len(clm) == 0:
            return self._batch(P, identity, transactions, CLAIMS.empty_table(), DIAGNOSES.empty_table(),
                               LINES.empty_table())
        ckey = clm["key"].to_numpy()
        ctxn = clm["txn"].to_numpy()
        tpos = np.searchsorted(st_index, ctxn)
        tinfo_ok = np.array([t["type"] in ("837P", "837I") for t in txns], dtype=bool)[tpos]
        truncated = np.array([t["truncated"] for t in txns], dtype=bool)[tpos]
        is_last = np.ones(len(ckey), dtype=bool)
        is_last[:-1] = ctxn[1:] != ctxn[:-1]
        drop = truncated & is_last
        for i in np.flatnonzero(drop):
            self.issues.add("X12-CLAIM-INCOMPLETE", "last claim of a transaction that has no SE: it may be cut "
                            "short, so it is not loaded", segment_index=int(ckey[i]),
                            byte_offset=int(clm["offset"][i].as_py()), loop="2300", segment_id="CLM",
                            claim_key=clm["pcn"][i].as_py(), skipped="claim")
        keep = tinfo_ok & ~drop
        clm = keep_rows(clm, keep)
        ckey, ctxn, tpos = ckey[keep], ctxn[keep], tpos[keep]
        # claim ordinal within its transaction, counting claims emitted in earlier batches
        done = np.array(self.claims_emitted, dtype=np.int64)
        ordinal = rank_within(ctxn) + done[tpos]
        np.add.at(done, tpos, 1)
        self.claims_emitted = done.tolist()
        tid_arr = pa.array(tids, pa.string()).take(pa.array(tpos))
        claim_id = pc.binary_join_element_wise(tid_arr, pa.array(ordinal).cast(pa.string()), ":")
        ctype = pa.array([t["type"] for t in txns], pa.string()).take(pa.array(tpos, pa.int64()))
        is_inst = pc.equal(ctype, "837I")

        def fk(name, schema, keys, where=None):
            t = P.get(name, schema)
            if where is not None:
                t = t.filter(where(t))
            return first_per_key(t, keys)

        refs = P.lookup("clm_ref", {"q": pa.string(), "value": pa.string()})
        ref = {q: first_with(refs, "q", q, ckey, take="value") for q in ("F8", "G1", "9F")}
        dtps = P.lookup("clm_dtp", {"q": pa.string(), "start": pa.date32(), "end": pa.date32()})
        stmt = first_with(dtps, "q", "434", ckey)
        adm = first_with(dtps, "q", "435", ckey)
        nte = fk("clm_nte", {"text": pa.string()}, ckey)
        nm1 = P.lookup("clm_nm1", {"q": pa.int16(), "id_qual": pa.string(), "id": pa.string()})

        def provider(q):
            return first_with(nm1, "q", Q[q], ckey, take="id")

        # hierarchical levels
        hl_nm1 = P.lookup("hl_nm1", {"q": pa.int16(), "last": pa.string(), "first": pa.string(),
                                  "id_qual": pa.string(), "id": pa.string()})
        billing_key = clm["billing"].to_numpy()
        sub_key = clm["subscriber"].to_numpy()
        pat_key = clm["patient"].to_numpy()

        def hl(table, q, keys):
            return first_with(table, "q", Q[q], keys)

        bp = hl(hl_nm1, "85", billing_key)
        n3 = P.get("hl_n3", {"q": pa.int16(), "a1": pa.string(), "a2": pa.string()})
        n4 = P.get("hl_n4", {"q": pa.int16(), "city": pa.string(), "state": pa.string(), "zip": pa.string()})
        bp_n3, bp_n4 = hl(n3, "85", billing_key), hl(n4, "85", billing_key)
        address = join_present([bp_n3["a1"], bp_n3["a2"], bp_n4["city"], bp_n4["state"], bp_n4["zip"]], ", ")
        hl_ref = P.get("hl_ref", {"q": pa.int16(), "ref_q": pa.string(), "value": pa.string()})
        tax = first_per_key(hl_ref.filter(pc.and_(pc.equal(hl_ref["q"], Q["85"]),
                                                  pc.is_in(hl_ref["ref_q"], pa.array(["EI", "SY"])))), billing_key)
        subscriber = hl(hl_nm1, "IL", sub_key)
        payer = hl(hl_nm1, "PR", sub_key)
        sbr = fk("hl_sbr", {"resp": pa.string(), "rel": pa.string(), "group": pa.string(), "filing": pa.string()},
                 sub_key)
        dmg = P.lookup("hl_dmg", {"q": pa.int16(), "birth": pa.date32(), "sex": pa.string()})
        sub_dmg = hl(dmg, "IL", sub_key)
        has_pat = pa.array(pat_key > 0)
        patient = hl(hl_nm1, "QC", pat_key)
        pat_dmg = hl(dmg, "QC", pat_key)
        pat = fk("hl_pat", {"rel": pa.string()}, pat_key)
        prv = fk("hl_prv", {"kind": pa.string(), "taxonomy": pa.string()}, billing_key,
                 where=lambda t: pc.equal(t["kind"], "BI"))

        def either(a, b_):
            return pc.if_else(has_pat, a, b_)

        billing_name = join_present([bp["last"], bp["first"]], ", ")
        pos = clm["pos"]
        claims = pa.table({
            "claim_id": claim_id, "transaction_id": tid_arr, "file_id": pa.array([file_id] * len(clm), pa.string()),
            "claim_type": pc.if_else(is_inst, "institutional", "professional"),
            "patient_control_number": clm["pcn"], "total_charge": clm["charge"],
            "place_of_service": pc.if_else(is_inst, pa.scalar(None, pa.string()), pos),
            "facility_type_code": pc.if_else(is_inst, pos, pa.scalar(None, pa.string())),
            "type_of_bill": pc.if_else(is_inst, pc.binary_join_element_wise(pos, clm["freq"], ""),
                                       pa.scalar(None, pa.string())),
            "frequency_code": clm["freq"],
            "original_claim_number": ref["F8"], "prior_auth_number": ref["G1"], "referral_number": ref["9F"],
            "statement_from": stmt["start"],
            "statement_to": pc.coalesce(stmt["end"], stmt["start"]),
            "admission_date": adm["start"],
            "billing_npi": pc.if_else(pc.equal(bp["id_qual"], "XX"), bp["id"], pa.scalar(None, pa.string())),
            "billing_name": billing_name,
            "billing_tax_id": tax["value"], "billing_address": address,
            "rendering_npi": provider("82"),
            "facility_npi": pc.coalesce(provider("77"), provider("FA")),
            "payer_id": payer["id"], "payer_name": payer["last"],
            "payer_responsibility": sbr["resp"], "claim_filing_indicator": sbr["filing"],
            "group_number": sbr["group"],
            "subscriber_id": subscriber["id"], "subscriber_last_name": subscriber["last"],
            "subscriber_first_name": subscriber["first"],
            "relationship_code": either(pat["rel"], sbr["rel"]),
            "patient_id": either(pc.coalesce(patient["id"], subscriber["id"]), subscriber["id"]),
            "patient_last_name": either(patient["last"], subscriber["last"]),
            "patient_first_name": either(patient["first"], subscriber["first"]),
            "patient_birth_date": either(pat_dmg["birth"], sub_dmg["birth"]),
            "patient_sex": either(pat_dmg["sex"], sub_dmg["sex"]),
            "note": nte["text"],
            "attending_npi": provider("71"),
            "referring_npi": provider("DN"),
            "x12_clm_offset": clm["offset"],
            **self._hl_offsets(P, billing_key, sub_key, pat_key),
            "billing_taxonomy": prv["taxonomy"],
        })
        claims = claims.select(CLAIMS.names).cast(CLAIMS)
        self._missing(claims, clm, ckey)

        diagnoses = self._diagnoses(P, ckey, claim_id)
        lines = self._lines(P, ckey, claim_id, clm)
        self._required(P, claims, clm, ckey, diagnoses, lines)
        self._pcn = claims["patient_control_number"]
        return self._batch(P, identity, transactions, claims, diagnoses, lines, self._cob(P, ckey, claim_id))

    @staticmethod
    def _hl_offsets(P, billing_key, sub_key, pat_key) -> dict[str, pa.Array]:
        """Byte offsets of each claim's billing provider, subscriber and patient HL segments."""
        hl_at = P.lookup("hl_at", {"offset": pa.int64()})
        return {"x12_billing_offset": first_per_key(hl_at, billing_key)["offset"],
                "x12_subscriber_offset": first_per_key(hl_at, sub_key)["offset"],
                "x12_patient_offset": first_per_key(hl_at, pat_key)["offset"]}

    def _missing(self, claims, clm, ckey) -> None:
        # invalid values were reported when parsed; here only what is absent
        absent = {"CLM01": claims["patient_control_number"].is_null(), "CLM02": pc.invert(clm["charge_given"])}
        for label, mask in absent.items():
            bad = mask.to_numpy(zero_copy_only=False)
            if bad.any():
                self.issues.add("X12-MISSING-ELEMENT", f"{label} is missing (required)", severity="warning",
                                segment_index=ckey[bad], byte_offset=clm["offset"].to_numpy()[bad],
                                column=label, loop="2300", segment_id="CLM",
                                claim_key=claims["patient_control_number"].filter(pa.array(bad)))

    def _required(self, P, claims, clm, ckey, diagnoses, lines) -> None:
        """The few TR3 requirements a biller cannot do without (pyx12 checks the rest)."""
        n = len(ckey)
        # a claim whose HI elements were unreadable already has an issue saying so
        hi_bad = np.zeros(n, dtype=bool)
        bad_keys = P.get("hi_bad", {})["key"].to_numpy()
        if n and len(bad_keys):
            at = np.minimum(np.searchsorted(ckey, bad_keys), n - 1)
            hi_bad[at[ckey[at] == bad_keys]] = True
        has_principal = (np.bincount(self._principal_pos, minlength=n)[:n] > 0) | hi_bad
        has_lines = np.bincount(self._line_pos, minlength=n)[:n] > 0
        checks = (
            (~has_principal, "HI", "2300",
             "no principal diagnosis: expected HI01 with qualifier ABK (ICD-10) or BK (ICD-9)"),
            (~has_lines, "LX", "2400", "claim without service lines: expected at least one LX/SV1 or LX/SV2"),
            (claims["billing_npi"].is_null().to_numpy(zero_copy_only=False), "NM1", "2010AA",
             "no billing provider NPI: expected NM1*85 with NM108=XX in loop 2010AA"),
        )
        offsets = clm["offset"].to_numpy()
        for bad, seg, loop, message in checks:
            if bad.any():
                # placed at the claim's CLM (the missing segment has no place of its own)
                self.issues.add("X12-MISSING-SEGMENT", message, severity="warning", segment_index=ckey[bad],
                                byte_offset=offsets[bad], loop=loop, segment_id="CLM", column=seg,
                                claim_key=claims["patient_control_number"].filter(pa.array(bad)))

    def _diagnoses(self, P, ckey, claim_id) -> pa.Table:
        hi = P.get("hi", {"seq": pa.int64(), "qual": pa.string(), "code": pa.string(),
                                   "date": pa.date32(), "amount": MONEY, "poa": pa.string()})
        self._principal_pos = np.zeros(0, dtype=np.int64)
        if len(hi) == 0:
            return DIAGNOSES.empty_table()
        hkey = hi["key"].to_numpy()
        pos, hit = _find(ckey, hkey)
        hi = keep_rows(hi, hit)
        pos = pos[hit]
        qual = hi["qual"]
        principal = pc.fill_null(pc.is_in(qual, pa.array(["ABK", "BK"])), False).to_numpy(zero_copy_only=False)
        self._principal_pos = pos[principal]
        category = pc.fill_null(pc.index_in(qual, value_set=pa.array(list(HI_CATEGORY))), -1).to_numpy(
            zero_copy_only=False)
        cat_code = _CATEGORY_CODE[category]  # -1 (not in HI_CATEGORY) is the last entry: "other"
        # position: 1-based order within (claim, category); diagnosis positions are pointer targets
        order = np.lexsort((np.arange(len(pos)), cat_code, pos))
        group = pos[order] * 64 + cat_code[order]
        position = np.empty(len(pos), dtype=np.int64)
        position[order] = rank_within(group)
        return pa.table({
            "claim_id": claim_id.take(pa.array(pos)), "position": pa.array(position, pa.int16()),
            "qualifier": qual, "code": hi["code"], "present_on_admission": hi["poa"],
            "category": _CATEGORY_NAMES.take(pa.array(cat_code)), "date": hi["date"], "amount": hi["amount"],
        }).select(DIAGNOSES.names).cast(DIAGNOSES)

    def _lines(self, P, ckey, claim_id, clm) -> pa.Table:
        from reclaim.refdata.ndc import normalize_ndc

        line = P.get("line", {"claim": pa.int64(), "lx": pa.int32(), "has_lx": pa.bool_(), "offset": pa.int64()})
        self._line_pos = np.zeros(0, dtype=np.int64)
        self._line_keys, self._line_lx = np.zeros(0, dtype=np.int64), pa.array([], pa.int32())
        if len(line) == 0:
            return LINES.empty_table()
        lclaim = line["claim"].to_numpy()
        pos, hit = _find(ckey, lclaim)
        line = keep_rows(line, hit)
        pos = pos[hit]
        self._line_pos = pos
        lkey = line["key"].to_numpy()
        self._line_keys, self._line_lx = lkey, line["lx"]
        sv = first_per_key(P.get("sv", {}), lkey) if "sv" in P.pieces else None
        if sv is None:
            sv = {k: pa.nulls(len(lkey), t) for k, t in (
                ("qual", pa.string()), ("code", pa.string()), ("m1", pa.string()), ("m2", pa.string()),
                ("m3", pa.string()), ("m4", pa.string()), ("desc", pa.string()), ("revenue", pa.string()),
                ("charge", MONEY), ("basis", pa.string()), ("units", QUANTITY), ("pos", pa.string()),
                ("p1", pa.int16()), ("p2", pa.int16()), ("p3", pa.int16()), ("p4", pa.int16()))}
        missing_sv = sv["charge"].is_null().to_numpy(zero_copy_only=False) & sv["code"].is_null().to_numpy(
            zero_copy_only=False)
        if missing_sv.any():
            self.issues.add("X12-MISSING-SEGMENT", "service line without SV1/SV2 (or with an empty one): "
                            "procedure and charge unknown", segment_index=lkey[missing_sv], loop="2400",
                            segment_id="LX", column="SV1/SV2")
        dtp = P.get("line_dtp", {"q": pa.string(), "start": pa.date32(), "end": pa.date32()})
        dos = first_with(dtp, "q", "472", lkey)
        refs = P.lookup("line_ref", {"q": pa.string(), "value": pa.string()})
        ref = {q: first_with(refs, "q", q, lkey, take="value") for q in ("6R", "G1")}
        nte = first_per_key(P.get("line_nte", {"text": pa.string()}), lkey)
        lin = first_per_key(P.get("lin", {"q": pa.string(), "ndc": pa.string()}), lkey)
        ctp = first_per_key(P.get("ctp", {"qty": QUANTITY, "unit": pa.string()}), lkey)
        l_nm1 = P.get("line_nm1", {"q": pa.int16(), "id": pa.string()})
        rend = first_with(l_nm1, "q", Q["82"], lkey)
        # NDC normalization on the distinct values only
        ndc = lin["ndc"]
        is_n4 = pc.fill_null(pc.equal(lin["q"], "N4"), False)
        distinct = pc.unique(ndc.filter(is_n4)).to_pylist() if len(ndc) else []
        mapping = {d: normalize_ndc(d) for d in distinct if d is not None}
        keys_ = pa.array(list(mapping), pa.string())
        vals_ = pa.array(list(mapping.values()), pa.string())
        ndc11 = vals_.take(pc.index_in(ndc, value_set=keys_)) if len(keys_) else pa.nulls(len(ndc), pa.string())
        ndc11 = pc.if_else(is_n4, ndc11, pa.scalar(None, pa.string()))
        table = pa.table({
            "claim_id": claim_id.take(pa.array(pos)), "line_number": line["lx"],
            "line_control_number": ref["6R"], "service_date": dos["start"], "service_date_to": dos["end"],
            "procedure_qualifier": sv["qual"], "procedure_code": sv["code"],
            "modifier_1": sv["m1"], "modifier_2": sv["m2"], "modifier_3": sv["m3"], "modifier_4": sv["m4"],
            "description": sv["desc"], "revenue_code": sv["revenue"], "charge": sv["charge"],
            "unit_basis": sv["basis"], "units": sv["units"], "place_of_service": sv["pos"],
            "dx_pointer_1": sv["p1"], "dx_pointer_2": sv["p2"], "dx_pointer_3": sv["p3"], "dx_pointer_4": sv["p4"],
            "ndc_qualifier": lin["q"], "ndc": ndc, "ndc11": ndc11, "ndc_quantity": ctp["qty"],
            "ndc_unit": ctp["unit"], "rendering_npi": rend["id"], "prior_auth_number": ref["G1"],
            "note": nte["text"], "source_position": line["offset"],
        })
        return table.select(LINES.names).cast(LINES)

    def _cob(self, P, ckey, claim_id) -> dict[str, pa.Table]:
        """other_payers (2320/2330), line_adjudications (2430) and their CAS rows, for the
        claims and lines of this batch (empty, with no work, when the batch has no COB)."""
        out = {}
        sbr = P.get("cob_sbr", {"claim": pa.int64(), "offset": pa.int64(), "resp": pa.string(), "rel": pa.string(), "group": pa.string(),
                                "group_name": pa.string(), "filing": pa.string()})
        if len(sbr):
            pos, hit = _find(ckey, sbr["claim"].to_numpy())
            sbr, pos = keep_rows(sbr, hit), pos[hit]
            skey = sbr["key"].to_numpy()
            payer_index = pa.array(rank_within(pos), pa.int16())
            ids = claim_id.take(pa.array(pos))
            amt = P.lookup("cob_amt", {"q": pa.string(), "amount": MONEY})
            nm1 = P.lookup("cob_nm1", {"q": pa.int16(), "last": pa.string(), "first": pa.string(), "id": pa.string()})
            oi = first_per_key(P.get("cob_oi", {"assignment": pa.string(), "release": pa.string()}), skey)
            sub, payer = first_with(nm1, "q", Q["IL"], skey), first_with(nm1, "q", Q["PR"], skey)
            out["other_payers"] = pa.table({
                "claim_id": ids, "payer_index": payer_index, "payer_responsibility": sbr["resp"],
                "relationship_code": sbr["rel"], "group_number": sbr["group"], "group_name": sbr["group_name"],
                "claim_filing_indicator": sbr["filing"],
                "paid_amount": first_with(amt, "q", "D", skey, take="amount"),
                "non_covered_amount": first_with(amt, "q", "A8", skey, take="amount"),
                "remaining_patient_liability": first_with(amt, "q", "EAF", skey, take="amount"),
                "benefits_assignment": oi["assignment"], "release_of_information": oi["release"],
                "subscriber_id": sub["id"], "subscriber_last_name": sub["last"], "subscriber_first_name": sub["first"],
                "payer_id": payer["id"], "payer_name": payer["last"],
                "adjudication_date": first_with(P.lookup("cob_dtp", {"q": pa.string(), "date": pa.date32()}),
                                                "q", "573", skey, take="date"),
            }).select(OTHER_PAYERS.names).cast(OTHER_PAYERS)
            # a secondary payer cannot match the prior payment to a payer it does not know
            no_payer = pc.and_(payer["id"].is_null(), payer["last"].is_null()).to_numpy(zero_copy_only=False)
            if no_payer.any():
                pcn = self._pcn.take(pa.array(pos[no_payer]))
                self.issues.add("X12-MISSING-SEGMENT", "other payer (2320) without its payer name: expected "
                                "NM1*PR with NM109 in loop 2330B", severity="warning", segment_index=skey[no_payer],
                                byte_offset=sbr["offset"].to_numpy()[no_payer], loop="2330B", segment_id="SBR",
                                column="NM1", claim_key=pcn)
            out["cob_cas"] = self._adjustments(P, "cob_cas", skey, {"claim_id": ids, "payer_index": payer_index})
        svd = P.get("svd", {"line": pa.int64(), "payer": pa.string(), "paid": MONEY, "revenue": pa.string(),
                            "units": QUANTITY, "bundled": pa.int32(), **{k: pa.string() for k in (
                                "qual", "code", "m1", "m2", "m3", "m4", "desc")}})
        if len(svd):
            at, hit = _find(self._line_keys, svd["line"].to_numpy())
            svd, at = keep_rows(svd, hit), at[hit]
            vkey = svd["key"].to_numpy()
            ids = claim_id.take(pa.array(self._line_pos[at]))
            line_number = self._line_lx.take(pa.array(at))
            index = pa.array(rank_within(svd["line"].to_numpy()), pa.int16())
            dtp = P.lookup("svd_dtp", {"q": pa.string(), "date": pa.date32()})
            amt = P.lookup("svd_amt", {"q": pa.string(), "amount": MONEY})
            out["line_adjudications"] = pa.table({
                "claim_id": ids, "line_number": line_number, "adjudication_index": index, "payer_id": svd["payer"],
                "paid_amount": svd["paid"], "procedure_qualifier": svd["qual"], "procedure_code": svd["code"],
                "modifier_1": svd["m1"], "modifier_2": svd["m2"], "modifier_3": svd["m3"], "modifier_4": svd["m4"],
                "description": svd["desc"], "revenue_code": svd["revenue"], "paid_units": svd["units"],
                "bundled_line_number": svd["bundled"],
                "adjudication_date": first_with(dtp, "q", "573", vkey, take="date"),
                "remaining_patient_liability": first_with(amt, "q", "EAF", vkey, take="amount"),
            }).select(LINE_ADJUDICATIONS.names).cast(LINE_ADJUDICATIONS)
            out["svd_cas"] = self._adjustments(P, "svd_cas", vkey, {
                "claim_id": ids, "line_number": line_number, "adjudication_index": index})
        cas = [out.pop(k) for k in ("cob_cas", "svd_cas") if k in out]
        if cas:
            out["other_payer_adjustments"] = pa.concat_tables(cas)
        return out

    @staticmethod
    def _adjustments(P, part, loop_keys, loop_columns) -> pa.Table:
        """CAS rows of ``part`` (keyed by their loop's SBR/SVD) in file order, with the columns
        of their loop row (``loop_columns``, one value per ``loop_keys``)."""
        cas = P.get(part, {"seq": pa.int64(), "group": pa.string(), "reason": pa.string(), "amount": MONEY,
                           "qty": QUANTITY})
        if not len(cas):
            return OTHER_PAYER_ADJUSTMENTS.empty_table()
        cas = cas.take(pc.sort_indices(cas["seq"]))
        at, hit = _find(loop_keys, cas["key"].to_numpy())
        cas, at = keep_rows(cas, hit), pa.array(at[hit])
        table = pa.table({"group_code": cas["group"], "reason_code": cas["reason"], "amount": cas["amount"],
                          "quantity": cas["qty"], **{k: v.take(at) for k, v in loop_columns.items()}})
        for f in OTHER_PAYER_ADJUSTMENTS:
            if f.name not in table.column_names:
                table = table.append_column(f.name, pa.nulls(len(table), f.type))
        return table.select(OTHER_PAYER_ADJUSTMENTS.names).cast(OTHER_PAYER_ADJUSTMENTS)

    def _batch(self, P, identity, transactions, claims, diagnoses, lines, cob=None) -> ClaimBatch:
        files, issues = self._files_and_issues()
        self._forget_hl()
        return ClaimBatch(tables={
            "files": files, "transactions": transactions, "claims": claims,
            "diagnoses": diagnoses, "lines": lines, "read_issues": issues, **(cob or {})})

    def _forget_hl(self) -> None:
        """Drop HL and ST pieces no later claim can point at: a later claim's billing,
        subscriber and patient HL are at or after the last of each seen so far (or the held
        claim's), and its transaction is the open one."""
        last = self.state.last
        held = self.parts.get("clm", {"billing": pa.int64(), "subscriber": pa.int64(), "patient": pa.int64()})
        refs = [last["HL20"], last["HL22"], last["HL23"]]
        for col in ("billing", "subscriber", "patient"):
            refs += held[col].to_numpy().tolist()
        refs = [r for r in refs if r > 0]
        self.parts.drop_before(_HL_PARTS, min(refs) if refs else 0)
        open_st = self.walker.st if self.walker else None
        self.parts.drop_before(_ST_PARTS, open_st["index"] if open_st is not None else self.last_index + 1)


#: pieces keyed by a claim's CLM or a line anchor (moved into the batch that emits the claim)
_CLAIM_PARTS = ("clm", "clm_ref", "clm_dtp", "clm_nte", "clm_nm1", "hi", "hi_bad", "line", "sv",
                "line_dtp", "line_ref", "line_nte", "lin", "ctp", "line_nm1",
                "cob_sbr", "cob_amt", "cob_oi", "cob_cas", "cob_nm1", "cob_dtp", "svd", "svd_cas", "svd_dtp", "svd_amt")
_HL_PARTS = ("hl_at", "hl_nm1", "hl_n3", "hl_n4", "hl_ref", "hl_dmg", "hl_sbr", "hl_pat", "hl_prv")
_ST_PARTS = ("bht", "header_nm1")


def _find(sorted_keys: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of each of ``keys`` in ``sorted_keys``, and whether it is there (a row whose
    claim or line was not loaded has no position)."""
    if len(sorted_keys) == 0:
        return np.zeros(len(keys), dtype=np.int64), np.zeros(len(keys), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return pos, sorted_keys[pos] == keys


def iter_837(path: str | Path | bytes, *, on_issue=None, block_size: int | None = None) -> Iterator[ClaimBatch]:
    """Stream an 837 as one :class:`ClaimBatch` per block (memory stays flat as the file grows).
    Concatenated, the batches are what :func:`read_837` returns; a claim is never split."""
    return Reader837(path, block_size=block_size, on_issue=on_issue).batches()


def read_837(path: str | Path | bytes, *, on_issue=None, block_size: int | None = None) -> ClaimBatch:
    return ClaimBatch.concat(list(iter_837(path, on_issue=on_issue, block_size=block_size)))
