"""Claim exports as CSV or Excel: one row per service line, claim-level columns repeated.

The column set, its aliases and the rules are documented in ``docs/claim-files.md``; the
template is ``examples/claims-template.csv``. In short:

* headers are matched case-, space-, underscore- and punctuation-insensitively against each
  column's name and aliases (``CPT/HCPCS``, ``Proc Code``, ``DOS``, ``Qty``...); the header row
  may sit below a few title rows;
* rows sharing a ``patient_control_number`` (CLM01) form one claim; claim-level values are
  taken from the first row that has them (a conflicting value on a later row is a warning);
* a bad value in a required column (or a missing one) skips the whole claim, because a claim
  with a line missing would be linted or resubmitted wrong; a bad value in an optional column
  is nulled with a warning. Every problem is a ``read_issues`` row with file, line, column and
  what was expected; patient fields are never quoted in messages.

Parsing is columnar: pyarrow.csv reads the text, pyarrow.compute validates and converts whole
columns, DuckDB groups rows into claims. Excel cells are read with python-calamine, then go through
the same columnar pipeline.
"""

from __future__ import annotations

import csv as _pycsv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..errors import InputFormatError
from .io import concat_issues, file_identity, files_table, make_issues
from .model import CLAIMS, DIAGNOSES, LINES, MONEY, QUANTITY, TRANSACTIONS, ClaimBatch

