"""File and transaction identities for X12 batches (same ``file_id`` form as
:func:`reclaim.claims.io.file_identity`: sha256 prefix + file name)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow as pa

from ..model import FILES


def file_identity(path: str, sha256: str, size: int) -> dict:
    name = Path(path).name if path != "<bytes>" else "bytes"
    return {"file_id": f"{sha256[:12]}-{name}", "path": path, "sha256": sha256, "bytes": size}


def files_table(identity: dict) -> pa.Table:
    return pa.Table.from_pylist([{**identity, "format": "x12"}], schema=FILES)


def transaction_ids(file_id: str, transactions: list[dict], issues) -> list[str]:
    """``<file_id>:<ISA13>:<GS06>:<ST02>``; when control numbers repeat inside one file (a
    defect, but common in concatenated test files) later ones get ``#2``, ``#3``... so keys
    stay unique, and the repeat is reported."""
    seen: Counter = Counter()
    out = []
    for t in transactions:
        base = f"{file_id}:{t['ISA13'] or ''}:{t['GS06'] or ''}:{t['ST02'] or ''}"
        seen[base] += 1
        if seen[base] > 1:
            issues.add("X12-DUPLICATE-CONTROL", f"control numbers ISA13/GS06/ST02 repeat an earlier transaction "
                       f"in this file; keyed with suffix #{seen[base]}", severity="warning",
                       segment_index=t["index"], byte_offset=t["offset"], segment_id="ST", loop="ST")
            base = f"{base}#{seen[base]}"
        out.append(base)
    return out
