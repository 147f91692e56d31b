//! HTTP POST of event batches (NDJSON, or Splunk HEC envelopes, which HEC takes concatenated),
//! over plain HTTP or HTTPS with the FIPS rustls provider. Each batch is tried again with a
//! doubling pause after a connection failure or a 408, 429 or 5xx status; any other non-2xx
//! status is an error at once.
use super::{split_host_port, Event, Outcome};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// Events a batch holds at most.
const BATCH_EVENTS: usize = 500;
/// Bytes a batch holds at most (HEC's default limit is 1 MB).
const BATCH_BYTES: usize = 800 * 1024;
/// How long the first event of a batch waits for more.
const BATCH_WAIT: Duration = Duration::from_millis(500);
/// Attempts per batch.
const ATTEMPTS: u32 = 4;
/// Where Debian keeps the system's trusted CAs.
const SYSTEM_CAS: &str = "/etc/ssl/certs/ca-certificates.crt";

/// An HTTP receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTarget {
    /// https or http.
    pub tls: bool,
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Path and query.
    pub path: String,
    /// Extra headers (`Authorization: Splunk …`).
    pub headers: Vec<(String, String)>,
    /// Content-Type of the body.
    pub content_type: String,
    /// CA bundle for HTTPS (default: the system's).
    pub ca_file: Option<String>,
}

impl HttpTarget {
    /// Parses `http[s]://host[:port][/path]`.
    pub fn parse(url: &str) -> Result<Self, String> {
        let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else {
            return Err(format!("{url:?}: expected http:// or https://"));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.contains('@') {
            return Err(format!(
                "{url:?}: credentials in the URL are not supported; use --http-header"
            ));
        }
        let (host, port) = split_host_port(authority, Some(if tls { 443 } else { 80 }))
            .map_err(|e| format!("{url:?}: {e}"))?;
        if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!(
                "{url:?}: the path has spaces or control characters"
            ));
        }
        Ok(Self {
            tls,
            host,
            port,
            path: path.to_owned(),
            headers: Vec::new(),
            content_type: "application/x-ndjson".into(),
            ca_file: None,
        })
    }

    /// Adds a header given as `Name: value`.
    pub fn add_header(&mut self, header: &str) -> Result<(), String> {
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| format!("--http-header {header:?}: expected NAME: VALUE"))?;
        let name = name.trim();
        let ok_name = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b));
        if !ok_name || value.chars().any(|c| c == '\r' || c == '\n') {
            return Err(format!("--http-header {header:?}: not a valid header"));
        }
        self.headers
            .push((name.to_owned(), value.trim().to_owned()));
        Ok(())
    }

    fn authority(&self) -> String {
        let default = if self.tls { 443 } else { 80 };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == default {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// The request bytes for a body.
    fn request(&self, body: &[u8]) -> Vec<u8> {
        let mut head = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: fipsgate/{}\r\nContent-Type: {}\r\n\
             Content-Length: {}\r\nConnection: close\r\n",
            self.path,
            self.authority(),
            env!("CARGO_PKG_VERSION"),
            self.content_type,
            body.len()
        );
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body);
        bytes
    }
}

impl fmt::Display for HttpTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "https" } else { "http" };
        write!(f, "{scheme}://{}{}", self.authority(), self.path)
    }
}

/// Why one attempt failed, and whether another may succeed.
struct Failure {
    message: String,
    retry: bool,
}

/// The HTTPS client configuration: FIPS provider, the given or the system's CAs.
fn tls_config(ca_file: Option<&str>) -> Result<Arc<rustls::ClientConfig>, String> {
    let file = ca_file.unwrap_or(SYSTEM_CAS);
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(file).map_err(|e| format!("{file}: {e}"))?;
    for cert in certs {
        let cert = cert.map_err(|e| format!("{file}: {e}"))?;
        roots.add(cert).map_err(|e| format!("{file}: {e}"))?;
    }
    if roots.is_empty() {
        return Err(format!("{file}: no certificates"));
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::default_fips_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Reads the status code of the response (the rest is not needed).
async fn status<S: AsyncRead + Unpin>(stream: &mut S) -> Result<u16, String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(2).any(|w| w == b"\r\n") {
        let n = stream.read(&mut buf).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the receiver closed without answering".into());
        }
        head.extend_from_slice(&buf[..n]);
        if head.len() > 16 * 1024 {
            return Err("the status line is too long".into());
        }
    }
    let line = String::from_utf8_lossy(&head);
    let mut words = line.split_whitespace();
    match (words.next(), words.next().and_then(|c| c.parse().ok())) {
        (Some(v), Some(code)) if v.starts_with("HTTP/1.") => Ok(code),
        _ => Err(format!(
            "not an HTTP response: {:?}",
            line.lines().next().unwrap_or_default()
        )),
    }
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    request: &[u8],
) -> Result<u16, String> {
    stream.write_all(request).await.map_err(|e| e.to_string())?;
    stream.flush().await.map_err(|e| e.to_string())?;
    status(stream).await
}

