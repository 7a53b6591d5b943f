//! Headless Chromium driven through ChromeDriver (Debian's `chromium` and `chromium-driver`, which
//! `cargo xtask test` installs). `BATON_CHROMIUM` and `BATON_CHROMEDRIVER` point at other binaries.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long to wait for ChromeDriver to start, or for an element to appear.
pub const PATIENCE: Duration = Duration::from_secs(30);

fn binary(variable: &str, default: &str) -> PathBuf {
    std::env::var_os(variable).map(PathBuf::from).unwrap_or_else(|| PathBuf::from(default))
}

/// One headless Chromium with a fresh profile, and the ChromeDriver that controls it.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn launch() -> anyhow::Result<Self> {
        let chromium = binary("BATON_CHROMIUM", "/usr/bin/chromium");
        let chromedriver = binary("BATON_CHROMEDRIVER", "/usr/bin/chromedriver");
        anyhow::ensure!(
            chromium.is_file() && chromedriver.is_file(),
            "browser tests need {} and {}: run them through `cargo xtask test`, which installs both",
            chromium.display(),
            chromedriver.display()
        );
        let port = free_port()?;
        let mut driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", chromedriver.display()))?;
        let stdout = driver.stdout.take().context("chromedriver stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        // ChromeDriver says when it listens; wait for that line, not for a fixed time.
        tokio::time::timeout(PATIENCE, async {
            while let Some(line) = lines.next_line().await? {
                if line.contains("started successfully") {
                    return Ok(());
                }
            }
            anyhow::bail!("chromedriver exited before it was ready")
        })
        .await
        .context("chromedriver did not start in time")??;
        // Keep draining its output so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_line)) = lines.next_line().await {} });

        let profile = tempfile::tempdir()?;
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,800",
        ];
        let mut args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "binary": chromium.display().to_string(), "args": args }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .context("opening a Chromium session")?;
        Ok(Browser { client, driver, _profile: profile })
    }

    /// Waits (up to [`PATIENCE`]) for an element matching the CSS selector.
    pub async fn wait_for(&self, css: &str) -> anyhow::Result<fantoccini::elements::Element> {
        self.client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("waiting for {css}"))
    }

    /// Saves a PNG screenshot under `target/test-output/browser/NAME.png`; returns its path.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        let png = self.client.screenshot().await?;
        let path = crate::output_dir("browser").join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    pub async fn close(mut self) -> anyhow::Result<()> {
        self.client.clone().close().await?;
        self.driver.kill().await?;
        Ok(())
    }
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
