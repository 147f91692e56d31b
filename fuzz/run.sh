#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 300), two at a time (this machine has 2 cores),
# starting from the committed corpus, prints executions, coverage and crashes per target, and
# exits 1 if any target crashed, timed out or ran out of memory (the inputs are listed).
# New interesting inputs go to $WORK/<target>, never into the committed corpus; crashes go to
# $WORK/artifacts/<target>/. CI runs it for 20 s a target (./dev test); docs/fuzzing.md has the
# 5-minute numbers.
# Usage: fuzz/run.sh [SECONDS] [TARGET…]   (needs cargo-fuzz: cargo install cargo-fuzz)
# cargo-fuzz builds with the stable toolchain when no sanitizer is asked for. The AWS-LC FIPS
# module does not build under AddressSanitizer (its integrity check), and the parsers under test
# are safe Rust, so the targets are built with `--sanitizer none`: coverage guidance stays,
# and a panic, an overflow (debug assertions are on), a hang or an allocation over the RSS limit
# is what counts as a crash.
set -euo pipefail
cd "$(dirname "$0")"
SECS=${1:-300}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && mapfile -t TARGETS < <(cargo fuzz list)
WORK=${WORK:-/tmp/fipsgate-fuzz}
mkdir -p "$WORK"
cargo fuzz build --sanitizer none --debug-assertions >/dev/null
run() {
  local t=$1
  mkdir -p "$WORK/$t" "$WORK/artifacts/$t"
  cargo fuzz run --sanitizer none --debug-assertions "$t" "$WORK/$t" "corpus/$t" -- \
    -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$WORK/artifacts/$t/" -print_final_stats=1 >"$WORK/$t.log" 2>&1 || true
}
for ((i = 0; i < ${#TARGETS[@]}; i += 2)); do
  run "${TARGETS[$i]}" &
  [ $((i + 1)) -lt ${#TARGETS[@]} ] && run "${TARGETS[$((i + 1))]}" &
  wait
done
printf '| target | seconds | executions | exec/s | coverage (edges) | features | corpus | crashes |\n|---|---|---|---|---|---|---|---|\n'
for t in "${TARGETS[@]}"; do
  python3 - "$WORK/$t.log" "$t" "$SECS" "$WORK/artifacts/$t" <<'PY'
import os,re,sys
log=open(sys.argv[1],errors="replace").read()
last=[l for l in log.splitlines() if re.match(r"#\d+\s+(DONE|pulse|NEW|REDUCE)",l)]
m=re.search(r"#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)",last[-1]) if last else None
rate=re.search(r"stat::average_exec_per_sec:\s+(\d+)",log)
crashes=len([f for f in os.listdir(sys.argv[4]) if f.startswith(("crash","timeout","oom","leak","slow"))])
if m:
    print(f"| {sys.argv[2]} | {sys.argv[3]} | {m.group(1)} | {rate.group(1) if rate else '-'} | {m.group(2)} | {m.group(3)} | {m.group(4)} | {crashes} |")
else:
    print(f"| {sys.argv[2]} | {sys.argv[3]} | - | - | - | - | - | {crashes} (see {sys.argv[1]}) |")
PY
done
found=$(find "$WORK/artifacts" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
if [ -n "$found" ]; then
  echo "fuzz: crashing inputs (copy each to fuzz/regressions/<target>/ and fix):" >&2
  echo "$found" >&2
  exit 1
fi