async fn post_once(
    target: &HttpTarget,
    tls: Option<&Arc<rustls::ClientConfig>>,
    body: &[u8],
) -> Result<(), Failure> {
    let transient = |message: String| Failure {
        message,
        retry: true,
    };
    let tcp = TcpStream::connect((target.host.as_str(), target.port))
        .await
        .map_err(|e| transient(format!("connect: {e}")))?;
    let request = target.request(body);
    let code = match tls {
        Some(config) => {
            let name = ServerName::try_from(target.host.clone())
                .map_err(|e| transient(format!("server name: {e}")))?;
            let mut stream = tokio_rustls::TlsConnector::from(config.clone())
                .connect(name, tcp)
                .await
                .map_err(|e| transient(format!("TLS: {e}")))?;
            exchange(&mut stream, &request).await
        }
        None => {
            let mut stream = tcp;
            exchange(&mut stream, &request).await
        }
    }
    .map_err(transient)?;
    match code {
        200..=299 => Ok(()),
        408 | 429 | 500..=599 => Err(transient(format!("status {code}"))),
        _ => Err(Failure {
            message: format!("status {code}"),
            retry: false,
        }),
    }
}

/// Posts one batch with retries; Err is the last failure.
async fn post(
    target: &HttpTarget,
    tls: Option<&Arc<rustls::ClientConfig>>,
    body: &[u8],
    timeout: Duration,
) -> Result<(), String> {
    let mut pause = Duration::from_millis(250);
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        match tokio::time::timeout(timeout, post_once(target, tls, body)).await {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(f)) => {
                last = f.message;
                if !f.retry {
                    break;
                }
            }
            Err(_) => last = format!("no answer within {timeout:?}"),
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(pause).await;
            pause *= 2;
        }
    }
    Err(format!("{target}: {last}"))
}

/// Posts batches until the queue closes.
pub(crate) async fn run(
    target: HttpTarget,
    mut events: mpsc::Receiver<Event>,
    timeout: Duration,
) -> Outcome {
    let mut outcome = Outcome::default();
    let tls = if target.tls {
        match tls_config(target.ca_file.as_deref()) {
            Ok(c) => Some(c),
            Err(e) => {
                outcome.last_error = Some(e);
                while events.recv().await.is_some() {
                    outcome.lost += 1;
                }
                return outcome;
            }
        }
    } else {
        None
    };
    let mut open = true;
    while open {
        let Some(first) = events.recv().await else {
            break;
        };
        let mut body = first.line.into_bytes();
        body.push(b'\n');
        let mut count = 1u64;
        let until = tokio::time::Instant::now() + BATCH_WAIT;
        while (count as usize) < BATCH_EVENTS && body.len() < BATCH_BYTES {
            match tokio::time::timeout_at(until, events.recv()).await {
                Ok(Some(e)) => {
                    body.extend_from_slice(e.line.as_bytes());
                    body.push(b'\n');
                    count += 1;
                }
                Ok(None) => {
                    open = false;
                    break;
                }
                Err(_) => break,
            }
        }
        match post(&target, tls.as_ref(), &body, timeout).await {
            Ok(()) => outcome.delivered += count,
            Err(e) => {
                outcome.lost += count;
                outcome.last_error = Some(e);
            }
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_headers_and_requests() {
        let mut t = HttpTarget::parse("http://127.0.0.1:8088/services/collector/event")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (t.port, t.path.as_str()),
            (8088, "/services/collector/event")
        );
        assert!(t.add_header("Authorization: Splunk 1234").is_ok());
        assert!(t.add_header("Bad\r\nHeader: x").is_err());
        assert!(t.add_header("X: a\r\nInjected: 1").is_err());
        let req = String::from_utf8_lossy(&t.request(b"{}\n")).into_owned();
        assert!(
            req.starts_with("POST /services/collector/event HTTP/1.1\r\nHost: 127.0.0.1:8088\r\n")
        );
        assert!(req.contains("\r\nAuthorization: Splunk 1234\r\n"));
        assert!(req.ends_with(
            "\r\nContent-Length: 3\r\nConnection: close\r\nAuthorization: Splunk 1234\r\n\r\n{}\n"
        ));
        let v6 = HttpTarget::parse("https://[::1]/x").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((v6.host.as_str(), v6.port, v6.tls), ("::1", 443, true));
        assert_eq!(v6.to_string(), "https://[::1]/x");
        assert!(HttpTarget::parse("http://user:pw@host/").is_err());
    }
}
