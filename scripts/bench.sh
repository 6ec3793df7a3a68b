#!/usr/bin/env bash
# Every benchmark in bench/, each printing throughput and a ratio against a baseline run in the same process.
set -euo pipefail
cd "$(dirname "$0")/.."
for b in bench/[!_]*.py; do
  echo "== $b"
  .venv/bin/python "$b"
done
