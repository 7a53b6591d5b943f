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

use crate::eventually::eventually;

/// How long to wait for ChromeDriver to start, or for an element to appear.
pub const PATIENCE: Duration = Duration::from_secs(30);

fn binary(variable: &str, default: &str) -> PathBuf {
    std::env::var_os(variable).map(PathBuf::from).unwrap_or_else(|| PathBuf::from(default))
}

/// Starts ChromeDriver on a port it picks itself (port 0: a port picked here and freed could be
/// taken by a parallel test's driver before this one binds it); waits for the line that says where
/// it listens, not for a fixed time.
async fn start_driver(
    chromedriver: &std::path::Path,
) -> anyhow::Result<(Child, u16, tokio::io::Lines<BufReader<tokio::process::ChildStdout>>)> {
    let mut driver = Command::new(chromedriver)
        .arg("--port=0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", chromedriver.display()))?;
    let stdout = driver.stdout.take().context("chromedriver stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let port = tokio::time::timeout(PATIENCE, async {
        while let Some(line) = lines.next_line().await? {
            if line.contains("started successfully") {
                return listening_port(&line);
            }
        }
        anyhow::bail!("chromedriver exited before it was ready")
    })
    .await
    .context("chromedriver did not start in time")??;
    Ok((driver, port, lines))
}

