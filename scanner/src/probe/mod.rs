//! Async probes on tokio. Every network wait has a deadline; every failure is a typed error.
pub(crate) mod ahead;
pub mod certs;
pub mod confirm;
pub mod pace;
mod places;
pub mod ssh;
pub mod starttls;
pub mod tls;

pub use places::Places;
pub(crate) use places::Slot;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// What kind of failure ended a probe (the `error.kind` of reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The host name did not resolve.
    Dns,
    /// The port is closed.
    ConnectRefused,
    /// A connect or a read passed its deadline.
    Timeout,
    /// The server reset the connection.
    ConnectionReset,
    /// The server does not speak TLS (or SSH) there.
    NotTls,
    /// The server refused every hello with an alert.
    TlsAlert,
    /// The server sent bytes that break the protocol.
    Malformed,
    /// The STARTTLS dialogue failed.
    Starttls,
    /// Any other I/O failure.
    Io,
}

impl ErrorKind {
    /// Every kind.
    pub const ALL: [ErrorKind; 9] = [
        Self::Dns,
        Self::ConnectRefused,
        Self::Timeout,
        Self::ConnectionReset,
        Self::NotTls,
        Self::TlsAlert,
        Self::Malformed,
        Self::Starttls,
        Self::Io,
    ];

    /// The report spelling (`error.kind`), as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dns => "dns",
            Self::ConnectRefused => "connect_refused",
            Self::Timeout => "timeout",
            Self::ConnectionReset => "connection_reset",
            Self::NotTls => "not_tls",
            Self::TlsAlert => "tls_alert",
            Self::Malformed => "malformed",
            Self::Starttls => "starttls",
            Self::Io => "io",
        }
    }
}

/// A probe failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProbeError {
    /// What kind.
    pub kind: ErrorKind,
    /// What happened, for people.
    pub message: String,
}

impl ProbeError {
    /// A new error.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    fn io(e: &std::io::Error, doing: &str) -> Self {
        let kind = match e.kind() {
            std::io::ErrorKind::ConnectionRefused => ErrorKind::ConnectRefused,
            std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::BrokenPipe => ErrorKind::ConnectionReset,
            std::io::ErrorKind::TimedOut => ErrorKind::Timeout,
            _ => ErrorKind::Io,
        };
        Self::new(kind, format!("{doing}: {e}"))
    }
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

impl std::error::Error for ProbeError {}

/// What a failed probe heard from the port before it failed: whether the endpoint is there at
/// all, and whether anything named the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// The first connection was refused: the port is closed.
    Refused,
    /// The first connection got no answer: the port is filtered, or the host is down.
    NoAnswer,
    /// The port accepted connections, but nothing it sent named a protocol.
    Nothing,
    /// The peer spoke the probed protocol (TLS records, an SSH identification, the STARTTLS
    /// protocol's own replies) before the probe failed.
    Protocol,
    /// An SSH server answered the TLS hello with this identification line.
    SshIdentification(String),
}

impl Heard {
    /// What a probe that never got past its first connect heard, from that connect's error.
    pub fn at_connect(e: &ProbeError) -> Self {
        if e.kind == ErrorKind::ConnectRefused {
            Self::Refused
        } else {
            Self::NoAnswer
        }
    }
}

/// A probe that failed: why, the connections it cost, and what it heard first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Why it failed.
    pub error: ProbeError,
    /// Connections it opened, the failed ones included.
    pub connections: u32,
    /// What it heard from the port before failing.
    pub heard: Heard,
}

/// Settings shared by every connection of a probe.
#[derive(Debug, Clone)]
pub struct ProbeConfig {
    /// Deadline for connecting and for each read.
    pub timeout: Duration,
    /// SNI host name to send (none for bare IP targets unless given).
    pub sni: Option<String>,
    /// Largest handshake message accepted (certificate chains).
    pub max_handshake_message: usize,
    /// STARTTLS dialogue to run before TLS, if any.
    pub starttls: Option<starttls::Starttls>,
    /// Pause between two connections to the same endpoint (servers that limit connection
    /// rates); the scan turns it into `spacing`.
    pub delay: Duration,
    /// Spaces the connections of one endpoint by `delay`, whichever part of the probe opens them.
    pub spacing: Option<Arc<pace::Pacer>>,
    /// Connections to this address at once, shared by every endpoint of the address
    /// (`--per-host`); none: no limit.
    pub host_slots: Option<Arc<Places>>,
    /// Confirm SSH endpoints with a real libssh2 handshake offering only what this policy
    /// approves.
    pub confirm: Option<fipsgate_cipher_db::policy::Policy>,
    /// Global connection rate shared by every probe of a scan (`--rate`).
    pub pacer: Option<Arc<pace::Pacer>>,
    /// Further attempts of a TCP connect that timed out or was reset.
    pub retries: u32,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            sni: None,
            max_handshake_message: 256 * 1024,
            starttls: None,
            delay: Duration::ZERO,
            spacing: None,
            host_slots: None,
            confirm: None,
            pacer: None,
            retries: 0,
        }
    }
}

