"""The block loop both X12 readers share: tokenize a block, walk its envelopes, let the
reader place its segments in loops (``_block``), then emit what is complete (``_emit``).

A subclass sets ``State`` (its forward-fill carries between blocks) and implements
``_block(block)`` and ``_emit(final) -> batch``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from ...errors import InputFormatError
from ..model import FILES, TRANSACTIONS
from ._columns import Issues, Parts
from .envelope import EnvelopeWalker, envelope_columns
from .ids import file_digest, file_identity, files_table, transaction_ids
from .tokenizer import JUNK, SEGMENT_CODE, UNLISTED, X12Tokenizer


class StreamingReader:
    State: type

    def __init__(self, source, *, block_size=None, on_issue=None):
        self.source = source
        self.tokenizer = X12Tokenizer(source, **({"block_size": block_size} if block_size else {}))
        self.issues = Issues()
        self.parts = Parts()
        self.state = self.State()
        self.walker: EnvelopeWalker | None = None
        self.on_issue = on_issue
        self.last_index = 0
        self.end_offset = 0
        # streaming: the file identity (its sha256) is known before the first batch, so keys
        # are the same whatever the block size
        self.identity = file_identity(self._name(), *file_digest(source))
        self.tid_seen = Counter()
        self.tids: list[str] = []
        self.txn_done = 0  # transactions already emitted
        self.tk_issues_done = 0
        self.files_emitted = False

    def _name(self) -> str:
        return "<bytes>" if isinstance(self.source, (bytes, bytearray)) else str(self.source)

    def batches(self) -> Iterator:
        """One batch per block: what ended in it (a claim straddling a block boundary comes in
        the batch where it ends), and the transactions closed in it."""
        for block in self.tokenizer.blocks():
            if self.walker is None:
                self.walker = EnvelopeWalker(self.issues, bare=self.tokenizer.bare_transaction)
            self.walker.walk(block)
            self._block(block)
            if len(block):
                self.last_index = int(block.index[-1])
                self.end_offset = int(block.offset[-1])
            yield self._emit(final=False)
        if self.walker is None:
            raise InputFormatError(f"{self._name()}: no X12 segments found")
        self.walker.finish(self.last_index, self.end_offset, self.tokenizer.bare_transaction)
        yield self._emit(final=True)

    def _segment_problems(self, b, in_txn) -> None:
        """Segments that are not segments, unknown ids, and segments outside any transaction."""
        sid, idx = b.sid, b.index
        junk = np.flatnonzero(sid == JUNK)
        if len(junk):
            self.issues.add("X12-BAD-SEGMENT", "not a segment: expected a segment id of 2-3 upper-case letters or "
                            "digits followed by the element separator", segment_index=idx[junk],
                            byte_offset=b.offset[junk], skipped="segment")
        unlisted = np.flatnonzero(sid == UNLISTED)
        if len(unlisted):
            self.issues.add("X12-UNKNOWN-SEGMENT",
                            "segment id not used in 837, 835, 999 or 276/277 transactions; ignored",
                            severity="warning", segment_index=idx[unlisted], byte_offset=b.offset[unlisted],
                            segment_id=b.element(unlisted, 0), skipped="segment")
        envelope = [SEGMENT_CODE[s] for s in ("ISA", "GS", "ST", "SE", "GE", "IEA")]
        outside = np.flatnonzero(~in_txn & ~np.isin(sid, envelope) & (sid >= 0))
        if len(outside):
            self.issues.add("X12-OUTSIDE-TRANSACTION", "segment outside an ST/SE transaction; ignored",
                            segment_index=idx[outside], byte_offset=b.offset[outside],
                            segment_id=b.element(outside, 0), skipped="segment")

    # helpers the acknowledgment readers (reader999, reader277) share in their _emit
    def _typed_transactions(self, type_of, expected: str) -> list[dict]:
        """Every transaction seen so far, after taking the tokenizer's new issues and giving the
        new transactions their ``type`` (``type_of(ST01, version)``; None = not one this reader
        reads: skipped with an X12-WRONG-TRANSACTION issue) and their keys (``self.tids``)."""
        for d in self.tokenizer.issues[self.tk_issues_done:]:
            self.issues.add_dict(d)
        self.tk_issues_done = len(self.tokenizer.issues)
        txns = self.walker.transactions if self.walker else []
        for t in txns[len(self.tids):]:
            t["type"] = type_of(t["ST01"], t["version"])
            if t["type"] is None:
                self.issues.add("X12-WRONG-TRANSACTION", f"transaction set {t['ST01']} is not {expected}; skipped",
                                segment_index=t["index"], byte_offset=t["offset"], segment_id="ST", loop="ST",
                                skipped="transaction")
        self.tids += transaction_ids(self.identity["file_id"], txns[len(self.tids):], self.issues, self.tid_seen)
        return txns

    def _complete(self, final: bool, last_unit: int) -> tuple[int, int]:
        """(transactions closed, cut): pieces keyed below ``cut`` are complete. A unit (an AK2
        loop, a claim) starting at ``last_unit`` in a transaction still open may go on in the
        next block, so it waits; everything else seen so far is complete."""
        open_st = self.walker.st if (self.walker and not final) else None
        n_closed = len(self.walker.transactions if self.walker else []) - (1 if open_st is not None else 0)
        cut = last_unit if (open_st is not None and open_st["index"] < last_unit) else self.last_index + 1
        return n_closed, cut

    def _transactions_table(self, txns: list[dict], tids: pa.Array) -> pa.Table:
        """The ``transactions`` rows of ``txns`` (those this reader reads)."""
        table = pa.table({
            "transaction_id": tids, "file_id": pa.repeat(pa.scalar(self.identity["file_id"], pa.string()), len(txns)),
            **envelope_columns(txns), "created": pa.array([t["GS04"] for t in txns], pa.date32()),
            "submitter_name": pa.nulls(len(txns), pa.string()), "submitter_id": pa.nulls(len(txns), pa.string()),
            "receiver_name": pa.nulls(len(txns), pa.string()),
        }).select(TRANSACTIONS.names).cast(TRANSACTIONS)
        return table.filter(pa.array([t["type"] is not None for t in txns], pa.bool_()))

    def _files_and_issues(self) -> tuple[pa.Table, pa.Table]:
        """The batch's ``files`` (the file's row in the first batch only) and ``read_issues`` (found
        since the last batch, each passed to ``on_issue``)."""
        issues = self.issues.table(self.identity["file_id"], self.identity["path"])
        self.issues = Issues()
        if self.walker is not None:
            self.walker.issues = self.issues
        if self.on_issue is not None:
            for row in issues.to_pylist():
                self.on_issue(row)
        files = FILES.empty_table() if self.files_emitted else files_table(self.identity)
        self.files_emitted = True
        return files, issues

    def _block(self, block) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _emit(self, final: bool):  # pragma: no cover - abstract
        raise NotImplementedError
