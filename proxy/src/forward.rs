//! One client connection: the TLS handshake within its deadline, client certificate rules, the
//! backend connection (TCP or Unix, with an optional PROXY header), then bytes both ways with
//! 64 KiB buffers, half-close passed on, an idle deadline, and one JSON log line at the end.
use crate::balance::Pool;
use crate::close::CloseReason;
use crate::config::{Backend, ClientAuth, Global, ProxyProtocol, Starttls};
use crate::metrics::Metrics;
use crate::proxy_protocol;
use crate::starttls::Refusal;
use crate::tls::{group_name, suite_name, BackendTlsConfig, ListenerTls};
use serde::Serialize;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpStream, UnixStream};

/// Copy buffer per direction: small buffers cap throughput.
const BUFFER: usize = 64 * 1024;

/// What a connection needs from its listener, as configured now (a reload swaps it whole).
#[derive(Debug)]
pub struct ListenerRuntime {
    /// Listener name.
    pub name: String,
    /// TLS configuration.
    pub tls: ListenerTls,
    /// Default backends.
    pub backend: Arc<Pool>,
    /// Backends of SNI routes.
    pub routes: Vec<(Vec<String>, Arc<Pool>)>,
    /// PROXY protocol header.
    pub proxy_protocol: Option<ProxyProtocol>,
    /// TLS towards the backends.
    pub backend_tls: Option<BackendTlsConfig>,
    /// Deadlines.
    pub global: Global,
    /// The protocol whose plaintext opening comes before TLS.
    pub starttls: Option<Starttls>,
}

impl ListenerRuntime {
    /// The default backends and those of every route.
    pub fn pools(&self) -> impl Iterator<Item = &Arc<Pool>> {
        std::iter::once(&self.backend).chain(self.routes.iter().map(|(_, p)| p))
    }

    fn backend_for(&self, sni: Option<&str>) -> &Arc<Pool> {
        sni.and_then(|n| {
            self.routes
                .iter()
                .find(|(names, _)| names.iter().any(|p| crate::tls::name_matches(p, n)))
                .map(|(_, b)| b)
        })
        .unwrap_or(&self.backend)
    }
}

