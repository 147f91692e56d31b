//! OCSP checks of client certificates (the client's own, or its whole chain below the trust
//! anchor) after the handshake and before the backend is reached:
//! the responder from the certificate's AIA (or the configured one) asked over HTTP within a
//! timeout, answers kept until their nextUpdate, a responder that gave no answer not asked again
//! for a while, and the listener's `client_ocsp` mode deciding what an answer other than "good"
//! means.
use crate::close::CloseReason;
use crate::config::{ChainScope, OcspMode};
use crate::ocsp::{evaluate, Answer, Query, Status};
use der::Encode;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;

/// Larger answers are refused: a response with a few certificates is a few KiB.
const MAX_RESPONSE: u64 = 256 * 1024;
/// Answers kept at most; past it, expired ones go first, then all.
const MAX_CACHED: usize = 10_000;
/// id-ad-ocsp.
const AD_OCSP: &str = "1.3.6.1.5.5.7.48.1";

/// What the check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OcspStatus {
    /// The responder says the certificate is good.
    Good,
    /// The responder says it is revoked.
    Revoked,
    /// The responder does not know it.
    Unknown,
    /// No verified answer (no responder, unreachable, timed out, a bad or stale response).
    Failed,
}

impl OcspStatus {
    /// The word in connection logs (`client_ocsp`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Good => "good",
            Self::Revoked => "revoked",
            Self::Unknown => "unknown",
            Self::Failed => "failed",
        }
    }
}

/// A check's result, for the connection log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcspOutcome {
    /// What was found.
    pub status: OcspStatus,
    /// The answer came from the cache.
    pub cached: bool,
    /// Why the status is not good.
    pub error: Option<String>,
}

/// A listener's OCSP checker.
#[derive(Debug)]
pub struct OcspChecker {
    mode: OcspMode,
    scope: ChainScope,
    responder: Option<String>,
    timeout: Duration,
    /// The client CAs, where a certificate's issuer is looked for after the client's chain.
    cas: Vec<CertificateDer<'static>>,
    provider: Arc<CryptoProvider>,
    cache: Mutex<HashMap<Vec<u8>, Answer>>,
    /// How long a responder that gave no answer is not asked again.
    failure_hold: Duration,
    /// Responders that gave no answer: until when they are not asked, and why.
    failed: Mutex<HashMap<String, (Instant, String)>>,
}

impl OcspChecker {
    /// A checker in `mode` for the certificates in `scope`, asking `responder` (else each
    /// certificate's AIA) within `timeout`, and not asking again for `failure_hold` a
    /// responder that gave no answer.
    pub fn new(
        mode: OcspMode,
        scope: ChainScope,
        responder: Option<String>,
        timeout: Duration,
        failure_hold: Duration,
        cas: Vec<CertificateDer<'static>>,
        provider: Arc<CryptoProvider>,
    ) -> Self {
        Self {
            mode,
            scope,
            responder,
            timeout,
            cas,
            provider,
            cache: Mutex::new(HashMap::new()),
            failure_hold,
            failed: Mutex::new(HashMap::new()),
        }
    }

