//! Counters for the admin listener's Prometheus `/metrics`: connections, handshakes by version,
//! suite and group, failures by reason, bytes each way, and a handshake latency histogram.
use crate::close::CloseReason;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the handshake latency buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

/// Process-wide counters.
#[derive(Debug, Default)]
pub struct Metrics {
    accepted: AtomicU64,
    active: AtomicI64,
    bytes_from_clients: AtomicU64,
    bytes_to_clients: AtomicU64,
    handshakes: Mutex<BTreeMap<(String, String, String, String), u64>>,
    failures: Mutex<BTreeMap<(String, String), u64>>,
    latency: Mutex<Histogram>,
    reloads: AtomicU64,
    reload_failures: AtomicU64,
    log_write_failures: AtomicU64,
}

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

fn bump<K: Ord>(map: &Mutex<BTreeMap<K, u64>>, key: K) {
    if let Ok(mut m) = map.lock() {
        *m.entry(key).or_default() += 1;
    }
}

/// Escapes a Prometheus label value.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    /// A client connection was accepted.
    pub fn accepted(&self) {
        self.accepted.fetch_add(1, Ordering::Relaxed);
        self.active.fetch_add(1, Ordering::Relaxed);
    }

    /// A client connection ended.
    pub fn closed(&self, from_client: u64, to_client: u64) {
        self.active.fetch_sub(1, Ordering::Relaxed);
        self.bytes_from_clients
            .fetch_add(from_client, Ordering::Relaxed);
        self.bytes_to_clients
            .fetch_add(to_client, Ordering::Relaxed);
    }

    /// Connections open now.
    pub fn active(&self) -> i64 {
        self.active.load(Ordering::Relaxed)
    }

    /// A handshake completed.
    pub fn handshake(
        &self,
        listener: &str,
        version: &str,
        suite: &str,
        group: &str,
        took: Duration,
    ) {
        bump(
            &self.handshakes,
            (listener.into(), version.into(), suite.into(), group.into()),
        );
        if let Ok(mut h) = self.latency.lock() {
            let secs = took.as_secs_f64();
            for (i, bound) in BUCKETS.iter().enumerate() {
                if secs <= *bound {
                    h.counts[i] += 1;
                }
            }
            h.count += 1;
            h.sum += secs;
        }
    }

    /// A connection failed.
    pub fn failure(&self, listener: &str, reason: CloseReason) {
        bump(&self.failures, (listener.into(), reason.as_str().into()));
    }

    /// A connection log line could not be written (disk full, closed pipe).
    pub fn log_write_failed(&self) {
        self.log_write_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// A reload was applied, or refused.
    pub fn reload(&self, ok: bool) {
        if ok {
            self.reloads.fetch_add(1, Ordering::Relaxed);
        } else {
            self.reload_failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        };
        counter(
            &mut out,
            "fipsgate_proxy_connections_total",
            "Client connections accepted.",
            self.accepted.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP fipsgate_proxy_connections_active Client connections open.\n# TYPE fipsgate_proxy_connections_active gauge\nfipsgate_proxy_connections_active {}",
            self.active()
        );
        counter(
            &mut out,
            "fipsgate_proxy_client_bytes_total",
            "Bytes received from clients (plaintext).",
            self.bytes_from_clients.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "fipsgate_proxy_backend_bytes_total",
            "Bytes sent to clients (plaintext).",
            self.bytes_to_clients.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "fipsgate_proxy_reloads_total",
            "Configuration reloads applied.",
            self.reloads.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "fipsgate_proxy_reload_failures_total",
            "Configuration reloads refused (the old configuration kept running).",
            self.reload_failures.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "fipsgate_proxy_log_write_failures_total",
            "Connection log lines lost because standard output could not be written (disk full, closed pipe).",
            self.log_write_failures.load(Ordering::Relaxed),
        );

        let _ = writeln!(out, "# HELP fipsgate_proxy_handshakes_total TLS handshakes completed.\n# TYPE fipsgate_proxy_handshakes_total counter");
        if let Ok(m) = self.handshakes.lock() {
            for ((l, v, s, g), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "fipsgate_proxy_handshakes_total{{listener=\"{}\",version=\"{}\",suite=\"{}\",group=\"{}\"}} {n}",
                    label(l),
                    label(v),
                    label(s),
                    label(g)
                );
            }
        }
        let _ = writeln!(out, "# HELP fipsgate_proxy_failures_total Connections that ended in an error, by reason.\n# TYPE fipsgate_proxy_failures_total counter");
        if let Ok(m) = self.failures.lock() {
            for ((l, r), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "fipsgate_proxy_failures_total{{listener=\"{}\",reason=\"{}\"}} {n}",
                    label(l),
                    label(r)
                );
            }
        }
        let _ = writeln!(out, "# HELP fipsgate_proxy_handshake_seconds TLS handshake latency.\n# TYPE fipsgate_proxy_handshake_seconds histogram");
        if let Ok(h) = self.latency.lock() {
            for (bound, n) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(
                    out,
                    "fipsgate_proxy_handshake_seconds_bucket{{le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "fipsgate_proxy_handshake_seconds_bucket{{le=\"+Inf\"}} {}\nfipsgate_proxy_handshake_seconds_sum {}\nfipsgate_proxy_handshake_seconds_count {}",
                h.count, h.sum, h.count
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_counts_and_escapes() {
        let m = Metrics::default();
        m.accepted();
        m.handshake(
            "web",
            "tls1.3",
            "TLS_AES_128_GCM_SHA256",
            "secp256r1",
            Duration::from_millis(3),
        );
        m.failure("we\"b", CloseReason::PeerIncompatible);
        m.closed(10, 20);
        let text = m.render();
        assert!(text.contains("fipsgate_proxy_connections_total 1\n"));
        assert!(text.contains("fipsgate_proxy_connections_active 0\n"));
        assert!(text.contains("suite=\"TLS_AES_128_GCM_SHA256\",group=\"secp256r1\"} 1"));
        assert!(text.contains("listener=\"we\\\"b\",reason=\"peer_incompatible\"} 1"));
        assert!(text.contains("fipsgate_proxy_handshake_seconds_bucket{le=\"0.005\"} 1"));
        assert!(text.contains("fipsgate_proxy_handshake_seconds_bucket{le=\"0.0025\"} 0"));
    }
}
