//! FTP behind a STARTTLS front (RFC 4217): after AUTH TLS the control connection is relayed
//! line by line so that the proxy can answer PBSZ and PROT itself (data is always protected),
//! refuse active mode and CCC, and rewrite each PASV/EPSV answer to a data port of its own.
//! Each data connection is TLS from the same client address, and plaintext to the backend's
//! passive port.
use crate::forward::Stream;
use rustls::ServerConfig;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
};
use tokio::net::TcpListener;
use tokio::sync::Mutex;

/// Control lines longer than this end the session (RFC 959 lines are short).
const MAX_LINE: u64 = 4096;

/// Data connection counters, read into the control connection's log line.
#[derive(Debug, Default)]
pub struct DataStats {
    /// Data connections relayed.
    pub connections: AtomicU64,
    /// Bytes from the client over them.
    pub from_client: AtomicU64,
    /// Bytes to the client over them.
    pub to_client: AtomicU64,
}

/// What the control relay needs for data connections.
#[derive(Debug, Clone)]
pub struct FtpContext {
    /// The listener's TLS configuration, for the data connections.
    pub tls: Arc<ServerConfig>,
    /// The client's address: only it may open the data connections.
    pub client: IpAddr,
    /// The proxy's address the client reached: data ports are opened on it.
    pub local: IpAddr,
    /// The backend's address, whose passive ports the data goes to.
    pub backend: IpAddr,
    /// How long a data connection may take to be opened and secured.
    pub deadline: Duration,
    /// Counters for the log.
    pub stats: Arc<DataStats>,
    /// Touched on data activity, so a long transfer does not make the control connection idle.
    pub last: Arc<AtomicU64>,
    /// The epoch `last` counts milliseconds from.
    pub epoch: Instant,
}

/// A reply the proxy gives itself instead of forwarding the command, if any.
fn own_reply(line: &str) -> Option<&'static str> {
    let (verb, arg) = crate::starttls::verb(line.trim_end());
    match verb.as_str() {
        "PBSZ" => Some("200 PBSZ=0\r\n"),
        "PROT" if arg.eq_ignore_ascii_case("P") => Some("200 PROT now Private\r\n"),
        "PROT" => Some("536 Only PROT P: data connections are TLS\r\n"),
        "PORT" | "EPRT" => Some("502 Active mode is not supported: use PASV or EPSV\r\n"),
        "CCC" => Some("533 The command channel stays TLS\r\n"),
        "AUTH" => Some("503 TLS is already on\r\n"),
        _ => None,
    }
}

/// The port a `227` (h1,h2,h3,h4,p1,p2) or `229` (|||port|) answer names.
fn passive_port(line: &str) -> Option<u16> {
    if let Some(rest) = line.strip_prefix("227 ") {
        let inner = rest.split_once('(')?.1.split_once(')')?.0;
        let n: Vec<u16> = inner
            .split(',')
            .map(|v| v.trim().parse().ok())
            .collect::<Option<_>>()?;
        return match n[..] {
            [_, _, _, _, p1, p2] if p1 < 256 && p2 < 256 => Some(p1 * 256 + p2),
            _ => None,
        };
    }
    let rest = line.strip_prefix("229 ")?;
    let inner = rest.split_once('(')?.1.split_once(')')?.0;
    let d = inner.chars().next()?;
    inner.trim_matches(d).parse().ok()
}

/// The answer to give the client for a data port of the proxy's own.
fn passive_answer(line: &str, own: SocketAddr) -> Option<String> {
    let port = own.port();
    if line.starts_with("229 ") {
        return Some(format!(
            "229 Entering Extended Passive Mode (|||{port}|)\r\n"
        ));
    }
    match own.ip() {
        IpAddr::V4(ip) => {
            let [a, b, c, d] = ip.octets();
            Some(format!(
                "227 Entering Passive Mode ({a},{b},{c},{d},{},{})\r\n",
                port / 256,
                port % 256
            ))
        }
        IpAddr::V6(_) => None,
    }
}

/// Reads the next whole line into `line`; false at the end, on an error or an overlong line.
async fn next_line<R: AsyncBufRead + Unpin>(r: &mut R, line: &mut String) -> bool {
    line.clear();
    let n = r.take(MAX_LINE).read_line(line).await.unwrap_or(0);
    n > 0 && line.ends_with('\n')
}

