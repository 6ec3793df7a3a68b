"""The block loop both X12 readers share: tokenize a block, walk its envelopes, let the
reader place its segments in loops (``_block``), then emit what is complete (``_emit``).

A subclass sets ``State`` (its forward-fill carries between blocks) and implements
``_block(block)`` and ``_emit(final) -> batch``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import numpy as np

from ...errors import InputFormatError
from ._columns import Issues, Parts
from .envelope import EnvelopeWalker
from .ids import file_digest, file_identity
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

    def _block(self, block) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _emit(self, final: bool):  # pragma: no cover - abstract
        raise NotImplementedError
