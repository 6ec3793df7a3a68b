"""File and transaction identities for X12 batches (same ``file_id`` form as
:func:`reclaim.claims.io.file_identity`: sha256 prefix + file name)."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import pyarrow as pa

from ..model import FILES


def file_identity(path: str, sha256: str, size: int) -> dict:
    name = Path(path).name if path != "<bytes>" else "bytes"
    return {"file_id": f"{sha256[:12]}-{name}", "path": path, "sha256": sha256, "bytes": size}


def file_digest(source) -> tuple[str, int]:
    """(sha256 hex, size) of a path or bytes, read in 8 MB chunks: streamed batches need the
    file_id (part of every key) before the first block is read. An unreadable path gives
    ('', 0); the tokenizer then reports it."""
    digest, size = hashlib.sha256(), 0
    if isinstance(source, (bytes, bytearray, memoryview)):
        digest.update(source)
        return digest.hexdigest(), len(source)
    buffer = bytearray(1 << 23)  # reused: no fresh 8 MB allocation (and its page faults) per chunk
    view = memoryview(buffer)
    try:
        with open(source, "rb") as fh:
            while got := fh.readinto(buffer):
                digest.update(view[:got])
                size += got
    except OSError:
        return "", 0
    return digest.hexdigest(), size


def files_table(identity: dict) -> pa.Table:
    return pa.Table.from_pylist([{**identity, "format": "x12"}], schema=FILES)


def transaction_ids(file_id: str, transactions: list[dict], issues, seen: Counter | None = None) -> list[str]:
    """``<file_id>:<ISA13>:<GS06>:<ST02>``; when control numbers repeat inside one file (a
    defect, but common in concatenated test files) later ones get ``#2``, ``#3``... so keys
    stay unique, and the repeat is reported. ``seen`` carries the count over calls (streaming)."""
    seen = Counter() if seen is None else seen
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
