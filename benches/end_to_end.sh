#!/bin/sh
# End-to-end throughput of `kycrules check --format json` over generated JSON
# Lines, against the parse-only pass (`check --parse-only`: the same file
# read and converted into the same records, no rules) and against the
# hand-written baseline (`benches/baseline/check.rs`: serde structs, the
# shipped rules in Rust, JSON lines out, one thread), with the peak memory of
# each run. See BENCHMARKS.md.
#
#   benches/end_to_end.sh [RECORDS [RUNS [JOBS]]]   default: 100000 3 (all cores)
#   benches/end_to_end.sh 100000 3 1                one worker thread
#   benches/end_to_end.sh 1000000 1                 the 1M-record run
#   BEFORE=/path/to/old/kycrules benches/end_to_end.sh ...   also time another build
#
# Prints, per mode, the best of RUNS: wall seconds, CPU seconds (user+sys),
# records per wall second and per CPU second, peak RSS.
set -eu
cd "$(dirname "$0")/.."
N=${1:-100000}
RUNS=${2:-3}
JOBS=${3:-}
BIN=target/release/kycrules
BASE=target/release/examples/baseline-check
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "needs GNU time: apt-get install -y time" >&2; exit 2; }
cargo build --release --locked -q --bin kycrules --example baseline-check
FILE="${TMPDIR:-/tmp}/kycrules-bench-$N.jsonl"
[ -s "$FILE" ] || "$BIN" gen "$N" --seed 42 > "$FILE"
jobs_arg=${JOBS:+--jobs $JOBS}

# best wall time of RUNS runs of a command; prints "wall cpu rss_kb"
best() {
    out=""
    i=0
    while [ "$i" -lt "$RUNS" ]; do
        # exit status 2: the generator writes some input errors on purpose
        m=$("$TIME" -f "%e %U %S %M" "$@" 2>&1 >/dev/null | tail -1) || true
        out=$(printf '%s\n%s\n' "$out" "$m" | awk 'NF == 4' | sort -n | head -1)
        i=$((i + 1))
    done
    echo "$out" | awk '{ printf "%s %.2f %s", $1, $2 + $3, $4 }'
}

report() { # label wall cpu rss
    awk -v l="$1" -v w="$2" -v c="$3" -v r="$4" -v n="$N" \
        'BEGIN { printf "%-14s %8.2f s wall %8.2f s cpu %10.0f rec/s %10.0f rec/cpu-s %7.1f MB peak\n", l, w, c, n / w, n / c, r / 1024 }'
}

echo "$N records ($(wc -c < "$FILE") bytes), best of $RUNS, jobs ${JOBS:-all}, $(nproc) cores, $(uptime | sed 's/.*load/load/')"
set -- $(best "$BIN" check --as-of 2026-11-27 $jobs_arg --format json "$FILE")
e2e_w=$1 e2e_c=$2
report "check json" "$@"
if [ -n "${BEFORE:-}" ]; then
    set -- $(best "$BEFORE" check --as-of 2026-11-27 $jobs_arg --format json "$FILE")
    report "before: check" "$@"
fi
set -- $(best "$BIN" check --as-of 2026-11-27 $jobs_arg --parse-only "$FILE")
base_w=$1 base_c=$2
report "parse-only" "$@"
set -- $(best "$BASE" "$FILE")
hand_w=$1 hand_c=$2
report "hand-written" "$@"
awk -v a="$e2e_w" -v b="$base_w" -v c="$e2e_c" -v d="$base_c" \
    'BEGIN { printf "check / parse-only throughput: %.2f (wall), %.2f (cpu)\n", b / a, d / c }'
awk -v a="$e2e_w" -v b="$hand_w" -v c="$e2e_c" -v d="$hand_c" \
    'BEGIN { printf "check CPU / hand-written CPU: %.2f (wall ratio %.2f)\n", c / d, a / b }'