/// One headless Chromium with a fresh profile, and the ChromeDriver that controls it.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn launch() -> anyhow::Result<Self> {
        Self::launch_with(&[]).await
    }

    /// [`Browser::launch`] with more Chromium switches (e.g. to emulate the system's dark mode).
    pub async fn launch_with(extra_args: &[&str]) -> anyhow::Result<Self> {
        let chromium = binary("BATON_CHROMIUM", "/usr/bin/chromium");
        let chromedriver = binary("BATON_CHROMEDRIVER", "/usr/bin/chromedriver");
        anyhow::ensure!(
            chromium.is_file() && chromedriver.is_file(),
            "browser tests need {} and {}: run them through `cargo xtask test`, which installs both",
            chromium.display(),
            chromedriver.display()
        );
        // ChromeDriver once exited before saying it listened while many browsers started at once
        // (seen in one full run): a driver that dies starting is started again, twice at most.
        let mut attempts = 0;
        let (driver, port, mut lines) = loop {
            attempts += 1;
            match start_driver(&chromedriver).await {
                Ok(started) => break started,
                Err(error) if attempts < 3 => eprintln!("chromedriver did not start ({error:#}): starting it again"),
                Err(error) => return Err(error),
            }
        };
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
        let mut args: Vec<String> = args.iter().chain(extra_args).map(|arg| (*arg).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            // Notifications allowed, as if the user had said yes: the app still asks (and only
            // when the bell is clicked), but no permission prompt can block a headless run.
            serde_json::json!({
                "binary": chromium.display().to_string(),
                "args": args,
                "prefs": { "profile.default_content_setting_values.notifications": 1 },
            }),
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

/// The port in ChromeDriver's "ChromeDriver was started successfully on port 33633."
fn listening_port(line: &str) -> anyhow::Result<u16> {
    let port = line.rsplit("port ").next().map(|rest| rest.trim_end_matches(['.', ' ']));
    port.and_then(|port| port.parse().ok()).with_context(|| format!("no port in chromedriver's {line:?}"))
}

/// Wraps `window.Notification` to note each notification the app shows, then shows it.
pub const NOTIFICATION_HOOK: &str = r#"
    const Native = window.Notification;
    window.__batonNotifications = [];
    function Recorded(title, options) {
        window.__batonNotifications.push(title + ': ' + ((options && options.body) || ''));
        return new Native(title, options);
    }
    Recorded.prototype = Native.prototype;
    Object.defineProperty(Recorded, 'permission', { get: () => Native.permission });
    Recorded.requestPermission = (...args) => Native.requestPermission(...args);
    window.Notification = Recorded;
"#;

/// Replaces the page's `WebSocket` constructor with one that remembers every socket in
/// `window.__batonSockets` and refuses new ones while `window.__batonOffline` is true, so a test
/// can cut the app's connection (`cut_socket`) and keep it down while things happen. Must run
/// before the app opens its socket (before logging in).
pub const SOCKET_HOOK: &str = r#"
    const Native = window.WebSocket;
    window.__batonSockets = [];
    window.__batonOffline = false;
    function Hooked(url, protocols) {
        if (window.__batonOffline) { throw new Error('offline (test)'); }
        const socket = protocols === undefined ? new Native(url) : new Native(url, protocols);
        window.__batonSockets.push(socket);
        return socket;
    }
    Hooked.prototype = Native.prototype;
    for (const name of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) { Hooked[name] = Native[name]; }
    window.WebSocket = Hooked;
"#;

impl Browser {
    /// Opens `url` and logs in; waits until the app shows the user's name.
    pub async fn log_in(&self, url: &str, email: &str, password: &str, hook_socket: bool) -> anyhow::Result<()> {
        self.client.goto(url).await?;
        let field = self.wait_for("#login-email").await?;
        if hook_socket {
            self.client.execute(SOCKET_HOOK, vec![]).await?;
        }
        field.send_keys(email).await?;
        self.client.find(Locator::Css("#login-password")).await?.send_keys(password).await?;
        self.client.find(Locator::Css("#login-submit")).await?.click().await?;
        self.wait_for("#me-name").await?;
        self.wait_for("#link-live").await?;
        Ok(())
    }

    /// Starts recording the page's browser notifications (title and body) as they are shown; the
    /// real `Notification` still shows each. Read them with [`Browser::notifications`].
    pub async fn record_notifications(&self) -> anyhow::Result<()> {
        self.client.execute(NOTIFICATION_HOOK, vec![]).await?;
        Ok(())
    }

    /// The notifications shown since [`Browser::record_notifications`], as "title: body".
    pub async fn notifications(&self) -> anyhow::Result<Vec<String>> {
        let shown = self.client.execute("return window.__batonNotifications || [];", vec![]).await?;
        Ok(serde_json::from_value(shown)?)
    }

    /// Waits (up to [`PATIENCE`]) until at least `count` notifications were shown; returns them all.
    pub async fn wait_for_notifications(&self, count: usize) -> anyhow::Result<Vec<String>> {
        let enough = eventually(PATIENCE, || async {
            let shown = self.notifications().await?;
            Ok(if shown.len() >= count { Ok(shown) } else { Err(shown) })
        })
        .await;
        // Too few is the caller's to judge: it gets what was shown.
        match enough {
            Ok(shown) => Ok(shown),
            Err(_) => self.notifications().await,
        }
    }

    /// Closes the app's socket(s) and, while `offline`, refuses new ones (see [`SOCKET_HOOK`]).
    pub async fn cut_socket(&self, offline: bool) -> anyhow::Result<()> {
        let script = format!(
            "window.__batonOffline = {offline}; window.__batonSockets.forEach(socket => socket.close()); \
             window.__batonSockets = [];"
        );
        self.client.execute(&script, vec![]).await?;
        Ok(())
    }

    /// Lets the app connect again after [`Browser::cut_socket`].
    pub async fn restore_socket(&self) -> anyhow::Result<()> {
        self.client.execute("window.__batonOffline = false;", vec![]).await?;
        Ok(())
    }

    /// The texts of every element matching `css`, in document order.
    pub async fn texts(&self, css: &str) -> anyhow::Result<Vec<String>> {
        let mut texts = Vec::new();
        for element in self.client.find_all(Locator::Css(css)).await? {
            // An element can vanish between finding and reading it: skip it.
            if let Ok(text) = element.text().await {
                texts.push(text);
            }
        }
        Ok(texts)
    }

    /// Waits (up to [`PATIENCE`]) until `check` holds for the texts of the elements matching `css`;
    /// returns those texts.
    pub async fn wait_for_texts(
        &self,
        css: &str,
        what: &str,
        check: impl Fn(&[String]) -> bool,
    ) -> anyhow::Result<Vec<String>> {
        eventually(PATIENCE, || async {
            let texts = self.texts(css).await?;
            Ok(if check(&texts) { Ok(texts) } else { Err(texts) })
        })
        .await
        .with_context(|| format!("waiting for {what} in {css}"))
    }

    /// Waits until some element matching `css` has a text containing `needle`.
    pub async fn wait_for_text(&self, css: &str, needle: &str) -> anyhow::Result<()> {
        self.wait_for_texts(css, &format!("{needle:?}"), |texts| texts.iter().any(|text| text.contains(needle)))
            .await?;
        Ok(())
    }

    /// Waits until the first element matching `css` reads exactly `expected`.
    pub async fn wait_for_exact(&self, css: &str, expected: &str) -> anyhow::Result<()> {
        self.wait_for_texts(css, &format!("exactly {expected:?}"), |texts| {
            texts.first().is_some_and(|text| text == expected)
        })
        .await?;
        Ok(())
    }

    /// Waits until the attribute `name` of the first element matching `css` is `value`.
    pub async fn wait_for_attr(&self, css: &str, name: &str, value: &str) -> anyhow::Result<()> {
        eventually(PATIENCE, || async {
            let seen = match self.client.find(Locator::Css(css)).await {
                Ok(element) => element.attr(name).await.ok().flatten(),
                Err(_) => None,
            };
            Ok(if seen.as_deref() == Some(value) { Ok(()) } else { Err(seen) })
        })
        .await
        .with_context(|| format!("waiting for {css}[{name}={value:?}]"))
    }

    /// The `value` of the first form field matching `css` (a textarea's text is its value, not
    /// its content).
    pub async fn value(&self, css: &str) -> anyhow::Result<String> {
        let element = self.client.find(Locator::Css(css)).await?;
        Ok(element.prop("value").await?.unwrap_or_default())
    }

    /// Waits until the `value` of the first form field matching `css` is `expected`.
    pub async fn wait_for_value(&self, css: &str, expected: &str) -> anyhow::Result<()> {
        eventually(PATIENCE, || async {
            let seen = self.value(css).await.ok();
            Ok(if seen.as_deref() == Some(expected) { Ok(()) } else { Err(seen) })
        })
        .await
        .with_context(|| format!("waiting for {css} to hold {expected:?}"))
    }

    /// The computed value of the CSS property `property` of the first element matching `css`.
    pub async fn computed_style(&self, css: &str, property: &str) -> anyhow::Result<String> {
        let script = "const element = document.querySelector(arguments[0]); \
                      return element ? getComputedStyle(element).getPropertyValue(arguments[1]) : null;";
        let value = self.client.execute(script, vec![css.into(), property.into()]).await?;
        value.as_str().map(str::to_owned).with_context(|| format!("no element {css}"))
    }

    /// Clicks the first element matching `css`.
    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        self.wait_for(css).await?.click().await?;
        Ok(())
    }

    /// Types into the first element matching `css`.
    pub async fn type_into(&self, css: &str, text: &str) -> anyhow::Result<()> {
        self.wait_for(css).await?.send_keys(text).await?;
        Ok(())
    }
}

/// Lists the page's controls (input, select, textarea, button) that have no accessible name:
/// none of `aria-label`, `aria-labelledby`, a `<label>`, a button's text or value, or a `title`.
/// A placeholder is not a name: it goes away as soon as something is typed.
const UNNAMED_CONTROLS: &str = r#"
    const text = (element) => (element ? element.textContent : '').trim();
    const unnamed = [];
    for (const control of document.querySelectorAll('input, select, textarea, button')) {
        if (control.type === 'hidden') { continue; }
        const names = [
            control.getAttribute('aria-label') || '',
            (control.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean)
                .map((id) => text(document.getElementById(id))).join(' '),
            Array.from(control.labels || []).map(text).join(' '),
            control.tagName === 'BUTTON' ? text(control) : '',
            ['submit', 'button', 'reset'].includes(control.type) && control.tagName === 'INPUT' ? control.value : '',
            control.getAttribute('title') || '',
        ];
        if (!names.some((name) => name.trim() !== '')) {
            unnamed.push(control.outerHTML.slice(0, 200));
        }
    }
    return unnamed;
"#;

/// Returns `window.__batonUploads` callbacks instead of sending: a test holds the app's uploads
/// (`XMLHttpRequest.send`) to see them in progress, then lets them go with
/// [`Browser::release_uploads`].
const HOLD_UPLOADS: &str = r#"
    const send = XMLHttpRequest.prototype.send;
    window.__batonUploads = [];
    XMLHttpRequest.prototype.send = function (body) {
        window.__batonUploads.push(() => send.call(this, body));
    };
"#;

impl Browser {
    /// Fails, naming them, if any control on the page has no accessible name (see
    /// [`UNNAMED_CONTROLS`]); `page` says where the test was.
    pub async fn expect_every_control_named(&self, page: &str) -> anyhow::Result<()> {
        let unnamed = self.client.execute(UNNAMED_CONTROLS, vec![]).await?;
        let unnamed: Vec<String> = serde_json::from_value(unnamed)?;
        anyhow::ensure!(unnamed.is_empty(), "controls without an accessible name on the {page}: {unnamed:#?}");
        Ok(())
    }

    /// Whether the boxes of the first elements matching `first` and `second` overlap on screen.
    pub async fn overlap(&self, first: &str, second: &str) -> anyhow::Result<bool> {
        let script = r#"
            const [a, b] = Array.from(arguments).map((css) => document.querySelector(css));
            if (!a || !b) { throw new Error('missing: ' + (a ? arguments[1] : arguments[0])); }
            const [r, s] = [a.getBoundingClientRect(), b.getBoundingClientRect()];
            return r.left < s.right && s.left < r.right && r.top < s.bottom && s.top < r.bottom;
        "#;
        let overlapping = self.client.execute(script, vec![first.into(), second.into()]).await?;
        Ok(overlapping.as_bool().unwrap_or(false))
    }

    /// The `id` of the element that has the keyboard focus.
    pub async fn focused_id(&self) -> anyhow::Result<String> {
        let id = self.client.execute("return document.activeElement ? document.activeElement.id : '';", vec![]).await?;
        Ok(id.as_str().unwrap_or_default().to_owned())
    }

    /// Waits (up to [`PATIENCE`]) until no element matches `css`.
    pub async fn wait_for_gone(&self, css: &str) -> anyhow::Result<()> {
        eventually(PATIENCE, || async {
            let found = self.client.find_all(Locator::Css(css)).await?.len();
            Ok(if found == 0 { Ok(()) } else { Err(format!("{found} found")) })
        })
        .await
        .with_context(|| format!("{css} is still there"))
    }

    /// Holds the page's uploads until [`Browser::release_uploads`] (see [`HOLD_UPLOADS`]).
    pub async fn hold_uploads(&self) -> anyhow::Result<()> {
        self.client.execute(HOLD_UPLOADS, vec![]).await?;
        Ok(())
    }

    /// Sends the uploads held since [`Browser::hold_uploads`]; returns how many there were.
    pub async fn release_uploads(&self) -> anyhow::Result<u64> {
        let script = "const held = window.__batonUploads; window.__batonUploads = []; held.forEach((go) => go()); \
                      return held.length;";
        let released = self.client.execute(script, vec![]).await?;
        Ok(released.as_u64().unwrap_or(0))
    }
}