    /// Checks a client's certificate (the first of `chain`) and, in the `chain` scope, each
    /// issuer of it that the client sent, up to the trust anchor. The worst status found
    /// decides (revoked, then no good answer); the outcome is cached only if every answer was.
    pub async fn check(&self, chain: &[CertificateDer<'static>]) -> OcspOutcome {
        let rank = |o: &OcspOutcome| match o.status {
            OcspStatus::Good => 0,
            OcspStatus::Revoked => 2,
            _ => 1,
        };
        let mut worst = self.check_one(chain, 0).await;
        let mut cached = worst.cached;
        for at in self.issuers_sent(chain) {
            let outcome = self.check_one(chain, at).await;
            cached &= outcome.cached;
            if rank(&outcome) > rank(&worst) {
                worst = outcome;
            }
        }
        worst.cached = cached;
        worst
    }

    /// Where in `chain` the issuers of its first certificate are, nearest first, in the `chain`
    /// scope: each found by its subject, up to one of the `ca` bundle's.
    fn issuers_sent(&self, chain: &[CertificateDer<'static>]) -> Vec<usize> {
        let mut path = vec![0];
        while self.scope == ChainScope::Chain && path.len() < chain.len() {
            let Some(next) = path
                .last()
                .map(|at| &chain[*at])
                .and_then(|der| Some((der, X509Certificate::from_der(der).ok()?.1)))
                .and_then(|(der, cert)| issuer_in(der, &cert, chain))
                .and_then(|issuer| chain.iter().position(|c| c == issuer))
                .filter(|at| !path.contains(at) && !self.cas.contains(&chain[*at]))
            else {
                break;
            };
            path.push(next);
        }
        path.split_off(1)
    }

    /// Checks the certificate at `at` in `chain`; errors about a certificate other than the
    /// client's own name its subject.
    async fn check_one(&self, chain: &[CertificateDer<'static>], at: usize) -> OcspOutcome {
        let about = match chain.get(at) {
            Some(cert) if at > 0 => format!("{}: ", subject(cert)),
            _ => String::new(),
        };
        let (status, cached, error) = match self.answer(chain, at).await {
            Ok((Status::Good, cached)) => (OcspStatus::Good, cached, None),
            Ok((Status::Revoked(why), cached)) => (OcspStatus::Revoked, cached, Some(why)),
            Ok((Status::Unknown, cached)) => (
                OcspStatus::Unknown,
                cached,
                Some("the responder does not know the certificate".to_owned()),
            ),
            Err((why, cached)) => (OcspStatus::Failed, cached, Some(why)),
        };
        OcspOutcome {
            status,
            cached,
            error: error.map(|e| format!("OCSP: {about}{e}")),
        }
    }

    /// Why the listener's mode refuses a client with this outcome, if it does.
    pub fn refusal(&self, outcome: &OcspOutcome) -> Option<CloseReason> {
        match (outcome.status, self.mode) {
            (OcspStatus::Good, _) => None,
            (OcspStatus::Revoked, _) => Some(CloseReason::ClientCertificateRevoked),
            (_, OcspMode::Hard) => Some(CloseReason::ClientCertificateRevocationUnknown),
            _ => None,
        }
    }

    /// The verified status of the certificate at `at` in `chain`, or why there is none; with
    /// whether either was cached.
    async fn answer(
        &self,
        chain: &[CertificateDer<'static>],
        at: usize,
    ) -> Result<(Status, bool), (String, bool)> {
        let asking = self.asking(chain, at).map_err(|why| (why, false))?;
        let url = &asking.url;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if let Some(cached) = self.cached(&asking.key, now) {
            return Ok((cached.status, true));
        }
        if let Some(why) = self.held(url) {
            return Err((why, true));
        }
        let body = match tokio::time::timeout(self.timeout, post(url, &asking.query.der)).await {
            Ok(Ok(body)) => body,
            failed => {
                let why = match failed {
                    Ok(Err(e)) => format!("{url}: {e}"),
                    _ => format!("{url}: no answer within {:?}", self.timeout),
                };
                self.hold(url, &why);
                return Err((why, false));
            }
        };
        let answer = evaluate(&body, &asking.query, asking.issuer, now, &self.provider)
            .map_err(|e| (format!("{url}: {e}"), false))?;
        if answer.next_update.is_some() {
            self.keep(asking.key, answer.clone(), now);
        }
        Ok((answer.status, false))
    }

    /// What to ask about the certificate at `at` in `chain`, and of whom; its issuer is looked
    /// for in the chain, then in the `ca` bundle.
    fn asking<'c>(
        &'c self,
        chain: &'c [CertificateDer<'static>],
        at: usize,
    ) -> Result<Asking<'c>, String> {
        let leaf = chain.get(at).ok_or("no client certificate")?;
        let (_, parsed) = X509Certificate::from_der(leaf)
            .map_err(|e| format!("the certificate does not parse: {e}"))?;
        let issuer = issuer_in(leaf, &parsed, chain)
            .or_else(|| issuer_in(leaf, &parsed, &self.cas))
            .ok_or("the issuer of the certificate is neither in the client's chain nor a CA")?;
        let url = match &self.responder {
            Some(url) => url.clone(),
            None => aia_ocsp(&parsed).ok_or(
                "the certificate names no OCSP responder (AIA) and ocsp_responder is not set",
            )?,
        };
        let query = Query::new(leaf, issuer)?;
        let key = query.cert_id.to_der().map_err(|e| e.to_string())?;
        Ok(Asking {
            url,
            query,
            issuer,
            key,
        })
    }

    /// Why `url` is not asked now, while it is held after giving no answer.
    fn held(&self, url: &str) -> Option<String> {
        let mut failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        failed.retain(|_, (until, _)| now < *until);
        let (until, why) = failed.get(url)?;
        Some(format!(
            "{why} (not asked again for {} s)",
            until.saturating_duration_since(now).as_secs().max(1)
        ))
    }

    /// Holds `url`, which gave no answer, for `failure_hold`.
    fn hold(&self, url: &str, why: &str) {
        if self.failure_hold.is_zero() {
            return;
        }
        let mut failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        failed.insert(
            url.to_owned(),
            (Instant::now() + self.failure_hold, why.to_owned()),
        );
    }

    fn cached(&self, key: &[u8], now: u64) -> Option<Answer> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .get(key)
            .filter(|a| a.next_update.is_some_and(|n| now < n))
            .cloned()
    }

    fn keep(&self, key: Vec<u8>, answer: Answer, now: u64) {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= MAX_CACHED {
            cache.retain(|_, a| a.next_update.is_some_and(|n| now < n));
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
        }
        cache.insert(key, answer);
    }
}

