#!/usr/bin/env bash
# Side-by-side SSH benchmark: fipsgate against ssh-audit (Debian's package, and PyPI's newest when
# pip can install it) on two OpenSSH sshd instances on loopback (FIPS-only and Debian default), in
# one run. Connections are counted by bench/conncount.py in front of each server. Ground truth:
# `sshd -T` for kex, cipher and MAC lists, `ssh-keygen -lf` for host key fingerprints.
# Writes the "SSH" section of docs/benchmarks.md and prints it. Needs root (sshd) and
# `apt-get install ssh-audit`.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/common.sh
source bench/common.sh
command -v ssh-audit >/dev/null || { echo "bench/ssh.sh: apt-get install ssh-audit" >&2; exit 2; }
cargo build --release --quiet
FIPSGATE=$PWD/target/release/fipsgate
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
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
  backend=$(free_port); front=$(free_port)
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
  python3 bench/conncount.py "$front" "$backend" "$WORK/count-$s" &
  PIDS+=($!)
  wait_port "$front"
  PORT[$s]=$front
  COUNT[$s]="$WORK/count-$s"
  t=$(/usr/sbin/sshd -T -f "${CONF[$s]}")
  lists=$(for k in kexalgorithms ciphers macs; do awk -v k="$k" '$1==k {print k, $2}' <<<"$t"; done)
  keys=("$WORK/host_rsa.pub" "$WORK/host_ecdsa.pub")
  if [ "$s" = default ]; then keys+=("$WORK/host_ed25519.pub"); fi
  fps=$(for k in "${keys[@]}"; do ssh-keygen -lf "$k"; done | awk '{print "fp", $2}' | sort)

  TRUTH[$s]="$lists
$fps"
done

# Each parser prints "kexalgorithms a,b", "ciphers …", "macs …" and "fp SHA256:…" lines.
parse_fipsgate() { python3 -c '
import json,sys
e=json.loads(sys.stdin.readline()); s=e.get("ssh") or {}
print("kexalgorithms", ",".join(s.get("kex",[])))
print("ciphers", ",".join(s.get("ciphers_client_to_server",[])))
print("macs", ",".join(s.get("macs_client_to_server",[])))
for f in sorted(k["fingerprint_sha256"] for k in s.get("host_keys",[])): print("fp", f)'; }
parse_ssh_audit() { python3 -c '
import json,sys
markers={"ext-info-s","kex-strict-s-v00@openssh.com","kexguess2@matt.ucc.asn.au"}
try: d=json.load(sys.stdin)
except Exception: d={}
print("kexalgorithms", ",".join(a["algorithm"] for a in d.get("kex",[]) if a["algorithm"] not in markers))
print("ciphers", ",".join(a["algorithm"] for a in d.get("enc",[])))
print("macs", ",".join(a["algorithm"] for a in d.get("mac",[])))
for f in sorted({"SHA256:"+f["hash"] for f in d.get("fingerprints",[]) if f.get("hash_alg")=="SHA256"}): print("fp", f)'; }

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
    fipsgate) got=$(parse_fipsgate <"$out") ;;
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
group exchange). fipsgate's connections are 1 + one per further host key type + 4 group-exchange
size probes (1024, 2048, 4096, 8192 bits). "Ground truth" compares kex, cipher and MAC lists with
\`sshd -T\` and the SHA-256 fingerprints of every host key with \`ssh-keygen -lf\`.

$table
EOF
)
write_section "## SSH (bench/ssh.sh)" "$section"
echo "$section"