/// Seeds the crypto library's random generator on a thread of its own, once per process. Its
/// first use runs the FIPS entropy source's start-up tests (40-100 ms of CPU here), which would
/// otherwise stall the runtime thread of the first handshake or key exchange that needs them.
pub(crate) fn warm_up_randomness() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        std::thread::spawn(|| {
            let mut byte = [0u8; 1];
            // A failure here is met again, and reported, by the handshake that needs it.
            let _ = aws_lc_rs::rand::fill(&mut byte);
        });
    });
}

/// A TCP connection with deadlines, counted.
pub(crate) struct Conn {
    stream: TcpStream,
    deadline: Duration,
    slot: Slot,
    /// When its connect began: an answer on it is due two round trips later at the earliest,
    /// even where connect returned at once (a TCP handshake completed by a nearby middlebox).
    opened: tokio::time::Instant,
}

impl Conn {
    /// Connects within the deadline, at the scan's rate, trying again after a timeout or a reset
    /// (lost SYNs on busy networks) with a doubling pause; a refusal is final.
    pub(crate) async fn open(addr: SocketAddr, cfg: &ProbeConfig) -> Result<Self, ProbeError> {
        Self::open_in(Slot::acquire(cfg).await, addr, cfg).await
    }

    /// Connects in a place already taken.
    pub(crate) async fn open_in(
        slot: Slot,
        addr: SocketAddr,
        cfg: &ProbeConfig,
    ) -> Result<Self, ProbeError> {
        let deadline = cfg.timeout;
        let mut pause = Duration::from_millis(200);
        let mut attempt = 0;
        loop {
            if let Some(spacing) = &cfg.spacing {
                spacing.wait().await;
            }
            if let Some(pacer) = &cfg.pacer {
                pacer.wait().await;
            }
            let opened = tokio::time::Instant::now();
            let failure = match timeout(deadline, TcpStream::connect(addr)).await {
                Err(_) => ProbeError::new(
                    ErrorKind::Timeout,
                    format!("connect to {addr} timed out after {deadline:?}"),
                ),
                Ok(Err(e)) => ProbeError::io(&e, &format!("connect to {addr}")),
                Ok(Ok(stream)) => {
                    let _ = stream.set_nodelay(true);
                    return Ok(Self {
                        stream,
                        deadline,
                        slot,
                        opened,
                    });
                }
            };
            let transient = matches!(
                failure.kind,
                ErrorKind::Timeout | ErrorKind::ConnectionReset
            );
            if !transient || attempt >= cfg.retries {
                return Err(failure);
            }
            attempt += 1;
            tokio::time::sleep(pause).await;
            pause *= 2;
        }
    }

    /// Sends all bytes within the deadline.
    pub(crate) async fn send(&mut self, bytes: &[u8]) -> Result<(), ProbeError> {
        match timeout(self.deadline, self.stream.write_all(bytes)).await {
            Err(_) => Err(ProbeError::new(ErrorKind::Timeout, "send timed out")),
            Ok(Err(e)) => Err(ProbeError::io(&e, "send")),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// Closes the sending side (a TCP half-close): the peer reads what was sent, then the end.
    pub(crate) async fn finish_sending(&mut self) -> Result<(), ProbeError> {
        match timeout(self.deadline, self.stream.shutdown()).await {
            Err(_) => Err(ProbeError::new(ErrorKind::Timeout, "shutdown timed out")),
            Ok(Err(e)) => Err(ProbeError::io(&e, "shutdown")),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// Reads what is available within the deadline; Ok(0) is end of stream.
    pub(crate) async fn recv(&mut self, buf: &mut [u8]) -> Result<usize, ProbeError> {
        match timeout(self.deadline, self.stream.read(buf)).await {
            Err(_) => Err(ProbeError::new(
                ErrorKind::Timeout,
                format!("no answer within {:?}", self.deadline),
            )),
            Ok(Err(e)) => Err(ProbeError::io(&e, "read")),
            Ok(Ok(n)) => Ok(n),
        }
    }

    /// Connects and runs the configured STARTTLS dialogue: the connection is then ready for TLS.
    pub(crate) async fn open_tls(addr: SocketAddr, cfg: &ProbeConfig) -> Result<Self, ProbeError> {
        let mut conn = Self::open(addr, cfg).await?;
        conn.start_tls(addr, cfg).await?;
        Ok(conn)
    }

    /// Runs the configured STARTTLS dialogue, if any, within its deadline.
    pub(crate) async fn start_tls(
        &mut self,
        addr: SocketAddr,
        cfg: &ProbeConfig,
    ) -> Result<(), ProbeError> {
        let Some(proto) = cfg.starttls else {
            return Ok(());
        };
        let host = cfg.sni.clone().unwrap_or_else(|| addr.ip().to_string());
        let deadline = cfg.timeout * 3;
        match tokio::time::timeout(deadline, starttls::negotiate(self, proto, &host)).await {
            Ok(r) => r,
            Err(_) => Err(ProbeError::new(
                ErrorKind::Timeout,
                format!("{proto} STARTTLS did not complete within {deadline:?}"),
            )),
        }
    }

    /// When its connect began.
    pub(crate) fn opened(&self) -> tokio::time::Instant {
        self.opened
    }

    /// Closes the connection and keeps its place, for another connection to the address.
    pub(crate) fn into_slot(self) -> Slot {
        self.slot
    }

    /// The underlying stream, for a real TLS handshake, and the place it holds.
    pub(crate) fn into_stream(self) -> (TcpStream, Slot) {
        (self.stream, self.slot)
    }
}
