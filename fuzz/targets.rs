//! The body of every fuzz target, shared by the libFuzzer binaries in fuzz_targets/ and by the
//! stable test that replays the committed corpus in CI (tests/fuzz_corpus.rs). Each takes any
//! bytes; the property is that it returns (no panic, no hang, bounded allocation).
#![allow(dead_code)]

use fipsgate_scanner::wire::{
    certificate, flight, server_hello, server_key_exchange, ssh, ssh_stream,
};

/// A server's TLS answer as the probe reads it: the probe's own sans-IO flight reader
/// (records framed, handshake messages reassembled up to 64 KiB each and dispatched by type), fed
/// in two pieces to exercise partial records, then the ServerKeyExchange it kept parsed as the
/// probe parses it; the SSL 2.0 ServerHello and TLS 1.3 Certificate parsers on the raw bytes.
pub fn tls_flight(data: &[u8]) {
    let _ = server_hello::Sslv2ServerHello::parse_record(data);
    let _ = certificate::parse_tls13(data);
    let mut reader = flight::FlightReader::new(64 * 1024);
    let cut = data.len() / 2;
    let mut answer = None;
    for piece in [&data[..cut], &data[cut..]] {
        match reader.push(piece) {
            Ok(None) => {}
            Ok(Some(a)) => {
                answer = Some(a);
                break;
            }
            Err(_) => return,
        }
    }
    let _ = reader.buffered();
    let answer = match answer {
        Some(a) => a,
        None => reader.closed(),
    };
    if let flight::Answer::Hello(hello, flight) = answer {
        let _ = hello.negotiated_version();
        if let Some(body) = flight.key_exchange {
            for kind in [
                server_key_exchange::KeyExchangeKind::Dhe,
                server_key_exchange::KeyExchangeKind::Ecdhe,
            ] {
                for (tls12, signed) in [(true, true), (false, true), (true, false)] {
                    let _ = server_key_exchange::parse(&body, kind, tls12, signed);
                }
            }
        }
    }
}

/// An SSH server's bytes as the probe reads them: the probe's own sans-IO identification and
/// packet readers (fed in two pieces), then the messages in the order the probe awaits them
/// (KEXINIT, then the kex reply or group-exchange group and reply), each parsed as the probe
/// parses it; the payload parsers on the raw bytes too.
pub fn ssh_stream(data: &[u8]) {
    let mut greeting = ssh_stream::GreetingReader::default();
    let cut = data.len() / 2;
    let mut rest = None;
    for piece in [&data[..cut], &data[cut..]] {
        match greeting.push(piece) {
            Ok(None) => {}
            Ok(Some(g)) => {
                rest = Some(g.rest);
                break;
            }
            Err(_) => break,
        }
    }
    let _ = greeting.names_ssh();
    // Without an identification, read the bytes as packets anyway: more of the reader is reached.
    let mut packets = ssh_stream::PacketReader::new(rest.unwrap_or_else(|| data.to_vec()));
    for want in [
        ssh::msg::KEXINIT,
        ssh::msg::KEX_ECDH_REPLY,
        ssh::msg::KEX_DH_GEX_REPLY,
    ] {
        match packets.next_message(want) {
            Ok(Some(payload)) => ssh_payload(&payload),
            _ => break,
        }
    }
    ssh_payload(data);
}

fn ssh_payload(payload: &[u8]) {
    let _ = ssh::KexInit::parse(payload);
    let number = payload.first().copied().unwrap_or_default();
    if let Ok(reply) = ssh::KexReply::parse(payload, number) {
        let _ = ssh::HostKey::parse_with_certificate(&reply.host_key);
        if let Ok((_, sig)) = ssh::parse_signature(&reply.signature) {
            for field in [32, 48, 66] {
                let _ = ssh::ecdsa_fixed(&sig, field);
            }
        }
    }
    let _ = ssh::HostKey::parse_with_certificate(payload);
    if let Ok(group) = ssh::GexGroup::parse(payload) {
        let _ = group.bits();
    }
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

/// An OCSP responder's answer about a client certificate, as the proxy checks it: the response
/// parsed, its signer found (the CA or a delegated responder it carries) and its signature
/// verified with the FIPS provider, the certificate's entry and times read. The certificate and
/// its CA are fixed (proxy/testdata/ocsp/), and so is the time, so that the seeds' signatures verify.
pub fn ocsp_response(data: &[u8]) {
    use fipsgate_proxy::ocsp::{evaluate, Query};
    const ISSUER: &[u8] = include_bytes!("../proxy/testdata/ocsp/issuer.der");
    const LEAF: &[u8] = include_bytes!("../proxy/testdata/ocsp/leaf.der");
    // 2027-01-15, inside the seeds' validity.
    const NOW: u64 = 1_800_000_000;
    let provider = rustls::crypto::default_fips_provider();
    if let Ok(query) = Query::new(LEAF, ISSUER) {
        let _ = evaluate(data, &query, ISSUER, NOW, &provider);
    }
}

/// What a client sends before TLS to a STARTTLS front, for each protocol: the proxy's side of
/// the dialogue (lines, LDAP BER, PostgreSQL packets); and the same bytes as a backend's
/// greeting.
pub fn starttls_client(data: &[u8]) {
    use fipsgate_proxy::config::Starttls;
    use fipsgate_proxy::starttls::{negotiate, skip_greeting};
    use tokio::io::AsyncWriteExt;
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().build() else {
        return;
    };
    runtime.block_on(async {
        for proto in [
            Starttls::Smtp,
            Starttls::Imap,
            Starttls::Pop3,
            Starttls::Ldap,
            Starttls::Postgres,
            Starttls::Ftp,
        ] {
            let (mut client, mut server) = tokio::io::duplex(128 * 1024);
            let _ = client.write_all(data).await;
            let _ = client.shutdown().await;
            let _ = negotiate(proto, &mut server).await;
            let (mut backend, mut proxy) = tokio::io::duplex(128 * 1024);
            let _ = backend.write_all(data).await;
            let _ = backend.shutdown().await;
            let _ = skip_greeting(proto, &mut proxy).await;
        }
    });
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
    ("ocsp_response", ocsp_response),
    ("starttls_client", starttls_client),
];
