#!/usr/bin/env bash
# Fleet benchmark: 200+ real loopback endpoints (nginx on 190 ports, sshd on 10, four
# openssl s_server) scanned in one run by fipsgate, by `nmap -sV --script ssl-enum-ciphers`, and
# by sslscan (TLS ports only: it does not speak SSH). Wall time, CPU time and peak RSS from
# /usr/bin/time; connections from the kernel's TcpActiveOpens counter (nstat), the same for every
# tool. Findings are compared per TLS port with ground truth from `openssl ciphers -V` on the
# servers' own cipher strings. Then the peak RSS of fipsgate over a 65,536-address list of closed
# ports (127.2.0.0/16). Writes the section "Fleet scan" of docs/benchmarks.md and prints it.
# Usage: bench/fleet.sh   (needs: ./dev deps, plus nmap sslscan from apt)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/common.sh
source bench/common.sh
for tool in nmap sslscan nginx openssl python3 nstat /usr/sbin/sshd /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench/fleet.sh: $tool is missing (apt-get install nmap sslscan time iproute2)" >&2; exit 2; }
done
bench_setup
NGINX_PORTS=190 SSHD_PORTS=10

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/k.pem" -out "$WORK/c.pem" -days 2 -subj /CN=bench 2>/dev/null
codes() { openssl ciphers -V "$@" | awk '{print $1}' | tr -d ',' | sed 's/0x\(..\)0x\(..\)/0x\1\2/' | tr a-f A-F | sed 's/^0X/0x/'; }

# nginx: TLS 1.2 with four suites, TLS 1.3 with OpenSSL's three.
NGINX_12="ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA256:AES128-GCM-SHA256"
mkdir -p "$WORK/nginx"
mapfile -t PORTS < <(free_ports $((NGINX_PORTS + SSHD_PORTS + 4)))
ports=("${PORTS[@]:0:NGINX_PORTS}")
EXTRA=("${PORTS[@]:NGINX_PORTS}")
{
  echo "daemon off; master_process off; pid $WORK/nginx/pid; error_log $WORK/nginx/error.log; worker_rlimit_nofile 8192;"
  echo "events { worker_connections 4096; } http { access_log off; client_body_temp_path $WORK/nginx; proxy_temp_path $WORK/nginx; fastcgi_temp_path $WORK/nginx; uwsgi_temp_path $WORK/nginx; scgi_temp_path $WORK/nginx;"
  echo "server {"
  for p in "${ports[@]}"; do echo "listen 127.0.0.1:$p ssl;"; done
  echo "ssl_certificate $WORK/c.pem; ssl_certificate_key $WORK/k.pem; ssl_protocols TLSv1.2 TLSv1.3; ssl_ciphers $NGINX_12; return 200 ok; } }"
} >"$WORK/nginx/nginx.conf"
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
PIDS+=($!)
TLS_PORTS=("${ports[@]}")
declare -A TRUTH
nginx_truth=$( { codes -tls1_2 -ciphersuites "" "$NGINX_12" | sed 's/^/tls1.2 /'; codes -s -tls1_3 | sed 's/^/tls1.3 /'; } | sort)
for p in "${ports[@]}"; do TRUTH[$p]=$nginx_truth; done

# Four s_servers: two TLS 1.2-only AEAD, two legacy TLS 1.0 with a CBC suite.
for cfg in "-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256" "-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256" \
           "-tls1 -cipher AES128-SHA:@SECLEVEL=0" "-tls1 -cipher AES128-SHA:@SECLEVEL=0"; do
  p=${EXTRA[0]}; EXTRA=("${EXTRA[@]:1}")
  # shellcheck disable=SC2086
  openssl s_server -accept "127.0.0.1:$p" -quiet -cert "$WORK/c.pem" -key "$WORK/k.pem" $cfg >/dev/null 2>&1 &
  PIDS+=($!)
  TLS_PORTS+=("$p")
  case $cfg in
    -tls1_2*) TRUTH[$p]=$(codes -tls1_2 -ciphersuites "" ECDHE-RSA-AES128-GCM-SHA256 | sed 's/^/tls1.2 /') ;;
    *) TRUTH[$p]=$(codes -tls1 -ciphersuites "" "AES128-SHA:@SECLEVEL=0" | sed 's/^/tls1.0 /') ;;
  esac
done

