#!/usr/bin/env bash
# Install Debian's headless-capable Chromium for the report tests (tests/test_report.py).
# Idempotent and non-interactive: does nothing when `chromium` is already on PATH.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  echo "chromium déjà installé : $(command -v chromium)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core fonts-liberation
command -v chromium
chromium --version
