# Helpers shared by the bench/ scripts (sourced, not run).

# Builds fipsgate (FIPSGATE), makes a scratch directory (WORK) and kills every pid in PIDS and
# removes WORK when the script exits.
bench_setup() {
  cargo build --release --quiet
  FIPSGATE=$PWD/target/release/fipsgate
  WORK=$(mktemp -d)
  PIDS=()
  trap bench_cleanup EXIT
}
bench_cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }

# A TCP port nobody listens on right now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# N distinct free TCP ports, one per line (bound all at once, so none repeats).
free_ports() { python3 -c '
import socket,sys
socks=[socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1",0))
print("\n".join(str(s.getsockname()[1]) for s in socks))' "$1"; }

# Waits up to 5 s for 127.0.0.1:$1 to accept.
wait_port() {
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done
  echo "port $1 did not open" >&2
  exit 1
}

# Replaces (or appends) the section whose heading is $1 in docs/benchmarks.md with $2.
write_section() {
  python3 - "$1" "$2" <<'PY'
import sys, pathlib, re
heading, section = sys.argv[1], sys.argv[2].rstrip() + "\n"
p = pathlib.Path("docs/benchmarks.md")
text = p.read_text() if p.exists() else "# Benchmarks\n\nMeasured side by side in one run; regenerate with the scripts in bench/.\n"
pattern = re.compile(re.escape(heading) + r"\n.*?(?=\n## |\Z)", re.S)
text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section
p.write_text(text)
PY
}

# Starts bench/relay.py in front of 127.0.0.1:$1, counting into $2, with $3 ms each way (default
# none); appends its pid to PIDS and sets RELAY_PORT.
start_relay() {
  RELAY_PORT=$(free_port)
  python3 bench/relay.py "$RELAY_PORT" "$1" "$2" "${3:-0}" 2>>"$WORK/relay.log" &
  PIDS+=($!)
  wait_port "$RELAY_PORT"
}
