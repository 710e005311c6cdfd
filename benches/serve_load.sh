#!/usr/bin/env bash
# Load tests of `kycrules serve` on loopback, with oha (installed here with
# `cargo install` into target/tools when missing). Every run is bounded in
# time or count and stops by itself; the servers listen on 127.0.0.1 only
# and are stopped at the end. See BENCHMARKS.md ("The decision service").
#
#   benches/serve_load.sh            # the runs below, 10 s each
#   SECS=5 benches/serve_load.sh     # shorter runs
#   SOAK=600 benches/serve_load.sh   # also a 10-minute memory soak at 2,000/s
#   LOADGEN=wrk benches/serve_load.sh   # Debian's wrk instead of oha (no
#                                      # fixed-rate run: wrk has no rate option)
#
# Runs, each against the release binary:
#   1. /v1/decide at a fixed 5,000 requests/s (decision log on, fsync per group)
#   2. /v1/decide at the maximum rate (log on), (3) log without fsync, with no log
#   4. the HTTP floor: POST /bench/constant, the same server answering a constant
#   5. /v1/decide/batch with 10,000 applications a request
#   6. `kycrules check --format json` over the same 10,000 applications
set -euo pipefail
cd "$(dirname "$0")/.."

SECS=${SECS:-10}
CONC=${CONC:-32}
SOAK=${SOAK:-0}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/kycrules-serve-load.XXXXXX")
LOADGEN=${LOADGEN:-oha}
OHA=$(command -v oha || true)
if [ "$LOADGEN" = wrk ]; then
    command -v wrk > /dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
elif [ -z "$OHA" ]; then
    OHA=target/tools/bin/oha
    [ -x "$OHA" ] || cargo install oha --locked --root target/tools
fi
cargo build --release --locked -q --bin kycrules
BIN=target/release/kycrules
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT

# start NAME ARGS...: starts a server on an ephemeral port; sets ADDR
start() {
    local name=$1; shift
    "$BIN" serve --addr 127.0.0.1:0 --bench-floor "$@" > "$TMP/$name.out" 2> "$TMP/$name.err" &
    PIDS+=($!)
    for _ in $(seq 100); do
        [ -s "$TMP/$name.out" ] && break
        sleep 0.1
    done
    ADDR=$(sed -n 's|^listening on http://||p' "$TMP/$name.out")
    [ -n "$ADDR" ] || { echo "server $name did not start" >&2; cat "$TMP/$name.err" >&2; exit 1; }
    LASTPID=$!
}

# summary LABEL JSON: one line from oha's JSON report
summary() {
    python3 - "$1" "$2" "${3:-1}" <<'PY'
import json, sys
label, path, per = sys.argv[1], sys.argv[2], int(sys.argv[3])
r = json.load(open(path))
if not r:
    print(f"{label:<28} not measured"); sys.exit(0)
s, p = r["summary"], r["latencyPercentiles"]
codes = r.get("statusCodeDistribution", {})
ms = lambda k: (p.get(k) or 0) * 1000
print(f"{label:<28} {s['requestsPerSec']:>9.0f} req/s {s['requestsPerSec'] * per:>10.0f} decisions/s"
      f"  p50 {ms('p50'):7.3f} ms  p99 {ms('p99'):7.3f} ms  p99.9 {ms('p99.9'):7.3f} ms"
      f"  success {s['successRate'] * 100:.2f}%  codes {codes}")
PY
}

# oha ARGS...: a bounded run, JSON report to $TMP/last.json; with wrk, the
# same run (minus the rate) through a Lua script that writes the same fields.
run() {
    if [ "$LOADGEN" = wrk ]; then
        wrk_run "$@"
    else
        "$OHA" --no-tui --output-format json "$@" > "$TMP/last.json"
    fi
}

wrk_run() {
    local secs=10 conc=1 body="" url=""
    while [ $# -gt 0 ]; do
        case $1 in
            -z) secs=${2%s}; shift ;;
            -c) conc=$2; shift ;;
            -D) body=$2; shift ;;
            -q) echo "wrk has no fixed rate: run skipped" >&2; echo '{}' > "$TMP/last.json"; return ;;
            -H|-m) shift ;;
            http*) url=$1 ;;
        esac
        shift
    done
    cat > "$TMP/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = io.open(os.getenv("BODY")):read("*a")
done = function(s, l, r)
  local e = s.errors
  local bad = e.status + e.connect + e.read + e.write + e.timeout
  io.write(string.format('{"summary":{"requestsPerSec":%f,"successRate":%f},"latencyPercentiles":{"p50":%f,"p99":%f,"p99.9":%f},"statusCodeDistribution":{"non-2xx or errors":%d}}\n',
    s.requests / (s.duration / 1e6), (s.requests - bad) / math.max(s.requests, 1),
    l:percentile(50) / 1e6, l:percentile(99) / 1e6, l:percentile(99.9) / 1e6, bad))
