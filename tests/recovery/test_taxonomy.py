"""The denial taxonomy: coverage of the official CARC list, rule precedence, data hygiene."""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import pytest

from reclaim.recovery import taxonomy


def test_every_current_carc_is_mapped_or_explicitly_unmapped(store):
    today = dt.date.today()
    current = {r[0] for r in store.con.execute(
        "select code from carc where stop_date is null or stop_date > ?", [today]).fetchall()}
    assert len(current) > 250  # the 2025-12 list has 298 current codes
    rows = taxonomy.load().to_pylist()
    specific = {r["carc"] for r in rows if r["carc"] != "*"}
    missing = sorted(current - specific)
    assert missing == [], f"CARCs without a taxonomy row (add them, mapped or 'unmapped'): {missing}"
    # rows for codes that are not in the official list at all would be typos
    known = {r[0] for r in store.con.execute("select code from carc").fetchall()}
    assert sorted(specific - known) == []


def test_domain_facts_codes_are_mapped_not_left_unmapped():
    # the high-value CARCs of domain-facts 9.2 that are current in the mirrored list
    required = "1 2 3 4 11 16 18 22 23 27 29 45 50 96 97 109 119 146 151 153 167 170 181 182 189 197 198 204 211 236 252 253 272 273 A1 B15".split()
    mapped = {r["carc"] for r in taxonomy.load().to_pylist() if r["category"] != "unmapped"}
    assert sorted(set(required) - mapped) == []


def test_rows_cite_their_source_and_have_sane_values():
    for r in taxonomy.load().to_pylist():
        assert r["rationale"], r
        if r["category"] != "unmapped" and r["carc"] != "*":
            # a domain-facts tag [KEY], a section reference, or the official list itself
            assert re.search(r"\[[A-Z0-9-]+\]|domain-facts|CARC list", r["rationale"]), r
        assert 0 <= r["default_odds"] <= 1
        if r["category"] in ("contractual", "sequestration", "prior_payer"):
            assert not r["recoverable"] and r["medicare_action"] == "none"


def _rule(group: str, carc: str, rarcs: list[str]) -> dict:
    con = duckdb.connect()
    con.register("taxonomy", taxonomy.load())
    rows = con.execute("""
        select t.* from taxonomy t
        where (t.carc = ? or t.carc = '*') and (t.group_code = ? or t.group_code = '*')
          and (t.rarc = '*' or t.rarc in (select unnest(?::varchar[])))
        order by (t.category <> 'unmapped') desc, (t.group_code <> '*') desc, (t.carc <> '*') desc,
                 (t.rarc <> '*') desc limit 1""", [carc, group, rarcs]).fetchall()
    cols = [d[0] for d in con.description]
    return dict(zip(cols, rows[0]))


@pytest.mark.parametrize("group,carc,rarcs,category,reason,edit", [
    ("CO", "45", [], "contractual", None, None),
    ("PR", "45", [], "patient_responsibility", None, None),
    ("CO", "253", [], "sequestration", None, None),
    ("PR", "2", [], "patient_responsibility", None, None),
    ("PR", "96", [], "patient_responsibility", None, None),   # group decides liability
    ("CO", "96", ["N425"], "denial", "non_covered", None),
    ("CO", "4", [], "denial", "modifier", "modifiers"),
    ("CO", "16", ["M119"], "denial", "ndc", "ndc"),
    ("CO", "16", ["N657"], "denial", "missing_information", None),
    ("CO", "119", [], "denial", "frequency", "units|policy"),
    ("CO", "197", [], "denial", "prior_auth", "policy"),
    ("CO", "189", ["N657"], "denial", "noc", "noc|code"),
    ("OA", "23", [], "prior_payer", None, None),
    ("CO", "P32", [], "unmapped", None, None),                # explicitly unmapped, listed for review
    ("PR", "P32", [], "patient_responsibility", None, None),
    ("CO", "ZZZ", [], "unmapped", None, None),                # not a CARC at all: fallback row
])
def test_rule_precedence(group, carc, rarcs, category, reason, edit):
    rule = _rule(group, carc, rarcs)
    assert (rule["category"], rule["denial_reason"], rule["edit_category"]) == (category, reason, edit)


def test_official_texts_come_from_the_store(store):
    carc, rarc, release = taxonomy.official_texts(store)
    texts = dict(zip(carc["code"].to_pylist(), carc["description"].to_pylist()))
    assert texts["253"].startswith("Sequestration")
    assert "M119" in rarc["code"].to_pylist()
    assert release


def test_every_carc_in_the_shared_835s_and_the_examples_has_a_specific_mapping(x12_samples):
    """Every group-CARC a real sample or an example remittance carries is classified by a row of
    its own (never the unmapped fallback), so each of those dollars has a known place and reason."""
    from pathlib import Path

    from reclaim.claims.io import read_remits

    repo = Path(__file__).resolve().parents[2]
    paths = [p for p in x12_samples.iterdir() if p.is_file() and b"ST*835" in p.read_bytes()[:4000]]
    remits = read_remits(paths + [repo / "examples" / "remits", repo / "examples" / "history" / "remits"])
    seen = {(a["group_code"], a["reason_code"]) for a in remits["adjustments"].to_pylist()}
    assert len(seen) >= 25
    rows = taxonomy.load().to_pylist()
    unmapped = sorted(f"{g}-{c}" for g, c in seen
                      if not any(r["carc"] == c and r["group_code"] in (g, "*") and r["category"] != "unmapped"
                                 for r in rows)
                      and not (g == "PR" and any(r["carc"] == "*" and r["group_code"] == "PR" for r in rows)))
    assert unmapped == []
    # the 835 samples' own codes, checked by hand against their CARC texts (see the rationale column)
    category = {r["carc"]: r["category"] for r in rows if r["group_code"] in ("*", "CO") and r["rarc"] == "*"}
    assert (category["24"], category["42"], category["A2"], category["A7"]) == ("contractual",) * 4
    assert (category["147"], category["176"], category["251"], category["26"]) == ("denial",) * 4
