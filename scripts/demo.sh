#!/usr/bin/env bash
# The main job on the bundled examples: build the reference store from the official mirror,
# lint the demo claims, recover the demo remittances, and print one billing guide.
# Uses a private home (.demo-home) so it never touches the user's own store or worklist.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
export RECLAIM_HOME=${RECLAIM_HOME:-$PWD/.demo-home}
R=.venv/bin/reclaim
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "reference data: official CMS/X12 files from $SHARED/refdata"
$R data import "$SHARED/refdata"
$R data status

# The mirror's ASP prices are for 2025-Q4: run as of a day in that quarter.
step "reclaim check: the demo claims (Medicare 837P, Medicaid and commercial CSV)"
$R check examples/claims/check-* --policy medicare --policy medicaid \
  --policy examples/policies/commercial-example.yaml --date-of-check 2025-12-15 || [ $? -eq 1 ]

step "reclaim recover: the demo remittances against the claims sent"
rm -rf out/recover
$R recover examples/remits/recover-medicare.835 examples/remits/recover-acme.835 \
  --claims examples/claims/recover-medicare.837 --claims examples/claims/recover-acme.837 \
  --policy medicare --policy examples/policies/commercial-example.yaml \
  --terms examples/remits/acme-terms.yaml --as-of 2025-12-15 -o out/recover
echo "worklist, summary, corrected claims and letters written to out/recover/"

# The mirror has no X12 claim status code lists: the demo loads the test fixture (the texts of
# the codes it uses); for real use import the lists published at x12.org.
step "reclaim recover: acknowledgments (999, 277CA) of the claims checked above"
$R data import tests/fixtures/refdata/x12_claim_status
rm -rf out/acks
$R recover examples/acks/check-medicare.999 examples/acks/check-medicare.277ca \
  --claims examples/claims/check-medicare.837 --policy medicare --as-of 2025-12-15 -o out/acks --no-save
.venv/bin/python -c 'import csv; [print(r["patient_control_number"] + ": " + r["explanation"] + "\n  root cause: "
  + r["root_cause"] + "\n  deadline: " + r["deadline"] + " (" + r["deadline_rule"] + ")")
  for r in csv.DictReader(open("out/acks/worklist.csv")) if r["kind"] == "rejection"]'
echo "the rejected claim is in out/acks/worklist.csv; every claim's acknowledgment state in out/acks/claim-status.csv"

step "reclaim code J0897: the billing guide"
$R code J0897 --date 2025-12-15
$R ndc 55513-0710-01 --date 2025-12-15