__all__ = ["COLUMNS", "read_csv", "read_xlsx", "normalize_header", "ndc11", "conform"]


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with the columns of ``schema`` in its order; model columns this source
    cannot fill are null (the model may grow: readers must not break when it does)."""
    n = table.num_rows
    cols = [table[f.name] if f.name in table.column_names else pa.nulls(n, f.type) for f in schema]
    return pa.table({f.name: c for f, c in zip(schema, cols)}).cast(schema)


@dataclass(frozen=True)
class Column:
    name: str  # canonical header (the template's)
    kind: str  # parser, see _PARSERS
    level: str  # claim | line
    aliases: tuple[str, ...] = ()
    required: bool = False
    phi: bool = False  # never quote the value in a message
    doc: str = ""


def _dx(i: int) -> Column:
    extra = ("principal diagnosis", "primary diagnosis", "primary dx", "principal dx") if i == 1 else ()
    return Column(
        f"diagnosis_{i}", "icd", "claim",
        (f"dx{i}", f"dx {i}", f"diag{i}", f"diagnosis{i}", f"diagnosis code {i}", f"icd{i}", f"icd10 {i}",
         f"icd-10 {i}", f"icd10 code {i}", f"hi{i}") + extra,
        doc=f"ICD-10-CM diagnosis {i} (dot optional); position {i} for the pointers",
    )


def _mod(i: int) -> Column:
    return Column(f"modifier_{i}", "modifier", "line", (f"mod{i}", f"mod {i}", f"modifier{i}", f"m{i}"),
                  doc=f"HCPCS modifier {i}")


def _ptr(i: int) -> Column:
    return Column(f"dx_pointer_{i}", "pointer", "line", (f"pointer{i}", f"dx ptr {i}", f"diagnosis pointer {i}", f"ptr{i}"),
                  doc=f"diagnosis pointer {i}: 1-12 or A-L")


#: the documented column set; order = the template's column order
COLUMNS: tuple[Column, ...] = (
    # ---- claim level (repeated on every line of the claim)
    Column("patient_control_number", "text", "claim",
           ("claim id", "claim no", "claim number", "patient account number", "patient account no", "account number",
            "account no", "acct no", "acct", "pcn", "clm01", "patient control no", "patient control number"),
           required=True, doc="CLM01: your claim key, echoed back as CLP01 on the 835"),
    Column("claim_type", "claim_type", "claim", ("claim form", "form type"),
           doc="professional or institutional; default: institutional when type_of_bill or revenue_code is given"),
    Column("patient_id", "text", "claim", ("member id", "patient member id", "insured id", "medicare id", "mbi", "patient id number"),
           phi=True, doc="member id the payer knows the patient by"),
    Column("patient_last_name", "text", "claim", ("last name", "patient last", "patient lname"), phi=True),
    Column("patient_first_name", "text", "claim", ("first name", "patient first", "patient fname"), phi=True),
    Column("patient_name", "name", "claim", ("patient", "patient full name"), phi=True,
           doc="'LAST, FIRST' when last/first are not separate columns"),
    Column("patient_birth_date", "date", "claim", ("dob", "date of birth", "birth date", "birthdate", "patient dob"), phi=True),
    Column("patient_sex", "sex", "claim", ("sex", "gender", "patient gender"), phi=True, doc="M, F or U"),
    Column("subscriber_id", "text", "claim", ("subscriber member id", "insured member id"), phi=True),
    Column("relationship_code", "text", "claim", ("relationship", "patient relationship", "sbr02"), doc="18 = self"),
    Column("group_number", "text", "claim", ("group no", "group id", "policy group"), phi=True),
    Column("payer_id", "text", "claim", ("payer code", "payor id", "insurance id", "plan id")),
    Column("payer_name", "text", "claim", ("payer", "payor", "payor name", "insurance", "insurance name", "plan name")),
    Column("payer_responsibility", "code", "claim", ("payer sequence", "sbr01", "responsibility"), doc="P, S, T..."),
    Column("claim_filing_indicator", "code", "claim", ("filing indicator", "claim filing indicator code", "sbr09"),
           doc="MB Medicare Part B, MC Medicaid, CI commercial..."),
    Column("billing_npi", "text", "claim", ("billing provider npi", "billing npi number", "group npi")),
    Column("billing_name", "text", "claim", ("billing provider", "billing provider name")),
    Column("billing_tax_id", "text", "claim", ("tax id", "tin", "ein", "federal tax id")),
    Column("rendering_npi", "text", "claim", ("rendering provider npi", "rendering npi number")),
    Column("facility_npi", "text", "claim", ("service facility npi", "facility npi number")),
    Column("attending_npi", "text", "claim", ("attending provider npi",), doc="837I 2310A"),
    Column("referring_npi", "text", "claim", ("referring provider npi", "referring npi number", "ordering npi")),
    Column("billing_taxonomy", "text", "claim", ("taxonomy", "billing taxonomy code", "provider taxonomy", "prv03"),
           doc="NUCC code, e.g. 332B00000X DME supplier (its lines use the DME MUE table)"),
    Column("place_of_service", "pos", "claim", ("pos", "place of service code", "pos code", "clm05-1"),
           doc="2 digits, professional claims"),
    Column("type_of_bill", "tob", "claim", ("tob", "bill type", "type of bill code"),
           doc="3 digits (0131 accepted), institutional claims"),
    Column("frequency_code", "frequency", "claim", ("claim frequency", "frequency", "freq code", "frequency type", "clm05-3"),
           doc="1 original, 7 replacement, 8 void; default: the third digit of type_of_bill"),
    Column("original_claim_number", "text", "claim",
           ("original claim", "original icn", "icn", "dcn", "payer claim control number", "payer claim number", "ref f8"),
           doc="REF*F8: the payer's ICN/DCN of the claim being replaced or voided"),
    Column("prior_auth_number", "text", "claim",
           ("prior auth", "prior authorization", "prior authorization number", "authorization number", "auth number",
            "auth no", "pa number", "ref g1")),
    Column("referral_number", "text", "claim", ("referral", "referral no", "ref 9f")),
    Column("statement_from", "date", "claim", ("statement from date", "from statement")),
    Column("statement_to", "date", "claim", ("statement to date", "through statement", "statement through")),
    Column("admission_date", "date", "claim", ("admit date", "admission")),
    Column("total_charge", "money", "claim", ("total charges", "claim charge", "claim total", "total claim charge", "clm02"),
           doc="default: the sum of the line charges"),
    Column("claim_note", "text", "claim", ("claim remarks", "note", "notes"), phi=True),
    *(_dx(i) for i in range(1, 13)),
    # ---- line level
    Column("line_number", "int", "line", ("line", "line no", "line num", "lx", "line item", "service line"),
           doc="default: the row's order within the claim"),
    Column("line_control_number", "text", "line", ("line item control number", "line control no", "ref 6r")),
    Column("service_date", "date", "line",
           ("dos", "service date", "date of service", "dos from", "from date", "service from", "service from date", "from dos"),
           required=True),
    Column("service_date_to", "date", "line", ("dos to", "to date", "service to", "service to date", "through date", "to dos")),
    Column("procedure_code", "procedure", "line",
           ("cpt/hcpcs", "hcpcs/cpt", "hcpcs", "cpt", "proc code", "procedure", "procedure code", "hcpcs code", "cpt code",
            "cpt hcpcs", "code", "drug code"),
           required=True),
    *(_mod(i) for i in range(1, 5)),
    Column("modifiers", "modifiers", "line", ("mods", "modifier"), doc="all modifiers in one cell: 'JZ KX' or 'JZ,KX'"),
    Column("description", "text", "line", ("noc description", "drug description", "line description", "sv101-7", "drug name"),
           doc="NOC drug description (SV101-7 / SV202-7)"),
    Column("revenue_code", "revenue", "line", ("rev code", "revenue", "rev", "rev cd"), doc="4 digits (636 accepted), institutional"),
    Column("charge", "money", "line",
           ("charges", "line charge", "line charges", "billed amount", "billed", "amount", "charge amount", "billed charges"),
           required=True),
    Column("unit_basis", "code", "line", ("unit type", "units qualifier", "sv103"), doc="UN units (default on output), MJ minutes"),
    Column("units", "quantity", "line",
           ("qty", "quantity", "service units", "days or units", "days units", "billing units", "hcpcs units", "unit"),
           required=True),
    Column("line_place_of_service", "pos", "line", ("line pos", "sv105")),
    *(_ptr(i) for i in range(1, 5)),
    Column("dx_pointers", "pointers", "line", ("diagnosis pointer", "diagnosis pointers", "dx pointer", "pointer", "pointers", "dx ptr"),
           doc="all pointers in one cell: '1,2' '1:2' '12' or 'AB'"),
    Column("ndc", "ndc", "line", ("ndc code", "national drug code", "ndc11", "ndc number", "drug ndc"),
           doc="as printed (hyphens) or 11 digits; N4 prefix accepted"),
    Column("ndc_quantity", "quantity", "line", ("ndc qty", "ndc units", "ndc unit count", "drug quantity", "ctp04")),
    Column("ndc_unit", "ndc_unit", "line", ("ndc uom", "ndc unit of measure", "unit of measure", "uom", "ndc measure", "ctp05"),
           doc="UN, ML, GR, F2 or ME (mL, g, IU, mg accepted)"),
    Column("line_rendering_npi", "text", "line", ("line rendering npi", "line provider npi")),
    Column("line_prior_auth_number", "text", "line", ("line prior auth", "line authorization")),
    Column("line_note", "text", "line", ("line remarks", "line notes"), phi=True),
)

_BY_NAME = {c.name: c for c in COLUMNS}


def normalize_header(text: str) -> str:
    """'CPT/HCPCS ' -> 'cpthcpcs': case, spaces, underscores and punctuation do not matter."""
    return re.sub(r"[^0-9a-z]", "", str(text).lower().replace("#", "no"))


def _alias_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for col in COLUMNS:
        for name in (col.name, *col.aliases):
            key = normalize_header(name)
            other = index.setdefault(key, col.name)
            if other != col.name:
                raise AssertionError(f"alias {name!r} names both {other} and {col.name}")
    return index


_ALIASES = _alias_index()
_REQUIRED = [c.name for c in COLUMNS if c.required]


# --------------------------------------------------------------------------- column parsers
# Each takes a string array (null = empty cell) and returns (typed array, bad mask, expected).


def _clean(a: pa.Array) -> pa.Array:
    a = pc.utf8_trim_whitespace(a)
    return pc.if_else(pc.equal(a, ""), pa.scalar(None, pa.string()), a)


def _check(a: pa.Array, pattern: str) -> pa.Array:
    """True where a value is present and does not match."""
    return pc.and_(pc.is_valid(a), pc.invert(pc.match_substring_regex(a, pattern)))


def _nulled(a: pa.Array, bad: pa.Array) -> pa.Array:
    return pc.if_else(bad, pa.scalar(None, a.type), a)


def _parse_text(a):
    return a, None, ""


def _parse_code(a):
    return pc.utf8_upper(a), None, ""


def _parse_name(a):
    return a, None, ""


def _parse_procedure(a):
    a = pc.utf8_upper(a)
    bad = _check(a, r"^[A-Z0-9]{5}$")
    return a, bad, "a 5-character HCPCS/CPT code (e.g. J0897)"


def _parse_icd(a):
    a = pc.replace_substring_regex(pc.utf8_upper(a), r"[.\s]", "")
    bad = _check(a, r"^[A-Z][0-9A-Z]{2,6}$")
    return _nulled(a, bad), bad, "an ICD-10-CM code of 3-7 characters (e.g. M81.0)"


def _parse_modifier(a):
    a = pc.utf8_upper(a)
    bad = _check(a, r"^[A-Z0-9]{2}$")
    return _nulled(a, bad), bad, "a 2-character modifier (e.g. JZ)"


_DATE_PATTERNS = (
    r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[T ]00:00(?::00)?)?$",
    r"^(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})$",
    r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$",
)


def _parse_date(a):
    parts = [pc.extract_regex(a, p) for p in _DATE_PATTERNS]
    y, m, d = (pc.coalesce(*[pc.struct_field(s, k) for s in parts]) for k in ("y", "m", "d"))
    iso = pc.binary_join_element_wise(y, pc.utf8_lpad(m, 2, "0"), pc.utf8_lpad(d, 2, "0"), "-")
    ts = pc.strptime(iso, format="%Y-%m-%d", unit="s", error_is_null=True)
    # strptime rolls 2/30 over to 3/2: a date is only valid when month and day survive
    same = pc.and_(pc.equal(pc.month(ts), pc.cast(m, pa.int64())), pc.equal(pc.day(ts), pc.cast(d, pa.int64())))
    ok = pc.fill_null(same, False)
    out = pc.cast(_nulled(ts, pc.invert(ok)), pa.date32())
    return out, pc.and_(pc.is_valid(a), pc.invert(ok)), "a date as YYYY-MM-DD, MM/DD/YYYY or YYYYMMDD"


def _decimal(a, digits: int, scale: int, signed: bool, type_):
    a = pc.replace_substring_regex(a, r"[$,\s]", "")
    sign = "-?" if signed else ""
    bad = _check(a, rf"^{sign}\d{{1,{digits}}}(\.\d{{0,{scale}}})?$|^{sign}\.\d{{1,{scale}}}$")
    good = pc.replace_substring_regex(_nulled(a, bad), r"\.$", "")
    return pc.cast(good, type_), bad


def _parse_money(a):
    out, bad = _decimal(a, 15, 2, True, MONEY)
    return out, bad, "an amount with at most 2 decimals (e.g. 1762.80)"


def _parse_quantity(a):
    out, bad = _decimal(a, 14, 3, False, QUANTITY)
    return out, bad, "a non-negative quantity with at most 3 decimals (e.g. 60 or 0.5)"


def _parse_int(a):
    bad = _check(a, r"^\d{1,6}$")
    return pc.cast(_nulled(a, bad), pa.int32()), bad, "a whole number"


def _parse_pos(a):
    bad = _check(a, r"^\d{1,2}$")
    return pc.utf8_lpad(_nulled(a, bad), 2, "0"), bad, "a 2-digit place of service code (e.g. 11)"


def _parse_tob(a):
    bad = _check(a, r"^0?\d{2}[0-9A-Z]$")
    a = pc.utf8_upper(_nulled(a, bad))
    return pc.utf8_slice_codeunits(a, -3), bad, "a 3-digit type of bill (e.g. 131 or 0131)"


def _parse_revenue(a):
    bad = _check(a, r"^\d{3,4}$")
    return pc.utf8_lpad(_nulled(a, bad), 4, "0"), bad, "a 3- or 4-digit revenue code (e.g. 0636)"


def _parse_frequency(a):
    a = pc.utf8_upper(a)
    bad = _check(a, r"^[0-9A-Z]$")
    return _nulled(a, bad), bad, "one character: 1 original, 7 replacement, 8 void"


def _mapped(a, mapping: dict[str, str], expected: str):
    lowered = pc.utf8_lower(a)
    keys = pa.array(list(mapping))
    idx = pc.index_in(lowered, value_set=keys)
    out = pc.take(pa.array(list(mapping.values())), idx)
    return out, pc.and_(pc.is_valid(a), pc.is_null(idx)), expected


def _parse_sex(a):
    return _mapped(a, {"m": "M", "male": "M", "f": "F", "female": "F", "u": "U", "unknown": "U"}, "M, F or U")


def _parse_claim_type(a):
    return _mapped(
        a,
        {"professional": "professional", "p": "professional", "837p": "professional", "cms-1500": "professional",
         "institutional": "institutional", "i": "institutional", "837i": "institutional", "ub-04": "institutional"},
        "professional or institutional",
    )


def _parse_ndc_unit(a):
    return _mapped(
        a,
        {"un": "UN", "unit": "UN", "units": "UN", "ea": "UN", "each": "UN", "ml": "ML", "gr": "GR", "g": "GR",
         "gram": "GR", "f2": "F2", "iu": "F2", "me": "ME", "mg": "ME"},
        "an NDC unit: UN, ML, GR, F2 or ME",
    )


def _parse_ndc(a):
    a = pc.replace_substring_regex(pc.utf8_upper(a), r"^N4[\s:]*", "")
    bad = _check(a, r"^[0-9][0-9\- ]*[0-9]$")
    return _nulled(a, bad), bad, "an NDC: digits with or without hyphens (e.g. 55513-0710-01)"


def _parse_pointer(a):
    a = pc.utf8_upper(a)
    bad = _check(a, r"^([1-9]|1[0-2]|[A-L])$")
    return _pointer_value(_nulled(a, bad)), bad, "a diagnosis pointer 1-12 or A-L"


def _pointer_value(a):
    letters = pa.array(list("ABCDEFGHIJKL"))
    idx = pc.index_in(a, value_set=letters)
    from_letter = pc.add(pc.cast(idx, pa.int16()), pa.scalar(1, pa.int16()))
    is_digit = pc.match_substring_regex(a, r"^\d+$")
    from_digit = pc.cast(pc.if_else(is_digit, a, pa.scalar(None, pa.string())), pa.int16())
    return pc.coalesce(from_letter, from_digit)


_PARSERS = {
    "text": _parse_text, "code": _parse_code, "name": _parse_name, "procedure": _parse_procedure,
    "icd": _parse_icd, "modifier": _parse_modifier, "date": _parse_date, "money": _parse_money,
    "quantity": _parse_quantity, "int": _parse_int, "pos": _parse_pos, "tob": _parse_tob,
    "revenue": _parse_revenue, "frequency": _parse_frequency, "sex": _parse_sex,
    "claim_type": _parse_claim_type, "ndc_unit": _parse_ndc_unit, "ndc": _parse_ndc, "pointer": _parse_pointer,
}


def _split4(col: pa.Array, glued: bool) -> tuple[list[pa.Array], pa.Array]:
    """Split a multi-value cell into 4 columns (null where absent) and a 'more than 4' mask."""
    text = pc.utf8_upper(pc.fill_null(col, ""))
    if glued:  # '12' / 'AB': single characters without separators
        text = pc.if_else(pc.match_substring_regex(text, r"^[1-9A-L]{2,4}$"),
                          pc.replace_substring_regex(text, r"(.)", r"\1|"), text)
    text = pc.replace_substring_regex(pc.utf8_trim(text, " ,;:|\t"), r"[\s,;:|]+", "|")
    count = pc.if_else(pc.equal(text, ""), 0, pc.add(pc.count_substring(text, "|"), 1))
    parts = pc.split_pattern(pc.binary_join_element_wise(text, "||||", ""), "|")
    return [_clean(pc.list_element(parts, i)) for i in range(4)], pc.greater(count, 4)


def ndc11(ndc: pa.Array) -> pa.Array:
    """Vectorised 10/11-digit NDC -> 11-digit 5-4-2 (null when it cannot be normalised).

    Same rules as ``reclaim.refdata.ndc.normalize_ndc`` (domain-facts §4.1): hyphenated 4-4-2,
    5-3-2, 5-4-1 and 5-4-2 are padded; 11 bare digits are kept; 10 bare digits are ambiguous.
    """
    s = pc.replace_substring_regex(pc.utf8_upper(ndc), r"^N4[\s:]*|\s", "")
    bare = pc.if_else(pc.match_substring_regex(s, r"^\d{11}$"), s, pa.scalar(None, pa.string()))
    parts = pc.extract_regex(s, r"^(?P<l>\d{4,5})-(?P<p>\d{3,4})-(?P<k>\d{1,2})$")
    lab, prod, pkg = (pc.struct_field(parts, k) for k in ("l", "p", "k"))
    total = pc.add(pc.add(pc.utf8_length(lab), pc.utf8_length(prod)), pc.utf8_length(pkg))
    ok = pc.fill_null(pc.or_(pc.equal(total, 10), pc.and_(pc.equal(total, 11), pc.equal(pc.utf8_length(lab), 5))), False)
    padded = pc.binary_join_element_wise(
        pc.utf8_lpad(lab, 5, "0"), pc.utf8_lpad(prod, 4, "0"), pc.utf8_lpad(pkg, 2, "0"), ""
    )
    return pc.coalesce(bare, pc.if_else(ok, padded, pa.scalar(None, pa.string())))


# --------------------------------------------------------------------------- reading


@dataclass
class _Raw:
    """A sheet of strings before typing: header cells, one string column per header cell,
    and the physical line (CSV) or row (Excel) of each data row."""

    headers: list[str]
    header_line: int
    columns: list[pa.Array]
    lines: pa.Array
    issues: list[pa.Table]
    #: rows that could not be split into the header's columns: (line, cells, expected, found)
    broken: list[tuple[int, list[str], int, int]] = ()
    #: how the file was read (the corrected-file writer writes it back the same way)
    encoding: str = "utf-8"
    delimiter: str = ","
    sheet: str | None = None


def _score(cells) -> int:
    return len({_ALIASES[k] for k in (normalize_header(c) for c in cells if c is not None) if k in _ALIASES})


def _find_header(rows: list[list]) -> int:
    """Index of the header row among the first rows: the first with >= 3 known columns,
    else the best scoring one (the missing-column error then names it)."""
    scores = [_score(r) for r in rows]
    for i, s in enumerate(scores):
        if s >= 3:
            return i
    return int(np.argmax(scores)) if scores else 0


def _decode_head(data: bytes) -> tuple[str, str]:
    head = data[: 1 << 16]
    try:
        head.decode("utf-8")  # a cut multi-byte char at the end is fine
        return "utf-8", head.decode("utf-8", errors="ignore")
    except UnicodeDecodeError as exc:
        if len(data) > len(head) and exc.start >= len(head) - 4:  # a character cut by the 64 KB window
            return "utf-8", head.decode("utf-8", errors="ignore")
        return "cp1252", head.decode("cp1252", errors="replace")


def _parse(data: bytes, header_idx: int, names: list[str], encoding: str, delim: str, on_invalid) -> pa.Table:
    return pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(
            use_threads=False, skip_rows=header_idx + 1, column_names=names, encoding=encoding
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=delim, newlines_in_values=True, ignore_empty_lines=False, invalid_row_handler=on_invalid
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names},
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
            null_values=[""],
        ),
    )


def _read_csv_raw(data: bytes, identity: dict) -> _Raw | None:
    issues: list[pa.Table] = []
    encoding, head = _decode_head(data)
    if encoding != "utf-8":
        issues.append(make_issues(identity, code="CSV-ENCODING", severity="warning",
                                  message="the file is not UTF-8; read as Windows-1252 (cp1252)"))
    head = head.lstrip("\ufeff")
    head_lines = head.splitlines()[:20]
    best = (-1, ",", 0, [])
    for delim in (",", "\t", ";", "|"):
        rows = list(_pycsv.reader(head_lines, delimiter=delim))
        idx = _find_header(rows)
        score = _score(rows[idx]) if rows else 0
        if score > best[0]:
            best = (score, delim, idx, rows[idx] if rows else [])
    _, delim, header_idx, headers = best
    if not headers:
        return None
    headers = [h.lstrip("\ufeff") for h in headers]
    names = [f"c{i}" for i in range(len(headers))]
    bad_rows: list[tuple[int, str, int, int]] = []

    def on_invalid(row):
        bad_rows.append((row.number, row.text or "", row.expected_columns, row.actual_columns))
        return "skip"

    try:
        table = _parse(data, header_idx, names, encoding, delim, on_invalid)
    except pa.ArrowInvalid as exc:
        if "UTF8" not in str(exc) or encoding != "utf-8":
            raise InputFormatError("the CSV could not be parsed (an unbalanced quote?)") from None
        # the first 64 KB were UTF-8, a later row is not: read it all as Windows-1252
        encoding = "cp1252"
        bad_rows.clear()
        issues.append(make_issues(identity, code="CSV-ENCODING", severity="warning",
                                  message="the file is not UTF-8; read as Windows-1252 (cp1252)"))
        table = _parse(data, header_idx, names, encoding, delim, on_invalid)
    # physical line of each record: records are numbered from the top of the file (header
    # and title rows included); a quoted value holding newlines pushes later lines down
    n_records = header_idx + 1 + table.num_rows + len(bad_rows)
    extra = np.zeros(n_records + 1, dtype=np.int64)
    bad_numbers = {num for num, *_ in bad_rows}
    valid_numbers = np.array(
        [r for r in range(header_idx + 2, n_records + 1) if r not in bad_numbers], dtype=np.int64
    ) if bad_rows else np.arange(header_idx + 2, n_records + 1, dtype=np.int64)
    if table.num_rows:
        newlines = np.zeros(table.num_rows, dtype=np.int64)
        for col in table.columns:
            newlines += pc.fill_null(pc.count_substring(col, "\n"), 0).to_numpy(zero_copy_only=False)
        extra[valid_numbers] = newlines
    for num, text, *_ in bad_rows:
        extra[num] = text.count("\n")
    first_line = np.concatenate([[0], np.cumsum(extra)[:-1]]) + np.arange(n_records + 1)
    lines = pa.array(first_line[valid_numbers], pa.int64())
    broken = [
        (int(first_line[num]), next(_pycsv.reader([text], delimiter=delim), []), exp, act)
        for num, text, exp, act in bad_rows
    ]
    swallowed = table.num_rows and any(
        "\n" in (col[-1].as_py() or "") for col in table.columns)
    if swallowed and data.count(b'"') % 2:
        # an opening quote never closed: pyarrow reads the rest of the file into the last
        # record's value, so that record and every line after it are lost; say so
        last_line = int(lines[-1].as_py())
        total_lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
        table = table.slice(0, table.num_rows - 1)
        lines = lines.slice(0, len(lines) - 1)
        broken.append((last_line, [], len(headers), 0))
        issues.append(make_issues(
            identity, code="CSV-UNCLOSED-QUOTE", skipped="line", line=last_line,
            message=f"a quote opened on this row is never closed: lines {last_line}-{total_lines} were read as one "
                    "value and are not loaded (close the quote and read the file again)"))
    return _Raw(headers, header_idx + 1, [c.combine_chunks() for c in table.columns], lines, issues, broken,
                encoding=encoding, delimiter=delim)


def _cell_text(v) -> str | None:
    import datetime as _dt

    if v is None:
        return None
    if isinstance(v, _dt.datetime):
        return v.date().isoformat() if v.time() == _dt.time() else v.isoformat(sep=" ")
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _read_xlsx_raw(path: Path, identity: dict) -> _Raw | None:
    """Cells via python-calamine (a Rust reader, ~10x openpyxl); the sheet with the most
    claim columns in its header row wins."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    chosen = None
    for name in wb.sheet_names:
        # skip_empty_area=False keeps row i at Excel row i + 1
        rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        head = rows[:20]
        if not head:
            continue
        idx = _find_header(head)
        if chosen is None or _score(head[idx]) > _score(chosen[1][chosen[2]]):
            chosen = (name, rows, idx)
    if chosen is None:
        return None
    sheet, rows, idx = chosen
    headers = ["" if h is None else str(h) for h in rows[idx]]
    width = len(headers)
    ndc_col = next((i for i, h in enumerate(headers) if _ALIASES.get(normalize_header(h)) == "ndc"), None)
    cells: list[list] = [[] for _ in range(width)]
    numeric_ndc_rows: list[int] = []
    lines = []
    # cells are Python objects; make string columns and hand them to the columnar pipeline
    for rownum, row in enumerate(rows[idx + 1:], start=idx + 2):
        if all(v is None or v == "" for v in row):
            continue
        lines.append(rownum)
        for i in range(width):
            v = row[i] if i < len(row) else None
            if i == ndc_col and isinstance(v, (int, float)):
                numeric_ndc_rows.append(rownum)
            cells[i].append(None if v == "" else _cell_text(v))
    issues = []
    if numeric_ndc_rows:
        issues.append(make_issues(
            identity, code="CSV-XLSX-NUMERIC-NDC", severity="warning", column="ndc",
            line=pa.array(numeric_ndc_rows, pa.int64()),
            message="the NDC cell is a number, so Excel may have dropped leading zeros: format the column as text",
        ))
    if len(wb.sheet_names) > 1:
        issues.append(make_issues(identity, code="CSV-XLSX-SHEET", severity="warning",
                                  message=f"the workbook has {len(wb.sheet_names)} sheets; read the one with claim "
                                          f"columns ({sheet!r})"))
    return _Raw(headers, idx + 1, [pa.array(c, pa.string()) for c in cells], pa.array(lines, pa.int64()), issues,
                sheet=sheet)


