#!/usr/bin/env bash
# Latency-bound scanning across an emulated WAN: every server sits behind bench/relay.py
# (RTT/2 each way; the server's side of a connection opens 1.5 round trips after the client's,
# as a TCP handshake's would),
# and fipsgate, fipsgate --per-host 1 (one connection at a time, as before), sslscan, nmap
# ssl-enum-ciphers, sslyze and testssl.sh -e (TLS), and ssh-audit (SSH, PyPI's newest) scan it,
# at each round trip, in one run. Servers: bench/tls.sh's A and B (openssl s_server), nginx
# (TLS 1.2 + 1.3) and OpenSSH sshd with Debian's defaults (three host keys, group exchange).
# Records wall time, CPU time, connections (counted by the relay) and whether the result equals
# the ground truth read from each server's own configuration.
# Writes the "Across a WAN" section of docs/benchmarks.md and its plot, docs/wan.png.
# Usage: bench/wan.sh [RTT_MS ...]   (default 0 20 50 100; needs root, ./dev deps and
#   apt-get install sslscan nmap testssl.sh ssh-audit gnuplot-nox; sslyze and ssh-audit from PyPI)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/common.sh
source bench/common.sh
# shellcheck source=bench/parse.sh
source bench/parse.sh
# shellcheck source=bench/servers.sh
source bench/servers.sh
for tool in sslscan nmap testssl gnuplot nginx openssl python3; do
  command -v "$tool" >/dev/null || { echo "bench/wan.sh: $tool is missing (apt-get install sslscan nmap testssl.sh gnuplot-nox nginx)" >&2; exit 2; }
done
RTTS=("$@")
[ ${#RTTS[@]} -gt 0 ] || RTTS=(0 20 50 100)
bench_setup

# sslyze and ssh-audit from PyPI, in a venv of this run.
python3 -m venv "$WORK/venv" >/dev/null
PY_TOOLS=()
if "$WORK/venv/bin/pip" install -q sslyze >/dev/null 2>&1; then PY_TOOLS+=(sslyze); fi
if "$WORK/venv/bin/pip" install -q ssh-audit >/dev/null 2>&1; then PY_TOOLS+=(ssh-audit); fi
pyversion() { "$WORK/venv/bin/pip" show "$1" 2>/dev/null | awk '/^Version:/ {print $2}'; }

declare -A BACKEND TRUTH
start_ab
start_nginx
start_sshd_default
SERVERS=${#PIDS[@]}
TLS_SERVERS=(A B nginx)
TLS_TOOLS=(fipsgate fipsgate-1 sslscan nmap)
[[ " ${PY_TOOLS[*]} " == *" sslyze "* ]] && TLS_TOOLS+=(sslyze)
TLS_TOOLS+=(testssl)
SSH_TOOLS=(fipsgate fipsgate-1)
[[ " ${PY_TOOLS[*]} " == *" ssh-audit "* ]] && SSH_TOOLS+=(ssh-audit)

declare -A PORT COUNT
# One relay per server at this round trip (the previous round trip's relays stop).
start_relays() {
  local rtt=$1 s
  for p in "${PIDS[@]:$SERVERS}"; do kill "$p" 2>/dev/null || true; done
  PIDS=("${PIDS[@]:0:$SERVERS}")
  for s in "${TLS_SERVERS[@]}" sshd; do
    COUNT[$s]="$WORK/count-$s"
    start_relay "${BACKEND[$s]}" "${COUNT[$s]}" "$(python3 -c "print($rtt/2)")"
    PORT[$s]=$RELAY_PORT
  done
}

run_tool() { # server tool -> "wall cpu connections match"
  local s=$1 tool=$2 port=${PORT[$1]} before after out="$WORK/out" t="$WORK/time"
  before=$(cat "${COUNT[$s]}")
  local TIMEFORMAT='%R %U %S' limit=(timeout 900)
  rm -f "$WORK/tool.json"
  case $tool in
    fipsgate) { time "${limit[@]}" "$FIPSGATE" scan --ssh-ports "${PORT[sshd]}" --format ndjson "127.0.0.1:$port" >"$out" 2>/dev/null || true; } 2>"$t" ;;
    fipsgate-1) { time "${limit[@]}" "$FIPSGATE" scan --per-host 1 --ssh-ports "${PORT[sshd]}" --format ndjson "127.0.0.1:$port" >"$out" 2>/dev/null || true; } 2>"$t" ;;
    sslscan) { time "${limit[@]}" sslscan --no-colour --xml=- "127.0.0.1:$port" >"$out" 2>/dev/null || true; } 2>"$t" ;;
    nmap) { time "${limit[@]}" nmap -Pn -n -p "$port" --script ssl-enum-ciphers 127.0.0.1 >"$out" 2>/dev/null || true; } 2>"$t" ;;
    sslyze) { time "${limit[@]}" "$WORK/venv/bin/python" -m sslyze --sslv2 --sslv3 --tlsv1 --tlsv1_1 --tlsv1_2 --tlsv1_3 --json_out="$WORK/tool.json" "127.0.0.1:$port" >"$out" 2>/dev/null || true; } 2>"$t" ;;
    testssl) { time "${limit[@]}" testssl -e --quiet --color 0 --warnings off --jsonfile "$WORK/tool.json" "127.0.0.1:$port" >"$out" 2>/dev/null || true; } 2>"$t" ;;
    ssh-audit) { time "${limit[@]}" "$WORK/venv/bin/python" -m ssh_audit -j -p "$port" 127.0.0.1 >"$out" 2>/dev/null || true; } 2>"$t" ;;
  esac
  sleep 0.3
  after=$(cat "${COUNT[$s]}")
  local got truth=${TRUTH[$s]}
  if [ "$s" = sshd ]; then
    case $tool in
      fipsgate*) got=$(parse_ssh_fipsgate <"$out" | sort) ;;
      *) got=$(parse_ssh_audit <"$out" | sort) ;;
    esac
    truth=$(sort <<<"$truth")
  else
    case $tool in
      fipsgate*) got=$(parse_tls_fipsgate <"$out" | sort) ;;
      sslscan) got=$(parse_tls_sslscan <"$out" | sort -u) ;;
      nmap) got=$(parse_tls_nmap <"$out" | sort -u) ;;
      sslyze) got=$(parse_tls_sslyze "$WORK/tool.json" | sort -u) ;;
      testssl) got=$(parse_tls_testssl "$WORK/tool.json" | sort -u); truth=$(awk '{print $2}' <<<"$truth" | sort -u) ;;
    esac
  fi
  local match=no
  [ "$got" = "$truth" ] && match=yes
  read -r wall user sys <"$t"
  echo "$wall $(python3 -c "print(round($user+$sys,2))") $((after - before)) $match"
}

