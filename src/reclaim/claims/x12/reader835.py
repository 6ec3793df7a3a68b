"""835 reader (005010X221A1) -> :class:`RemitBatch`, with the TR3 balancing checks.

Same columnar design as the 837 reader: forward-filled segment numbers of the last ST, SE,
N1 (with N101), LX, CLP, SVC and PLB give every segment its loop:

* header (1000A/1000B): after ST, before the first CLP: BPR, TRN, DTM*405, N1*PR / N1*PE and
  their N3/N4/REF/PER;
* 2100 claim payment: after a CLP and before its first SVC: CAS, NM1, MIA, MOA, DTM, REF, AMT;
* 2110 service payment: after an SVC: DTM, CAS, REF, AMT, QTY, LQ;
* PLB: provider adjustments, after the last claim.

LX/TS3/TS2 (header numbers and provider summaries) end the current claim and are otherwise
ignored. Balancing (reported as ``read_issues`` warnings, never exceptions):

* line:        SVC02 - sum(line CAS) = SVC03
* claim:       CLP03 - sum(claim CAS + line CAS) = CLP04
* transaction: sum(CLP04) - sum(PLB amounts) = BPR02 (negated when BPR03 = D, a debit)

Reversals (CLP02 = 22) carry negative amounts and balance with the same formulas.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...errors import InputFormatError
from ..model import (ADJUSTMENTS, MONEY, PAYMENTS, PROVIDER_ADJUSTMENTS, QUANTITY, REMARKS, REMIT_CLAIMS,
                     REMIT_LINES, TRANSACTIONS, RemitBatch)
from ._columns import Typed, ffill, ffill_position, first_per_key, first_with, keep_rows, rank_within
from .envelope import envelope_columns, transaction_type
from .ids import transaction_ids
from ._stream import StreamingReader
from .tokenizer import SEGMENT_CODE, components, pick

C = SEGMENT_CODE
N1_QUALIFIERS = ["PR", "PE"]
_NULL = pa.scalar(None, pa.string())


class _State:
    def __init__(self) -> None:
        self.last = {k: 0 for k in ("ST", "SE", "N1", "LX", "CLP", "SVC", "PLB")}
        self.n1q = -1


class Reader835(StreamingReader):
    State = _State

    def __init__(self, source, *, block_size=None, on_issue=None):
        super().__init__(source, block_size=block_size, on_issue=on_issue)
        self.claims_emitted = np.zeros(0, dtype=np.int64)  # per transaction, for the claim ordinal
        self.paid_cents = np.zeros(0, dtype=np.int64)  # per transaction: sum of CLP04 emitted so far

    # ------------------------------------------------------------------ per block
    def _block(self, b) -> None:
        st, P, T = self.state, self.parts, Typed(b, self.issues)
        sid, idx, n = b.sid, b.index, len(b)
        if n == 0:
            return
        el, els = b.element, b.elements
        masks = {s: sid == C[s] for s in ("ST", "SE", "N1", "LX", "CLP", "SVC", "PLB")}
        last = {}
        for name, mask in masks.items():
            last[name], st.last[name] = ffill_position(mask, idx, st.last[name])
        n1_rows = np.flatnonzero(masks["N1"])
        q = np.full(n, -1, dtype=np.int16)
        q[n1_rows] = pc.index_in(el(n1_rows, 1), value_set=pa.array(N1_QUALIFIERS)).fill_null(-1).to_numpy(
            zero_copy_only=False)
        n1q, st.n1q = ffill(masks["N1"], q, st.n1q)

        in_txn = last["ST"] > last["SE"]
        in_claim = in_txn & (last["CLP"] > np.maximum(np.maximum(last["ST"], last["LX"]), last["PLB"]))
        in_header = in_txn & (last["CLP"] < last["ST"]) & (last["LX"] < last["ST"]) & (last["PLB"] < last["ST"])
        in_2100 = in_claim & (last["SVC"] < last["CLP"])
        in_2110 = in_claim & (last["SVC"] > last["CLP"])

        def rows(seg, mask):
            r = b.rows(seg)
            return r[mask[r]]

        self._segment_problems(b, in_txn)

        # header
        r = rows("BPR", in_header)
        P.add("bpr", last["ST"][r], handling=el(r, 1), amount=T.money(el(r, 2), r, "BPR02", "HEADER"),
              credit_debit=el(r, 3), method=el(r, 4), date=T.date_at(r, 16, "BPR16", "HEADER"))
        r = rows("TRN", in_header)
        P.add("trn", last["ST"][r], trace=el(r, 2), payer_tax=el(r, 3))
        r = rows("DTM", in_header & (last["N1"] < last["ST"]))
        r = r[pc.fill_null(pc.equal(el(r, 1), "405"), False).to_numpy(zero_copy_only=False)]
        P.add("dtm405", last["ST"][r], date=T.date_at(r, 2, "DTM02", "HEADER"))
        r = rows("N1", in_header)
        P.add("n1", last["ST"][r], q=q[r], name=el(r, 2), id_qual=el(r, 3), id=el(r, 4))
        r = rows("REF", in_header & (last["N1"] > last["ST"]) & (n1q == 0))
        P.add("payer_ref", last["ST"][r], q=el(r, 1), value=el(r, 2))
        payer_loop = in_header & (last["N1"] > last["ST"]) & (n1q == 0)  # 1000A, after N1*PR
        r = rows("N3", payer_loop)
        P.add("payer_n3", last["ST"][r], a1=el(r, 1), a2=el(r, 2))
        r = rows("N4", payer_loop)
        P.add("payer_n4", last["ST"][r], city=el(r, 1), state=el(r, 2), zip=el(r, 3))
        r = rows("PER", payer_loop)
        p1, p2, q3, v4, q5, v6, q7, v8 = els(r, range(1, 9))
        contact = {}
        for want, name in (("TE", "phone"), ("EM", "email")):
            contact[name] = pc.if_else(pc.equal(q3, want), v4, pc.if_else(pc.equal(q5, want), v6,
                                       pc.if_else(pc.equal(q7, want), v8, _NULL)))
        # the claims contact (CX) sorts first: letters go to its attention
        P.add("payer_per", last["ST"][r], rank=pc.if_else(pc.equal(p1, "CX"), 0, 1).fill_null(1).to_numpy(
              zero_copy_only=False) * 10_000_000_000 + idx[r], fn=p1, name=p2, **contact)

        # 2100 claim payment
        r = rows("CLP", in_txn)
        c1, c2, c3, c4, c5, c6, c7, c8, c9 = els(r, range(1, 10))
        P.add("clp", idx[r], txn=last["ST"][r], offset=b.offset[r], pcn=c1, status=c2,
              charge=T.money(c3, r, "CLP03", "2100"), paid=T.money(c4, r, "CLP04", "2100"),
              patient_resp=T.money(c5, r, "CLP05", "2100"), filing=c6, icn=c7, facility=c8, freq=c9)
        self._cas(b, T, rows("CAS", in_2100), last["CLP"], None, "2100")
        r = rows("NM1", in_2100)
        q1, n3, n4, n9 = els(r, (1, 3, 4, 9))
        P.add("clp_nm1", last["CLP"][r], q=q1, last=n3, first=n4, id=n9)
        r = rows("DTM", in_2100)
        P.add("clp_dtm", last["CLP"][r], q=el(r, 1), date=T.date_at(r, 2, "DTM02", "2100"))
        r = rows("AMT", in_2100)
        q1, a2 = els(r, (1, 2))
        P.add("clp_amt", last["CLP"][r], q=q1, amount=T.money(a2, r, "AMT02", "2100"))
        for seg, elements in (("MOA", (3, 4, 5, 6, 7)), ("MIA", (5, 20, 21, 22, 23))):
            r = rows(seg, in_2100)
            for k, code in zip(elements, els(r, elements)):
                has = code.is_valid().to_numpy(zero_copy_only=False)
                rr = r[has]
                P.add("remark", last["CLP"][rr], line=np.zeros(len(rr), dtype=np.int64), seq=idx[rr] * 100 + k,
                      source=pa.repeat(pa.scalar(seg), len(rr)), code=keep_rows(code, has),
                      qualifier=pa.nulls(len(rr), pa.string()))

        # 2110 service payment
        r = rows("SVC", in_claim)
        s1, s2, s3, s4, s5, s7 = els(r, (1, 2, 3, 4, 5, 7))
        T.composite(s1, r, "SVC01", "2110")
        qual, code, m1, m2, m3, m4 = components(s1, b.delimiters.component, range(6))
        ocode, om1, om2, om3, om4 = b.components(r, 6, range(1, 6))
        P.add("svc", idx[r], claim=last["CLP"][r], offset=b.offset[r], qual=qual, code=code,
              m1=m1, m2=m2, m3=m3, m4=m4,
              charge=T.money(s2, r, "SVC02", "2110"), paid=T.money(s3, r, "SVC03", "2110"),
              revenue=s4, units=T.quantity(pc.fill_null(s5, "1"), r, "SVC05", "2110"),
              ocode=ocode, om1=om1, om2=om2, om3=om3, om4=om4,
              ounits=T.quantity(s7, r, "SVC07", "2110"))
        stray = rows("SVC", ~in_claim & in_txn)
        if len(stray):
            self.issues.add("X12-LINE-OUTSIDE-CLAIM", "SVC outside a claim payment (no CLP before it)",
                            segment_index=idx[stray], byte_offset=b.offset[stray], loop="2110", segment_id="SVC",
                            skipped="line")
        self._cas(b, T, rows("CAS", in_2110), last["CLP"], last["SVC"], "2110")
        r = rows("DTM", in_2110)
        P.add("svc_dtm", last["SVC"][r], q=el(r, 1), date=T.date_at(r, 2, "DTM02", "2110"))
        r = rows("REF", in_2110)
        q1, v2 = els(r, (1, 2))
        P.add("svc_ref", last["SVC"][r], q=q1, value=v2)
        r = rows("AMT", in_2110)
        q1, a2 = els(r, (1, 2))
        P.add("svc_amt", last["SVC"][r], q=q1, amount=T.money(a2, r, "AMT02", "2110"))
        r = rows("LQ", in_2110)
        q1, v2 = els(r, (1, 2))
        P.add("remark", last["CLP"][r], line=last["SVC"][r], seq=idx[r] * 100,
              source=pa.repeat(pa.scalar("LQ"), len(r)), code=v2, qualifier=q1)

        # PLB provider adjustments
        r = rows("PLB", in_txn)
        for pair in range(6):
            reason_k, amount_k = 3 + 2 * pair, 4 + 2 * pair
            composite = el(r, reason_k)
            has = composite.is_valid().to_numpy(zero_copy_only=False)
            rr = r[has]
            comp = pc.split_pattern(keep_rows(composite, has), b.delimiters.component)
            P.add("plb", last["ST"][rr], seq=idx[rr] * 10 + pair, provider=el(rr, 1),
                  date=T.date(el(rr, 2), rr, "PLB02", "PLB"), reason=pick(comp, 0), reference=pick(comp, 1),
                  amount=T.money(el(rr, amount_k), rr, f"PLB{amount_k:02d}", "PLB"))

    def _cas(self, b, T, r, claim_key, line_key, loop) -> None:
        """CAS: group + up to 6 (reason, amount, quantity) triplets -> one row per triplet."""
        if len(r) == 0:
            return
        values = b.elements(r, range(1, 20))  # CAS01, then 6 x (reason, amount, quantity)
        group = values[0]
        for t in range(6):
            rk, ak, qk = 2 + 3 * t, 3 + 3 * t, 4 + 3 * t
            reason = values[rk - 1]
            has = reason.is_valid().to_numpy(zero_copy_only=False)
            if not has.any():
                continue
            rr = r[has]
            self.parts.add("cas", claim_key[rr], line=(line_key[rr] if line_key is not None
                                                       else np.zeros(len(rr), dtype=np.int64)),
                           seq=b.index[rr] * 10 + t, group=keep_rows(group, has),
                           reason=keep_rows(reason, has),
                           amount=T.money(keep_rows(values[ak - 1], has), rr, f"CAS{ak:02d}", loop),
                           quantity=T.quantity(keep_rows(values[qk - 1], has), rr, f"CAS{qk:02d}", loop),
                           offset=b.offset[rr])

    # ------------------------------------------------------------------ assembly
    def _emit(self, final: bool) -> RemitBatch:
        """The batch of what is complete: claim payments before the last CLP (or all once its
        transaction is closed), and the transactions closed so far (payment, PLB, balance)."""
        tk = self.tokenizer
        path = self._name()
        identity = self.identity
        file_id = identity["file_id"]
        for d in tk.issues[self.tk_issues_done:]:
            self.issues.add_dict(d)
        self.tk_issues_done = len(tk.issues)
        all_txns = self.walker.transactions if self.walker else []
        if final and all_txns and all(t["type"] != "835" for t in all_txns):
            kinds = sorted({str(t["ST01"]) for t in all_txns})
            raise InputFormatError(f"{path}: holds {', '.join(kinds)} transactions, not 835 remittances"
                                   + ("; read it as claims (837)" if "837" in kinds else ""))
        for t in all_txns[len(self.tids):]:
            t["type"] = transaction_type(t["ST01"], t["version"])
            if t["type"] != "835":
                self.issues.add("X12-WRONG-TRANSACTION", f"transaction set {t['ST01']} is not an 835; skipped",
                                segment_index=t["index"], byte_offset=t["offset"], segment_id="ST", loop="ST",
                                skipped="transaction")
        self.tids += transaction_ids(file_id, all_txns[len(self.tids):], self.issues, self.tid_seen)
        grow = len(all_txns) - len(self.claims_emitted)
        self.claims_emitted = np.concatenate([self.claims_emitted, np.zeros(grow, np.int64)])
        self.paid_cents = np.concatenate([self.paid_cents, np.zeros(grow, np.int64)])
        open_st = self.walker.st if (self.walker and not final) else None
        n_closed = len(all_txns) - (1 if open_st is not None else 0)
        last_clp = self.state.last["CLP"]
        cut = last_clp if (open_st is not None and open_st["index"] < last_clp) else self.last_index + 1
        P = self.parts.split(_CLAIM_PARTS, cut)
        # transaction-level pieces (keyed by ST) go out with their closed transaction
        P.pieces.update(self.parts.split(_ST_PARTS, all_txns[n_closed]["index"] if n_closed < len(all_txns)
                                         else self.last_index + 1).pieces)
        closed = slice(self.txn_done, n_closed)
        self.txn_done = n_closed
        txns = all_txns
        is835_all = np.array([t["type"] == "835" for t in txns], dtype=bool)
        st_all = np.array([t["index"] for t in txns], dtype=np.int64)
        tid_all = pa.array(self.tids, pa.string())
        # the transaction-level tables cover the transactions closed since the last batch
        emitted = txns[closed]
        is835 = is835_all[closed]
        st_index = st_all[closed]
        txns = emitted
        tid_emitted = tid_all[closed]
        fid = pa.repeat(pa.scalar(file_id, pa.string()), len(txns))

        transactions = pa.table({
            "transaction_id": tid_emitted, "file_id": fid,
            **envelope_columns(txns),
            "created": pa.array([t["GS04"] for t in txns], pa.date32()),
            "submitter_name": pa.nulls(len(txns), pa.string()), "submitter_id": pa.nulls(len(txns), pa.string()),
            "receiver_name": pa.nulls(len(txns), pa.string()),
        }).select(TRANSACTIONS.names).cast(TRANSACTIONS).filter(pa.array(is835))

        bpr = first_per_key(P.get("bpr", {"handling": pa.string(), "amount": MONEY, "credit_debit": pa.string(),
                                          "method": pa.string(), "date": pa.date32()}), st_index)
        trn = first_per_key(P.get("trn", {"trace": pa.string(), "payer_tax": pa.string()}), st_index)
        dtm = first_per_key(P.get("dtm405", {"date": pa.date32()}), st_index)
        n1 = P.lookup("n1", {"q": pa.int16(), "name": pa.string(), "id_qual": pa.string(), "id": pa.string()})
        pr = first_with(n1, "q", 0, st_index)
        pe = first_with(n1, "q", 1, st_index)
        pref = P.get("payer_ref", {"q": pa.string(), "value": pa.string()})
        n3 = first_per_key(P.get("payer_n3", {"a1": pa.string(), "a2": pa.string()}), st_index)
        n4 = first_per_key(P.get("payer_n4", {"city": pa.string(), "state": pa.string(), "zip": pa.string()}), st_index)
        per = _preferred_contact(P.get("payer_per", {"rank": pa.int64(), "fn": pa.string(), "name": pa.string(),
                                                     "phone": pa.string(), "email": pa.string()}), st_index)
        ref2u = first_with(pref, "q", "2U", st_index)
        payments = pa.table({
            "transaction_id": tid_emitted, "file_id": fid, "handling_code": bpr["handling"],
            "payment_amount": bpr["amount"], "credit_debit": bpr["credit_debit"], "payment_method": bpr["method"],
            "payment_date": bpr["date"], "trace_number": trn["trace"], "payer_tax_id": trn["payer_tax"],
            "production_date": dtm["date"], "payer_name": pr["name"],
            "payer_id": pc.coalesce(pr["id"], ref2u["value"]), "payee_name": pe["name"],
            "payee_id_qualifier": pe["id_qual"], "payee_id": pe["id"],
            "payer_address_1": n3["a1"], "payer_address_2": n3["a2"], "payer_city": n4["city"],
            "payer_state": n4["state"], "payer_zip": n4["zip"], "payer_contact_function": per["fn"],
            "payer_contact_name": per["name"], "payer_contact_phone": per["phone"], "payer_contact_email": per["email"],
        }).cast(PAYMENTS).filter(pa.array(is835))
        missing_bpr = np.flatnonzero(is835 & bpr["amount"].is_null().to_numpy(zero_copy_only=False))
        for i in missing_bpr:
            self.issues.add("X12-MISSING-SEGMENT", "835 transaction without a valid BPR (payment amount unknown)",
                            segment_index=int(st_index[i]), byte_offset=txns[i]["offset"], segment_id="BPR",
                            loop="HEADER", column="BPR02")

        # claims
        clp = P.get("clp", {"txn": pa.int64(), "offset": pa.int64(), "pcn": pa.string(), "status": pa.string(),
                            "charge": MONEY, "paid": MONEY, "patient_resp": MONEY, "filing": pa.string(),
                            "icn": pa.string(), "facility": pa.string(), "freq": pa.string()})
        ckey, ctxn = clp["key"].to_numpy(), clp["txn"].to_numpy()
        tpos = np.searchsorted(st_all, ctxn) if len(st_all) else np.zeros(len(ckey), dtype=np.int64)
        truncated = np.array([t["truncated"] for t in all_txns], dtype=bool)
        is_last = np.ones(len(ckey), dtype=bool)
        if len(ckey):
            is_last[:-1] = ctxn[1:] != ctxn[:-1]
        drop = (truncated[tpos] & is_last) if len(ckey) else np.zeros(0, bool)
        for i in np.flatnonzero(drop):
            self.issues.add("X12-CLAIM-INCOMPLETE", "last claim payment of a transaction that has no SE: it may be "
                            "cut short, so it is not loaded", segment_index=int(ckey[i]),
                            byte_offset=int(clp["offset"][i].as_py()), loop="2100", segment_id="CLP",
                            claim_key=clp["pcn"][i].as_py(), skipped="claim")
        keep = (is835_all[tpos] & ~drop) if len(ckey) else np.zeros(0, bool)
        clp = keep_rows(clp, keep)
        ckey, ctxn, tpos = ckey[keep], ctxn[keep], tpos[keep]
        ctid = tid_all.take(pa.array(tpos, pa.int64()))
        # claim ordinal within its transaction, counting claims emitted in earlier batches
        ordinal = rank_within(ctxn) + self.claims_emitted[tpos]
        np.add.at(self.claims_emitted, tpos, 1)
        remit_claim_id = pc.binary_join_element_wise(ctid, pa.array(ordinal).cast(pa.string()), ":")
        nm1 = P.lookup("clp_nm1", {"q": pa.string(), "last": pa.string(), "first": pa.string(), "id": pa.string()})
        qc = first_with(nm1, "q", "QC", ckey)
        rend = first_with(nm1, "q", "82", ckey)
        cdtm = P.lookup("clp_dtm", {"q": pa.string(), "date": pa.date32()})
        cdate = {q: first_with(cdtm, "q", q, ckey, take="date") for q in ("232", "233", "050")}
        camt = P.lookup("clp_amt", {"q": pa.string(), "amount": MONEY})
        amount = {q: first_with(camt, "q", q, ckey, take="amount") for q in ("AU", "I")}
        remit_claims = pa.table({
            "remit_claim_id": remit_claim_id, "transaction_id": ctid,
            "file_id": pa.repeat(pa.scalar(file_id, pa.string()), len(clp)),
            "patient_control_number": clp["pcn"], "claim_status": clp["status"], "total_charge": clp["charge"],
            "paid": clp["paid"], "patient_responsibility": clp["patient_resp"],
            "claim_filing_indicator": clp["filing"], "payer_claim_control_number": clp["icn"],
            "facility_code": clp["facility"], "frequency_code": clp["freq"], "patient_id": qc["id"],
            "patient_last_name": qc["last"], "patient_first_name": qc["first"], "rendering_npi": rend["id"],
            "statement_from": cdate["232"], "statement_to": cdate["233"], "received_date": cdate["050"],
            "coverage_amount": amount["AU"], "interest_amount": amount["I"],
        }).cast(REMIT_CLAIMS)

        # lines
        svc = P.get("svc", {})
        if len(svc):
            sclaim = svc["claim"].to_numpy()
            cpos = np.minimum(np.searchsorted(ckey, sclaim), max(len(ckey) - 1, 0))
            hit = (ckey[cpos] == sclaim) if len(ckey) else np.zeros(len(sclaim), bool)
            svc, cpos = keep_rows(svc, hit), cpos[hit]
        else:
            cpos = np.zeros(0, dtype=np.int64)
        skey = svc["key"].to_numpy() if len(svc) else np.zeros(0, dtype=np.int64)
        line_index = rank_within(cpos)
        sdtm = P.lookup("svc_dtm", {"q": pa.string(), "date": pa.date32()})
        d472 = first_with(sdtm, "q", "472", skey, take="date")
        d150 = first_with(sdtm, "q", "150", skey, take="date")
        d151 = first_with(sdtm, "q", "151", skey, take="date")
        sref = P.lookup("svc_ref", {"q": pa.string(), "value": pa.string()})
        lref = {q: first_with(sref, "q", q, skey, take="value") for q in ("6R", "G1", "LU")}
        samt = P.get("svc_amt", {"q": pa.string(), "amount": MONEY})
        b6 = first_with(samt, "q", "B6", skey, take="amount")
        if len(svc):
            remit_lines = pa.table({
                "remit_claim_id": remit_claim_id.take(pa.array(cpos)), "line_index": pa.array(line_index, pa.int32()),
                "line_control_number": lref["6R"], "procedure_qualifier": svc["qual"], "procedure_code": svc["code"],
                "modifier_1": svc["m1"], "modifier_2": svc["m2"], "modifier_3": svc["m3"], "modifier_4": svc["m4"],
                "charge": svc["charge"], "paid": svc["paid"], "revenue_code": svc["revenue"],
                "units_paid": svc["units"], "original_procedure_code": svc["ocode"],
                "original_modifier_1": svc["om1"], "original_modifier_2": svc["om2"],
                "original_modifier_3": svc["om3"], "original_modifier_4": svc["om4"],
                "original_units": svc["ounits"], "service_date": pc.coalesce(d472, d150), "service_date_to": d151,
                "allowed_amount": b6, "prior_auth_number": lref["G1"], "location_number": lref["LU"],
            }).cast(REMIT_LINES)
            no_code = np.flatnonzero(svc["code"].is_null().to_numpy(zero_copy_only=False)
                                     & svc["qual"].is_valid().to_numpy(zero_copy_only=False))
            if len(no_code):
                self.issues.add("X12-MISSING-ELEMENT", "SVC01-2 procedure code missing: expected qualifier"
                                f"{tk.delimiters.component}code in SVC01", segment_index=skey[no_code],
                                byte_offset=svc["offset"].to_numpy()[no_code], loop="2110", segment_id="SVC",
                                column="SVC01-2", claim_key=clp["pcn"].take(pa.array(cpos[no_code])))
        else:
            remit_lines = REMIT_LINES.empty_table()

        adjustments, cas = self._adjustments(P, ckey, skey, cpos, line_index, remit_claim_id)
        remarks = self._remarks(P, ckey, skey, line_index, remit_claim_id)
        plb = P.get("plb", {"seq": pa.int64(), "provider": pa.string(), "date": pa.date32(), "reason": pa.string(),
                            "reference": pa.string(), "amount": MONEY})
        plb = plb.sort_by([("seq", "ascending")]) if len(plb) else plb
        ppos = np.searchsorted(st_index, plb["key"].to_numpy()) if len(plb) else np.zeros(0, dtype=np.int64)
        pkeep = is835[ppos] if len(plb) else np.zeros(0, bool)
        plb, ppos = keep_rows(plb, pkeep), ppos[pkeep]
        provider_adjustments = pa.table({
            "transaction_id": tid_emitted.take(pa.array(ppos, pa.int64())),
            "file_id": pa.repeat(pa.scalar(file_id, pa.string()), len(plb)), "provider_id": plb["provider"],
            "fiscal_period_date": plb["date"], "reason_code": plb["reason"], "reference": plb["reference"],
            "amount": plb["amount"],
        }).cast(PROVIDER_ADJUSTMENTS)

        self._balance(clp, ckey, ctxn, svc, skey, cpos, cas, plb, ppos, bpr, st_index, is835, st_all)
        files, issues = self._files_and_issues()
        return RemitBatch(tables={
            "files": files, "transactions": transactions, "payments": payments,
            "remit_claims": remit_claims, "remit_lines": remit_lines, "adjustments": adjustments,
            "remarks": remarks, "provider_adjustments": provider_adjustments, "read_issues": issues})

    def _adjustments(self, P, ckey, skey, cpos_lines, line_index, remit_claim_id):
        cas = P.get("cas", {"line": pa.int64(), "seq": pa.int64(), "group": pa.string(),
                                     "reason": pa.string(), "amount": MONEY, "quantity": QUANTITY,
                                     "offset": pa.int64()})
        if len(cas) == 0 or len(ckey) == 0:
            return ADJUSTMENTS.empty_table(), cas.slice(0, 0).append_column("claim_pos", pa.array([], pa.int64()))
        cas = cas.sort_by([("seq", "ascending")])
        k = cas["key"].to_numpy()
        pos = np.minimum(np.searchsorted(ckey, k), len(ckey) - 1)
        hit = ckey[pos] == k
        cas, pos = keep_rows(cas, hit), pos[hit]
        line = cas["line"].to_numpy()
        lpos = np.minimum(np.searchsorted(skey, line), max(len(skey) - 1, 0)) if len(skey) else np.zeros(len(line), int)
        is_line = line > 0
        lidx = np.where(is_line & (len(skey) > 0), line_index[lpos] if len(skey) else 0, 0)
        table = pa.table({
            "remit_claim_id": remit_claim_id.take(pa.array(pos)),
            "line_index": pa.array(lidx.astype(np.int32), mask=~is_line),
            "group_code": cas["group"], "reason_code": cas["reason"], "amount": cas["amount"],
            "quantity": cas["quantity"],
        }).cast(ADJUSTMENTS)
        return table, cas.append_column("claim_pos", pa.array(pos))

    def _remarks(self, P, ckey, skey, line_index, remit_claim_id):
        rem = P.get("remark", {"line": pa.int64(), "seq": pa.int64(), "source": pa.string(),
                                        "code": pa.string(), "qualifier": pa.string()})
        if len(rem) == 0 or len(ckey) == 0:
            return REMARKS.empty_table()
        rem = rem.sort_by([("seq", "ascending")])
        k = rem["key"].to_numpy()
        pos = np.minimum(np.searchsorted(ckey, k), len(ckey) - 1)
        hit = ckey[pos] == k
        rem, pos = keep_rows(rem, hit), pos[hit]
        line = rem["line"].to_numpy()
        is_line = line > 0
        if len(skey):
            lpos = np.minimum(np.searchsorted(skey, line), len(skey) - 1)
            lidx = np.where(is_line, line_index[lpos], 0)
        else:
            lidx = np.zeros(len(line), dtype=np.int64)
        return pa.table({
            "remit_claim_id": remit_claim_id.take(pa.array(pos)),
            "line_index": pa.array(lidx.astype(np.int32), mask=~is_line),
            "source": rem["source"], "code": rem["code"], "qualifier": rem["qualifier"],
        }).cast(REMARKS)

    def _balance(self, clp, ckey, ctxn, svc, skey, cpos, cas, plb, ppos, bpr, st_index, is835, st_all) -> None:
        """TR3 balancing in integer cents; every failure is a warning naming the segment."""
        def cents(a):
            return np.rint(pc.fill_null(a.cast(pa.float64()), 0.0).to_numpy(zero_copy_only=False) * 100).astype(np.int64)

        cas_amt = cents(cas["amount"]) if len(cas) else np.zeros(0, np.int64)
        cas_claim = cas["claim_pos"].to_numpy() if len(cas) else np.zeros(0, np.int64)
        cas_line = cas["line"].to_numpy() if len(cas) else np.zeros(0, np.int64)
        # line: SVC02 - sum(line CAS) = SVC03
        if len(svc):
            lpos = np.searchsorted(skey, cas_line[cas_line > 0])
            line_cas = np.bincount(lpos, weights=cas_amt[cas_line > 0], minlength=len(skey)).astype(np.int64)
            known = (svc["charge"].is_valid().to_numpy(zero_copy_only=False)
                     & svc["paid"].is_valid().to_numpy(zero_copy_only=False))
            diff = cents(svc["charge"]) - line_cas - cents(svc["paid"])
            bad = np.flatnonzero(known & (diff != 0))
            if len(bad):
                self.issues.add("X12-BALANCE-LINE", pc.binary_join_element_wise(
                    pa.scalar("SVC02 - line CAS amounts != SVC03 (off by "),
                    pa.array([f"{d / 100:.2f}" for d in diff[bad]]), pa.scalar(")"), ""),
                    severity="warning", segment_index=skey[bad], byte_offset=svc["offset"].to_numpy()[bad],
                    loop="2110", segment_id="SVC", column="SVC03",
                    claim_key=clp["pcn"].take(pa.array(cpos[bad])))
        # claim: CLP03 - sum(all CAS) = CLP04
        if len(clp):
            claim_cas = np.bincount(cas_claim, weights=cas_amt, minlength=len(ckey)).astype(np.int64)
            known = (clp["charge"].is_valid().to_numpy(zero_copy_only=False)
                     & clp["paid"].is_valid().to_numpy(zero_copy_only=False))
            diff = cents(clp["charge"]) - claim_cas - cents(clp["paid"])
            bad = np.flatnonzero(known & (diff != 0))
            if len(bad):
                self.issues.add("X12-BALANCE-CLAIM", pc.binary_join_element_wise(
                    pa.scalar("CLP03 - claim and line CAS amounts != CLP04 (off by "),
                    pa.array([f"{d / 100:.2f}" for d in diff[bad]]), pa.scalar(")"), ""),
                    severity="warning", segment_index=ckey[bad], byte_offset=clp["offset"].to_numpy()[bad],
                    loop="2100", segment_id="CLP", column="CLP04", claim_key=clp["pcn"].take(pa.array(bad)))
        # transaction: sum(CLP04) - sum(PLB) = BPR02 (a debit is negative)
        # CLP04 sums carry over batches; the check runs on the transactions closed in this one
        tpos_claims = np.searchsorted(st_all, ctxn) if len(ctxn) else np.zeros(0, np.int64)
        self.paid_cents += np.bincount(tpos_claims, weights=cents(clp["paid"]) if len(clp) else None,
                                       minlength=len(st_all)).astype(np.int64)
        first = self.txn_done - len(st_index)  # st_index: the transactions closed in this batch
        paid = self.paid_cents[first:first + len(st_index)]
        plb_sum = np.bincount(ppos, weights=cents(plb["amount"]) if len(plb) else None,
                              minlength=len(st_index)).astype(np.int64)
        bpr_amt = cents(bpr["amount"])
        debit = pc.fill_null(pc.equal(bpr["credit_debit"], "D"), False).to_numpy(zero_copy_only=False)
        expected = np.where(debit, -bpr_amt, bpr_amt)
        known = bpr["amount"].is_valid().to_numpy(zero_copy_only=False)
        diff = paid - plb_sum - expected
        for i in np.flatnonzero(is835 & known & (diff != 0)):
            self.issues.add("X12-BALANCE-TRANSACTION",
                            f"sum of CLP04 - sum of PLB amounts != BPR02 (off by {diff[i] / 100:.2f})",
                            severity="warning", segment_index=int(st_index[i]), segment_id="BPR", loop="HEADER",
                            column="BPR02")


#: pieces keyed by a claim payment's CLP or an SVC (moved into the batch that emits the claim)
_CLAIM_PARTS = ("clp", "clp_nm1", "clp_dtm", "clp_amt", "cas", "remark", "svc", "svc_dtm", "svc_ref", "svc_amt")
#: pieces keyed by the transaction's ST (moved into the batch that closes the transaction)
_ST_PARTS = ("bpr", "trn", "dtm405", "n1", "payer_ref", "payer_n3", "payer_n4", "payer_per", "plb")


def iter_835(path: str | Path | bytes, *, on_issue=None, block_size: int | None = None) -> Iterator[RemitBatch]:
    """Stream an 835 as one :class:`RemitBatch` per block (memory stays flat as the file grows).
    Concatenated, the batches are what :func:`read_835` returns; a claim payment is never split."""
    return Reader835(path, block_size=block_size, on_issue=on_issue).batches()


def read_835(path: str | Path | bytes, *, on_issue=None, block_size: int | None = None) -> RemitBatch:
    return RemitBatch.concat(list(iter_835(path, on_issue=on_issue, block_size=block_size)))


def _preferred_contact(per: pa.Table, keys: np.ndarray) -> dict[str, pa.Array]:
    """Per transaction, the payer's claims contact (PER*CX) if it sent one, else its first PER."""
    if per.num_rows:
        per = per.combine_chunks()
        order = np.lexsort((per.column("rank").to_numpy(), per.column("key").to_numpy()))
        per = per.take(pa.array(order))
    return first_per_key(per, keys, columns=["fn", "name", "phone", "email"])
