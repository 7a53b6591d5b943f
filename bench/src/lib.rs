//! What Baton's load generators share: starting a real `baton serve` process with a WhatsApp
//! channel (and its admin, and a fresh PostgreSQL database when asked), writing to it as customers
//! do (signed webhooks), creating users and logging in, opening sockets, and reading a process's
//! CPU time and memory from `/proc`.

pub mod history;

use std::process::Stdio;

use anyhow::Context;
use baton_shared::api::{CSRF_HEADER, LoginRequest};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// The `baton` binary to start: `explicit`, or the one beside this executable.
pub fn baton_binary(explicit: Option<&std::path::Path>) -> anyhow::Result<std::path::PathBuf> {
    let baton = match explicit {
        Some(path) => path.to_owned(),
        None => std::env::current_exe()?.with_file_name("baton"),
    };
    anyhow::ensure!(baton.is_file(), "no baton binary at {} (build it, or pass --baton)", baton.display());
    Ok(baton)
}

/// The WhatsApp app secret the benchmarks' servers verify webhooks with.
pub const APP_SECRET: &str = "bench-app-secret";
/// The business number the benchmarks' customers write to.
pub const PHONE_NUMBER_ID: &str = "106000000000001";

/// The environment that turns a server's WhatsApp channel on (webhooks in; nothing is sent).
pub fn whatsapp_env() -> Vec<(&'static str, String)> {
    vec![
        ("BATON_WHATSAPP_APP_SECRET", APP_SECRET.to_owned()),
        ("BATON_WHATSAPP_PHONE_NUMBER_ID", PHONE_NUMBER_ID.to_owned()),
    ]
}

/// One inbound text message from `wa_id`, shaped as Meta sends it (contract §2.3).
pub fn text_webhook(wa_id: &str, name: &str, wamid: &str, timestamp: u64, body: &str) -> String {
    format!(
        concat!(
            r#"{{"object":"whatsapp_business_account","entry":[{{"id":"102000000000001","changes":[{{"value":"#,
            r#"{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"15550001111","#,
            r#""phone_number_id":"{pnid}"}},"contacts":[{{"profile":{{"name":"{name}"}},"wa_id":"{wa_id}"}}],"#,
            r#""messages":[{{"from":"{wa_id}","id":"{wamid}","timestamp":"{timestamp}","type":"text","#,
            r#""text":{{"body":"{body}"}}}}]}},"field":"messages"}}]}}]}}"#
        ),
        pnid = PHONE_NUMBER_ID,
        name = name,
        wa_id = wa_id,
        wamid = wamid,
        timestamp = timestamp,
        body = body,
    )
}

/// Posts a webhook signed with [`APP_SECRET`]; fails unless Baton answers 200.
pub async fn post_webhook(http: &reqwest::Client, base: &str, body: String) -> anyhow::Result<()> {
    let secret = baton_whatsapp::signature::AppSecret::new(APP_SECRET).map_err(|error| anyhow::anyhow!("{error}"))?;
    let signature = baton_whatsapp::signature::sign(&secret, body.as_bytes());
    let response = http
        .post(format!("{base}/webhooks/whatsapp"))
        .header("content-type", "application/json")
        .header(baton_whatsapp::signature::SIGNATURE_HEADER, signature)
        .body(body)
        .send()
        .await?;
    anyhow::ensure!(response.status().is_success(), "webhook answered {}", response.status());
    Ok(())
}

/// Every benchmark user's password.
pub const PASSWORD: &str = "bench-password";

/// Adds an admin with [`PASSWORD`] through `baton user add`, before the server starts.
pub async fn add_admin(
    baton: &std::path::Path,
    data: &std::path::Path,
    env: &[(&str, String)],
    email: &str,
) -> anyhow::Result<()> {
    let mut add_admin = tokio::process::Command::new(baton)
        .args(["user", "add", "--email", email, "--name", "Bench Admin", "--role", "admin"])
        .envs(env.iter().map(|(name, value)| (*name, value.as_str())))
        .env("BATON_DATA_DIR", data)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()?;
    if let Some(mut stdin) = add_admin.stdin.take() {
        tokio::io::AsyncWriteExt::write_all(&mut stdin, PASSWORD.as_bytes()).await?;
    }
    anyhow::ensure!(add_admin.wait().await?.success(), "baton user add failed");
    Ok(())
}