# sshd on ten ports.
mkdir -p "$WORK/sshd" /run/sshd
ssh-keygen -q -N "" -t ecdsa -f "$WORK/sshd/key"
SSH_PORTS=("${EXTRA[@]}")
{
  for p in "${SSH_PORTS[@]}"; do echo "Port $p"; done
  echo "ListenAddress 127.0.0.1"; echo "HostKey $WORK/sshd/key"; echo "PidFile $WORK/sshd/pid"; echo "UsePAM no"
  echo "MaxStartups 200:30:400"
} >"$WORK/sshd/config"
/usr/sbin/sshd -D -f "$WORK/sshd/config" &
PIDS+=($!)
for p in "${TLS_PORTS[@]}" "${SSH_PORTS[@]}"; do wait_port "$p"; done
ALL=$(IFS=,; echo "${TLS_PORTS[*]},${SSH_PORTS[*]}")
ENDPOINTS=$(( ${#TLS_PORTS[@]} + ${#SSH_PORTS[@]} ))
printf '127.0.0.1:%s\n' "${TLS_PORTS[@]}" >"$WORK/tls-targets"

# "port version code" lines.
parse_fipsgate() { python3 -c '
import json,sys
for line in sys.stdin:
    e=json.loads(line)
    for v in (e.get("tls") or {}).get("versions",[]):
        for s in v["cipher_suites"]: print(e["target"]["port"], v["version"], s["code"])'; }
parse_nmap() { "$FIPSGATE" db list --kind tls-suite --format json >"$WORK/db.json"; python3 -c '
import sys,re,json
names={x["name"]:x["code"] for x in json.load(open(sys.argv[1]))}
alias={"TLS_AKE_WITH_"+n[4:]:c for n,c in names.items()}
port=ver=None
for line in sys.stdin:
    m=re.match(r"(\d+)/tcp\s", line)
    if m: port, ver = m.group(1), None
    m=re.search(r"\|\s+(TLSv1\.[0-3]|SSLv3):", line)
    if m: ver={"TLSv1.0":"tls1.0","TLSv1.1":"tls1.1","TLSv1.2":"tls1.2","TLSv1.3":"tls1.3","SSLv3":"ssl3"}[m.group(1)]
    m=re.search(r"\|\s+(TLS_[A-Z0-9_]+)", line)
    if m and ver and port:
        c=names.get(m.group(1)) or alias.get(m.group(1))
        if c: print(port, ver, c)' "$WORK/db.json"; }
parse_sslscan() { python3 -c '
import sys,re
ver={"TLSv1.2":"tls1.2","TLSv1.3":"tls1.3","TLSv1.1":"tls1.1","TLSv1.0":"tls1.0","SSLv3":"ssl3"}
port=None
for line in sys.stdin:
    m=re.search(r"<ssltest host=\"[^\"]*\" sniname=\"[^\"]*\" port=\"(\d+)\"", line)
    if m: port=m.group(1)
    for m in re.finditer(r"<cipher status=\"(?:preferred|accepted)\" sslversion=\"([^\"]+)\"[^>]* id=\"0x([0-9a-fA-F]+)\"", line):
        print(port, ver.get(m.group(1),m.group(1)), "0x"+m.group(2).upper().zfill(4))'; }

# TLS ports whose suites equal the ground truth.
matching() { python3 -c '
import sys,collections
truth=collections.defaultdict(set)
for l in open(sys.argv[1]):
    p,v,c=l.split(); truth[p].add((v,c))
got=collections.defaultdict(set)
for l in open(sys.argv[2]):
    p,v,c=l.split(); got[p].add((v,c))
print(sum(1 for p in truth if got[p]==truth[p]))' "$@"; }
: >"$WORK/truth"
for p in "${TLS_PORTS[@]}"; do sed "s/^/$p /" <<<"${TRUTH[$p]}" >>"$WORK/truth"; done

opens() { nstat -az TcpActiveOpens | awk '/TcpActiveOpens/{print $2}'; }
measure() { # name command... -> "wall cpu rss_mb connections"
  local name=$1; shift
  nstat -n >/dev/null
  local before after
  before=$(opens)
  /usr/bin/time -f '%e %U %S %M' -o "$WORK/time-$name" "$@" >"$WORK/out-$name" 2>/dev/null || true
  after=$(opens)
  read -r wall user sys rss < <(tail -1 "$WORK/time-$name")
  echo "$wall $(python3 -c "print(round($user+$sys,2))") $(python3 -c "print(round($rss/1024,1))") $((after - before))"
}

steal_start=$(awk '/^cpu /{print $9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
declare -A R M
R[fipsgate]=$(measure fipsgate "$FIPSGATE" scan --no-progress --format ndjson --concurrency 64 --per-host 64 -p "$ALL" 127.0.0.1)
R[nmap]=$(measure nmap nmap -Pn -n -sV --script ssl-enum-ciphers -p "$ALL" 127.0.0.1)
R[sslscan]=$(measure sslscan sslscan --no-colour --xml=- --targets="$WORK/tls-targets")
steal_end=$(awk '/^cpu /{print $9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
steal=$(python3 -c "a='$steal_start'.split(); b='$steal_end'.split(); d=int(b[1])-int(a[1]); print(round(100*(int(b[0])-int(a[0]))/d,1) if d else 0)")

parse_fipsgate <"$WORK/out-fipsgate" | sort -u >"$WORK/got-fipsgate"
parse_nmap <"$WORK/out-nmap" | sort -u >"$WORK/got-nmap"
parse_sslscan <"$WORK/out-sslscan" | sort -u >"$WORK/got-sslscan"
for t in fipsgate nmap sslscan; do M[$t]=$(matching "$WORK/truth" "$WORK/got-$t"); done
ssh_found=$(python3 -c '
import json,sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get("ssh")))' "$WORK/out-fipsgate")
nmap_ssh=$(grep -cE '^[0-9]+/tcp +open +ssh ' "$WORK/out-nmap" || true)

# Peak RSS over 65,536 addresses (65,534 endpoints, every port closed: refused at once on lo).
R[big]=$(measure big "$FIPSGATE" scan --yes --no-progress --format ndjson --concurrency 512 -p 443 127.2.0.0/16)
big_lines=$(wc -l <"$WORK/out-big")

table=$(
  echo "| tool | endpoints | wall s | CPU s | peak RSS MB | connections | TLS ports = ground truth (of ${#TLS_PORTS[@]}) | SSH ports seen (of ${#SSH_PORTS[@]}) | wall vs fipsgate |"
  echo "|---|---|---|---|---|---|---|---|---|"
  read -r fw _ _ _ <<<"${R[fipsgate]}"
  for t in fipsgate nmap sslscan; do
    read -r w c r n <<<"${R[$t]}"
    case $t in fipsgate) e=$ENDPOINTS; s=$ssh_found ;; nmap) e=$ENDPOINTS; s=$nmap_ssh ;; sslscan) e=${#TLS_PORTS[@]}; s="-" ;; esac
    echo "| $t | $e | $w | $c | $r | $n | ${M[$t]} | $s | $(python3 -c "print(f'{$w/$fw:.1f}x')") |"
  done
)
read -r bw bc br bn <<<"${R[big]}"
tools="fipsgate $("$FIPSGATE" --version | awk '{print $2}'), $(nmap --version | head -1 | awk '{print "nmap",$3}'), sslscan $(dpkg-query -W -f='${Version}' sslscan)"
section=$(cat <<EOF2
## Fleet scan (bench/fleet.sh)

Run $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, CPU steal during the run ${steal}%. Tools: $tools.
$ENDPOINTS loopback endpoints: nginx listening on $NGINX_PORTS ports (TLS 1.2 with four suites,
TLS 1.3), four \`openssl s_server\` (two TLS 1.2 AEAD-only, two TLS 1.0 with a CBC suite) and
sshd on $SSHD_PORTS ports. fipsgate: \`scan -p LIST 127.0.0.1 --concurrency 64 --per-host 64\`;
nmap: \`-sV --script ssl-enum-ciphers -p LIST\`; sslscan: \`--targets\` over the TLS ports (it
does not speak SSH). Connections are the kernel's TcpActiveOpens during each run; ground truth
is \`openssl ciphers -V\` on the servers' cipher strings, compared per port and version.

$table

Memory over a large list: \`scan --yes -p 443 127.2.0.0/16 --concurrency 512\` (65,534 endpoints,
every port closed) took ${bw} s wall, ${bc} s CPU, ${bn} connections, and peaked at ${br} MB RSS;
it printed $big_lines lines (scan_begin and scan_end: closed ports of a block are not findings).
EOF2
)
write_section "## Fleet scan (bench/fleet.sh)" "$section"
echo "$section"
