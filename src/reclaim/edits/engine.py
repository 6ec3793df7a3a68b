"""The edit engine: run the catalog over claims on DuckDB or Spark.

Steps (all relational; no Python loop touches a claim):

1. put the input in the backend as tables ``claims``, ``lines``, ``diagnoses``, ``files`` and
   their ``history_`` twins (earlier claims from ``--history``): :func:`check_files` streams
   files in (``reclaim.claims.io.load_into``: X12 block by block, Parquet read by DuckDB
   itself), :func:`check` registers a ClaimBatch's Arrow tables under the same names; then the
   payer policies as tables (``policies``, ``policy_*``, see :mod:`reclaim.policy.loader`) and
   the run parameters (``run_params``: the date of check);
2. build the shared tables every edit may use (:data:`PREP`): ``hcpcs_dos`` / ``asp_dos`` /
   ``xw_dos`` / ``mue_dos`` / ``icd10_dos`` (each reference row with the date range its release
   is in force), ``payer_policy`` (which policy adjudicates claims of each payer id x filing
   indicator), ``claim_facts``, ``key_facts`` (the reference facts of each code x NDC x epoch),
   ``line_facts`` (one row per line with its claim, policy, modifiers and the reference facts in
   force on its date of service) and ``patient_lines`` (history + batch lines per patient);
3. run every selected edit's SQL, wrapped so each returns the same finding columns, as one
   UNION ALL; apply the claim's policy (edit disabled, severity override);
4. return :class:`Findings`: an Arrow table, a summary, what was read and per-stage timings.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ..claims.model import FILES, READ_ISSUES, ClaimBatch
from ..policy import Policy, default_policies, load_policies, policy_tables
from .backends import INPUT_TABLES, make_backend
from .in_force import release_notes
from .registry import Edit, catalog, resolve

FINDINGS = pa.schema(
    [
        ("code", pa.string()),
        ("name", pa.string()),
        ("severity", pa.string()),
        ("category", pa.string()),
        ("claim_id", pa.string()),
        ("patient_control_number", pa.string()),
        ("line_number", pa.int32()),
        ("service_date", pa.date32()),
        ("procedure_code", pa.string()),
        ("message", pa.string()),
        ("fix", pa.string()),
        ("fix_action", pa.string()),
        ("fix_value", pa.string()),
        ("dollars_at_risk", pa.decimal128(18, 2)),
        ("policy_id", pa.string()),
        # the CARC / RARC codes the finding's edit prevents (its fix is in ``fix``: the mechanical
        # one, or "no mechanical fix: ..." and what a person checks)
        ("denials", pa.string()),
    ]
)

# release intervals: a reference row is in force from its release's start to the next release's,
# and never past its release's own end ({end}: a quarter's prices, MUEs end with the quarter;
# NULL for the HCPCS file, whose codes carry their own dates); valid_to is exclusive
_INTERVALS = """
WITH r AS (SELECT {start} AS d, max({end}) AS e FROM {table} GROUP BY {start}),
ri AS (SELECT d, e, lead(d) OVER (ORDER BY d) AS next_d, row_number() OVER (ORDER BY d) AS n FROM r)
SELECT t.*, {valid_from} AS valid_from,
       least(coalesce(ri.next_d, DATE '9999-12-31'), coalesce(CAST(ri.e + INTERVAL 1 DAY AS DATE), DATE '9999-12-31')) AS valid_to
FROM {table} t JOIN ri ON t.{start} = ri.d
"""


def _duplicate_key(patient_id: str, billing_npi: str, service_date: str, line: str, is_noc: str) -> str:
    """RC703's duplicate key of a line (patient, provider, date, code, modifiers, units, and on
    a NOC code the NDC) hashed into one integer: computed once per line where the line is built
    (``line_facts``, history lines in ``patient_lines``), with the same expression in both so
    equal keys hash equal. A NOC code (J3490) names no drug: two of its lines with different
    NDCs are different drugs, not duplicates; a specific code names the drug itself."""
    modifiers = ", ".join(f"coalesce({line}.modifier_{i}, '')" for i in range(1, 5))
    return (f"hash({patient_id}, {billing_npi}, {service_date}, {line}.procedure_code, "
            f"{_noc_ndc(line, is_noc)}, {modifiers}, {line}.units)")


def _noc_ndc(line: str, is_noc: str) -> str:
    """The NDC a duplicate key compares: a NOC line's ('' when none), nothing for other codes."""
    return f"CASE WHEN {is_noc} THEN coalesce({line}.ndc11, '') ELSE '' END"


def _asp_uom(dosage: str) -> str:
    """The unit of measure of an ASP "HCPCS Code Dosage" ("1 MG", "100 UNITS"), in the HCPCS
    parser's normalized spelling (reclaim.refdata.units)."""
    word = f"lower(regexp_extract({dosage}, '[A-Za-z]+', 0))"
    return f"(CASE {word} WHEN 'unit' THEN 'units' WHEN 'gm' THEN 'g' WHEN '' THEN NULL ELSE {word} END)"


def _unit_family(uom: str) -> str:
    """Units of measure that convert into each other: mass (mg, mcg, g); any other unit only
    into itself (units, iu, ml...)."""
    return f"(CASE WHEN {uom} IN ('mg', 'mcg', 'g') THEN 'mass' ELSE {uom} END)"


def _unit_factor(uom: str) -> str:
    """A unit of measure in its family's base unit (mass: milligrams)."""
    return f"(CASE {uom} WHEN 'mcg' THEN 0.001 WHEN 'g' THEN 1000 ELSE 1 END)"


#: billing units the NDC quantity on the line can hold: items x units per item
#: (UN = items; ML = volume, items = volume / package size rounded up)
_NDC_MAX_UNITS = """CAST(CASE WHEN l.ndc_unit = 'UN' THEN k.xw_units_per_item * l.ndc_quantity
                    WHEN l.ndc_unit = 'ML' AND k.xw_package_size > 0
                      THEN k.xw_units_per_item * CAST(ceil(l.ndc_quantity / k.xw_package_size) AS DECIMAL(18,3))
               END AS DECIMAL(18,3))"""


