//! The `baton` command line: `serve`, `demo` and `user add`. Every flag has a `BATON_*`
//! environment variable; flags win. See the README for a production example.

use std::io::{IsTerminal, Read};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use baton_shared::api::Role;
use clap::{Args, Parser, Subcommand};
use tokio::net::TcpListener;

use crate::accounts::{self, NewAccount};
use crate::clock::Clock;
use crate::config::{Config, DatabaseUrl, LogFormat, default_web_dir, parse_origins};
use crate::passwords::{Passwords, check_new_password};
use crate::state::AppState;
use crate::{demo, store, telemetry};

#[derive(Parser)]
#[command(name = "baton", version, about = "Baton: a shared team inbox for one WhatsApp Business number")]
struct Cli {
    /// How log lines are written.
    #[arg(long, env = "BATON_LOG_FORMAT", value_enum, default_value = "human", global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run Baton (production).
    Serve(ServerArgs),
    /// Run Baton with demo accounts, created on the first start (by default in ./baton-data).
    Demo(ServerArgs),
    /// Manage accounts without a browser (e.g. create the first admin).
    #[command(subcommand)]
    User(UserCommand),
}

/// Where Baton keeps its data.
#[derive(Args)]
struct StorageArgs {
    /// Directory for the SQLite file, media and keys (created if missing).
    #[arg(long, env = "BATON_DATA_DIR", default_value = "baton-data")]
    data_dir: PathBuf,
    /// Database URL: `postgres://…` selects PostgreSQL; default is SQLite in the data directory.
    #[arg(long, env = "BATON_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
}

impl StorageArgs {
    fn database(&self) -> anyhow::Result<DatabaseUrl> {
        match &self.database_url {
            Some(url) => DatabaseUrl::parse(url).map_err(anyhow::Error::msg),
            None => Ok(DatabaseUrl::in_data_dir(&self.data_dir)),
        }
    }

    async fn open(&self) -> anyhow::Result<std::sync::Arc<dyn store::Store>> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("cannot create the data directory {}", self.data_dir.display()))?;
        let database = self.database()?;
        store::open(&database).await.with_context(|| format!("cannot open the database {database:?}"))
    }
}

#[derive(Args)]
struct ServerArgs {
    /// Address and port to listen on.
    #[arg(long, env = "BATON_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    #[command(flatten)]
    storage: StorageArgs,
    /// Origin(s) browsers use to reach Baton, comma-separated (e.g. https://inbox.example.com).
    /// Drives the Origin allowlist and the cookie's Secure flag. Default: this machine's
    /// http://localhost:PORT and http://127.0.0.1:PORT.
    #[arg(long, env = "BATON_PUBLIC_ORIGIN")]
    public_origin: Option<String>,
    /// Directory of the built web app. Default: `web` beside the executable, or `../web`.
    #[arg(long, env = "BATON_WEB_DIR")]
    web_dir: Option<PathBuf>,
    /// How long a login lasts, in hours.
    #[arg(long, env = "BATON_SESSION_TTL_HOURS", default_value_t = 14 * 24)]
    session_ttl_hours: u64,
    /// How long a conversation's claim outlives its holder's last connection, in seconds.
    #[arg(long, env = "BATON_CLAIM_LEASE_SECS", default_value_t = 30)]
    claim_lease_secs: u64,
    /// A claim whose holder has done nothing with it (no keystroke, no reply) for this many seconds,
    /// with no draft waiting, lapses.
    #[arg(long, env = "BATON_CLAIM_IDLE_SECS", default_value_t = 60)]
    claim_idle_secs: u64,
    /// Demo only: the customer-phone page of a WhatsApp simulator to point people at.
    #[arg(long, env = "BATON_DEMO_PHONE_URL", hide = true)]
    demo_phone_url: Option<String>,
    #[command(flatten)]
    whatsapp: WhatsAppArgs,
}

