//! Connection pacing: the global rate (`--rate`), where every connection of a scan takes the
//! next free slot, and the spacing of one endpoint's connections (`--delay`).
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// Spaces connection attempts evenly at a fixed rate, across every task of a scan.
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl Pacer {
    /// A pacer allowing `per_second` connections a second (at least one).
    pub fn new(per_second: u32) -> Self {
        Self::spaced(Duration::from_secs(1) / per_second.max(1))
    }

    /// A pacer spacing connections by `interval` (`--delay`).
    pub fn spaced(interval: Duration) -> Self {
        Self {
            interval,
            next: Mutex::new(None),
        }
    }

    /// Waits for this caller's slot.
    pub async fn wait(&self) {
        let slot = {
            let now = Instant::now();
            let Ok(mut next) = self.next.lock() else {
                return;
            };
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + self.interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn slots_are_spaced_by_the_interval() {
        let pacer = Pacer::new(10);
        let start = Instant::now();
        for _ in 0..5 {
            pacer.wait().await;
        }
        // Slots at 0, 100, 200, 300 and 400 ms.
        assert_eq!(start.elapsed(), Duration::from_millis(400));
    }
}
