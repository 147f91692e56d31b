//! The rustls side of a listener: the FIPS provider narrowed as the configuration asks (never
//! widened), certificates chosen by SNI and by the client's signature algorithms, optional client
//! authentication, tickets from the FIPS module, and the `ServerConfig::fips()` check.
use crate::config::{
    Backend, CertificateFiles, ChainScope, ClientAuth, KeyRef, Listener, OcspMode,
};
use crate::ocsp_check::OcspChecker;
use crate::token_key::{TokenKey, TokenKeyInfo};
use fipsgate_cipher_db::tls::{group_by_code, suite_by_code};
use rustls::crypto::{aws_lc_rs, CryptoProvider, SupportedKxGroup};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer, ServerName};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::{CertifiedKey, SigningKey};
use rustls::{ServerConfig, SupportedCipherSuite, SupportedProtocolVersion};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Why a listener's TLS configuration could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsError(pub String);

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsError {}

/// The IANA name of a rustls suite, as cipher-db spells it.
pub fn suite_name(s: SupportedCipherSuite) -> String {
    let code = u16::from(s.suite());
    suite_by_code(code).map_or_else(|| format!("0x{code:04X}"), |d| d.iana.to_owned())
}

/// The name of a key exchange group, as cipher-db spells it.
pub fn group_name(g: &dyn SupportedKxGroup) -> String {
    let code = u16::from(g.name());
    group_by_code(code).map_or_else(|| format!("0x{code:04X}"), |d| d.name.to_owned())
}

/// The provider's FIPS suites, narrowed to `wanted` (IANA or OpenSSL names) in that order.
fn suites(wanted: &[String]) -> Result<Vec<SupportedCipherSuite>, TlsError> {
    let fips: Vec<SupportedCipherSuite> = aws_lc_rs::default_provider()
        .cipher_suites
        .into_iter()
        .filter(SupportedCipherSuite::fips)
        .collect();
    if wanted.is_empty() {
        return Ok(fips);
    }
    wanted
        .iter()
        .map(|w| {
            let code = fipsgate_cipher_db::tls::suite_by_name(w).map(|s| s.code);
            fips.iter()
                .find(|s| Some(u16::from(s.suite())) == code)
                .copied()
                .ok_or_else(|| {
                    let names: Vec<String> = fips.iter().map(|s| suite_name(*s)).collect();
                    TlsError(format!(
                        "cipher suite {w:?} is not in the FIPS set: {}",
                        names.join(", ")
                    ))
                })
        })
        .collect()
}

/// The FIPS key exchange groups, narrowed to `wanted` in that order, without X25519MLKEM768 when
/// `hybrid` is off.
fn groups(wanted: &[String], hybrid: bool) -> Result<Vec<&'static dyn SupportedKxGroup>, TlsError> {
    let all: Vec<&'static dyn SupportedKxGroup> = aws_lc_rs::ALL_KX_GROUPS
        .iter()
        .copied()
        .filter(|g| g.fips())
        .collect();
    let chosen: Vec<&'static dyn SupportedKxGroup> = if wanted.is_empty() {
        let defaults = aws_lc_rs::default_provider().kx_groups;
        all.iter()
            .copied()
            .filter(|g| defaults.iter().any(|d| d.name() == g.name()))
            .collect()
    } else {
        wanted
            .iter()
            .map(|w| {
                all.iter()
                    .copied()
                    .find(|g| group_name(*g).eq_ignore_ascii_case(w))
                    .ok_or_else(|| {
                        let names: Vec<String> = all.iter().map(|g| group_name(*g)).collect();
                        TlsError(format!(
                            "group {w:?} is not in the FIPS set: {}",
                            names.join(", ")
                        ))
                    })
            })
            .collect::<Result<_, _>>()?
    };
    let chosen: Vec<_> = chosen
        .into_iter()
        .filter(|g| hybrid || group_name(*g) != "X25519MLKEM768")
        .collect();
    if chosen.is_empty() {
        return Err(TlsError("no key exchange group left".into()));
    }
    Ok(chosen)
}