def _drug_units() -> tuple[str, str]:
    """(SQL of a line's units in its drug code's billing unit, SQL of where they came from:
    1 the description, 2 the billed units, 3 the NDC quantity). As billed when the billed code is the
    drug's; after a code swap (key_facts.code_swapped) the dose is, in this order: the dose the
    line description states ("PROLIA 60 MG", see reclaim.refdata.units.DOSE_IN_TEXT), the units
    billed times the billed code's unit (J1327 x 12 = 60 mg), or what the NDC quantity holds; it
    is divided by the drug code's unit and rounded as CMS says: up to the next whole unit, waste
    (JW) down (domain-facts §1.4 [CMS-RAC74] [ACR-WASTE]). NULL when none of them is known.
    Only swapped lines (a handful) evaluate the branches: CASE runs them on those rows only."""
    from ..refdata.units import DOSE_IN_TEXT, DOSE_TWICE_IN_TEXT

    text = "upper(l.description)"
    uom = f"regexp_extract({text}, '{DOSE_IN_TEXT}', 2)"
    norm = (f"(CASE {uom} WHEN 'MG' THEN 'mg' WHEN 'MCG' THEN 'mcg' WHEN 'G' THEN 'g' WHEN 'GM' THEN 'g'"
            f" WHEN 'IU' THEN 'iu' ELSE 'units' END)")
    stated = (f"CASE WHEN regexp_matches({text}, '{DOSE_IN_TEXT}') AND NOT regexp_matches({text}, '{DOSE_TWICE_IN_TEXT}')"
              f" AND {_unit_family(norm)} = k.drug_unit_family AND k.drug_unit_base > 0"
              f" THEN TRY_CAST(regexp_extract({text}, '{DOSE_IN_TEXT}', 1) AS DECIMAL(18,3)) * {_unit_factor(norm)}"
              f" / k.drug_unit_base END")
    converted = ("CASE WHEN k.billed_unit_family = k.drug_unit_family AND k.drug_unit_base > 0"
                 " THEN l.units * k.billed_unit_base / k.drug_unit_base END")
    dose = f"coalesce({stated}, {converted}, {_NDC_MAX_UNITS})"
    units = (f"(CASE WHEN NOT coalesce(k.code_swapped, false) THEN l.units"
             f" WHEN l.has_jw THEN CAST(floor({dose}) AS DECIMAL(18,3)) ELSE CAST(ceil({dose}) AS DECIMAL(18,3)) END)")
    source = (f"(CASE WHEN coalesce(k.code_swapped, false) THEN CASE WHEN ({stated}) IS NOT NULL THEN 1"
              f" WHEN ({converted}) IS NOT NULL THEN 2 WHEN {_NDC_MAX_UNITS} IS NOT NULL THEN 3 END END)")
    return units, source


_DRUG_UNITS, _DRUG_UNITS_SOURCE = _drug_units()
_AT_RISK_UNITS = f"(CASE WHEN NOT coalesce(k.code_swapped, false) THEN l.units ELSE least({_DRUG_UNITS}, {_NDC_MAX_UNITS}) END)"

