//! Connections opened ahead of need. Across a slow path, a chain of questions whose next hello
//! waits for the last answer pays a round trip per question for the TCP (and STARTTLS)
//! handshake, unless the next connection is opened while the answer is still on its way. On a
//! fast path (loopback, a LAN) nothing is opened ahead: it would save nothing and cost
//! connections.
use super::{Conn, ProbeConfig, Slot};
use std::collections::VecDeque;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The fastest answer from which the path counts as slow: a connection's TCP handshake then
/// costs about as much as the question it carries.
const SLOW_PATH: Duration = Duration::from_millis(20);

/// How long a connection opened ahead is kept for a hello after the answer to the hello it was
/// opened beside, in fastest answers: the hello it was opened for follows that answer at once,
/// so past one the chain has ended, and a server that serves one connection at a time must
/// not be kept waiting on it.
const KEPT_ANSWERS: f64 = 1.0;

/// The shortest time a connection opened ahead is kept.
const KEPT_FLOOR: Duration = Duration::from_millis(30);

/// Held by the hello a connection was opened beside until that hello's answer begins: its drop
/// is the sign, to the connection's queue entry and to the task that closes it unused.
pub(crate) struct Beside {
    _answer_pending: watch::Sender<()>,
}

/// A connection opened ahead, until it is taken or has waited too long.
type Waiting = Arc<Mutex<Option<Conn>>>;

/// A connection being opened ahead: its place once open (none if it failed).
type Opened = Option<Waiting>;

/// A connection being opened ahead for the chain of questions whose hello it was opened beside.
struct Reserved {
    /// The chain (the probe's fork) that has it first.
    owner: u64,
    /// It was opened for the chain that sets an endpoint's scan time.
    critical: bool,
    /// Closed once the answer to the hello it was opened beside has begun: the chain's next
    /// hello, which follows at once, has had its chance at it.
    answer_pending: watch::Receiver<()>,
    /// For the critical chain's: hands it the place the chain kept, if it still waits for one.
    give_place: Option<oneshot::Sender<Slot>>,
    opening: JoinHandle<Opened>,
}

/// The owner of a connection whose line of questions has been taken back.
const NOBODY: u64 = u64::MAX;

impl Reserved {
    /// Whether a hello of another chain may take it.
    fn spare(&self) -> bool {
        self.owner == NOBODY || self.answer_pending.has_changed().is_err()
    }
}

/// The connections one endpoint's probe opened ahead, and what tells whether to.
#[derive(Default)]
pub(crate) struct Ahead {
    opening: Mutex<VecDeque<Reserved>>,
    opened: Arc<AtomicU32>,
    /// Connections opened ahead that no hello has taken yet, for the critical chain and for
    /// the others: one of each at a time. A hello that takes one lets the next be opened at
    /// once, so a chain's every step, not every other, is sent on a connection opened while
    /// the answer before it travelled.
    pending: Arc<[AtomicU32; 2]>,
    /// Connections opened ahead that carried no answer, by class: after one closed unused
    /// (its chain ended, and no other took it), nothing more is opened ahead for that class;
    /// after one that failed to open or that the server closed before its hello, nothing more
    /// for either. So one class's end does not slow the other's chain, and with two pending at
    /// a time the endpoint's connections stay within the sequential probe's plus two (plus
    /// three where the server closed a connection that waited for its hello while the next
    /// was already opening).
    unused: Arc<[AtomicU32; 2]>,
    fastest: Mutex<Option<Duration>>,
}

impl fmt::Debug for Ahead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ahead")
            .field("opened", &self.opened())
            .field("fastest", &self.fastest())
            .finish_non_exhaustive()
    }
}

impl Ahead {
    /// Records how long the server took to answer a hello: from the hello sent to the first
    /// bytes back, and from its connection's connect begun, which holds two round trips (the
    /// TCP handshake and the hello's) where the first time holds one or, where connect
    /// returned before the handshake had crossed the path, two.
    pub(crate) fn answered_after(&self, since_sent: Duration, since_opened: Duration) {
        let latency = since_sent.min(since_opened / 2);
        if let Ok(mut fastest) = self.fastest.lock() {
            *fastest = Some(fastest.map_or(latency, |f| f.min(latency)));
        }
    }

    fn fastest(&self) -> Option<Duration> {
        self.fastest.lock().ok().and_then(|f| *f)
    }

    /// The fastest answer so far, if the path is slow: a connection's TCP handshake then costs
    /// about as much as the question it carries.
    fn fastest_if_slow(&self) -> Option<Duration> {
        self.fastest().filter(|f| *f >= SLOW_PATH)
    }

    /// Whether the path is slow.
    pub(crate) fn slow_path(&self) -> bool {
        self.fastest_if_slow().is_some()
    }

    /// Connections opened ahead so far, used or not.
    pub(crate) fn opened(&self) -> u32 {
        self.opened.load(Ordering::Relaxed)
    }

    /// Records that a connection opened ahead was of no use: the server closed it before its
    /// hello, so the hello goes on a fresh one.
    pub(crate) fn wasted(&self) {
        stop_all(&self.unused);
    }

