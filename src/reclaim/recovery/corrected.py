"""Corrected claims for the worklist items whose action is ``corrected_claim``.

The submitted claim is written again through the 837 writer as a replacement (CLM05-3 = 7)
with REF*F8 = the payer's claim control number from the 835 (CLP07), keeping CLM01
(domain-facts 10.4: [X12-RFI1538] [X12-RFI1945]). The edit catalog's mechanical fixes for
those claims (add JZ, set the NDC, swap a NOC code...) are applied first
(:func:`reclaim.edits.fix.apply_fixes`); the changes are returned so the biller sees them.
Medicare Part B clerical errors go through a reopening instead (domain-facts 10.2), so items
whose action is ``reopening`` get a letter, not a replacement claim.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc


def write_corrected_claims(result, out: str | Path, *, sender=None, receiver=None, usage: str = "P") -> dict:
    """Write one 837 with the replacement claims; returns {path, claims, changes} (path None
    when no item needs one). ``sender``/``receiver``/``usage``: the envelope from the settings
    (``writer.envelope_from_settings``); sender or receiver None keeps the one the claims came with."""
    items = result.items
    mask = pc.and_(pc.equal(items["action"], "corrected_claim"), pc.invert(pc.is_null(items["claim_id"])))
    wanted = items.filter(mask).select(["claim_id", "payer_claim_control_number"]).to_pylist()
    originals = {r["claim_id"]: r["payer_claim_control_number"] for r in wanted if r["payer_claim_control_number"]}
    if not originals or result.claims is None:
        return {"path": None, "claims": 0, "changes": pa.table({})}
    from ..claims.x12.writer import write_837

    batch = result.claims
    changes = pa.table({})
    if result.findings is not None and result.findings.num_rows:
        from ..edits.fix import apply_fixes

        findings = result.findings.filter(pc.is_in(result.findings["claim_id"], value_set=pa.array(list(originals))))
        batch, changes = apply_fixes(batch, findings)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_837(batch, path, claim_ids=sorted(originals), frequency="7", original_claim_numbers=originals,
              sender=sender, receiver=receiver, usage=usage)
    return {"path": str(path), "claims": len(originals), "changes": changes}