fn versions(wanted: &[String]) -> Result<Vec<&'static SupportedProtocolVersion>, TlsError> {
    if wanted.is_empty() {
        return Ok(vec![&rustls::version::TLS13, &rustls::version::TLS12]);
    }
    wanted
        .iter()
        .map(|v| match v.to_ascii_lowercase().as_str() {
            "tls1.3" => Ok(&rustls::version::TLS13),
            "tls1.2" => Ok(&rustls::version::TLS12),
            other => Err(TlsError(format!(
                "version {other:?} is not allowed: the proxy speaks tls1.2 and tls1.3 only"
            ))),
        })
        .collect()
}

/// Loads a chain and its key: a key file with the FIPS provider's key loader, a token key
/// through PKCS#11 (then also said what it is).
fn certified_key(
    files: &CertificateFiles,
    provider: &CryptoProvider,
) -> Result<(CertifiedKey, Option<TokenKeyInfo>), TlsError> {
    let chain_path = files.chain.display();
    let chain = pem_certificates(&files.chain, "certificate")?;
    let Some(leaf) = chain.first().cloned() else {
        return Err(TlsError(format!("{chain_path}: no certificate")));
    };
    let (key, info): (Arc<dyn SigningKey>, _) = match files.key_ref().map_err(TlsError)? {
        KeyRef::Token(token) => {
            let (key, info) = TokenKey::open(token.uri, token.module, token.pin, &leaf, provider)
                .map_err(|e| TlsError(format!("{}: {e}", token.uri)))?;
            (Arc::new(key), Some(info))
        }
        KeyRef::File(path) => {
            let at = |e: &dyn fmt::Display| TlsError(format!("{}: {e}", path.display()));
            let der = PrivateKeyDer::from_pem_file(path).map_err(|e| at(&e))?;
            let key = provider
                .key_provider
                .load_private_key(der)
                .map_err(|e| at(&e))?;
            (key, None)
        }
    };
    let mut certified = CertifiedKey::new(chain, key);
    certified
        .keys_match()
        .map_err(|e| TlsError(format!("{chain_path} and {}: {e}", files.key)))?;
    if let Some(ocsp) = &files.ocsp {
        let der = std::fs::read(ocsp).map_err(|e| TlsError(format!("{}: {e}", ocsp.display())))?;
        certified.ocsp = Some(der);
    }
    Ok((certified, info))
}

/// Whether a route name (`a.example` or `*.example`) covers an SNI name.
pub fn name_matches(pattern: &str, sni: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => sni
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest.eq_ignore_ascii_case(suffix)),
        None => pattern.eq_ignore_ascii_case(sni),
    }
}

/// Certificates by SNI name, each list holding one key per type (RSA, ECDSA …).
#[derive(Debug)]
struct Resolver {
    default: Vec<Arc<CertifiedKey>>,
    routes: Vec<(Vec<String>, Vec<Arc<CertifiedKey>>)>,
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let keys = hello
            .server_name()
            .and_then(|sni| {
                self.routes
                    .iter()
                    .find(|(names, keys)| {
                        !keys.is_empty() && names.iter().any(|n| name_matches(n, sni))
                    })
                    .map(|(_, keys)| keys)
            })
            .unwrap_or(&self.default);
        // The first key the client can verify: ECDSA for clients that offer it, else RSA. A
        // client that can verify none still gets one, so that the handshake fails with the
        // real reason (no common suite or signature scheme) rather than "no certificate".
        keys.iter()
            .find(|k| k.key.choose_scheme(hello.signature_schemes()).is_some())
            .or_else(|| keys.first())
            .cloned()
    }
}

/// A listener's TLS, ready to accept.
#[derive(Debug)]
pub struct ListenerTls {
    /// The rustls configuration (its `fips()` is true).
    pub config: Arc<ServerConfig>,
    /// Client certificate constraints beyond the CA.
    pub client_auth: Option<ClientAuth>,
    /// The keys kept in PKCS#11 tokens, and what they are.
    pub token_keys: Vec<TokenKeyInfo>,
    /// OCSP checks of client certificates, when `client_ocsp` is on.
    pub ocsp: Option<Arc<OcspChecker>>,
}