/// The WhatsApp Cloud API channel (see the README for registering the webhook with Meta).
#[derive(Args)]
struct WhatsAppArgs {
    /// The Meta app's secret: verifies webhook signatures. Without it, webhooks are refused.
    #[arg(long, env = "BATON_WHATSAPP_APP_SECRET", hide_env_values = true)]
    whatsapp_app_secret: Option<String>,
    /// The token you typed into Meta's webhook settings, answered in the verification handshake.
    #[arg(long, env = "BATON_WHATSAPP_VERIFY_TOKEN", hide_env_values = true)]
    whatsapp_verify_token: Option<String>,
    /// The system-user access token for the Graph API.
    #[arg(long, env = "BATON_WHATSAPP_ACCESS_TOKEN", hide_env_values = true)]
    whatsapp_access_token: Option<String>,
    /// The business phone number's id (not the number itself).
    #[arg(long, env = "BATON_WHATSAPP_PHONE_NUMBER_ID")]
    whatsapp_phone_number_id: Option<String>,
    /// The Graph API's base URL (Meta's, or the WhatsApp simulator's).
    #[arg(long, env = "BATON_WHATSAPP_GRAPH_URL", default_value = crate::whatsapp::DEFAULT_GRAPH_URL)]
    whatsapp_graph_url: String,
    /// The Graph API version.
    #[arg(long, env = "BATON_WHATSAPP_API_VERSION", default_value = crate::whatsapp::DEFAULT_API_VERSION)]
    whatsapp_api_version: String,
    /// The WhatsApp Business Account id, where the approved message templates are listed.
    #[arg(long, env = "BATON_WHATSAPP_BUSINESS_ACCOUNT_ID")]
    whatsapp_business_account_id: Option<String>,
    /// The number's throughput limit in messages per second (Meta's default is 80).
    #[arg(long, env = "BATON_WHATSAPP_MESSAGES_PER_SECOND", default_value_t = crate::whatsapp::DEFAULT_MESSAGES_PER_SECOND,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    whatsapp_messages_per_second: u32,
    /// Show customers "typing…" while the agent holding the conversation writes.
    #[arg(long, env = "BATON_WHATSAPP_TYPING_INDICATOR", default_value_t = true, action = clap::ArgAction::Set)]
    whatsapp_typing_indicator: bool,
    /// After a restart, seconds a reply whose send was interrupted waits for a status webhook
    /// proving WhatsApp accepted it, before it is sent again.
    #[arg(long, env = "BATON_WHATSAPP_IN_FLIGHT_WAIT_SECS",
          default_value_t = crate::whatsapp::DEFAULT_IN_FLIGHT_WAIT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    whatsapp_in_flight_wait_secs: u64,
}

impl WhatsAppArgs {
    fn config(&self) -> anyhow::Result<crate::whatsapp::WhatsAppConfig> {
        let app_secret = match self.whatsapp_app_secret.as_deref().filter(|secret| !secret.is_empty()) {
            Some(secret) => Some(
                baton_whatsapp::signature::AppSecret::new(secret)
                    .map_err(|error| anyhow::anyhow!("--whatsapp-app-secret: {error}"))?,
            ),
            None => None,
        };
        let non_empty = |value: &Option<String>| value.clone().filter(|value| !value.is_empty());
        Ok(crate::whatsapp::WhatsAppConfig {
            app_secret,
            verify_token: non_empty(&self.whatsapp_verify_token),
            access_token: non_empty(&self.whatsapp_access_token),
            phone_number_id: non_empty(&self.whatsapp_phone_number_id),
            graph_url: self.whatsapp_graph_url.trim_end_matches('/').to_owned(),
            api_version: self.whatsapp_api_version.clone(),
            business_account_id: non_empty(&self.whatsapp_business_account_id),
            messages_per_second: self.whatsapp_messages_per_second,
            typing_indicator: self.whatsapp_typing_indicator,
            in_flight_wait: Duration::from_secs(self.whatsapp_in_flight_wait_secs),
            ..crate::whatsapp::WhatsAppConfig::default()
        })
    }
}

