#!/usr/bin/env bash
# TLS terminator benchmark: fipsgate proxy, stunnel4 and HAProxy from Debian in one run, in
# front of the same nginx backend, with the same certificates (ECDSA P-256 and RSA 2048).
# Measures full TLS 1.3 and TLS 1.2 handshakes per second (16 concurrent `openssl s_time -new`
# clients, then 64 to saturate every core), keep-alive 1 KiB requests per second and p99 latency (wrk, 16 connections), single
# connection bulk throughput (100 MiB with curl), and proxy CPU seconds per 10k requests (from
# /proc during the wrk run). Handshakes are measured twice: with P-256 key shares (the same work
# for every proxy) and with OpenSSL's default X25519 key share (a HelloRetryRequest at fipsgate).
# Writes the section "TLS proxy" of docs/benchmarks.md and prints it.
# Usage: bench/proxy.sh [SECONDS]   (needs: ./dev deps, plus stunnel4 haproxy wrk from apt)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/common.sh
source bench/common.sh
SECS=${1:-5}
for tool in stunnel4 haproxy wrk nginx curl openssl python3; do
  command -v "$tool" >/dev/null || { echo "bench/proxy.sh: $tool is missing (apt-get install stunnel4 haproxy wrk)" >&2; exit 2; }
done
bench_setup
cargo build --release --quiet -p fipsgate-hsload
HSLOAD=$PWD/target/release/fipsgate-hsload

cd "$WORK"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ec.key -out ec.crt -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -addext basicConstraints=critical,CA:FALSE 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa.key -out rsa.crt -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -addext basicConstraints=critical,CA:FALSE 2>/dev/null
cat ec.crt ec.key >ec.pem
cat rsa.crt rsa.key >rsa.pem
mkdir -p www
head -c 1024 /dev/urandom >www/1k
head -c 104857600 /dev/urandom >www/100m
mapfile -t P < <(free_ports 8)
BACKEND=${P[0]}
NGINX_TLS=${P[7]}
cat >nginx.conf <<NGX
daemon off; master_process off; pid $WORK/nginx.pid; error_log $WORK/nginx.err; worker_rlimit_nofile 8192;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $WORK; proxy_temp_path $WORK; fastcgi_temp_path $WORK; uwsgi_temp_path $WORK; scgi_temp_path $WORK;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$BACKEND; root $WORK/www; }
  server { listen 127.0.0.1:$NGINX_TLS ssl; ssl_certificate $WORK/ec.crt; ssl_certificate_key $WORK/ec.key; root $WORK/www; } }
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

# The clients' key exchange: "p256" makes every s_time client offer only a P-256 key share, so
# each proxy does the same work (like for like); "default" keeps OpenSSL's defaults (an X25519 key
# share first), which HAProxy and stunnel accept and a FIPS proxy answers with a
# HelloRetryRequest for P-256: X25519 is not an approved key agreement (SP 800-56A r3).
cat >p256.cnf <<'CNF'
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
Groups = P-256
CNF

# Handshakes per second over SECS seconds: CLIENTS concurrent clients making new sessions, each
# `openssl s_time -new` (CLIENT s_time, a process per client) or a task of bench/hsload (CLIENT
# hsload, one process). With PID, also the milliseconds of CPU per handshake of that process and
# of the clients: "handshakes/s [proxy_ms clients_ms]".
handshakes() { # port key version groups [clients [pid [client]]]
  local port=$1 key=$2 version=$3 groups=$4 clients=${5:-16} pid=${6:-} client=${7:-s_time}
  local conf=/dev/null opts before=0 after=0 used
  [ "$groups" = p256 ] && conf=$WORK/p256.cnf
  case $version in
    tls1.3) opts=(-tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256) ;;
    tls1.2) opts=(-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256) ;;
  esac
  [ -n "$pid" ] && before=$(cpu "$pid")
  # `times` in the subshell: the CPU of the clients it ran (redirected, not piped: a pipeline
  # would run it in a fork of its own, which has no children).
  (
    if [ "$client" = hsload ]; then
      "$HSLOAD" --connect "127.0.0.1:$port" --ca "$WORK/$key.crt" --version "$version" \
        --groups "$groups" --clients "$clients" --seconds "$SECS" >hs-hsload
    else
      for c in $(seq "$clients"); do
        OPENSSL_CONF=$conf openssl s_time -connect "127.0.0.1:$port" -new -time "$SECS" "${opts[@]}" >"hs-$c" 2>/dev/null &
      done
      wait
    fi
    times >clients.cpu
  )
  used=$(tail -1 clients.cpu)
  [ -n "$pid" ] && after=$(cpu "$pid")
  cat hs-* | python3 -c '
