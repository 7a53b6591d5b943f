//! [`TestServer`]: Baton's real router on a real socket (port 0), on a real database.

use std::net::SocketAddr;
use std::path::PathBuf;

use baton_server::accounts::{self, NewAccount};
use baton_server::config::Config;
use baton_server::state::AppState;
use baton_shared::api::{Role, User};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::client::TestClient;
use crate::database::{Kind, TestDatabase};

/// The built web app, as `cargo xtask test` announces it (or `target/web`).
pub fn built_web_dir() -> PathBuf {
    std::env::var_os("BATON_WEB_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/web"))
}

pub struct TestServer {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub state: AppState,
    pub database: TestDatabase,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestServer {
    /// A server on SQLite with default settings and no web app.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(Kind::Sqlite, |_| {}).await
    }

    /// A server on `kind`, after `configure` has adjusted the defaults.
    pub async fn start_with(kind: Kind, configure: impl FnOnce(&mut Config)) -> anyhow::Result<Self> {
        Self::start_on(TestDatabase::new(kind).await?, configure).await
    }

    /// A server on `database`, which the test may have prepared (as a stopped server left it).
    pub async fn start_on(database: TestDatabase, configure: impl FnOnce(&mut Config)) -> anyhow::Result<Self> {
        let mut config = Config::new(database.dir.path());
        config.database = database.url.clone();
        config.web_dir = database.dir.path().join("no-web-app");
        configure(&mut config);
        let store = database.open().await?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = AppState::new(config, store, addr)?;
        let (shutdown, stop) = oneshot::channel::<()>();
        let task = tokio::spawn(baton_server::run(listener, state.clone(), async {
            // A dropped sender means the test is over: stop as well.
            let _stopped = stop.await;
        }));
        Ok(TestServer {
            addr,
            base: format!("http://127.0.0.1:{}", addr.port()),
            state,
            database,
            shutdown: Some(shutdown),
            task: Some(task),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The origin a browser on this server's page sends.
    pub fn origin(&self) -> String {
        self.base.clone()
    }

    /// A client with no session.
    pub fn client(&self) -> TestClient {
        TestClient::new(&self.base)
    }

    /// Creates a user directly through the account rules; returns it with its password.
    pub async fn create_user(&self, name: &str, role: Role) -> anyhow::Result<(User, String)> {
        let email = format!("{}@test.baton", name.to_lowercase().replace(' ', "."));
        let password = format!("pass-{}-{}", name.to_lowercase().replace(' ', "-"), role.as_str());
        let account = NewAccount { email, name: name.into(), role, password: password.clone() };
        let user = accounts::create(self.state.store.as_ref(), &self.state.passwords, account, None, self.state.clock)
            .await
            .map_err(|error| anyhow::anyhow!("{error}"))?;
        Ok((user, password))
    }

    /// A client logged in as a new user of `role`.
    pub async fn logged_in(&self, name: &str, role: Role) -> anyhow::Result<(TestClient, User)> {
        let (user, password) = self.create_user(name, role).await?;
        let mut client = self.client();
        client.login(&user.email, &password).await?;
        Ok((client, user))
    }

    /// A customer message, recorded and broadcast as the webhook will do it; returns its
    /// conversation.
    pub async fn customer_writes(&self, wa_id: &str, body: &str) -> anyhow::Result<baton_shared::ConversationId> {
        self.customer_writes_at(wa_id, body, baton_server::clock::now_ms()).await
    }

    /// [`TestServer::customer_writes`], written at `at` (Unix ms), so a test can order activity
    /// without depending on the clock's resolution.
    pub async fn customer_writes_at(
        &self,
        wa_id: &str,
        body: &str,
        at: i64,
    ) -> anyhow::Result<baton_shared::ConversationId> {
        self.customer_writes_stored(wa_id, body, at, baton_server::clock::now_ms()).await
    }

    /// [`TestServer::customer_writes`] now by the server's own clock (a test's paused one).
    pub async fn customer_writes_on_its_clock(
        &self,
        wa_id: &str,
        body: &str,
    ) -> anyhow::Result<baton_shared::ConversationId> {
        let now = self.state.now();
        self.customer_writes_stored(wa_id, body, now, now).await
    }

    /// A customer message sent at `at` and stored at `now`.
    async fn customer_writes_stored(
        &self,
        wa_id: &str,
        body: &str,
        at: i64,
        now: i64,
    ) -> anyhow::Result<baton_shared::ConversationId> {
        use baton_server::store::conversations::{InboundOutcome, NewInbound};
        let message = NewInbound {
            wa_id: wa_id.into(),
            profile_name: format!("Customer {wa_id}"),
            wa_message_id: format!("wamid.test.{}", uuid::Uuid::new_v4()),
            kind: "text".into(),
            body: body.into(),
            at,
            ..Default::default()
        };
        match self.state.store.record_inbound(&message, now).await? {
            InboundOutcome::Recorded { conversation_id, events } => {
                self.state.bus.publish(&events);
                Ok(conversation_id)
            }
            InboundOutcome::Duplicate => anyhow::bail!("a fresh message id was a duplicate"),
        }
    }

    /// Stops the server and waits for it to finish; fails if the hub's maps disagree.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.state.hub.check_invariants().map_err(|broken| anyhow::anyhow!("hub invariants broken: {broken}"))?;
        if let Some(shutdown) = self.shutdown.take() {
            let _already_stopped = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            task.await??;
        }
        Ok(())
    }
}

/// A test that ends without [`TestServer::stop`] still has its hub checked.
impl Drop for TestServer {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        if let Err(broken) = self.state.hub.check_invariants() {
            panic!("hub invariants broken: {broken}");
        }
    }
}