/// Relays the control connection between `client` (the plaintext inside the client's TLS) and
/// `backend` until either ends.
pub async fn control<C, B>(client: C, backend: B, ctx: FtpContext)
where
    C: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    B: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (client_read, client_write) = tokio::io::split(client);
    let (backend_read, mut backend_write) = tokio::io::split(backend);
    let to_client = Arc::new(Mutex::new(client_write));
    let answers = to_client.clone();
    let commands = async move {
        let mut lines = BufReader::new(client_read);
        let mut line = String::new();
        while next_line(&mut lines, &mut line).await {
            let sent = match own_reply(&line) {
                Some(reply) => answers.lock().await.write_all(reply.as_bytes()).await,
                None => backend_write.write_all(line.as_bytes()).await,
            };
            if sent.is_err() {
                break;
            }
        }
        let _ = backend_write.shutdown().await;
    };
    let replies = async move {
        let mut lines = BufReader::new(backend_read);
        let mut line = String::new();
        while next_line(&mut lines, &mut line).await {
            let reply = match passive_port(&line) {
                Some(port) => match open_data_port(&ctx, port).await {
                    Ok(own) => passive_answer(&line, own)
                        .unwrap_or_else(|| "425 Use EPSV over IPv6\r\n".into()),
                    Err(e) => format!("425 Cannot open a data port: {e}\r\n"),
                },
                None => line.clone(),
            };
            if to_client
                .lock()
                .await
                .write_all(reply.as_bytes())
                .await
                .is_err()
            {
                break;
            }
        }
        let _ = to_client.lock().await.shutdown().await;
    };
    tokio::join!(commands, replies);
}

/// Opens a data port on the proxy's address for the backend's passive `port`, and serves the
/// one data connection the client makes to it.
async fn open_data_port(ctx: &FtpContext, port: u16) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind((ctx.local, 0)).await?;
    let own = listener.local_addr()?;
    let ctx = ctx.clone();
    tokio::spawn(async move {
        let _ = tokio::time::timeout(ctx.deadline, serve_data(listener, &ctx, port)).await;
    });
    Ok(own)
}

/// Accepts the client's data connection (from its own address only), secures it, connects to
/// the backend's passive port, and relays until both sides have ended.
async fn serve_data(listener: TcpListener, ctx: &FtpContext, port: u16) {
    let tcp = loop {
        let Ok((tcp, from)) = listener.accept().await else {
            return;
        };
        if from.ip() == ctx.client {
            break tcp;
        }
    };
    drop(listener);
    // The backend first: clients start TLS on a data connection only once the server has
    // answered the transfer command, which a backend does only once it has its connection.
    let Ok(backend) = tokio::net::TcpStream::connect((ctx.backend, port)).await else {
        return;
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(ctx.tls.clone());
    let Ok(tls) = acceptor.accept(tcp).await else {
        return;
    };
    ctx.stats.connections.fetch_add(1, Ordering::Relaxed);
    let ctx = ctx.clone();
    // The transfer itself may take longer than the deadline to open it.
    tokio::spawn(async move { relay_data(tls, backend, &ctx).await });
}

async fn relay_data(mut client: impl Stream, mut backend: impl Stream, ctx: &FtpContext) {
    let ticker = async {
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            ctx.last
                .store(ctx.epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
        }
    };
    let copy = tokio::io::copy_bidirectional(&mut client, &mut backend);
    tokio::select! {
        done = copy => {
            if let Ok((up, down)) = done {
                ctx.stats.from_client.fetch_add(up, Ordering::Relaxed);
                ctx.stats.to_client.fetch_add(down, Ordering::Relaxed);
            }
        }
        () = ticker => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passive_answers_are_read_and_rewritten() {
        assert_eq!(
            passive_port("227 Entering Passive Mode (127,0,0,1,195,80).\r\n"),
            Some(50_000)
        );
        assert_eq!(
            passive_port("229 Entering Extended Passive Mode (|||40001|)\r\n"),
            Some(40_001)
        );
        assert_eq!(passive_port("227 Entering Passive Mode (1,2,3)\r\n"), None);
        assert_eq!(passive_port("227 (1,2,3,4,300,1)\r\n"), None);
        assert_eq!(passive_port("226 Transfer complete\r\n"), None);
        let own: SocketAddr = "127.0.0.2:1025".parse().unwrap_or_else(|_| unreachable!());
        assert_eq!(
            passive_answer("227 x", own).as_deref(),
            Some("227 Entering Passive Mode (127,0,0,2,4,1)\r\n")
        );
        assert_eq!(
            passive_answer("229 x", own).as_deref(),
            Some("229 Entering Extended Passive Mode (|||1025|)\r\n")
        );
    }

    #[test]
    fn protection_and_mode_commands_are_answered_here() {
        assert_eq!(own_reply("PBSZ 0\r\n"), Some("200 PBSZ=0\r\n"));
        assert_eq!(own_reply("prot p\r\n"), Some("200 PROT now Private\r\n"));
        assert!(own_reply("PROT C\r\n").is_some_and(|r| r.starts_with("536")));
        assert!(own_reply("PORT 127,0,0,1,4,1\r\n").is_some_and(|r| r.starts_with("502")));
        assert!(own_reply("EPRT |1|127.0.0.1|1025|\r\n").is_some_and(|r| r.starts_with("502")));
        assert_eq!(own_reply("RETR file\r\n"), None);
        assert_eq!(own_reply("PASV\r\n"), None);
    }
}
