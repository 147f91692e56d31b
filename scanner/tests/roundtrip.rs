//! Round-trip properties of the encoder/decoder pairs: the wire codecs (whatever is encoded
//! decodes to the same thing, however the bytes are split on arrival), and the NDJSON report,
//! which `fipsgate report`, `diff` and `--resume` read back.
use fipsgate_cipher_db::assess::TlsFeatures;
use fipsgate_cipher_db::policy::Policy;
use fipsgate_cipher_db::tls::TlsVersion;
use fipsgate_scanner::observation::{
    CodeName, DhInfo, Features, SuiteRef, TlsObservation, Undetermined, VersionResult,
};
use fipsgate_scanner::report::line::Line;
use fipsgate_scanner::report::{EndpointReport, Target};
use fipsgate_scanner::wire::{record, ssh, Reader};
use proptest::prelude::*;

/// Splits `bytes` at the given cut points (modulo its length), in order.
fn pieces(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    at.sort_unstable();
    let mut out = Vec::new();
    let mut from = 0;
    for c in at {
        out.push(bytes[from..c].to_vec());
        from = c;
    }
    out.push(bytes[from..].to_vec());
    out
}

fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

/// An SSH name-list: names of letters, digits and `@.-`, no empty names.
fn name_list() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec("[a-z0-9@.-]{1,40}", 0..12)
}

/// Any observation a TLS probe could record, unknown code points included.
fn tls_observation() -> impl Strategy<Value = TlsObservation> {
    let versions = [
        TlsVersion::Ssl3,
        TlsVersion::Tls10,
        TlsVersion::Tls11,
        TlsVersion::Tls12,
        TlsVersion::Tls13,
    ];
    let version = (
        proptest::sample::select(versions.to_vec()),
        proptest::collection::vec(any::<u16>(), 0..8),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(version, suites, server_preference)| VersionResult {
            version,
            cipher_suites: suites.into_iter().map(SuiteRef::tls).collect(),
            server_preference,
        });
    let flag = || proptest::option::of(any::<bool>());
    let judged = (flag(), flag(), flag(), flag(), flag(), flag(), flag()).prop_map(
        |(ems, reneg, scsv, etm, ocsp, compression, early)| TlsFeatures {
            extended_master_secret: ems,
            secure_renegotiation: reneg,
            fallback_scsv: scsv,
            encrypt_then_mac: etm,
            ocsp_stapling: ocsp,
            compression,
            early_data: early,
        },
    );
    (
        proptest::collection::vec(version, 0..4),
        proptest::collection::vec(any::<u16>(), 0..6),
        proptest::collection::vec(any::<u16>(), 0..6),
        proptest::collection::vec((512u32..9000, proptest::option::of("ffdhe[0-9]{4}")), 0..2),
        (judged, flag(), flag(), proptest::option::of("[ -~]{0,12}")),
        (
            proptest::collection::vec("\\PC{0,40}", 0..3),
            proptest::option::of("\\PC{0,40}"),
        ),
    )
        .prop_map(
            |(versions, groups, sigalgs, dh, (judged, ticket, hrr, alpn), (notes, unsure))| {
                TlsObservation {
                    versions,
                    groups: groups.into_iter().map(CodeName::group).collect(),
                    signature_schemes: sigalgs.into_iter().map(CodeName::sigalg).collect(),
                    certificates: Vec::new(),
                    dh_params: dh
                        .into_iter()
                        .map(|(bits, named_group)| DhInfo { bits, named_group })
                        .collect(),
                    features: Features {
                        judged,
                        session_ticket: ticket,
                        hello_retry_request: hrr,
                        alpn,
                    },
                    notes,
                    undetermined: unsure
                        .into_iter()
                        .map(|note| Undetermined::new("tls1.3", note))
                        .collect(),
                }
            },
        )
}

