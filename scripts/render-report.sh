#!/usr/bin/env bash
# Renders the HTML compatibility report in headless Chromium, to check that
# it is a valid, self-contained page a person can read:
#   scripts/render-report.sh [REPORT.html] [OUT.png]
# Without arguments it generates a report from the embedded reference server
# (a run that may have failing steps: only rendering is judged here) and
# writes target/report-render/report.png and report.pdf.
# Installs Debian's chromium when it is missing (CI runs as root).
set -euo pipefail
cd "$(dirname "$0")/.."

out_dir=target/report-render
mkdir -p "$out_dir"
report=${1:-}
png=${2:-$out_dir/report.png}
pdf=${png%.png}.pdf

if [ -z "$report" ]; then
  report=$out_dir/report.html
  cargo build --quiet --bin scimitar
  # Exit 1 (failing steps) still writes the report; 2 or more is a real error.
  rc=0
  ./target/debug/scimitar run --embedded --quiet --report "$report" >"$out_dir/run.log" 2>&1 || rc=$?
  if [ "$rc" -ge 2 ]; then
    cat "$out_dir/run.log" >&2
    echo "render-report: scimitar exited $rc" >&2
    exit "$rc"
  fi
fi
[ -s "$report" ] || { echo "render-report: $report is missing or empty" >&2; exit 1; }

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "render-report: chromium is not installed (apt-get install -y chromium)" >&2
    exit 1
  fi
  echo "render-report: installing chromium" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq chromium >/dev/null
  browser=$(command -v chromium)
fi

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
url="file://$(realpath "$report")"
flags=(--headless --no-sandbox --disable-gpu --disable-background-networking
  --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile")

rm -f "$png" "$pdf"
timeout 120 "$browser" "${flags[@]}" --hide-scrollbars --window-size=1100,1600 \
  --screenshot="$(realpath -m "$png")" "$url" >/dev/null 2>&1 || true
timeout 120 "$browser" "${flags[@]}" --no-pdf-header-footer \
  --print-to-pdf="$(realpath -m "$pdf")" "$url" >/dev/null 2>&1 || true

fail=0
# A PNG starts with \x89PNG; a PDF with %PDF.
if [ "$(head -c 4 "$png" 2>/dev/null | tail -c 3)" != "PNG" ]; then
  echo "render-report: no screenshot was produced ($png)" >&2
  fail=1
fi
if [ "$(head -c 4 "$pdf" 2>/dev/null)" != "%PDF" ]; then
  echo "render-report: no PDF was produced ($pdf)" >&2
  fail=1
fi
[ "$fail" -eq 0 ] || exit 1
echo "render-report: $report -> $png ($(stat -c %s "$png") bytes), $pdf ($(stat -c %s "$pdf") bytes)"
