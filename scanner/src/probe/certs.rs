//! Certificates: summaries of DER certificates, and the TLS 1.3 chain fetched with one real
//! handshake (TLS 1.3 encrypts certificates, so hand-built hellos cannot see them).
use super::{Conn, ErrorKind, ProbeConfig, ProbeError};
use crate::observation::CertificateInfo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

/// Summarises a DER certificate; None when it does not parse.
pub fn summarize(der: &[u8]) -> Option<CertificateInfo> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let spki = cert.public_key();
    let key_oid = spki.algorithm.algorithm.to_id_string();
    let curve_oid = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|o| o.to_id_string());
    let (key_type, curve) = match key_oid.as_str() {
        "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10" => ("rsa".to_owned(), None),
        "1.2.840.10045.2.1" => ("ec".to_owned(), curve_oid.as_deref().map(curve_name)),
        "1.3.101.112" => ("ed25519".to_owned(), None),
        "1.3.101.113" => ("ed448".to_owned(), None),
        "1.2.840.10040.4.1" => ("dsa".to_owned(), None),
        other => (other.to_owned(), None),
    };
    let key_bits = match key_type.as_str() {
        "ed25519" => 256,
        "ed448" => 456,
        _ => spki.parsed().map(|k| k.key_size() as u32).unwrap_or(0),
    };
    let sig_oid = cert.signature_algorithm.algorithm.to_id_string();
    let (signature_algorithm, signature_scheme) = signature_names(&sig_oid);
    let mut sans = Vec::new();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for name in &ext.value.general_names {
            match name {
                GeneralName::DNSName(d) => sans.push((*d).to_owned()),
                GeneralName::IPAddress(ip) => sans.push(ip_text(ip)),
                _ => {}
            }
        }
    }
    let subject = cert.subject().to_string();
    let issuer = cert.issuer().to_string();
    Some(CertificateInfo {
        self_signed: subject == issuer,
        subject,
        issuer,
        sans,
        not_before: crate::time::rfc3339(cert.validity().not_before.timestamp()),
        not_after: crate::time::rfc3339(cert.validity().not_after.timestamp()),
        key_type,
        key_bits,
        curve: curve.map(str::to_owned),
        signature_algorithm: signature_algorithm.to_owned(),
        signature_scheme: signature_scheme.map(str::to_owned),
        sha256: hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der).as_ref()),
    })
}

fn curve_name(oid: &str) -> &'static str {
    match oid {
        "1.2.840.10045.3.1.7" => "secp256r1",
        "1.3.132.0.34" => "secp384r1",
        "1.3.132.0.35" => "secp521r1",
        "1.3.132.0.33" => "secp224r1",
        "1.2.840.10045.3.1.1" => "secp192r1",
        "1.3.132.0.10" => "secp256k1",
        "1.3.36.3.3.2.8.1.1.7" => "brainpoolP256r1",
        "1.3.36.3.3.2.8.1.1.11" => "brainpoolP384r1",
        "1.3.36.3.3.2.8.1.1.13" => "brainpoolP512r1",
        _ => "unknown-curve",
    }
}

/// The OID name of a certificate signature algorithm, and the TLS signature scheme it matches.
fn signature_names(oid: &str) -> (&'static str, Option<&'static str>) {
    match oid {
        "1.2.840.113549.1.1.4" => ("md5WithRSAEncryption", Some("rsa_md5")),
        "1.2.840.113549.1.1.5" => ("sha1WithRSAEncryption", Some("rsa_pkcs1_sha1")),
        "1.2.840.113549.1.1.14" => ("sha224WithRSAEncryption", Some("rsa_sha224")),
        "1.2.840.113549.1.1.11" => ("sha256WithRSAEncryption", Some("rsa_pkcs1_sha256")),
        "1.2.840.113549.1.1.12" => ("sha384WithRSAEncryption", Some("rsa_pkcs1_sha384")),
        "1.2.840.113549.1.1.13" => ("sha512WithRSAEncryption", Some("rsa_pkcs1_sha512")),
        "1.2.840.113549.1.1.10" => ("rsassaPss", Some("rsa_pss_rsae_sha256")),
        "1.2.840.10045.4.1" => ("ecdsa-with-SHA1", Some("ecdsa_sha1")),
        "1.2.840.10045.4.3.1" => ("ecdsa-with-SHA224", Some("ecdsa_sha224")),
        "1.2.840.10045.4.3.2" => ("ecdsa-with-SHA256", Some("ecdsa_secp256r1_sha256")),
        "1.2.840.10045.4.3.3" => ("ecdsa-with-SHA384", Some("ecdsa_secp384r1_sha384")),
        "1.2.840.10045.4.3.4" => ("ecdsa-with-SHA512", Some("ecdsa_secp521r1_sha512")),
        "1.3.101.112" => ("Ed25519", Some("ed25519")),
        "1.3.101.113" => ("Ed448", Some("ed448")),
        "1.2.840.10040.4.3" => ("dsa-with-sha1", Some("dsa_sha1")),
        "2.16.840.1.101.3.4.3.2" => ("dsa-with-sha256", Some("dsa_sha256")),
        _ => ("unknown", None),
    }
}