def read_csv(path: Path | str) -> ClaimBatch:
    """Claims from a CSV (or tab/semicolon/pipe separated) export. Never raises for bad
    content: problems are ``read_issues`` rows."""
    path = Path(path)
    data = path.read_bytes()
    identity = file_identity(path, data)
    try:
        raw = _read_csv_raw(data, identity)
    except InputFormatError as exc:
        return ClaimBatch(tables={"files": files_table(identity, "csv"), "read_issues": make_issues(
            identity, code="CSV-UNPARSABLE", skipped="file", message=str(exc))})
    return _build(identity, "csv", raw)


def read_xlsx(path: Path | str) -> ClaimBatch:
    """Claims from an Excel workbook: the sheet whose header row has the claim columns."""
    path = Path(path)
    identity = file_identity(path)
    try:
        raw = _read_xlsx_raw(path, identity)
    except Exception as exc:  # calamine raises several types for a damaged workbook
        return ClaimBatch(tables={
            "files": files_table(identity, "xlsx"),
            "read_issues": make_issues(identity, code="CSV-XLSX-UNREADABLE", skipped="file",
                                       message=f"not a readable .xlsx workbook ({type(exc).__name__})"),
        })
    return _build(identity, "xlsx", raw)


# --------------------------------------------------------------------------- typing and assembly


