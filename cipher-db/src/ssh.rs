//! SSH algorithm names (RFC 4253 and successors, OpenSSH, ssh.com, libssh, vendor names) and
//! what each is made of.
use serde::{Deserialize, Serialize};

/// The name lists of an SSH KEXINIT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SshKind {
    /// kex_algorithms (including protocol markers such as `ext-info-s`).
    Kex,
    /// server_host_key_algorithms (also the signature algorithms of user keys).
    HostKey,
    /// encryption_algorithms.
    Cipher,
    /// mac_algorithms.
    Mac,
    /// compression_algorithms.
    Compression,
}

/// One SSH algorithm name and its components.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SshAlgorithm {
    /// Which list it belongs to.
    pub kind: SshKind,
    /// The name on the wire.
    pub name: &'static str,
    /// Kex method (ECDH, DH, DH-GEX, RSA, KEM-HYBRID, MARKER), key type (RSA, DSA, ECDSA,
    /// ED25519, ED448), cipher family (AES, 3DES, CHACHA20 …) or MAC family (HMAC, UMAC, AEAD).
    pub family: &'static str,
    /// Group or curve: modp2048, nistp256, x25519, gex, mlkem768nistp256 …
    pub param: &'static str,
    /// Exchange-hash, signature or MAC hash.
    pub hash: &'static str,
    /// Cipher key bits or MAC tag bits.
    pub bits: u32,
    /// Cipher mode: CTR, CBC, GCM, POLY1305, STREAM, NONE.
    pub mode: &'static str,
    /// etm, cert, sk, x509.
    pub flags: &'static [&'static str],
}

impl SshAlgorithm {
    /// Whether this is a protocol marker in the kex list rather than an algorithm.
    pub fn is_marker(&self) -> bool {
        self.family == "MARKER"
    }

    /// Whether the cipher authenticates on its own, so the MAC list is not used.
    pub fn is_aead_cipher(&self) -> bool {
        self.kind == SshKind::Cipher && matches!(self.mode, "GCM" | "POLY1305")
    }

    /// Whether a flag is set.
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.contains(&flag)
    }
}

/// Every known SSH algorithm.
pub fn algorithms() -> &'static [SshAlgorithm] {
    crate::data::SSH_ALGORITHMS
}

/// The algorithm of this kind and name. Names are case-sensitive on the wire.
pub fn find(kind: SshKind, name: &str) -> Option<&'static SshAlgorithm> {
    algorithms()
        .iter()
        .find(|a| a.kind == kind && a.name == name)
}

/// Whether a kex method resists a quantum adversary: the KEM hybrids (ML-KEM or Streamlined
/// NTRU Prime with a classical exchange).
pub fn is_quantum_safe_kex(name: &str) -> bool {
    find(SshKind::Kex, name).is_some_and(|a| a.family == "KEM-HYBRID")
}

/// Whether a kex name is a protocol marker: the known ones, and GSS-API kex names that carry a
/// mechanism suffix are not markers, so only the table decides.
pub fn is_kex_marker(name: &str) -> bool {
    find(SshKind::Kex, name).is_some_and(|a| a.is_marker())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_per_kind() {
        for a in algorithms() {
            let same = algorithms()
                .iter()
                .filter(|b| b.kind == a.kind && b.name == a.name)
                .count();
            assert_eq!(same, 1, "{} listed {same} times", a.name);
        }
    }

    #[test]
    fn components() {
        let gcm = find(SshKind::Cipher, "aes256-gcm@openssh.com");
        assert!(gcm.is_some_and(|a| a.is_aead_cipher() && a.bits == 256));
        assert!(
            find(SshKind::Mac, "hmac-sha2-256-etm@openssh.com").is_some_and(|a| a.has_flag("etm"))
        );
        assert!(is_kex_marker("kex-strict-s-v00@openssh.com"));
        assert!(!is_kex_marker("ecdh-sha2-nistp256"));
        assert_eq!(
            find(SshKind::Kex, "diffie-hellman-group14-sha1").map(|a| a.hash),
            Some("SHA1")
        );
    }
}