    /// Opens one connection ahead for the chain `owner`, beside a hello sent on a connection
    /// whose connect began at `beside`, when the path is slow, the scan paces no connections
    /// (`--rate`, `--delay`), no connection opened ahead for the same class of chain
    /// (`critical` or not) has ended unused, and none of that class is pending. It is opened a
    /// fastest answer after `beside`, one round trip before the hello's answer is due, so that
    /// it is ready when the chain's next hello is and not earlier: a server that serves one
    /// connection at a time waits on an open connection until its hello arrives. Then the
    /// critical chain opens it in `place`, the place its last connection kept, or else waits
    /// for the next free place, before the others; another chain's opens only in a place free
    /// then. A `place` given when nothing is opened is freed. The chain has it first; the hello
    /// it is opened beside holds the returned guard until its answer begins. Unused, it is
    /// closed a fastest answer after that (however late the answer, as behind a server that
    /// serves one connection at a time), or after the probe's timeout.
    pub(crate) fn open(
        &self,
        addr: SocketAddr,
        cfg: &ProbeConfig,
        owner: u64,
        critical: bool,
        beside: Instant,
        place: Option<Slot>,
    ) -> Option<Beside> {
        if cfg.pacer.is_some() || cfg.spacing.is_some() {
            return None;
        }
        let fastest = self.fastest_if_slow()?;
        let class = usize::from(critical);
        if self.unused[class].load(Ordering::Relaxed) > 0 {
            return None;
        }
        let Ok(mut opening) = self.opening.lock() else {
            return None;
        };
        // Several pending at once could all end unused when their chains end together.
        if self.pending[class].load(Ordering::Relaxed) > 0 {
            return None;
        }
        self.pending[class].fetch_add(1, Ordering::Relaxed);
        let cfg = cfg.clone();
        let (answer_pending_tx, answer_pending) = watch::channel(());
        let mut answer = answer_pending.clone();
        let latest = Instant::now() + cfg.timeout;
        let kept = fastest.mul_f64(KEPT_ANSWERS).max(KEPT_FLOOR);
        let unused = self.unused.clone();
        let opened = self.opened.clone();
        let pending = self.pending.clone();
        // Only a critical connection without a place of its own can be handed one.
        let takes_a_kept_place = critical && place.is_none();
        let (give_place, given) = oneshot::channel();
        let opening_now = tokio::spawn(async move {
            tokio::time::sleep_until(beside + fastest).await;
            let slot = if let Some(slot) = place {
                slot
            } else if critical {
                tokio::select! {
                    slot = Slot::acquire_for(&cfg, true) => slot,
                    Ok(slot) = given => slot,
                }
            } else if let Some(slot) = Slot::try_acquire(&cfg) {
                slot
            } else {
                pending[class].fetch_sub(1, Ordering::Relaxed);
                return None;
            };
            opened.fetch_add(1, Ordering::Relaxed);
            let ready = async {
                let mut conn = Conn::open_in(slot, addr, &cfg).await.ok()?;
                conn.start_tls(addr, &cfg).await.ok()?;
                Some(conn)
            };
            let Some(conn) = ready.await else {
                stop_all(&unused);
                return None;
            };
            let waiting: Waiting = Arc::new(Mutex::new(Some(conn)));
            let closing = waiting.clone();
            tokio::spawn(async move {
                // Answered or given up, the guard is dropped: either way the wait ends.
                let _ = tokio::time::timeout_at(latest, answer.changed()).await;
                tokio::time::sleep(kept).await;
                if let Some(conn) = closing.lock().ok().and_then(|mut c| c.take()) {
                    unused[class].fetch_add(1, Ordering::Relaxed);
                    drop(conn);
                }
            });
            Some(waiting)
        });
        opening.push_back(Reserved {
            owner,
            critical,
            answer_pending,
            give_place: takes_a_kept_place.then_some(give_place),
            opening: opening_now,
        });
        Some(Beside {
            _answer_pending: answer_pending_tx,
        })
    }

    /// Hands the connections opened ahead for the chain `owner`, which has ended, to any hello.
    pub(crate) fn release(&self, owner: u64) {
        if let Ok(mut opening) = self.opening.lock() {
            for reserved in opening.iter_mut().filter(|r| r.owner == owner) {
                reserved.owner = NOBODY;
            }
        }
    }

    /// A connection opened ahead for a hello of the chain `owner`: its own (waiting for one
    /// still opening), or one whose chain has ended; none if there is neither. Those that
    /// failed or were closed after waiting too long are passed over. A critical chain's
    /// connection still waiting for a place gets `kept`, the place the chain kept; a place it
    /// does not take stays in `kept`.
    pub(crate) async fn take(&self, owner: u64, kept: &mut Option<Slot>) -> Option<Conn> {
        loop {
            let mut next = {
                let mut opening = self.opening.lock().ok()?;
                let at = opening
                    .iter()
                    .position(|r| r.owner == owner)
                    .or_else(|| opening.iter().position(Reserved::spare))?;
                opening.remove(at)?
            };
            // Only one that waits for a place is offered it; refused (it got one meanwhile, or
            // has ended), the place stays kept.
            if let Some(give) = next.give_place.take() {
                if let Some(place) = kept.take() {
                    *kept = give.send(place).err();
                }
            }
            if let Ok(Some(waiting)) = next.opening.await {
                if let Some(conn) = waiting.lock().ok().and_then(|mut c| c.take()) {
                    self.pending[usize::from(next.critical)].fetch_sub(1, Ordering::Relaxed);
                    return Some(conn);
                }
            }
        }
    }
}

impl Drop for Ahead {
    /// Connections still unused when the probe ends are closed, and those still opening are
    /// stopped.
    fn drop(&mut self) {
        if let Ok(opening) = self.opening.get_mut() {
            for reserved in opening.drain(..) {
                reserved.opening.abort();
            }
        }
    }
}

/// Counts a connection opened ahead that failed, or that the server closed before its hello,
/// against every class: the server, not a chain's end, made it useless.
fn stop_all(unused: &[AtomicU32; 2]) {
    for class in unused {
        class.fetch_add(1, Ordering::Relaxed);
    }
}
