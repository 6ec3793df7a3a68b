"""What a run could not check because no release held covers its dates: one note per dataset.

Prices (ASP), MUEs, ICD-10-CM code lists and coverage are applied only within their release's
period (``engine.PREP``: ``asp_dos``, ``mue_dos``, ``icd10_dos`` end with their release). Where a
line's date falls outside every release held, the edits that need it find nothing; this module
says so once per run, naming the dates, how many lines, and the newest release held, so that
silence is never mistaken for "checked and clean". The HCPCS file and the NDC-HCPCS crosswalk go
on answering after their quarter (their codes carry their own dates), and that is said too.

The queries run on the engine's tables (``line_facts``, ``ref_*``, the PREP tables) on DuckDB or
Spark; each is a scan of one or two columns of ``line_facts`` joined to a handful of release rows.
"""

from __future__ import annotations

from typing import Any

from .opps_notes import opps_note

#: (dataset label, reference table, lines concerned, what goes unchecked, how to pull)
_STRICT = (
    ("ASP pricing quarter", "ref_asp_pricing", "lf.is_drug",
     "RC801 and the expected payments skipped them", "reclaim data pull --dataset asp"),
    ("MUE table", "ref_mue", "lf.procedure_code IS NOT NULL",
     "no MUE was applied (RC204 skipped them)", "reclaim data pull --dataset mue"),
)
#: tables that answer after their period (the codes' own dates decide): said, not skipped
_LENIENT = (
    ("HCPCS", "ref_hcpcs", "release_effective", "its codes' own dates were used", "reclaim data pull --dataset hcpcs"),
    ("NDC-HCPCS crosswalk", "ref_ndc_crosswalk", "effective_from", "its NDCs and billing units were used",
     "reclaim data pull --dataset asp"),
)


def _span(rows: list[tuple]) -> tuple[Any, Any, int]:
    first = min(r[0] for r in rows)
    last = max(r[0] for r in rows)
    return first, last, sum(int(r[1]) for r in rows)


def _dates(first: Any, last: Any) -> str:
    return str(first) if first == last else f"{first} to {last}"


def _newest(backend: Any, table: str, start: str = "effective_from", end: str | None = "effective_to") -> tuple | None:
    end_sql = f"max({end})" if end else "CAST(NULL AS DATE)"
    rows = backend.query(
        f"SELECT release, min({start}) AS s, {end_sql} AS e FROM {table} GROUP BY release ORDER BY s DESC LIMIT 1"
    ).to_pylist()
    return (rows[0]["release"], rows[0]["s"], rows[0]["e"]) if rows else None


def _uncovered(backend: Any, table: str, lines: str) -> list[tuple]:
    """(date, lines) of the batch's lines in ``lines`` whose date no release of ``table`` covers."""
    sql = f"""
        WITH d AS (SELECT lf.service_date AS dos, count(*) AS n FROM line_facts lf
                   WHERE lf.service_date IS NOT NULL AND {lines} GROUP BY lf.service_date),
        r AS (SELECT DISTINCT effective_from, effective_to FROM {table})
        SELECT d.dos, d.n FROM d LEFT JOIN r ON d.dos >= r.effective_from
             AND (r.effective_to IS NULL OR d.dos <= r.effective_to)
        WHERE r.effective_from IS NULL"""
    return [(r["dos"], r["n"]) for r in backend.query(sql).to_pylist()]


def release_notes(backend: Any, codes: list[str], billing_state: str | None = None) -> list[str]:
    """The run's notes about dates no release held covers (``codes``: the edits run)."""
    notes: list[str] = []
    ran = set(codes)
    if "RC604" in ran:
        notes += _coverage_notes(backend, billing_state)
    for label, table, lines, skipped, pull in _STRICT:
        if table.removeprefix("ref_") not in backend.ref_tables:
            continue  # the engine's own note says the table is missing
        rows = _uncovered(backend, table, lines)
        if not rows:
            continue
        first, last, n = _span(rows)
        newest = _newest(backend, table)
        held = f"the newest held is {newest[0]} ({newest[1]} to {newest[2]})" if newest else "none is held"
        notes.append(f"no {label} in force on {_dates(first, last)} ({n:,} line(s)): {held}; "
                     f"{skipped} — pull the release of those dates ({pull})")
    if "icd10" in backend.ref_tables and ran & {"RC601", "RC603"}:
        notes += _icd10_note(backend)
    notes += opps_note(backend, codes)  # 837I lines whose OPPS status indicator is not known
    for label, table, start, used, pull in _LENIENT:
        if table.removeprefix("ref_") not in backend.ref_tables:
            continue
        newest = _newest(backend, table, start, "effective_to" if start == "effective_from" else None)
        if newest is None:
            continue
        release, begin, end = newest
        if end is None:  # a quarterly file: in force to the end of its quarter
            month = (begin.month - 1) // 3 * 3 + 3
            end_sql = f"CAST(DATE '{begin.year + (month == 12)}-{month % 12 + 1:02d}-01' - INTERVAL 1 DAY AS DATE)"
        else:
            end_sql = f"DATE '{end}'"
        after = backend.query(
            f"SELECT min(service_date) AS f, max(service_date) AS l, count(*) AS n FROM line_facts "
            f"WHERE service_date > {end_sql}").to_pylist()[0]
        if after["n"]:
            notes.append(f"{label} {release} is the newest held and its quarter ended before "
                         f"{_dates(after['f'], after['l'])} ({after['n']:,} line(s)): {used} for those dates "
                         f"— pull the current quarter ({pull})")
    return notes


