//! The body of every fuzz target, shared by the libFuzzer binaries in fuzz_targets/ and by the
//! stable test that replays the committed corpus in CI (tests/fuzz_corpus.rs). Each takes any
//! bytes; the property is that it returns (no panic, no hang, bounded allocation).
#![allow(dead_code)]

use fipsgate_scanner::wire::{alert, certificate, record, server_hello, server_key_exchange, ssh};

/// A server's TLS flight: records framed, handshake messages reassembled (at most 64 KiB each,
/// as the scanner is configured in the fuzzing), and every message parsed by its type.
pub fn tls_flight(data: &[u8]) {
    let _ = record::classify(data);
    let _ = server_hello::Sslv2ServerHello::parse_record(data);
    let mut records = record::RecordDecoder::default();
    let mut handshakes = record::HandshakeReassembler::new(64 * 1024);
    // Feed in two pieces to exercise partial records.
    let cut = data.len() / 2;
    for piece in [&data[..cut], &data[cut..]] {
        records.push(piece);
        while let Ok(Some(rec)) = records.next_record() {
            match rec.content_type {
                21 => {
                    let _ = alert::Alert::parse(&rec.payload);
                }
                22 => {
                    handshakes.push(&rec.payload);
                    while let Ok(Some(m)) = handshakes.next_message() {
                        handshake_message(m.typ, &m.body);
                    }
                }
                _ => {}
            }
        }
    }
}

fn handshake_message(typ: u8, body: &[u8]) {
    match typ {
        2 => {
            let _ = server_hello::ServerHello::parse(body);
        }
        11 => {
            let _ = certificate::parse_tls12(body);
            let _ = certificate::parse_tls13(body);
        }
        12 => {
            for kind in [
                server_key_exchange::KeyExchangeKind::Dhe,
                server_key_exchange::KeyExchangeKind::Ecdhe,
            ] {
                for (tls12, signed) in [(true, true), (false, true), (true, false)] {
                    let _ = server_key_exchange::parse(body, kind, tls12, signed);
                }
            }
        }
        _ => {}
    }
}

/// An SSH server's bytes: identification lines, then binary packets, each payload parsed as the
/// message it claims to be; host keys and signatures inside kex replies too.
pub fn ssh_stream(data: &[u8]) {
    let mut rest = data;
    // Pre-banner lines and the identification line.
    for _ in 0..16 {
        let Some(end) = rest.iter().position(|b| *b == b'\n') else {
            break;
        };
        let _ = ssh::parse_banner_line(&rest[..=end]);
        rest = &rest[end + 1..];
    }
    let mut buf = rest;
    for _ in 0..64 {
        match ssh::split_packet(buf) {
            Ok(Some((payload, used))) => {
                ssh_payload(&payload);
                buf = buf.get(used..).unwrap_or_default();
            }
            _ => break,
        }
    }
    ssh_payload(data);
}

fn ssh_payload(payload: &[u8]) {
    let _ = ssh::KexInit::parse(payload);
    if let Ok(reply) = ssh::KexReply::parse(payload) {
        let _ = ssh::HostKey::parse_with_certificate(&reply.host_key);
        if let Ok((_, sig)) = ssh::parse_signature(&reply.signature) {
            for field in [32, 48, 66] {
                let _ = ssh::ecdsa_fixed(&sig, field);
            }
        }
    }
    let _ = ssh::HostKey::parse_with_certificate(payload);
    let _ = ssh::gex_group_bits(payload);
    let _ = ssh::unsigned_bits(payload);
}

/// A certificate as the scanner summarizes it.
pub fn x509(data: &[u8]) {
    let _ = fipsgate_scanner::probe::certs::summarize(data);
}

/// `sshd -T` output and an sshd_config file.
pub fn sshd_config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = fipsgate_scanner::audit::config::from_sshd_t(&text, "fuzz");
    let path = std::env::temp_dir().join(format!("fipsgate-fuzz-sshd-{}", std::process::id()));
    if std::fs::write(&path, data).is_ok() {
        let _ = fipsgate_scanner::audit::config::read(&path);
    }
}

/// A policy file.
pub fn policy_toml(data: &[u8]) {
    let _ =
        fipsgate_cipher_db::policy::Policy::from_text("fuzz.toml", &String::from_utf8_lossy(data));
}

/// A proxy configuration.
pub fn proxy_toml(data: &[u8]) {
    let _ = fipsgate_proxy::config::Config::parse(
        &String::from_utf8_lossy(data),
        "fuzz.toml",
        std::path::Path::new("/nonexistent"),
    );
}

/// Target specifications, port lists and shards, a line each.
pub fn targets(data: &[u8]) {
    use fipsgate_scanner::target::{parse_ports, Shard, TargetPattern, TargetSpec};
    for line in String::from_utf8_lossy(data).lines() {
        if let Ok(p) = TargetPattern::parse(line) {
            // Expanding is lazy; look at a few endpoints only.
            let list = fipsgate_scanner::target::TargetList::new(vec![p], vec![443], Vec::new());
            let _ = list.count();
            let _ = list.endpoints().take(4).count();
        }
        let _ = TargetSpec::parse(line, 443);
        let _ = parse_ports(line);
        let _ = Shard::parse(line);
    }
}

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// Every target, by name, for the corpus replay.
pub const ALL: &[(&str, Target)] = &[
    ("tls_flight", tls_flight),
    ("ssh_stream", ssh_stream),
    ("x509", x509),
    ("sshd_config", sshd_config),
    ("policy_toml", policy_toml),
    ("proxy_toml", proxy_toml),
    ("targets", targets),
];
