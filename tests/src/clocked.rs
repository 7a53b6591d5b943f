//! Baton on tokio's paused clock, and waiting for its automation: the server's clock starts at a
//! given instant and moves only when the test moves it ([`advance`]), after which the test waits
//! — in real time — until automation did everything that fell due.

use std::time::Duration;

use baton_server::clock::Clock;

use crate::database::Kind;
use crate::paused::{until, until_some};
use crate::server::TestServer;

/// The server, on a clock that starts at `at` (Unix ms) and moves only with tokio's; its sockets'
/// pings and idle limits pushed out of the way of jumps of days.
pub async fn start_at(kind: Kind, at: i64) -> anyhow::Result<TestServer> {
    TestServer::start_with(kind, |config| {
        config.clock = Clock::Tokio { unix_ms: at, since: tokio::time::Instant::now() };
        config.ws_ping_interval = Duration::from_secs(30 * 86_400);
        config.ws_idle_timeout = Duration::from_secs(60 * 86_400);
    })
    .await
}

/// Moves the paused clock on by `by` and waits until automation did everything due then. Jobs due
/// before are done first: a jump of the clock while one waits for a database connection would
/// time that wait out.
pub async fn advance(server: &TestServer, by: Duration) -> anyhow::Result<()> {
    jobs_done(server).await?;
    tokio::time::advance(by).await;
    let now = server.state.now();
    until("automation's pass", || server.state.automation.last_pass() >= now).await?;
    jobs_done(server).await
}

/// Moves the paused clock on to `at` (Unix ms; forward only), as [`advance`].
pub async fn clock_to(server: &TestServer, at: i64) -> anyhow::Result<()> {
    let by = at - server.state.now();
    anyhow::ensure!(by >= 0, "the clock goes forward only");
    advance(server, Duration::from_millis(u64::try_from(by)?)).await
}

/// Waits until automation has done every job due now.
pub async fn jobs_done(server: &TestServer) -> anyhow::Result<()> {
    let now = server.state.now();
    until_some("automation's jobs", || async { Ok((server.state.store.jobs_due(now).await? == 0).then_some(())) }).await
}
