//! Virtual time for the device-flow tests: each sleep the core asks for moves this clock
//! (and, through `advance`, the provider's) by as much, and is recorded; after `hold_after`
//! sleeps a sleep also waits for the gate (the person has not answered yet). Included by
//! path where it is used, so the other test binaries do not compile it.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pixie_auth::device::DeviceClock;
use tokio::sync::watch;

/// Moves the provider's clock for the `n`-th sleep (from 1) of `d`.
type Advance = Box<dyn Fn(usize, Duration) + Send + Sync>;

pub struct GatedClock {
    start: Instant,
    elapsed: Mutex<Duration>,
    sleeps: Mutex<Vec<Duration>>,
    advance: Advance,
    hold_after: usize,
    gate: watch::Receiver<bool>,
}

impl GatedClock {
    /// The clock and the sender that opens its gate.
    pub fn new(
        hold_after: usize,
        advance: impl Fn(usize, Duration) + Send + Sync + 'static,
    ) -> (Arc<Self>, watch::Sender<bool>) {
        let (open, gate) = watch::channel(false);
        let clock = Arc::new(Self {
            start: Instant::now(),
            elapsed: Mutex::new(Duration::ZERO),
            sleeps: Mutex::new(Vec::new()),
            advance: Box::new(advance),
            hold_after,
            gate,
        });
        (clock, open)
    }

    /// Every sleep asked for so far, in seconds.
    pub fn sleeps(&self) -> Vec<u64> {
        self.sleeps
            .lock()
            .unwrap()
            .iter()
            .map(|d| d.as_secs())
            .collect()
    }
}

impl DeviceClock for GatedClock {
    fn now(&self) -> Instant {
        self.start + *self.elapsed.lock().unwrap()
    }

    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        *self.elapsed.lock().unwrap() += d;
        let n = {
            let mut s = self.sleeps.lock().unwrap();
            s.push(d);
            s.len()
        };
        (self.advance)(n, d);
        let mut gate = self.gate.clone();
        let hold = n > self.hold_after;
        Box::pin(async move {
            if hold {
                let _ = gate.wait_for(|open| *open).await;
            }
            tokio::task::yield_now().await;
        })
    }
}
