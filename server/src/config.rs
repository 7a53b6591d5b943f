//! Typed runtime configuration, built from flags and `BATON_*` environment variables by [`crate::cli`]
//! (or directly by tests). `Debug` never prints a secret: database passwords are redacted.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Which database Baton talks to.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An SQLite file (created if missing).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL, `postgres://…` or `postgresql://…`.
    Postgres(String),
}

impl DatabaseUrl {
    /// Reads `BATON_DATABASE_URL` syntax: `postgres://…`, `postgresql://…`, `sqlite://path` or
    /// `sqlite:path`.
    pub fn parse(url: &str) -> Result<Self, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DatabaseUrl::Postgres(url.to_owned()))
        } else if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err("an sqlite URL needs a file path, e.g. sqlite:///var/lib/baton/baton.db".into());
            }
            Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
        } else {
            Err(format!("unsupported database URL {:?}: expected postgres://… or sqlite://path", redact_url(url)))
        }
    }

    /// The default: `baton.db` inside the data directory.
    pub fn in_data_dir(data_dir: &Path) -> Self {
        DatabaseUrl::Sqlite(data_dir.join("baton.db"))
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => f.write_str(&redact_url(url)),
        }
    }
}

/// Replaces the password of `scheme://user:password@host` (and of a `password=` query parameter,
/// which sqlx also accepts) with `***`.
pub fn redact_url(url: &str) -> String {
    let (url, query) = match url.split_once('?') {
        Some((url, query)) => (url, Some(query)),
        None => (url, None),
    };
    let mut redacted = redact_authority(url);
    if let Some(query) = query {
        let parameters: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if name.eq_ignore_ascii_case("password") => format!("{name}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        redacted.push('?');
        redacted.push_str(&parameters.join("&"));
    }
    redacted
}

fn redact_authority(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (authority, tail) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// A browser origin (`scheme://host[:port]`), normalised to lower case without a trailing slash.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Origin(String);

impl Origin {
    pub fn parse(text: &str) -> Result<Self, String> {
        let origin = text.trim().trim_end_matches('/').to_ascii_lowercase();
        let Some((scheme, host)) = origin.split_once("://") else {
            return Err(format!("origin {text:?} must look like https://inbox.example.com"));
        };
        if !matches!(scheme, "http" | "https") || host.is_empty() || host.contains('/') {
            return Err(format!("origin {text:?} must look like https://inbox.example.com (no path)"));
        }
        Ok(Origin(origin))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }

    /// The origins a browser on this machine uses for a server listening on `addr`: used when
    /// `BATON_PUBLIC_ORIGIN` is not set.
    pub fn local_defaults(addr: SocketAddr) -> Vec<Origin> {
        let port = addr.port();
        let mut origins = vec![Origin(format!("http://localhost:{port}"))];
        if addr.ip().is_unspecified() || addr.ip().is_loopback() {
            origins.push(Origin(format!("http://127.0.0.1:{port}")));
            origins.push(Origin(format!("http://[::1]:{port}")));
        } else {
            origins.push(Origin(format!("http://{addr}")));
        }
        origins
    }
}

/// Parses a comma-separated `BATON_PUBLIC_ORIGIN`.
pub fn parse_origins(text: &str) -> Result<Vec<Origin>, String> {
    text.split(',').filter(|part| !part.trim().is_empty()).map(Origin::parse).collect()
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Readable lines for a terminal.
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Everything the server needs to run.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where the SQLite file, media and keys live.
    pub data_dir: PathBuf,
    pub database: DatabaseUrl,
    /// Origins browsers load Baton from. Drives the Origin allowlist (CSRF, WebSocket) and the
    /// cookie's `Secure` flag. Empty means "derive from the listen address once bound".
    pub public_origins: Vec<Origin>,
    /// The built web app (`index.html` and `assets/`).
    pub web_dir: PathBuf,
    /// How long a login lasts.
    pub session_ttl: Duration,
    /// How long a claim outlives its holder's last socket.
    pub claim_lease: Duration,
    /// A claim unused this long (no keystroke, no reply) with no draft waiting lapses.
    pub claim_idle: Duration,
    /// How often the server pings an idle socket.
    pub ws_ping_interval: Duration,
    /// A socket that sends nothing (not even a pong) this long is closed.
    pub ws_idle_timeout: Duration,
    /// Socket queues, typing and draft timers.
    pub hub: crate::hub::HubConfig,
    /// The WhatsApp Cloud API channel.
    pub whatsapp: crate::whatsapp::WhatsAppConfig,
    /// What "now" is for claims, leases, sessions, the channel's sends and retries: the wall
    /// clock; tests use tokio's, which they can pause and advance.
    pub clock: crate::clock::Clock,
}

impl Config {
    /// A configuration for a data directory, with every other setting at its default.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        Config {
            database: DatabaseUrl::in_data_dir(&data_dir),
            data_dir,
            public_origins: Vec::new(),
            web_dir: default_web_dir(),
            session_ttl: Duration::from_secs(14 * 24 * 3600),
            claim_lease: Duration::from_secs(30),
            claim_idle: Duration::from_secs(60),
            ws_ping_interval: Duration::from_secs(20),
            ws_idle_timeout: Duration::from_secs(60),
            hub: crate::hub::HubConfig::default(),
            whatsapp: crate::whatsapp::WhatsAppConfig::default(),
            clock: crate::clock::Clock::Wall,
        }
    }

    /// Cookies are `Secure` when browsers reach Baton over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_origins.iter().any(Origin::is_https)
    }
}

