#!/usr/bin/env bash
# Side-by-side TLS enumeration benchmark: fipsgate, sslscan, nmap ssl-enum-ciphers, testssl.sh -e
# against two reference openssl s_server instances on loopback, in one run. Each server sits
# behind a counting relay (bench/conncount.py), so connections are counted the same way for every
# tool. Ground truth is `openssl ciphers -V` on the servers' own cipher strings.
# Writes the table to docs/benchmarks.md (section "TLS enumeration") and prints it.
# Usage: bench/tls.sh   (needs: ./dev deps, plus sslscan nmap testssl.sh from apt)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/common.sh
source bench/common.sh
for tool in sslscan nmap testssl openssl python3; do
  command -v "$tool" >/dev/null || { echo "bench/tls.sh: $tool is missing (apt-get install sslscan nmap testssl.sh)" >&2; exit 2; }
done
cargo build --release --quiet
FIPSGATE=$PWD/target/release/fipsgate
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/k.pem" -out "$WORK/c.pem" -days 2 -subj /CN=bench 2>/dev/null


# name | s_server arguments | TLS 1.2 cipher string | TLS 1.3 suites ("" = none)
A_12="ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"
B_12="ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256"
B_13="TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256"
declare -A ARGS=(
  [A]="-tls1_2 -cipher $A_12"
  [B]="-cipher $B_12 -ciphersuites $B_13 -serverpref -no_tls1 -no_tls1_1"
)
declare -A TRUTH
codes() { openssl ciphers -V "$@" | awk '{print $1}' | tr -d ',' | sed 's/0x\(..\)0x\(..\)/0x\1\2/' | tr a-f A-F | sed 's/^0X/0x/'; }
TRUTH[A]=$(codes -tls1_2 -ciphersuites "" "$A_12" | sed 's/^/tls1.2 /' | sort)
TRUTH[B]=$( { codes -tls1_2 -ciphersuites "" "$B_12" | sed 's/^/tls1.2 /'; codes -s -tls1_3 -ciphersuites "$B_13" | sed 's/^/tls1.3 /'; } | sort)

declare -A PORT COUNT
for s in A B; do
  backend=$(free_port); front=$(free_port)
  # shellcheck disable=SC2086
  openssl s_server -accept "127.0.0.1:$backend" -quiet -cert "$WORK/c.pem" -key "$WORK/k.pem" ${ARGS[$s]} >/dev/null 2>&1 &
  PIDS+=($!)
  wait_port "$backend"
  python3 bench/conncount.py "$front" "$backend" "$WORK/count-$s" &
  PIDS+=($!)
  wait_port "$front"
  PORT[$s]=$front
  COUNT[$s]="$WORK/count-$s"
done

# Each parser prints "version code" lines (version tls1.2/tls1.3, code 0xC02F).
parse_fipsgate() { python3 -c '
import json,sys
for line in sys.stdin:
    e=json.loads(line)
    for v in (e.get("tls") or {}).get("versions",[]):
        for s in v["cipher_suites"]: print(v["version"], s["code"])'; }
parse_sslscan() { python3 -c '
import sys,re
ver={"TLSv1.2":"tls1.2","TLSv1.3":"tls1.3","TLSv1.1":"tls1.1","TLSv1.0":"tls1.0","SSLv3":"ssl3"}
for m in re.finditer(r"<cipher status=\"(?:preferred|accepted)\" sslversion=\"([^\"]+)\"[^>]* id=\"0x([0-9a-fA-F]+)\"", sys.stdin.read()):
    print(ver.get(m.group(1),m.group(1)), "0x"+m.group(2).upper().zfill(4))'; }
parse_nmap() { "$FIPSGATE" db list --kind tls-suite --format json > "$WORK/db.json"; python3 -c '
import sys,re,json
names={x["name"]:x["code"] for x in json.load(open(sys.argv[1]))}
alias={"TLS_AKE_WITH_"+n[4:]:c for n,c in names.items()}
ver=None
for line in sys.stdin:
    m=re.search(r"\|\s+(TLSv1\.[0-3]|SSLv3):", line)
    if m: ver={"TLSv1.0":"tls1.0","TLSv1.1":"tls1.1","TLSv1.2":"tls1.2","TLSv1.3":"tls1.3","SSLv3":"ssl3"}[m.group(1)]
    m=re.search(r"\|\s+(TLS_[A-Z0-9_]+)", line)
    if m and ver:
        n=m.group(1); c=names.get(n) or alias.get(n)
        if c: print(ver, c)' "$WORK/db.json"; }
parse_testssl() { python3 -c '
import sys,json
try: data=json.load(open(sys.argv[1]))
except Exception: data=[]
items=data if isinstance(data,list) else data.get("scanResult",[{}])[0].get("cipherTests",[])
for f in items:
    i=f.get("id","")
    if i.startswith("cipher_x"):
        print("0x"+i.split("_x")[1].upper().zfill(4))' "$1"; }

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
    fipsgate) got=$(parse_fipsgate <"$out" | sort) ;;
    sslscan) got=$(parse_sslscan <"$out" | sort -u) ;;
    nmap) got=$(parse_nmap <"$out" | sort -u) ;;
    testssl) got=$(parse_testssl "$WORK/ts.json" | sort -u) ;;
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