#: (name, SQL, materialise?) built before the edits run; documented in docs/check.md
PREP: list[tuple[str, str, bool]] = [
    # the HCPCS file carries each code's own add/termination dates, so its oldest release also
    # answers for earlier dates of service
    # per code, once: NOC (the long description says so) and the dose of one billing unit
    ("hcpcs_dos", "SELECT *, coalesce(regexp_matches(lower(long_description), 'unclassified|not otherwise classified'), false) AS is_noc FROM ("
     + _INTERVALS.format(start="release_effective", end="CAST(NULL AS DATE)", table="ref_hcpcs", valid_from="CASE WHEN ri.n = 1 THEN DATE '1900-01-01' ELSE ri.d END")
     + ") h", True),
    ("asp_dos", "SELECT *, TRY_CAST(regexp_extract(dosage, '^ *([0-9.]+)', 1) AS DECIMAL(18,3)) AS dosage_amount FROM ("
     + _INTERVALS.format(start="effective_from", end="effective_to", table="ref_asp_pricing", valid_from="ri.d") + ") a", True),
    # a quarter's MUE table is in force in that quarter only: outside it there is no MUE (never
    # another quarter's value); the intervals are per setting (each setting is its own table)
    ("mue_dos", """
     WITH r AS (SELECT setting, effective_from AS d, max(effective_to) AS e FROM ref_mue GROUP BY ALL),
     ri AS (SELECT setting, d, least(coalesce(lead(d) OVER (PARTITION BY setting ORDER BY d), DATE '9999-12-31'),
                                     coalesce(CAST(e + INTERVAL 1 DAY AS DATE), DATE '9999-12-31')) AS valid_to FROM r)
     SELECT m.*, ri.d AS valid_from, ri.valid_to FROM ref_mue m JOIN ri ON ri.setting = m.setting AND ri.d = m.effective_from
     """, True),
    # OPPS Addendum B: a quarter's status indicators are in force in that quarter only (as MUEs)
    ("opps_dos", """
     WITH r AS (SELECT effective_from AS d, max(effective_to) AS e FROM ref_opps_addendum_b GROUP BY ALL),
     ri AS (SELECT d, least(coalesce(lead(d) OVER (ORDER BY d), DATE '9999-12-31'),
                            coalesce(CAST(e + INTERVAL 1 DAY AS DATE), DATE '9999-12-31')) AS valid_to FROM r)
     SELECT o.hcpcs, o.status_indicator, o.apc, o.payment_rate, o.release, ri.d AS valid_from, ri.valid_to
     FROM ref_opps_addendum_b o JOIN ri ON ri.d = o.effective_from
     """, True),
    # ICD-10-CM: the CDC list of the fiscal year (October 1; the April update from April 1) decides
    # where one is held; the partial CMS Section 111 list ('cms') only for dates no CDC release
    # covers. Intervals per list; only what RC601/RC603 read (98,000 codes: no descriptions)
    ("icd10_dos", """
     WITH i AS (SELECT release, code, billable, effective_from, effective_to,
                       CASE WHEN source_format = 'cms_valid_list' THEN 'cms' ELSE 'cdc' END AS list FROM ref_icd10),
     r AS (SELECT list, effective_from AS d, max(effective_to) AS e FROM i GROUP BY ALL),
     ri AS (SELECT list, d, least(coalesce(lead(d) OVER (PARTITION BY list ORDER BY d), DATE '9999-12-31'),
                                  coalesce(CAST(e + INTERVAL 1 DAY AS DATE), DATE '9999-12-31')) AS valid_to FROM r)
     SELECT i.release, i.list, i.code, bool_or(i.billable) AS billable, ri.d AS valid_from, ri.valid_to
     FROM i JOIN ri ON ri.list = i.list AND ri.d = i.effective_from
     GROUP BY i.release, i.list, i.code, ri.d, ri.valid_to
     """, True),
    (
        "xw_dos",
        # one row per NDC x code x release (the crosswalk may repeat an NDC row)
        """
        SELECT ndc11, hcpcs, valid_from, valid_to, max(release) AS release, max(drug_name) AS drug_name,
               max(hcpcs_dosage) AS hcpcs_dosage, max(package_size) AS package_size,
               max(package_quantity) AS package_quantity, max(billing_units) AS billing_units,
               max(billing_units_per_package) AS billing_units_per_package
        FROM (""" + _INTERVALS.format(start="effective_from", end="CAST(NULL AS DATE)", table="ref_ndc_crosswalk", valid_from="ri.d") + """) x
        GROUP BY ndc11, hcpcs, valid_from, valid_to
        """,
        True,
    ),
    (
        # per NDC and release: the codes the crosswalk assigns it to (small: one row per NDC)
        "ndc_codes_dos",
        """
        SELECT ndc11, valid_from, valid_to, count(DISTINCT hcpcs) AS ndc_code_count, min(hcpcs) AS ndc_code,
               max(hcpcs) AS ndc_code_max, min(drug_name) AS ndc_drug_name, max(release) AS ndc_release
        FROM xw_dos GROUP BY ndc11, valid_from, valid_to
        """,
        True,
    ),
    (
        # per code and release: how many NDCs the crosswalk lists for it
        "code_ndcs_dos",
        """
        SELECT hcpcs, valid_from, valid_to, count(DISTINCT ndc11) AS code_ndc_count, min(ndc11) AS code_ndc_first
        FROM xw_dos GROUP BY hcpcs, valid_from, valid_to
        """,
        True,
    ),
    (
        # a claim's policy depends only on its payer id and filing indicator: decided once per
        # pair (a handful), not per claim. Strongest match first (see policy_tables): a given
        # policy by payer id, by filing indicator, a given catch-all; then the built-in default
        # by filing indicator (Medicare MA/MB, Medicaid MC), else the payer-neutral one
        "payer_policy",
        """
        WITH k AS (SELECT DISTINCT payer_id, claim_filing_indicator FROM claims),
        m AS (
          SELECT k.payer_id, k.claim_filing_indicator, p.policy_id, p.priority,
                 CASE pm.kind WHEN 'payer_id' THEN 0 WHEN 'filing' THEN 1 WHEN 'any' THEN 2
                      WHEN 'default_payer_id' THEN 3 WHEN 'default_filing' THEN 4 ELSE 5 END AS strength
          FROM k
          JOIN policy_match pm ON (pm.kind IN ('payer_id', 'default_payer_id') AND pm.value = upper(k.payer_id))
                               OR (pm.kind IN ('filing', 'default_filing') AND pm.value = upper(k.claim_filing_indicator))
                               OR pm.kind IN ('any', 'default_any')
          JOIN policies p ON p.policy_id = pm.policy_id
        ), ranked AS (
          SELECT payer_id, claim_filing_indicator, policy_id,
                 row_number() OVER (PARTITION BY payer_id, claim_filing_indicator ORDER BY strength, priority) AS rn
          FROM m
        )
        SELECT payer_id, claim_filing_indicator, policy_id FROM ranked WHERE rn = 1
        """,
        True,
    ),
    (
        # one row per claim with what its lines need: joined to the lines once, in line_facts.
        # A view: read twice (line_facts, the findings' claim columns), which costs less than
        # writing its rows into a table (1M lines: ~0.35 CPU-s less)
        "claim_facts",
        """
        SELECT c.claim_id, c.patient_control_number, c.patient_id, c.payer_id, c.claim_filing_indicator, c.claim_type,
               c.billing_npi, c.frequency_code, c.type_of_bill, c.prior_auth_number, c.place_of_service,
               c.statement_from, c.file_id, pp.policy_id,
               -- tested by one edit each: kept as flags (a string costs line_facts ~3x a flag)
               substr(coalesce(c.type_of_bill, ''), 1, 2) IN ('71', '77') AS rhc_fqhc_bill,
               -- the NCCI MUE table of the claim's setting: 837I outpatient hospital; a billing
               -- provider of NUCC taxonomy 332B... (Durable Medical Equipment & Medical Supplies) a
               -- DME supplier; else practitioner
               CASE WHEN c.claim_type = 'institutional' THEN 'outpatient_hospital'
                    WHEN c.billing_taxonomy LIKE '332B%' THEN 'dme' ELSE 'practitioner' END AS mue_setting,
               coalesce(fl.format, 'x12') = 'x12' AS from_x12
        FROM claims c
        JOIN payer_policy pp ON pp.payer_id IS NOT DISTINCT FROM c.payer_id
             AND pp.claim_filing_indicator IS NOT DISTINCT FROM c.claim_filing_indicator
        LEFT JOIN (SELECT file_id, max(format) AS format FROM files GROUP BY file_id) fl ON fl.file_id = c.file_id
        """,
        False,
    ),
    (
        # the dates where some reference release starts or ends: between two of them every
        # reference table has the same rows in force, so a line's reference facts depend only on
        # its code, its NDC and the epoch its date of service falls in
        "ref_epochs",
        """
        WITH b AS (
          SELECT valid_from AS d FROM hcpcs_dos UNION SELECT valid_to FROM hcpcs_dos
          UNION SELECT valid_from FROM asp_dos UNION SELECT valid_to FROM asp_dos
          UNION SELECT valid_from FROM xw_dos UNION SELECT valid_to FROM xw_dos
          UNION SELECT DATE '9999-12-31'
        )
        SELECT d AS epoch, lead(d) OVER (ORDER BY d) AS epoch_end FROM b
        """,
        True,
    ),
    (
        # each date of service of the batch (line date, else claim statement date) -> its epoch
        "dos_epochs",
        """
        WITH d AS (SELECT DISTINCT service_date AS dos FROM lines WHERE service_date IS NOT NULL
                   UNION SELECT DISTINCT statement_from FROM claims WHERE statement_from IS NOT NULL)
        SELECT d.dos, e.epoch FROM d JOIN ref_epochs e ON d.dos >= e.epoch AND (e.epoch_end IS NULL OR d.dos < e.epoch_end)
        """,
        True,
    ),
    (
        # the reference facts of each code x NDC of the batch in each epoch (small: computed
        # once per distinct key, not once per line)
        "key_facts",
        # The drug given: when the crosswalk assigns the line's NDC to exactly one code and not to
        # the billed one (RC103/RC104), the drug-dependent facts (drug, unit, ASP, crosswalk row)
        # are those of the NDC's code (drug_code), so JW/JZ, units and package edits judge the
        # product given in the same run as the code finding; the billed code's own facts (valid
        # on the date? NOC?) stay as billed. billed_unit_* / drug_unit_*: the billing unit as
        # (family, amount in the family's base unit), to convert units between the two codes
        """
        WITH k AS (
          -- numbered here, on the three key columns (numbering the joined rows sorted every fact)
          SELECT kk.procedure_code, kk.ndc11, e.epoch,
                 row_number() OVER (ORDER BY kk.procedure_code, kk.ndc11, e.epoch) AS fact_key
          FROM (SELECT DISTINCT procedure_code, ndc11 FROM lines) kk CROSS JOIN ref_epochs e
        ), xw_releases AS (
          SELECT valid_from, valid_to, max(release) AS release FROM xw_dos GROUP BY valid_from, valid_to
        ), b AS (
          SELECT k.*, h.code IS NOT NULL AS hcpcs_known, h.release AS hcpcs_release, h.long_description,
            h.add_date, h.effective_date, h.termination_date, h.pricing_indicator, h.coverage_code,
            coalesce(h.is_noc, false) AS is_noc,
            coalesce(h.unit_amount, a.dosage_amount) AS billed_unit_amount,
            coalesce(h.unit_uom, """ + _asp_uom("a.dosage") + """) AS billed_unit_uom,
            coalesce(n.ndc_code_count, 0) AS ndc_code_count, n.ndc_code, n.ndc_code_max, n.ndc_drug_name, n.ndc_release,
            coalesce(cn.code_ndc_count, 0) AS code_ndc_count, cn.code_ndc_first, xr.release AS xw_in_force,
            coalesce(h.is_drug, h.pricing_indicator = '51', false) AS billed_is_drug,
            -- only a drug (or NOC) line is the drug: an NDC on an administration line (96372) does
            -- not make that line the drug's
            CASE WHEN n.ndc_code_count = 1 AND x.hcpcs IS NULL AND n.ndc_code <> k.procedure_code
                      AND (coalesce(h.is_drug, h.pricing_indicator = '51', false) OR coalesce(h.is_noc, false))
                 THEN n.ndc_code ELSE k.procedure_code END AS drug_code
          FROM k
          LEFT JOIN hcpcs_dos h ON h.kind = 'procedure' AND h.code = k.procedure_code
               AND k.epoch >= h.valid_from AND k.epoch < h.valid_to
          LEFT JOIN asp_dos a ON a.hcpcs = k.procedure_code AND k.epoch >= a.valid_from AND k.epoch < a.valid_to
          LEFT JOIN xw_dos x ON x.ndc11 = k.ndc11 AND x.hcpcs = k.procedure_code
               AND k.epoch >= x.valid_from AND k.epoch < x.valid_to
          LEFT JOIN ndc_codes_dos n ON n.ndc11 = k.ndc11 AND k.epoch >= n.valid_from AND k.epoch < n.valid_to
          LEFT JOIN code_ndcs_dos cn ON cn.hcpcs = k.procedure_code AND k.epoch >= cn.valid_from AND k.epoch < cn.valid_to
          LEFT JOIN xw_releases xr ON k.epoch >= xr.valid_from AND k.epoch < xr.valid_to
        ), d AS (
          SELECT b.*, b.drug_code <> b.procedure_code AS code_swapped,
            h.long_description AS drug_description,
            coalesce(h.is_drug, h.pricing_indicator = '51', false) AS is_drug,
            coalesce(h.unit_amount, a.dosage_amount) AS unit_amount,
            coalesce(h.unit_uom, """ + _asp_uom("a.dosage") + """) AS unit_uom,
            a.release AS asp_release, a.payment_limit, a.dosage AS asp_dosage,
            x.release AS xw_release, x.drug_name, x.billing_units AS xw_units_per_item,
            coalesce(x.billing_units_per_package, x.billing_units * x.package_quantity) AS xw_units_per_ndc,
            x.package_size AS xw_package_size
          FROM b
          LEFT JOIN hcpcs_dos h ON h.kind = 'procedure' AND h.code = b.drug_code
               AND b.epoch >= h.valid_from AND b.epoch < h.valid_to
          LEFT JOIN asp_dos a ON a.hcpcs = b.drug_code AND b.epoch >= a.valid_from AND b.epoch < a.valid_to
          LEFT JOIN xw_dos x ON x.ndc11 = b.ndc11 AND x.hcpcs = b.drug_code
               AND b.epoch >= x.valid_from AND b.epoch < x.valid_to
        )
        SELECT d.fact_key, d.procedure_code AS code_key, d.ndc11 AS ndc_key, d.epoch,
          d.hcpcs_known, d.hcpcs_release, d.long_description, d.add_date, d.effective_date, d.termination_date,
          d.pricing_indicator, d.coverage_code, d.is_noc, d.billed_is_drug, d.billed_unit_amount, d.billed_unit_uom,
          d.drug_code, d.code_swapped, d.drug_description, d.is_drug, d.unit_amount, d.unit_uom,
          d.asp_release, d.payment_limit, d.asp_dosage,
          d.xw_release, d.drug_name, d.xw_units_per_item, d.xw_units_per_ndc, d.xw_package_size,
          -- the billed code is the one the crosswalk lists for the NDC
          d.xw_release IS NOT NULL AND NOT d.code_swapped AS xw_listed,
          d.ndc_code_count, d.ndc_code, d.ndc_code_max, d.ndc_drug_name, d.ndc_release,
          d.code_ndc_count, d.code_ndc_first, d.xw_in_force,
          """ + _unit_family("d.billed_unit_uom") + """ AS billed_unit_family,
          CAST(d.billed_unit_amount * """ + _unit_factor("d.billed_unit_uom") + """ AS DECIMAL(18,6)) AS billed_unit_base,
          """ + _unit_family("d.unit_uom") + """ AS drug_unit_family,
          CAST(d.unit_amount * """ + _unit_factor("d.unit_uom") + """ AS DECIMAL(18,6)) AS drug_unit_base
        FROM d
        """,
        True,
    ),
    (
        # narrow on purpose (every edit scans it, and writing it costs ~0.03 CPU-s per column per
        # 1M lines): what edits only print (descriptors, drug names, release names, the second
        # code, the suggested NDC, the unit of measure) stays in key_facts, which an edit joins
        # on fact_key for its findings only; claim columns no edit reads stay out
        "line_facts",
        """
        WITH l AS (
          SELECT l.claim_id, l.line_number, coalesce(l.service_date, c.statement_from) AS dos, l.procedure_qualifier,
                 l.procedure_code, l.modifier_1, l.modifier_2, l.modifier_3, l.modifier_4, l.description, l.charge,
                 l.units, l.ndc_qualifier, l.ndc, l.ndc11, l.ndc_quantity, l.ndc_unit, l.dx_pointer_1,
                 c.patient_control_number, c.patient_id, c.claim_type, c.billing_npi, c.frequency_code,
                 c.rhc_fqhc_bill, c.from_x12, c.mue_setting,
                 coalesce('JW' IN (l.modifier_1, l.modifier_2, l.modifier_3, l.modifier_4), false) AS has_jw,
                 coalesce(l.prior_auth_number, c.prior_auth_number) AS auth_number,
                 coalesce(l.place_of_service, c.place_of_service) AS pos,
                 c.policy_id
          FROM lines l JOIN claim_facts c ON c.claim_id = l.claim_id
        )
        SELECT
          l.claim_id, l.line_number, l.dos AS service_date, l.procedure_code,
          l.modifier_1, l.modifier_2, l.modifier_3, l.modifier_4, l.charge, l.units,
          l.ndc_qualifier, l.ndc, l.ndc11, l.ndc_quantity, l.ndc_unit, l.dx_pointer_1,
          l.patient_control_number, l.patient_id, l.billing_npi, l.pos AS place_of_service, l.policy_id,
          -- what edits test of a string, as a flag: a flag costs a third of a string to write
          coalesce(l.frequency_code, '1') = '1' AS original_claim,
          coalesce(l.frequency_code, '1') = '8' AS void_claim,
          coalesce(l.procedure_qualifier, 'HC') = 'HC' AS hcpcs_qualified,
          coalesce(trim(l.description) <> '', false) AS has_description,
          coalesce(trim(l.auth_number) <> '', false) AS has_auth,
          l.rhc_fqhc_bill, l.from_x12,
          l.has_jw,
          coalesce('JZ' IN (l.modifier_1, l.modifier_2, l.modifier_3, l.modifier_4), false) AS has_jz,
          coalesce('TB' IN (l.modifier_1, l.modifier_2, l.modifier_3, l.modifier_4), false) AS has_tb,
          coalesce('JG' IN (l.modifier_1, l.modifier_2, l.modifier_3, l.modifier_4), false) AS has_jg,
          -- an NDC was given: four edits test it, trimming every NDC once here instead of four times
          coalesce(trim(l.ndc) <> '', false) AS has_ndc,
          -- RC703 counts this hash over every line: computed here, once, not twice in the edit
          """ + _duplicate_key("l.patient_id", "l.billing_npi", "l.dos", "l", "coalesce(k.is_noc, false)") + """ AS duplicate_key,
          -- a line whose date falls in no epoch (none, or before every release) has no reference row
          k.fact_key,
          coalesce(k.hcpcs_known, false) AS hcpcs_known,
          k.add_date, k.effective_date, k.termination_date,
          coalesce(k.is_drug, false) AS is_drug, k.unit_amount, coalesce(k.is_noc, false) AS is_noc,
          k.payment_limit,
          coalesce(k.xw_listed, false) AS xw_listed, k.xw_units_per_item,
          -- the drug given (key_facts: the NDC's code when the billed code is not the NDC's) and
          -- its units: as billed, or converted from the billed code (see _drug_units)
          coalesce(k.drug_code, l.procedure_code) AS drug_code, coalesce(k.code_swapped, false) AS code_swapped,
          """ + _DRUG_UNITS + """ AS drug_units,
          CAST(""" + _DRUG_UNITS_SOURCE + """ AS TINYINT) AS drug_units_source,
          coalesce(k.ndc_code_count, 0) AS ndc_code_count,
          coalesce(k.code_ndc_count, 0) AS code_ndc_count,
          -- billing units the NDC quantity on the line holds (of the drug code)
          """ + _NDC_MAX_UNITS + """ AS ndc_max_units,
          m.mue_value, m.mai,
          -- 837I: the OPPS status indicator of the drug given in the Addendum B quarter in force
          -- (NULL: not an institutional line, no quarter held covers the date, or the code is not in it)
          coalesce(l.claim_type = 'institutional', false) AS institutional, o.status_indicator AS opps_si,
          -- the payment expected for the code billed (none for a code the NDC is not billed under)
          CAST(CASE WHEN NOT coalesce(k.code_swapped, false) THEN k.payment_limit * l.units END AS DECIMAL(18,2)) AS expected_payment,
          -- rounded before the coalesce: coalescing the 38-digit product with the charge is slow
          -- (of the drug given; after a code swap no more than what the NDC quantity holds)
          coalesce(CAST(k.payment_limit * """ + _AT_RISK_UNITS + """ AS DECIMAL(18,2)), l.charge) AS at_risk
        FROM l
        LEFT JOIN dos_epochs e ON e.dos = l.dos
        LEFT JOIN key_facts k ON k.code_key IS NOT DISTINCT FROM l.procedure_code AND k.ndc_key IS NOT DISTINCT FROM l.ndc11
             AND k.epoch = e.epoch
        LEFT JOIN mue_dos m ON m.hcpcs = l.procedure_code
             AND m.setting = l.mue_setting
             AND l.dos >= m.valid_from AND l.dos < m.valid_to
        LEFT JOIN opps_dos o ON l.claim_type = 'institutional' AND o.hcpcs = coalesce(k.drug_code, l.procedure_code)
             AND l.dos >= o.valid_from AND l.dos < o.valid_to
        """,
        True,
    ),
    (
        # original claims (batch or history) a replacement (frequency 7) or void (8) of the same
        # claim supersedes: same CLM01, billing NPI and patient (a replacement keeps the
        # original's CLM01, X12 RFI 1945), and a history replacement a batch one supersedes.
        # Their lines are no longer billed: patient_lines leaves them out, so RC204/RC701/RC703
        # do not count an original with the claim that replaces it. Small (most batches: none)
        "superseded_claims",
        """
        WITH c AS (
          SELECT 'batch' AS source, claim_id, patient_control_number AS pcn, billing_npi, patient_id,
                 coalesce(frequency_code, '1') AS freq FROM claims
          UNION ALL
          SELECT 'history', claim_id, patient_control_number, billing_npi, patient_id, coalesce(frequency_code, '1')
          FROM history_claims
        ), r AS (
          -- the replacements and voids (few; most batches none): the hash side of the join
          SELECT DISTINCT source, pcn, billing_npi, patient_id FROM c WHERE freq IN ('7', '8') AND pcn IS NOT NULL
        )
        SELECT DISTINCT c.claim_id FROM c JOIN r ON c.pcn = r.pcn AND c.billing_npi IS NOT DISTINCT FROM r.billing_npi
             AND c.patient_id IS NOT DISTINCT FROM r.patient_id
        WHERE c.freq NOT IN ('7', '8') OR (c.freq = '7' AND c.source = 'history' AND r.source = 'batch')
        """,
        True,
    ),
    (
        "patient_lines",
        # every line of the patient's we know of: this batch and the history (earlier claims);
        # 'source' tells them apart; voided claims (frequency 8) and the originals a replacement
        # or void supersedes (superseded_claims) do not count. A batch line carries its is_drug
        # and at_risk, so an edit needs no join back to line_facts
        """
        SELECT 'batch' AS source, lf.claim_id, lf.line_number, lf.patient_id, lf.billing_npi, lf.service_date, lf.procedure_code,
               lf.units, lf.ndc11, lf.modifier_1, lf.modifier_2, lf.modifier_3, lf.modifier_4, lf.charge, lf.patient_control_number,
               lf.is_drug, lf.at_risk, lf.duplicate_key, lf.is_noc
        FROM line_facts lf LEFT JOIN superseded_claims s ON s.claim_id = lf.claim_id
        WHERE NOT lf.void_claim AND s.claim_id IS NULL
        UNION ALL
        SELECT 'history' AS source, l.claim_id, l.line_number, c.patient_id, c.billing_npi,
               coalesce(l.service_date, c.statement_from) AS service_date, l.procedure_code, l.units, l.ndc11,
               l.modifier_1, l.modifier_2, l.modifier_3, l.modifier_4, l.charge, c.patient_control_number,
               CAST(NULL AS BOOLEAN) AS is_drug, CAST(NULL AS DECIMAL(18,2)) AS at_risk,
               """ + _duplicate_key("c.patient_id", "c.billing_npi", "coalesce(l.service_date, c.statement_from)", "l",
                                    "noc.code IS NOT NULL") + """ AS duplicate_key,
               noc.code IS NOT NULL AS is_noc
        FROM history_lines l JOIN history_claims c ON c.claim_id = l.claim_id
        LEFT JOIN superseded_claims s ON s.claim_id = c.claim_id
        LEFT JOIN (SELECT DISTINCT code FROM hcpcs_dos WHERE kind = 'procedure' AND is_noc) noc ON noc.code = l.procedure_code
        WHERE coalesce(c.frequency_code, '1') <> '8' AND s.claim_id IS NULL
        """,
        False,
    ),
]


