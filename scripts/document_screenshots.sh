#!/usr/bin/env bash
# First page of each document of a run, as LibreOffice prints it: docs/document-{docx,odt,xlsx}.png.
#   scripts/document_screenshots.sh reports/synthese-demo-enseignants-ia.html [docs]
# The DOCX, ODT and XLSX beside the HTML report are converted to PDF by LibreOffice
# (headless, a throw-away profile), then pdftoppm renders page 1 of each at 80 dpi.
set -euo pipefail

report="${1:?usage: $0 REPORT.html [DOSSIER]}"
dest="${2:-docs}"
stem="${report%.html}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for fmt in docx odt xlsx; do
  cp "$stem.$fmt" "$work/document-$fmt.$fmt"
done
soffice "-env:UserInstallation=file://$work/profil" --headless --norestore \
  --convert-to pdf --outdir "$work" "$work"/document-*.docx "$work"/document-*.odt \
  "$work"/document-*.xlsx >/dev/null
mkdir -p "$dest"
for fmt in docx odt xlsx; do
  pdftoppm -png -r 80 -f 1 -l 1 -singlefile "$work/document-$fmt.pdf" "$dest/document-$fmt"
  echo "$dest/document-$fmt.png ($(pdfinfo "$work/document-$fmt.pdf" | awk '/^Pages:/ {print $2}') pages)"
done