/// Creates a user with [`PASSWORD`] as the admin whose session cookie is `admin`; returns its id.
pub async fn create_user(
    http: &reqwest::Client,
    base: &str,
    admin: &str,
    email: &str,
    name: &str,
    role: baton_shared::api::Role,
) -> anyhow::Result<baton_shared::UserId> {
    let user = baton_shared::api::CreateUserRequest {
        email: email.to_owned(),
        name: name.to_owned(),
        role,
        password: PASSWORD.into(),
    };
    let created = http
        .post(format!("{base}/api/users"))
        .header("cookie", admin)
        .header(CSRF_HEADER, "1")
        .json(&user)
        .send()
        .await?;
    anyhow::ensure!(created.status().is_success(), "creating {email}: {}", created.status());
    #[derive(serde::Deserialize)]
    struct Created {
        id: baton_shared::UserId,
    }
    let created: Created = created.json().await.with_context(|| format!("reading the account made for {email}"))?;
    Ok(created.id)
}

/// Runs one SQL statement with `psql` on the `postgres` database of `server`
/// (e.g. `postgres://127.0.0.1:5432`): creating and dropping a benchmark's database.
pub async fn psql(server: &str, sql: &str) -> anyhow::Result<()> {
    let status = tokio::process::Command::new("psql")
        .args(["-d", &format!("{}/postgres", server.trim_end_matches('/')), "-q", "-c", sql])
        .status()
        .await
        .context("running psql")?;
    anyhow::ensure!(status.success(), "psql failed: {sql}");
    Ok(())
}

/// Starts `baton serve` on a free port, with extra environment `env`; returns the process, its pid and its base URL.
pub async fn start_server(
    baton: &std::path::Path,
    data: &std::path::Path,
    env: &[(&str, String)],
) -> anyhow::Result<(tokio::process::Child, u32, String)> {
    start_server_logging(baton, data, env, Stdio::inherit()).await
}

/// As [`start_server`], with the server's log (its standard error: warnings and errors) sent to `log`.
pub async fn start_server_logging(
    baton: &std::path::Path,
    data: &std::path::Path,
    env: &[(&str, String)],
    log: Stdio,
) -> anyhow::Result<(tokio::process::Child, u32, String)> {
    let mut server = tokio::process::Command::new(baton)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .envs(env.iter().map(|(name, value)| (*name, value.as_str())))
        .env("BATON_DATA_DIR", data)
        .env("BATON_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()?;
    let pid = server.id().context("server pid")?;
    let mut lines = BufReader::new(server.stdout.take().context("server stdout")?).lines();
    let address = loop {
        let line = lines.next_line().await?.context("the server exited before listening")?;
        if let Some(rest) = line.strip_prefix("Baton is listening on ") {
            break rest.split(". ").next().unwrap_or_default().to_owned();
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let base = format!("http://{address}");
    println!("server pid {pid} at {base}");
    Ok((server, pid, base))
}

pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a WebSocket with a session cookie.
pub async fn connect(base: &str, cookie: &str) -> anyhow::Result<Socket> {
    let mut request = format!("{}/ws", base.replacen("http://", "ws://", 1)).into_client_request()?;
    request.headers_mut().insert("cookie", cookie.parse()?);
    // No Nagle delay on the keystrokes either.
    let (socket, _) = tokio_tungstenite::connect_async_with_config(request, None, true).await?;
    Ok(socket)
}

/// Logs in; returns the session cookie (`name=value`).
pub async fn login(http: &reqwest::Client, base: &str, email: &str) -> anyhow::Result<String> {
    let response = http
        .post(format!("{base}/api/auth/login"))
        .header(CSRF_HEADER, "1")
        .json(&LoginRequest { email: email.into(), password: PASSWORD.into() })
        .send()
        .await?;
    anyhow::ensure!(response.status().is_success(), "login as {email}: {}", response.status());
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .context("no session cookie")?;
    Ok(cookie.to_owned())
}

/// User and system CPU time of a process (`self` or a pid), in clock ticks (Linux: 100 a second).
pub fn cpu_ticks(pid: &str) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may contain spaces) in parentheses.
    let fields: Vec<&str> = stat.rsplit_once(')').context("stat format")?.1.split_whitespace().collect();
    let ticks = |index: usize| -> anyhow::Result<u64> { Ok(fields.get(index).context("stat field")?.parse()?) };
    // utime and stime are fields 14 and 15, the 12th and 13th after the name.
    Ok(ticks(11)? + ticks(12)?)
}

/// The resident set of a process, in KiB (Linux).
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).context("no VmRSS")?;
    line.split_whitespace().nth(1).context("VmRSS value")?.parse().context("VmRSS number")
}