fn ip_text(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => std::net::Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).to_string(),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(bytes);
            std::net::Ipv6Addr::from(a).to_string()
        }
        _ => hex(bytes),
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Accepts any certificate and signature, offering only the schemes given, and remembers
/// whether an OCSP response was stapled.
#[derive(Debug)]
struct Capture {
    schemes: Vec<SignatureScheme>,
    stapled: Mutex<Option<bool>>,
    signed_with: Mutex<Option<SignatureScheme>>,
}

impl ServerCertVerifier for Capture {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut s) = self.stapled.lock() {
            *s = Some(!ocsp_response.is_empty());
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        if let Ok(mut s) = self.signed_with.lock() {
            *s = Some(dss.scheme);
        }
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.schemes.clone()
    }
}

/// Key families a TLS 1.3 server may hold a certificate for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFamily {
    /// RSA (PSS signatures in TLS 1.3).
    Rsa,
    /// ECDSA on the NIST curves.
    Ecdsa,
    /// Ed25519.
    Ed25519,
}

impl KeyFamily {
    /// The family of a key that signs with this TLS 1.3 scheme.
    pub fn of_scheme(code: u16) -> Option<Self> {
        [Self::Rsa, Self::Ecdsa, Self::Ed25519]
            .into_iter()
            .find(|f| f.schemes().iter().any(|s| u16::from(*s) == code))
    }

    fn schemes(self) -> Vec<SignatureScheme> {
        match self {
            Self::Rsa => vec![
                SignatureScheme::RSA_PSS_SHA256,
                SignatureScheme::RSA_PSS_SHA384,
                SignatureScheme::RSA_PSS_SHA512,
            ],
            Self::Ecdsa => vec![
                SignatureScheme::ECDSA_NISTP256_SHA256,
                SignatureScheme::ECDSA_NISTP384_SHA384,
                SignatureScheme::ECDSA_NISTP521_SHA512,
            ],
            Self::Ed25519 => vec![SignatureScheme::ED25519],
        }
    }
}

/// What a TLS 1.3 handshake showed.
#[derive(Debug, Clone)]
pub struct Tls13Certificates {
    /// DER chain, leaf first.
    pub chain: Vec<Vec<u8>>,
    /// Whether an OCSP response was stapled.
    pub ocsp_stapled: Option<bool>,
    /// The scheme the server signed its CertificateVerify with.
    pub signature_scheme: Option<u16>,
}

/// TLS 1.3 CertificateVerify schemes the handshake client can accept, NIST curves first.
pub const TLS13_SCHEMES: [SignatureScheme; 7] = [
    SignatureScheme::ECDSA_NISTP256_SHA256,
    SignatureScheme::ECDSA_NISTP384_SHA384,
    SignatureScheme::ECDSA_NISTP521_SHA512,
    SignatureScheme::RSA_PSS_SHA256,
    SignatureScheme::RSA_PSS_SHA384,
    SignatureScheme::RSA_PSS_SHA512,
    SignatureScheme::ED25519,
];

/// Completes a TLS 1.3 handshake that accepts only certificates of these key families, and
/// returns the chain. An error means the server holds no such certificate (or refused the
/// handshake).
pub async fn fetch_tls13(
    addr: SocketAddr,
    cfg: &ProbeConfig,
    families: &[KeyFamily],
) -> Result<Tls13Certificates, ProbeError> {
    let schemes = families.iter().flat_map(|f| f.schemes()).collect();
    handshake_tls13(addr, cfg, schemes).await
}

/// What one real TLS 1.3 handshake (rustls, every suite and group it has) says of a server
/// whose TLS 1.3 the scanner's own hellos did not find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tls13Check {
    /// The handshake completed with this suite: the server speaks TLS 1.3.
    Completed(u16),
    /// The server refused TLS 1.3 itself (a protocol_version alert, or an older ServerHello).
    Refused,
    /// The handshake failed in a way that says nothing about TLS 1.3.
    Unclear(String),
}

/// One real TLS 1.3 handshake, to tell a server without TLS 1.3 from one that refused the
/// scanner's hand-built hellos.
pub async fn check_tls13(addr: SocketAddr, cfg: &ProbeConfig) -> Tls13Check {
    match handshake(addr, cfg, TLS13_SCHEMES.to_vec()).await {
        Ok((_, suite)) => Tls13Check::Completed(suite),
        Err(Failed::Handshake(e)) if refuses_tls13(&e) => Tls13Check::Refused,
        Err(Failed::Handshake(e)) => Tls13Check::Unclear(handshake_error(e).message),
        Err(Failed::Probe(e)) => Tls13Check::Unclear(e.message),
    }
}

