//! The places one address has for connections at once (`--per-host`). A freed place goes to the
//! longest-waiting asker, but askers for the chain of questions that sets an endpoint's scan
//! time (TLS 1.3's groups) come before the others: a place the others would hold for two round
//! trips would cost that chain two.
use super::ProbeConfig;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// The places of one address, shared by every endpoint of it.
#[derive(Debug)]
pub struct Places {
    state: Mutex<Queue>,
}

/// Free places, and who waits for one: `waiting[1]` (the critical chain) before `waiting[0]`.
#[derive(Debug)]
struct Queue {
    free: usize,
    waiting: [VecDeque<oneshot::Sender<Slot>>; 2],
}

impl Queue {
    /// Takes a free place, if there is one.
    fn claim(&mut self) -> bool {
        let free = self.free > 0;
        self.free -= usize::from(free);
        free
    }
}

impl Places {
    /// `n` places (at least one).
    pub fn new(n: usize) -> Self {
        Self {
            state: Mutex::new(Queue {
                free: n.max(1),
                waiting: [VecDeque::new(), VecDeque::new()],
            }),
        }
    }

    /// A place taken now, if one is free. Every free place is free for anyone: a place is
    /// handed to a waiter when it is freed, so none is free while someone waits.
    fn take_free(self: &Arc<Self>) -> Option<Slot> {
        let claimed = self.state.lock().ok()?.claim();
        claimed.then(|| Slot(Some(self.clone())))
    }

    /// Takes a place now, or queues for one (`urgent`: before the others).
    async fn take(self: &Arc<Self>, urgent: bool) -> Slot {
        let waiting = {
            let Ok(mut queue) = self.state.lock() else {
                // A poisoned lock: a panic elsewhere already ended the probe; no limit then.
                return Slot(None);
            };
            if queue.claim() {
                return Slot(Some(self.clone()));
            }
            let (tx, rx) = oneshot::channel();
            queue.waiting[usize::from(urgent)].push_back(tx);
            rx
        };
        // The sender lives in the queue until a freed place is sent through it.
        waiting.await.unwrap_or(Slot(None))
    }

    /// A freed place: to the first urgent waiter, else the first other one, else free. A
    /// waiter that has gone returns it at once, through its own drop, to the next.
    fn give_back(self: &Arc<Self>) {
        let next = {
            let Ok(mut queue) = self.state.lock() else {
                return;
            };
            let [others, urgent] = &mut queue.waiting;
            match urgent.pop_front().or_else(|| others.pop_front()) {
                Some(next) => next,
                None => {
                    queue.free += 1;
                    return;
                }
            }
        };
        // Outside the lock: a refused place is dropped here, and its drop gives it back again.
        let _ = next.send(Slot(Some(self.clone())));
    }
}

/// A place among the connections one address may have at once, held as long as the connection
/// lives (none: no limit).
#[derive(Debug)]
pub(crate) struct Slot(Option<Arc<Places>>);

impl Slot {
    /// Waits for a place. The wait is for other probes of the address, not for the server, so
    /// callers take their place before any deadline on the server's answers starts.
    pub(crate) async fn acquire(cfg: &ProbeConfig) -> Self {
        Self::acquire_for(cfg, false).await
    }

    /// Waits for a place; `urgent` (the chain that sets the endpoint's scan time) before the
    /// other waiters.
    pub(crate) async fn acquire_for(cfg: &ProbeConfig, urgent: bool) -> Self {
        match &cfg.host_slots {
            Some(places) => places.take(urgent).await,
            None => Self(None),
        }
    }

    /// A place now if one is free, without waiting.
    pub(crate) fn try_acquire(cfg: &ProbeConfig) -> Option<Self> {
        match &cfg.host_slots {
            Some(places) => places.take_free(),
            None => Some(Self(None)),
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(places) = self.0.take() {
            places.give_back();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn cfg(n: usize) -> ProbeConfig {
        ProbeConfig {
            host_slots: Some(Arc::new(Places::new(n))),
            ..ProbeConfig::default()
        }
    }

    #[tokio::test]
    async fn a_freed_place_goes_to_an_urgent_waiter_first_then_in_order() {
        let cfg = cfg(1);
        let held = Slot::acquire(&cfg).await;
        assert!(Slot::try_acquire(&cfg).is_none());
        let (order_tx, mut order) = tokio::sync::mpsc::unbounded_channel();
        let mut waiters = Vec::new();
        for (name, urgent) in [("first", false), ("second", false), ("urgent", true)] {
            let (cfg, order_tx) = (cfg.clone(), order_tx.clone());
            waiters.push(tokio::spawn(async move {
                let slot = Slot::acquire_for(&cfg, urgent).await;
                let _ = order_tx.send(name);
                tokio::time::sleep(Duration::from_millis(5)).await;
                drop(slot);
            }));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        drop(held);
        for w in waiters {
            w.await.expect("waiter");
        }
        let mut got = Vec::new();
        while let Ok(name) = order.try_recv() {
            got.push(name);
        }
        assert_eq!(got, ["urgent", "first", "second"]);
        assert!(Slot::try_acquire(&cfg).is_some(), "every place came back");
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_passes_its_place_on() {
        let cfg = cfg(1);
        let held = Slot::acquire(&cfg).await;
        let gone = tokio::spawn({
            let cfg = cfg.clone();
            async move { Slot::acquire_for(&cfg, true).await }
        });
        tokio::time::sleep(Duration::from_millis(5)).await;
        gone.abort();
        let _ = gone.await;
        let next = tokio::spawn({
            let cfg = cfg.clone();
            async move { Slot::acquire(&cfg).await }
        });
        tokio::time::sleep(Duration::from_millis(5)).await;
        drop(held);
        let next = tokio::time::timeout(Duration::from_secs(5), next)
            .await
            .expect("the place reached the next waiter");
        drop(next);
        assert!(Slot::try_acquire(&cfg).is_some());
    }
}
