#!/usr/bin/env bash
# TLS terminator benchmark: fipsgate proxy, stunnel4 and HAProxy from Debian in one run, in
# front of the same nginx backend, with the same certificates (ECDSA P-256 and RSA 2048).
# Measures full TLS 1.3 and TLS 1.2 handshakes per second (16 concurrent `openssl s_time -new`
# clients), keep-alive 1 KiB requests per second and p99 latency (wrk, 16 connections), single
# connection bulk throughput (100 MiB with curl), and proxy CPU seconds per 10k requests (from
# /proc during the wrk run). Writes the section "TLS proxy" of docs/benchmarks.md and prints it.
# Usage: bench/proxy.sh [SECONDS]   (needs: ./dev deps, plus stunnel4 haproxy wrk from apt)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/common.sh
source bench/common.sh
SECS=${1:-5}
for tool in stunnel4 haproxy wrk nginx curl openssl python3; do
  command -v "$tool" >/dev/null || { echo "bench/proxy.sh: $tool is missing (apt-get install stunnel4 haproxy wrk)" >&2; exit 2; }
done
cargo build --release --quiet
FIPSGATE=$PWD/target/release/fipsgate
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

cd "$WORK"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ec.key -out ec.crt -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa.key -out rsa.crt -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
cat ec.crt ec.key >ec.pem
cat rsa.crt rsa.key >rsa.pem
mkdir -p www
head -c 1024 /dev/urandom >www/1k
head -c 104857600 /dev/urandom >www/100m
mapfile -t P < <(free_ports 7)
BACKEND=${P[0]}
cat >nginx.conf <<NGX
daemon off; master_process off; pid $WORK/nginx.pid; error_log $WORK/nginx.err; worker_rlimit_nofile 8192;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $WORK; proxy_temp_path $WORK; fastcgi_temp_path $WORK; uwsgi_temp_path $WORK; scgi_temp_path $WORK;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$BACKEND; root $WORK/www; } }
NGX
nginx -p "$WORK" -c "$WORK/nginx.conf" &
PIDS+=($!)

declare -A PORT PID
i=1
for key in ec rsa; do
  # fipsgate proxy
  port=${P[$i]}; i=$((i + 1))
  cat >"fipsgate-$key.toml" <<TOML
[proxy]
max_connections = 4096
[[listener]]
name = "bench"
listen = ["127.0.0.1:$port"]
backend = "127.0.0.1:$BACKEND"
[[listener.certificate]]
chain = "$WORK/$key.crt"
key = "$WORK/$key.key"
TOML
  "$FIPSGATE" proxy --config "fipsgate-$key.toml" >/dev/null 2>&1 &
  PIDS+=($!); PID[fipsgate,$key]=$!; PORT[fipsgate,$key]=$port
  # stunnel4
  port=${P[$i]}; i=$((i + 1))
  cat >"stunnel-$key.conf" <<STN
foreground = yes
pid =
[bench]
accept = 127.0.0.1:$port
connect = 127.0.0.1:$BACKEND
cert = $WORK/$key.crt
key = $WORK/$key.key
STN
  stunnel4 "stunnel-$key.conf" >/dev/null 2>&1 &
  PIDS+=($!); PID[stunnel,$key]=$!; PORT[stunnel,$key]=$port
  # HAProxy, one thread per core like the others
  port=${P[$i]}; i=$((i + 1))
  cat >"haproxy-$key.cfg" <<HAP
global
  maxconn 4096
  nbthread $(nproc)
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend bench
  bind 127.0.0.1:$port ssl crt $WORK/$key.pem ssl-min-ver TLSv1.2
  default_backend nginx
backend nginx
  server nginx 127.0.0.1:$BACKEND
HAP
  haproxy -db -f "haproxy-$key.cfg" >/dev/null 2>&1 &
  PIDS+=($!); PID[haproxy,$key]=$!; PORT[haproxy,$key]=$port
done
for p in "${P[@]}"; do wait_port "$p"; done

# CPU seconds (user + system) of a process and its threads so far.
cpu() { awk -v t="$(getconf CLK_TCK)" '{print ($14 + $15) / t}' "/proc/$1/stat"; }

# Handshakes per second: 16 parallel s_time clients making new sessions for SECS seconds.
handshakes() { # port version
  local port=$1 version=$2 opts
  case $version in
    tls1.3) opts=(-tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256) ;;
    tls1.2) opts=(-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256) ;;
  esac
  for c in $(seq 16); do
    openssl s_time -connect "127.0.0.1:$port" -new -time "$SECS" "${opts[@]}" >"hs-$c" 2>/dev/null &
  done
  wait
  cat hs-* | python3 -c '
import re,sys
n=t=0
for m in re.finditer(r"(\d+) connections in (\d+) real seconds", sys.stdin.read()):
    n+=int(m.group(1)); t=max(t,int(m.group(2)))
print(round(n/t) if t else 0)'
  rm -f hs-*
}

# Keep-alive 1 KiB requests: "requests/s p99_ms cpu_s_per_10k".
keepalive() { # proxy key
  local port=${PORT[$1,$2]} pid=${PID[$1,$2]} before after
  before=$(cpu "$pid")
  wrk -t2 -c16 -d"${SECS}s" --latency "https://127.0.0.1:$port/1k" >wrk.out 2>&1
  after=$(cpu "$pid")
  python3 - "$before" "$after" <<'PY'
import re,sys
text=open("wrk.out").read()
rps=float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
total=int(re.search(r"(\d+) requests in", text).group(1))
m=re.search(r"99%\s+([\d.]+)(us|ms|s)\b", text)
p99=float(m.group(1))*{"us":0.001,"ms":1,"s":1000}[m.group(2)]
cpu=float(sys.argv[2])-float(sys.argv[1])
print(round(rps), round(p99,2), round(cpu/total*10000,2) if total else 0)
PY
}