fn verifier(
    auth: &ClientAuth,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, TlsError> {
    let mut builder = WebPkiClientVerifier::builder_with_provider(
        Arc::new(ca_roots(&auth.ca)?),
        provider.clone(),
    );
    if !auth.required {
        builder = builder.allow_unauthenticated();
    }
    if !auth.crls.is_empty() {
        let mut crls = Vec::new();
        for file in &auth.crls {
            crls.extend(revocation_lists(file)?);
        }
        // Like OpenSSL: a CRL past its nextUpdate is no longer evidence that a certificate is good.
        builder = builder.with_crls(crls).enforce_revocation_expiration();
        if auth.crl_scope == Some(ChainScope::Leaf) {
            builder = builder.only_check_end_entity_revocation();
        }
        if auth.allow_unknown_revocation {
            builder = builder.allow_unknown_revocation_status();
        }
    }
    builder
        .build()
        .map_err(|e| TlsError(format!("client_auth: {e}")))
}

/// The certificates of a PEM file; an error naming `what` when there is none.
fn pem_certificates(
    file: &std::path::Path,
    what: &str,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let path = file.display();
    let certs = CertificateDer::pem_file_iter(file)
        .map_err(|e| TlsError(format!("{path}: {e}")))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError(format!("{path}: {e}")))?;
    if certs.is_empty() {
        return Err(TlsError(format!("{path}: no {what}")));
    }
    Ok(certs)
}

/// The CA certificates of a PEM bundle, as trust anchors.
fn ca_roots(file: &std::path::Path) -> Result<rustls::RootCertStore, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in pem_certificates(file, "CA certificate")? {
        roots
            .add(cert)
            .map_err(|e| TlsError(format!("{}: {e}", file.display())))?;
    }
    Ok(roots)
}

/// The client side towards a listener's backends: the FIPS provider, the backends' CAs, and
/// the name their certificates must carry (`None`: each backend's host).
#[derive(Debug)]
pub struct BackendTlsConfig {
    /// The rustls configuration (its `fips()` is true).
    pub config: Arc<rustls::ClientConfig>,
    /// The configured name, if any.
    pub server_name: Option<ServerName<'static>>,
}

impl BackendTlsConfig {
    /// The name to verify for `backend`.
    pub fn name_for(&self, backend: &Backend) -> Option<ServerName<'static>> {
        if let Some(name) = &self.server_name {
            return Some(name.clone());
        }
        match backend {
            Backend::Tcp(addr) => {
                let host = addr.rsplit_once(':').map_or(addr.as_str(), |(h, _)| h);
                let host = host.trim_start_matches('[').trim_end_matches(']');
                ServerName::try_from(host.to_owned()).ok()
            }
            Backend::Unix(_) => None,
        }
    }
}

/// Builds the TLS client configuration towards a listener's backends, refused unless rustls
/// reports it FIPS.
pub fn backend_tls(l: &Listener) -> Result<Option<BackendTlsConfig>, TlsError> {
    let Some(b) = &l.backend_tls else {
        return Ok(None);
    };
    let at = |e: String| TlsError(format!("listener {:?}: backend_tls: {e}", l.name));
    let server_name = match &b.server_name {
        Some(n) => Some(
            ServerName::try_from(n.clone()).map_err(|e| at(format!("server_name {n:?}: {e}")))?,
        ),
        None => None,
    };
    let unix = l
        .backend
        .0
        .iter()
        .chain(
            l.route
                .iter()
                .filter_map(|r| r.backend.as_ref())
                .flat_map(|b| &b.0),
        )
        .any(|b| matches!(b, Backend::Unix(_)));
    if unix && server_name.is_none() {
        return Err(at("Unix-socket backends need a server_name".into()));
    }
    let provider = Arc::new(rustls::crypto::default_fips_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| at(e.to_string()))?
        .with_root_certificates(ca_roots(&b.ca).map_err(|e| at(e.0))?)
        .with_no_client_auth();
    if !config.fips() {
        return Err(at(
            "rustls does not report it as FIPS (ClientConfig::fips() is false)".into(),
        ));
    }
    Ok(Some(BackendTlsConfig {
        config: Arc::new(config),
        server_name,
    }))
}

/// The CRLs in a file: PEM (one or more) or a single DER one.
fn revocation_lists(
    file: &std::path::Path,
) -> Result<Vec<CertificateRevocationListDer<'static>>, TlsError> {
    let at = |e: &dyn std::fmt::Display| TlsError(format!("{}: {e}", file.display()));
    let bytes = std::fs::read(file).map_err(|e| at(&e))?;
    let crls = if bytes.starts_with(b"-----BEGIN") {
        CertificateRevocationListDer::pem_slice_iter(&bytes)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| at(&e))?
    } else {
        vec![CertificateRevocationListDer::from(bytes)]
    };
    if crls.is_empty() {
        return Err(at(&"no X509 CRL in this file"));
    }
    Ok(crls)
}