def _accepted(col: Column) -> str:
    return ", ".join([col.name, *col.aliases])


def _build(identity: dict, fmt: str, raw: _Raw | None) -> ClaimBatch:
    files = files_table(identity, fmt)
    if raw is None or not raw.headers:
        return ClaimBatch(tables={"files": files, "read_issues": make_issues(
            identity, code="CSV-EMPTY", skipped="file", message="no header row and no data: the file is empty")})
    issues = list(raw.issues)
    mapped: dict[str, pa.Array] = {}
    unknown = []
    for header, column in zip(raw.headers, raw.columns):
        name = _ALIASES.get(normalize_header(header))
        if name is None:
            if header.strip():
                unknown.append(header.strip())
        elif name in mapped:
            issues.append(make_issues(identity, code="CSV-DUPLICATE-COLUMN", severity="warning", line=raw.header_line,
                                      column=name, message=f"column {header!r} is another name for {name}, already "
                                      "given by an earlier column: the earlier one is used"))
        else:
            mapped[name] = column
    if not mapped:  # not a claim export at all (a README, another CSV)
        issues.append(make_issues(
            identity, code="CSV-NOT-CLAIMS", skipped="file", line=raw.header_line,
            message=f"no claim column found in the first rows (header guessed at line {raw.header_line}): "
                    "expected a claim export with columns such as " + ", ".join(_REQUIRED)
                    + " (see examples/claims-template.csv)"))
        return ClaimBatch(tables={"files": files, "read_issues": concat_issues(issues)})
    if unknown:
        issues.append(make_issues(identity, code="CSV-UNKNOWN-COLUMN", severity="warning", line=raw.header_line,
                                  message=f"ignored columns (not in the documented set): {', '.join(unknown)}"))
    missing = [n for n in _REQUIRED if n not in mapped]
    if missing:
        for name in missing:
            issues.append(make_issues(
                identity, code="CSV-MISSING-COLUMN", skipped="file", line=raw.header_line, column=name,
                message=f"required column {name} not found in the header row (line {raw.header_line}); "
                        f"accepted names: {_accepted(_BY_NAME[name])}"))
        return ClaimBatch(tables={"files": files, "read_issues": concat_issues(issues)})

    n = len(raw.lines)
    cleaned = {name: _clean(col) for name, col in mapped.items()}
    pcn_index = next(i for i, h in enumerate(raw.headers) if _ALIASES.get(normalize_header(h)) == "patient_control_number")
    broken_keys = []
    for line, cells, expected_n, found_n in raw.broken:
        key = cells[pcn_index].strip() if pcn_index < len(cells) and cells[pcn_index].strip() else None
        broken_keys.append(key)
        if not cells:  # already reported (unclosed quote)
            continue
        issues.append(make_issues(
            identity, code="CSV-FIELD-COUNT", line=line, claim_key=key, skipped="claim" if key else "line",
            message=f"expected {expected_n} fields like the header row (line {raw.header_line}), found {found_n}"))
    # blank rows (all cells empty) are not data
    any_value = pa.array(np.zeros(n, dtype=bool))
    for col in cleaned.values():
        any_value = pc.or_(any_value, pc.is_valid(col))
    keep_rows = any_value
    lines = raw.lines
    pcn = cleaned["patient_control_number"]

    typed: dict[str, pa.Array] = {}
    # rows whose claim must be skipped: a row of the claim could not be read
    row_error = pc.fill_null(pc.is_in(pcn, value_set=pa.array([k for k in broken_keys if k], pa.string())), False)
    for name, col in cleaned.items():
        spec = _BY_NAME[name]
        if spec.kind in ("modifiers", "pointers"):
            # one cell holding up to 4 values: 'JZ KX' 'JZ,KX' / '1,2' '1:2' or '12' 'AB' (CMS-1500 box 24E)
            prefix, parse = ("modifier_", _parse_modifier) if spec.kind == "modifiers" else ("dx_pointer_", _parse_pointer)
            parts, too_many = _split4(col, glued=spec.kind == "pointers")
            for i, part in enumerate(parts, 1):
                if f"{prefix}{i}" in cleaned:  # a separate column wins
                    continue
                typed[f"{prefix}{i}"], bad, expected = parse(part)
                if pc.any(bad).as_py():
                    issues.append(_value_issues(identity, spec, bad, col, lines, pcn, expected, keep_rows))
            if pc.any(too_many).as_py():
                issues.append(_value_issues(identity, spec, too_many, col, lines, pcn, "at most 4 values", keep_rows))
            continue
        value, bad, expected = _PARSERS[spec.kind](col)
        typed[name] = value
        if bad is not None and pc.any(bad).as_py():
            issues.append(_value_issues(identity, spec, bad, col, lines, pcn, expected, keep_rows))
            if spec.required:
                row_error = pc.or_(row_error, bad)
    for name in _REQUIRED:
        absent = pc.and_(pc.is_null(cleaned[name]), keep_rows)
        if pc.any(absent).as_py():
            issues.append(make_issues(
                identity, code="CSV-MISSING-VALUE", severity="error", line=pc.filter(lines, absent), column=name,
                claim_key=pc.filter(pcn, absent),
                skipped="line" if name == "patient_control_number" else "claim",
                message=f"{name} is required on every row and is empty"))
            row_error = pc.or_(row_error, absent)
    if "patient_name" in typed:
        split = pc.split_pattern(typed.pop("patient_name"), ",", max_splits=1)
        last = _clean(pc.list_element(pc.list_slice(split, 0, 1, return_fixed_size_list=False), 0))
        first = _clean(pc.list_element(pc.list_slice(split, 1, 2, return_fixed_size_list=False), 0))
        typed["patient_last_name"] = pc.coalesce(typed.get("patient_last_name", last), last)
        typed["patient_first_name"] = pc.coalesce(typed.get("patient_first_name", first), first)
    if "ndc" in typed:
        typed["ndc11"] = ndc11(typed["ndc"])

    rows = pa.table({**typed, "_line": lines, "_row": pa.array(np.arange(n, dtype=np.int64)), "_error": row_error})
    rows = rows.filter(keep_rows)
    claims, diagnoses, lines_t, claim_issues = _assemble(identity, rows)
    issues.extend(claim_issues)
    transactions = pa.Table.from_pylist(
        [{"transaction_id": identity["file_id"], "file_id": identity["file_id"],
          "segment_count": None}], schema=TRANSACTIONS) if claims.num_rows else TRANSACTIONS.empty_table()
    return ClaimBatch(tables={
        "files": files, "transactions": transactions, "claims": claims, "diagnoses": diagnoses,
        "lines": lines_t, "read_issues": concat_issues(issues),
    })


