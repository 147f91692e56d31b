//! Table rows that once disagreed with each other or with their source, one test a row: the
//! verdict, the source that decides it, and that the same fact gets the same verdict wherever
//! it appears.
use fipsgate_cipher_db::assess::{PublicKey, SshOffer};
use fipsgate_cipher_db::policy::{Judgement, Policy};
use fipsgate_cipher_db::{EndpointVerdict, Item, Kind, Verdict};

fn policy(name: &str) -> Policy {
    Policy::builtin(name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn judge(policy: &Policy, name: &str, kind: Kind) -> Judgement {
    let item = Item::lookup(name, Some(kind))
        .pop()
        .unwrap_or_else(|| panic!("cipher-db does not know {kind} {name}"));
    policy.judge(&item)
}

fn verdict_and_source(policy: &Policy, name: &str, kind: Kind) -> (Verdict, String) {
    let j = judge(policy, name, kind);
    let source = j.primary().map(|r| r.source.clone()).unwrap_or_default();
    (j.verdict, source)
}

#[test]
fn psk_suites_are_judged_one_by_one_as_sp800_52r2_appendix_c_lists_them() {
    let p = policy("fips-140-3");
    let listed = [
        "TLS_PSK_WITH_AES_128_GCM_SHA256",
        "TLS_PSK_WITH_AES_256_CCM",
        "TLS_PSK_WITH_AES_128_CCM_8",
        "TLS_PSK_WITH_AES_256_CBC_SHA384",
        "TLS_PSK_WITH_AES_128_CBC_SHA",
        "TLS_DHE_PSK_WITH_AES_256_GCM_SHA384",
        "TLS_DHE_PSK_WITH_AES_128_CCM",
        "TLS_PSK_DHE_WITH_AES_256_CCM_8",
        "TLS_DHE_PSK_WITH_AES_128_CBC_SHA256",
        "TLS_DHE_PSK_WITH_AES_256_CBC_SHA",
        "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256",
        "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384",
        "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA",
    ];
    for name in listed {
        assert_eq!(
            verdict_and_source(&p, name, Kind::TlsSuite),
            (Verdict::Approved, "SP800-52r2".to_owned()),
            "{name}"
        );
    }
    // ECDHE_PSK with GCM or CCM (RFC 8442) is not on the list, nor is RSA_PSK or a non-AES cipher.
    let unlisted = [
        "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256",
        "TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256",
        "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256",
        "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_DHE_PSK_WITH_CAMELLIA_128_GCM_SHA256",
    ];
    for name in unlisted {
        assert_eq!(
            judge(&p, name, Kind::TlsSuite).verdict,
            Verdict::NotApproved,
            "{name}"
        );
    }
    assert_eq!(
        judge(&p, "TLS_PSK_WITH_NULL_SHA256", Kind::TlsSuite).verdict,
        Verdict::Disallowed
    );
}

#[test]
fn brainpool_keys_and_brainpool_signature_schemes_share_one_verdict() {
    let p = policy("fips-140-3");
    for (curve, scheme) in [
        ("brainpoolP256r1", "ecdsa_brainpoolP256r1tls13_sha256"),
        ("brainpoolP384r1", "ecdsa_brainpoolP384r1tls13_sha384"),
        ("brainpoolP512r1", "ecdsa_brainpoolP512r1tls13_sha512"),
    ] {
        let key = p.judge(&Item::key("ec", Some(curve), 256));
        let sig = judge(&p, scheme, Kind::TlsSigalg);
        assert_eq!(key.verdict, Verdict::NotApproved, "{curve}");
        assert_eq!(sig.verdict, key.verdict, "{scheme}");
        assert_eq!(sig.primary(), key.primary(), "{scheme}");
    }
}

#[test]
fn each_curve_has_one_verdict_in_tls_and_in_ssh() {
    let p = policy("fips-140-3");
    // RFC 5656 10.1 and 10.2: the SSH ECDH methods and the curves they name.
    for (kex, group, want) in [
        ("ecdh-sha2-nistp256", "secp256r1", Verdict::Approved),
        ("ecdh-sha2-nistp384", "secp384r1", Verdict::Approved),
        ("ecdh-sha2-nistp521", "secp521r1", Verdict::Approved),
        ("ecdh-sha2-1.3.132.0.33", "secp224r1", Verdict::Approved),
        (
            "ecdh-sha2-1.2.840.10045.3.1.1",
            "secp192r1",
            Verdict::NotApproved,
        ),
        ("ecdh-sha2-1.3.132.0.10", "secp256k1", Verdict::NotApproved),
        ("ecdh-sha2-1.3.132.0.1", "sect163k1", Verdict::NotApproved),
        ("ecdh-sha2-1.3.132.0.26", "sect233k1", Verdict::Deprecated),
        ("ecdh-sha2-1.3.132.0.27", "sect233r1", Verdict::Deprecated),
        ("ecdh-sha2-1.3.132.0.16", "sect283k1", Verdict::Deprecated),
        ("ecdh-sha2-1.3.132.0.36", "sect409k1", Verdict::Deprecated),
        ("ecdh-sha2-1.3.132.0.37", "sect409r1", Verdict::Deprecated),
        ("ecdh-sha2-1.3.132.0.38", "sect571k1", Verdict::Deprecated),
        ("curve25519-sha256", "x25519", Verdict::NotApproved),
        ("curve448-sha512", "x448", Verdict::NotApproved),
    ] {
        let in_tls = judge(&p, group, Kind::TlsGroup).verdict;
        let in_ssh = judge(&p, kex, Kind::SshKex).verdict;
        assert_eq!((in_tls, in_ssh), (want, want), "{kex} / {group}");
    }
    let p224 = judge(&p, "ecdh-sha2-1.3.132.0.33", Kind::SshKex);
    assert!(p224.reasons.iter().any(|r| r.source == "SP800-56Ar3"));
    let k233 = judge(&p, "ecdh-sha2-1.3.132.0.26", Kind::SshKex);
    assert_eq!(k233.primary().map(|r| r.source.as_str()), Some("IG-C.K"));
}

#[test]
fn truncated_hmacs_follow_one_rule_the_verdict_of_their_hash() {
    let p = policy("fips-140-3");
    for (truncated, full) in [
        ("hmac-sha2-256-96", "hmac-sha2-256"),
        ("hmac-sha2-512-96", "hmac-sha2-512"),
        ("hmac-sha1-96", "hmac-sha1"),
        ("hmac-sha1-96-etm@openssh.com", "hmac-sha1-etm@openssh.com"),
        ("hmac-md5-96", "hmac-md5"),
        ("hmac-sha256-96@ssh.com", "hmac-sha256@ssh.com"),
    ] {
        let t = judge(&p, truncated, Kind::SshMac);
        let f = judge(&p, full, Kind::SshMac);
        assert_eq!(t.verdict, f.verdict, "{truncated} against {full}");
        assert!(
            t.reasons
                .iter()
                .any(|r| r.source == "FIPS198-1" && r.note.is_some()),
            "{truncated}: {t:?}"
        );
    }
    assert_eq!(
        judge(&p, "hmac-sha2-256-96", Kind::SshMac).verdict,
        Verdict::Approved
    );
    assert_eq!(
        judge(&p, "hmac-sha1-96", Kind::SshMac).verdict,
        Verdict::Deprecated
    );
}

#[test]
fn rhel8_fips_refuses_rsa_host_keys_under_2048_bits_as_its_crypto_policy_does() {
    let p = policy("rhel8-fips");
    assert_eq!(p.keys.rsa_min_bits, 2048);
    assert_eq!(p.keys.source, "RHEL-FIPS-POLICY");
    let offer = SshOffer {
        kex: vec!["ecdh-sha2-nistp256".into()],
        host_key_algorithms: vec!["rsa-sha2-256".into()],
        ciphers_client_to_server: vec!["aes256-ctr".into()],
        ciphers_server_to_client: vec!["aes256-ctr".into()],
        macs_client_to_server: vec!["hmac-sha2-256".into()],
        macs_server_to_client: vec!["hmac-sha2-256".into()],
        compression: vec!["none".into()],
        host_keys: vec![PublicKey {
            key: "rsa".into(),
            curve: None,
            bits: 1024,
        }],
        gex_moduli_bits: vec![],
    };
    let a = p.assess_ssh(&offer);
    assert_eq!(
        a.as_ref().map(|a| a.verdict),
        Some(EndpointVerdict::NotFipsCapable)
    );
    assert!(a
        .iter()
        .flat_map(|a| &a.findings)
        .any(|f| f.verdict == Verdict::Disallowed && f.source == "RHEL-FIPS-POLICY"));
}