def _text(column: str) -> str:
    """An argument as text: quantities lose a '.000' tail (60.000 units -> 60 units)."""
    s = f"CAST(f.{column} AS VARCHAR)"
    return f"(CASE WHEN {s} LIKE '%.000' THEN substr({s}, 1, length({s}) - 4) ELSE {s} END)"


def _template_sql(template: str | None, *, fix: bool = False, fallback: str | None = None) -> str:
    """A message template as a SQL string expression: literal text and arg columns as text.
    In a message a missing arg shows as '?'; a fix with a missing arg becomes ``fallback``
    (or no fix text): a half-filled instruction is worse than none."""
    import string

    if template is None:
        return "CAST(NULL AS VARCHAR)"
    parts, names = [], []
    for literal, name, _, _ in string.Formatter().parse(template):
        if literal:
            parts.append("'" + literal.replace("'", "''") + "'")
        if name:
            names.append(name)
            parts.append(f"coalesce({_text(name)}, '?')")
    expr = "(" + " || ".join(parts or ["''"]) + ")"
    if not fix or not names:
        return expr
    missing = " OR ".join(f"f.{n} IS NULL" for n in names)
    alt = _template_sql(fallback) if fallback is not None else "CAST(NULL AS VARCHAR)"
    return f"(CASE WHEN {missing} THEN {alt} ELSE {expr} END)"