impl ServerArgs {
    fn config(&self) -> anyhow::Result<Config> {
        let mut config = Config::new(&self.storage.data_dir);
        config.database = self.storage.database()?;
        if let Some(origins) = &self.public_origin {
            config.public_origins = parse_origins(origins).map_err(anyhow::Error::msg)?;
        }
        config.web_dir = self.web_dir.clone().unwrap_or_else(default_web_dir);
        if self.session_ttl_hours == 0 {
            bail!("--session-ttl-hours must be at least 1");
        }
        config.session_ttl = Duration::from_secs(self.session_ttl_hours.saturating_mul(3600));
        if self.claim_lease_secs == 0 {
            bail!("--claim-lease-secs must be at least 1");
        }
        config.claim_lease = Duration::from_secs(self.claim_lease_secs);
        if self.claim_idle_secs == 0 {
            bail!("--claim-idle-secs must be at least 1");
        }
        config.claim_idle = Duration::from_secs(self.claim_idle_secs);
        config.whatsapp = self.whatsapp.config()?;
        Ok(config)
    }
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account. The password is read from standard input, or prompted for on a terminal.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// agent, lead, supervisor or admin.
        #[arg(long)]
        role: Role,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

/// Entry point of the `baton` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(args, false).await,
            Command::Demo(args) => serve(args, true).await,
            Command::User(UserCommand::Add { email, name, role, storage }) => {
                add_user(email, name, role, storage).await
            }
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServerArgs, demo_mode: bool) -> anyhow::Result<()> {
    let config = args.config()?;
    tracing::info!(?config, "starting");
    let store = args.storage.open().await?;
    let listener = TcpListener::bind(args.listen).await.with_context(|| format!("cannot listen on {}", args.listen))?;
    let local_addr = listener.local_addr()?;
    if args.public_origin.is_none() && !local_addr.ip().is_loopback() {
        tracing::warn!(
            "listening on {local_addr} without BATON_PUBLIC_ORIGIN: only browsers on this machine \
             (http://localhost:{}) may log in; set --public-origin to the address others use",
            local_addr.port()
        );
    }
    let state = AppState::new(config, store, local_addr)?;
    if demo_mode {
        let created = demo::seed(state.store.as_ref(), &state.passwords).await?;
        let note = if created { "created now" } else { "kept from an earlier run" };
        println!("\nBaton demo — accounts ({note}; data in {}):", state.config.data_dir.display());
        print!("{}", demo::credentials_table());
        if let Some(phone) = &args.demo_phone_url {
            println!("\nBe the customer: open {phone} (the WhatsApp simulator's phone) and write to the business.");
        }
    }
    if !state.web.is_built() {
        println!("\nThe web app is not built: run `cargo xtask build-web` (or start with `cargo xtask demo`).");
    }
    let url = state.origins.first().map(|origin| origin.as_str().to_owned()).unwrap_or_default();
    println!("\nBaton is listening on {local_addr}. Open {url}/ in a browser. Stop with Ctrl+C.\n");
    crate::run(listener, state, shutdown_signal()).await
}

/// Resolves on Ctrl+C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl+C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

async fn add_user(email: String, name: String, role: Role, storage: StorageArgs) -> anyhow::Result<()> {
    let password = read_password()?;
    check_new_password(&password).map_err(anyhow::Error::msg)?;
    let store = storage.open().await?;
    let passwords = Passwords::new()?;
    let account = NewAccount { email, name, role, password };
    let user = accounts::create(store.as_ref(), &passwords, account, None, Clock::Wall)
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    println!("Created {} <{}> as {} (id {}).", user.name, user.email, user.role, user.id);
    Ok(())
}

/// Prompts twice on a terminal; otherwise reads standard input, without its final line break.
fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let second = rpassword::prompt_password("Repeat the password: ")?;
        if first != second {
            bail!("the two passwords differ");
        }
        return Ok(first);
    }
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).context("cannot read the password from standard input")?;
    let password = input.strip_suffix('\n').unwrap_or(&input);
    let password = password.strip_suffix('\r').unwrap_or(password);
    Ok(password.to_owned())
}
