#!/usr/bin/env bash
# The main job on the bundled examples: build the reference store from the official mirror,
# then show what reclaim does. Uses a private home so it never touches the user's store.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
export RECLAIM_HOME=${RECLAIM_HOME:-$PWD/.demo-home}
R=.venv/bin/reclaim

$R data import "$SHARED/refdata"
$R data status
$R code J0897
$R ndc 55513-0710-01
