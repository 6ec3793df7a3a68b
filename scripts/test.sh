#!/usr/bin/env bash
# The whole test suite. Tests read ../shared (official reference files, real X12 samples)
# and fail loudly when it is missing. Services the tests need (PostgreSQL) are started by
# scripts/test-services.sh and stopped when the run ends; the web tests' Chromium comes
# from Debian (scripts/install-browser.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export RECLAIM_SHARED=${RECLAIM_SHARED:-$(cd "${SHARED:-../shared}" && pwd)}
# Debian chromium for the browser tests (Playwright cannot download its own browser here)
bash scripts/install-browser.sh
# poppler-utils for the letter tests (every letter rendered to PNG pages and text)
bash scripts/install-poppler.sh
# shellcheck source=/dev/null
source scripts/test-services.sh
.venv/bin/python -m pytest -n 2 "$@"