/// Builds a listener's TLS configuration and refuses it unless rustls reports it FIPS.
pub fn listener_tls(l: &Listener) -> Result<ListenerTls, TlsError> {
    let at = |e: TlsError| TlsError(format!("listener {:?}: {e}", l.name));
    let base = rustls::crypto::default_fips_provider();
    let provider = Arc::new(CryptoProvider {
        cipher_suites: suites(&l.cipher_suites).map_err(at)?,
        kx_groups: groups(&l.groups, l.pq_hybrid_x25519).map_err(at)?,
        ..base
    });
    let mut token_keys = Vec::new();
    let mut load = |files: &[CertificateFiles]| {
        files
            .iter()
            .map(|f| {
                let (key, info) = certified_key(f, &provider)?;
                token_keys.extend(info);
                Ok(Arc::new(key))
            })
            .collect::<Result<Vec<_>, TlsError>>()
    };
    let resolver = Resolver {
        default: load(&l.certificate).map_err(at)?,
        routes: l
            .route
            .iter()
            .map(|r| Ok((r.names.clone(), load(&r.certificate)?)))
            .collect::<Result<_, TlsError>>()
            .map_err(at)?,
    };
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions(&l.versions).map_err(at)?)
        .map_err(|e| at(TlsError(e.to_string())))?;
    let builder = match &l.client_auth {
        Some(auth) => builder.with_client_cert_verifier(verifier(auth, &provider).map_err(at)?),
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = l.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    // The configured order (strongest first by default) decides, not the client's.
    config.ignore_client_order = true;

    if l.session_resumption {
        config.ticketer = aws_lc_rs::Ticketer::new().map_err(|e| at(TlsError(e.to_string())))?;
    } else {
        config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        config.send_tls13_tickets = 0;
    }
    if !config.fips() {
        return Err(at(TlsError(
            "rustls does not report this configuration as FIPS (ServerConfig::fips() is false)"
                .into(),
        )));
    }
    let ocsp = match &l.client_auth {
        Some(auth) if auth.client_ocsp != OcspMode::Off => Some(Arc::new(OcspChecker::new(
            auth.client_ocsp,
            auth.ocsp_scope,
            auth.ocsp_responder.clone(),
            Duration::from_secs_f64(auth.ocsp_timeout),
            Duration::from_secs_f64(auth.ocsp_failure_hold),
            pem_certificates(&auth.ca, "CA certificate").map_err(at)?,
            provider,
        ))),
        _ => None,
    };
    Ok(ListenerTls {
        config: Arc::new(config),
        client_auth: l.client_auth.clone(),
        token_keys,
        ocsp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrowing_stays_inside_the_fips_set() {
        let all = suites(&[]).unwrap_or_default();
        assert!(all.iter().all(|s| s.fips()));
        assert!(all.iter().all(|s| !suite_name(*s).contains("CHACHA20")));
        let one = suites(&["TLS_AES_256_GCM_SHA384".into()]).unwrap_or_default();
        assert_eq!(one.len(), 1);
        let e = suites(&["TLS_CHACHA20_POLY1305_SHA256".into()]).err();
        assert!(e.is_some_and(|e| e.0.contains("not in the FIPS set")));
        let e = groups(&["x25519".into()], true).err();
        assert!(e.is_some_and(|e| e.0.contains("\"x25519\" is not in the FIPS set")));
        let no_hybrid = groups(&[], false).unwrap_or_default();
        assert!(no_hybrid.iter().all(|g| group_name(*g) != "X25519MLKEM768"));
        assert!(groups(&["secp384r1".into()], true).is_ok_and(|g| g.len() == 1));
        assert!(versions(&["tls1.1".into()]).is_err());
    }

    #[test]
    fn route_names() {
        assert!(name_matches("a.example", "A.Example"));
        assert!(name_matches("*.example", "x.example"));
        assert!(!name_matches("*.example", "example"));
        assert!(!name_matches("*.example", "x.y.example"));
    }
}