def _value_issues(identity, spec: Column, bad, raw, lines, pcn, expected, keep_rows) -> pa.Table:
    bad = pc.and_(pc.fill_null(bad, False), keep_rows)
    if spec.phi:  # patient data is never quoted back
        message = f"bad value in {spec.name}: expected {expected}"
    else:
        message = pc.binary_join_element_wise(
            f"bad value in {spec.name}: got '", pc.filter(raw, bad), f"', expected {expected}", "")
    required = spec.required
    return make_issues(
        identity, code="CSV-BAD-VALUE", severity="error" if required else "warning",
        skipped="claim" if required else "nothing",
        line=pc.filter(lines, bad), column=spec.name, claim_key=pc.filter(pcn, bad),
        message=message,
    )


_CLAIM_FIELDS = [c.name for c in COLUMNS if c.level == "claim" and c.kind not in ("name",) and not c.name.startswith("diagnosis_")]


def _assemble(identity: dict, rows: pa.Table):
    """Group line rows into claims with DuckDB: claim values from the first row that has them,
    total charge from the lines when not given, a skipped claim loses all its rows."""
    file_id = identity["file_id"]
    present = set(rows.column_names)
    con = duckdb.connect()
    con.register("rows_in", rows)
    con.execute("""
        CREATE TEMP TABLE bad AS
        SELECT DISTINCT patient_control_number FROM rows_in WHERE _error AND patient_control_number IS NOT NULL
    """)
    con.execute("""
        CREATE TEMP TABLE r AS
        SELECT * FROM rows_in
        WHERE patient_control_number IS NOT NULL
          AND patient_control_number NOT IN (SELECT patient_control_number FROM bad)
    """)

    def col(name, cast=None):
        if name in present:
            return name
        return f"CAST(NULL AS {cast or 'VARCHAR'})"

    claim_cols = [c for c in _CLAIM_FIELDS if c in present] + [f"diagnosis_{i}" for i in range(1, 13) if f"diagnosis_{i}" in present]
    claim_cols += [c for c in ("patient_last_name", "patient_first_name") if c in present and c not in claim_cols]
    # arg_min over the row number = the first non-null value; min <> max = rows disagree
    firsts = ",\n".join(f"arg_min({c}, _row) FILTER (WHERE {c} IS NOT NULL) AS {c}" for c in claim_cols)
    conflicts = ",\n".join(f"min({c}) <> max({c}) AS n_{c}" for c in claim_cols)
    has_rev = "bool_or(revenue_code IS NOT NULL)" if "revenue_code" in present else "FALSE"
    con.execute(f"""
        CREATE TEMP TABLE g AS
        SELECT patient_control_number, min(_row) AS _first_row, min(_line) AS _first_line,
               sum(charge) AS _line_total, {has_rev} AS _has_rev
               {',' + firsts if firsts else ''} {',' + conflicts if conflicts else ''}
        FROM r GROUP BY patient_control_number
    """)
    con.execute("CREATE TEMP TABLE k AS SELECT *, row_number() OVER (ORDER BY _first_row) AS _ordinal FROM g")
    issues = []
    if claim_cols:
        names = ", ".join(f"CASE WHEN n_{c} THEN '{c}' END" for c in claim_cols)
        conflict = con.execute(f"""
            SELECT patient_control_number AS claim_key, _first_line AS line, unnest(list_filter([{names}], x -> x IS NOT NULL)) AS col
            FROM k WHERE {' OR '.join(f'n_{c}' for c in claim_cols)} ORDER BY _first_row
        """).to_arrow_table()
        if conflict.num_rows:
            issues.append(make_issues(
                identity, code="CSV-CLAIM-CONFLICT", severity="warning", column=conflict["col"],
                claim_key=conflict["claim_key"], line=conflict["line"],
                message=pc.binary_join_element_wise(
                    "claim-level column ", conflict["col"],
                    " differs between the rows of this claim: the first row's value is used", "")))
    skipped = con.execute("SELECT patient_control_number FROM bad ORDER BY 1").to_arrow_table()
    if skipped.num_rows:
        issues.append(make_issues(
            identity, code="CSV-CLAIM-SKIPPED", severity="error", skipped="claim",
            claim_key=skipped["patient_control_number"],
            message="claim not loaded: a row of it has an error in a required column (see the rows above)"))

    claim_id = f"'{file_id}' || ':' || _ordinal"
    has_tob = "type_of_bill" in present
    claim_type = (
        f"coalesce({col('claim_type')}, CASE WHEN {col('type_of_bill')} IS NOT NULL OR _has_rev "
        "THEN 'institutional' ELSE 'professional' END)"
    )
    given_total = col("total_charge", "DECIMAL(18,2)")
    claims = con.execute(f"""
        SELECT {claim_id} AS claim_id, '{file_id}' AS transaction_id, '{file_id}' AS file_id,
               {claim_type} AS claim_type,
               patient_control_number,
               coalesce({given_total}, _line_total) AS total_charge,
               {col('place_of_service')} AS place_of_service,
               {'left(type_of_bill, 2)' if has_tob else 'NULL'} AS facility_type_code,
               {col('type_of_bill')} AS type_of_bill,
               coalesce({col('frequency_code')}, {'right(type_of_bill, 1)' if has_tob else 'NULL'}) AS frequency_code,
               {col('original_claim_number')} AS original_claim_number,
               {col('prior_auth_number')} AS prior_auth_number,
               {col('referral_number')} AS referral_number,
               {col('statement_from', 'DATE')} AS statement_from,
               {col('statement_to', 'DATE')} AS statement_to,
               {col('admission_date', 'DATE')} AS admission_date,
               {col('billing_npi')} AS billing_npi, {col('billing_name')} AS billing_name,
               {col('billing_tax_id')} AS billing_tax_id, NULL AS billing_address,
               {col('rendering_npi')} AS rendering_npi, {col('facility_npi')} AS facility_npi,
               {col('payer_id')} AS payer_id, {col('payer_name')} AS payer_name,
               {col('payer_responsibility')} AS payer_responsibility,
               {col('claim_filing_indicator')} AS claim_filing_indicator,
               {col('group_number')} AS group_number, {col('subscriber_id')} AS subscriber_id,
               NULL AS subscriber_last_name, NULL AS subscriber_first_name,
               {col('relationship_code')} AS relationship_code,
               {col('patient_id')} AS patient_id,
               {col('patient_last_name')} AS patient_last_name, {col('patient_first_name')} AS patient_first_name,
               {col('patient_birth_date', 'DATE')} AS patient_birth_date, {col('patient_sex')} AS patient_sex,
               {col('claim_note')} AS note,
               {col('attending_npi')} AS attending_npi, {col('referring_npi')} AS referring_npi,
               {col('billing_taxonomy')} AS billing_taxonomy,
               _first_line, {given_total} AS _given_total, _line_total
        FROM k ORDER BY _ordinal
    """).to_arrow_table()
    mismatch = pc.fill_null(pc.not_equal(claims["_given_total"], claims["_line_total"]), False)
    if pc.any(mismatch).as_py():
        issues.append(make_issues(
            identity, code="CSV-TOTAL-MISMATCH", severity="warning", column="total_charge",
            line=pc.filter(claims["_first_line"], mismatch),
            claim_key=pc.filter(claims["patient_control_number"], mismatch),
            message=pc.binary_join_element_wise(
                "total_charge ", pc.cast(pc.filter(claims["_given_total"], mismatch), pa.string()),
                " is not the sum of the line charges ", pc.cast(pc.filter(claims["_line_total"], mismatch), pa.string()), ""),
        ))
    claims = conform(claims, CLAIMS)

    dx_positions = [i for i in range(1, 13) if f"diagnosis_{i}" in present]
    if dx_positions:
        union = " UNION ALL ".join(
            f"SELECT {claim_id} AS claim_id, CAST({i} AS SMALLINT) AS position, "
            f"'{'ABK' if i == 1 else 'ABF'}' AS qualifier, diagnosis_{i} AS code, NULL AS present_on_admission, "
            f"'diagnosis' AS category, _ordinal "
            f"FROM k WHERE diagnosis_{i} IS NOT NULL" for i in dx_positions)
        diagnoses = con.execute(f"SELECT * EXCLUDE (_ordinal) FROM ({union}) ORDER BY _ordinal, position").to_arrow_table()
        diagnoses = conform(diagnoses, DIAGNOSES)
    else:
        diagnoses = DIAGNOSES.empty_table()

    line_no = f"coalesce(r.line_number, CAST(row_number() OVER (PARTITION BY r.patient_control_number ORDER BY r._row) AS INTEGER))" \
        if "line_number" in present else "CAST(row_number() OVER (PARTITION BY r.patient_control_number ORDER BY r._row) AS INTEGER)"

    def rcol(name, cast=None):
        return f"r.{name}" if name in present else f"CAST(NULL AS {cast or 'VARCHAR'})"

    has_ndc = "ndc" in present
    lines = con.execute(f"""
        SELECT {claim_id} AS claim_id, {line_no} AS line_number,
               {rcol('line_control_number')} AS line_control_number,
               r.service_date, {rcol('service_date_to', 'DATE')} AS service_date_to,
               'HC' AS procedure_qualifier, r.procedure_code,
               {rcol('modifier_1')} AS modifier_1, {rcol('modifier_2')} AS modifier_2,
               {rcol('modifier_3')} AS modifier_3, {rcol('modifier_4')} AS modifier_4,
               {rcol('description')} AS description, {rcol('revenue_code')} AS revenue_code,
               r.charge, {rcol('unit_basis')} AS unit_basis, r.units,
               {rcol('line_place_of_service')} AS place_of_service,
               {rcol('dx_pointer_1', 'SMALLINT')} AS dx_pointer_1, {rcol('dx_pointer_2', 'SMALLINT')} AS dx_pointer_2,
               {rcol('dx_pointer_3', 'SMALLINT')} AS dx_pointer_3, {rcol('dx_pointer_4', 'SMALLINT')} AS dx_pointer_4,
               {"CASE WHEN r.ndc IS NOT NULL THEN 'N4' END" if has_ndc else 'NULL'} AS ndc_qualifier,
               {rcol('ndc')} AS ndc, {rcol('ndc11')} AS ndc11,
               {rcol('ndc_quantity', 'DECIMAL(18,3)')} AS ndc_quantity, {rcol('ndc_unit')} AS ndc_unit,
               {rcol('line_rendering_npi')} AS rendering_npi,
               {rcol('line_prior_auth_number')} AS prior_auth_number, {rcol('line_note')} AS note,
               r._line AS source_position
        FROM r JOIN k USING (patient_control_number)
        ORDER BY k._ordinal, r._row
    """).to_arrow_table()
    con.close()
    lines = conform(lines, LINES)
    return claims, diagnoses, lines, issues


