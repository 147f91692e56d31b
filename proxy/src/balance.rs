//! Several backends behind one listener or route: the order to try them in (round robin, fewest
//! connections, or the first one up), which of them are down, and the active TCP checks that
//! take them out of turn and bring them back.
use crate::config::{Backend, Balance};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Failed active checks in a row that take a backend out of turn (HAProxy's `fall`).
const FALL: usize = 3;
/// Passed active checks in a row that bring it back (HAProxy's `rise`).
const RISE: usize = 2;
/// The longest an active check waits for a connection.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// One backend and what the proxy knows of it.
#[derive(Debug)]
struct Member {
    backend: Backend,
    open: AtomicUsize,
    up: AtomicBool,
    /// When it was taken out of turn, in milliseconds since the pool was made.
    down_at: AtomicU64,
    /// Active checks in a row whose result contradicts `up`.
    streak: AtomicUsize,
}

/// The backends of one listener or route.
#[derive(Debug)]
pub struct Pool {
    listener: String,
    members: Vec<Member>,
    balance: Balance,
    next: AtomicUsize,
    epoch: Instant,
    /// How long a failed backend stays out of turn when no active checks bring it back.
    retry: Option<Duration>,
    /// The interval of active checks, if any.
    checks: Option<Duration>,
}

/// A connection to one backend of a pool, counted as open while it lives.
pub struct Lease {
    pool: Arc<Pool>,
    index: usize,
}

impl Lease {
    /// The backend this connection goes to.
    pub fn backend(&self) -> &Backend {
        &self.pool.members[self.index].backend
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.pool.members[self.index]
            .open
            .fetch_sub(1, Ordering::Relaxed);
    }
}

impl Pool {
    /// A pool with every backend up; with `checks`, active checks run at that interval once
    /// started, otherwise a failed backend rests for `retry`.
    pub fn new(
        listener: &str,
        backends: &[Backend],
        balance: Balance,
        checks: Option<Duration>,
        retry: Duration,
    ) -> Arc<Pool> {
        Arc::new(Pool {
            listener: listener.to_owned(),
            members: backends
                .iter()
                .map(|b| Member {
                    backend: b.clone(),
                    open: AtomicUsize::new(0),
                    up: AtomicBool::new(true),
                    down_at: AtomicU64::new(0),
                    streak: AtomicUsize::new(0),
                })
                .collect(),
            balance,
            next: AtomicUsize::new(0),
            epoch: Instant::now(),
            retry: checks.is_none().then_some(retry),
            checks,
        })
    }

    /// Starts the active checks, if configured; they end when the pool is no longer used.
    pub fn start_checks(self: &Arc<Self>) {
        if let Some(every) = self.checks {
            spawn_checks(self, every);
        }
    }

    /// Whether a backend is in turn: up, or (without active checks) rested long enough.
    fn in_turn(&self, i: usize) -> bool {
        let m = &self.members[i];
        m.up.load(Ordering::Relaxed)
            || self.retry.is_some_and(|r| {
                let since = self
                    .millis()
                    .saturating_sub(m.down_at.load(Ordering::Relaxed));
                Duration::from_millis(since) >= r
            })
    }

    fn millis(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// The backends to try for a new connection, best first: those in turn as the balance
    /// orders them, then the others as a last resort.
    pub fn candidates(&self) -> Vec<usize> {
        let n = self.members.len();
        let start = match self.balance {
            Balance::First => 0,
            _ => self.next.fetch_add(1, Ordering::Relaxed) % n,
        };
        let rotated = (0..n).map(|k| (start + k) % n);
        let (mut ready, resting): (Vec<usize>, Vec<usize>) =
            rotated.partition(|&i| self.in_turn(i));
        if self.balance == Balance::LeastConnections {
            // Stable: equal counts keep the rotation, so ties are shared in turn.
            ready.sort_by_key(|&i| self.members[i].open.load(Ordering::Relaxed));
        }
        ready.extend(resting);
        ready
    }

    /// Counts a connection to backend `i` until the lease is dropped.
    pub fn lease(self: &Arc<Self>, i: usize) -> Lease {
        self.members[i].open.fetch_add(1, Ordering::Relaxed);
        Lease {
            pool: self.clone(),
            index: i,
        }
    }

    /// The backend `i` (for logs).
    pub fn backend(&self, i: usize) -> &Backend {
        &self.members[i].backend
    }

    /// A client's connection to backend `i` failed: it goes out of turn at once.
    pub fn failed(&self, i: usize, why: &str) {
        let m = &self.members[i];
        m.down_at.store(self.millis(), Ordering::Relaxed);
        m.streak.store(0, Ordering::Relaxed);
        if m.up.swap(false, Ordering::Relaxed) {
            self.announce(i, false, why);
        }
    }

    /// A client's connection to backend `i` succeeded: it is up.
    pub fn succeeded(&self, i: usize) {
        let m = &self.members[i];
        m.streak.store(0, Ordering::Relaxed);
        if !m.up.swap(true, Ordering::Relaxed) {
            self.announce(i, true, "a connection succeeded");
        }
    }

    /// Records one active check of backend `i`.
    fn checked(&self, i: usize, result: Result<(), String>) {
        let m = &self.members[i];
        let up = m.up.load(Ordering::Relaxed);
        if up == result.is_ok() {
            m.streak.store(0, Ordering::Relaxed);
            return;
        }
        let streak = m.streak.fetch_add(1, Ordering::Relaxed) + 1;
        match result {
            Ok(()) if streak >= RISE => self.succeeded(i),
            Err(why) if streak >= FALL => self.failed(i, &why),
            _ => {}
        }
    }

    fn announce(&self, i: usize, up: bool, why: &str) {
        crate::server::event(
            if up { "backend_up" } else { "backend_down" },
            serde_json::json!({"listener": self.listener, "backend": self.members[i].backend.to_string(), "reason": why}),
        );
    }

    /// Prometheus samples: whether each backend is in turn and its open connections.
    pub fn render(&self, out: &mut String) {
        for (i, m) in self.members.iter().enumerate() {
            let labels = format!(
                "listener=\"{}\",backend=\"{}\"",
                self.listener,
                m.backend
                    .to_string()
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
            );
            let _ = writeln!(
                out,
                "fipsgate_proxy_backend_up{{{labels}}} {}\nfipsgate_proxy_backend_connections{{{labels}}} {}",
                u8::from(self.in_turn(i)),
                m.open.load(Ordering::Relaxed)
            );
        }
    }
}

/// Checks every backend of `pool` each `every` until the pool is no longer used (a reload
/// replaced it and its last connection ended).
fn spawn_checks(pool: &Arc<Pool>, every: Duration) {
    let weak = Arc::downgrade(pool);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            let Some(pool) = weak.upgrade() else { return };
            let wait = every.min(CHECK_TIMEOUT);
            for i in 0..pool.members.len() {
                let result = crate::forward::connect_within(&pool.members[i].backend, wait)
                    .await
                    .map(drop)
                    .map_err(|(_, why)| format!("health check: {why}"));
                pool.checked(i, result);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(balance: Balance, retry: Duration) -> Arc<Pool> {
        let backends: Vec<Backend> = ["a:1", "b:1", "c:1"]
            .iter()
            .map(|b| Backend::Tcp((*b).into()))
            .collect();
        Pool::new("t", &backends, balance, None, retry)
    }

    #[test]
    fn orders_follow_the_balance() {
        let rr = pool(Balance::RoundRobin, Duration::from_secs(10));
        assert_eq!(rr.candidates(), [0, 1, 2]);
        assert_eq!(rr.candidates(), [1, 2, 0]);
        let first = pool(Balance::First, Duration::from_secs(10));
        assert_eq!(first.candidates(), [0, 1, 2]);
        assert_eq!(first.candidates(), [0, 1, 2]);
        let least = pool(Balance::LeastConnections, Duration::from_secs(10));
        let _busy = [least.lease(0), least.lease(0), least.lease(1)];
        assert_eq!(least.candidates(), [2, 1, 0]);
        drop(_busy);
        assert_eq!(least.candidates(), [1, 2, 0], "ties go in turn");
    }

    #[test]
    fn failed_backends_wait_their_retry_and_come_last() {
        let rr = pool(Balance::First, Duration::from_millis(100));
        rr.failed(0, "refused");
        assert_eq!(rr.candidates(), [1, 2, 0]);
        std::thread::sleep(Duration::from_millis(150));
        assert_eq!(rr.candidates(), [0, 1, 2], "rested: in turn again");
        rr.succeeded(0);
        let mut out = String::new();
        rr.render(&mut out);
        assert!(out.contains("fipsgate_proxy_backend_up{listener=\"t\",backend=\"a:1\"} 1"));
    }

    #[test]
    fn active_checks_need_a_run_of_results() {
        let p = pool(Balance::First, Duration::from_secs(10));
        let fail = || Err("refused".to_owned());
        p.checked(0, fail());
        p.checked(0, fail());
        assert!(p.in_turn(0), "two failures are not enough");
        p.checked(0, fail());
        assert!(!p.in_turn(0));
        p.checked(0, Ok(()));
        assert!(!p.in_turn(0), "one success is not enough");
        p.checked(0, Ok(()));
        assert!(p.in_turn(0));
    }
}