end
LUA
    BODY=$body wrk -t 1 -c "$conc" -d "${secs}s" -s "$TMP/post.lua" "$url" | tail -1 > "$TMP/last.json"
}

"$BIN" gen 10000 --seed 42 > "$TMP/batch.jsonl"
# One application for the single-decision runs: the first valid one of the corpus.
"$BIN" check --format json --as-of 2026-11-27 "$TMP/batch.jsonl" > "$TMP/check.jsonl" || true
n=$(awk '/"decision":"accept"/ { print NR; exit }' "$TMP/check.jsonl")
sed -n "${n}p" "$TMP/batch.jsonl" > "$TMP/one.json"

echo "== $(date -u +%FT%TZ), $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$LOADGEN" = wrk ]; then
    echo "== wrk (1 thread), ${SECS} s a run, $CONC connections"
else
    echo "== oha $("$OHA" --version | cut -d' ' -f2), ${SECS} s a run, $CONC connections"
fi
start logged --decision-log "$TMP/decisions.jsonl"
LOGGED=$ADDR
LOGGED_PID=$LASTPID
start nolog
NOLOG=$ADDR
start nosync --decision-log "$TMP/decisions-nosync.jsonl" --decision-log-no-sync
NOSYNC=$ADDR
H=(-H "content-type: application/json" -m POST -D)

run -z "${SECS}s" -q 5000 --latency-correction -c "$CONC" "${H[@]}" "$TMP/one.json" "http://$LOGGED/v1/decide"
summary "decide, 5,000/s, logged" "$TMP/last.json"
run -z "${SECS}s" -c "$CONC" "${H[@]}" "$TMP/one.json" "http://$LOGGED/v1/decide"
summary "decide, max rate, logged" "$TMP/last.json"
run -z "${SECS}s" -c "$CONC" "${H[@]}" "$TMP/one.json" "http://$NOSYNC/v1/decide"
summary "decide, max, logged no sync" "$TMP/last.json"
run -z "${SECS}s" -c "$CONC" "${H[@]}" "$TMP/one.json" "http://$NOLOG/v1/decide"
summary "decide, max rate, no log" "$TMP/last.json"
run -z "${SECS}s" -c "$CONC" "${H[@]}" "$TMP/one.json" "http://$NOLOG/bench/constant"
summary "HTTP floor (constant)" "$TMP/last.json"
run -z "${SECS}s" -c 2 "${H[@]}" "$TMP/batch.jsonl" "http://$LOGGED/v1/decide/batch"
summary "batch of 10,000, logged" "$TMP/last.json" 10000
run -z "${SECS}s" -c 2 "${H[@]}" "$TMP/batch.jsonl" "http://$NOLOG/v1/decide/batch"
summary "batch of 10,000, no log" "$TMP/last.json" 10000

best=""
for _ in 1 2 3; do
    s=$(date +%s.%N)
    "$BIN" check --format json --as-of 2026-11-27 "$TMP/batch.jsonl" > /dev/null || true
    e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc)
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; fi
done
printf "%-28s %9s       %10.0f decisions/s  (best of 3, %.3f s for 10,000)\n" "check --format json" "" "$(echo "10000 / $best" | bc -l)" "$best"
echo "decision log lines written: $(wc -l < "$TMP/decisions.jsonl")"
echo "server RSS after the runs: logged $(awk '/VmRSS/ {print $2, $3}' /proc/$LOGGED_PID/status)"

if [ "$SOAK" -gt 0 ]; then
    if [ "$LOADGEN" = wrk ]; then
        echo "== soak: ${SOAK} s at the maximum rate with 4 connections (wrk has no fixed rate), logged, RSS every 60 s"
        (run -z "${SOAK}s" -c 4 "${H[@]}" "$TMP/one.json" "http://$LOGGED/v1/decide"; cp "$TMP/last.json" "$TMP/soak.json") &
    else
        echo "== soak: ${SOAK} s at 2,000/s on /v1/decide (logged), RSS every 60 s"
        "$OHA" --no-tui --output-format json -z "${SOAK}s" -q 2000 --latency-correction -c 16 "${H[@]}" "$TMP/one.json" "http://$LOGGED/v1/decide" > "$TMP/soak.json" &
    fi
    soak=$!
    t=0
    while kill -0 "$soak" 2>/dev/null; do
        echo "t=${t}s RSS $(awk '/VmRSS/ {print $2, $3}' /proc/$LOGGED_PID/status)"
        sleep 60
        t=$((t + 60))
    done
    summary "soak, logged" "$TMP/soak.json"
    echo "t=end RSS $(awk '/VmRSS/ {print $2, $3}' /proc/$LOGGED_PID/status)"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