# --------------------------------------------------------------------------- corrected files

#: export column -> (table, model column), where the model's name is not the column's own
_MODEL_OF = {"line_place_of_service": ("lines", "place_of_service"), "line_rendering_npi": ("lines", "rendering_npi"),
             "line_prior_auth_number": ("lines", "prior_auth_number"), "line_note": ("lines", "note"),
             "claim_note": ("claims", "note")}
#: columns a correction never writes (derived by the reader, or split into other columns)
_NOT_PATCHED = {"patient_name", "line_number"}
_ROW_KEYS = ("claim_id", "transaction_id", "file_id", "source_position", "x12_clm_offset", "x12_billing_offset",
             "x12_subscriber_offset", "x12_patient_offset")


def _text_of(kind: str, value) -> str:
    """A model value as a cell: dates ISO, money with 2 decimals, quantities without trailing zeros."""
    from decimal import Decimal
    import datetime as _dt

    if value is None:
        return ""
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}" if kind == "money" else format(value.normalize(), "f")
    return str(value)


def _column_means(spec: Column, col: pa.Array) -> list:
    """What the reader makes of each cell of column ``spec`` (None when empty or bad); for the
    combined modifiers / pointers columns, a list of 4 per cell."""
    col = _clean(col)
    if spec.kind in ("modifiers", "pointers"):
        parts, _ = _split4(col, glued=spec.kind == "pointers")
        parse = _parse_modifier if spec.kind == "modifiers" else _parse_pointer
        return [list(v) for v in zip(*(parse(p)[0].to_pylist() for p in parts))]
    if spec.kind == "ndc":  # the reader keeps the NDC as printed
        return col.to_pylist()
    return _PARSERS[spec.kind](col)[0].to_pylist()