/// The log line of one connection.
#[derive(Debug, Default, Serialize)]
pub struct ConnectionLog {
    #[serde(rename = "type")]
    kind: &'static str,
    time: String,
    listener: String,
    client: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    starttls: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sni: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suite: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alpn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_ocsp: Option<&'static str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    client_ocsp_cached: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_ocsp_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    backend: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    backend_suite: Option<String>,
    bytes_from_client: u64,
    bytes_to_client: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    data_connections: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data_bytes_from_client: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data_bytes_to_client: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    handshake_ms: Option<u64>,
    duration_ms: u64,
    close_reason: CloseReason,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// A stream the proxy can relay.
pub(crate) trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A stream that counts what it reads, remembers when it last moved, and whether it ended or
/// failed (so a reset is blamed on the right side).
struct Watched<S> {
    inner: S,
    read: Arc<AtomicU64>,
    last: Arc<AtomicU64>,
    eof: Arc<AtomicBool>,
    failed: Arc<AtomicBool>,
    epoch: Instant,
}

impl<S> Watched<S> {
    fn new(inner: S, last: Arc<AtomicU64>, epoch: Instant) -> Self {
        Self {
            inner,
            read: Arc::default(),
            last,
            eof: Arc::default(),
            failed: Arc::default(),
            epoch,
        }
    }
    fn touch(&self) {
        self.last
            .store(self.epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
    }
    /// Passes a poll result on, remembering an error.
    fn watch<T>(&self, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if let Poll::Ready(Err(_)) = &poll {
            self.failed.store(true, Ordering::Relaxed);
        }
        poll
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = poll {
            let n = (buf.filled().len() - before) as u64;
            if n == 0 {
                self.eof.store(true, Ordering::Relaxed);
            }
            self.read.fetch_add(n, Ordering::Relaxed);
            self.touch();
        }
        self.watch(poll)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(_)) = poll {
            self.touch();
        }
        self.watch(poll)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(poll)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.watch(poll)
    }
}

/// Why a handshake failed, for logs and metrics.
fn handshake_reason(e: &io::Error) -> CloseReason {
    use rustls::{CertificateError, Error as E};
    match e.get_ref().and_then(|inner| inner.downcast_ref::<E>()) {
        Some(E::PeerIncompatible(_)) => CloseReason::PeerIncompatible,
        Some(E::InvalidMessage(_)) | Some(E::InappropriateMessage { .. }) => {
            CloseReason::BadClientHello
        }
        Some(E::NoCertificatesPresented) => CloseReason::ClientCertificateMissing,
        Some(E::InvalidCertificate(CertificateError::Revoked)) => {
            CloseReason::ClientCertificateRevoked
        }
        Some(E::InvalidCertificate(
            CertificateError::UnknownRevocationStatus
            | CertificateError::ExpiredRevocationList
            | CertificateError::ExpiredRevocationListContext { .. },
        )) => CloseReason::ClientCertificateRevocationUnknown,
        Some(E::InvalidCertificate(_)) => CloseReason::ClientCertificateInvalid,
        Some(E::AlertReceived(_)) => CloseReason::ClientAlert,
        Some(E::Other(other)) if other.0.is::<crate::token_key::TokenError>() => {
            CloseReason::HandshakeFailed
        }
        Some(_) => CloseReason::TlsError,
        None => match e.kind() {
            io::ErrorKind::UnexpectedEof => CloseReason::ClientClosed,
            io::ErrorKind::ConnectionReset => CloseReason::ClientReset,
            _ => CloseReason::IoError,
        },
    }
}

/// The subject and the subjectAltName entries of a client certificate.
fn identity(der: &[u8]) -> Option<(String, Vec<String>)> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let subject = cert.subject().to_string();
    let sans = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|ext| {
            ext.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    x509_parser::extensions::GeneralName::DNSName(d) => Some((*d).to_owned()),
                    x509_parser::extensions::GeneralName::IPAddress(b) => match b.len() {
                        4 => <[u8; 4]>::try_from(*b)
                            .ok()
                            .map(|o| std::net::Ipv4Addr::from(o).to_string()),
                        16 => <[u8; 16]>::try_from(*b)
                            .ok()
                            .map(|o| std::net::Ipv6Addr::from(o).to_string()),
                        _ => None,
                    },
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Some((subject, sans))
}

/// A DN without the spaces around its separators, for comparing.
fn normalize_dn(dn: &str) -> String {
    dn.split(',')
        .map(|part| part.trim().replace(" = ", "="))
        .collect::<Vec<_>>()
        .join(",")
}

/// Whether the client's certificate passes the listener's subject and SAN rules.
fn allowed(auth: &ClientAuth, subject: &str, sans: &[String]) -> bool {
    let subject_ok = auth.allowed_subjects.is_empty()
        || auth
            .allowed_subjects
            .iter()
            .any(|s| normalize_dn(s).eq_ignore_ascii_case(&normalize_dn(subject)));
    let san_ok = auth.allowed_sans.is_empty()
        || auth
            .allowed_sans
            .iter()
            .any(|a| sans.iter().any(|s| s.eq_ignore_ascii_case(a)));
    subject_ok && san_ok
}

async fn connect(backend: &Backend) -> io::Result<Box<dyn Stream>> {
    Ok(match backend {
        Backend::Tcp(addr) => {
            let s = TcpStream::connect(addr.as_str()).await?;
            let _ = s.set_nodelay(true);
            Box::new(s)
        }
        Backend::Unix(path) => Box::new(UnixStream::connect(path).await?),
    })
}

/// A connection to a backend within `wait`, or whether it timed out (`true`) and why not.
pub(crate) async fn connect_within(
    backend: &Backend,
    wait: Duration,
) -> Result<Box<dyn Stream>, (bool, String)> {
    match tokio::time::timeout(wait, connect(backend)).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err((false, e.to_string())),
        Err(_) => Err((true, format!("no connection within {wait:?}"))),
    }
}

/// The address of a TCP backend, as its data connections reach it.
async fn backend_ip(backend: &Backend) -> Option<std::net::IpAddr> {
    match backend {
        Backend::Tcp(addr) => tokio::net::lookup_host(addr.as_str())
            .await
            .ok()?
            .next()
            .map(|a| a.ip()),
        Backend::Unix(_) => None,
    }
}

