#!/usr/bin/env bash
# Installs Debian's poppler-utils (pdftoppm, pdftotext) for the letter tests, which render every
# recovery letter to PNG pages and text. Does nothing when pdftoppm is already there.
set -euo pipefail
if command -v pdftoppm >/dev/null && command -v pdftotext >/dev/null; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends poppler-utils >/dev/null
command -v pdftoppm >/dev/null || { echo "install-poppler.sh: pdftoppm did not install" >&2; exit 1; }
