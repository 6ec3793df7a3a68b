"""The documents reclaim cites, under stable ids: every ``[TAG]`` in an edit's doc, the guide's
tables and the docs resolves here to its publisher, title, section, date and URL
(``docs/sources.md`` is generated from this table: ``python -m reclaim.documents.guide_sources``).

:func:`cite_text` turns a citation as written in the catalog ("domain-facts §3.1 [NOR-JW]
[CMS-DDU]") into what users read: the documents' titles. References to the project owner's
fact sheet (``domain-facts §..``) are internal and not shown; an item the sources do not settle
(written ``UNVERIFIED``) is shown as "not confirmed against an official publication".

``kind``: official (CMS, CDC, X12, statute), contractor (a MAC's page), payer (a payer's
policy), label (FDA/openFDA), repository (code lists in public repositories), secondary
(articles and vendor pages: used only where no official text was found).
"""

from __future__ import annotations

import re
from typing import NamedTuple


class Source(NamedTuple):
    id: str
    kind: str
    publisher: str
    title: str
    section: str
    date: str
    url: str

    @property
    def label(self) -> str:
        """'Noridian JF B: Modifier JW' (what a finding or the guide shows)."""
        return f"{self.publisher}: {self.title}" if self.publisher and self.publisher not in self.title else self.title


