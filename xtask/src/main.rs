//! Baton's build helper, run as `cargo xtask <command>`:
//!
//! - `demo [ARGS…]` — builds everything (the web app to WASM included), starts the WhatsApp simulator
//!   (its customer-phone page on `127.0.0.1:8081`) and runs `baton demo ARGS…` wired to it.
//! - `test [ARGS…]` — installs what is missing (the wasm32 target, Chromium and ChromeDriver),
//!   builds the web app, and runs every test (`cargo test ARGS…`; without ARGS also the web app's
//!   native unit tests, `cargo test -p baton-app --lib`). CI runs it with clippy as the
//!   compiler (see `.ci/run`), which lints as it builds.
//! - `lint` — the house style, checked: `cargo fmt --all --check`, then clippy with warnings as
//!   errors on every target of the workspace, then on the web app for wasm32 (its real target,
//!   which `--workspace` does not build). CI gets the same verdict from `.ci/run`.
//! - `build-web` — builds the web app into `target/web` (see below).
//! - `dist` — a release build: `target/dist/baton` plus `target/dist/web/`.
//!
//! The web app is built with `cargo build --target wasm32-unknown-unknown`, then
//! `wasm-bindgen-cli-support` runs as a library pinned to the same version as the app's
//! `wasm-bindgen`, so no separately installed CLI can drift out of step. The output goes to
//! `target/web/assets/<content hash>/` (cached forever by browsers) and `target/web/index.html`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail, ensure};
use sha2::{Digest, Sha256};

const WASM_TARGET: &str = "wasm32-unknown-unknown";
const WASM_PROFILE: &str = "wasm-release";
const APP_CRATE: &str = "baton-app";
const APP_STEM: &str = "baton_app";

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    let outcome = match command.as_str() {
        "demo" => demo(&rest),
        "test" => test(&rest),
        "lint" => lint(),
        "build-web" => build_web(WASM_PROFILE).map(|_| ()),
        "dist" => dist(),
        _ => {
            eprintln!("usage: cargo xtask <demo|test|lint|build-web|dist> [ARGS…]");
            return std::process::ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() { dir } else { std::env::current_dir().unwrap_or_default().join(dir) }
        }
        None => workspace_root().join("target"),
    }
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(workspace_root());
    command
}

fn run(mut command: Command) -> anyhow::Result<()> {
    let shown = format!("{command:?}");
    let status = command.status().with_context(|| format!("cannot run {shown}"))?;
    ensure!(status.success(), "{shown} failed ({status})");
    Ok(())
}

/// Baton's demo, with the WhatsApp simulator beside it: customers write from the simulator's phone
/// page, agents answer in Baton, and everything between them is the real contract.
fn demo(args: &[String]) -> anyhow::Result<()> {
    let web = build_web(WASM_PROFILE)?;
    println!("xtask: building Baton and the WhatsApp simulator…");
    let mut build = cargo();
    build.args(["build", "--quiet", "--package", "baton-server", "--package", "baton-simulator"]);
    run(build)?;
    let baton_listen = std::env::var("BATON_LISTEN").unwrap_or_else(|_| "127.0.0.1:8080".to_owned());
    let simulator_listen = std::env::var("BATON_SIMULATOR_LISTEN").unwrap_or_else(|_| "127.0.0.1:8081".to_owned());
    let binaries = target_dir().join("debug");
    let mut simulator = Command::new(binaries.join("baton-simulator"))
        .args(["--listen", &simulator_listen, "--webhook-url"])
        .arg(format!("http://{baton_listen}/webhooks/whatsapp"))
        .spawn()
        .context("cannot start the WhatsApp simulator")?;
    println!("\nxtask: the customer's phone (WhatsApp simulator) is at http://{simulator_listen}/");
    // The simulator's defaults are the contract's test ids and secrets; Baton is told the same.
    let status = Command::new(binaries.join("baton"))
        .arg("demo")
        .arg("--web-dir")
        .arg(&web)
        .args(args)
        .env("BATON_LISTEN", &baton_listen)
        .env("BATON_WHATSAPP_APP_SECRET", "test_app_secret")
        .env("BATON_WHATSAPP_VERIFY_TOKEN", "test_verify_token")
        .env("BATON_WHATSAPP_ACCESS_TOKEN", "test_access_token")
        .env("BATON_WHATSAPP_PHONE_NUMBER_ID", "106000000000001")
        .env("BATON_WHATSAPP_BUSINESS_ACCOUNT_ID", "102000000000001")
        .env("BATON_WHATSAPP_GRAPH_URL", format!("http://{simulator_listen}"))
        .env("BATON_DEMO_PHONE_URL", format!("http://{simulator_listen}/"))
        .status()
        .context("cannot start baton");
    // Whatever happened to Baton, the simulator goes with it.
    if let Err(error) = simulator.kill() {
        eprintln!("xtask: cannot stop the simulator: {error}");
    }
    let _ = simulator.wait();
    let status = status?;
    ensure!(status.success(), "baton demo ended with {status}");
    Ok(())
}

