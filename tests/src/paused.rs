//! Tests on tokio's paused clock with real I/O. The runtime's clock starts paused and moves only
//! when the test calls `tokio::time::advance`: [`ClockHeld`] stops tokio from advancing it by
//! itself while the database or a socket is busy (an unfinished blocking task inhibits
//! auto-advance on a current-thread runtime). Waits for that I/O are bounded by real time
//! ([`until`]), and a [`Watchdog`] ends a test that hangs on a wait the paused clock can never
//! time out.

use std::future::Future;
use std::time::Duration;

use anyhow::Context;

use crate::eventually::{Between, Outcome, eventually_with};

/// The longest real time one wait may take before the test gives up.
pub const REAL_LIMIT: Duration = Duration::from_secs(20);

/// Runs `scenario` on a current-thread runtime whose clock starts paused and is held
/// ([`ClockHeld`]) for the whole scenario, under a [`Watchdog`].
pub fn on_paused_clock<F: Future<Output = anyhow::Result<()>>>(
    name: &str,
    scenario: impl FnOnce() -> F,
) -> anyhow::Result<()> {
    let _watchdog = Watchdog::new(name, Duration::from_secs(120));
    tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build()?.block_on(async {
        let _held = ClockHeld::new();
        scenario().await
    })
}

/// Stops tokio from auto-advancing the paused clock until dropped.
pub struct ClockHeld(Option<std::sync::mpsc::Sender<()>>);

impl ClockHeld {
    pub fn new() -> Self {
        let (release, held) = std::sync::mpsc::channel::<()>();
        drop(tokio::task::spawn_blocking(move || held.recv()));
        ClockHeld(Some(release))
    }
}

impl Default for ClockHeld {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for ClockHeld {
    fn drop(&mut self) {
        self.0.take();
    }
}

/// Waits in real time (the paused clock does not move) until `done` holds.
pub async fn until(what: &str, mut done: impl FnMut() -> bool) -> anyhow::Result<()> {
    until_some(what, || std::future::ready(Ok(done().then_some(())))).await
}

/// Waits in real time until `check` answers `Some` (or `Ok`: see [`crate::eventually`]), only
/// yielding in between: a sleep would never end on the held clock.
pub async fn until_some<O: Outcome, F: Future<Output = anyhow::Result<O>>>(
    what: &str,
    check: impl FnMut() -> F,
) -> anyhow::Result<O::Value> {
    eventually_with(REAL_LIMIT, Between::Yield, check).await.with_context(|| format!("gave up waiting for {what}"))
}

/// Ends the whole test process if a test is still running after `limit` of real time: with
/// the clock paused, a wait that would have timed out waits forever instead.
pub struct Watchdog(Option<std::sync::mpsc::Sender<()>>);

impl Watchdog {
    pub fn new(name: &str, limit: Duration) -> Self {
        let (done, finished) = std::sync::mpsc::channel::<()>();
        let name = name.to_owned();
        std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(limit) {
                eprintln!("{name}: still running after {limit:?} of real time (hung on the paused clock?)");
                std::process::exit(101);
            }
        });
        Watchdog(Some(done))
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.0.take();
    }
}
