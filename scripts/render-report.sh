#!/usr/bin/env bash
# Renders the HTML compatibility report in headless Chromium, to check that
# it is a valid, self-contained page a person can read:
#   scripts/render-report.sh [REPORT.html] [OUT.png]
# Without arguments it renders two fresh reports into report-render/ under
# cargo's target folder (CARGO_TARGET_DIR or .cargo/config are respected):
# the embedded reference server's, and one with failing steps.
# Installs Debian's chromium when it is missing (CI runs as root).
set -euo pipefail
# Paths given are taken from the caller's folder; the rest from the repository.
self=$(realpath "$0")
report=${1:+$(realpath -m "$1")}
png=${2:+$(realpath -m "$2")}
cd "$(dirname "$self")/.."

# Wherever cargo builds (CARGO_TARGET_DIR, a config's build.target-dir).
target_dir=$(cargo metadata --format-version 1 --no-deps |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
[ -n "$target_dir" ] || { echo "render-report: cargo metadata named no target folder" >&2; exit 2; }
out_dir=$target_dir/report-render
mkdir -p "$out_dir"
png=${png:-$out_dir/report.png}

# Without arguments: the embedded run's report, plus one with failures (a
# small suite whose expectations the reference server cannot meet, with
# hostile text in the bodies) so the failure layout and escaping render too.
if [ -z "$report" ]; then
  cargo build --quiet --bin scimitar
  suites=$(mktemp -d)
  mkdir -p "$suites/suites"
  cat >"$suites/suites/failing.yaml" <<'YAML'
name: render-check
idp: entra
steps:
  - name: create
    why: "Shown in the report: <em>escaped</em>, never markup"
    request:
      method: POST
      path: /Users
      body: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "{{prefix}}-<script>x</script>@example.com" }
    expect: { status: 201, json: { "$.active": false } }
YAML
  for which in embedded failures; do
    args=(run --embedded --quiet --report "$out_dir/report-$which.html")
    [ "$which" = failures ] && args+=(--suite "$suites/suites")
    # Exit 1 (failing steps) still writes the report; 2 or more is a real error.
    rc=0
    "$target_dir/debug/scimitar" "${args[@]}" >"$out_dir/run-$which.log" 2>&1 || rc=$?
    if [ "$rc" -ge 2 ]; then
      cat "$out_dir/run-$which.log" >&2
      echo "render-report: scimitar exited $rc" >&2
      exit "$rc"
    fi
  done
  rm -rf "$suites"
  "$self" "$out_dir/report-embedded.html" "$out_dir/report-embedded.png"
  "$self" "$out_dir/report-failures.html" "$out_dir/report-failures.png"
  exit 0
fi
pdf=${png%.png}.pdf
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
# The DOM Chromium built: the report's title, and no script element.
dom=$(timeout 120 "$browser" "${flags[@]}" --dump-dom "$url" 2>/dev/null || true)
if ! grep -q '<h1>SCIM compatibility report</h1>' <<<"$dom"; then
  echo "render-report: Chromium did not render the report ($report)" >&2
  fail=1
fi
if grep -qi '<script' <<<"$dom"; then
  echo "render-report: the rendered report contains a script element ($report)" >&2
  fail=1
fi
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
