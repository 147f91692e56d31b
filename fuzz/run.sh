#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 300), two at a time (this machine has 2 cores),
# starting from the committed corpus, and prints executions, coverage and crashes per target.
# New interesting inputs go to $WORK/<target>; crashes to $WORK/artifacts/<target>/.
# Usage: fuzz/run.sh [SECONDS] [TARGET…]   (needs nightly and cargo-fuzz: cargo install cargo-fuzz)
# The AWS-LC FIPS module does not build under AddressSanitizer (its integrity check), and the
# parsers under test are safe Rust, so the targets are built with `--sanitizer none`.
set -euo pipefail
cd "$(dirname "$0")"
SECS=${1:-300}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && mapfile -t TARGETS < <(cargo +nightly fuzz list)
WORK=${WORK:-/tmp/fipsgate-fuzz}
mkdir -p "$WORK"
cargo +nightly fuzz build --sanitizer none >/dev/null
run() {
  local t=$1
  mkdir -p "$WORK/$t" "$WORK/artifacts/$t"
  cargo +nightly fuzz run --sanitizer none "$t" "$WORK/$t" "corpus/$t" -- \
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
crashes=len([f for f in os.listdir(sys.argv[4]) if f.startswith(("crash","timeout","oom","leak"))])
if m:
    print(f"| {sys.argv[2]} | {sys.argv[3]} | {m.group(1)} | {rate.group(1) if rate else '-'} | {m.group(2)} | {m.group(3)} | {m.group(4)} | {crashes} |")
else:
    print(f"| {sys.argv[2]} | {sys.argv[3]} | - | - | - | - | - | {crashes} (see {sys.argv[1]}) |")
PY
done
