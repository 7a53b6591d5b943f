//! The `baton` binary itself: `user add` reads the password from standard input and creates an
//! argon2id account; `demo` seeds once and reuses its data file on the next start.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use baton_server::config::DatabaseUrl;
use baton_shared::api::Role;

fn baton() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton"));
    command.env_remove("BATON_DATABASE_URL").env_remove("BATON_LISTEN").env_remove("BATON_PUBLIC_ORIGIN");
    command
}

/// Runs `baton ARGS` with `stdin` piped in; returns (success, stdout, stderr).
fn run_with_input(args: &[&str], data_dir: &Path, stdin: &str) -> anyhow::Result<(bool, String, String)> {
    let mut child = baton()
        .args(args)
        .env("BATON_DATA_DIR", data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let written = child.stdin.take().ok_or_else(|| anyhow::anyhow!("stdin"))?.write_all(stdin.as_bytes());
    match written {
        // A command refused at parse time exits without reading its input: that is not a failure.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other?,
    }
    let output = child.wait_with_output()?;
    Ok((
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    ))
}

#[tokio::test]
async fn user_add_creates_an_argon2id_account_from_standard_input() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let args = ["user", "add", "--email", "Root@Example.com", "--name", "Root Admin", "--role", "admin"];
    let (ok, stdout, stderr) = run_with_input(&args, dir.path(), "first-admin-password\n")?;
    assert!(ok, "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("Created Root Admin <root@example.com> as admin"), "{stdout}");

    let store = baton_server::store::open(&DatabaseUrl::in_data_dir(dir.path())).await?;
    let credentials = store.credentials("root@example.com").await?.ok_or_else(|| anyhow::anyhow!("no account"))?;
    assert_eq!(credentials.user.role, Role::Admin);
    assert!(credentials.password_hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    let passwords = baton_server::passwords::Passwords::new()?;
    assert!(
        passwords.verify("first-admin-password".into(), Some(credentials.password_hash)).await?,
        "the password is the input without its line break"
    );
    drop(store);

    let (ok, _, stderr) = run_with_input(&args, dir.path(), "another-password\n")?;
    assert!(!ok, "a second account with the same email is refused");
    assert!(stderr.contains("already uses this email"), "{stderr}");
    Ok(())
}

#[test]
fn user_add_refuses_bad_input_with_a_clear_message() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (ok, _, stderr) =
        run_with_input(&["user", "add", "--email", "a@b.co", "--name", "A", "--role", "owner"], dir.path(), "pw")?;
    assert!(!ok);
    assert!(stderr.contains("unknown role \"owner\""), "{stderr}");

    let (ok, _, stderr) =
        run_with_input(&["user", "add", "--email", "a@b.co", "--name", "A", "--role", "agent"], dir.path(), "short\n")?;
    assert!(!ok);
    assert!(stderr.contains("at least 8 characters"), "{stderr}");

    let (ok, _, stderr) = run_with_input(
        &["user", "add", "--email", "not-an-email", "--name", "A", "--role", "agent"],
        dir.path(),
        "long-enough\n",
    )?;
    assert!(!ok);
    assert!(stderr.contains("not a valid email"), "{stderr}");
    Ok(())
}

/// Starts `baton demo` on port 0, collects its output up to the "listening" line, stops it.
fn demo_start_output(data_dir: &Path) -> anyhow::Result<String> {
    let mut child = baton()
        .args(["demo", "--listen", "127.0.0.1:0"])
        .env("BATON_DATA_DIR", data_dir)
        .env("BATON_WEB_DIR", data_dir.join("no-web"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow::anyhow!("stdout"))?;
    let (lines_tx, lines_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut output = String::new();
    let outcome = loop {
        match lines_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => {
                output.push_str(&line);
                output.push('\n');
                if line.contains("Baton is listening") {
                    break Ok(output);
                }
            }
            Err(error) => break Err(anyhow::anyhow!("demo did not start ({error}); output so far:\n{output}")),
        }
    };
    child.kill()?;
    child.wait()?;
    outcome
}

#[test]
fn demo_seeds_once_and_reuses_its_data() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let first = demo_start_output(dir.path())?;
    assert!(first.contains("created now"), "{first}");
    assert!(first.contains("alice@demo.baton"), "the credentials are printed: {first}");
    assert!(first.contains("demo-alice-pass"), "{first}");
    assert!(first.contains("Open http://localhost:"), "the URL is printed: {first}");
    assert!(dir.path().join("baton.db").is_file());

    let second = demo_start_output(dir.path())?;
    assert!(second.contains("kept from an earlier run"), "{second}");
    Ok(())
}

#[test]
fn logs_are_json_on_request_and_never_show_the_database_password() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    // This machine's PostgreSQL has no such role: the start fails at once, after logging its configuration.
    let output = baton()
        .args(["--log-format", "json", "serve", "--listen", "127.0.0.1:0"])
        .env("BATON_DATA_DIR", dir.path())
        .env("BATON_DATABASE_URL", "postgres://baton_no_such_role:s3cret-pw@127.0.0.1:5432/baton")
        .stdin(Stdio::null())
        .output()?;
    assert!(!output.status.success(), "no database, no start");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("s3cret-pw"), "the password leaked: {stderr}");
    let log_lines: Vec<serde_json::Value> = stderr.lines().filter_map(|line| serde_json::from_str(line).ok()).collect();
    let starting = log_lines
        .iter()
        .find(|line| line["message"] == "starting")
        .ok_or_else(|| anyhow::anyhow!("no JSON 'starting' line in {stderr}"))?;
    assert!(starting["level"] == "INFO", "{starting}");
    assert!(
        stderr.contains("postgres://baton_no_such_role:***@127.0.0.1:5432/baton"),
        "the URL is shown redacted: {stderr}"
    );
    assert!(stderr.contains("error: cannot open the database"), "a clear final error: {stderr}");
    Ok(())
}