/// Whether a failed TLS 1.3-only handshake is the server saying it has no TLS 1.3.
fn refuses_tls13(e: &std::io::Error) -> bool {
    use rustls::{AlertDescription, Error, PeerIncompatible};
    matches!(
        e.get_ref().and_then(|i| i.downcast_ref::<Error>()),
        Some(
            Error::AlertReceived(AlertDescription::ProtocolVersion)
                | Error::PeerIncompatible(
                    PeerIncompatible::ServerDoesNotSupportTls12Or13
                        | PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig
                        | PeerIncompatible::SupportedVersionsExtensionRequired
                )
        )
    )
}

/// Why a rustls handshake did not complete.
enum Failed {
    /// Before or around the handshake: client setup, the connection, its STARTTLS dialogue, or
    /// the deadline.
    Probe(ProbeError),
    /// The handshake itself failed, with rustls's error.
    Handshake(std::io::Error),
}

/// Completes a TLS 1.3 handshake offering only these signature schemes.
pub async fn handshake_tls13(
    addr: SocketAddr,
    cfg: &ProbeConfig,
    schemes: Vec<SignatureScheme>,
) -> Result<Tls13Certificates, ProbeError> {
    match handshake(addr, cfg, schemes).await {
        Ok((got, _)) => Ok(got),
        Err(Failed::Probe(e)) => Err(e),
        Err(Failed::Handshake(e)) => Err(handshake_error(e)),
    }
}

/// A TLS 1.3 handshake offering these signature schemes: what it showed, and its suite.
async fn handshake(
    addr: SocketAddr,
    cfg: &ProbeConfig,
    schemes: Vec<SignatureScheme>,
) -> Result<(Tls13Certificates, u16), Failed> {
    let (sni, deadline) = (cfg.sni.as_deref(), cfg.timeout);
    let verifier = Arc::new(Capture {
        schemes,
        stapled: Mutex::new(None),
        signed_with: Mutex::new(None),
    });
    // The scanner is a probe, not a FIPS client: it offers every suite and group rustls has, so
    // that servers accepting only ChaCha20 or X25519 still show their certificates.
    let provider = Arc::new(rustls::crypto::CryptoProvider {
        cipher_suites: rustls::crypto::aws_lc_rs::ALL_CIPHER_SUITES.to_vec(),
        kx_groups: rustls::crypto::aws_lc_rs::ALL_KX_GROUPS.to_vec(),
        ..rustls::crypto::aws_lc_rs::default_provider()
    });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| {
            Failed::Probe(ProbeError::new(
                ErrorKind::Io,
                format!("TLS 1.3 client setup: {e}"),
            ))
        })?
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    let name = match sni {
        Some(host) => ServerName::try_from(host.to_owned()).map_err(|e| {
            Failed::Probe(ProbeError::new(ErrorKind::Io, format!("SNI {host:?}: {e}")))
        })?,
        None => ServerName::IpAddress(addr.ip().into()),
    };
    let conn = Conn::open_tls(addr, cfg).await.map_err(Failed::Probe)?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let (stream, _slot) = conn.into_stream();
    let tls = tokio::time::timeout(deadline, connector.connect(name, stream))
        .await
        .map_err(|_| {
            Failed::Probe(ProbeError::new(
                ErrorKind::Timeout,
                "TLS 1.3 handshake timed out",
            ))
        })?
        .map_err(Failed::Handshake)?;
    let suite = tls
        .get_ref()
        .1
        .negotiated_cipher_suite()
        .map_or(0, |s| u16::from(s.suite()));
    let chain = tls
        .get_ref()
        .1
        .peer_certificates()
        .map(|c| c.iter().map(|d| d.as_ref().to_vec()).collect())
        .unwrap_or_default();
    let ocsp_stapled = verifier.stapled.lock().ok().and_then(|s| *s);
    let signature_scheme = verifier
        .signed_with
        .lock()
        .ok()
        .and_then(|s| *s)
        .map(u16::from);
    Ok((
        Tls13Certificates {
            chain,
            ocsp_stapled,
            signature_scheme,
        },
        suite,
    ))
}

/// A failed handshake's error: an alert or an incompatibility is the server refusing; a peer
/// that breaks the protocol is malformed; the rest are transport errors.
fn handshake_error(e: std::io::Error) -> ProbeError {
    let kind = match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::PeerMisbehaved(_) | rustls::Error::InvalidMessage(_)) => {
            ErrorKind::Malformed
        }
        Some(_) => ErrorKind::TlsAlert,
        None if matches!(
            e.kind(),
            std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::UnexpectedEof
        ) =>
        {
            ErrorKind::ConnectionReset
        }
        None => ErrorKind::Io,
    };
    ProbeError::new(kind, format!("TLS 1.3 handshake: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_not_a_certificate() {
        assert!(summarize(&[0x30, 0x03, 0x02, 0x01, 0x01]).is_none());
        assert!(summarize(&[]).is_none());
    }
}