# fipsgate's scans take about a second, and their wall time moves by whole round trips from
# run to run (whether a chain's next connection found a place in time): each is run RUNS times
# and the run with the median wall time is reported, its result exact only if every run's was.
# The other tools take many seconds and are run once.
RUNS=${RUNS:-5}
measure() { # server tool -> "wall cpu connections match"
  local runs=1
  [[ $2 == fipsgate* ]] && runs=$RUNS
  for _ in $(seq "$runs"); do run_tool "$1" "$2"; done | python3 -c '
import sys
rows = sorted((l.split() for l in sys.stdin if l.strip()), key=lambda r: float(r[0]))
median = rows[(len(rows) - 1) // 2]
median[3] = "yes" if all(r[3] == "yes" for r in rows) else "no"
print(" ".join(median))'
}

declare -A R
for rtt in "${RTTS[@]}"; do
  start_relays "$rtt"
  for s in "${TLS_SERVERS[@]}"; do
    for tool in "${TLS_TOOLS[@]}"; do R[$s,$rtt,$tool]=$(measure "$s" "$tool"); echo "$s $rtt ms $tool: ${R[$s,$rtt,$tool]}" >&2; done
  done
  for tool in "${SSH_TOOLS[@]}"; do R[sshd,$rtt,$tool]=$(measure sshd "$tool"); echo "sshd $rtt ms $tool: ${R[sshd,$rtt,$tool]}" >&2; done
done

tools_of() { if [ "$1" = sshd ]; then echo "${SSH_TOOLS[@]}"; else echo "${TLS_TOOLS[@]}"; fi; }
wall() { awk '{print $1}' <<<"${R[$1,$2,$3]}"; }
ratio() { python3 -c "a,b=float('$1' or 0),float('$2' or 0); print(f'{a/b:.1f}x' if a and b else '-')"; }

table=$(
  echo "| server | RTT ms | tool | wall s | CPU s | connections | result = ground truth | tool wall / fipsgate wall |"
  echo "|---|---|---|---|---|---|---|---|"
  for s in "${TLS_SERVERS[@]}" sshd; do
    for rtt in "${RTTS[@]}"; do
      fw=$(wall "$s" "$rtt" fipsgate)
      for tool in $(tools_of "$s"); do
        read -r w c n m <<<"${R[$s,$rtt,$tool]}"
        echo "| $s | $rtt | $tool | $w | $c | $n | $m | $(ratio "$w" "$fw") |"
      done
    done
  done
)

# One data file per server (RTT, then each tool's wall time), and one PNG with a panel each.
for s in "${TLS_SERVERS[@]}" sshd; do
  { echo "rtt $(tools_of "$s")"; for rtt in "${RTTS[@]}"; do
      echo "$rtt $(for tool in $(tools_of "$s"); do wall "$s" "$rtt" "$tool"; done | tr '\n' ' ')"; done; } >"$WORK/plot-$s.dat"
done
gnuplot <<PLOT
set terminal pngcairo size 1200,900 font ",10" noenhanced
set output "docs/wan.png"
set multiplot layout 2,2 title "Wall time against round trip (bench/wan.sh)"
set logscale y
set xlabel "round trip, ms"
set ylabel "wall time, s"
set key top left
set grid
do for [s in "A B nginx sshd"] {
  f = sprintf("$WORK/plot-%s.dat", s)
  set title (s eq "A" ? "server A (s_server, TLS 1.2)" : s eq "B" ? "server B (s_server, TLS 1.2 + 1.3)" : s eq "nginx" ? "nginx (TLS 1.2 + 1.3)" : "sshd (Debian defaults)")
  plot for [i=2:*] f using 1:i with linespoints title columnheader(i)
}
unset multiplot
PLOT

summary=$(
  at=50
  if [[ " ${RTTS[*]} " == *" $at "* ]]; then
    echo "At a ${at} ms round trip (tool wall time / fipsgate wall time; targets from the issue in brackets):"
    echo
    echo "- server B: fipsgate $(wall B $at fipsgate) s [≤ 0.6 s]; sslscan $(ratio "$(wall B $at sslscan)" "$(wall B $at fipsgate)") [≥ 15x], nmap $(ratio "$(wall B $at nmap)" "$(wall B $at fipsgate)") [≥ 5x]; fipsgate --per-host 1 $(ratio "$(wall B $at fipsgate-1)" "$(wall B $at fipsgate)")."
    echo "- nginx: fipsgate $(wall nginx $at fipsgate) s; nmap $(ratio "$(wall nginx $at nmap)" "$(wall nginx $at fipsgate)") [≥ 5x]; fipsgate --per-host 1 $(ratio "$(wall nginx $at fipsgate-1)" "$(wall nginx $at fipsgate)")."
    echo "- sshd: fipsgate $(wall sshd $at fipsgate) s [≤ 0.35 s]; ssh-audit $(ratio "$(wall sshd $at ssh-audit)" "$(wall sshd $at fipsgate)") [≥ 8x]; fipsgate --per-host 1 $(ratio "$(wall sshd $at fipsgate-1)" "$(wall sshd $at fipsgate)")."
  fi
  if [[ " ${RTTS[*]} " == *" 0 "* ]]; then
    echo "- on loopback (0 ms through the relay), fipsgate against fipsgate --per-host 1 (the sequential probe): A $(ratio "$(wall A 0 fipsgate-1)" "$(wall A 0 fipsgate)"), B $(ratio "$(wall B 0 fipsgate-1)" "$(wall B 0 fipsgate)"), nginx $(ratio "$(wall nginx 0 fipsgate-1)" "$(wall nginx 0 fipsgate)"), sshd $(ratio "$(wall sshd 0 fipsgate-1)" "$(wall sshd 0 fipsgate)")."
  fi
)
steal=$(awk '/^cpu /{print $9}' /proc/stat)
tools="fipsgate $("$FIPSGATE" --version | awk '{print $2}'), sslscan $(sslscan --version | sed -n 's/[^0-9]*\([0-9.]*\).*/\1/p' | head -1), $(nmap --version | head -1 | awk '{print "nmap",$3}'), testssl.sh $(dpkg-query -W -f='${Version}' testssl.sh), sslyze $(pyversion sslyze), ssh-audit $(pyversion ssh-audit)"
section=$(cat <<EOF
## Across a WAN (bench/wan.sh)

Run $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores (steal ticks since boot: $steal). Tools: $tools.
Each server sits behind bench/relay.py: RTT/2 each way, and the server's side of each
connection opens one and a half round trips after the client's, with the client's first bytes,
as a TCP handshake across the same path would (so a connection costs a round trip before its
first answer, and a server that serves one connection at a time is not held up by the emulation). Connections are counted by
the relay; "result" compares the (version, suite) pairs (TLS) or the kex, cipher and MAC lists
and host key fingerprints (SSH) with the server's own configuration (\`openssl ciphers -V\`,
\`sshd -T\`, \`ssh-keygen -lf\`); testssl.sh \`-e\` reports codes without versions, so codes alone
are compared. \`fipsgate-1\` is \`fipsgate scan --per-host 1\`: the same questions one connection
at a time, as the probe asked them before. Both are run $RUNS times and the run with the median
wall time is shown (their result is "yes" only if every run's was); the other tools, which take
many seconds, once. CPU s is user + system time of the tool and its children.

$summary

![wall time against round trip](wan.png)

$table
EOF
)
write_section "## Across a WAN (bench/wan.sh)" "$section"
echo "$section"