# Bulk MB/s over one connection (best of two).
bulk() {
  local best=0 s
  for _ in 1 2; do
    s=$(curl -s --cacert "$WORK/$2.crt" -o /dev/null -w '%{speed_download}' "https://127.0.0.1:$1/100m")
    best=$(python3 -c "print(max($best, $s))")
  done
  python3 -c "print(round($best/1048576))"
}

steal_start=$(awk '/^cpu /{print $9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
declare -A R
for key in ec rsa; do
  for proxy in fipsgate stunnel haproxy; do
    port=${PORT[$proxy,$key]}
    R[$proxy,$key,hs13]=$(handshakes "$port" tls1.3)
    R[$proxy,$key,hs12]=$(handshakes "$port" tls1.2)
  done
done
for proxy in fipsgate stunnel haproxy; do
  R[$proxy,ka]=$(keepalive "$proxy" ec)
  R[$proxy,bulk]=$(bulk "${PORT[$proxy,ec]}" ec)
done
steal_end=$(awk '/^cpu /{print $9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
steal=$(python3 -c "a='$steal_start'.split(); b='$steal_end'.split(); d=int(b[1])-int(a[1]); print(round(100*(int(b[0])-int(a[0]))/d,1) if d else 0)")

ratio() { python3 -c "print(f'{$1/$2:.2f}x' if $2 else '-')"; }
table=$(
  echo "| proxy | TLS 1.3 hs/s ECDSA | TLS 1.3 hs/s RSA | TLS 1.2 hs/s ECDSA | TLS 1.2 hs/s RSA | 1 KiB req/s | p99 ms | CPU s / 10k req | bulk MiB/s |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for proxy in fipsgate stunnel haproxy; do
    read -r rps p99 cpu10k <<<"${R[$proxy,ka]}"
    echo "| $proxy | ${R[$proxy,ec,hs13]} | ${R[$proxy,rsa,hs13]} | ${R[$proxy,ec,hs12]} | ${R[$proxy,rsa,hs12]} | $rps | $p99 | $cpu10k | ${R[$proxy,bulk]} |"
  done
)
read -r f_rps f_p99 _ <<<"${R[fipsgate,ka]}"
read -r s_rps _ _ <<<"${R[stunnel,ka]}"
read -r h_rps h_p99 _ <<<"${R[haproxy,ka]}"
ratios=$(
  echo "- handshakes, fipsgate vs stunnel: TLS 1.3 ECDSA $(ratio "${R[fipsgate,ec,hs13]}" "${R[stunnel,ec,hs13]}"), RSA $(ratio "${R[fipsgate,rsa,hs13]}" "${R[stunnel,rsa,hs13]}"); TLS 1.2 ECDSA $(ratio "${R[fipsgate,ec,hs12]}" "${R[stunnel,ec,hs12]}"), RSA $(ratio "${R[fipsgate,rsa,hs12]}" "${R[stunnel,rsa,hs12]}")"
  echo "- handshakes, fipsgate vs HAProxy: TLS 1.3 ECDSA $(ratio "${R[fipsgate,ec,hs13]}" "${R[haproxy,ec,hs13]}"), RSA $(ratio "${R[fipsgate,rsa,hs13]}" "${R[haproxy,rsa,hs13]}"); TLS 1.2 ECDSA $(ratio "${R[fipsgate,ec,hs12]}" "${R[haproxy,ec,hs12]}"), RSA $(ratio "${R[fipsgate,rsa,hs12]}" "${R[haproxy,rsa,hs12]}")"
  echo "- keep-alive requests, fipsgate vs stunnel $(ratio "$f_rps" "$s_rps"), vs HAProxy $(ratio "$f_rps" "$h_rps"); p99 fipsgate ${f_p99} ms, HAProxy ${h_p99} ms"
  echo "- bulk, fipsgate vs stunnel $(ratio "${R[fipsgate,bulk]}" "${R[stunnel,bulk]}")"
)
versions="fipsgate $("$FIPSGATE" --version | awk '{print $2}') (AWS-LC FIPS module), stunnel $(dpkg-query -W -f='${Version}' stunnel4), HAProxy $(dpkg-query -W -f='${Version}' haproxy), OpenSSL $(openssl version | awk '{print $2}') for the clients and for stunnel and HAProxy"
section=$(cat <<EOF2
## TLS proxy (bench/proxy.sh)

Run $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, CPU steal during the run ${steal}%; clients,
proxies and the nginx backend share these cores, so absolute numbers are low and only the ratios
carry over. Tools: $versions. Each proxy terminates TLS in front of the same nginx and forwards
TCP (HAProxy in \`mode tcp\`, $(nproc) threads). Handshakes: 16 concurrent \`openssl s_time -new\`
for ${SECS} s (TLS 1.3 with AES-128-GCM, TLS 1.2 with ECDHE and AES-128-GCM; every handshake also
opens a backend connection). Keep-alive: \`wrk -t2 -c16 -d${SECS}s\` for a 1 KiB file through the
ECDSA listener; CPU is the proxy process's user + system time during that run. Bulk: 100 MiB
over one connection with curl, best of two.

$table

$ratios
EOF2
)
cd - >/dev/null
write_section "## TLS proxy (bench/proxy.sh)" "$section"
echo "$section"