/// TLS to a backend over `upstream`, the handshake within `wait`.
async fn secure(
    bt: &BackendTlsConfig,
    backend: &Backend,
    upstream: Box<dyn Stream>,
    wait: Duration,
) -> Result<tokio_rustls::client::TlsStream<Box<dyn Stream>>, String> {
    let name = bt
        .name_for(backend)
        .ok_or("no name to verify its certificate against (set server_name)")?;
    let connector = tokio_rustls::TlsConnector::from(bt.config.clone());
    match tokio::time::timeout(wait, connector.connect(name, upstream)).await {
        Ok(done) => done.map_err(|e| e.to_string()),
        Err(_) => Err(format!("no TLS handshake within {wait:?}")),
    }
}

/// Serves one accepted client connection to its end and returns its log line.
pub async fn serve(
    tcp: TcpStream,
    client: SocketAddr,
    local: SocketAddr,
    rt: Arc<ListenerRuntime>,
    metrics: &Metrics,
) -> ConnectionLog {
    let started = Instant::now();
    let mut log = ConnectionLog {
        kind: "connection",
        listener: rt.name.clone(),
        client: client.to_string(),
        ..ConnectionLog::default()
    };
    let _ = tcp.set_nodelay(true);
    metrics.accepted();
    let outcome = relay(tcp, client, local, &rt, metrics, &mut log, started).await;
    metrics.closed(log.bytes_from_client, log.bytes_to_client);
    if let Err((reason, detail)) = outcome {
        metrics.failure(&rt.name, reason);
        log.close_reason = reason;
        log.error = Some(detail);
    }
    log.time = crate::time_now();
    log.duration_ms = started.elapsed().as_millis() as u64;
    log
}

/// Why a connection failed, and the details for its log line.
type Failure = (CloseReason, String);