def _edit_sql(e: Edit) -> str:
    fix_value = "CAST(f.fix_value AS VARCHAR)" if e.fix_action else "CAST(NULL AS VARCHAR)"
    fix_action = "CAST(NULL AS VARCHAR)"
    if e.fix_action:
        # a fix applies only when the SQL produced a value for it
        fix_action = f"CASE WHEN f.fix_value IS NULL THEN CAST(NULL AS VARCHAR) ELSE '{e.fix_action}' END"
    return f"""
    SELECT '{e.code}' AS code, f.claim_id AS claim_id, CAST(f.line_number AS INTEGER) AS line_number,
           CAST(f.service_date AS DATE) AS service_date, CAST(f.procedure_code AS VARCHAR) AS procedure_code,
           {_template_sql(e.message)} AS message,
           coalesce({_template_sql(e.fix, fix=True, fallback=e.fix_fallback)}, {_literal(e.manual_fix)}) AS fix,
           {fix_action} AS fix_action, {fix_value} AS fix_value,
           CAST(f.dollars_at_risk AS DECIMAL(18,2)) AS dollars_at_risk, {_literal(e.denials_text)} AS denials
    FROM ({e.sql}) f"""


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def raw_findings_sql(edits: list[Edit]) -> str:
    """Every edit's findings, assuming a view ``finding_<CODE>`` per edit (each edit's SQL stays
    a statement of its own: its CTE names cannot collide with another edit's)."""
    return "\nUNION ALL\n".join(f"SELECT * FROM finding_{e.code}" for e in edits)


