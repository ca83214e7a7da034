//! The polling loop's sense of time, injectable so tests of a fifteen-minute sign-in run in
//! milliseconds while still proving the spacing of every poll.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What the device flow's polling loop waits with. The app uses [`SystemClock`].
pub trait DeviceClock: Send + Sync {
    /// Now, on this clock.
    fn now(&self) -> Instant;
    /// Wait `duration` on this clock.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>>;
}

/// Real time: `Instant::now()` and `tokio::time::sleep`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl DeviceClock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A clock for tests that moves only when slept on, and remembers every sleep. `on_sleep`
/// runs with each duration (e.g. to move a test provider's clock by as much).
pub struct VirtualClock {
    start: Instant,
    elapsed: Mutex<Duration>,
    sleeps: Mutex<Vec<Duration>>,
    on_sleep: Box<dyn Fn(Duration) + Send + Sync>,
}

impl std::fmt::Debug for VirtualClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtualClock")
            .field("elapsed", &self.elapsed())
            .finish_non_exhaustive()
    }
}

impl VirtualClock {
    /// A clock standing at its start; `on_sleep` runs with every duration slept on it.
    pub fn new(on_sleep: impl Fn(Duration) + Send + Sync + 'static) -> Self {
        Self {
            start: Instant::now(),
            elapsed: Mutex::new(Duration::ZERO),
            sleeps: Mutex::new(Vec::new()),
            on_sleep: Box::new(on_sleep),
        }
    }

    /// How far this clock has moved.
    pub fn elapsed(&self) -> Duration {
        *self.elapsed.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every sleep asked of this clock, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.sleeps
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl DeviceClock for VirtualClock {
    fn now(&self) -> Instant {
        self.start + self.elapsed()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        *self.elapsed.lock().unwrap_or_else(|p| p.into_inner()) += duration;
        self.sleeps
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(duration);
        (self.on_sleep)(duration);
        // Still yield, so a dropped future is noticed at every wait as in real time.
        Box::pin(tokio::task::yield_now())
    }
}