fn test(args: &[String]) -> anyhow::Result<()> {
    ensure_wasm_target()?;
    let (chromium, chromedriver) = ensure_chromium()?;
    let web = build_web(WASM_PROFILE)?;
    let mut command = cargo();
    command.arg("test").args(args);
    command.env("BATON_WEB_DIR", &web).env("BATON_CHROMIUM", chromium).env("BATON_CHROMEDRIVER", chromedriver);
    // Most tests wait on sockets, databases and timers, not on the CPU: twice as many at once as
    // there are cores keeps both cores busy. `RUST_TEST_THREADS` set by the caller wins.
    if std::env::var_os("RUST_TEST_THREADS").is_none() {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        command.env("RUST_TEST_THREADS", (cores * 2).to_string());
    }
    run(command)?;
    if args.is_empty() {
        // The web app's pure state (its `apply` function) is tested natively too.
        let mut app = cargo();
        app.args(["test", "--package", APP_CRATE, "--lib"]);
        run(app)?;
    }
    Ok(())
}

/// Formatting and clippy, warnings denied; stops at the first that fails.
fn lint() -> anyhow::Result<()> {
    let mut format = cargo();
    format.args(["fmt", "--all", "--check"]);
    run(format)?;
    let mut native = cargo();
    native.args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]);
    run(native)?;
    ensure_wasm_target()?;
    let mut wasm = cargo();
    wasm.args(["clippy", "--package", APP_CRATE, "--target", WASM_TARGET, "--", "-D", "warnings"]);
    run(wasm)?;
    println!("xtask: fmt and clippy are clean");
    Ok(())
}

fn dist() -> anyhow::Result<()> {
    let web = build_web(WASM_PROFILE)?;
    let mut build = cargo();
    build.args(["build", "--release", "--package", "baton-server", "--bin", "baton"]);
    run(build)?;
    let dist = target_dir().join("dist");
    if dist.exists() {
        std::fs::remove_dir_all(&dist)?;
    }
    std::fs::create_dir_all(&dist)?;
    std::fs::copy(target_dir().join("release/baton"), dist.join("baton"))?;
    copy_dir(&web, &dist.join("web"))?;
    println!("xtask: {} holds `baton` and its `web/` directory; copy both to the server.", dist.display());
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let destination = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &destination)?;
        } else {
            std::fs::copy(entry.path(), destination)?;
        }
    }
    Ok(())
}

/// Adds the wasm32 target through rustup when it is missing.
fn ensure_wasm_target() -> anyhow::Result<()> {
    let installed = Command::new("rustup").args(["target", "list", "--installed"]).output();
    match installed {
        Ok(output) if String::from_utf8_lossy(&output.stdout).lines().any(|line| line.trim() == WASM_TARGET) => Ok(()),
        Ok(_) => {
            println!("xtask: installing the {WASM_TARGET} target…");
            let mut add = Command::new("rustup");
            add.args(["target", "add", WASM_TARGET]);
            run(add)
        }
        Err(_) => {
            println!("xtask: rustup not found; assuming the {WASM_TARGET} target is available");
            Ok(())
        }
    }
}