/// An OCSP question about one certificate: the responder, the request, the issuer that must
/// have signed (or delegated) the answer, and the key the answer is cached under.
struct Asking<'c> {
    url: String,
    query: Query,
    issuer: &'c CertificateDer<'static>,
    key: Vec<u8>,
}

/// The certificate among `candidates` that issued `der` (parsed: `cert`) by subject, other
/// than itself.
fn issuer_in<'c>(
    der: &CertificateDer<'_>,
    cert: &X509Certificate<'_>,
    candidates: &'c [CertificateDer<'static>],
) -> Option<&'c CertificateDer<'static>> {
    candidates.iter().find(|c| {
        c.as_ref() != der.as_ref()
            && X509Certificate::from_der(c)
                .is_ok_and(|(_, c)| c.subject().as_raw() == cert.issuer().as_raw())
    })
}

/// A certificate's subject, for a message about a certificate other than the client's own.
fn subject(cert: &CertificateDer<'_>) -> String {
    X509Certificate::from_der(cert).map_or_else(
        |_| "a certificate that does not parse".to_owned(),
        |(_, c)| c.subject().to_string(),
    )
}

/// The certificate's first OCSP responder URL (authorityInfoAccess, id-ad-ocsp).
fn aia_ocsp(cert: &X509Certificate<'_>) -> Option<String> {
    cert.extensions().iter().find_map(|ext| {
        let ParsedExtension::AuthorityInfoAccess(aia) = ext.parsed_extension() else {
            return None;
        };
        aia.accessdescs
            .iter()
            .find_map(|d| match &d.access_location {
                GeneralName::URI(uri) if d.access_method.to_id_string() == AD_OCSP => {
                    Some((*uri).to_owned())
                }
                _ => None,
            })
    })
}

/// An `http://host[:port][/path]` URL, as a request needs it (OCSP is plain HTTP: its answers
/// are signed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    /// `host[:port]` as written, for the Host header.
    pub authority: String,
    /// The host to connect to (an IPv6 address without its brackets).
    pub host: String,
    /// The port (80 when none is written).
    pub port: u16,
    /// The path, `/` when none is written.
    pub path: String,
}

/// Parses an `http://` responder URL.
pub fn http_url(url: &str) -> Result<HttpUrl, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url:?} is not an http:// URL"))?;
    let (authority, path) = rest.find('/').map_or((rest, "/"), |i| rest.split_at(i));
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') => (
            h,
            p.parse()
                .map_err(|_| format!("{url:?}: port {p:?} is not a number"))?,
        ),
        _ => (authority, 80),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(format!("{url:?} has no host"));
    }
    Ok(HttpUrl {
        authority: authority.to_owned(),
        host: host.to_owned(),
        port,
        path: path.to_owned(),
    })
}

/// POSTs an OCSP request over HTTP/1.0 (so the answer is neither chunked nor kept alive) and
/// returns the body of a 200 answer.
async fn post(url: &str, request: &[u8]) -> Result<Vec<u8>, String> {
    let url = http_url(url)?;
    let mut stream = TcpStream::connect((url.host.as_str(), url.port))
        .await
        .map_err(|e| e.to_string())?;
    let head = format!(
        "POST {} HTTP/1.0\r\nHost: {}\r\nContent-Type: application/ocsp-request\r\n\
         Content-Length: {}\r\n\r\n",
        url.path,
        url.authority,
        request.len()
    );
    stream
        .write_all(&[head.as_bytes(), request].concat())
        .await
        .map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    (&mut stream)
        .take(MAX_RESPONSE + 1)
        .read_to_end(&mut answer)
        .await
        .map_err(|e| e.to_string())?;
    if answer.len() as u64 > MAX_RESPONSE {
        return Err(format!("the answer is larger than {MAX_RESPONSE} bytes"));
    }
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("the answer is not HTTP")?;
    let head = String::from_utf8_lossy(&answer[..split]);
    let status = head.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(format!("HTTP answer {status:?}"));
    }
    let mut body = answer[split + 4..].to_vec();
    let length = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())
            .flatten()
    });
    if let Some(length) = length {
        if body.len() < length {
            return Err(format!(
                "the answer ended after {} of {length} bytes",
                body.len()
            ));
        }
        body.truncate(length);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responder_urls() {
        let parts = |url: &str| http_url(url).map(|u| (u.authority, u.host, u.port, u.path));
        assert_eq!(
            parts("http://127.0.0.1:8888/ocsp"),
            Ok((
                "127.0.0.1:8888".into(),
                "127.0.0.1".into(),
                8888,
                "/ocsp".into()
            ))
        );
        assert_eq!(
            parts("http://ocsp.example"),
            Ok(("ocsp.example".into(), "ocsp.example".into(), 80, "/".into()))
        );
        assert_eq!(
            parts("http://[::1]:81/"),
            Ok(("[::1]:81".into(), "::1".into(), 81, "/".into()))
        );
        assert!(http_url("https://ocsp.example/").is_err());
        assert!(http_url("http://h:x/").is_err());
        assert!(http_url("http:///p").is_err());
    }
}