import re,sys
text=sys.stdin.read()
n=t=0
for m in re.finditer(r"(\d+) connections in (\d+) real seconds", text):
    n+=int(m.group(1)); t=max(t,int(m.group(2)))
m=re.fullmatch(r"(\d+) ([\d.]+) (\d+)\s*", text)
if m:
    n,t=int(m.group(1)),float(m.group(2))
    if int(m.group(3)):
        print(f"hsload: {m.group(3)} failed handshakes", file=sys.stderr)
secs=lambda s: sum(float(a or 0)*60+float(b) for a,b in re.findall(r"(?:(\d+)m)?([\d.]+)s", s))
cpu=float(sys.argv[2])-float(sys.argv[1])
print(round(n/t) if t else 0, *([round(cpu/n*1000,2), round(secs(sys.argv[4])/n*1000,2)] if sys.argv[3] and n else []))' \
    "$before" "$after" "$pid" "$used"
  rm -f hs-* clients.cpu
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

# The median, field by field, of lines of numbers.
median() { python3 -c '
import statistics,sys
rows=[list(map(float,l.split())) for l in sys.stdin if l.strip()]
print(" ".join(f"{statistics.median(c):g}" for c in zip(*rows)))'; }

# Bulk over one connection: "best_MiB/s cpu_s_per_transfer" over ROUNDS transfers of 100 MiB.
# The CPU is the terminating process's (none for nginx serving TLS itself, the ceiling row).
bulk() { # port key [pid]
  local best=0 s before after=0
  [ -n "${3:-}" ] && before=$(cpu "$3")
  for _ in $(seq "$ROUNDS"); do
    s=$(curl -s --cacert "$WORK/$2.crt" -o /dev/null -w '%{speed_download}' "https://127.0.0.1:$1/100m")
    best=$(python3 -c "print(max($best, $s))")
  done
  [ -n "${3:-}" ] && after=$(cpu "$3")
  python3 -c "print(round($best/1048576), round(($after-${before:-0})/$ROUNDS, 3) if '${3:-}' else '-')"
}

ROUNDS=3
steal_start=$(awk '/^cpu /{print $9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
declare -A R
for key in ec rsa; do
  for proxy in fipsgate stunnel haproxy; do
    port=${PORT[$proxy,$key]}
    for groups in p256 default; do
      R[$proxy,$key,hs13,$groups]=$(handshakes "$port" $key tls1.3 $groups)
      R[$proxy,$key,hs12,$groups]=$(handshakes "$port" $key tls1.2 $groups)
    done
  done
done
# Saturation: 64 clients keep both cores busy, so a HelloRetryRequest costs CPU (the client's
# second key share, the proxy's second flight), not an idle round trip. Twice: with s_time
# clients ("sat"), whose handshakes cost more CPU than the proxy's, and with bench/hsload ("hl"),
# whose cost a fraction of it, so that the proxy is what saturates.
# ROUNDS rounds with the proxies taking turns on each cell; the medians are reported.
SATURATION=64
for _ in $(seq "$ROUNDS"); do
  for key in ec rsa; do
    for groups in p256 default; do
      for version in 13 12; do
        for client in s_time hsload; do
          run=sat
          [ "$client" = hsload ] && run=hl
          for proxy in fipsgate haproxy; do
            handshakes "${PORT[$proxy,$key]}" $key "tls1.${version#1}" $groups $SATURATION \
              "${PID[$proxy,$key]}" $client >>"sat-$proxy-$key-$run$version-$groups"
          done
        done
      done
    done
  done
done
for cell in sat-*; do
  IFS=- read -r _ proxy key run groups <<<"$cell"
  version=${run: -2}
  run=${run%??}
  read -r "R[$proxy,$key,$run$version,$groups]" "R[$proxy,$key,${run}cpu$version,$groups]" \
    "R[$proxy,$key,${run}cli$version,$groups]" <<<"$(median <"$cell")"
done
# Keep-alive and bulk: ROUNDS rounds, the proxies taking turns, so that a noisy minute on this
# shared machine hits all of them; the medians (bulk: the best) are reported.
for _ in $(seq "$ROUNDS"); do
  for proxy in fipsgate stunnel haproxy; do
    keepalive "$proxy" ec >>"ka-$proxy"
  done
done
for proxy in fipsgate stunnel haproxy; do
  R[$proxy,ka]=$(median <"ka-$proxy")
  R[$proxy,bulk]=$(bulk "${PORT[$proxy,ec]}" ec "${PID[$proxy,ec]}")
done
R[nginx,bulk]=$(bulk "$NGINX_TLS" ec)
steal_end=$(awk '/^cpu /{print $9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
steal=$(python3 -c "a='$steal_start'.split(); b='$steal_end'.split(); d=int(b[1])-int(a[1]); print(round(100*(int(b[0])-int(a[0]))/d,1) if d else 0)")

ratio() { python3 -c "print(f'{$1/$2:.2f}x' if $2 else '-')"; }
hs_table() { # groups
  echo "| proxy | TLS 1.3 ECDSA | TLS 1.3 RSA | TLS 1.2 ECDSA | TLS 1.2 RSA |"
  echo "|---|---|---|---|---|"
  for proxy in fipsgate stunnel haproxy; do
    echo "| $proxy | ${R[$proxy,ec,hs13,$1]} | ${R[$proxy,rsa,hs13,$1]} | ${R[$proxy,ec,hs12,$1]} | ${R[$proxy,rsa,hs12,$1]} |"
  done
}
sat_table() { # run (sat: s_time, hl: hsload), then "cpu" for the CPU per handshake
  echo "| proxy | clients' key share | TLS 1.3 ECDSA | TLS 1.3 RSA | TLS 1.2 ECDSA | TLS 1.2 RSA |"
  echo "|---|---|---|---|---|---|"
  local groups proxy share cells cell
  for groups in p256 default; do
    share="P-256"
    [ "$groups" = default ] && share="X25519 (OpenSSL's default)"
    for proxy in fipsgate haproxy; do
      cells=""
      for cell in ec,13 rsa,13 ec,12 rsa,12; do
        if [ "${2:-}" = cpu ]; then
          cells+=" ${R[$proxy,${cell%,*},${1}cpu${cell#*,},$groups]} / ${R[$proxy,${cell%,*},${1}cli${cell#*,},$groups]} |"
        else
          cells+=" ${R[$proxy,${cell%,*},${1}${cell#*,},$groups]} |"
        fi
      done
      echo "| $proxy | $share |$cells"
    done
  done
}
hs_ratios() { # run (hs: 16 s_time clients, sat: saturation with s_time, hl: with hsload) groups other
  echo "TLS 1.3 ECDSA $(ratio "${R[fipsgate,ec,${1}13,$2]}" "${R[$3,ec,${1}13,$2]}"), RSA $(ratio "${R[fipsgate,rsa,${1}13,$2]}" "${R[$3,rsa,${1}13,$2]}"); TLS 1.2 ECDSA $(ratio "${R[fipsgate,ec,${1}12,$2]}" "${R[$3,ec,${1}12,$2]}"), RSA $(ratio "${R[fipsgate,rsa,${1}12,$2]}" "${R[$3,rsa,${1}12,$2]}")"
}
traffic_table=$(
  echo "| proxy | 1 KiB req/s | p99 ms | CPU s / 10k req | bulk MiB/s | CPU s / 100 MiB |"
  echo "|---|---|---|---|---|---|"
  for proxy in fipsgate stunnel haproxy nginx; do
    read -r rps p99 cpu10k <<<"${R[$proxy,ka]:-- - -}"
    read -r mib cpubulk <<<"${R[$proxy,bulk]}"
    label=$proxy
    [ "$proxy" = nginx ] && label="nginx serving TLS itself (no proxy: the ceiling)"
    echo "| $label | $rps | $p99 | $cpu10k | $mib | $cpubulk |"
  done
)
read -r f_rps f_p99 _ <<<"${R[fipsgate,ka]}"
read -r s_rps _ _ <<<"${R[stunnel,ka]}"
read -r h_rps h_p99 _ <<<"${R[haproxy,ka]}"
read -r f_mib f_cpu <<<"${R[fipsgate,bulk]}"
read -r s_mib s_cpu <<<"${R[stunnel,bulk]}"
read -r n_mib _ <<<"${R[nginx,bulk]}"
ratios=$(
  echo "- handshakes with P-256 (like for like), fipsgate vs stunnel: $(hs_ratios hs p256 stunnel)"
  echo "- handshakes with P-256 (like for like), fipsgate vs HAProxy: $(hs_ratios hs p256 haproxy)"
  echo "- handshakes with the clients' default X25519 key share, fipsgate (P-256, after a HelloRetryRequest in TLS 1.3) vs HAProxy (X25519): $(hs_ratios hs default haproxy)"
  echo "- at saturation ($SATURATION s_time clients), fipsgate vs HAProxy with P-256 key shares: $(hs_ratios sat p256 haproxy)"
  echo "- at saturation ($SATURATION s_time clients), fipsgate vs HAProxy with the default X25519 key share: $(hs_ratios sat default haproxy)"
  echo "- at saturation ($SATURATION hsload clients), fipsgate vs HAProxy with P-256 key shares: $(hs_ratios hl p256 haproxy)"
  echo "- at saturation ($SATURATION hsload clients), fipsgate vs HAProxy with the default X25519 key share: $(hs_ratios hl default haproxy)"
  echo "- keep-alive requests, fipsgate vs stunnel $(ratio "$f_rps" "$s_rps"), vs HAProxy $(ratio "$f_rps" "$h_rps"); median p99 fipsgate ${f_p99} ms, HAProxy ${h_p99} ms"
  echo "- bulk, fipsgate vs stunnel $(ratio "$f_mib" "$s_mib") in MiB/s and stunnel spends $(ratio "$s_cpu" "$f_cpu") fipsgate's CPU per 100 MiB; nginx serving TLS itself reaches $n_mib MiB/s, $(ratio "$n_mib" "$s_mib") of stunnel's: the most any proxy can show here"
)
versions="fipsgate $("$FIPSGATE" --version | awk '{print $2}') (AWS-LC FIPS module), stunnel $(dpkg-query -W -f='${Version}' stunnel4), HAProxy $(dpkg-query -W -f='${Version}' haproxy), OpenSSL $(openssl version | awk '{print $2}') for the clients and for stunnel and HAProxy"
section=$(cat <<EOF2
## TLS proxy (bench/proxy.sh)

Run $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, CPU steal during the run ${steal}%; clients,
proxies and the nginx backend share these cores, so absolute numbers are low and only the ratios
carry over. Tools: $versions. Each proxy terminates TLS in front of the same nginx and forwards
TCP (HAProxy in \`mode tcp\`, $(nproc) threads).

Full handshakes per second: 16 concurrent \`openssl s_time -new\` for ${SECS} s (TLS 1.3 with
AES-128-GCM, TLS 1.2 with ECDHE and AES-128-GCM; every handshake also opens a backend
connection). First with every client offering a P-256 key share, so all three proxies do the same
key exchange:

$(hs_table p256)

Then with OpenSSL's default groups, an X25519 key share first. HAProxy and stunnel take X25519;
fipsgate cannot (X25519 is not an approved key agreement): it uses P-256 in TLS 1.2 and answers
TLS 1.3 clients with a HelloRetryRequest for P-256, which costs the client a second key share and a round trip. This is
what FIPS costs clients that prefer X25519:

$(hs_table default)

At saturation: $SATURATION concurrent clients for ${SECS} s keep both cores busy, so what counts
is the CPU each handshake costs (the clients' included: they share the cores), not round trips.
Each cell is the median of ${ROUNDS} rounds, the two proxies taking turns on it.
With X25519 shares, each of fipsgate's TLS 1.3 handshakes includes the HelloRetryRequest and the
client's second key share. First with $SATURATION \`openssl s_time -new\` processes:

$(sat_table sat)

The CPU per handshake in those runs, in milliseconds of user + system time: the proxy's (its
process and threads) / the s_time clients' (all of them, over the handshakes made). The rest of
the two cores went to the backend and the kernel:

$(sat_table sat cpu)

OpenSSL 3.0's client spends more CPU on a handshake than either proxy, so those runs measure the
clients about as much as the proxies. The same runs with bench/hsload, $SATURATION concurrent
clients in one rustls (aws-lc-rs) process: the same versions, suite, groups and key shares
(X25519 first with its key share, then P-256 and P-384, as OpenSSL 3.0 offers them), a full
handshake each time with the certificate verified, no resumption:

$(sat_table hl)

$(sat_table hl cpu)

Traffic through the ECDSA listener, ${ROUNDS} rounds with the proxies taking turns. Keep-alive:
\`wrk -t2 -c16 -d${SECS}s\` for a 1 KiB file, medians of the rounds; CPU is the proxy process's
user + system time during the run. Bulk: 100 MiB over one connection with curl, the best of the
rounds, and the proxy's CPU time per transfer. The last row is curl fetching the same file from
nginx's own TLS listener, with no proxy in the path: the most this machine's client and backend
allow.

$traffic_table

$ratios
EOF2
)
cd - >/dev/null
write_section "## TLS proxy (bench/proxy.sh)" "$section"
echo "$section"
