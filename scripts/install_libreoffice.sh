#!/usr/bin/env bash
# Install Debian's LibreOffice without its GUI (Writer and Calc) and poppler-utils, for the
# tests that open the DOCX, ODT and XLSX documents as a user would, convert them to PDF and
# render their first page (tests/test_documents.py). Idempotent and non-interactive: does
# nothing when `soffice` and `pdftoppm` are already on PATH. Cost measured in docs/documents.md.
set -euo pipefail

if command -v soffice >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1; then
  echo "LibreOffice déjà installé : $(command -v soffice)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends libreoffice-writer-nogui \
  libreoffice-calc-nogui poppler-utils fonts-liberation fonts-dejavu-core
command -v soffice
soffice --version
