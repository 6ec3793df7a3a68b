#!/usr/bin/env bash
# The whole test suite. Tests read ../shared (official reference files, real X12 samples)
# and fail loudly when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export RECLAIM_SHARED=${RECLAIM_SHARED:-$(cd "${SHARED:-../shared}" && pwd)}
exec .venv/bin/python -m pytest -n 2 "$@"
