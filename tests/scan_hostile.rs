//! The hostile-peer suite: servers of ours (tests/support/hostile.rs) that misbehave in one way
//! on every connection, TLS and SSH. The scan of each ends within its deadline with the typed
//! error expected (or a partial result), never a panic or a hang, in bounded memory (peak RSS
//! measured with /usr/bin/time); a fleet scan mixing all of them with good servers still reports
//! the good ones in full.
mod support;

use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};
use support::hostile::{hostile, Opening};
use support::*;

/// Per-read timeout and per-endpoint deadline of every scan here, in seconds.
const TIMEOUT: u64 = 2;
const DEADLINE: u64 = 20;
/// Peak RSS allowed to a scan, in kB.
const MAX_RSS_KB: u64 = 150_000;

fn record(typ: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![typ, 3, 3];
    out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

fn handshake(typ: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![typ];
    out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(body);
    out
}

/// The random of a HelloRetryRequest (RFC 8446 4.1.3).
const HRR: [u8; 32] = [
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
];

/// A ServerHello: version, random, empty session id, suite, no compression, extensions.
fn server_hello(version: u16, random: [u8; 32], suite: u16, extensions: &[u8]) -> Vec<u8> {
    let mut b = version.to_be_bytes().to_vec();
    b.extend_from_slice(&random);
    b.push(0);
    b.extend_from_slice(&suite.to_be_bytes());
    b.push(0);
    b.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
    b.extend_from_slice(extensions);
    handshake(2, &b)
}

/// A plausible TLS 1.2 ServerHello record (ECDHE-RSA-AES128-GCM-SHA256).
fn tls12_hello() -> Vec<u8> {
    record(22, &server_hello(0x0303, [5; 32], 0xC02F, &[]))
}

/// Closes after the client's unread bytes arrived, which makes the close a reset.
fn reset(s: &mut TcpStream) {
    std::thread::sleep(Duration::from_millis(300));
    let _ = s.flush();
}

const SSH_BANNER: &[u8] = b"SSH-2.0-hostile\r\n";

fn garbage(s: &mut TcpStream) {
    let junk: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    let _ = s.write_all(&junk);
}

fn silence(_: &mut TcpStream) {
    std::thread::sleep(Duration::from_secs(DEADLINE + 10));
}

fn one_byte_a_second(s: &mut TcpStream) {
    for b in tls12_hello().iter().cycle().take(60) {
        if s.write_all(&[*b]).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

fn record_of_2_14_plus_1(s: &mut TcpStream) {
    let _ = s.write_all(&[22, 3, 3, 0x40, 0x01]);
    let _ = s.write_all(&vec![0u8; 16385]);
}

fn record_of_2_24(s: &mut TcpStream) {
    // A record length field has 16 bits; 2^24 is reached by the handshake message inside.
    let _ = s.write_all(&record(22, &[2, 0xFF, 0xFF, 0xFF, 3, 3]));
    let _ = s.write_all(&record(22, &[0; 16384]));
}

fn suite_and_version_not_offered(s: &mut TcpStream) {
    let _ = s.write_all(&record(22, &server_hello(0x0305, [2; 32], 0x1234, &[])));
}

fn wrong_extension_length(s: &mut TcpStream) {
    let ext = [0xFF, 0x01, 0x00, 0x40, 0x00];
    let _ = s.write_all(&record(22, &server_hello(0x0303, [3; 32], 0xC02F, &ext)));
}

fn endless_alerts(s: &mut TcpStream) {
    let alert = record(21, &[1, 0]);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(DEADLINE) && s.write_all(&alert).is_ok() {}
}

fn hello_retry_request_loop(s: &mut TcpStream) {
    // supported_versions TLS 1.3 and a key_share asking for secp256r1, on every hello.
    let ext = [
        0x00, 0x2b, 0x00, 0x02, 0x03, 0x04, 0x00, 0x33, 0x00, 0x02, 0x00, 0x17,
    ];
    let hrr = record(22, &server_hello(0x0303, HRR, 0x1301, &ext));
    let mut buf = [0u8; 4096];
    for _ in 0..50 {
        if s.write_all(&hrr).is_err() || s.read(&mut buf).unwrap_or(0) == 0 {
            return;
        }
    }
}

fn certificate_of_16_mib(s: &mut TcpStream) {
    let mut flight = server_hello(0x0303, [4; 32], 0xC02F, &[]);
    flight.extend_from_slice(&[11, 0xFF, 0xFF, 0xFF]);
    let _ = s.write_all(&record(22, &flight));
    let chunk = record(22, &[0x30; 16384]);
    for _ in 0..1024 {
        if s.write_all(&chunk).is_err() {
            return;
        }
    }
}

fn reset_mid_server_hello(s: &mut TcpStream) {
    let hello = tls12_hello();
    let _ = s.write_all(&hello[..hello.len() / 2]);
    reset(s);
}

fn reset_mid_certificate(s: &mut TcpStream) {
    let _ = s.write_all(&tls12_hello());
    let certificate = record(22, &handshake(11, &[0x30; 2000]));
    let _ = s.write_all(&certificate[..1000]);
    reset(s);
}

fn ssh_banner_of_1_mib(s: &mut TcpStream) {
    let mut line = b"SSH-2.0-".to_vec();
    line.extend(std::iter::repeat_n(b'a', 1 << 20));
    let _ = s.write_all(&line);
    std::thread::sleep(Duration::from_secs(TIMEOUT));
}

fn ssh_10000_lines_before_the_banner(s: &mut TcpStream) {
    for i in 0..10_000 {
        if writeln!(s, "line {i} of a very talkative server\r").is_err() {
            return;
        }
    }
    let _ = s.write_all(SSH_BANNER);
}

fn ssh_packet_length_of_2_31(s: &mut TcpStream) {
    let _ = s.write_all(SSH_BANNER);
    let _ = s.write_all(&[0x80, 0, 0, 0, 5]);
    std::thread::sleep(Duration::from_secs(TIMEOUT));
}

fn ssh_kexinit_with_10_mb_of_names(s: &mut TcpStream) {
    let _ = s.write_all(SSH_BANNER);
    let mut packet = vec![b'a'; 10_000_016];
    packet[..4].copy_from_slice(&10_000_012u32.to_be_bytes());
    packet[4] = 4;
    packet[5] = 20;
    packet[6..22].fill(0);
    packet[22..26].copy_from_slice(&9_999_000u32.to_be_bytes());
    let _ = s.write_all(&packet);
}

fn ssh_silence_after_the_banner(s: &mut TcpStream) {
    let _ = s.write_all(SSH_BANNER);
    std::thread::sleep(Duration::from_secs(DEADLINE + 10));
}

fn ssh_garbage_after_the_banner(s: &mut TcpStream) {
    let _ = s.write_all(SSH_BANNER);
    garbage(s);
}

fn ssh_reset_mid_banner(s: &mut TcpStream) {
    let _ = s.write_all(&SSH_BANNER[..8]);
    reset(s);
}

fn ssh_reset_mid_kexinit(s: &mut TcpStream) {
    let _ = s.write_all(SSH_BANNER);
    let mut packet = 1000u32.to_be_bytes().to_vec();
    packet.extend_from_slice(&[4, 20]);
    packet.extend_from_slice(&[0; 300]);
    let _ = s.write_all(&packet);
    reset(s);
}

/// An SSH binary packet around `payload` (block size 8, 4 to 11 bytes of padding).
fn ssh_packet(payload: &[u8]) -> Vec<u8> {
    let mut padding = 8 - (5 + payload.len()) % 8;
    if padding < 4 {
        padding += 8;
    }
    let mut out = ((1 + payload.len() + padding) as u32)
        .to_be_bytes()
        .to_vec();
    out.push(padding as u8);
    out.extend_from_slice(payload);
    out.extend(std::iter::repeat_n(0, padding));
    out
}

fn ssh_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Group exchange only, and every group handed out has 65,536 bits: far above the 8,192 asked
/// for, and a modular exponentiation the scanner must not start.
fn ssh_group_exchange_of_65536_bits(s: &mut TcpStream) {
    let mut kexinit = vec![20];
    kexinit.extend_from_slice(&[0; 16]);
    for list in [
        "diffie-hellman-group-exchange-sha256",
        "ssh-ed25519",
        "aes128-ctr",
        "aes128-ctr",
        "hmac-sha2-256",
        "hmac-sha2-256",
        "none",
        "none",
        "",
        "",
    ] {
        ssh_string(&mut kexinit, list.as_bytes());
    }
    kexinit.extend_from_slice(&[0; 5]);
    let mut group = vec![31];
    let mut prime = vec![0];
    prime.extend(std::iter::repeat_n(0xFF, 8192));
    ssh_string(&mut group, &prime);
    ssh_string(&mut group, &[2]);
    let mut out = SSH_BANNER.to_vec();
    out.extend(ssh_packet(&kexinit));
    out.extend(ssh_packet(&group));
    let _ = s.write_all(&out);
    reset(s);
}

/// What a scan of one hostile server must end in.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// `status: "error"` with this `error.kind`.
    Error(&'static str),
    /// `status: "ok"` with a note on what could not be read.
    Partial,
}

macro_rules! cases {
    ($($name:ident: $opening:ident, $service:literal => $expect:expr;)*) => {
        /// Every case with the service it is reported as, for the fleet tests.
        pub const CASES: &[(&str, Opening, fn(&mut TcpStream), &str)] =
            &[$((stringify!($name), Opening::$opening, super::$name, $service)),*];
        $(
            #[test]
            fn $name() {
                expect_one(stringify!($name), Opening::$opening, super::$name, $service, $expect);
            }
        )*
    };
}

mod each {
    use super::*;
    // A port that never names a protocol (garbage, silence, no SSH identification within the
    // allowed lines) is reported as service "unknown".
    cases! {
        garbage: ReadsHello, "unknown" => Expect::Error("not_tls");
        silence: ReadsHello, "unknown" => Expect::Error("timeout");
        one_byte_a_second: ReadsHello, "tls" => Expect::Error("timeout");
        record_of_2_14_plus_1: ReadsHello, "tls" => Expect::Error("malformed");
        record_of_2_24: ReadsHello, "tls" => Expect::Error("malformed");
        suite_and_version_not_offered: ReadsHello, "tls" => Expect::Error("malformed");
        wrong_extension_length: ReadsHello, "tls" => Expect::Error("malformed");
        endless_alerts: ReadsHello, "tls" => Expect::Error("tls_alert");
        hello_retry_request_loop: ReadsHello, "tls" => Expect::Error("malformed");
        certificate_of_16_mib: ReadsHello, "tls" => Expect::Error("malformed");

        reset_mid_server_hello: ReadsHello, "tls" => Expect::Error("connection_reset");
        reset_mid_certificate: ReadsHello, "tls" => Expect::Partial;
        ssh_banner_of_1_mib: SpeaksFirst, "ssh" => Expect::Error("not_tls");
        ssh_10000_lines_before_the_banner: SpeaksFirst, "unknown" => Expect::Error("not_tls");
        ssh_packet_length_of_2_31: SpeaksFirst, "ssh" => Expect::Error("malformed");
        ssh_kexinit_with_10_mb_of_names: SpeaksFirst, "ssh" => Expect::Error("malformed");
        ssh_silence_after_the_banner: SpeaksFirst, "ssh" => Expect::Error("timeout");
        ssh_garbage_after_the_banner: SpeaksFirst, "ssh" => Expect::Error("malformed");
        ssh_reset_mid_banner: SpeaksFirst, "ssh" => Expect::Error("connection_reset");
        ssh_reset_mid_kexinit: SpeaksFirst, "ssh" => Expect::Error("connection_reset");
        ssh_group_exchange_of_65536_bits: SpeaksFirst, "ssh" => Expect::Partial;
    }
}

/// A scan with the suite's timeouts: its endpoint lines, exit code, wall time and peak RSS in kB.
fn run(args: &[&str]) -> (Vec<Value>, Option<i32>, Duration, u64) {
    let (lines, code, took, rss_kb) = run_lines(DEADLINE, args);
    let endpoints = lines
        .into_iter()
        .filter(|l| l["type"] == "endpoint")
        .collect();
    (endpoints, code, took, rss_kb)
}

/// A scan with this endpoint deadline: every NDJSON line, exit code, wall time and peak RSS.
fn run_lines(deadline: u64, args: &[&str]) -> (Vec<Value>, Option<i32>, Duration, u64) {
    let started = Instant::now();
    let (timeout, deadline) = (TIMEOUT.to_string(), deadline.to_string());
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M", env!("CARGO_BIN_EXE_fipsgate"), "scan"])
        .args(["--format", "ndjson", "--timeout", &timeout])
        .args(["--endpoint-timeout", &deadline])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("/usr/bin/time (.ci/run installs time): {e}"));
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let rss_kb = stderr
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak RSS from /usr/bin/time: {stderr}"));
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(!lines.is_empty(), "scan {args:?} wrote nothing: {stderr}");
    (lines, out.status.code(), took, rss_kb)
}

/// Arguments naming a hostile server's port as an SSH port when it speaks first.
fn ssh_ports(ports: &[(u16, Opening)]) -> String {
    let mut list: Vec<String> = ports
        .iter()
        .filter(|(_, o)| matches!(o, Opening::SpeaksFirst))
        .map(|(p, _)| p.to_string())
        .collect();
    list.push("22".into());
    list.join(",")
}

fn expect_one(
    name: &str,
    opening: Opening,
    behave: fn(&mut TcpStream),
    service: &str,
    expect: Expect,
) {
    let port = hostile(opening, behave);
    let target = format!("127.0.0.1:{port}");
    let (endpoints, code, took, rss_kb) =
        run(&["--ssh-ports", &ssh_ports(&[(port, opening)]), &target]);
    assert!(
        took < Duration::from_secs(DEADLINE + 5),
        "{name}: took {took:?}"
    );
    assert!(rss_kb < MAX_RSS_KB, "{name}: peak RSS {rss_kb} kB");
    assert_eq!(endpoints.len(), 1, "{name}");
    let e = &endpoints[0];
    eprintln!(
        "hostile {name}: {} {} in {} ms, peak RSS {rss_kb} kB: {} {}{}",
        e["status"],
        e["error"]["kind"],
        took.as_millis(),
        e["error"]["message"],
        e["tls"]["notes"],
        e["ssh"]["notes"]
    );

    assert_eq!(e["service"], service, "{name}: {e}");
    assert!(
        e["connections"].as_u64().is_some_and(|c| c >= 1),
        "{name}: the connections made are counted, errors too: {e}"
    );

    match expect {
        Expect::Error(kind) => {
            assert_eq!(e["status"], "error", "{name}: {e}");
            assert_eq!(e["error"]["kind"], kind, "{name}: {e}");
            assert!(
                e["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{name}: {e}"
            );
            assert_eq!(code, Some(3), "{name}: unscanned endpoints exit 3");
        }
        Expect::Partial => {
            assert_eq!(e["status"], "ok", "{name}: {e}");
            let part = if service == "ssh" {
                &e["ssh"]
            } else {
                assert!(e["tls"]["versions"].is_array(), "{name}: {e}");
                &e["tls"]
            };
            assert!(
                part["notes"].as_array().is_some_and(|n| !n.is_empty()),
                "{name}: a partial result says what it lacks: {e}"
            );
            assert!(matches!(code, Some(0 | 1)), "{name}: exit {code:?}");
        }
    }
}

#[test]
fn a_fleet_with_every_hostile_server_still_scans_the_good_ones() {
    let m = material();
    let good_tls = openssl_server(&["-cert", &m.path("ec.crt"), "-key", &m.path("ec.key")]);
    let dir = m.dir.join("keys-hostile-fleet");
    let _ = std::fs::create_dir_all(&dir);
    let host_key = keygen(&dir, "ecdsa256", &["-t", "ecdsa", "-b", "256"]);
    let good_ssh = sshd("hostile-fleet", "", &[&host_key]);
    let mut ports: Vec<(u16, Opening)> = each::CASES
        .iter()
        .map(|(_, o, b, _)| (hostile(*o, *b), *o))
        .collect();
    ports.insert(each::CASES.len() / 3, (good_tls.port, Opening::ReadsHello));
    ports.insert(
        2 * each::CASES.len() / 3,
        (good_ssh.port, Opening::SpeaksFirst),
    );
    let targets: Vec<String> = ports
        .iter()
        .map(|(p, _)| format!("127.0.0.1:{p}"))
        .collect();
    let ssh = ssh_ports(&ports);
    let mut args = vec!["--concurrency", "32", "--ssh-ports", &ssh];
    args.extend(targets.iter().map(String::as_str));

    let (endpoints, code, took, rss_kb) = run(&args);
    assert_eq!(code, Some(3), "some endpoints are errors");
    assert_eq!(endpoints.len(), targets.len());
    assert!(
        took < Duration::from_secs(DEADLINE + 10),
        "every endpoint in parallel, each within its deadline: {took:?}"
    );
    assert!(rss_kb < MAX_RSS_KB, "peak RSS {rss_kb} kB");
    let by_port = |port: u16| {
        endpoints
            .iter()
            .find(|e| e["target"]["port"] == port)
            .cloned()
            .unwrap_or_default()
    };
    let tls = by_port(good_tls.port);
    assert_eq!(tls["status"], "ok", "{tls}");
    assert_eq!(versions(&tls), ["tls1.2", "tls1.3"]);
    assert_eq!(verdict(&tls, "fips-140-3"), "fips-capable");
    let ssh = by_port(good_ssh.port);
    assert_eq!(ssh["status"], "ok", "{ssh}");
    assert_eq!(ssh["ssh"]["host_keys"][0]["key_type"], "ec");
    for e in &endpoints {
        assert!(
            e["status"] == "ok" || e["error"]["kind"].is_string(),
            "every endpoint is a result or a typed error: {e}"
        );
    }
}

/// The hostile servers on their own ports, each with the service it is reported as.
fn hostile_fleet() -> Vec<(u16, Opening, &'static str)> {
    each::CASES
        .iter()
        .map(|(_, o, b, service)| (hostile(*o, *b), *o, *service))
        .collect()
}

/// The endpoint lines and the scan_end line of a scan's output.
fn endpoints_and_end(lines: &[Value]) -> (Vec<&Value>, &Value) {
    let endpoints = lines.iter().filter(|l| l["type"] == "endpoint").collect();
    let end = lines.last().unwrap_or(&Value::Null);
    assert_eq!(end["type"], "scan_end", "{lines:?}");
    (endpoints, end)
}

/// scan_end counts exactly the lines written.
fn assert_end_counts_lines(endpoints: &[&Value], end: &Value) {
    let with = |status: &str| endpoints.iter().filter(|e| e["status"] == status).count();
    assert_eq!(end["endpoints"].as_u64(), Some(endpoints.len() as u64));
    assert_eq!(end["errors"].as_u64(), Some(with("error") as u64));
}

#[test]
fn a_port_list_scan_accounts_for_every_open_port() {
    // Issue #16: `scan -p LIST 127.0.0.1` over every hostile server and one closed port.
    let fleet = hostile_fleet();
    let closed = free_port();
    let mut list: Vec<String> = fleet.iter().map(|(p, _, _)| p.to_string()).collect();
    list.push(closed.to_string());
    let list = list.join(",");
    let opened: Vec<(u16, Opening)> = fleet.iter().map(|(p, o, _)| (*p, *o)).collect();
    let ssh = ssh_ports(&opened);
    let base = ["--concurrency", "32", "--ssh-ports", &ssh, "-p", &list];
    let scan = |extra: &[&str], deadline: u64| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        args.push("127.0.0.1");
        run_lines(deadline, &args)
    };

    let (lines, code, took, _) = scan(&[], DEADLINE);
    let (endpoints, end) = endpoints_and_end(&lines);
    eprintln!("port list of {} hostile ports: {took:?}", fleet.len());
    for (port, _, service) in &fleet {
        let mine: Vec<&&Value> = endpoints
            .iter()
            .filter(|e| e["target"]["port"] == *port)
            .collect();
        assert_eq!(mine.len(), 1, "port {port}: exactly one line: {mine:?}");
        assert_eq!(mine[0]["service"], *service, "{}", mine[0]);
        assert!(
            mine[0]["status"] == "ok" || mine[0]["error"]["kind"].is_string(),
            "{}",
            mine[0]
        );
    }
    assert_eq!(
        endpoints.len(),
        fleet.len(),
        "the closed port is not a line"
    );
    assert_end_counts_lines(&endpoints, end);
    assert_eq!(
        (end["closed"].as_u64(), end["filtered"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(
        code,
        Some(3),
        "open ports that could not be scanned are errors"
    );

    // --all-ports lists the closed port too, as closed.
    let (lines, code, _, _) = scan(&["--all-ports"], DEADLINE);
    let (endpoints, end) = endpoints_and_end(&lines);
    assert_eq!(endpoints.len(), fleet.len() + 1);
    let shut = endpoints.iter().find(|e| e["target"]["port"] == closed);
    assert_eq!(shut.map(|e| &e["status"]), Some(&Value::from("closed")));
    assert_eq!(
        shut.map(|e| &e["error"]["kind"]),
        Some(&Value::from("connect_refused"))
    );
    assert_end_counts_lines(&endpoints, end);
    assert_eq!(end["closed"].as_u64(), Some(1));
    assert_eq!(code, Some(3));

    // Two shards together account for every open port once, each counting its own lines.
    let mut seen: Vec<u64> = Vec::new();
    let mut first_shard = Vec::new();
    for shard in ["0/2", "1/2"] {
        let (lines, _, _, _) = scan(&["--shard", shard], DEADLINE);
        let (endpoints, end) = endpoints_and_end(&lines);
        assert_end_counts_lines(&endpoints, end);
        seen.extend(
            endpoints
                .iter()
                .filter_map(|e| e["target"]["port"].as_u64()),
        );
        if first_shard.is_empty() {
            first_shard = lines.clone();
        }
    }
    seen.sort_unstable();
    let mut want: Vec<u64> = fleet.iter().map(|(p, _, _)| u64::from(*p)).collect();
    want.sort_unstable();
    assert_eq!(seen, want);

    // --resume after an interrupted scan (the first shard's lines) scans the rest only.
    let saved = material()
        .dir
        .join(format!("resume-{}.ndjson", free_port()));
    let partial: String = first_shard
        .iter()
        .filter(|l| l["type"] != "scan_end")
        .map(|l| format!("{l}\n"))
        .collect();
    let _ = std::fs::write(&saved, partial);
    let saved = saved.display().to_string();
    let (rest, _, _, _) = scan(&["--resume", &saved], DEADLINE);
    let (endpoints, end) = endpoints_and_end(&rest);
    assert_end_counts_lines(&endpoints, end);
    let (done, _) = endpoints_and_end(&first_shard);
    assert_eq!(done.len() + endpoints.len(), fleet.len());

    // An endpoint deadline that expires still leaves one line per open port.
    let (lines, code, _, _) = scan(&[], 1);
    let (endpoints, end) = endpoints_and_end(&lines);
    assert_eq!(endpoints.len(), fleet.len());
    assert_end_counts_lines(&endpoints, end);
    assert!(endpoints.iter().any(|e| e["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("deadline"))));
    assert_eq!(code, Some(3));
}