SOURCES: dict[str, Source] = {s.id: s for s in (
    Source('CMS-HCPCS-PROC', 'official', 'CMS', 'HCPCS Level II Coding Procedures', 'OMB 0938-1042', '', 'https://omb.report/icr/202304-0938-007/doc/131007301'),
    Source('CMS-APPSUM', 'official', 'CMS', 'HCPCS Application Summaries and Coding Recommendations, Third Quarter 2023', '', '', 'https://scribd.com/document/698779654/2023-Q3-HCPCS'),
    Source('HCPCS-LAYOUT', 'official', 'CMS', 'HCPCS Level II record layout (HCPCyyyy_recordlayout.txt, in the quarterly zip)', '', '2024', 'https://www.cms.gov/files/zip/july-2024-alpha-numeric-hcpcs-file.zip'),
    Source('WAMUIR-J', 'repository', 'CMS (via a public repository copy)', 'HCPCS Level II J-code list, long and short descriptors', '', '2019-2020 release', ''),
    Source('CMS-RAC74', 'official', 'cms.gov', 'CMS Recovery Audit issue 0074 "Excessive or Insufficient Drugs and Biologicals Units Billed"', '', '', 'https://www.cms.gov/Research-Statistics-Data-and-Systems/Monitoring-Programs/Medicare-FFS-Compliance-Programs/Recovery-Audit-Program/Approved-RAC-Topics-Items/0074-Excessive-or-Insufficient-Drugs-and-Biologicals.html'),
    Source('CMS-DDU', 'official', 'CMS', 'Medicare Part B Discarded Drug Units Report', '', '', 'https://www.cms.gov/research-statistics-data-systems/cms-drug-spending/medicare-part-b-discarded-drug-units-report'),
    Source('HHS-CR13056', 'official', 'HHS guidance portal', 'CR "New Claims Modifier Requirement for Drugs and Biologicals from a Single-Dose Container…"', '', '6/2/2023', 'https://www.hhs.gov/guidance/document/new-claims-modifier-requirement-drugs-and-biologicals-single-dose-container-or-single-use'),
    Source('CMS-ASP', 'official', 'CMS', 'ASP Regulations & Policy', '', '', 'https://www.cms.gov/medicare/payment/part-b-drugs/asp-regulations-policy'),
    Source('USC-1847A', 'official', 'lawserver.com', '42 U.S.C. 1395w-3a (SSA §1847A)', '', '', 'https://lawserver.com/law/country/us/code/42_usc_1395w-3a'),
    Source('FR-2004-ASP', 'official', 'Federal Register 9/16/2004', 'ASP final rule (04-20823)', '', '', 'http://federal.elaws.us/fr/9/16/2004/04-20823'),
    Source('FR-AIC2026', 'official', 'Federal Register 12/4/2025', 'CMS-4209-N, AIC thresholds CY2026', '', '', 'https://www.govinfo.gov/content/pkg/FR-2025-12-04/html/2025-21879.htm'),
    Source('SMDL-06-016', 'official', 'medicaid.gov', 'CMS SMD letter 06-016 (DRA physician-administered drugs)', '', '', 'https://www.medicaid.gov/federal-policy-guidance/downloads/SMD071106.pdf'),
    Source('MDCD-DRA', 'official', 'Medicaid.gov', 'Physician Administered Drugs (PAD)', '', '', 'https://Medicaid.gov/medicaid/prescription-drugs/state-prescription-drug-resources/physician-administered-drugs-pad/index.html'),
    Source('CMS-MA-ST', 'official', 'CMS fact sheet', 'Medicare Advantage Prior Authorization and Step Therapy for Part B Drugs', '', '', 'https://www.cms.gov/newsroom/fact-sheets/medicare-advantage-prior-authorization-and-step-therapy-part-b-drugs'),
    Source('CMS-FAQ-MUE', 'official', 'questions.cms.gov', 'CMS FAQ 11354 (MUE appeals)', '', '', 'https://questions.cms.gov/faq.php?id=5005&faqId=11354'),
    Source('CMS-FAQ-TF', 'official', 'webarchive.library.unt.edu', 'CMS FAQ 10562 (timely filing)', '', '', 'https://webarchive.library.unt.edu/web/20170118202106/https://questions.medicaid.gov/faq.php?faqId=10562&id=5010'),
    Source('CMS-FAQ12889', 'official', 'medlearnmedia.com', 'CMS FAQ 12889 (ICD-10 qualifiers ABK/ABF) as quoted by MedLearn', '', '', 'https://www.medlearnmedia.com/question-of-the-week/general/for-the-week-of-april-25-2016-4/'),
    Source('MCD-A52399', 'official', 'CMS MCD', 'Billing and Coding: Denosumab (Prolia™, Xgeva™)', 'A52399', '', 'https://www.cms.gov/medicare-coverage-database/view/article.aspx?articleId=52399&ver=45'),
    Source('MCD-CODES', 'official', 'cms.gov', 'CMS MCD note on code placement', '', '', 'https://cms.gov/medicare-coverage-database/view/ncacal-tracking-sheet.aspx?ncaid=314'),
    Source('X12-RFI2151', 'official', 'X12', 'X12 RFI 2151 (NDC in LIN/CTP)', '', '', 'http://rfi.x12.org/Request/Details/2151'),
    Source('X12-RFI591', 'official', 'X12', 'X12 RFI 591 (CTP05 unit of measure)', '', '', 'http://rfi.x12.org/Request/Details/591'),
    Source('X12-RFI1538', 'official', 'X12', 'X12 RFI 1538 (CLM05-3 and REF*F8)', '', '', 'https://x12.org/resources/requests-for-interpretation/rfi-1538-5010837i2300clm05-3-and-ref'),
    Source('X12-RFI2110', 'official', 'X12', 'X12 RFI 2110 (REF*F8 only for 7/8)', '', '', 'http://rfi.x12.org/Request/Details/2110'),
    Source('X12-RFI1945', 'official', 'X12', 'X12 RFI 1945 (replacement claim CLP01)', '', '', 'http://rfi.x12.org/Request/Details/1945'),
    Source('X12-RFI433', 'official', 'X12', 'X12 RFI 433 (diagnosis pointers, 4010)', '', '', 'http://rfi.x12.org/Request/Details/433'),
    Source('X12-RFI2348', 'official', 'X12', 'X12 RFI 2348 (835 service line balancing)', '', '', 'https://x12.org/resources/requests-for-interpretation/rfi-2348-835-claim-payment-adjustments'),
    Source('X12-RFI2601', 'official', 'X12', 'X12 RFI 2601 (claim/line balancing, AMT informational)', '', '', 'https://x12.org/resources/requests-for-interpretation/rfi-2601-claim-line-balancing-relationship-charged-allowed'),
    Source('EEDI-CLP', 'official', 'eedi.net', '835 4010A1 CLP', '', '', 'http://www.eedi.net/835004010X091A1/22_835004010X091A1.htm'),
    Source('EEDI-CAS', 'official', 'eedi.net', 'CAS', '', '', 'http://www.eedi.net/835004010X091A1/23_835004010X091A1.htm'),
    Source('EEDI-SVC', 'official', 'eedi.net', 'SVC', '', '', 'http://www.eedi.net/835004010X091A1/38_835004010X091A1.htm'),
    Source('EEDI-LQ', 'official', 'eedi.net', 'LQ', '', '', 'http://www.eedi.net/835004010X091A1/45_835004010X091A1.htm'),
    Source('EEDI-PLB', 'official', 'eedi.net', 'PLB', '', '', 'http://www.eedi.net/835004010X091A1/46_835004010X091A1.htm'),
    Source('STEDI-CLP', 'official', 'stedi.com', 'CLP', '', '', 'https://stedi.com/edi/x12-004050/segment/CLP'),
    Source('STEDI-CAS', 'official', 'edi.stedi.com', 'CAS', '', '', 'https://edi.stedi.com/x12-005010/segment/CAS'),
    Source('STEDI-SVD-LIKE', 'official', 'stedi.com', 'SVD', '', '', 'https://stedi.com/edi/x12-003050/segment/SVD'),
    Source('KA-SV1', 'official', 'kasoftware.com', 'SV1', '', '', 'https://www.kasoftware.com/schema/edi/x12/00403/segments/SV1/'),
    Source('NOR-J0897-B', 'contractor', 'Noridian JF Part B', 'J0897 review results', '', '', 'https://med.noridianmedicare.com/web/jfb/cert-review/mr/review-results/J0897'),
    Source('NOR-J0897-A', 'contractor', 'Noridian JF Part A', 'denosumab TPE results', '', '', 'https://med.noridianmedicare.com/es/web/jfa/cert-review/mr/review-results/denosumab-injection-results-of-tpe-review'),
    Source('FCSO-PROLIA', 'contractor', 'First Coast', 'Appropriate drug billing for Prolia (denosumab) injections, J0897', '', '', 'https://medicare.fcso.com/billing/appropriate-drug-billing-prolia-denosumab-injections-j0897'),
    Source('NOR-JW', 'contractor', 'Noridian JF B', 'Modifier JW', '', '', 'https://med.noridianmedicare.com/web/jfb/topics/modifiers/JW'),
    Source('NOR-CLAIM-FAQ', 'contractor', 'Noridian JE A', 'Claim Submission Errors FAQs (JW per CR9603)', '', '', 'https://med.noridianmedicare.com/web/jea/fees-news/faqs/claim-submission'),
    Source('NOR-JZ-DME', 'contractor', 'Noridian JD DME', 'Modifier JZ', '', '', 'https://med.noridianmedicare.com/web/jddme/topics/modifiers/jz'),
    Source('NOR-JWJZ', 'contractor', 'Noridian JE B', 'Modifiers JW and JZ…', '', '', 'https://med.noridianmedicare.com/web/jeb/article-detail/-/view/10525/modifiers-jw-and-jz-for-use-with-drugs-and-biologicals-in-single-use-containers'),
    Source('CGS-JZ', 'contractor', 'CGS', 'New JZ Modifier … – Revised', '', '12/18/2023', 'https://www.cgsmedicare.com/jc/pubs/news/2023/02/cope134488.html'),
    Source('PALM-NOC', 'contractor', 'Palmetto GBA JJ B', 'NOC drug codes', '', '', 'https://www.palmettogba.com/palmetto/jjb.nsf/DID/AW8MMP6652'),
    Source('PALM-ASP', 'contractor', 'Palmetto GBA', 'ASP pricing files April 2008', '', '', 'http://www.palmettogba.com/palmetto/providers.nsf/DocsCat/Ohio%20Part%20B%20Carrier~Browse%20by%20Topic~Fee%20Schedules~Drugs%20Biologicals~8525746A00550AA3852575AF0070591B'),
    Source('PALM-MUE', 'contractor', 'Palmetto GBA', 'MUE program', '', '', 'https://www.palmettogba.com/palmetto/jma.nsf/DID/A44KL34718'),
    Source('PALM-APPEALS', 'contractor', 'Palmetto GBA JJ A', 'appeal levels', '', '', 'https://palmettogba.com/palmetto/jja.nsf/DIDC/BGWQXG4233~Appeals~Timeliness'),
    Source('NGS-MUE', 'contractor', 'NGS', 'Medically Unlikely Edits Billing and Processing', '', '', 'https://ngsmedicare.com/coding-and-edits?selectedArticleId=1943300'),
    Source('NGS-APPEALS', 'contractor', 'NGS', 'Levels of Appeals and Time Limits for Filing', '', '', 'https://ngsmedicare.com/en/web/ngs/levels-of-appeals-and-time-limits-for-filing?selectedArticleId=2754831'),
    Source('FCSO-MUE', 'contractor', 'First Coast', 'MUE article', '', '', 'https://medicare.fcso.com/coding/medically-unlikely-edits-avoid-denials-and-appeals-properly-coding-first'),
    Source('FCSO-SEQ', 'contractor', 'First Coast', 'sequestration', '', '', 'https://medicare-prod.fcso.com/fee-schedules/federal-sequestration-payment-reductions'),
    Source('NOR-SEQ', 'contractor', 'med.noridianmedicare.com', 'Noridian JA DME sequestration', '', '', 'https://med.noridianmedicare.com/web/jadme/fees-news/fee-schedules/dmepos/sequestration'),
    Source('NOR-SI', 'contractor', 'med.noridianmedicare.com', 'Noridian JE A OPPS status indicators', '', '', 'https://med.noridianmedicare.com/web/jea/provider-types/opps/opps-payment-status-indicators'),
    Source('NOR-SI-A', 'contractor', 'med.noridianmedicare.com', 'Noridian JF A', '', '', 'https://med.noridianmedicare.com/web/jfa/provider-types/opps/opps-payment-status-indicators'),
    Source('FCSO-TF', 'contractor', 'First Coast', 'timely filing', '', '', 'https://medicare-prod.fcso.com/node/5026'),
    Source('NOR-TF', 'contractor', 'med.noridianmedicare.com', 'Noridian JF A timely filing', '', '', 'https://med.noridianmedicare.com/web/jfa/topics/claim-submission/timely-filing'),
    Source('NOR-TF-DME', 'contractor', 'med.noridianmedicare.com', 'Noridian JA DME timely filing', '', '', 'https://med.noridianmedicare.com/web/jadme/claims-appeals/claim-submission/timely-filing'),
    Source('NOR-REOPEN', 'contractor', 'med.noridianmedicare.com', 'Noridian JE A reopening', '', '', 'https://med.noridianmedicare.com/web/jea/topics/appeals/reopening'),
    Source('FCSO-ADJ', 'contractor', 'medicare-prod.fcso.com', 'First Coast adjust/reopen', '', '', 'https://medicare-prod.fcso.com/claims/claims-adjusting-reopening-cancelling-and-resubmitting'),
    Source('HIGHMARK-REOPEN', 'contractor', 'highmarkmedicareservices.com.', 'Appeals', '', '', 'http://www.highmarkmedicareservices.com./faq/parta/appeals.html'),
    Source('FCSO-APPEALS', 'contractor', 'medicare.fcso.com', '164098', '', '', 'https://medicare.fcso.com/Appeals/164098.asp'),
    Source('FCSO-LCD', 'contractor', 'medicare.fcso.com', 'First Coast LCD resources', '', '', 'https://medicare.fcso.com/Coverage_resources/0507084.asp'),
    Source('NOR-50', 'contractor', 'med.noridianmedicare.com', 'Noridian JE A modifier 50', '', '', 'https://med.noridianmedicare.com/web/jea/topics/modifiers/50'),
    Source('NOR-OPDPA', 'contractor', 'med.noridianmedicare.com', 'Noridian JE A OPD PA botulinum toxin', '', '', 'https://med.noridianmedicare.com/web/jea/cert-reviews/pre-claim/botulinum-toxin-injections'),
    Source('NOR-PA-LIST', 'contractor', 'med.noridianmedicare.com', 'Pre claim', '', '', 'https://med.noridianmedicare.com/es/web/jea/cert-reviews/pre-claim'),
    Source('PH-0098', 'payer', 'BCBS (Alabama-administered)', 'Policy PH-0098 "Denosumab: Prolia; Jubbonti; Xgeva; Wyost"', '', 'rev. 04/04/2024', 'https://mn-policies.exploremyplan.com/portal/web/medical-policies/-/ph-0098'),
    Source('BCBSNC-2025', 'payer', 'Blue Cross NC', 'commercial drug notification 10/01/2025', '', '', 'https://www.bluecrossnc.com/providers/policies-guidelines-codes/notifications/commercial-drug-notification-10-01-2025'),
    Source('GEHA-XGEVA', 'payer', 'GEHA', 'Coverage policy: Xgeva (denosumab)', '', '', ''),
    Source('ANTHEM-SOC', 'payer', 'anthem.com', 'Anthem CG-MED-83 "Site of Care: Specialty Pharmaceuticals"', '', '', 'https://anthem.com/dam/medpolicies/abc/active/guidelines/gl_pw_c183201.html'),
    Source('ARBCBS-SOC', 'payer', 'secure.arkansasbluecross.com', 'Arkansas BCBS policy 2018030', '', '', 'https://secure.arkansasbluecross.com/members/report.aspx?policyNumber=2018030&viewIntro=yes'),
    Source('PRIORITY-NDC', 'payer', 'Priority Health', 'NDC billing', '', '', 'https://beta.priorityhealth.com/provider/manual/billing/ndc-numbers'),
    Source('BCBSND-WASTE', 'payer', 'bcbsnd.com', 'BCBSND drug wastage policy', '', '', 'https://www.bcbsnd.com/providers/policies-precertification/reimbursement-policy/drug-and-biological-wastage'),
    Source('MEDI-CAL-78', 'payer', 'files.medi-cal.ca.gov', 'Medi-Cal bulletin (frequency 7/8)', '', '', 'https://files.medi-cal.ca.gov/pubsdoco/bulletins/artfull/part1202204.aspx'),
    Source('MAINE-MUE', 'payer', 'maine.gov', 'MaineCare MUE notice', '', '', 'http://www.maine.gov/dhhs/oms/headline_news_details.shtml?id=221919'),
    Source('FDA-WYOST', 'label', 'openFDA label', 'Wyost', '', '', 'https://api.fda.gov/drug/label.json?search=set_id%3A%2269e4890d-5dd9-42a5-aa41-ce50635eaed7%22'),
    Source('FDA-JUBBONTI-NDC', 'label', 'api.fda.gov', 'openFDA NDC 61314-240-63', '', '', 'https://api.fda.gov/drug/ndc.json?search=packaging.package_ndc%3A%2261314-240-63%22'),
    Source('DAILYMED-EPTI', 'label', 'DailyMed', 'Integrilin (eptifibatide)', '', '', 'https://dailymed.nlm.nih.gov/dailymed/fda/fdaDrugXsl.cfm?setid=5AD82E30-50D8-450C-8A2A-B4B507ED1CE2&type=display'),
    Source('RIS-FDA', 'label', 'ris.world', 'Usa fda approves first interchangeable biosimilars to prolia and xgeva to treat certain types of osteoporosis and prevent bone events in cancer', '', '', 'https://www.ris.world/usa-fda-approves-first-interchangeable-biosimilars-to-prolia-and-xgeva-to-treat-certain-types-of-osteoporosis-and-prevent-bone-events-in-cancer/'),
    Source('OPENEMR-BU', 'repository', 'OpenEMR', 'BillingUtilities.php: CLP02 statuses, CARC and RARC texts', '', '', 'https://github.com/openemr/openemr'),
    Source('OPENEMR-ARC', 'repository', 'OpenEMR', 'adjustment_reason_codes.php: older CARC texts', '', '', 'https://github.com/openemr/openemr'),
    Source('OPENEMR-837P', 'repository', 'OpenEMR', 'X125010837P.php: SV1/DTP/LIN/CTP generation', '', '', 'https://github.com/openemr/openemr'),
    Source('MODS-CS', 'repository', 'public repository', 'HCPCS procedure modifier enumeration (C#)', '', '', ''),
    Source('MODS-TS', 'repository', 'public repository', 'DME modifier list incl. GA/GY/GZ/KX/JB/JK/JL/JW/JZ (TypeScript)', '', '', ''),
    Source('XMODS-CODE', 'repository', 'code', 'code comment citing CMS MLN MM8863 for X{EPSU} (public repository file)', '', '', ''),
    Source('XE-SQL', 'repository', 'OHDSI-style', 'OHDSI-style HCPCS modifier script (public repository file)', '', '', ''),
    Source('ICD-M80', 'repository', 'GitHub', 'GitHub medtrack-io/icd_code, `lib/codes/codes_m80.ex`', '', '', ''),
    Source('ICD-C79', 'repository', 'GitHub', 'GitHub HimaKar955/emr-smart, `src/app/data/additionalSupportiveDiagnoses.ts`', '', '', ''),
    Source('ICD-VS', 'repository', 'NLM', 'NLM VSAC value set 2.16.840.1.113883.3.464.1003.113.12.1038 "Osteoporosis" (as stored in a public repo)', '', '', ''),
    Source('CODE-REFG1', 'repository', 'public', 'public 837P generators emitting REF*G1 / HI ABK/ABF (public repository file)', '', '', ''),
    Source('ASP-SCRIPT', 'repository', 'public', 'public ASP-file ingestion script referencing the CMS NDC–HCPCS crosswalk (public repository file)', '', '', ''),
    Source('CH-J0894', 'secondary', 'coding.health', 'Hcpcs code j0894', '', '', 'https://coding.health/hcpcs-code-j0894'),
    Source('CODINGAHEAD-J0897', 'secondary', 'codingahead.com', 'Hcpcs j0897 description billing guidelines', '', '', 'https://www.codingahead.com/hcpcs-j0897-description-billing-guidelines/'),
    Source('BUYANDBILL-Q', 'secondary', 'buyandbill.com', 'Hcpcs code applications and approvals', '', '', 'https://buyandbill.com/hcpcs-code-applications-and-approvals/'),
    Source('OPENPAYER-Q5159', 'secondary', 'openpayer.com', 'Hcpcs q5159 denosumab biosimilar injection 1mg', '', '', 'https://www.openpayer.com/billing-codes/hcpcs-q5159-denosumab-biosimilar-injection-1mg'),
    Source('CCO-J0897', 'secondary', 'carecostoptimizer.com', 'Prolia j0897 asp trend', '', '', 'https://carecostoptimizer.com/drugs/prolia-j0897-asp-trend'),
    Source('ACR-WASTE', 'secondary', 'the-rheumatologist.org', 'Key facts on billing drug wastage', '', '', 'https://the-rheumatologist.org/article/key-facts-on-billing-drug-wastage/?singlepage=1'),
    Source('RTA-UNITS', 'secondary', 'rtacpa.com', 'Appropriate medicare drug billing', '', '', 'https://www.rtacpa.com/2017/08/16/appropriate-medicare-drug-billing/'),
    Source('MMP-UNITS', 'secondary', 'mmplusinc.com', 'Reporting correct drug units', '', '', 'http://mmplusinc.com/news-articles/item/reporting-correct-drug-units?category_id=36'),
    Source('MEDLEARN-70', 'secondary', 'medlearn.com', 'Pharmacy question week august 28 2017', '', '', 'https://medlearn.com/pharmacy-question-week-august-28-2017/'),
    Source('RETINAL-JWJZ', 'secondary', 'retinalphysician.com', 'Coding qa medicare reimbursement for discarded drugs', '', '', 'https://retinalphysician.com/issues/2023/september/coding-qa-medicare-reimbursement-for-discarded-drugs'),
    Source('NAHRI-FAQ', 'secondary', 'nahri.org', 'Cms publishes faq modifiers jw and jz', '', '', 'https://nahri.org/articles/cms-publishes-faq-modifiers-jw-and-jz'),
    Source('BRACCO', 'secondary', 'braccoreimbursement.com', 'Introducing the JZ modifier (not required on drugs packaged under OPPS)', '', '', 'https://braccoreimbursement.com/introducing-the-jz-modifier/'),
    Source('CMS-OPPS-ADDB', 'official', 'CMS', 'Hospital Outpatient PPS Quarterly Addenda Updates: Addendum B (OPPS payment by HCPCS code, status indicators)', '', 'quarterly', 'https://www.cms.gov/medicare/payment/prospective-payment-systems/hospital-outpatient-pps/quarterly-addenda-updates'),
    Source('STEDI-SV2', 'secondary', 'stedi.com', 'X12 005010 SV2 Institutional Service segment reference (revenue code, procedure, charge, unit, quantity: no diagnosis pointer element)', '', '', 'https://stedi.com/edi/x12-005010/segment/SV2'),
    Source('IPMS-JZ', 'secondary', 'ipmscorp.com', 'Jz modifier', '', '', 'https://ipmscorp.com/jz-modifier/'),
    Source('QPRO-JZ', 'secondary', 'qpro.com', 'JZ modifier (blog post 37314)', '', '', 'https://www.qpro.com/blog/37314'),
    Source('RPM-JW', 'secondary', 'rheumatologypracticemanagement.com', '2842 you aware of the cms policy change regarding jw modifier use', '', '', 'http://rheumatologypracticemanagement.com/rpm-issues/2017/april-2017-vol-5-no-2/2842-you-aware-of-the-cms-policy-change-regarding-jw-modifier-use'),
    Source('WPS-NOC', 'secondary', 'findacode.com', 'Noc drug and biological codes 31604', '', '', 'https://www.findacode.com/articles/noc-drug-and-biological-codes-31604.html'),
    Source('ESS-HOSP', 'secondary', 'essentialhospitals.org', 'Cms revises part b inflation rebate guidance 340b modifers', '', '', 'https://essentialhospitals.org/cms-revises-part-b-inflation-rebate-guidance-340b-modifers/'),
    Source('CCE-TB', 'secondary', 'carecostestimate.com', 'Tb', '', '', 'https://carecostestimate.com/billing/modifiers/tb'),
    Source('CCE-MODS', 'secondary', 'carecostestimate.com', 'Modifiers', '', '', 'https://carecostestimate.com/billing/modifiers/'),
    Source('ABN-MODS', 'secondary', 'ABN', 'ABN modifier table in a public repo (public repository file)', '', '', ''),
    Source('AAPC-POD50', 'secondary', 'aapc.com', 'Modifier modifiers 50 lt rt get your bilateral service coding on the right track article', '', '', 'https://aapc.com/codes/coding-newsletters/my-podiatry-coding-alert/modifier-modifiers-50-lt-rt-get-your-bilateral-service-coding-on-the-right-track-article'),
    Source('NDC-DAISY', 'secondary', 'kb.daisybill.com', 'How do i convert a 10 digit ndc number to 11 digits', '', '', 'https://kb.daisybill.com/articles/how-do-i-convert-a-10-digit-ndc-number-to-11-digits'),
    Source('NDC-DATAINSIGHT', 'secondary', 'datainsight.health', 'Ndc format', '', '', 'https://datainsight.health/posts/ndc-format/'),
    Source('NUCC-1500', 'secondary', 'NUCC 1500 instructions (copy at 1library.net)', 'Instructions for supplemental information (NDC on the 1500 form)', '', '', 'https://1library.net/article/instructions-for-supplemental-information.yermgm4q'),
    Source('RESDAC-UOM', 'secondary', 'resdac.org', 'Ndc unit measure code', '', '', 'https://resdac.org/cms-data/variables/ndc-unit-measure-code'),
    Source('CFB-IRA', 'secondary', 'centerforbiosimilars.com', 'Biosimilar medicare part b payment boost begins', '', '', 'https://www.centerforbiosimilars.com/view/biosimilar-medicare-part-b-payment-boost-begins'),
    Source('MONDAQ-IRA', 'secondary', 'webiis05.mondaq.com', 'Hhs is moving full steam ahead with the implementation of the inflation reduction act here are the key health care reform effective dates', '', '', 'http://webiis05.mondaq.com/unitedstates/healthcare/1238734/hhs-is-moving-full-steam-ahead-with-the-implementation-of-the-inflation-reduction-act-here-are-the-key-health-care-reform-effective-dates'),
    Source('FIERCE-IRA', 'secondary', 'fiercepharma.com', 'Nearing watershed year biosimilars industry should get boost new measure inflation reduction', '', '', 'https://www.fiercepharma.com/pharma/nearing-watershed-year-biosimilars-industry-should-get-boost-new-measure-inflation-reduction'),
    Source('RCA-PT', 'secondary', 'revenuecycleadvisor.com', 'Opps july update six drugs receive pass through status payment allowed new hepatitis b', '', '', 'https://revenuecycleadvisor.com/news-analysis/opps-july-update-six-drugs-receive-pass-through-status-payment-allowed-new-hepatitis-b'),
    Source('OMB-PT', 'secondary', 'omb.report', 'Doc', '', '', 'https://omb.report/icr/201810-0938-003/doc/86617101'),
    Source('MAI-AMC', 'secondary', 'americanmedicalcoding.com', 'Mue adjudication indicators master mai 1 vs 2 avoid claim denials', '', '', 'https://www.americanmedicalcoding.com/mue-adjudication-indicators-master-mai-1-vs-2-avoid-claim-denials/'),
    Source('MMP-MUE', 'secondary', 'mmplusinc.com', 'Increasing medicare mue denials', '', '', 'http://www.mmplusinc.com/news-articles/item/increasing-medicare-mue-denials'),
    Source('OSSUR-MUE', 'secondary', 'ossur.com', 'Medically unlikely edits 2021', '', '', 'https://www.ossur.com/en-us/professionals/ossur-rr/medically-unlikely-edits-2021'),
    Source('MEDIC-LCD', 'secondary', 'blog.medicmgmt.com', 'Medicare lcds vs. ncds', '', '', 'https://blog.medicmgmt.com/medicare-lcds-vs.-ncds'),
    Source('SAINCE-OPD', 'secondary', 'saince.com', 'Hospital outpatient departments effective july 1 2020 you must request prior authorization for certain hospital outpatient department opd services', '', '', 'https://www.saince.com/blog/hospital-outpatient-departments-effective-july-1-2020-you-must-request-prior-authorization-for-certain-hospital-outpatient-department-opd-services/'),
    Source('AMC-GROUP', 'secondary', 'americanmedicalcoding.com', 'List claim adjustment group codes', '', '', 'https://americanmedicalcoding.com/list-claim-adjustment-group-codes'),
    Source('CAHA-APPEALS', 'secondary', 'cahealthadvocates.org', 'Coverage payment appeals', '', '', 'https://cahealthadvocates.org/appeals/coverage-payment-appeals/'),
    Source('EMRPMS-837', 'secondary', 'emrpms.blogspot.com', 'Edi 5010 documentation 837 professional', '', '', 'http://emrpms.blogspot.com/2012/07/edi-5010-documentation-837-professional.html'),
    Source('EMRPMS-CORR', 'secondary', 'emrpms.blogspot.com', 'X12 edi 837 submitting corrected claims', '', '', 'https://emrpms.blogspot.com/2021/07/x12-edi-837-submitting-corrected-claims.html'),
    Source('MILLIN-835', 'secondary', 'edi-docs.millinmedical.app', '01 835 inbound', '', '', 'https://edi-docs.millinmedical.app/remittance/01-835-inbound'),
    Source('PROCENTIVE-PLB', 'secondary', 'support.procentive.com', '360060564691 Provider Level Adjustment Codes in an ERA', '', '', 'https://support.procentive.com/hc/en-us/articles/360060564691-Provider-Level-Adjustment-Codes-in-an-ERA'),
    Source('PLB-FUND', 'secondary', 'paperzz.com', 'Provider level balance reason codes  the fundamentals', '', '', 'https://paperzz.com/doc/7905838/provider-level-balance-reason-codes--the-fundamentals'),
    Source('PLB-BCBSGA', 'secondary', 'paperzz.com', 'Provider level adjustments complex forward balance examples', '', '', 'https://paperzz.com/doc/8839651/provider-level-adjustments-complex-forward-balance-examples'),
    Source('CDC-ICD10CM', 'official', 'CDC / NCHS', 'ICD-10-CM Tabular List of Diseases and Injuries, with the ICD-10-CM Official Guidelines for Coding and Reporting', "the fiscal year's release (October 1; the April 1 update)", 'FY2026', 'https://ftp.cdc.gov/pub/Health_Statistics/NCHS/Publications/ICD10CM/2026/'),
    Source('CMS-S111', 'official', 'CMS', 'Section 111 valid ICD-10 code list (Coordination of Benefits, ICD code lists)', '', 'FY2025 (January 2025 posting)', 'https://www.cms.gov/medicare/coordination-benefits-recovery/overview/icd-code-lists'),
    Source('CMS-MCD', 'official', 'CMS', 'Medicare Coverage Database: LCDs and billing-and-coding articles (current article export)', 'article_x_icd10_covered, article_x_hcpc_code, article_x_contractor', '', 'https://www.cms.gov/medicare-coverage-database/downloads/downloads.aspx'),
    Source('CMS-PIM-13', 'official', 'CMS', 'Medicare Program Integrity Manual (Pub. 100-08), Chapter 13: Local Coverage Determinations', '', '', 'https://www.cms.gov/regulations-and-guidance/guidance/manuals/downloads/pim83c13.pdf'),
    Source('X12-CARC', 'official', 'X12', 'Claim Adjustment Reason Codes (code source 139)', '', 'list as of 2025-11-01', 'https://x12.org/codes/claim-adjustment-reason-codes'),
    Source('X12-RARC', 'official', 'X12', 'Remittance Advice Remark Codes (code source 411)', '', 'list as of 2025-07-01', 'https://x12.org/codes/remittance-advice-remark-codes'),
    Source('CMS-NCCI-MUE', 'official', 'CMS', 'Medicare NCCI Medically Unlikely Edits (practitioner, outpatient hospital, DME supplier tables)', '', 'quarterly', 'https://www.cms.gov/medicare/coding-billing/national-correct-coding-initiative-ncci-edits/medicare-ncci-medically-unlikely-edits'),
    Source('CMS-HCPCS', 'official', 'CMS', 'HCPCS Level II quarterly update (Alpha-Numeric HCPCS file)', '', 'quarterly', 'https://www.cms.gov/medicare/coding-billing/healthcare-common-procedure-system/quarterly-update'),
    Source('CMS-ASP-FILES', 'official', 'CMS', 'ASP pricing files and NDC-HCPCS crosswalk', '', 'quarterly', 'https://www.cms.gov/medicare/payment/part-b-drugs/asp-pricing-files'),
)}