def _icd10_note(backend: Any) -> list[str]:
    """Claims with ICD-10-CM diagnoses on a date no ICD-10-CM list held covers (RC601/RC603 did
    not check them), and claims decided by the partial CMS Section 111 list."""
    sql = """
        WITH c AS (
          SELECT lf.claim_id, min(lf.service_date) AS dos FROM line_facts lf
          JOIN (SELECT DISTINCT claim_id FROM diagnoses WHERE coalesce(category, 'diagnosis') = 'diagnosis'
                AND code IS NOT NULL AND coalesce(qualifier, 'A') LIKE 'A%') d ON d.claim_id = lf.claim_id
          WHERE lf.service_date IS NOT NULL GROUP BY lf.claim_id
        ), r AS (SELECT DISTINCT list, release, valid_from, valid_to FROM icd10_dos),
        j AS (
          SELECT c.claim_id, c.dos, max(CASE WHEN r.list = 'cdc' THEN 1 ELSE 0 END) AS cdc,
                 max(CASE WHEN r.list = 'cms' THEN 1 ELSE 0 END) AS cms, max(r.release) AS release
          FROM c LEFT JOIN r ON c.dos >= r.valid_from AND c.dos < r.valid_to GROUP BY c.claim_id, c.dos
        )
        SELECT CASE WHEN cdc = 1 THEN 'cdc' WHEN cms = 1 THEN 'cms' ELSE 'none' END AS decided,
               min(dos) AS f, max(dos) AS l, count(*) AS n, max(release) AS release
        FROM j GROUP BY 1"""
    notes = []
    for row in backend.query(sql).to_pylist():
        if row["decided"] == "none":
            newest = _newest(backend, "ref_icd10")
            held = f"the newest held is {newest[0]} ({newest[1]} to {newest[2]})" if newest else "none is held"
            notes.append(f"no ICD-10-CM release in force on {_dates(row['f'], row['l'])} ({row['n']:,} claim(s)): "
                         f"{held}; their diagnoses were not checked (RC601, RC603) — pull the CDC release of those "
                         "dates (reclaim data pull --dataset icd10)")
        elif row["decided"] == "cms":
            notes.append(f"ICD-10-CM on {_dates(row['f'], row['l'])} ({row['n']:,} claim(s)): only the CMS Section 111 "
                         f"list {row['release']} is held, which omits whole chapters (Z codes...): a code absent from it "
                         "was reported only when no CDC release held lists it — pull the CDC release of those dates "
                         "(reclaim data pull --dataset icd10)")
    return notes


def _coverage_notes(backend: Any, billing_state: str | None) -> list[str]:
    """Drug lines no coverage document applies to (RC604 could not check them), by code."""
    from .rules.coverage import COVERAGE_RULES

    rows = backend.query(COVERAGE_RULES + """
        SELECT c.procedure_code AS code, count(*) AS n FROM cand c
        LEFT JOIN (SELECT DISTINCT claim_id, line_number FROM rules) r
          ON r.claim_id = c.claim_id AND r.line_number = c.line_number
        WHERE r.claim_id IS NULL GROUP BY c.procedure_code ORDER BY c.procedure_code""").to_pylist()
    if not rows:
        return []
    codes = ", ".join(r["code"] for r in rows[:12]) + (f" and {len(rows) - 12} more" if len(rows) > 12 else "")
    lines = sum(int(r["n"]) for r in rows)
    articles = backend.query("SELECT count(*) AS n FROM ref_coverage_articles").to_pylist()[0]["n"]
    if not articles:
        why = ("no Medicare Coverage Database export is loaded (reclaim data pull --dataset coverage) and no payer "
               "policy lists covered diagnoses for them (policy YAML coverage:)")
    elif not (billing_state or "").strip():
        why = ("the MCD articles apply through the MAC of the billing provider's state: set billing_state "
               "(e.g. RECLAIM_BILLING_STATE=TX); no payer policy lists covered diagnoses for them")
    else:
        why = (f"no MCD article of the MAC serving {billing_state.strip().upper()} in force on their dates lists "
               "them, and no payer policy lists covered diagnoses for them")
    return [f"diagnosis coverage not checked: no coverage data for {codes} ({lines:,} drug line(s)): {why}"]
