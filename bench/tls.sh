#!/usr/bin/env bash
# Side-by-side TLS enumeration benchmark: fipsgate, sslscan, nmap ssl-enum-ciphers, testssl.sh -e
# against two reference openssl s_server instances on loopback, in one run. Each server sits
# behind a counting relay (bench/relay.py), so connections are counted the same way for every
# tool. Ground truth is `openssl ciphers -V` on the servers' own cipher strings.
# Writes the table to docs/benchmarks.md (section "TLS enumeration") and prints it.
# Usage: bench/tls.sh   (needs: ./dev deps, plus sslscan nmap testssl.sh from apt)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/common.sh
source bench/common.sh
# shellcheck source=bench/parse.sh
source bench/parse.sh
# shellcheck source=bench/servers.sh
source bench/servers.sh
for tool in sslscan nmap testssl openssl python3; do
  command -v "$tool" >/dev/null || { echo "bench/tls.sh: $tool is missing (apt-get install sslscan nmap testssl.sh)" >&2; exit 2; }
done
bench_setup

declare -A BACKEND TRUTH
start_ab

declare -A PORT COUNT
for s in A B; do
  COUNT[$s]="$WORK/count-$s"
  start_relay "${BACKEND[$s]}" "${COUNT[$s]}"
  PORT[$s]=$RELAY_PORT
done

run_tool() { # server tool -> "wall cpu connections match"
  local s=$1 tool=$2 port=${PORT[$1]} before after out="$WORK/out-$1-$2" t="$WORK/time-$1-$2"
  before=$(cat "${COUNT[$s]}")
  local TIMEFORMAT='%R %U %S'
  case $tool in
    fipsgate) { time "$FIPSGATE" scan --format ndjson "127.0.0.1:$port" >"$out" 2>/dev/null || true; } 2>"$t" ;;
    sslscan) { time sslscan --no-colour --xml=- "127.0.0.1:$port" >"$out" 2>/dev/null || true; } 2>"$t" ;;
    nmap) { time nmap -Pn -n -p "$port" --script ssl-enum-ciphers 127.0.0.1 >"$out" 2>/dev/null || true; } 2>"$t" ;;
    testssl) rm -f "$WORK/ts.json"; { time testssl -e --quiet --color 0 --warnings off --jsonfile "$WORK/ts.json" "127.0.0.1:$port" >"$out" 2>/dev/null || true; } 2>"$t" ;;
  esac
  sleep 0.2
  after=$(cat "${COUNT[$s]}")
  local got
  case $tool in
    fipsgate) got=$(parse_tls_fipsgate <"$out" | sort) ;;
    sslscan) got=$(parse_tls_sslscan <"$out" | sort -u) ;;
    nmap) got=$(parse_tls_nmap <"$out" | sort -u) ;;
    testssl) got=$(parse_tls_testssl "$WORK/ts.json" | sort -u) ;;
  esac
  local match=no truth=${TRUTH[$s]}
  # testssl.sh -e lists each suite once without its protocol version: compare the codes alone.
  [ "$tool" = testssl ] && truth=$(awk '{print $2}' <<<"$truth" | sort -u)
  [ "$got" = "$truth" ] && match=yes
  read -r wall user sys <"$t"
  echo "$wall $(python3 -c "print(round($user+$sys,2))") $((after - before)) $match"
}

steal_start=$(awk '/^cpu /{print $9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
declare -A R
for s in A B; do
  for tool in fipsgate sslscan nmap testssl; do
    R[$s,$tool]=$(run_tool "$s" "$tool")
  done
done
steal_end=$(awk '/^cpu /{print $9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
steal=$(python3 -c "a='$steal_start'.split(); b='$steal_end'.split(); d=int(b[1])-int(a[1]); print(round(100*(int(b[0])-int(a[0]))/d,1) if d else 0)")

table=$(
  echo "| server | tool | wall s | CPU s | connections | result = ground truth | wall vs fipsgate | connections vs fipsgate |"
  echo "|---|---|---|---|---|---|---|---|"
  for s in A B; do
    read -r fw _ fc _ <<<"${R[$s,fipsgate]}"
    for tool in fipsgate sslscan nmap testssl; do
      read -r w c n m <<<"${R[$s,$tool]}"
      rw=$(python3 -c "print(f'{$w/$fw:.1f}x' if $fw else '-')")
      rc=$(python3 -c "print(f'{$n/$fc:.1f}x' if $fc else '-')")
      echo "| $s | $tool | $w | $c | $n | $m | $rw | $rc |"
    done
  done
)
tools="fipsgate $("$FIPSGATE" --version | awk '{print $2}'), sslscan $(sslscan --version | sed -n 's/[^0-9]*\([0-9.]*\).*/\1/p' | head -1), $(nmap --version | head -1 | awk '{print "nmap",$3}'), testssl.sh $(dpkg-query -W -f='${Version}' testssl.sh)"
section=$(cat <<EOF
## TLS enumeration (bench/tls.sh)

Run $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, CPU steal during the run ${steal}%. Tools: $tools.
Server A: \`openssl s_server -tls1_2\`, 2 suites. Server B: TLS 1.2 and 1.3, 2 + 2 suites,
server order. Connections are counted by a relay in front of each server; "result" compares
the (version, suite) pairs each tool reports with \`openssl ciphers -V\` on the servers' own
cipher strings (testssl.sh \`-e\` reports suites without versions: its codes alone are compared).
CPU s is user + system time of the tool and its children.


$table
EOF
)
write_section "## TLS enumeration (bench/tls.sh)" "$section"
echo "$section"
