#!/usr/bin/env bash
# Benchmark (not a test): scimitar's full default run against (a) the
# embedded reference server and (b) scim2-server, and scim2-tester against
# the same scim2-server. Prints wall time (median of RUNS, hyperfine), steps,
# requests sent, peak RSS (/usr/bin/time -v) and the ratio to scim2-tester.
#
#   bash bench/run.sh            # RUNS=5 by default
#
# Needs: a release build (made here), hyperfine and GNU time (apt packages
# `hyperfine`, `time`; installed here when missing and running as root), and
# the venv of .ci/requirements-external.txt (made here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-5}
PYENV=${SCIMITAR_PYENV:-$PWD/target/pyenv}
TOKEN=scimitar-bench-token
OUT=$(mktemp -d)

need_apt=()
command -v hyperfine >/dev/null || need_apt+=(hyperfine)
[ -x /usr/bin/time ] || need_apt+=(time)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null
    apt-get install -y -q "${need_apt[@]}" >/dev/null
  else
    echo "bench: install ${need_apt[*]} (apt) first" >&2
    exit 2
  fi
fi
if [ ! -x "$PYENV/bin/scim2-server" ]; then
  python3 -m venv "$PYENV"
  "$PYENV/bin/pip" install --quiet --disable-pip-version-check -r .ci/requirements-external.txt
fi

cargo build --release --quiet
BIN=$PWD/target/release/scimitar

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PYENV/bin/scim2-server" --hostname 127.0.0.1 --port "$PORT" --bearer-token "$TOKEN" \
  >"$OUT/scim2-server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$OUT"' EXIT
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.1
done
URL="http://127.0.0.1:$PORT/v2"

EMBEDDED="$BIN run --embedded -q"
AGAINST="$BIN run --url $URL --token $TOKEN -q"
TESTER="$PYENV/bin/scim2 --url $URL -h 'Authorization: Bearer $TOKEN' test"

# Wall time: hyperfine, one warm-up; scimitar exits 1 on findings, scim2 test too.
hyperfine --warmup 1 --runs "$RUNS" --ignore-failure --export-json "$OUT/times.json" \
  --command-name embedded "$EMBEDDED" \
  --command-name scim2-server "$AGAINST" \
  --command-name scim2-tester "$TESTER" >"$OUT/hyperfine.txt"

# One more run of each for counts and peak RSS.
/usr/bin/time -v -o "$OUT/rss-embedded" $EMBEDDED --json "$OUT/embedded.json" >/dev/null || true
/usr/bin/time -v -o "$OUT/rss-scim2-server" $AGAINST --json "$OUT/scim2-server.json" >/dev/null || true
/usr/bin/time -v -o "$OUT/rss-scim2-tester" sh -c "$TESTER" >"$OUT/tester.txt" || true

python3 - "$OUT" <<'EOF'
import json, re, sys
out = sys.argv[1]
times = {r["command"]: r["median"] for r in json.load(open(f"{out}/times.json"))["results"]}
def rss(name):
    text = open(f"{out}/rss-{name}").read()
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) / 1024
def scimitar(name):
    d = json.load(open(f"{out}/{name}.json"))
    steps = [st for s in d["suites"] for st in s["steps"]]
    ran = sum(1 for st in steps if st["outcome"] != "skipped")
    failed = sum(1 for st in steps if st["outcome"] == "failed")
    return f"{ran} run ({failed} failed) of {len(steps)}", d["requests_sent"]
tester_lines = [l for l in open(f"{out}/tester.txt") if re.match(r"^[A-Z]+ \S+$", l.strip())]
tester_errors = sum(1 for l in tester_lines if not l.startswith("SUCCESS"))
rows = [
    ("scimitar, embedded server", "embedded", *scimitar("embedded")),
    ("scimitar against scim2-server", "scim2-server", *scimitar("scim2-server")),
    ("scim2-tester against scim2-server", "scim2-tester",
     f"{len(tester_lines)} results ({tester_errors} not SUCCESS)", "n/a"),
]
base = times["scim2-tester"]
print("| run | wall time (median) | steps / checks | requests sent | peak RSS | vs scim2-tester |")
print("|---|---|---|---|---|---|")
for label, key, steps, reqs in rows:
    print(f"| {label} | {times[key]*1000:.0f} ms | {steps} | {reqs} | {rss(key):.1f} MB | {times[key]/base:.2f}× |")
EOF