def _typed(kind: str, value, fmt: str):
    """A model value as a cell: text for CSV (dates ISO, money with 2 decimals, quantities
    without trailing zeros); for Excel, dates and numbers stay typed."""
    from decimal import Decimal

    if fmt == "xlsx" and value is not None and kind in ("money", "quantity", "date"):
        return value if not isinstance(value, Decimal) else (value.quantize(Decimal("0.01")) if kind == "money"
                                                           else value.normalize())
    return _text_of(kind, value)


def write_corrected(batch: ClaimBatch, out: Path | str, *, claim_ids=None, frequency: str | None = None,
                    original_claim_numbers=None, source: Path | str | bytes | None = None) -> dict:
    """Write the claims of ``batch`` read from one CSV or Excel export back as that export, with
    every row and column of the input kept and only the cells whose model value changed
    rewritten (a column the input lacks, e.g. ``frequency_code`` of a replacement, is added at
    the end). ``claim_ids``: only those claims' rows (with the title and header rows); default
    every row, the claims the reader skipped included. ``frequency`` / ``original_claim_numbers``:
    7 replacement or 8 void with the payer's claim number, as for the 837 writer. The output is
    read back and compared with the model: a change it cannot carry is an error.

    Returns {"path", "claims", "format", "added_columns"}."""
    from ..errors import ReclaimError
    from .io import file_identity

    files = batch["files"].to_pylist()
    claims = batch["claims"]
    if claim_ids is not None:
        claims = claims.filter(pc.is_in(claims["claim_id"], value_set=pa.array(list(claim_ids), pa.string())))
    file_ids = set(claims["file_id"].to_pylist())
    if len(file_ids) != 1:
        raise ReclaimError(f"a corrected export is written from one input file; these claims come from {len(file_ids)}",
                           hint="correct one file at a time")
    [file_row] = [f for f in files if f["file_id"] in file_ids] or [{}]
    fmt = file_row.get("format")
    if fmt not in ("csv", "xlsx"):
        raise ReclaimError(f"write_corrected writes CSV or Excel exports, not {fmt}")
    if isinstance(source, (bytes, bytearray)):
        data, path_in = bytes(source), None
    else:
        path_in = Path(source or file_row.get("path") or "")
        if not path_in.is_file():
            raise ReclaimError(f"the export the claims were read from is not at {path_in}",
                               hint="pass source= (the file) to write_corrected")
        data = path_in.read_bytes()
    if file_row.get("sha256") and file_identity(Path(file_row.get("path") or "x"), data)["sha256"] != file_row["sha256"]:
        raise ReclaimError(f"the export {file_row.get('path')} changed since its claims were read (sha256 differs)",
                           hint="read the claims from the file again, then write them")
    if fmt == "csv":
        raw = _read_csv_raw(data, {"file_id": "", "path": ""})
        text = data.decode(raw.encoding, errors="replace")
        bom = text.startswith("\ufeff")
        reader = _pycsv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=raw.delimiter)
        grid, starts, line = [], [], 1
        for row in reader:
            grid.append(row)
            starts.append(line)
            line = reader.line_num + 1
        row_at = {start: i for i, start in enumerate(starts)}
    else:
        import openpyxl

        if path_in is None:
            path_in = Path(out).with_suffix(".source.xlsx")
            path_in.write_bytes(data)
        raw = _read_xlsx_raw(path_in, {"file_id": "", "path": ""})
        book = openpyxl.load_workbook(path_in)
        sheet = book[raw.sheet]
        grid = [[c.value for c in r] for r in sheet.iter_rows(min_row=1, min_col=1)]
        row_at = {i + 1: i for i in range(len(grid))}
    header_row = raw.header_line - 1
    headers = list(raw.headers)
    column_of: dict[str, int] = {}
    for i, h in enumerate(headers):
        name = _ALIASES.get(normalize_header(h or ""))
        if name is not None and name not in column_of:
            column_of[name] = i

    expected_claims, changed = _expected_claims(claims, frequency, original_claim_numbers)
    ids = claims["claim_id"]
    lines = batch["lines"].filter(pc.is_in(batch["lines"]["claim_id"], value_set=ids)).to_pylist()
    dx: dict[str, dict[int, str]] = {}
    for d in batch["diagnoses"].filter(pc.is_in(batch["diagnoses"]["claim_id"], value_set=ids)).to_pylist():
        if d["category"] == "diagnosis":
            dx.setdefault(d["claim_id"], {})[d["position"]] = d["code"]
    added: list[str] = []
    width = len(headers)
    data_lines = raw.lines.to_pylist()
    means_cache: dict[str, dict] = {}

    def means(name: str, line_no: int):
        """What the reader read in column ``name`` on the row at ``line_no`` (columnar, once per column)."""
        if name not in means_cache:
            i = column_of[name]
            means_cache[name] = dict(zip(data_lines, _column_means(_BY_NAME[name], raw.columns[i]))) \
                if i < len(raw.columns) else {}
        return means_cache[name].get(line_no)

    def column(name: str) -> int:
        nonlocal width
        if name not in column_of:
            column_of[name] = width
            headers.append(name)
            added.append(name)
            width += 1
        return column_of[name]

    def put(r: int, c: int, value) -> None:
        row = grid[r]
        while len(row) <= c:
            row.append("" if fmt == "csv" else None)
        row[c] = value
        touched.add((r, c))

    touched: set[tuple[int, int]] = set()
    rows_of: dict[str, list[int]] = {}
    line_of_row: dict[int, int] = {}
    modifiers_split = any(f"modifier_{i}" in column_of for i in range(1, 5))
    pointers_split = any(f"dx_pointer_{i}" in column_of for i in range(1, 5))
    for line in lines:
        n = line["source_position"]
        r = row_at.get(n)
        if r is None:
            raise ReclaimError("a line of the claims is not in the export it was read from (a bug: please report it)")
        rows_of.setdefault(line["claim_id"], []).append(r)
        line_of_row[r] = n
        for name, spec in _BY_NAME.items():
            if spec.level != "line" or name in _NOT_PATCHED or name not in column_of:
                continue
            if spec.kind in ("modifiers", "pointers"):
                prefix = "modifier_" if spec.kind == "modifiers" else "dx_pointer_"
                if (modifiers_split if spec.kind == "modifiers" else pointers_split):
                    continue  # separate columns win
                want = [line[f"{prefix}{i}"] for i in range(1, 5)]
                if means(name, n) != want:
                    old = str(grid[r][column_of[name]] or "") if column_of[name] < len(grid[r]) else ""
                    sep = "," if "," in old or spec.kind == "pointers" else " "
                    put(r, column_of[name], sep.join(str(v) for v in want if v is not None))
                continue
            want = line[_MODEL_OF.get(name, ("lines", name))[1]]
            if means(name, n) != want:
                put(r, column_of[name], _typed(spec.kind, want, fmt))
        for i in range(1, 5):  # a modifier a fix added where the input has no modifier column
            m = line[f"modifier_{i}"]
            if m and not modifiers_split and "modifiers" not in column_of:
                put(r, column(f"modifier_{i}"), m)
    # claim-level columns and diagnoses: on every row of the claim that has the cell filled (or the first)
    for c in expected_claims:
        rows = sorted(rows_of.get(c["claim_id"], []))
        if not rows:
            continue
        wanted = {name: c[_MODEL_OF.get(name, ("claims", name))[1]] for name, spec in _BY_NAME.items()
                  if spec.level == "claim" and name not in _NOT_PATCHED and not name.startswith("diagnosis_")
                  and _MODEL_OF.get(name, ("claims", name))[1] in c}
        codes = dx.get(c["claim_id"], {})
        wanted.update({f"diagnosis_{i}": codes.get(i) for i in range(1, 13)})
        for name, want in wanted.items():
            spec = _BY_NAME[name]
            if name not in column_of:
                if want is None or name not in changed.get(c["claim_id"], set()):
                    continue
                column(name)
            k = column_of[name]
            filled = [r for r in rows if k < len(grid[r]) and grid[r][k] not in (None, "")]
            current = means(name, line_of_row[filled[0]]) if filled and (filled[0], k) not in touched else None
            if name.startswith("diagnosis_") and current is not None:
                current = current.replace(".", "").upper()
            if current != want:
                for r in (filled or rows[:1]):
                    put(r, k, _typed(spec.kind, want, fmt))
    if added:
        for i, h in enumerate(headers):
            put(header_row, i, h)
        for row in grid[header_row + 1:]:  # every data row as wide as the header again
            if any(v not in (None, "") for v in row):
                row.extend([""] * (width - len(row)))

    keep = None if claim_ids is None else sorted(
        set(range(header_row + 1)) | {r for rows in rows_of.values() for r in rows})
    out = Path(out)
    final, out = out, out.with_name(f".{out.name}.partial{out.suffix}")  # in place only once verified
    if fmt == "csv":
        buf = io.StringIO(newline="")
        writer = _pycsv.writer(buf, delimiter=raw.delimiter, lineterminator="\r\n" if "\r\n" in text[:4096] else "\n")
        for i, row in enumerate(grid):
            if keep is None or i in keep:
                writer.writerow(row)
        out.write_bytes((("\ufeff" if bom else "") + buf.getvalue()).encode(raw.encoding, errors="replace"))
        again = read_csv(out)
    else:
        for r, c in sorted(touched):
            sheet.cell(r + 1, c + 1, grid[r][c])
        if keep is not None:
            for i in reversed(range(len(grid))):
                if i not in keep:
                    sheet.delete_rows(i + 1)
        book.save(out)
        again = read_xlsx(out)
    try:
        _verify_export(batch, expected_claims, lines, again)
    except Exception:
        out.unlink(missing_ok=True)
        raise
    out.replace(final)
    return {"path": str(final), "claims": len(expected_claims), "format": fmt, "added_columns": added}


