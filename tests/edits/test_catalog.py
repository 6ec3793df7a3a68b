"""The catalog itself: codes, docs, SQL shape, generated docs/edits.md up to date, selectors."""

from __future__ import annotations

from pathlib import Path

import pytest

from reclaim.edits import catalog, resolve
from reclaim.edits.docs import render
from reclaim.edits.registry import DOC_SECTIONS, edit
from reclaim.errors import ReclaimError

REPO = Path(__file__).resolve().parents[2]


def test_docs_edits_md_is_generated_from_the_catalog():
    current = (REPO / "docs" / "edits.md").read_text(encoding="utf-8")
    assert current == render(), "docs/edits.md is stale: run `reclaim rules --docs > docs/edits.md`"


def test_every_edit_is_documented_and_sourced():
    for code, e in catalog().items():
        assert list(e.sections)[: len(DOC_SECTIONS)] == list(DOC_SECTIONS), code
        # the Why names the denial; the Source names an official document or file
        assert any(d.split()[-1] in e.sections["Why it matters"] for d in e.denials), code
        assert "CMS" in e.sections["Source"] or "[" in e.sections["Source"], code
        assert e.cases_path.is_file(), f"{code}: no cases file {e.cases_path.name}"
        for arg in e.message_args + e.fix_args:
            assert arg in e.sql, f"{code}: message/fix arg {arg!r} is not a column of its SQL"


def test_doc_block_must_have_five_parts():
    with pytest.raises(ValueError, match="lacks section"):
        edit(code="RC999", name="x", severity="error", category="code", message="m", sql="SELECT 1",
             doc="## What it checks\nx\n## Why it matters\ny", denials=("CARC 16",))


def test_edit_must_name_the_denial_it_prevents():
    with pytest.raises(ValueError, match="CARC/RARC"):
        edit(code="RC998", name="x", severity="error", category="code", message="m", sql="SELECT 1", doc="")


def test_every_edit_has_a_fix_for_people():
    """A finding with no mechanical fix still says what a person checks (issue #12 defect 10)."""
    for code, e in catalog().items():
        assert e.manual_fix.startswith("no mechanical fix: ") and len(e.manual_fix) > len("no mechanical fix: ") + 10, code
        assert "--fix" not in e.manual_fix, code


def test_selectors():
    assert [e.code for e in resolve(["RC3"], ["RC305"])] == ["RC301", "RC302", "RC303", "RC304", "RC306", "RC307", "RC308"]
    assert {e.category for e in resolve(["ndc"])} == {"ndc"}
    assert "RC801" not in [e.code for e in resolve(None, ["payment"])]
    with pytest.raises(ReclaimError, match="no edit matches"):
        resolve(["RC9"])
