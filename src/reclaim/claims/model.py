"""The normalized claim and remittance model: Arrow schemas every reader writes and every
edit, recovery step and writer reads.

Readers (X12 837P/837I/835, CSV, FHIR) produce a :class:`ClaimBatch` or :class:`RemitBatch`,
one Arrow table per entity below. Tables join on string keys:

* ``file_id``        one input file (its sha256 prefix + name), see ``FILES``;
* ``transaction_id`` one ST/SE transaction (``<file_id>:<ISA13>:<GS06>:<ST02>``);
* ``claim_id``       one claim (``<transaction_id>:<ordinal of CLM in the transaction>``);
* ``remit_claim_id`` one CLP claim payment, built the same way.

Conventions:

* money is ``decimal128(18, 2)``, quantities (units, NDC quantity) ``decimal128(18, 3)``:
  billing decisions ("is 60.5 units fractional?") need exact values;
* dates are ``date32``; codes are upper-case strings without dots (ICD-10 ``M810``);
* NDCs are kept as the claim gave them in ``ndc`` and normalized to 11 digits in ``ndc11``
  (null when they cannot be normalized; the edit catalog reports it);
* a column a source cannot fill is null, never a made-up default.

Adding a column is fine (document it in docs/data-model.md); renaming one breaks edits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

MONEY = pa.decimal128(18, 2)
QUANTITY = pa.decimal128(18, 3)

FILES = pa.schema(
    [
        ("file_id", pa.string()),
        ("path", pa.string()),
        ("sha256", pa.string()),
        ("bytes", pa.int64()),
        ("format", pa.string()),  # x12, csv, xlsx, fhir
    ]
)

#: one row per ST/SE transaction (X12) or per file (CSV, FHIR)
TRANSACTIONS = pa.schema(
    [
        ("transaction_id", pa.string()),
        ("file_id", pa.string()),
        ("transaction_type", pa.string()),  # 837P, 837I, 835
        ("implementation", pa.string()),  # ST03 / GS08, e.g. 005010X222A1
        ("sender_id", pa.string()),  # ISA06
        ("receiver_id", pa.string()),  # ISA08
        ("interchange_control", pa.string()),  # ISA13
        ("group_control", pa.string()),  # GS06
        ("transaction_control", pa.string()),  # ST02
        ("created", pa.date32()),  # BHT04 / GS04
        ("submitter_name", pa.string()),  # 1000A NM103
        ("submitter_id", pa.string()),
        ("receiver_name", pa.string()),  # 1000B NM103
        ("segment_count", pa.int32()),
        # X12: byte offsets of the transaction's ISA, GS and ST segments in its file (the
        # 837 writer copies the envelope from there: docs/claim-files.md)
        ("x12_isa_offset", pa.int64()),
        ("x12_gs_offset", pa.int64()),
        ("x12_st_offset", pa.int64()),
    ]
)

CLAIMS = pa.schema(
    [
        ("claim_id", pa.string()),
        ("transaction_id", pa.string()),
        ("file_id", pa.string()),
        ("claim_type", pa.string()),  # professional | institutional
        ("patient_control_number", pa.string()),  # CLM01
        ("total_charge", MONEY),  # CLM02
        ("place_of_service", pa.string()),  # CLM05-1 on 837P
        ("facility_type_code", pa.string()),  # CLM05-1 on 837I (type of bill digits 1-2)
        ("type_of_bill", pa.string()),  # 837I: CLM05-1 + CLM05-3, e.g. 131
        ("frequency_code", pa.string()),  # CLM05-3: 1 original, 7 replacement, 8 void
        ("original_claim_number", pa.string()),  # REF*F8 (payer claim control number)
        ("prior_auth_number", pa.string()),  # REF*G1
        ("referral_number", pa.string()),  # REF*9F
        ("statement_from", pa.date32()),  # 837I DTP*434
        ("statement_to", pa.date32()),
        ("admission_date", pa.date32()),
        # billing provider (2010AA) and rendering/attending provider (2310B / 2310A)
        ("billing_npi", pa.string()),
        ("billing_name", pa.string()),
        ("billing_tax_id", pa.string()),
        ("billing_address", pa.string()),  # N3 + N4 joined with ", "
        ("rendering_npi", pa.string()),
        ("facility_npi", pa.string()),  # 2310C / 2310E service facility
        # payer (2010BB) and subscriber (2000B/2010BA)
        ("payer_id", pa.string()),
        ("payer_name", pa.string()),
        ("payer_responsibility", pa.string()),  # SBR01: P, S, T...
        ("claim_filing_indicator", pa.string()),  # SBR09: MB Medicare B, MC Medicaid, CI commercial...
        ("group_number", pa.string()),  # SBR03
        ("subscriber_id", pa.string()),  # 2010BA NM109
        ("subscriber_last_name", pa.string()),
        ("subscriber_first_name", pa.string()),
        ("relationship_code", pa.string()),  # SBR02 (18 = self) or PAT01
        # patient: the subscriber when SBR02 = 18, else 2010CA
        ("patient_id", pa.string()),  # the member id used to match history
        ("patient_last_name", pa.string()),
        ("patient_first_name", pa.string()),
        ("patient_birth_date", pa.date32()),
        ("patient_sex", pa.string()),
        ("note", pa.string()),  # 2300 NTE
        ("attending_npi", pa.string()),  # 837I 2310A NM1*71 (added by the X12 reader)
        ("referring_npi", pa.string()),  # 2310A (837P) NM1*DN
        # X12: byte offsets in the file of the claim's CLM and of its billing provider (20),
        # subscriber (22) and patient (23, null when none) HL segments: the 837 writer copies the
        # claim's segments from there and patches only what changed (docs/claim-files.md)
        ("x12_clm_offset", pa.int64()),
        ("x12_billing_offset", pa.int64()),
        ("x12_subscriber_offset", pa.int64()),
        ("x12_patient_offset", pa.int64()),
        # 2000A PRV03 (PRV*BI*PXC): the billing provider's NUCC taxonomy; 332B... = a DME supplier,
        # whose lines the NCCI DME supplier MUE table governs
        ("billing_taxonomy", pa.string()),
    ]
)

DIAGNOSES = pa.schema(
    [
        ("claim_id", pa.string()),
        ("position", pa.int16()),  # 1-based order across HI segments (pointer target)
        ("qualifier", pa.string()),  # ABK principal, ABF other, ABJ admitting, APR reason for visit; BK/BF ICD-9
        ("code", pa.string()),  # no dot, upper case
        ("present_on_admission", pa.string()),
        # HI carries more than diagnoses (837I occurrence/value/condition codes...): keep them all;
        # position counts within (claim, category), so diagnosis positions stay pointer targets
        ("category", pa.string()),  # diagnosis, procedure, occurrence, occurrence_span, value, condition, other
        ("date", pa.date32()),  # HIxx-4 when HIxx-3 = D8 (occurrence / procedure dates)
        ("amount", MONEY),  # HIxx-5 (value codes)
    ]
)

LINES = pa.schema(
    [
        ("claim_id", pa.string()),
        ("line_number", pa.int32()),  # LX01
        ("line_control_number", pa.string()),  # REF*6R
        ("service_date", pa.date32()),  # DTP*472 (from)
        ("service_date_to", pa.date32()),  # DTP*472 RD8 end
        ("procedure_qualifier", pa.string()),  # SV101-1 / SV202-1: HC, ...
        ("procedure_code", pa.string()),
        ("modifier_1", pa.string()),
        ("modifier_2", pa.string()),
        ("modifier_3", pa.string()),
        ("modifier_4", pa.string()),
        ("description", pa.string()),  # SV101-7 / SV202-7 (NOC drug description)
        ("revenue_code", pa.string()),  # SV201 (837I)
        ("charge", MONEY),  # SV102 / SV203
        ("unit_basis", pa.string()),  # SV103 / SV204: UN, MJ, DA
        ("units", QUANTITY),  # SV104 / SV205
        ("place_of_service", pa.string()),  # SV105 (overrides CLM05-1 when present)
        ("dx_pointer_1", pa.int16()),  # SV107-1..4 -> DIAGNOSES.position
        ("dx_pointer_2", pa.int16()),
        ("dx_pointer_3", pa.int16()),
        ("dx_pointer_4", pa.int16()),
        ("ndc_qualifier", pa.string()),  # LIN02 (N4)
        ("ndc", pa.string()),  # LIN03 as given
        ("ndc11", pa.string()),  # normalized 11 digits, null when not normalizable
        ("ndc_quantity", QUANTITY),  # CTP04
        ("ndc_unit", pa.string()),  # CTP05-1: UN, ML, GR, F2, ME
        ("rendering_npi", pa.string()),  # 2420A
        ("prior_auth_number", pa.string()),  # 2400 REF*G1
        ("note", pa.string()),  # 2400 NTE
        # where the line is in its file: X12 byte offset of its LX (or SV1/SV2 without LX),
        # CSV/Excel line (row) number; the writers of corrected files patch the line found there
        ("source_position", pa.int64()),
    ]
)

#: coordination of benefits (837 loops 2320/2330A/2330B): one row per other payer that already
#: adjudicated the claim (or that will after this one), in file order. A secondary claim without
#: the primary's paid amount and adjustments is denied (CARC 22), so these are written back.
OTHER_PAYERS = pa.schema(
    [
        ("claim_id", pa.string()),
        ("payer_index", pa.int16()),  # 1-based order of the 2320 loop within the claim
        ("payer_responsibility", pa.string()),  # SBR01: P, S, T... (this other payer's)
        ("relationship_code", pa.string()),  # SBR02 (18 = self)
        ("group_number", pa.string()),  # SBR03
        ("group_name", pa.string()),  # SBR04
        ("claim_filing_indicator", pa.string()),  # SBR09
        ("paid_amount", MONEY),  # AMT*D: what this payer paid on the claim
        ("non_covered_amount", MONEY),  # AMT*A8
        ("remaining_patient_liability", MONEY),  # AMT*EAF
        ("benefits_assignment", pa.string()),  # OI03: Y, N, W
        ("release_of_information", pa.string()),  # OI06: I, Y
        ("subscriber_id", pa.string()),  # 2330A NM109
        ("subscriber_last_name", pa.string()),  # 2330A NM103 (TR3-required when the loop is sent)
        ("subscriber_first_name", pa.string()),  # 2330A NM104
        ("payer_id", pa.string()),  # 2330B NM109
        ("payer_name", pa.string()),  # 2330B NM103
        ("adjudication_date", pa.date32()),  # 2330B DTP*573 (claim-level adjudication)
    ]
)

#: one row per 2430 SVD: how another payer adjudicated a service line
LINE_ADJUDICATIONS = pa.schema(
    [
        ("claim_id", pa.string()),
        ("line_number", pa.int32()),  # LX01 of the line (LINES.line_number)
        ("adjudication_index", pa.int16()),  # 1-based order of the SVD within the line
        ("payer_id", pa.string()),  # SVD01 = OTHER_PAYERS.payer_id
        ("paid_amount", MONEY),  # SVD02
        ("procedure_qualifier", pa.string()),  # SVD03-1
        ("procedure_code", pa.string()),  # SVD03-2 (as adjudicated)
        ("modifier_1", pa.string()),
        ("modifier_2", pa.string()),
        ("modifier_3", pa.string()),
        ("modifier_4", pa.string()),
        ("description", pa.string()),  # SVD03-7
        ("revenue_code", pa.string()),  # SVD04 (837I)
        ("paid_units", QUANTITY),  # SVD05
        ("bundled_line_number", pa.int32()),  # SVD06: the line this one was bundled into
        ("adjudication_date", pa.date32()),  # DTP*573
        ("remaining_patient_liability", MONEY),  # AMT*EAF
    ]
)

#: CAS triplets of the other payers: claim level (2320, line_number null) and line level (2430)
OTHER_PAYER_ADJUSTMENTS = pa.schema(
    [
        ("claim_id", pa.string()),
        ("payer_index", pa.int16()),  # claim level: OTHER_PAYERS.payer_index; null on line level
        ("line_number", pa.int32()),  # line level: LINE_ADJUDICATIONS.line_number; null on claim level
        ("adjudication_index", pa.int16()),  # line level: LINE_ADJUDICATIONS.adjudication_index
        ("group_code", pa.string()),  # CAS01: CO, PR, OA, PI, CR
        ("reason_code", pa.string()),  # CARC
        ("amount", MONEY),  # positive decreases payment
        ("quantity", QUANTITY),
    ]
)

#: one row per 835 transaction: the payment (BPR/TRN) and its parties (1000A/1000B)
PAYMENTS = pa.schema(
    [
        ("transaction_id", pa.string()),
        ("file_id", pa.string()),
        ("handling_code", pa.string()),  # BPR01: I, H, C, D, P, U, X
        ("payment_amount", MONEY),  # BPR02
        ("credit_debit", pa.string()),  # BPR03
        ("payment_method", pa.string()),  # BPR04: ACH, CHK, NON, BOP, FWT
        ("payment_date", pa.date32()),  # BPR16
        ("trace_number", pa.string()),  # TRN02: check or EFT number
        ("payer_tax_id", pa.string()),  # TRN03
        ("production_date", pa.date32()),  # DTM*405
        ("payer_name", pa.string()),  # N1*PR
        ("payer_id", pa.string()),  # N1*PR N104 or REF*2U
        ("payee_name", pa.string()),  # N1*PE
        ("payee_id_qualifier", pa.string()),
        ("payee_id", pa.string()),  # NPI (XX) or tax id (FI)
        # the payer's mailing address and contact (1000A N3 / N4 / PER): where letters go
        ("payer_address_1", pa.string()),  # N301
        ("payer_address_2", pa.string()),  # N302
        ("payer_city", pa.string()),  # N401
        ("payer_state", pa.string()),  # N402
        ("payer_zip", pa.string()),  # N403
        ("payer_contact_function", pa.string()),  # PER01: CX claims contact, BL technical, IC website
        ("payer_contact_name", pa.string()),  # PER02 (the CX contact when the payer sends one)
        ("payer_contact_phone", pa.string()),  # PER0x with qualifier TE
        ("payer_contact_email", pa.string()),  # PER0x with qualifier EM
    ]
)

REMIT_CLAIMS = pa.schema(
    [
        ("remit_claim_id", pa.string()),
        ("transaction_id", pa.string()),
        ("file_id", pa.string()),
        ("patient_control_number", pa.string()),  # CLP01 = CLM01 of the original claim
        ("claim_status", pa.string()),  # CLP02: 1, 2, 3, 4 denied, 19-23, 22 reversal, 25
        ("total_charge", MONEY),  # CLP03
        ("paid", MONEY),  # CLP04
        ("patient_responsibility", MONEY),  # CLP05
        ("claim_filing_indicator", pa.string()),  # CLP06
        ("payer_claim_control_number", pa.string()),  # CLP07 (ICN/DCN)
        ("facility_code", pa.string()),  # CLP08
        ("frequency_code", pa.string()),  # CLP09
        ("patient_id", pa.string()),  # NM1*QC NM109
        ("patient_last_name", pa.string()),
        ("patient_first_name", pa.string()),
        ("rendering_npi", pa.string()),  # NM1*82
        ("statement_from", pa.date32()),  # DTM*232
        ("statement_to", pa.date32()),  # DTM*233
        ("received_date", pa.date32()),  # DTM*050
        ("coverage_amount", MONEY),  # AMT*AU (informational)
        ("interest_amount", MONEY),  # AMT*I
    ]
)

REMIT_LINES = pa.schema(
    [
        ("remit_claim_id", pa.string()),
        ("line_index", pa.int32()),  # 1-based order of SVC within the CLP
        ("line_control_number", pa.string()),  # REF*6R = 837 REF*6R
        ("procedure_qualifier", pa.string()),  # SVC01-1
        ("procedure_code", pa.string()),  # SVC01-2 adjudicated
        ("modifier_1", pa.string()),
        ("modifier_2", pa.string()),
        ("modifier_3", pa.string()),
        ("modifier_4", pa.string()),
        ("charge", MONEY),  # SVC02
        ("paid", MONEY),  # SVC03
        ("revenue_code", pa.string()),  # SVC04
        ("units_paid", QUANTITY),  # SVC05 (blank = 1 per TR3)
        ("original_procedure_code", pa.string()),  # SVC06-2 when the payer changed the code
        ("original_modifier_1", pa.string()),
        ("original_modifier_2", pa.string()),
        ("original_modifier_3", pa.string()),
        ("original_modifier_4", pa.string()),
        ("original_units", QUANTITY),  # SVC07
        ("service_date", pa.date32()),  # DTM*472 (or 150)
        ("service_date_to", pa.date32()),  # DTM*151
        ("allowed_amount", MONEY),  # AMT*B6 (informational)
        ("prior_auth_number", pa.string()),  # 2110 REF*G1
        ("location_number", pa.string()),  # 2110 REF*LU
    ]
)

#: CAS triplets, claim level (line_index null) and line level
ADJUSTMENTS = pa.schema(
    [
        ("remit_claim_id", pa.string()),
        ("line_index", pa.int32()),  # null = claim-level CAS (2100)
        ("group_code", pa.string()),  # CO, PR, OA, PI, CR
        ("reason_code", pa.string()),  # CARC
        ("amount", MONEY),  # positive decreases payment
        ("quantity", QUANTITY),
    ]
)

#: RARCs from LQ (line), MOA / MIA (claim)
REMARKS = pa.schema(
    [
        ("remit_claim_id", pa.string()),
        ("line_index", pa.int32()),  # null = claim level
        ("source", pa.string()),  # LQ, MOA, MIA
        ("code", pa.string()),
        ("qualifier", pa.string()),  # LQ01: HE = RARC, RX = NCPDP reject code; null for MOA/MIA
    ]
)

#: PLB: provider-level adjustments, one row per (reason, amount) pair
PROVIDER_ADJUSTMENTS = pa.schema(
    [
        ("transaction_id", pa.string()),
        ("file_id", pa.string()),
        ("provider_id", pa.string()),  # PLB01
        ("fiscal_period_date", pa.date32()),  # PLB02
        ("reason_code", pa.string()),  # PLB03-1: WO, 72, FB, L6, CS...
        ("reference", pa.string()),  # PLB03-2
        ("amount", MONEY),  # positive decreases payment
    ]
)

#: problems found while reading: never a silent drop
READ_ISSUES = pa.schema(
    [
        ("file_id", pa.string()),
        ("path", pa.string()),
        ("severity", pa.string()),  # error (something skipped) | warning (read, but suspect)
        ("code", pa.string()),  # stable id, e.g. X12-SE-COUNT, X12-BALANCE-CLAIM, CSV-MISSING-COLUMN
        ("message", pa.string()),  # what was expected; never patient data
        ("segment_index", pa.int64()),  # 1-based segment number in the file (X12)
        ("byte_offset", pa.int64()),  # offset of the segment start in the file
        ("line", pa.int64()),  # CSV/NDJSON line
        ("column", pa.string()),  # CSV column / FHIR path / X12 element (e.g. CLP03)
        ("loop", pa.string()),  # X12 loop, e.g. 2300, 2110
        ("segment_id", pa.string()),
        ("claim_key", pa.string()),  # CLM01/CLP01 when known (an identifier the user holds)
        ("skipped", pa.string()),  # what was not loaded: claim, transaction, file, line, nothing
    ]
)

#: 999 implementation acknowledgment (005010X231A1): one row per AK1 functional group response
ACK_GROUPS = pa.schema(
    [
        ("transaction_id", pa.string()),  # the 999's own ST/SE
        ("file_id", pa.string()),
        ("functional_id", pa.string()),  # AK101 (HC = 837)
        ("group_control", pa.string()),  # AK102 = GS06 of the acknowledged group
        ("group_version", pa.string()),  # AK103 = GS08 of the acknowledged group
        ("status", pa.string()),  # AK901: A, E, P, R, M, W, X
        ("sets_included", pa.int32()),  # AK902
        ("sets_received", pa.int32()),  # AK903
        ("sets_accepted", pa.int32()),  # AK904
        ("error_codes", pa.string()),  # AK905-AK909, space separated
    ]
)

#: 999: one row per AK2 acknowledged transaction set, with its IK5 status
ACK_SETS = pa.schema(
    [
        ("ack_set_id", pa.string()),  # <transaction_id>:<n>, n = order of the AK2 in its 999
        ("transaction_id", pa.string()),
        ("file_id", pa.string()),
        ("group_control", pa.string()),  # AK102 of the enclosing AK1
        ("set_id", pa.string()),  # AK201 (837)
        ("set_control", pa.string()),  # AK202 = ST02 of the acknowledged transaction
        ("set_version", pa.string()),  # AK203 = ST03
        ("status", pa.string()),  # IK501: A accepted, E accepted with errors, R rejected, M/W/X rejected
        ("error_codes", pa.string()),  # IK502-IK506, space separated
    ]
)

#: 999: one row per IK4 element error (or per IK3 without IK4), with the CTX that places it
ACK_ERRORS = pa.schema(
    [
        ("ack_set_id", pa.string()),
        ("error_index", pa.int32()),  # order of the IK3 within its AK2
        ("segment_id", pa.string()),  # IK301
        ("segment_position", pa.int32()),  # IK302: position in the acknowledged transaction (ST = 1)
        ("loop_id", pa.string()),  # IK303
        ("segment_error", pa.string()),  # IK304
        ("element_position", pa.int32()),  # IK401-1
        ("component_position", pa.int32()),  # IK401-2
        ("repetition_position", pa.int32()),  # IK401-3
        ("element_reference", pa.string()),  # IK402 (data element number, e.g. 782)
        ("element_error", pa.string()),  # IK403
        ("bad_value", pa.string()),  # IK404: a copy of the bad data (may be patient data: never logged)
        ("claim_key", pa.string()),  # CTX01-2 where CTX01-1 = CLM01 (the claim the error is in)
        ("context_name", pa.string()),  # CTX01-1 of that business-unit CTX (CLM01, ...)
        ("trigger_segment_id", pa.string()),  # CTX*SITUATIONAL TRIGGER CTX02
        ("trigger_segment_position", pa.int32()),  # CTX03
        ("trigger_loop_id", pa.string()),  # CTX04
        ("trigger_element_position", pa.int32()),  # CTX05-1
        ("trigger_component_position", pa.int32()),  # CTX05-2
    ]
)

#: TA1 interchange acknowledgments (one row per TA1 segment)
INTERCHANGE_ACKS = pa.schema(
    [
        ("file_id", pa.string()),
        ("interchange_control", pa.string()),  # ISA13 of the response's own interchange
        ("acknowledged_control", pa.string()),  # TA101 = ISA13 of the acknowledged interchange
        ("acknowledged_date", pa.date32()),  # TA102 (YYMMDD)
        ("acknowledged_time", pa.string()),  # TA103
        ("status", pa.string()),  # TA104: A accepted, E accepted with errors, R rejected
        ("note_code", pa.string()),  # TA105
    ]
)

#: 276 requests and 277 / 277CA responses: one row per claim (2200D/2200E TRN)
STATUS_CLAIMS = pa.schema(
    [
        ("status_claim_id", pa.string()),  # <transaction_id>:<n>, n = order of the claim TRN
        ("transaction_id", pa.string()),
        ("file_id", pa.string()),
        ("transaction_type", pa.string()),  # 276, 277, 277CA
        ("payer_name", pa.string()),  # NM1*PR NM103 [2100A]
        ("payer_id", pa.string()),  # NM1*PR NM109
        ("receiver_id", pa.string()),  # NM1*41 NM109 [2100B]
        ("provider_npi", pa.string()),  # NM1*1P / 85 NM109 when NM108 = XX [2100C]
        ("subscriber_id", pa.string()),  # NM1*IL NM109 [2100D]
        ("trace_number", pa.string()),  # TRN02 [2200D/E]: 277CA = CLM01; 276/277 = the request's trace
        ("patient_control_number", pa.string()),  # 277CA: TRN02; 276/277: REF*EJ
        ("payer_claim_control_number", pa.string()),  # REF*1K
        ("clearinghouse_trace", pa.string()),  # REF*D9
        ("bill_type", pa.string()),  # REF*BLT
        ("total_charge", MONEY),  # STC04 of the first claim STC (276: AMT*T3)
        ("service_from", pa.date32()),  # DTP*472 (claim level)
        ("service_to", pa.date32()),
    ]
)

#: 277 / 277CA: one row per status composite (STC01, STC10, STC11) of a claim or its lines
CLAIM_STATUSES = pa.schema(
    [
        ("status_claim_id", pa.string()),
        ("line_index", pa.int32()),  # null: claim level; else the SVC's order in the claim
        ("status_index", pa.int16()),  # order of the STC within the claim (or line)
        ("composite", pa.int16()),  # 1 = STC01, 2 = STC10, 3 = STC11
        ("category_code", pa.string()),  # C043-1 (A1, A3, A7, P1, F2...)
        ("status_code", pa.string()),  # C043-2 (claim status code)
        ("entity_code", pa.string()),  # C043-3 (entity identifier: 85, IL, QC...)
        ("status_date", pa.date32()),  # STC02
        ("action_code", pa.string()),  # STC03 (WQ accepted, U rejected)
        ("charge", MONEY),  # STC04
        ("paid", MONEY),  # STC05
        ("check_number", pa.string()),  # STC09
    ]
)

#: 276 / 277 / 277CA service lines (SVC)
STATUS_LINES = pa.schema(
    [
        ("status_claim_id", pa.string()),
        ("line_index", pa.int32()),
        ("procedure_qualifier", pa.string()),  # SVC01-1
        ("procedure_code", pa.string()),  # SVC01-2
        ("modifier_1", pa.string()),
        ("modifier_2", pa.string()),
        ("charge", MONEY),  # SVC02
        ("paid", MONEY),  # SVC03
        ("revenue_code", pa.string()),  # SVC04
        ("units", QUANTITY),  # SVC07
        ("line_control_number", pa.string()),  # REF*FJ
        ("service_date", pa.date32()),  # DTP*472
        ("service_date_to", pa.date32()),
    ]
)

CLAIM_TABLES = {
    "files": FILES,
    "transactions": TRANSACTIONS,
    "claims": CLAIMS,
    "diagnoses": DIAGNOSES,
    "lines": LINES,
    "other_payers": OTHER_PAYERS,
    "line_adjudications": LINE_ADJUDICATIONS,
    "other_payer_adjustments": OTHER_PAYER_ADJUSTMENTS,
    "read_issues": READ_ISSUES,
}

REMIT_TABLES = {
    "files": FILES,
    "transactions": TRANSACTIONS,
    "payments": PAYMENTS,
    "remit_claims": REMIT_CLAIMS,
    "remit_lines": REMIT_LINES,
    "adjustments": ADJUSTMENTS,
    "remarks": REMARKS,
    "provider_adjustments": PROVIDER_ADJUSTMENTS,
    "read_issues": READ_ISSUES,
}

#: acknowledgments and claim status (999, TA1, 277CA, 276/277)
ACK_TABLES = {
    "files": FILES,
    "transactions": TRANSACTIONS,
    "ack_groups": ACK_GROUPS,
    "ack_sets": ACK_SETS,
    "ack_errors": ACK_ERRORS,
    "interchange_acks": INTERCHANGE_ACKS,
    "status_claims": STATUS_CLAIMS,
    "claim_statuses": CLAIM_STATUSES,
    "status_lines": STATUS_LINES,
    "read_issues": READ_ISSUES,
}


def empty(schema: pa.Schema) -> pa.Table:
    return schema.empty_table()


@dataclass
class _Batch:
    """Named Arrow tables with the schemas above; concatenates across files."""

    tables: dict[str, pa.Table] = field(default_factory=dict)
    SCHEMAS: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for name, schema in self.SCHEMAS.items():
            table = self.tables.get(name)
            self.tables[name] = schema.empty_table() if table is None else table.cast(schema)
        unknown = set(self.tables) - set(self.SCHEMAS)
        if unknown:
            raise ValueError(f"unknown tables {sorted(unknown)}")

    def __getitem__(self, name: str) -> pa.Table:
        return self.tables[name]

    def extend(self, other: "_Batch") -> None:
        for name in self.SCHEMAS:
            self.tables[name] = pa.concat_tables([self.tables[name], other.tables[name]])

    @classmethod
    def concat(cls, batches: list["_Batch"]):
        """One batch of all: each table keeps one chunk per batch (Arrow, DuckDB and Parquet
        read chunked tables as they are; combining would copy every table once more and
        double the peak memory of a whole-file read)."""
        out = cls()
        for name, schema in out.SCHEMAS.items():
            parts = [b.tables[name] for b in batches if b.tables[name].num_rows]
            out.tables[name] = pa.concat_tables(parts) if parts else schema.empty_table()
        return out


@dataclass
class ClaimBatch(_Batch):
    """Submitted claims: files, transactions, claims, diagnoses, lines, other_payers,
    line_adjudications, other_payer_adjustments, read_issues."""

    def __post_init__(self) -> None:
        self.SCHEMAS = CLAIM_TABLES
        super().__post_init__()


@dataclass
class RemitBatch(_Batch):
    """Remittances: files, transactions, payments, remit_claims, remit_lines, adjustments,
    remarks, provider_adjustments, read_issues."""

    def __post_init__(self) -> None:
        self.SCHEMAS = REMIT_TABLES
        super().__post_init__()


@dataclass
class AckBatch(_Batch):
    """Acknowledgments and claim status: files, transactions, ack_groups, ack_sets, ack_errors,
    interchange_acks, status_claims, claim_statuses, status_lines, read_issues."""

    def __post_init__(self) -> None:
        self.SCHEMAS = ACK_TABLES
        super().__post_init__()
