//! Baton's side of a run before any socket opens: the data directory (fresh, or reused with
//! `--data-dir` when it holds the same counts), the users (created by the admin and logged in:
//! their session cookies are kept) and the conversations (opened by signed webhooks, as customers
//! write in on WhatsApp).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use baton_bench::{connect, login, start_server};
use baton_shared::api::Role;
use baton_shared::model::Change;
use baton_shared::protocol::{ClientMsg, ServerMsg};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;

/// What setting up a run made: the users' session cookies and the conversations.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Setup {
    pub agents: Vec<String>,
    pub supervisors: Vec<String>,
    pub conversation_ids: Vec<i64>,
}

const ADMIN_EMAIL: &str = "load-admin@bench.baton";
const SETUP_FILE: &str = "baton-load-setup.json";

/// The setup kept in `data` if it has these counts, else a new one made there (the server that
/// made it is stopped: the run restarts it, so its memory holds no trace of the password hashing).
pub async fn prepare(
    baton: &Path,
    data: &Path,
    agents: usize,
    supervisors: usize,
    conversations: usize,
) -> anyhow::Result<Setup> {
    let setup_file = data.join(SETUP_FILE);
    let reused = std::fs::read(&setup_file).ok().and_then(|bytes| serde_json::from_slice::<Setup>(&bytes).ok()).filter(
        |setup| {
            setup.agents.len() == agents
                && setup.supervisors.len() == supervisors
                && setup.conversation_ids.len() == conversations
        },
    );
    if let Some(setup) = reused {
        println!("reusing the users and conversations in {}", data.display());
        return Ok(setup);
    }
    // Its users exist already: creating them again would fail.
    anyhow::ensure!(!setup_file.exists(), "{} holds a setup with other counts: use another --data-dir", data.display());
    let (mut server, setup) = set_up(baton, data, agents, supervisors, conversations).await?;
    std::fs::write(&setup_file, serde_json::to_vec(&setup)?)?;
    server.kill().await?;
    Ok(setup)
}

/// Creates the admin, the users (logged in) and the conversations on a fresh server.
async fn set_up(
    baton: &Path,
    data: &Path,
    agents: usize,
    supervisors: usize,
    conversations: usize,
) -> anyhow::Result<(tokio::process::Child, Setup)> {
    baton_bench::add_admin(baton, data, &[], ADMIN_EMAIL).await?;

    let (server, _, base) = start_server(baton, data, &baton_bench::whatsapp_env()).await?;
    let http = reqwest::Client::new();
    let admin = login(&http, &base, ADMIN_EMAIL).await?;
    let started = Instant::now();
    let agents = create_users(&http, &base, &admin, "agent", Role::Agent, agents).await?;
    let supervisors = create_users(&http, &base, &admin, "supervisor", Role::Supervisor, supervisors).await?;
    println!("created and logged in {} users in {:.1?}", agents.len() + supervisors.len(), started.elapsed());

    // Customers write in, as on WhatsApp (signed webhooks); the admin's inbox feed tells which
    // conversations that opened.
    let mut feed = connect(&base, &admin).await?;
    let subscribe = ClientMsg::SubscribeInbox { req_id: 1, cursors: vec![] };
    feed.send(Message::Text(serde_json::to_string(&subscribe)?.into())).await?;
    for index in 0..conversations {
        let wa_id = format!("1555{index:07}");
        let webhook = baton_bench::text_webhook(&wa_id, "Load", &format!("wamid.load.{index}"), 1_767_258_000, "hello");
        baton_bench::post_webhook(&http, &base, webhook).await?;
    }
    let mut conversation_ids = Vec::new();
    while conversation_ids.len() < conversations {
        let frame = tokio::time::timeout(Duration::from_secs(60), feed.next())
            .await
            .context("the conversations did not all open")?
            .context("the admin's socket closed")??;
        let Message::Text(text) = frame else { continue };
        if let Ok(ServerMsg::Event { event }) = serde_json::from_str::<ServerMsg>(text.as_str())
            && matches!(event.change, Change::Opened { .. })
        {
            conversation_ids.push(event.conversation_id.0);
        }
    }
    Ok((server, Setup { agents, supervisors, conversation_ids }))
}

/// Creates `count` users of `role` and logs each in; returns their cookies.
async fn create_users(
    http: &reqwest::Client,
    base: &str,
    admin: &str,
    prefix: &str,
    role: Role,
    count: usize,
) -> anyhow::Result<Vec<String>> {
    let gate = Arc::new(Semaphore::new(8));
    let mut tasks = Vec::new();
    for index in 0..count {
        let (http, base, admin, gate) = (http.clone(), base.to_owned(), admin.to_owned(), gate.clone());
        let email = format!("{prefix}{index}@bench.baton");
        let name = format!("{prefix} {index}");
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await?;
            baton_bench::create_user(&http, &base, &admin, &email, &name, role).await?;
            login(&http, &base, &email).await
        }));
    }
    let mut cookies = Vec::new();
    for task in tasks {
        cookies.push(task.await??);
    }
    Ok(cookies)
}
