#!/usr/bin/env bash
# Benchmark (not a test) of `scimitar load`, all on this machine, against a
# release `scimitar serve` on 127.0.0.1:
#   1. request rate: scimitar load (RATE_USERS users) vs Locust (FastHttpUser,
#      the exported locustfile, one Locust process, LOCUST_S seconds) at the
#      same concurrency C, and the ratio;
#   2. peak RSS of scimitar load (/usr/bin/time -v) at SMALL and LARGE users;
#   3. the server's latency (as scimitar load sees it) at SMALL and LARGE users.
#
#   bash bench/load.sh     # SMALL=1000 LARGE=100000 RATE_USERS=20000 C=16 LOCUST_S=20
#   SMALL=1000 LARGE=20000 bash bench/load.sh
#
# Needs GNU time (apt `time`) and the venv of .ci/requirements-load.txt
# (made here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

SMALL=${SMALL:-1000}
LARGE=${LARGE:-100000}
RATE_USERS=${RATE_USERS:-20000}
C=${C:-16}
LOCUST_S=${LOCUST_S:-20}
PYENV=${SCIMITAR_PYENV:-$PWD/target/pyenv}
TOKEN=scimitar-bench-token
OUT=$(mktemp -d)

if [ ! -x /usr/bin/time ]; then
  echo "bench: install GNU time (apt-get install time) first" >&2
  exit 2
fi
if [ ! -x "$PYENV/bin/locust" ]; then
  python3 -m venv "$PYENV"
  "$PYENV/bin/pip" install --quiet --disable-pip-version-check -r .ci/requirements-load.txt
fi

cargo build --release --quiet
BIN=$PWD/target/release/scimitar

start_server() {
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$BIN" serve --port "$PORT" --token "$TOKEN" >"$OUT/serve.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    sleep 0.1
  done
  URL="http://127.0.0.1:$PORT/scim/v2"
}
stop_server() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }
trap 'stop_server; rm -rf "$OUT"' EXIT

load() { # users label
  /usr/bin/time -v -o "$OUT/rss-$2" "$BIN" load --url "$URL" --token "$TOKEN" -q \
    --users "$1" --groups 20 --members 50 --concurrency "$C" --json "$OUT/$2.json" >"$OUT/$2.txt"
}

# A fresh server per run, so each starts from an empty store.
start_server; load "$RATE_USERS" rate; stop_server
start_server; load "$SMALL" small; stop_server
start_server; load "$LARGE" large; stop_server

# Locust: the exported scenario, $C users, one process, $LOCUST_S seconds.
"$BIN" load --members 50 --export-locust "$OUT/locustfile.py" >/dev/null
start_server
(cd "$OUT" && SCIM_TOKEN=$TOKEN "$PYENV/bin/locust" -f locustfile.py --headless \
  -u "$C" -r "$C" -t "${LOCUST_S}s" --host "$URL" --only-summary --stop-timeout 30 \
  --json-file locust >locust.log 2>&1) || true
stop_server

python3 - "$OUT" "$C" "$SMALL" "$LARGE" "$LOCUST_S" "$RATE_USERS" <<'EOF'
import json, re, sys
out, c, small, large, locust_s = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
rate_users = int(sys.argv[6])
def rss(name):
    text = open(f"{out}/rss-{name}").read()
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) / 1024
def op(d, name):
    return next(o for o in d["operations"] if o["name"] == name)
runs = {k: json.load(open(f"{out}/{k}.json")) for k in ("rate", "small", "large")}
entries = json.load(open(f"{out}/locust.json"))
reqs = sum(e["num_requests"] for e in entries)
fails = sum(e["num_failures"] for e in entries)
start = min(e["start_time"] for e in entries)
end = max(e["last_request_timestamp"] for e in entries)
locust_rps = reqs / (end - start) if end > start else 0.0
scim_rps = runs["rate"]["rps"]
print(f"concurrency {c}; server: scimitar serve (release) on 127.0.0.1, same machine")
print()
print("| generator | requests | errors | seconds | requests/s |")
print("|---|---|---|---|---|")
for k, n in (("rate", rate_users), ("small", small), ("large", large)):
    d = runs[k]
    print(f"| scimitar load, {n:,} users | {d['requests']:,} | {d['errors']} | {d['duration_s']:.1f} | {d['rps']:,.0f} |")
print(f"| Locust 2.47 FastHttpUser, 1 process, {c} users, {locust_s} s | {reqs:,} | {fails} | {end-start:.1f} | {locust_rps:,.0f} |")
print(f"\nratio scimitar load ({rate_users:,} users) / Locust: {scim_rps / locust_rps:.1f}x" if locust_rps else "\nLocust made no requests")
print()
print("| operation (" + f"{large:,}" + " users) | count | req/s | p50 ms | p99 ms |")
print("|---|---|---|---|---|")
for o in runs["large"]["operations"]:
    print(f"| {o['name']} | {o['count']:,} | {o['rps']:,.0f} | {o['p50_ms']} | {o['p99_ms']} |")
print()
print("| users | peak RSS of scimitar load | match-user p50 / p99 | create-user p50 / p99 | import page p50 / p99 | verify-count (userName sw, full scan) |")
print("|---|---|---|---|---|---|")
for k, n in (("small", small), ("large", large)):
    d = runs[k]
    m, cr, im, vc = op(d, "match-user"), op(d, "create-user"), op(d, "import-users"), op(d, "verify-count")
    print(f"| {n:,} | {rss(k):.1f} MB | {m['p50_ms']} / {m['p99_ms']} ms | {cr['p50_ms']} / {cr['p99_ms']} ms | {im['p50_ms']} / {im['p99_ms']} ms | {vc['max_ms']} ms |")
print(f"\nRSS difference: {rss('large') - rss('small'):.1f} MB")
EOF
