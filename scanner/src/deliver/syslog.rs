//! RFC 5424 syslog over UDP (RFC 5426, one message a datagram) or TCP (RFC 6587 octet
//! counting), facility local0. A TCP receiver that goes away is reconnected to.
use super::{split_host_port, Event, Outcome};
use std::fmt;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::mpsc;

/// local0.
const FACILITY: u8 = 16;

/// UDP or TCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// One message per datagram.
    Udp,
    /// Octet-counted frames on a stream.
    Tcp,
}

/// A syslog receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogTarget {
    /// UDP or TCP.
    pub transport: Transport,
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
}

impl SyslogTarget {
    /// Parses `host:port` (the part after `udp://` or `tcp://`).
    pub fn parse(rest: &str, transport: Transport) -> Result<Self, String> {
        let (host, port) = split_host_port(rest.trim_end_matches('/'), None)?;
        Ok(Self {
            transport,
            host,
            port,
        })
    }
}

impl fmt::Display for SyslogTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.transport {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

/// The machine's host name, as syslog's HOSTNAME field (`-` when unknown).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty() && h.is_ascii() && !h.contains(' '))
        .unwrap_or_else(|| "-".to_owned())
}

/// One RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME fipsgate PROCID MSGID - MSG`.
pub fn format(event: &Event, host: &str) -> String {
    format!(
        "<{}>1 {} {host} fipsgate {} {} - {}",
        u16::from(FACILITY) * 8 + u16::from(event.severity.min(7)),
        crate::time::now(),
        std::process::id(),
        event.msgid,
        event.line
    )
}

/// An octet-counted frame (RFC 6587 3.4.1): the length in bytes, a space, the message.
pub fn frame(message: &str) -> String {
    format!("{} {message}", message.len())
}

enum Link {
    Udp(UdpSocket),
    Tcp(TcpStream),
}

async fn connect(t: &SyslogTarget, timeout: Duration) -> Result<Link, String> {
    let addr = (t.host.as_str(), t.port);
    let attempt = async {
        match t.transport {
            Transport::Udp => {
                let target = tokio::net::lookup_host(addr)
                    .await?
                    .next()
                    .ok_or_else(|| std::io::Error::other("no address"))?;
                let local = if target.is_ipv6() {
                    "[::]:0"
                } else {
                    "0.0.0.0:0"
                };
                let socket = UdpSocket::bind(local).await?;
                socket.connect(target).await?;
                Ok::<Link, std::io::Error>(Link::Udp(socket))
            }
            Transport::Tcp => Ok(Link::Tcp(TcpStream::connect(addr).await?)),
        }
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(link)) => Ok(link),
        Ok(Err(e)) => Err(format!("{t}: {e}")),
        Err(_) => Err(format!("{t}: connect timed out")),
    }
}

async fn send(link: &mut Link, message: &str, timeout: Duration) -> Result<(), String> {
    let result = match link {
        Link::Udp(s) => tokio::time::timeout(timeout, s.send(message.as_bytes()))
            .await
            .map(|r| r.map(|_| ())),
        Link::Tcp(s) => tokio::time::timeout(timeout, s.write_all(frame(message).as_bytes())).await,
    };
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("write timed out".into()),
    }
}

/// Sends every event until the queue closes.
pub(crate) async fn run(
    target: SyslogTarget,
    mut events: mpsc::Receiver<Event>,
    timeout: Duration,
) -> Outcome {
    let host = hostname();
    let mut outcome = Outcome::default();
    let mut link: Option<Link> = None;
    while let Some(event) = events.recv().await {
        let message = format(&event, &host);
        let mut sent = false;
        // One reconnect per event: a TCP receiver that restarted gets the event on the new
        // connection; one that is down costs one connect timeout per event at most.
        for _ in 0..2 {
            if link.is_none() {
                match connect(&target, timeout).await {
                    Ok(l) => link = Some(l),
                    Err(e) => {
                        outcome.last_error = Some(e);
                        break;
                    }
                }
            }
            if let Some(l) = link.as_mut() {
                match send(l, &message, timeout).await {
                    Ok(()) => {
                        sent = true;
                        break;
                    }
                    Err(e) => {
                        outcome.last_error = Some(format!("{target}: {e}"));
                        link = None;
                    }
                }
            }
        }
        if sent {
            outcome.delivered += 1;
        } else {
            outcome.lost += 1;
        }
    }
    if let Some(Link::Tcp(mut s)) = link {
        let _ = tokio::time::timeout(timeout, s.shutdown()).await;
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_frames() {
        let e = Event {
            severity: 4,
            msgid: "endpoint",
            line: "{\"a\":1}".into(),
        };
        let m = format(&e, "scanner1");
        // local0 (16) * 8 + warning (4).
        assert!(m.starts_with("<132>1 "), "{m}");
        assert!(m.contains(" scanner1 fipsgate "), "{m}");

        assert!(m.ends_with(" endpoint - {\"a\":1}"), "{m}");
        assert_eq!(frame("héllo"), "6 héllo");
    }
}
