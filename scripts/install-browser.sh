#!/usr/bin/env bash
# Installs Debian's chromium for the web app's browser tests (Playwright drives it through
# executable_path=/usr/bin/chromium: Playwright's own browser download does not work here).
# Does nothing when /usr/bin/chromium is already there.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
test -x /usr/bin/chromium || { echo "install-browser.sh: chromium did not install at /usr/bin/chromium" >&2; exit 1; }
echo "install-browser.sh: $(/usr/bin/chromium --version 2>/dev/null || echo chromium installed)"
