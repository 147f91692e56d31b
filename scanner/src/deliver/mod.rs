//! Delivery of report events to a SIEM while the scan runs: syslog (RFC 5424 over UDP, or TCP
//! with octet counting) and HTTP POST batches (NDJSON or Splunk HEC). A receiver that is down or
//! slow never blocks the scan: events wait in a bounded queue, and what cannot be delivered is
//! counted and reported at the end (the `-o` file still has everything).
pub mod http;
pub mod syslog;

use std::fmt;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Events waiting for a slow receiver before new ones are counted as lost.
const QUEUE: usize = 16_384;

/// One event: a line of a SIEM format, with its syslog severity (RFC 5424 numbers).
#[derive(Debug, Clone)]
pub struct Event {
    /// 3 error, 4 warning, 5 notice, 6 informational.
    pub severity: u8,
    /// `scan` or `endpoint`.
    pub msgid: &'static str,
    /// The line, without its newline.
    pub line: String,
}

/// Where events go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// `udp://host:port` or `tcp://host:port`.
    Syslog(syslog::SyslogTarget),
    /// `http://…` or `https://…`.
    Http(http::HttpTarget),
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syslog(s) => write!(f, "syslog {s}"),
            Self::Http(h) => write!(f, "HTTP {h}"),
        }
    }
}

/// What a delivery achieved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Events the receiver took.
    pub delivered: u64,
    /// Events that did not reach it.
    pub lost: u64,
    /// The last failure, for the message.
    pub last_error: Option<String>,
}

/// A running delivery.
pub struct Delivery {
    destination: Destination,
    queue: mpsc::Sender<Event>,
    queued: u64,
    overflow: u64,
    worker: JoinHandle<Outcome>,
}

impl Delivery {
    /// Starts delivering to `destination` on the current tokio runtime.
    pub fn start(destination: Destination, timeout: Duration) -> Self {
        let (queue, events) = mpsc::channel(QUEUE);
        let worker = match destination.clone() {
            Destination::Syslog(t) => tokio::spawn(syslog::run(t, events, timeout)),
            Destination::Http(t) => tokio::spawn(http::run(t, events, timeout)),
        };
        Self {
            destination,
            queue,
            queued: 0,
            overflow: 0,
            worker,
        }
    }

    /// Queues an event; when the receiver is so slow that the queue is full, the event is
    /// counted as lost instead of holding up the scan.
    pub fn send(&mut self, event: Event) {
        if self.queue.try_send(event).is_ok() {
            self.queued += 1;
        } else {
            self.overflow += 1;
        }
    }

    /// Waits for the queue to drain, at most `deadline`, and says what happened (when the
    /// deadline passes, whatever was not confirmed counts as lost).
    pub async fn finish(self, deadline: Duration) -> (Destination, Outcome) {
        let Self {
            destination,
            queue,
            queued,
            overflow,
            worker,
        } = self;
        drop(queue);
        let abort = worker.abort_handle();
        let mut outcome = match tokio::time::timeout(deadline, worker).await {
            Ok(Ok(o)) => o,
            Ok(Err(e)) => Outcome {
                lost: queued,
                delivered: 0,
                last_error: Some(format!("delivery task failed: {e}")),
            },
            Err(_) => {
                abort.abort();
                Outcome {
                    lost: queued,
                    delivered: 0,
                    last_error: Some(format!("not finished within {deadline:?}")),
                }
            }
        };
        outcome.lost += overflow;
        if overflow > 0 && outcome.last_error.is_none() {
            outcome.last_error = Some("the receiver was too slow: queue full".into());
        }
        (destination, outcome)
    }
}

/// Parses a `--syslog` or `--http-post` URL.
pub fn parse_destination(url: &str) -> Result<Destination, String> {
    if let Some(rest) = url
        .strip_prefix("udp://")
        .map(|r| (r, syslog::Transport::Udp))
        .or_else(|| {
            url.strip_prefix("tcp://")
                .map(|r| (r, syslog::Transport::Tcp))
        })
    {
        return syslog::SyslogTarget::parse(rest.0, rest.1).map(Destination::Syslog);
    }
    if url.starts_with("http://") || url.starts_with("https://") {
        return http::HttpTarget::parse(url).map(Destination::Http);
    }
    Err(format!(
        "{url:?}: expected udp://, tcp://, http:// or https://"
    ))
}

/// Splits `host:port` or `[v6]:port` into its parts.
pub(crate) fn split_host_port(s: &str, default_port: Option<u16>) -> Result<(String, u16), String> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("{s:?}: unclosed ["))?;
        (h.to_owned(), after.strip_prefix(':'))
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h.to_owned(), Some(p)),
            _ => (s.to_owned(), None),
        }
    };
    if host.is_empty() {
        return Err(format!("{s:?}: no host"));
    }
    let port = match port {
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("{s:?}: bad port {p:?}"))?,
        None => default_port.ok_or_else(|| format!("{s:?}: no port"))?,
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_parse_or_say_why_not() {
        assert!(matches!(
            parse_destination("udp://127.0.0.1:514"),
            Ok(Destination::Syslog(_))
        ));
        assert!(matches!(
            parse_destination("tcp://[::1]:6514"),
            Ok(Destination::Syslog(_))
        ));
        assert!(matches!(
            parse_destination("http://127.0.0.1:8088/services/collector/event"),
            Ok(Destination::Http(_))
        ));
        for bad in [
            "syslog://x:1",
            "udp://",
            "udp://host",
            "tcp://host:0",
            "tcp://[::1:5",
            "http://",
            "https://host:99999/",
        ] {
            assert!(parse_destination(bad).is_err(), "{bad} was accepted");
        }
    }
}