/// Finds Chromium and ChromeDriver for the browser tests, installing Debian's packages when they
/// are missing. `BATON_CHROMIUM` / `BATON_CHROMEDRIVER` point at other binaries.
fn ensure_chromium() -> anyhow::Result<(PathBuf, PathBuf)> {
    let chromium = std::env::var_os("BATON_CHROMIUM").map(PathBuf::from).unwrap_or_else(|| "/usr/bin/chromium".into());
    let driver =
        std::env::var_os("BATON_CHROMEDRIVER").map(PathBuf::from).unwrap_or_else(|| "/usr/bin/chromedriver".into());
    if chromium.is_file() && driver.is_file() {
        return Ok((chromium, driver));
    }
    if !Path::new("/usr/bin/apt-get").is_file() {
        bail!(
            "the browser tests need Chromium and ChromeDriver: install them, or set BATON_CHROMIUM and \
             BATON_CHROMEDRIVER (looked for {} and {})",
            chromium.display(),
            driver.display()
        );
    }
    println!("xtask: installing Chromium and ChromeDriver (Debian packages chromium, chromium-driver)…");
    let mut update = Command::new("apt-get");
    update.args(["update", "-qq"]);
    run(update)?;
    let mut install = Command::new("apt-get");
    install.args(["install", "-y", "-qq", "chromium", "chromium-driver"]).env("DEBIAN_FRONTEND", "noninteractive");
    run(install)?;
    ensure!(chromium.is_file() && driver.is_file(), "Chromium was installed but is not at {}", chromium.display());
    Ok((chromium, driver))
}

/// Keeps the current asset directory and the two most recent others: a server still running with
/// an older `index.html` (read at its start) keeps working across a rebuild or two.
fn prune_old_assets(assets: &Path, current: &str) -> anyhow::Result<()> {
    let mut older = Vec::new();
    for entry in std::fs::read_dir(assets)? {
        let entry = entry?;
        if entry.file_name() != current {
            older.push((entry.metadata()?.modified()?, entry.path()));
        }
    }
    older.sort();
    let keep = 2;
    for (_, path) in older.iter().rev().skip(keep) {
        std::fs::remove_dir_all(path)?;
    }
    Ok(())
}

/// Builds the web app; returns the directory to serve (holding `index.html` and `assets/`).
fn build_web(profile: &str) -> anyhow::Result<PathBuf> {
    ensure_wasm_target()?;
    println!("xtask: building the web app ({WASM_TARGET}, profile {profile})…");
    let mut build = cargo();
    build.args(["build", "--package", APP_CRATE, "--target", WASM_TARGET, "--profile", profile]);
    run(build)?;

    let target = target_dir();
    let wasm = target.join(WASM_TARGET).join(profile).join(format!("{APP_STEM}.wasm"));
    let staging = target.join("web-staging");
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    std::fs::create_dir_all(&staging)?;
    let mut bindgen = wasm_bindgen_cli_support::Bindgen::new();
    bindgen.input_path(&wasm).typescript(false);
    // The library defaults to omitting the module path, unlike the CLI; without it the browser
    // fails with "WebAssembly.instantiate(): Argument 0 must be a buffer source".
    bindgen.web(true)?.omit_default_module_path(false);
    bindgen.generate(&staging).context("wasm-bindgen")?;

    let app_dir = workspace_root().join("app");
    for file in ["style.css", "boot.js"] {
        std::fs::copy(app_dir.join(file), staging.join(file)).with_context(|| format!("copying app/{file}"))?;
    }
    let mut names: Vec<_> = std::fs::read_dir(&staging)?.filter_map(|entry| entry.ok()).map(|e| e.path()).collect();
    names.sort();
    let mut digest = Sha256::new();
    for path in &names {
        digest.update(path.file_name().map(|name| name.as_encoded_bytes()).unwrap_or_default());
        digest.update(std::fs::read(path)?);
    }
    let hash = hex::encode(digest.finalize())[..16].to_owned();

    let web = target.join("web");
    let assets = web.join("assets");
    std::fs::create_dir_all(&assets)?;
    let current = assets.join(&hash);
    if current.exists() {
        std::fs::remove_dir_all(&current)?;
    }
    std::fs::rename(&staging, &current)?;
    prune_old_assets(&assets, &hash)?;
    let template = std::fs::read_to_string(app_dir.join("index.html")).context("reading app/index.html")?;
    std::fs::write(web.join("index.html"), template.replace("{{ASSETS}}", &format!("/assets/{hash}")))?;

    let wasm_size = std::fs::metadata(assets.join(&hash).join(format!("{APP_STEM}_bg.wasm")))?.len();
    println!("xtask: web app ready in {} (assets/{hash}, wasm {} KiB)", web.display(), wasm_size / 1024);
    Ok(web)
}
