//! The peer Baton is compared against: the Node.js `ws` room server in `bench/peer/` (see its
//! `peer.js` for what it does). Started here with `node`, after `npm ci` if its dependencies are
//! not installed; skipped, with a word, when there is no `node`.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, BufReader};

/// A running peer server.
pub struct Peer {
    /// Killed when dropped.
    _process: tokio::process::Child,
    pub pid: u32,
    pub base: String,
}

/// Where the peer's sources are by default: `bench/peer/` of the checkout this was built from.
pub fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peer")
}

/// Starts the peer in `dir` with `presence` (`none` or `naive`, see `peer.js`); `None` (said on
/// the output) when `node` is not installed.
pub async fn start(dir: &Path, presence: &str) -> anyhow::Result<Option<Peer>> {
    let node = tokio::process::Command::new("node").arg("--version").output().await;
    let version = match node {
        Ok(output) if output.status.success() => String::from_utf8_lossy(&output.stdout).trim().to_owned(),
        _ => {
            println!("no `node` on this machine: the peer is skipped");
            return Ok(None);
        }
    };
    anyhow::ensure!(dir.join("peer.js").is_file(), "no peer.js in {} (pass --peer-dir)", dir.display());
    if !dir.join("node_modules").join("ws").is_dir() {
        println!("installing the peer's dependencies: npm ci --prefix {}", dir.display());
        let status = tokio::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(dir)
            .stdout(Stdio::null())
            .status()
            .await
            .context("running npm ci (is npm installed?)")?;
        anyhow::ensure!(status.success(), "npm ci --prefix {} failed", dir.display());
    }
    let mut process = tokio::process::Command::new("node")
        .arg("peer.js")
        .current_dir(dir)
        .env("PEER_PRESENCE", presence)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("starting node peer.js")?;
    let pid = process.id().context("the peer's pid")?;
    let mut lines = BufReader::new(process.stdout.take().context("the peer's stdout")?).lines();
    let address = loop {
        let line = lines.next_line().await?.context("the peer exited before listening")?;
        if let Some(address) = line.strip_prefix("peer is listening on ") {
            break address.trim().to_owned();
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    println!("peer (node {version}, ws, presence: {presence}) pid {pid} at http://{address}");
    Ok(Some(Peer { _process: process, pid, base: format!("http://{address}") }))
}
