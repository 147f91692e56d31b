//! What an SSH client's identification and KEXINIT may hold, as data: each rule with the clause
//! it comes from, and checks that name every rule broken. The probe builds its KEXINITs to keep
//! them, echoing only names that are valid, and a test checks every KEXINIT it can build.
use super::hello_rules::Rule;
use super::ssh::KexInit;

/// The identification line is `SSH-2.0-softwareversion [SP comments]`, printable US-ASCII, at
/// most 255 characters with its CR LF (RFC 4253 4.2).
pub const IDENTIFICATION: Rule = Rule {
    id: "ssh-identification",
    clause: "RFC 4253 4.2",
    text: "the identification is SSH-2.0-softwareversion, printable US-ASCII without spaces or minus signs in softwareversion, at most 255 characters with its CR LF",
};

/// Every list of a KEXINIT but the languages names at least one algorithm (RFC 4253 7.1).
pub const LISTS_NOT_EMPTY: Rule = Rule {
    id: "kexinit-lists-not-empty",
    clause: "RFC 4253 7.1",
    text: "kex, host key, cipher, MAC and compression lists each name at least one algorithm",
};

/// Algorithm names are printable US-ASCII without commas or whitespace, at most 64 characters,
/// and a name with `@` has one `@` with a domain after it (RFC 4251 6).
pub const NAMES: Rule = Rule {
    id: "algorithm-names",
    clause: "RFC 4251 6",
    text: "algorithm names are 1-64 printable US-ASCII characters without commas or whitespace, with at most one @ followed by a domain",
};

/// No guessed key exchange packet follows unless the first kex method is a guess the client
/// sends (RFC 4253 7.1); the probe never guesses.
pub const NO_GUESS: Rule = Rule {
    id: "first-kex-packet-follows",
    clause: "RFC 4253 7.1",
    text: "first_kex_packet_follows is false: the client sends no guessed key exchange packet",
};

/// Whether a name is a valid algorithm name (RFC 4251 6).
pub fn valid_name(name: &str) -> bool {
    let printable = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_graphic() && b != b',' && b != b'@')
    };
    name.len() <= 64
        && match name.split_once('@') {
            None => printable(name),
            Some((local, domain)) => printable(local) && printable(domain) && domain.contains('.'),
        }
}

/// The rules an identification line (without CR LF) breaks.
pub fn identification_violations(line: &str) -> Vec<&'static Rule> {
    let software = line
        .strip_prefix("SSH-2.0-")
        .map(|rest| rest.split(' ').next().unwrap_or_default());
    let ok = line.len() + 2 <= 255
        && line.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
        && software.is_some_and(|s| !s.is_empty() && !s.contains('-'));
    if ok {
        Vec::new()
    } else {
        vec![&IDENTIFICATION]
    }
}

/// The rules a client KEXINIT breaks.
pub fn kexinit_violations(k: &KexInit) -> Vec<&'static Rule> {
    let lists = [
        &k.kex,
        &k.host_key,
        &k.ciphers_client_to_server,
        &k.ciphers_server_to_client,
        &k.macs_client_to_server,
        &k.macs_server_to_client,
        &k.compression_client_to_server,
        &k.compression_server_to_client,
    ];
    let mut out: Vec<&'static Rule> = Vec::new();
    if lists.iter().any(|l| l.is_empty()) {
        out.push(&LISTS_NOT_EMPTY);
    }
    let languages = [&k.languages_client_to_server, &k.languages_server_to_client];
    if lists
        .iter()
        .chain(languages.iter())
        .flat_map(|l| l.iter())
        .any(|n| !valid_name(n))
    {
        out.push(&NAMES);
    }
    if k.first_kex_packet_follows {
        out.push(&NO_GUESS);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_rfc_4251() {
        for good in [
            "aes128-ctr",
            "chacha20-poly1305@openssh.com",
            "ecdh-sha2-1.3.132.0.10",
        ] {
            assert!(valid_name(good), "{good}");
        }
        let long = "a".repeat(65);
        for bad in ["", "a,b", "a b", "x@y@z.com", "x@nodomain", &long, "é"] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn identification_lines() {
        assert!(identification_violations("SSH-2.0-fipsgate_0.1.0").is_empty());
        assert!(identification_violations("SSH-2.0-OpenSSH_9.2 Debian").is_empty());
        assert!(!identification_violations("SSH-1.5-old").is_empty());
        assert!(!identification_violations("SSH-2.0-has-minus").is_empty());
    }

    #[test]
    fn kexinit_faults_are_named() {
        let good = KexInit {
            kex: vec!["curve25519-sha256".into()],
            host_key: vec!["ssh-ed25519".into()],
            ciphers_client_to_server: vec!["aes128-ctr".into()],
            ciphers_server_to_client: vec!["aes128-ctr".into()],
            macs_client_to_server: vec!["hmac-sha2-256".into()],
            macs_server_to_client: vec!["hmac-sha2-256".into()],
            compression_client_to_server: vec!["none".into()],
            compression_server_to_client: vec!["none".into()],
            ..Default::default()
        };
        assert!(kexinit_violations(&good).is_empty());
        let mut bad = good.clone();
        bad.host_key.clear();
        bad.macs_client_to_server = vec!["a b".into()];
        bad.first_kex_packet_follows = true;
        let ids: Vec<&str> = kexinit_violations(&bad).iter().map(|r| r.id).collect();
        assert_eq!(
            ids,
            [
                "kexinit-lists-not-empty",
                "algorithm-names",
                "first-kex-packet-follows"
            ]
        );
    }
}
