//! # Baton's end-to-end test harness
//!
//! - [`database`]: a real database per test — an SQLite file in a temporary directory, or a fresh
//!   PostgreSQL database (dropped afterwards) on the server named by `BATON_TEST_POSTGRES_URL`
//!   (default: this machine's, `postgres://127.0.0.1:5432/postgres`).
//! - [`server`]: [`server::TestServer`] runs the real router on port 0 over real sockets; no sleeps,
//!   the listener is bound before the first request.
//! - [`client`]: [`client::TestClient`], an HTTP client that keeps its session cookie and sends
//!   the CSRF header (or deliberately not).
//! - [`socket`]: [`socket::WsClient`], a real WebSocket client with typed requests and waits.
//! - [`eventually`]: asks again until an outcome holds, within a deadline (no sleeping for readiness).
//! - [`paused`]: tests on tokio's paused clock with real I/O (time moves only when told).
//! - [`process`]: the real `baton` binary as a child process, to kill with SIGKILL.
//! - [`whatsapp`]: Baton wired to the WhatsApp simulator, with the channel tests' common steps.
//! - [`teams`]: teams and queues set up over REST, and who holds what.
//! - [`browser`]: headless Chromium through ChromeDriver, for tests of the WASM app.

pub mod browser;
pub mod client;
pub mod clocked;
pub mod database;
pub mod eventually;
pub mod paused;
pub mod process;
pub mod replies;
pub mod server;
pub mod socket;
pub mod teams;
pub mod whatsapp;

/// Where tests write artifacts (screenshots): `target/test-output/`.
pub fn output_dir(kind: &str) -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("test-output").join(kind);
    if let Err(error) = std::fs::create_dir_all(&dir) {
        panic!("cannot create {}: {error}", dir.display());
    }
    dir
}

/// Runs each named scenario — an `async fn(Arc<dyn Store>) -> anyhow::Result<()>` in the calling
/// file — as two tests, `<scenario>::sqlite` and `<scenario>::postgres`, each on a fresh database.
#[macro_export]
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test]
            async fn sqlite() -> anyhow::Result<()> {
                let database = $crate::database::TestDatabase::new($crate::database::Kind::Sqlite).await?;
                super::$scenario(database.open().await?).await
            }

            #[tokio::test]
            async fn postgres() -> anyhow::Result<()> {
                let database = $crate::database::TestDatabase::new($crate::database::Kind::Postgres).await?;
                super::$scenario(database.open().await?).await
            }
        }
    )*};
}

/// Runs each named scenario — an `async fn(Kind) -> anyhow::Result<()>` in the calling file that
/// starts its own server on that kind of database — as `<scenario>::sqlite` and
/// `<scenario>::postgres`.
#[macro_export]
macro_rules! on_both_kinds {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test]
            async fn sqlite() -> anyhow::Result<()> {
                super::$scenario($crate::database::Kind::Sqlite).await
            }

            #[tokio::test]
            async fn postgres() -> anyhow::Result<()> {
                super::$scenario($crate::database::Kind::Postgres).await
            }
        }
    )*};
}