proptest! {
    /// A report line reads back as the same line, its observation unchanged, and judging it
    /// again under every built-in policy gives the same line (what `fipsgate report` does
    /// offline).
    #[test]
    fn endpoint_reports_read_back_and_rejudge_the_same(obs in tls_observation(), n in any::<u32>()) {
        static POLICIES: std::sync::OnceLock<Vec<Policy>> = std::sync::OnceLock::new();
        let policies = POLICIES.get_or_init(|| Policy::builtins().unwrap_or_default());
        prop_assert_eq!(policies.len(), fipsgate_cipher_db::policy::builtin_names().count());
        let target = Target { host: "h".into(), ip: Some("127.0.0.1".into()), port: 443 };
        let report = EndpointReport::tls(target.clone(), "tls", obs.clone(), policies, n, 7);
        let text = serde_json::to_string(&report).map_err(fail)?;
        let mut line = serde_json::to_value(&report).map_err(fail)?;
        // The whole line reads back through the type `report`, `diff` and `--resume` use.
        let Line::Endpoint(saved) = Line::parse(&text).map_err(fail)? else {
            return Err(TestCaseError::fail("an endpoint line read back as another line"));
        };
        prop_assert_eq!(saved.tls.as_ref(), Some(&obs));
        prop_assert_eq!(saved.findings.len(), report.findings.len());
        let back = saved.tls.unwrap_or_default();
        let again = EndpointReport::tls(target, "tls", back, policies, n, 7);
        let mut line_again = serde_json::to_value(&again).map_err(fail)?;
        for l in [&mut line, &mut line_again] {
            if let Some(o) = l.as_object_mut() {
                o.remove("scanned_at");
            }
        }
        prop_assert_eq!(line_again, line);
    }

    #[test]
    fn tls_records_and_handshake_messages(
        typ in 1u8..=24,
        body in proptest::collection::vec(any::<u8>(), 0..40_000),
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
    ) {
        let mut message = vec![typ];
        message.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        message.extend_from_slice(&body);
        let wire = record::encode(22, 0x0303, &message);
        let mut records = record::RecordDecoder::default();
        let mut handshakes = record::HandshakeReassembler::new(1 << 20);
        let mut got = Vec::new();
        for piece in pieces(&wire, &cuts) {
            records.push(&piece);
            while let Some(r) = records.next_record().map_err(fail)? {
                prop_assert_eq!((r.content_type, r.version), (22, 0x0303));
                prop_assert!(r.payload.len() <= 16384);
                handshakes.push(&r.payload);
                while let Some(m) = handshakes.next_message().map_err(fail)? {
                    got.push(m);
                }
            }
        }
        prop_assert_eq!(got.len(), 1);
        prop_assert_eq!(got[0].typ, typ);
        prop_assert_eq!(&got[0].body, &body);
        prop_assert_eq!(records.buffered(), 0);
    }

    #[test]
    fn ssh_packets(
        payload in proptest::collection::vec(any::<u8>(), 1..5000),
        trailing in proptest::collection::vec(any::<u8>(), 0..16),
    ) {
        let mut wire = ssh::encode_packet(&payload);
        let len = wire.len();
        prop_assert_eq!(len % 8, 0);
        // A prefix is incomplete, never an error.
        prop_assert_eq!(ssh::split_packet(&wire[..len - 1]).ok(), Some(None));
        wire.extend_from_slice(&trailing);
        let (got, used) = ssh::split_packet(&wire)
            .map_err(fail)?
            .ok_or_else(|| fail("incomplete"))?;
        prop_assert_eq!(got, payload);
        prop_assert_eq!(used, len);
    }

    #[test]
    fn ssh_strings(items in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..8)) {
        let mut out = Vec::new();
        for i in &items {
            ssh::put_string(&mut out, i);
        }
        let mut r = Reader::new(&out);
        for i in &items {
            let got = ssh::get_string(&mut r, "string").map_err(fail)?;
            prop_assert_eq!(got, i.as_slice());
        }
        prop_assert!(ssh::get_string(&mut r, "string").is_err(), "nothing left");
    }

    #[test]
    fn kexinit(
        lists in proptest::collection::vec(name_list(), 10),
        follows in any::<bool>(),
        cookie in any::<[u8; 16]>(),
    ) {
        let k = ssh::KexInit {
            kex: lists[0].clone(),
            host_key: lists[1].clone(),
            ciphers_client_to_server: lists[2].clone(),
            ciphers_server_to_client: lists[3].clone(),
            macs_client_to_server: lists[4].clone(),
            macs_server_to_client: lists[5].clone(),
            compression_client_to_server: lists[6].clone(),
            compression_server_to_client: lists[7].clone(),
            languages_client_to_server: lists[8].clone(),
            languages_server_to_client: lists[9].clone(),
            first_kex_packet_follows: follows,
        };
        let parsed = ssh::KexInit::parse(&k.encode(cookie)).map_err(fail)?;
        prop_assert_eq!(parsed, k);
    }

    #[test]
    fn timestamps(secs in -62_135_596_800i64..253_402_300_799) {
        let text = fipsgate_cipher_db::time::rfc3339(secs);
        prop_assert_eq!(fipsgate_cipher_db::time::parse_rfc3339(&text), Some(secs));
    }
}