async fn relay(
    tcp: TcpStream,
    client: SocketAddr,
    local: SocketAddr,
    rt: &ListenerRuntime,
    metrics: &Metrics,
    log: &mut ConnectionLog,
    started: Instant,
) -> Result<(), Failure> {
    let acceptor = tokio_rustls::TlsAcceptor::from(rt.tls.config.clone());
    let deadline = rt.global.handshake();
    // The plaintext opening and the handshake share the handshake deadline.
    let by = tokio::time::Instant::now() + deadline;
    let mut tcp = tcp;
    if let Some(proto) = rt.starttls {
        log.starttls = Some(proto.as_str());
        match tokio::time::timeout_at(by, crate::starttls::negotiate(proto, &mut tcp)).await {
            Err(_) => {
                return Err((
                    CloseReason::HandshakeTimeout,
                    format!("no STARTTLS within {deadline:?}"),
                ))
            }
            Ok(Err(refusal)) => {
                let reason = match refusal {
                    Refusal::Quit => CloseReason::ClientClosed,
                    Refusal::Io(_) => CloseReason::IoError,
                    Refusal::Plaintext(_) | Refusal::Malformed(_) => CloseReason::StarttlsRefused,
                };
                return Err((reason, refusal.to_string()));
            }
            Ok(Ok(())) => {}
        }
    }
    let mut tls = match tokio::time::timeout_at(by, acceptor.accept(tcp)).await {
        Err(_) => {
            return Err((
                CloseReason::HandshakeTimeout,
                format!("no complete handshake within {deadline:?}"),
            ))
        }
        Ok(Err(e)) => return Err((handshake_reason(&e), e.to_string())),
        Ok(Ok(s)) => s,
    };
    let handshake = started.elapsed();
    log.handshake_ms = Some(handshake.as_millis() as u64);
    let client_chain: Option<Vec<rustls::pki_types::CertificateDer<'static>>>;
    {
        let (_, conn) = tls.get_ref();
        log.sni = conn.server_name().map(str::to_owned);
        log.version = conn.protocol_version().map(|v| match v {
            rustls::ProtocolVersion::TLSv1_3 => "tls1.3".to_owned(),
            rustls::ProtocolVersion::TLSv1_2 => "tls1.2".to_owned(),
            other => format!("{other:?}"),
        });
        log.suite = conn.negotiated_cipher_suite().map(suite_name);
        log.group = conn.negotiated_key_exchange_group().map(group_name);
        log.alpn = conn
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned());
        let who = conn
            .peer_certificates()
            .and_then(|c| c.first())
            .and_then(|c| identity(c));
        client_chain = conn
            .peer_certificates()
            .map(|c| c.iter().map(|c| c.clone().into_owned()).collect());
        if let Some(auth) = &rt.tls.client_auth {
            if let Some((subject, sans)) = &who {
                log.client_subject = Some(subject.clone());
                if !allowed(auth, subject, sans) {
                    let _ = tls.shutdown().await;
                    return Err((
                        CloseReason::ClientNotAllowed,
                        format!("client certificate {subject:?} is not in allowed_subjects/allowed_sans"),
                    ));
                }
            }
        }
        metrics.handshake(
            &rt.name,
            log.version.as_deref().unwrap_or("?"),
            log.suite.as_deref().unwrap_or("?"),
            log.group.as_deref().unwrap_or("none"),
            handshake,
        );
    }
    if let (Some(ocsp), Some(chain)) = (&rt.tls.ocsp, &client_chain) {
        let outcome = ocsp.check(chain).await;
        log.client_ocsp = Some(outcome.status.as_str());
        log.client_ocsp_cached = outcome.cached;
        if let Some(reason) = ocsp.refusal(&outcome) {
            let _ = tls.shutdown().await;
            return Err((reason, outcome.error.unwrap_or_default()));
        }
        log.client_ocsp_error = outcome.error;
    }
    let pool = rt.backend_for(log.sni.as_deref()).clone();
    let mut tried = Vec::new();
    let mut refused = false;
    let mut reached = None;
    for i in pool.candidates() {
        let backend = pool.backend(i);
        match connect_within(backend, deadline).await {
            Ok(s) => {
                pool.succeeded(i);
                reached = Some((s, pool.lease(i)));
                break;
            }
            Err((timed_out, why)) => {
                let why = format!("{backend}: {why}");
                refused |= !timed_out;
                pool.failed(i, &why);
                tried.push(why);
            }
        }
    }
    let Some((mut upstream, lease)) = reached else {
        let _ = tls.shutdown().await;
        let reason = if refused {
            CloseReason::BackendUnreachable
        } else {
            CloseReason::BackendTimeout
        };
        return Err((reason, tried.join("; ")));
    };
    let backend = lease.backend().clone();
    log.backend = Some(backend.to_string());
    if let Some(pp) = rt.proxy_protocol {
        let header = match pp {
            ProxyProtocol::V1 => proxy_protocol::v1(client, local),
            ProxyProtocol::V2 => proxy_protocol::v2(client, local),
        };
        if let Err(e) = upstream.write_all(&header).await {
            return Err((
                CloseReason::BackendClosed,
                format!("{backend}: PROXY header: {e}"),
            ));
        }
    }
    if let Some(bt) = &rt.backend_tls {
        let secured = match secure(bt, &backend, upstream, deadline).await {
            Ok(s) => s,
            Err(why) => {
                let _ = tls.shutdown().await;
                return Err((CloseReason::BackendTlsFailed, format!("{backend}: {why}")));
            }
        };
        let (_, conn) = secured.get_ref();
        log.backend_suite = conn.negotiated_cipher_suite().map(suite_name);
        upstream = Box::new(secured);
    }
    if let Some(proto) = rt.starttls {
        let greeting = crate::starttls::skip_greeting(proto, &mut upstream);
        let why = match tokio::time::timeout(deadline, greeting).await {
            Ok(Ok(())) => None,
            Ok(Err(why)) => Some(why),
            Err(_) => Some(format!("no greeting within {deadline:?}")),
        };
        if let Some(why) = why {
            let _ = tls.shutdown().await;
            return Err((CloseReason::BackendClosed, format!("{backend}: {why}")));
        }
    }
    let epoch = Instant::now();
    let last = Arc::new(AtomicU64::new(0));
    let mut ftp_stats = None;
    if rt.starttls == Some(Starttls::Ftp) {
        let Some(backend_ip) = backend_ip(&backend).await else {
            let _ = tls.shutdown().await;
            return Err((
                CloseReason::BackendUnreachable,
                format!("{backend}: no address for its data connections"),
            ));
        };
        let stats = Arc::new(crate::ftp::DataStats::default());
        let ctx = crate::ftp::FtpContext {
            tls: rt.tls.config.clone(),
            client: client.ip(),
            local: local.ip(),
            backend: backend_ip,
            deadline,
            stats: stats.clone(),
            last: last.clone(),
            epoch,
        };
        let (near, far) = tokio::io::duplex(BUFFER);
        tokio::spawn(crate::ftp::control(far, upstream, ctx));
        upstream = Box::new(near);
        ftp_stats = Some(stats);
    }
    let mut front = Watched::new(tls, last.clone(), epoch);
    let mut back = Watched::new(upstream, last.clone(), epoch);
    let (from_client, to_client) = (front.read.clone(), back.read.clone());
    let (client_eof, backend_eof) = (front.eof.clone(), back.eof.clone());
    let (client_failed, backend_failed) = (front.failed.clone(), back.failed.clone());
    let idle = rt.global.idle();
    let copy = tokio::io::copy_bidirectional_with_sizes(&mut front, &mut back, BUFFER, BUFFER);
    tokio::pin!(copy);
    let tick = Duration::from_millis(250).min(idle);
    let result = loop {
        tokio::select! {
            r = &mut copy => break r.map(|_| ()),
            () = tokio::time::sleep(tick) => {
                let quiet = epoch.elapsed().as_millis() as u64 - last.load(Ordering::Relaxed);
                if Duration::from_millis(quiet) >= idle {
                    break Err(io::Error::new(io::ErrorKind::TimedOut, "idle"));
                }
            }
        }
    };
    log.bytes_from_client = from_client.load(Ordering::Relaxed);
    log.bytes_to_client = to_client.load(Ordering::Relaxed);
    if let Some(stats) = ftp_stats {
        log.data_connections = Some(stats.connections.load(Ordering::Relaxed));
        log.data_bytes_from_client = Some(stats.from_client.load(Ordering::Relaxed));
        log.data_bytes_to_client = Some(stats.to_client.load(Ordering::Relaxed));
    }

    match result {
        Ok(()) => {
            log.close_reason = if client_eof.load(Ordering::Relaxed)
                && !backend_eof.load(Ordering::Relaxed)
            {
                CloseReason::ClientClosed
            } else if backend_eof.load(Ordering::Relaxed) && !client_eof.load(Ordering::Relaxed) {
                CloseReason::BackendClosed
            } else {
                CloseReason::Closed
            };
            Ok(())
        }
        // Clients that close TCP without close_notify after their answer (common with
        // `Connection: close`) have ended normally.
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            log.close_reason = CloseReason::ClientClosed;
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::TimedOut => Err((
            CloseReason::IdleTimeout,
            format!("no data either way for {idle:?}"),
        )),
        Err(e) if backend_failed.load(Ordering::Relaxed) => {
            // The client gets no close_notify: its TLS stack sees the answer was cut short.
            Err((CloseReason::BackendReset, e.to_string()))
        }
        Err(e) if client_failed.load(Ordering::Relaxed) => {
            Err((CloseReason::ClientReset, e.to_string()))
        }
        Err(e) => Err((CloseReason::Reset, e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_rules() {
        let auth = ClientAuth {
            ca: "ca.pem".into(),
            required: true,
            allowed_subjects: vec!["CN=partner1, O=Example".into()],
            allowed_sans: vec![],
            crls: vec![],
            crl_scope: None,
            allow_unknown_revocation: false,
            client_ocsp: crate::config::OcspMode::Off,
            ocsp_responder: None,
            ocsp_timeout: 5.0,
            ocsp_scope: crate::config::ChainScope::Leaf,
            ocsp_failure_hold: 30.0,
        };
        assert!(allowed(&auth, "CN=partner1,O=Example", &[]));
        assert!(!allowed(&auth, "CN=partner2,O=Example", &[]));
        let sans = ClientAuth {
            allowed_subjects: vec![],
            allowed_sans: vec!["a.example".into()],
            ..auth
        };
        assert!(allowed(&sans, "CN=x", &["A.example".into()]));
        assert!(!allowed(&sans, "CN=x", &["b.example".into()]));
    }
}