#: the findings (materialised as ``raw_findings``, each with its line's date and code) with their
#: edit, claim and policy; the joins are written small side last (run in written order): the hash
#: tables are built on the findings, and the claims are only scanned
FINDINGS_SQL = """
WITH r AS (
  SELECT r.*, k.name, k.severity AS default_severity, k.category
  FROM raw_findings r JOIN edit_catalog k ON k.code = r.code
), rc AS (
  SELECT r.*, c.patient_control_number, c.policy_id, c.file_id FROM claim_facts c JOIN r ON c.claim_id = r.claim_id
)
SELECT rc.code, rc.name, coalesce(pe.severity, rc.default_severity) AS severity, rc.category,
       rc.claim_id, rc.patient_control_number, rc.line_number, rc.service_date, rc.procedure_code,
       rc.message, rc.fix, rc.fix_action, rc.fix_value, rc.dollars_at_risk, rc.policy_id, rc.denials, rc.file_id
FROM rc
LEFT JOIN policy_edits pe ON pe.policy_id = rc.policy_id AND pe.code = rc.code
WHERE coalesce(pe.enabled, true)
ORDER BY rc.claim_id, rc.line_number NULLS FIRST, rc.code, rc.message
"""


@dataclass
class Findings:
    """What ``check`` found: one row per finding (:data:`FINDINGS`) and a summary.

    ``claim_files`` (claim_id, file_id) names the file of each claim with a finding; ``files``
    and ``read_issues`` are the inputs read and the problems met reading them (model schemas),
    so a caller can say where each finding came from and what was skipped."""

    table: pa.Table
    edits: list[Edit]
    policies: list[Policy]
    engine: str
    claims: int
    lines: int
    notes: list[str] = field(default_factory=list)
    claim_files: pa.Table = field(default_factory=lambda: pa.table({"claim_id": pa.array([], pa.string()),
                                                                   "file_id": pa.array([], pa.string())}))
    files: pa.Table = field(default_factory=FILES.empty_table)
    read_issues: pa.Table = field(default_factory=READ_ISSUES.empty_table)
    #: the policy each claim got, counted: policy_id, name, is_default (a built-in default: no
    #: policy given matched), not_checked (what it cannot know), claims
    claim_policies: pa.Table | None = None
    #: wall seconds per stage (input, each PREP table, edits, findings): where a run's time went
    timings: dict[str, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return self.table.num_rows

    @property
    def errors(self) -> int:
        return sum(1 for s in self.table.column("severity").to_pylist() if s == "error")

    def summary(self) -> dict[str, Any]:
        """Counts by code and severity, and dollars at risk (each line counted once, at its
        largest amount, so three findings on one line do not triple the total)."""
        con = duckdb.connect()
        try:
            con.register("f", self.table)
            by_code = con.execute(
                "SELECT code, name, severity, count(*) AS findings, count(DISTINCT claim_id) AS claims, "
                "coalesce(sum(dollars_at_risk), 0) AS dollars FROM f GROUP BY ALL ORDER BY code, severity"
            ).fetchall()
            by_sev = dict(con.execute("SELECT severity, count(*) FROM f GROUP BY 1").fetchall())
            at_risk = con.execute(
                "SELECT coalesce(sum(d), 0) FROM (SELECT max(dollars_at_risk) AS d FROM f "
                "WHERE severity = 'error' GROUP BY claim_id, line_number)"
            ).fetchone()[0]
            flagged = con.execute("SELECT count(DISTINCT claim_id) FROM f WHERE severity = 'error'").fetchone()[0]
        finally:
            con.close()
        return {
            "claims": self.claims,
            "lines": self.lines,
            "claims_with_errors": flagged,
            "findings": self.table.num_rows,
            "by_severity": {s: by_sev.get(s, 0) for s in ("error", "warning", "info")},
            "by_code": [
                {"code": c, "name": n, "severity": s, "findings": k, "claims": cl, "dollars_at_risk": str(d)}
                for c, n, s, k, cl, d in by_code
            ],
            "dollars_at_risk": str(at_risk),
            "engine": self.engine,
            "policies": [p.id for p in self.policies],
            "policies_applied": [] if self.claim_policies is None else self.claim_policies.to_pylist(),
            "notes": list(self.notes),
        }


def _register_batch(backend, batch: ClaimBatch, prefix: str = "") -> None:
    for name in INPUT_TABLES:
        backend.register(prefix + name, batch[name])


def check(
    batch: ClaimBatch,
    *,
    store: Any,
    policies: list[Policy] | list[str] | None = None,
    history: ClaimBatch | None = None,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    engine: str = "duckdb",
    date_of_check: dt.date | None = None,
    billing_state: str | None = None,
) -> Findings:
    """Run the edit catalog over ``batch`` (claims already in memory; for files use
    :func:`check_files`, which streams them).

    ``store``: the reference store (``RefStore``, or the path of its DuckDB file);
    ``policies``: Policy objects or files/built-in names, the first being the default for claims
    no policy claims by payer id or filing indicator (default: built-in Medicare, Medicaid);
    ``history``: earlier claims of the same patients (frequency limits, duplicates);
    ``select`` / ``ignore``: edit codes, prefixes or categories; ``engine``: duckdb or spark;
    ``billing_state``: the billing provider's state (the ``billing_state`` setting), which picks
    the MAC whose coverage articles apply (RC604).
    """

    def feed(backend) -> tuple[int, int, pa.Table, pa.Table]:
        _register_batch(backend, batch)
        _register_batch(backend, history if history is not None else ClaimBatch(), "history_")
        return batch["claims"].num_rows, batch["lines"].num_rows, batch["files"], batch["read_issues"]

    return _run(feed, store=store, policies=policies, select=select, ignore=ignore, engine=engine,
                date_of_check=date_of_check, billing_state=billing_state)


def check_files(
    paths: Iterable[Path | str],
    *,
    store: Any,
    policies: list[Policy] | list[str] | None = None,
    history: Iterable[Path | str] = (),
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    engine: str = "duckdb",
    date_of_check: dt.date | None = None,
    progress: Any = None,
    billing_state: str | None = None,
) -> Findings:
    """:func:`check` over claim files (X12 837P/837I, CSV/XLSX, FHIR, or the normalized Parquet
    tables ``reclaim convert`` writes) and ``history`` files, streamed into the engine by
    :func:`reclaim.claims.io.load_into`: X12 block by block, Parquet read by DuckDB in
    parallel, never the whole input in Python. ``Findings.read_issues`` lists what could not
    be read (it was skipped; the rest is checked)."""

    def feed(backend) -> tuple[int, int, pa.Table, pa.Table]:
        loaded = backend.load(paths, progress=progress)
        issues = [loaded.read_issues]
        if history:
            issues.append(backend.load(history, prefix="history_").read_issues)
        else:
            _register_batch(backend, ClaimBatch(), "history_")
        return loaded.counts["claims"], loaded.counts["lines"], loaded.files, pa.concat_tables(issues)

    return _run(feed, store=store, policies=policies, select=select, ignore=ignore, engine=engine,
                date_of_check=date_of_check, billing_state=billing_state)


def _run(feed, *, store, policies, select, ignore, engine, date_of_check, billing_state=None) -> Findings:
    """The engine proper: ``feed(backend)`` puts the input tables (``claims``, ``lines``,
    ``diagnoses``, ``files`` and their ``history_`` twins) into the backend and returns
    (claims, lines, files, read_issues); then the PREP views, the edits, the findings."""
    edits = resolve(select, ignore)
    if not policies or not isinstance(policies[0], Policy):
        policies = load_policies(policies or None)  # type: ignore[arg-type]
    codes = [e.code for e in edits]
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round(now - clock, 4)
        clock = now

    backend = make_backend(engine, store)
    notes: list[str] = []
    try:
        n_claims, n_lines, files, read_issues = feed(backend)
        lap("input")
        defaults = default_policies(policies)  # type: ignore[arg-type]
        tables = policy_tables(policies, codes, list(catalog()), defaults=defaults,  # type: ignore[arg-type]
                               date_of_check=date_of_check or dt.date.today())
        for name, table in tables.items():
            backend.register(name, table)
        backend.register(
            "edit_catalog",
            pa.table({
                "code": [e.code for e in edits], "name": [e.name for e in edits],
                "severity": [e.severity for e in edits], "category": [e.category for e in edits],
            }),
        )
        backend.register("run_params", pa.table({"date_of_check": pa.array([date_of_check or dt.date.today()], pa.date32()),
                                                 "billing_state": pa.array([(billing_state or "").strip().upper() or None], pa.string())}))
        for name, sql, materialize in PREP:
            if materialize:
                backend.materialize(name, sql, written_order=True)
                lap(name)
            else:
                backend.view(name, sql)
        for e in edits:
            backend.view(f"finding_{e.code}", _edit_sql(e))
        if edits:
            # DuckDB: a table, so the final join can run in written order without fixing the
            # edits' own join order; Spark: a view (caching the union of every edit's plan
            # exhausts the driver's heap)
            (backend.materialize if backend.name == "duckdb" else backend.view)("raw_findings", raw_findings_sql(edits))
            lap("edits")
            table = backend.query(FINDINGS_SQL, written_order=True)
            lap("findings")
        else:
            table = FINDINGS.empty_table().append_column("file_id", pa.array([], pa.string()))
        # every claim's policy, counted (the findings name it per row; this covers clean claims)
        claim_policies = backend.query(
            "SELECT p.policy_id, p.name, p.is_default, p.not_checked, count(c.claim_id) AS claims "
            "FROM policies p JOIN claim_facts c ON c.policy_id = p.policy_id "
            "GROUP BY p.policy_id, p.name, p.is_default, p.not_checked, p.priority ORDER BY p.priority")
        missing = {"mue": "MUE", "icd10": "ICD-10-CM", "asp_pricing": "ASP pricing", "ndc_crosswalk": "NDC-HCPCS crosswalk", "hcpcs": "HCPCS"}
        for ref, label in missing.items():
            if ref not in backend.ref_tables:
                notes.append(f"the reference store has no {label} table ({ref}): edits that need it found nothing")
        if edits:  # dates no release held covers: said once per run (reclaim.edits.in_force)
            notes += release_notes(backend, codes, billing_state)
    finally:
        backend.close()
    return Findings(
        table=table.select(FINDINGS.names).cast(FINDINGS),
        edits=edits,
        policies=[*policies, *defaults],  # type: ignore[arg-type]
        claim_policies=claim_policies,
        engine=engine,
        claims=n_claims,
        lines=n_lines,
        notes=notes,
        claim_files=_claim_files(table),
        files=files,
        read_issues=read_issues,
        timings=timings,
    )


def _claim_files(table: pa.Table) -> pa.Table:
    """(claim_id, file_id), once per claim with findings."""
    con = duckdb.connect()
    try:
        con.register("t", table.select(["claim_id", "file_id"]))
        return con.execute("SELECT DISTINCT claim_id, file_id FROM t").to_arrow_table()
    finally:
        con.close()