/// The `p` quantile (0..=1) of sorted nanosecond samples, in milliseconds.
pub fn percentile_ms(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)] as f64 / 1e6
}

/// The whole machine's CPU time since boot, in clock ticks (Linux: 100 a second per core):
/// (busy, all). Busy is everything but idle and I/O wait.
pub fn machine_ticks() -> anyhow::Result<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat")?;
    let line = stat.lines().next().context("empty /proc/stat")?;
    let ticks: Vec<u64> = line.split_whitespace().skip(1).map(str::parse).collect::<Result<_, _>>()?;
    let all: u64 = ticks.iter().take(8).sum();
    let idle = ticks.get(3).copied().unwrap_or(0) + ticks.get(4).copied().unwrap_or(0);
    Ok((all.saturating_sub(idle), all))
}

/// The CPU time of every process named `name` (e.g. `postgres`: the database server's
/// processes), in clock ticks; processes that come and go between two readings are missed.
pub fn ticks_of_processes_named(name: &str) -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc") else { return 0 };
    entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_str().is_some_and(|pid| pid.bytes().all(|byte| byte.is_ascii_digit())))
        .filter(|entry| std::fs::read_to_string(entry.path().join("comm")).is_ok_and(|comm| comm.trim() == name))
        .filter_map(|entry| cpu_ticks(entry.file_name().to_str()?).ok())
        .sum()
}

/// With `--postgres SERVER`: creates a fresh database `{prefix}_{pid}` there and points the
/// server's environment at it; returns what [`drop_database`] needs afterwards.
pub async fn fresh_database(
    server: Option<&str>,
    prefix: &str,
    env: &mut Vec<(&'static str, String)>,
) -> anyhow::Result<Option<(String, String)>> {
    let Some(server) = server else { return Ok(None) };
    let name = format!("{prefix}_{}", std::process::id());
    psql(server, &format!("CREATE DATABASE {name}")).await?;
    env.push(("BATON_DATABASE_URL", format!("{}/{name}", server.trim_end_matches('/'))));
    Ok(Some((server.to_owned(), name)))
}

/// Drops the database [`fresh_database`] made, if it made one.
pub async fn drop_database(database: Option<(String, String)>) -> anyhow::Result<()> {
    if let Some((server, name)) = database {
        psql(&server, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
    }
    Ok(())
}

/// After a generated-history benchmark: its database dropped, or kept (`keep`: the PostgreSQL
/// database, or the SQLite file's folder `data`) and named, to look into.
pub async fn drop_or_keep(
    database: Option<(String, String)>,
    data: tempfile::TempDir,
    keep: bool,
) -> anyhow::Result<()> {
    match database {
        Some((_, name)) if keep => eprintln!("kept the database {name}"),
        None if keep => eprintln!("kept the database {}", data.keep().display()),
        database => drop_database(database).await?,
    }
    Ok(())
}

/// The database a generated-history benchmark writes into and starts `baton` on: a fresh
/// PostgreSQL database with `--postgres SERVER` (as [`fresh_database`] makes it), else the SQLite
/// file `file` in `data`. Sets `BATON_DATABASE_URL` in `env`; returns the URL and what
/// [`drop_database`] needs afterwards.
pub async fn history_database(
    postgres: Option<&str>,
    prefix: &str,
    data: &std::path::Path,
    file: &str,
    env: &mut Vec<(&'static str, String)>,
) -> anyhow::Result<(String, Option<(String, String)>)> {
    let database = fresh_database(postgres, prefix, env).await?;
    let url = match env.iter().find(|(name, _)| *name == "BATON_DATABASE_URL") {
        Some((_, url)) => url.clone(),
        None => {
            let url = format!("sqlite://{}", data.join(file).display());
            env.push(("BATON_DATABASE_URL", url.clone()));
            url
        }
    };
    Ok((url, database))
}

/// Times GET `paths` one after another as the session `cookie`; the latencies in ns, sorted.
pub async fn time_gets(http: &reqwest::Client, base: &str, cookie: &str, paths: &[String]) -> anyhow::Result<Vec<u64>> {
    let mut nanos = Vec::with_capacity(paths.len());
    for path in paths {
        let began = std::time::Instant::now();
        let response = http.get(format!("{base}{path}")).header("cookie", cookie).send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        anyhow::ensure!(status.is_success(), "{path}: {status} {}", String::from_utf8_lossy(&body));
        nanos.push(began.elapsed().as_nanos() as u64);
    }
    nanos.sort_unstable();
    Ok(nanos)
}
