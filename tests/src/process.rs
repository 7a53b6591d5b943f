//! The real `baton` binary as a child process, for tests that must stop it the hard way
//! (`SIGKILL`) or the polite way (`SIGTERM`): [`baton_binary`] builds it (or takes
//! `BATON_BINARY`), [`BatonProcess`] starts `baton serve` on a free port, kills or terminates it.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, BufReader};

/// The `baton` binary of this checkout, copied to `into`: `BATON_BINARY` if set, otherwise built
/// with cargo into the target directory this test runs from (a no-op when it is up to date), as
/// the load generators' `baton_binary` finds it beside themselves. The copy keeps the test on
/// this build even if someone else's build replaces `target/debug/baton` meanwhile.
pub fn baton_binary(into: &Path) -> anyhow::Result<PathBuf> {
    let built = match std::env::var_os("BATON_BINARY") {
        Some(path) => PathBuf::from(path),
        None => build()?,
    };
    anyhow::ensure!(built.is_file(), "no baton binary at {}", built.display());
    let copy = into.join("baton");
    std::fs::copy(&built, &copy).with_context(|| format!("cannot copy {}", built.display()))?;
    Ok(copy)
}

fn build() -> anyhow::Result<PathBuf> {
    // This test runs from `<target>/<profile>/deps/`.
    let exe = std::env::current_exe()?;
    let profile_dir = exe.parent().and_then(Path::parent).context("the test's directory")?;
    let target = profile_dir.parent().context("the target directory")?;
    let release = profile_dir.file_name().is_some_and(|name| name == "release");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = std::process::Command::new(cargo);
    // All targets of the workspace's default members: the features `cargo test` resolved, so the
    // binary it built already is up to date. (`--bin baton` alone resolves fewer features and
    // would build the server and its dependencies again, minutes on this machine.)
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().context("the workspace")?;
    command.current_dir(workspace).args(["build", "--quiet", "--all-targets", "--target-dir"]).arg(target);
    if release {
        command.arg("--release");
    }
    let status = command.status().context("cannot run cargo to build baton")?;
    anyhow::ensure!(status.success(), "building baton failed ({status})");
    Ok(profile_dir.join("baton"))
}

/// A running `baton serve`.
pub struct BatonProcess {
    child: tokio::process::Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

impl BatonProcess {
    /// Starts `baton serve` on a free port with more `args` and `env` (its log appended to
    /// `log`); returns once it listens.
    pub async fn start(binary: &Path, args: &[String], env: &[(String, String)], log: &Path) -> anyhow::Result<Self> {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(log)?;
        let mut child = tokio::process::Command::new(binary)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .envs(env.iter().map(|(name, value)| (name.as_str(), value.as_str())))
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()?;
        let mut lines = BufReader::new(child.stdout.take().context("baton's stdout")?).lines();
        let address = loop {
            let line = lines.next_line().await?.context("baton exited before listening")?;
            if let Some(rest) = line.strip_prefix("Baton is listening on ") {
                break rest.split(". ").next().unwrap_or_default().to_owned();
            }
        };
        // Keep reading, so the process never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(BatonProcess { child, base: format!("http://{address}") })
    }

    /// `SIGKILL`: no shutdown, no flush, whatever it was doing.
    pub async fn kill(mut self) -> anyhow::Result<()> {
        self.child.start_kill()?;
        self.child.wait().await?;
        Ok(())
    }

    /// The process id, while it runs (for [`terminate`]).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Waits for the process to exit; its exit status.
    pub async fn wait(mut self) -> anyhow::Result<std::process::ExitStatus> {
        Ok(self.child.wait().await?)
    }
}

/// Sends `SIGTERM` to `pid`, as a service manager stopping Baton does; the process keeps running
/// until it has shut down (see [`BatonProcess::wait`]).
pub fn terminate(pid: u32) -> anyhow::Result<()> {
    let status = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status()?;
    anyhow::ensure!(status.success(), "kill -TERM {pid} failed ({status})");
    Ok(())
}

/// The environment `baton serve` needs on `database`, with its data in the database's directory,
/// no web app, logging at `log` and the contract's webhook secret and number: a test adds what
/// else it wants (a Graph API, shorter waits).
pub fn environment(database: &crate::database::TestDatabase, scratch: &Path, log: &str) -> Vec<(String, String)> {
    use baton_server::config::DatabaseUrl;
    let database_url = match &database.url {
        DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
        DatabaseUrl::Postgres(url) => url.clone(),
    };
    [
        ("BATON_DATA_DIR", database.dir.path().display().to_string()),
        ("BATON_DATABASE_URL", database_url),
        ("BATON_WEB_DIR", scratch.join("no-web-app").display().to_string()),
        ("BATON_LOG", log.to_owned()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect()
}
