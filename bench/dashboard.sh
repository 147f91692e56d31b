#!/usr/bin/env bash
# Dashboard benchmark: a real scan of loopback servers (servers A and B, nginx, an sshd with
# Debian's defaults, a legacy TLS 1.0 server, a ChaCha20-only server, a closed port) copied to
# 10,000 and 100,000 endpoints with their own addresses and certificate and host-key
# fingerprints (bench/fleet_copies.py), then `fipsgate report --format html` of each: file size,
# wall and CPU time and peak RSS of writing it (/usr/bin/time), and the time headless Chromium
# takes from navigation until the page has drawn its first endpoint rows (Selenium, the median
# of three loads). Writes the section "HTML dashboard" of docs/benchmarks.md and prints it, and keeps
# the 10,000-endpoint page's first screen as docs/dashboard.png (the README's picture).
# Usage: bench/dashboard.sh   (needs: ./dev deps, plus chromium chromium-driver python3-selenium)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/common.sh
source bench/common.sh
# shellcheck source=bench/servers.sh
source bench/servers.sh
for tool in openssl nginx /usr/sbin/sshd /usr/bin/time /usr/bin/chromium /usr/bin/chromedriver; do
  command -v "$tool" >/dev/null || { echo "bench/dashboard.sh: $tool is missing (apt-get install chromium chromium-driver python3-selenium time)" >&2; exit 2; }
done
bench_setup
declare -A BACKEND TRUTH
start_ab
start_nginx
start_sshd_default
targets=()
for s in A B nginx sshd; do targets+=("127.0.0.1:${BACKEND[$s]}"); done
for cfg in "-tls1 -cipher AES128-SHA:@SECLEVEL=0" "-no_tls1_3 -cipher ECDHE-RSA-CHACHA20-POLY1305"; do
  port=$(free_port)
  # shellcheck disable=SC2086
  openssl s_server -accept "127.0.0.1:$port" -quiet -cert "$WORK/c.pem" -key "$WORK/k.pem" $cfg >/dev/null 2>&1 &
  PIDS+=($!)
  wait_port "$port"
  targets+=("127.0.0.1:$port")
done
targets+=("127.0.0.1:$(free_port)")
"$FIPSGATE" scan --format ndjson --policy fips-140-3,axway-securetransport -o "$WORK/zoo.ndjson" "${targets[@]}" || true

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
rows="| endpoints | NDJSON | HTML | write: wall | write: CPU | write: peak RSS | Chromium: first rows drawn |
|---|---|---|---|---|---|---|"
for n in 10000 100000; do
  python3 bench/fleet_copies.py "$WORK/zoo.ndjson" "$n" >"$WORK/fleet.ndjson"
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$FIPSGATE" report "$WORK/fleet.ndjson" --format html \
    --policy fips-140-3,axway-securetransport -o "$WORK/fleet.html" || true
  read -r wall user sys rss < <(tail -n 1 "$WORK/time")
  render=$(for _ in 1 2 3; do
    /usr/bin/python3 tests/support/dashboard_check.py "$WORK/fleet.html" "$WORK/fleet.ndjson" "$WORK/fleet.png" --timing |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["render_seconds"])'
  done | median)
  [ "$n" = 10000 ] && cp "$WORK/fleet.png" docs/dashboard.png
  mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN {printf "%.1f MB", b / 1e6}'; }
  rows+="
| $n | $(mb "$WORK/fleet.ndjson") | $(mb "$WORK/fleet.html") | ${wall} s | $(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.2f s", u + s}') | $((rss / 1024)) MB | ${render} s |"
done

section="## HTML dashboard

\`bench/dashboard.sh\`, $(date -u +%Y-%m-%d): a real scan of seven loopback endpoints (servers A and B,
nginx, sshd with Debian's defaults, a TLS 1.0 server, a ChaCha20-only server, a closed port)
copied to fleet size with distinct addresses, certificate and host-key fingerprints, then
\`fipsgate report --format html\` of it (which judges every endpoint again under fips-140-3 and
axway-securetransport). Chromium: headless Debian Chromium driven by Selenium, from navigation
until the page has parsed its data and drawn its summary, top findings and first 100 endpoint
rows; median of three loads. On this 2-core machine.

$rows

Targets for 10,000 endpoints: a file of at most 8 MB, written in at most 3 s, drawn by Chromium
in at most 3 s. Before this dashboard, the page of a 10,000-endpoint scan was 21.4 MB of
prewritten tables and took Chromium 78 s (issue #18's measurement)."
write_section "## HTML dashboard" "$section"
echo "$section"