/// `web/` beside the `baton` executable, or `../web` (where `cargo xtask build-web` puts it relative
/// to `target/<profile>/baton`).
pub fn default_web_dir() -> PathBuf {
    let exe_dir = std::env::current_exe().ok().and_then(|exe| exe.parent().map(Path::to_path_buf));
    let Some(exe_dir) = exe_dir else { return PathBuf::from("web") };
    let candidates = [exe_dir.join("web"), exe_dir.join("../web")];
    candidates.iter().find(|dir| dir.join("index.html").is_file()).cloned().unwrap_or_else(|| exe_dir.join("web"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_select_the_backend() {
        assert_eq!(DatabaseUrl::parse("postgres://u:p@h/db"), Ok(DatabaseUrl::Postgres("postgres://u:p@h/db".into())));
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/baton/b.db"),
            Ok(DatabaseUrl::Sqlite("/var/lib/baton/b.db".into()))
        );
        assert_eq!(DatabaseUrl::parse("sqlite:b.db?mode=rwc"), Ok(DatabaseUrl::Sqlite("b.db".into())));
        assert!(DatabaseUrl::parse("mysql://x").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn debug_redacts_database_passwords() {
        let url = DatabaseUrl::parse("postgres://baton:s3cret@db:5432/baton").expect("parses");
        let shown = format!("{url:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert_eq!(shown, "postgres://baton:***@db:5432/baton");
        assert_eq!(redact_url("postgres://db/baton"), "postgres://db/baton");
        assert_eq!(
            redact_url("postgres://db/baton?user=b&password=s3cret&sslmode=require"),
            "postgres://db/baton?user=b&password=***&sslmode=require"
        );
        let err = DatabaseUrl::parse("mysql://root:pw@h/x").expect_err("unsupported");
        assert!(!err.contains("pw@"), "{err}");
    }

    #[test]
    fn origins_are_normalised_and_validated() {
        let origins = parse_origins("https://Inbox.Example.com/, http://localhost:8080").expect("parses");
        assert_eq!(origins[0].as_str(), "https://inbox.example.com");
        assert!(origins[0].is_https());
        assert!(!origins[1].is_https());
        assert!(Origin::parse("inbox.example.com").is_err());
        assert!(Origin::parse("https://x.com/path").is_err());
        assert!(Origin::parse("ftp://x.com").is_err());
    }

    #[test]
    fn secure_cookies_follow_https_origins() {
        let mut config = Config::new("/tmp/x");
        assert!(!config.secure_cookies());
        config.public_origins = parse_origins("https://inbox.example.com").expect("parses");
        assert!(config.secure_cookies());
    }
}