TAG = re.compile(r"\[([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+)\]")
_INTERNAL = re.compile(r"\s*\(?domain-facts(\s*§\s*\d+(\.\d+)*(\s*,\s*§\s*\d+(\.\d+)*)*)?\)?")
NOT_CONFIRMED = "not confirmed against an official publication"


def tags(text: str) -> list[str]:
    """The citation ids in ``text``, in order, once each."""
    return list(dict.fromkeys(TAG.findall(text or "")))


def unknown(text: str) -> list[str]:
    return [t for t in tags(text) if t not in SOURCES]


def cite_text(text: str) -> str:
    """A citation as users read it: the documents' labels joined by '; ' (and the
    not-confirmed note where the catalog says UNVERIFIED)."""
    labels = [SOURCES[t].label if t in SOURCES else t for t in tags(text)]
    if "UNVERIFIED" in (text or ""):
        labels.append(("recovery action " if "recovery action UNVERIFIED" in text else "") + NOT_CONFIRMED)
    return "; ".join(labels)


def resolve_text(text: str) -> str:
    """Prose with citations (an edit's Source section) for users: every ``[TAG]`` followed by
    its document's label, internal references dropped, UNVERIFIED said in words."""
    out = TAG.sub(lambda m: f"[{m.group(1)}: {SOURCES[m.group(1)].label}]" if m.group(1) in SOURCES else m.group(0),
                  text or "")
    out = _INTERNAL.sub(" ", out).replace("UNVERIFIED", NOT_CONFIRMED)
    out = re.sub(r"[;,]\s*([.)]|$)", r"\1", re.sub(r"[ \t]+([,;.)])", r"\1", out))
    return re.sub(r"[ \t]{2,}", " ", out).strip()


def markdown() -> str:
    """docs/sources.md: every source, by kind, under its stable id."""
    kinds = (("official", "Official and standards"), ("contractor", "Medicare contractors (MACs)"),
             ("payer", "Payers"), ("label", "Drug labels (FDA)"), ("repository", "Code lists in public repositories"),
             ("secondary", "Secondary sources (used only where no official text was found)"))
    out = ["# Sources", "",
           "Every citation tag used by the edit docs (`reclaim rules`), the billing guide (`reclaim code`) and these",
           "docs resolves here. Generated from `src/reclaim/documents/guide_sources.py`",
           "(`python -m reclaim.documents.guide_sources > docs/sources.md`); a test keeps them equal.", ""]
    for kind, heading in kinds:
        rows = sorted((s for s in SOURCES.values() if s.kind == kind), key=lambda s: s.id)
        if not rows:
            continue
        out += [f"## {heading}", "", "| id | publisher | title | section | date | URL |", "|---|---|---|---|---|---|"]
        for s in rows:
            cells = [s.id, s.publisher, s.title, s.section, s.date, f"<{s.url}>" if s.url else ""]
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(markdown(), end="")
