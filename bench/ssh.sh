#!/usr/bin/env bash
# Side-by-side SSH benchmark: fipsgate against ssh-audit (Debian's package, and PyPI's newest when
# pip can install it) on two OpenSSH sshd instances on loopback (FIPS-only and Debian default), in
# one run. Connections are counted by bench/relay.py in front of each server. Ground truth:
# `sshd -T` for kex, cipher and MAC lists, `ssh-keygen -lf` for host key fingerprints.
# Writes the "SSH" section of docs/benchmarks.md and prints it. Needs root (sshd) and
# `apt-get install ssh-audit`.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/common.sh
source bench/common.sh
# shellcheck source=bench/parse.sh
source bench/parse.sh
command -v ssh-audit >/dev/null || { echo "bench/ssh.sh: apt-get install ssh-audit" >&2; exit 2; }
bench_setup
mkdir -p /run/sshd

TOOLS=(fipsgate ssh-audit-debian)
if pip install -q --target "$WORK/pypi" ssh-audit >/dev/null 2>&1; then TOOLS+=(ssh-audit-pypi); fi
PYPI_VERSION=$(ls "$WORK/pypi" 2>/dev/null | sed -n 's/^ssh_audit-\(.*\)\.dist-info$/\1/p')


for t in rsa ecdsa ed25519; do ssh-keygen -q -N "" -t "$t" -f "$WORK/host_$t"; done
declare -A EXTRA=(
  [fips]="KexAlgorithms ecdh-sha2-nistp256,ecdh-sha2-nistp384,diffie-hellman-group14-sha256
Ciphers aes256-gcm@openssh.com,aes128-ctr
MACs hmac-sha2-256-etm@openssh.com,hmac-sha2-256
HostKeyAlgorithms ecdsa-sha2-nistp256,rsa-sha2-512,rsa-sha2-256"
  [default]=""
)
declare -A PORT COUNT CONF TRUTH
for s in fips default; do
  backend=$(free_port)
  CONF[$s]="$WORK/sshd_$s"
  {
    echo "Port $backend"; echo "ListenAddress 127.0.0.1"; echo "PidFile $WORK/sshd_$s.pid"; echo "UsePAM no"
    echo "HostKey $WORK/host_rsa"; echo "HostKey $WORK/host_ecdsa"
    if [ "$s" = default ]; then echo "HostKey $WORK/host_ed25519"; fi
    if [ -n "${EXTRA[$s]}" ]; then echo "${EXTRA[$s]}"; fi
  } >"${CONF[$s]}"
  /usr/sbin/sshd -D -e -f "${CONF[$s]}" 2>/dev/null &
  PIDS+=($!)
  wait_port "$backend"
  COUNT[$s]="$WORK/count-$s"
  start_relay "$backend" "${COUNT[$s]}"
  PORT[$s]=$RELAY_PORT
  t=$(/usr/sbin/sshd -T -f "${CONF[$s]}")
  lists=$(for k in kexalgorithms ciphers macs; do awk -v k="$k" '$1==k {print k, $2}' <<<"$t"; done)
  keys=("$WORK/host_rsa.pub" "$WORK/host_ecdsa.pub")
  if [ "$s" = default ]; then keys+=("$WORK/host_ed25519.pub"); fi
  fps=$(for k in "${keys[@]}"; do ssh-keygen -lf "$k"; done | awk '{print "fp", $2}' | sort)

  TRUTH[$s]="$lists
$fps"
done

run_tool() { # server tool -> "wall cpu connections match"
  local s=$1 tool=$2 port=${PORT[$1]} before after out="$WORK/out-$1-$2" t="$WORK/time-$1-$2"
  before=$(cat "${COUNT[$s]}")
  local TIMEFORMAT='%R %U %S'
  case $tool in
    fipsgate) { time "$FIPSGATE" scan --format ndjson "127.0.0.1:$port" >"$out" 2>/dev/null || true; } 2>"$t" ;;
    ssh-audit-debian) { time ssh-audit -j -p "$port" 127.0.0.1 >"$out" 2>/dev/null || true; } 2>"$t" ;;
    ssh-audit-pypi) { time env PYTHONPATH="$WORK/pypi" python3 -m ssh_audit -j -p "$port" 127.0.0.1 >"$out" 2>/dev/null || true; } 2>"$t" ;;
  esac
  sleep 0.2
  after=$(cat "${COUNT[$s]}")
  local got
  case $tool in
    fipsgate) got=$(parse_ssh_fipsgate <"$out") ;;
    *) got=$(parse_ssh_audit <"$out") ;;
  esac
  local match=no
  [ "$(sort <<<"$got")" = "$(sort <<<"${TRUTH[$s]}")" ] && match=yes
  read -r wall user sys <"$t"
  echo "$wall $(python3 -c "print(round($user+$sys,2))") $((after - before)) $match"
}

declare -A R
for s in fips default; do
  for tool in "${TOOLS[@]}"; do R[$s,$tool]=$(run_tool "$s" "$tool"); done
done
table=$(
  echo "| server | tool | wall s | CPU s | connections | lists and fingerprints = ground truth | wall vs fipsgate |"
  echo "|---|---|---|---|---|---|---|"
  for s in fips default; do
    read -r fw _ _ _ <<<"${R[$s,fipsgate]}"
    for tool in "${TOOLS[@]}"; do
      read -r w c n m <<<"${R[$s,$tool]}"
      echo "| $s | $tool | $w | $c | $n | $m | $(python3 -c "print(f'{$w/$fw:.1f}x' if $fw else '-')") |"
    done
  done
)
section=$(cat <<EOF
## SSH (bench/ssh.sh)

Run $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores. Tools: fipsgate $("$FIPSGATE" --version | awk '{print $2}'), ssh-audit $(dpkg-query -W -f='${Version}' ssh-audit) (Debian)${PYPI_VERSION:+, ssh-audit $PYPI_VERSION (PyPI)}.
Servers: OpenSSH $(/usr/sbin/sshd -V 2>&1 | head -1 | awk -F'[_,]' '{print $2}') \`sshd\`, "fips" (ECDH/DH-group14 kex, AES-GCM/CTR, HMAC-SHA-256, RSA and ECDSA
host keys, no group exchange) and "default" (Debian's defaults, RSA, ECDSA and Ed25519 host keys,
group exchange). fipsgate's connections are one per host key type, or four where there is group
exchange: the sizes 1024, 2048 and 4096 bits ride on the host keys' key exchanges, 8192 is asked
alone; three at least, as two are greeted beside the first before its KEXINIT tells which are
needed (two more on a port other than 22, where a TLS 1.2 and a TLS 1.3 hello, side by side, tell SSH first). "Ground truth" compares kex, cipher and MAC lists with
\`sshd -T\` and the SHA-256 fingerprints of every host key with \`ssh-keygen -lf\`.

$table
EOF
)
write_section "## SSH (bench/ssh.sh)" "$section"
echo "$section"