def _expected_claims(claims: pa.Table, frequency, original_claim_numbers) -> tuple[list[dict], dict[str, set]]:
    """The claims as the corrected file must say them (frequency, REF*F8 number, type of bill),
    and per claim the claim-level columns that changed for it."""
    from ..errors import ReclaimError

    originals = dict(original_claim_numbers or {})
    out, changed = [], {}
    for c in claims.to_pylist():
        c = dict(c)
        diff = set()
        if frequency is not None:
            if frequency in ("7", "8"):
                number = originals.get(c["claim_id"]) or c["original_claim_number"]
                if not number:
                    raise ReclaimError(f"frequency {frequency} needs the payer's claim control number (original_claim_number) "
                                       f"for claim {c['patient_control_number']}")
                if number != c["original_claim_number"]:
                    diff.add("original_claim_number")
                c["original_claim_number"] = number
            if frequency != c["frequency_code"]:
                diff.add("frequency_code")
            c["frequency_code"] = frequency
            if c["type_of_bill"]:
                c["type_of_bill"] = c["type_of_bill"][:-1] + frequency
                diff.add("type_of_bill")
        changed[c["claim_id"]] = diff
        out.append(c)
    return out, changed


def _verify_export(batch: ClaimBatch, expected: list[dict], lines: list[dict], again: ClaimBatch) -> None:
    """The written export, read back, holds the model's values for the claims written."""
    from ..errors import ReclaimError

    wrong: dict[str, int] = {}
    got = {c["patient_control_number"]: c for c in again["claims"].to_pylist()}
    got_lines: dict[str, list[dict]] = {}
    pcn_of = {c["claim_id"]: c["patient_control_number"] for c in again["claims"].to_pylist()}
    for line in again["lines"].to_pylist():
        got_lines.setdefault(pcn_of[line["claim_id"]], []).append(line)
    want_lines: dict[str, list[dict]] = {}
    pcn_want = {c["claim_id"]: c["patient_control_number"] for c in expected}
    for line in sorted(lines, key=lambda l: l["source_position"]):
        want_lines.setdefault(pcn_want[line["claim_id"]], []).append(line)
    for c in expected:
        g = got.get(c["patient_control_number"])
        if g is None:
            wrong["claims (missing)"] = wrong.get("claims (missing)", 0) + 1
            continue
        for name in CLAIMS.names:
            if name not in _ROW_KEYS and c[name] != g[name]:
                wrong[f"claims.{name}"] = wrong.get(f"claims.{name}", 0) + 1
        have = got_lines.get(c["patient_control_number"], [])
        want = want_lines.get(c["patient_control_number"], [])
        if len(have) != len(want):
            wrong["lines (count)"] = wrong.get("lines (count)", 0) + 1
            continue
        for w, h in zip(want, have):
            for name in LINES.names:
                if name not in _ROW_KEYS and w[name] != h[name]:
                    wrong[f"lines.{name}"] = wrong.get(f"lines.{name}", 0) + 1
    if wrong:
        raise ReclaimError("the corrected export would not carry these changes of the model: "
                           + ", ".join(f"{k} ({n} claim(s))" for k, n in sorted(wrong.items())),
                           hint="the export's columns are documented in docs/claim-files.md")


def write_template(batch: ClaimBatch, out: Path | str) -> None:
    """Write claims (from any reader) as a CSV in the claim template's columns
    (``examples/claims-template.csv``): one row per line, claim columns repeated. A conversion,
    not a corrected file: the columns the template lacks are not written."""
    con = duckdb.connect()
    try:
        con.register("claims", batch["claims"])
        con.register("lines", batch["lines"])
        con.register("diagnoses", batch["diagnoses"])
        dx = ", ".join(f"max(CASE WHEN position = {i} THEN code END) AS diagnosis_{i}" for i in range(1, 13))
        rows = con.execute(
            f"""
            WITH d AS (SELECT claim_id, {dx} FROM diagnoses GROUP BY claim_id)
            SELECT c.patient_control_number, c.claim_type, c.patient_id, c.patient_last_name, c.patient_first_name,
                   c.patient_birth_date, c.patient_sex, c.payer_id, c.payer_name, c.claim_filing_indicator,
                   c.billing_npi, c.billing_name, c.billing_tax_id, c.rendering_npi, c.place_of_service,
                   c.type_of_bill, c.frequency_code, c.original_claim_number, c.prior_auth_number,
                   {", ".join(f"d.diagnosis_{i}" for i in range(1, 13))},
                   l.line_number, l.service_date, l.service_date_to, l.procedure_code,
                   l.modifier_1, l.modifier_2, l.modifier_3, l.modifier_4, l.description, l.revenue_code,
                   l.charge, l.units, l.dx_pointer_1, l.dx_pointer_2, l.dx_pointer_3, l.dx_pointer_4,
                   l.ndc, l.ndc_quantity, l.ndc_unit
            FROM lines l JOIN claims c ON c.claim_id = l.claim_id LEFT JOIN d ON d.claim_id = l.claim_id
            ORDER BY c.claim_id, l.line_number
            """
        )
        header = [d[0] for d in rows.description]
        data = rows.fetchall()
    finally:
        con.close()
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = _pycsv.writer(fh)
        writer.writerow(header)
        for row in data:
            writer.writerow(["" if v is None else v for v in row])
