"""Full TR3 validation by pyx12 (for ``--validate``).

reclaim's readers check what they need to load a file correctly (envelopes, counts, values,
balancing); pyx12 checks the whole implementation guide (required segments, repeats, code
lists, element lengths). It is slow (about 0.1 MB/s) and optional: install it with
``pip install 'reclaim[dev]'`` or ``pip install pyx12==4.0.0``.

pyx12 has maps for 005010X221A1 (835) and X222A1 (837P) and X223A2 (837I); files of other
implementation guides (X222A2, X223A3) are checked against the closest map pyx12 picks, or
reported by pyx12 as unknown.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

from ...errors import InputFormatError, ReclaimError


def validate_with_pyx12(path: str | Path) -> list[dict]:
    """Run pyx12 on the file and return its findings, one dict per finding:
    ``level`` (interchange, group, transaction, segment, element), ``segment_id``,
    ``segment_count`` (segment number inside the transaction), ``line`` (pyx12's 1-based
    segment line), ``element`` (e.g. HI01-02), ``code`` (pyx12 error code), ``message``,
    ``value`` (the offending value when pyx12 gives one; may hold patient data, do not log it),
    ``transaction_control`` (ST02). An empty list means pyx12 found nothing wrong."""
    try:
        import pyx12.params
        import pyx12.x12n_document
    except ImportError as exc:  # optional dependency
        raise ReclaimError(
            "X12 validation needs pyx12, which is not installed",
            hint="pip install pyx12==4.0.0 (or install reclaim with the dev extra)",
        ) from exc
    path = Path(path)
    if not path.is_file():
        raise InputFormatError(f"{path}: no such file")
    out = io.StringIO()
    logger = logging.getLogger("pyx12")
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.CRITICAL)  # pyx12 logs each finding with its values: keep them out of logs
    logger.propagate = False
    try:
        ok = pyx12.x12n_document.x12n_document(pyx12.params.params(), str(path), None, None, fd_json=out)
    except Exception as exc:  # pyx12 raises assorted errors on input it cannot map
        return [{"level": "file", "segment_id": None, "segment_count": None, "line": None, "element": None,
                 "code": "PYX12-FAILED", "message": f"pyx12 could not process the file: {type(exc).__name__}: {exc}",
                 "value": None, "transaction_control": None}]
    finally:
        logger.setLevel(level)
        logger.propagate = propagate
    text = out.getvalue()
    findings: list[dict] = []
    if not text.strip():
        if not ok:
            findings.append({"level": "file", "segment_id": None, "segment_count": None, "line": None,
                             "element": None, "code": "PYX12-NOT-X12",
                             "message": "pyx12 does not recognize this as an X12 file", "value": None,
                             "transaction_control": None})
        return findings
    doc = json.loads(text)

    def add(level, errors, *, segment_id=None, segment_count=None, line=None, element=None, st02=None):
        for e in errors or []:
            findings.append({"level": level, "segment_id": segment_id, "segment_count": segment_count,
                             "line": line, "element": element, "code": e.get("err_cde"),
                             "message": e.get("err_str"), "value": e.get("err_val"), "transaction_control": st02})

    for isa in doc.get("interchanges", []):
        add("interchange", isa.get("errors"), segment_id="ISA", line=isa.get("cur_line"))
        for gs in isa.get("groups", []):
            add("group", gs.get("errors"), segment_id="GS", line=gs.get("cur_line"))
            for st in gs.get("transactions", []):
                st02 = st.get("trn_set_control_num")
                add("transaction", st.get("errors"), segment_id="ST", line=st.get("cur_line"), st02=st02)
                for seg in st.get("segments", []):
                    where = dict(segment_id=seg.get("seg_id"), segment_count=seg.get("seg_count"),
                                 line=seg.get("cur_line"), st02=st02)
                    add("segment", seg.get("errors"), **where)
                    for ele in seg.get("elements", []):
                        name = f"{seg.get('seg_id')}{int(ele.get('ele_pos') or 0):02d}"
                        if ele.get("subele_pos"):
                            name += f"-{int(ele['subele_pos']):02d}"
                        add("element", ele.get("errors"), element=name, **where)
    return findings
