"""The reviewed-findings snapshot (docs/check.md, "How we keep findings right"): the whole
catalog over every real 837 in ../shared/x12-samples/ and every example claim file gives exactly
the error findings a person reviewed and justified in ``reviewed_findings.csv``. A new error
finding, or a reviewed one that disappears, fails: run ``scripts/review-findings.py``, read the
change as a billing expert would, and justify it (or fix the edit when it is false).
``pending_false_positives.csv`` lists false positives another change is fixing: they are
tolerated, never recorded as reviewed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _review_module():
    spec = importlib.util.spec_from_file_location("review_findings", REPO / "scripts" / "review-findings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


R = _review_module()


@pytest.fixture(scope="module")
def current(store, shared):
    rules = R.pending_rules()
    return [r for r in R.current_findings(store, shared) if not R.pending(r, rules)]


def _show(keys) -> str:
    return "\n".join(" | ".join(k) for k in sorted(keys))


def test_error_findings_are_the_reviewed_ones(current):
    reviewed = R.read_snapshot()
    now = {R.key(r) for r in current if r["severity"] == "error"}
    kept = {R.key(r) for r in reviewed if r["severity"] == "error"}
    assert not now - kept, ("error findings nobody reviewed (run scripts/review-findings.py, then justify "
                            "each in tests/edits/reviewed_findings.csv or fix the edit):\n" + _show(now - kept))
    assert not kept - now, "reviewed error findings that are gone (a fix or a lost finding?):\n" + _show(kept - now)


def test_every_reviewed_finding_is_justified():
    rows = R.read_snapshot()
    assert rows, "the snapshot is empty"
    unjustified = [R.key(r) for r in rows if not r["justification"].strip() or r["justification"] == R.UNREVIEWED]
    assert not unjustified, "findings without a justification:\n" + _show(unjustified)


def test_snapshot_covers_every_837_sample(shared):
    names = {name for name, _ in R.input_files(shared)}
    assert sum(n.startswith("x12-samples/") for n in names) >= 20
    assert {"examples/claims/check-medicare.837", "examples/claims/check-commercial.csv"} <= names
