"""Every citation resolves inside the project (docs/sources.md, generated from
reclaim.documents.guide_sources), and users see the documents' titles, never internal words."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from reclaim.documents.guide import build_guide
from reclaim.documents.guide_sources import SOURCES, cite_text, markdown, resolve_text, tags, unknown
from reclaim.documents.guide_tables import COMMON_DENIALS, DRUG_MODIFIERS
from reclaim.edits import catalog
from reclaim.edits.docs import render_edit

REPO = Path(__file__).resolve().parents[2]


def test_docs_sources_md_is_generated():
    assert (REPO / "docs" / "sources.md").read_text(encoding="utf-8") == markdown(), (
        "docs/sources.md is stale: run `python -m reclaim.documents.guide_sources > docs/sources.md`")


def test_every_tag_resolves():
    texts = [e.doc for e in catalog().values()]
    texts += [r.cite for r in DRUG_MODIFIERS] + [r.cite for r in COMMON_DENIALS]
    texts += [p.read_text(encoding="utf-8") for p in (REPO / "docs").glob("*.md") if p.name != "sources.md"]
    missing = sorted({t for text in texts for t in unknown(text)})
    assert missing == [], f"citation tags with no entry in reclaim.documents.guide_sources: {missing}"
    for source in SOURCES.values():
        assert source.publisher and source.title and source.kind in (
            "official", "contractor", "payer", "label", "repository", "secondary"), source


def test_users_see_titles_not_internal_words():
    assert cite_text("domain-facts §3.1 [NOR-JW] [CMS-DDU]") == (
        "Noridian JF B: Modifier JW; CMS: Medicare Part B Discarded Drug Units Report")
    assert cite_text("domain-facts §9.2, §10.3 (recovery action UNVERIFIED)") == (
        "recovery action not confirmed against an official publication")
    for e in catalog().values():
        shown = render_edit(e, level=1)
        source = shown.split("# Source", 1)[1]
        assert "domain-facts" not in source and "UNVERIFIED" not in source, e.code
        for tag in tags(e.sections["Source"]):
            assert f"[{tag}: {SOURCES[tag].label}]" in source, (e.code, tag)
    assert resolve_text("see [CDC-ICD10CM]; domain-facts §2.4.") == (
        "see [CDC-ICD10CM: CDC / NCHS: ICD-10-CM Tabular List of Diseases and Injuries, with the ICD-10-CM "
        "Official Guidelines for Coding and Reporting].")


def test_guide_cites_resolved(store):
    g = build_guide(store, "J0897", dt.date(2025, 11, 15))
    jw = next(m for m in g.modifiers if m.code == "JW")
    assert jw.cite.startswith("Noridian JF B: Modifier JW") and jw.cite_ids[0] == "NOR-JW"
    for item in [*g.modifiers, *g.denials]:
        assert not re.search(r"domain-facts|UNVERIFIED|§", item.cite), item.cite
        assert all(i in SOURCES for i in item.cite_ids)
