"""Small data tables the billing guide needs that no official file carries as data.

* ``DRUG_MODIFIERS``: when each drug-line modifier applies. The modifier's descriptor and its
  dates always come from the HCPCS file; only the "when" text lives here, each row citing
  ``../shared/docs/domain-facts.md`` (section and source tag).
* ``COMMON_DENIALS``: the denials a drug line commonly meets, with the fix. CARC/RARC wording
  comes from the loaded X12 code lists; only the cause and fix live here, each row cited.
* :func:`code_tables`: meanings of the HCPCS coded fields (pricing indicator, coverage code, action
  code, BETOS) from the record-layout code tables. Only a DERIVED summary of the official layout
  text is available (``HCPC2026_recordlayout_codetables_DERIVED.csv``), so every meaning read
  from it is labelled DERIVED. ``reclaim data import`` loads it into the store's
  ``hcpcs_code_tables`` with the other files of the HCPCS release.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ModifierRule", "DenialRow", "DRUG_MODIFIERS", "COMMON_DENIALS", "CodeTables", "code_tables"]

FACTS = "domain-facts"


@dataclass(frozen=True)
class ModifierRule:
    code: str
    when: str
    cite: str


@dataclass(frozen=True)
class DenialRow:
    carc: str
    rarc: str | None
    cause: str
    fix: str
    cite: str
    #: "drug" (any drug line), "noc" (not-otherwise-classified codes), "mue" (when an MUE exists)
    applies_to: str = "drug"


DRUG_MODIFIERS: tuple[ModifierRule, ...] = (
    ModifierRule("JW", "Drug from a single-dose container with an amount discarded: bill the discarded units on a "
                       "separate line with JW (Medicare, required since 2017-01-01); the waste must be at least one "
                       "billing unit and be documented; never JW and JZ for the same drug and date.",
                 f"{FACTS} §3.1 [NOR-JW] [CMS-DDU] [ACR-WASTE] [QPRO-JZ]"),
    ModifierRule("JZ", "Drug from a single-dose container with nothing discarded: one line, HCPCS + JZ + units "
                       "administered (Medicare, required for dates of service on/after 2023-07-01; claims without "
                       "JW/JZ may be returned as unprocessable from 2023-10-01).",
                 f"{FACTS} §3.1 [CGS-JZ] [HHS-CR13056] [ZOTEC]"),
    ModifierRule("TB", "Drug acquired through the 340B program, reported by CAHs, rural SCHs, children's and "
                       "PPS-exempt cancer hospitals, Maryland hospitals and non-excepted off-campus PBDs; every "
                       "340B covered entity must report a 340B modifier since 2024-01-01.",
                 f"{FACTS} §3.2 [ESS-HOSP] [FORVIS] [RXTRAIL]"),
    ModifierRule("JG", "Drug acquired through the 340B program, other covered entities (§3.2); check the HCPCS "
                       "termination date shown: after it, JG is invalid on the date of service and TB is the "
                       "340B modifier.",
                 f"{FACTS} §0, §3.2 [ESS-HOSP] [RXTRAIL]"),
    ModifierRule("JA", "Route: administered intravenously, when the MAC asks for the route of a drug with more "
                       "than one route.", f"{FACTS} §3.3 [MODS-CS] [VISANTE]"),
    ModifierRule("JB", "Route: administered subcutaneously, when the MAC asks for the route of a drug with more "
                       "than one route.", f"{FACTS} §3.3 [MODS-CS] [VISANTE]"),
    ModifierRule("KX", "The payer's medical-policy requirements are met (when the policy asks for KX).",
                 f"{FACTS} §3.3 [MODS-CS]"),
    ModifierRule("GA", "An ABN was signed (expected denial as not reasonable and necessary): the patient may be "
                       "billed if it is denied.", f"{FACTS} §3.3 [MODS-CS] [CCE-MODS]"),
    ModifierRule("GZ", "Expected denial as not reasonable and necessary and no ABN on file: the patient cannot be "
                       "billed.", f"{FACTS} §3.3 [MODS-TS] [CCE-MODS]"),
)

COMMON_DENIALS: tuple[DenialRow, ...] = (
    DenialRow("16", "M119", "NDC missing, invalid or not matching the HCPCS code.",
              "Send N4 + the 11-digit NDC (5-4-2, no hyphens) in loop 2410 LIN03, one listed for this code in "
              "the NDC section.", f"{FACTS} §4.2 [X12-RFI2151] [OPENEMR-BU]"),
    DenialRow("16", "N815", "NDC unit count missing or invalid.",
              "Send the NDC quantity in 2410 CTP04.", f"{FACTS} §4.2 [X12-RFI2151] [OPENEMR-BU]"),
    DenialRow("16", "N816", "NDC unit of measure missing or invalid.",
              "Send F2, GR, ME, ML or UN in 2410 CTP05-1.", f"{FACTS} §4.2 [NUCC-1500] [OPENEMR-BU]"),
    DenialRow("4", None, "Required modifier missing or inconsistent (JW/JZ, 340B TB/JG, route).",
              "Add or correct the modifier; on Medicare a modifier error is clerical: request a reopening.",
              f"{FACTS} §9.2 [NOR-REOPEN]"),
    DenialRow("182", "M84", "Modifier invalid on the date of service (e.g. JG after its termination).",
              "Use the modifier valid on the date of service and resubmit.", f"{FACTS} §1.2, §9.2 [OPENEMR-BU]"),
    DenialRow("181", "M84", "Code invalid on the date of service (added later or terminated).",
              "Bill the code valid on the line's date of service (status above) and resubmit.",
              f"{FACTS} §1.2, §9.2 [OPENEMR-BU]"),
    DenialRow("151", "N362", "Units above the MUE or the payer's frequency limit (the whole line is denied).",
              "Check units against the dose (units = dose / billing unit, rounded up); MAI 3 may be appealed "
              "with records, MAI 2 cannot.", f"{FACTS} §6 [PALM-MUE] [FCSO-MUE] [OPENEMR-BU]", "drug"),
    DenialRow("11", None, "Diagnosis inconsistent with the drug.",
              "If miscoded, correct it (clerical: reopening); otherwise appeal with records.",
              f"{FACTS} §9.2 [NOR-REOPEN]"),
    DenialRow("167", "N115", "Diagnosis not covered by the LCD / billing and coding article.",
              "Check the covered ICD-10 list; recode if miscoded, else appeal (or ABN with GA next time).",
              f"{FACTS} §7, §9.2 [OPENEMR-BU]"),
    DenialRow("50", None, "Not deemed a medical necessity.",
              "Medicare: redetermination with the records; with a signed ABN (GA) the patient is liable.",
              f"{FACTS} §9.2, §10.3 (recovery action UNVERIFIED)"),
    DenialRow("197", None, "Prior authorization absent (commercial and Medicare Advantage payers).",
              "Obtain retro-authorization or appeal per the plan; send REF*G1 with the number.",
              f"{FACTS} §8 [CMS-MA-ST] [ANTHEM-SOC] (recovery action UNVERIFIED)"),
    DenialRow("189", "N657", "Not-otherwise-classified code billed when a specific code exists.",
              "Rebill with the specific code.", f"{FACTS} §1.5 [OPENEMR-ARC] [OPENEMR-BU]", "noc"),
    DenialRow("16", "N350", "NOC code without the drug description.",
              "Put drug name, dose and NDC in SV101-7 (5010), not in NTE.", f"{FACTS} §1.5 [PALM-NOC] [WPS-NOC]",
              "noc"),
)


@dataclass(frozen=True)
class CodeTables:
    """Field -> code -> meaning, from the store's ``hcpcs_code_tables`` (a DERIVED summary of
    the CMS record layout, imported with the HCPCS files)."""

    file_name: str | None
    tables: dict[str, dict[str, str]]

    def meaning(self, field: str, code: str | None) -> str | None:
        if not code:
            return None
        return self.tables.get(field, {}).get(code)

    @property
    def label(self) -> str:
        return f"DERIVED code table {self.file_name}" if self.file_name else "no HCPCS code table loaded"


def code_tables(store) -> CodeTables:
    """The newest record-layout code tables in the reference store (none in a store built
    before they were imported, or from a folder without them)."""
    import duckdb

    try:
        found = store.con.execute(
            "SELECT release, file_name FROM releases WHERE dataset = 'hcpcs_code_tables' "
            "ORDER BY release DESC LIMIT 1").fetchone()
        if found is None:
            return CodeTables(None, {})
        rows = store.con.execute("SELECT field, code, meaning FROM hcpcs_code_tables WHERE release = ?",
                                 [found[0]]).fetchall()
    except duckdb.CatalogException:  # a store built by an older reclaim
        return CodeTables(None, {})
    tables: dict[str, dict[str, str]] = {}
    for field, code, meaning in rows:
        tables.setdefault(field, {})[code] = meaning
    return CodeTables(found[1], tables)
