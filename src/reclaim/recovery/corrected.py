"""Corrected claims for the worklist items whose action is ``corrected_claim``.

Each submitted claim is written again as a replacement (CLM05-3 = 7) with REF*F8 = the payer's
claim control number from the 835 (CLP07), keeping CLM01 (domain-facts 10.4: [X12-RFI1538]
[X12-RFI1945]), in the format it was read in and from its own source file: an 837 claim's
segments are copied and patched (its envelope, so its payer's receiver, kept: claims for two
payers go into two interchanges), a CSV or Excel claim's rows are copied with every column
(``reclaim.edits.fix.write_fixed``). The edit catalog's mechanical fixes for those claims (add
JZ, set the NDC, swap a NOC code...) are applied first (:func:`reclaim.edits.fix.apply_fixes`);
the changes are returned so the biller sees them. Medicare Part B clerical errors go through a
reopening instead (domain-facts 10.2), so items whose action is ``reopening`` get a letter, not
a replacement claim.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc


def write_corrected_claims(result, out: str | Path, *, sender=None, receiver=None, usage=None) -> dict:
    """Write the replacement claims next to ``out`` (``corrected-claims.837``: 837 claims there;
    claims read from a CSV or Excel export as ``corrected-claims.csv`` / ``.xlsx``, one per
    export, named after it when there are several). Returns {path (the first file, None when no
    item needs one), paths, claims, changes}. ``sender``/``receiver``/``usage``: explicit envelope
    overrides from the settings (``writer.envelope_from_settings``); unset, each 837 claim keeps
    the envelope it came with."""
    from ..edits.fix import SUFFIXES, write_fixed
    from ..errors import ReclaimError

    items = result.items
    mask = pc.and_(pc.equal(items["action"], "corrected_claim"), pc.invert(pc.is_null(items["claim_id"])))
    wanted = items.filter(mask).select(["claim_id", "payer_claim_control_number"]).to_pylist()
    originals = {r["claim_id"]: r["payer_claim_control_number"] for r in wanted if r["payer_claim_control_number"]}
    if not originals or result.claims is None:
        return {"path": None, "paths": [], "claims": 0, "changes": pa.table({})}
    batch = result.claims
    changes = pa.table({})
    if result.findings is not None and result.findings.num_rows:
        from ..edits.fix import apply_fixes

        findings = result.findings.filter(pc.is_in(result.findings["claim_id"], value_set=pa.array(list(originals))))
        batch, changes = apply_fixes(batch, findings)
    claims = batch["claims"].filter(pc.is_in(batch["claims"]["claim_id"], value_set=pa.array(sorted(originals))))
    formats = dict(zip(batch["files"]["file_id"].to_pylist(), batch["files"]["format"].to_pylist()))
    paths_of = dict(zip(batch["files"]["file_id"].to_pylist(), batch["files"]["path"].to_pylist()))
    # one output per 837 set (every 837 claim in one file, an interchange per envelope) and per export
    outputs: dict[str, list[str]] = {}
    for claim_id, file_id in zip(claims["claim_id"].to_pylist(), claims["file_id"].to_pylist()):
        key = "x12" if formats.get(file_id) == "x12" else file_id
        outputs.setdefault(key, []).append(claim_id)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    exports = [k for k in outputs if k != "x12"]
    written, notes, n_written = [], [], 0
    for key, ids in outputs.items():
        fmt = "x12" if key == "x12" else formats.get(key)
        if fmt not in SUFFIXES:
            notes.append(f"{len(ids)} claim(s) read from {fmt} files: corrected {fmt} files are not written yet")
            continue
        if key == "x12":
            path = out.with_suffix(".837")
        else:
            stem = out.stem if len(exports) == 1 else f"{out.stem}-{Path(paths_of.get(key) or key).stem}"
            path = out.with_name(stem + SUFFIXES[fmt][0])
        try:
            write_fixed(batch, path, claim_ids=ids, frequency="7", original_claim_numbers=originals,
                        sender=sender, receiver=receiver, usage=usage)
        except ReclaimError as exc:  # one source's problem does not stop the others'
            notes.append(f"{len(ids)} claim(s) not written to {path.name}: {exc}")
            continue
        written.append(str(path))
        n_written += len(ids)
    if not written and notes:
        raise ReclaimError("; ".join(notes))
    return {"path": written[0] if written else None, "paths": written,
            "claims": n_written, "changes": changes, "notes": notes}
