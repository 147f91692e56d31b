# Reference servers shared by the bench/ scripts (sourced, not run). Each start_* function
# starts servers on free loopback ports, appends their pids to PIDS, and sets BACKEND[name] to
# the port and TRUTH[name] to the ground truth read from the server's own configuration:
# sorted "version code" lines for TLS (from `openssl ciphers -V`), "kexalgorithms …",
# "ciphers …", "macs …" (from `sshd -T`) and "fp SHA256:…" lines (from `ssh-keygen -lf`) for SSH.
# The caller declares PIDS, BACKEND and TRUTH, and sets WORK.

# The codes `openssl ciphers -V` lists for these arguments, one 0xC02F per line.
suite_codes() { openssl ciphers -V "$@" | awk '{print $1}' | tr -d ',' | sed 's/0x\(..\)0x\(..\)/0x\1\2/' | tr a-f A-F | sed 's/^0X/0x/'; }

# A test certificate (RSA 2048) in $WORK/c.pem and $WORK/k.pem.
bench_certificate() {
  [ -s "$WORK/c.pem" ] || openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/k.pem" -out "$WORK/c.pem" -days 2 -subj /CN=bench 2>/dev/null
}

# Server A: `openssl s_server -tls1_2`, 2 suites. Server B: TLS 1.2 and 1.3, 2 + 2 suites,
# server order.
start_ab() {
  bench_certificate
  local A_12="ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"
  local B_12="ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256"
  local B_13="TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256"
  local -A args=(
    [A]="-tls1_2 -cipher $A_12"
    [B]="-cipher $B_12 -ciphersuites $B_13 -serverpref -no_tls1 -no_tls1_1"
  )
  TRUTH[A]=$(suite_codes -tls1_2 -ciphersuites "" "$A_12" | sed 's/^/tls1.2 /' | sort)
  TRUTH[B]=$( { suite_codes -tls1_2 -ciphersuites "" "$B_12" | sed 's/^/tls1.2 /'; suite_codes -s -tls1_3 -ciphersuites "$B_13" | sed 's/^/tls1.3 /'; } | sort)
  local s port
  for s in A B; do
    port=$(free_port)
    # shellcheck disable=SC2086
    openssl s_server -accept "127.0.0.1:$port" -quiet -cert "$WORK/c.pem" -key "$WORK/k.pem" ${args[$s]} >/dev/null 2>&1 &
    PIDS+=($!)
    wait_port "$port"
    BACKEND[$s]=$port
  done
}

# nginx with TLS 1.2 (three ECDHE suites) and TLS 1.3 (OpenSSL's three default suites).
start_nginx() {
  bench_certificate
  local ciphers="ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305"
  local port dir="$WORK/nginx"
  port=$(free_port)
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir; proxy_temp_path $dir; fastcgi_temp_path $dir; uwsgi_temp_path $dir; scgi_temp_path $dir;
  server {
    listen 127.0.0.1:$port ssl;
    ssl_certificate $WORK/c.pem;
    ssl_certificate_key $WORK/k.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers $ciphers;
    return 200 ok;
  }
}
CONF
  nginx -p "$dir" -c "$dir/nginx.conf" &
  PIDS+=($!)
  wait_port "$port"
  BACKEND[nginx]=$port
  TRUTH[nginx]=$( { suite_codes -tls1_2 -ciphersuites "" "$ciphers" | sed 's/^/tls1.2 /'; suite_codes -s -tls1_3 | sed 's/^/tls1.3 /'; } | sort)
}

# OpenSSH sshd with Debian's defaults (group exchange included) and RSA, ECDSA and Ed25519
# host keys. Needs root.
start_sshd_default() {
  mkdir -p /run/sshd
  local t port conf="$WORK/sshd_default" keys=()
  for t in rsa ecdsa ed25519; do
    [ -s "$WORK/host_$t" ] || ssh-keygen -q -N "" -t "$t" -f "$WORK/host_$t"
    keys+=("$WORK/host_$t")
  done
  port=$(free_port)
  {
    echo "Port $port"; echo "ListenAddress 127.0.0.1"; echo "PidFile $WORK/sshd_default.pid"; echo "UsePAM no"
    for t in "${keys[@]}"; do echo "HostKey $t"; done
  } >"$conf"
  /usr/sbin/sshd -D -e -f "$conf" 2>/dev/null &
  PIDS+=($!)
  wait_port "$port"
  BACKEND[sshd]=$port
  local dump lists fps
  dump=$(/usr/sbin/sshd -T -f "$conf")
  lists=$(for t in kexalgorithms ciphers macs; do awk -v k="$t" '$1==k {print k, $2}' <<<"$dump"; done)
  fps=$(for t in "${keys[@]}"; do ssh-keygen -lf "$t.pub"; done | awk '{print "fp", $2}' | sort)
  TRUTH[sshd]="$lists
$fps"
}
