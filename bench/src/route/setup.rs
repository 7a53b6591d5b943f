//! Setting a run up as an admin would, over REST: the agents and a supervisor, the teams (the
//! models given, in turn) with their members and capacities, and the routing rules that send
//! each customer's first message to one team by a keyword; then every agent logs in and opens a
//! socket that follows their inbox.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use baton_shared::api::{CSRF_HEADER, Role};
use baton_shared::protocol::ClientMsg;
use baton_shared::routing_rules::{Action, Combine, Condition, Rule, RuleSet, StoredRules, Trigger};
use baton_shared::teams::{
    AssignmentModel, DEFAULT_GRACE_MINUTES, DEFAULT_STICKY_DAYS, MembershipRequest, MembershipsRequest, Team,
    TeamRequest,
};
use baton_shared::{TeamId, UserId};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use super::watch::{self, Shared, Watcher};
use baton_bench::{Socket, connect, create_user, login};

/// One team as set up.
pub struct TeamPlan {
    pub id: TeamId,
    pub name: String,
    pub model: AssignmentModel,
    /// The word that sends a customer's message here.
    pub keyword: String,
    pub members: Vec<UserId>,
}

/// The run's people and teams.
pub struct Layout {
    pub teams: Vec<TeamPlan>,
    /// Every agent: id and email.
    pub agents: Vec<(UserId, String)>,
    pub supervisor: String,
}

/// The keyword of team `index` (from 0): no keyword is inside another.
pub fn keyword(index: usize) -> String {
    format!("topic{:03}", index + 1)
}

/// Creates the agents, the supervisor, the teams with `capacity` per member, and the rules.
pub async fn create(
    http: &reqwest::Client,
    base: &str,
    admin: &str,
    agents: usize,
    teams: usize,
    capacity: u32,
    models: &[AssignmentModel],
) -> anyhow::Result<Layout> {
    anyhow::ensure!(teams > 0 && agents >= teams, "need at least one agent per team");
    anyhow::ensure!(!models.is_empty(), "need at least one assignment model");
    let started = Instant::now();
    let supervisor = "route-supervisor@bench.baton".to_owned();
    create_user(http, base, admin, &supervisor, "Route Supervisor", Role::Supervisor).await?;
    let gate = Arc::new(Semaphore::new(8));
    let mut creating = Vec::new();
    for index in 0..agents {
        let (http, base, admin, gate) = (http.clone(), base.to_owned(), admin.to_owned(), gate.clone());
        creating.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await?;
            let email = format!("route-agent{index}@bench.baton");
            let id = create_user(&http, &base, &admin, &email, &format!("Agent {index}"), Role::Agent).await?;
            anyhow::Ok((id, email))
        }));
    }
    let mut people = Vec::new();
    for task in creating {
        people.push(task.await??);
    }
    println!("created {} agents and a supervisor in {:.1?}", people.len(), started.elapsed());

    let per_team = agents / teams;
    let mut plans = Vec::new();
    for index in 0..teams {
        let model = models[index % models.len()];
        let name = format!("Route team {}", index + 1);
        let request = TeamRequest {
            name: name.clone(),
            model,
            sticky: true,
            sticky_days: DEFAULT_STICKY_DAYS,
            grace_minutes: DEFAULT_GRACE_MINUTES,
        };
        let team: Team = send(http, reqwest::Method::POST, &format!("{base}/api/teams"), admin, &request).await?;
        let end = if index + 1 == teams { agents } else { (index + 1) * per_team };
        let members: Vec<UserId> = people[index * per_team..end].iter().map(|(id, _)| *id).collect();
        let request = MembershipsRequest {
            members: members.iter().map(|user| MembershipRequest { user: *user, capacity: Some(capacity) }).collect(),
        };
        let url = format!("{base}/api/teams/{}/members", team.id.0);
        let _: Team = send(http, reqwest::Method::PUT, &url, admin, &request).await?;
        plans.push(TeamPlan { id: team.id, name, model, keyword: keyword(index), members });
    }

    let rules = plans
        .iter()
        .map(|team| Rule {
            combine: Combine::Any,
            ..Rule::new(
                team.name.clone(),
                vec![Trigger::NewConversation],
                vec![Condition::TextContains { keywords: vec![team.keyword.clone()] }],
                vec![Action::SetTeam { team: team.id }],
            )
        })
        .collect();
    let rules = StoredRules { version: 0, set: RuleSet { default_team: None, rules }, fired: vec![] };
    let _: StoredRules = send(http, reqwest::Method::PUT, &format!("{base}/api/routing/rules"), admin, &rules).await?;
    Ok(Layout { teams: plans, agents: people, supervisor })
}

/// An admin's JSON request (with the CSRF header), its JSON answer.
async fn send<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    cookie: &str,
    body: &impl serde::Serialize,
) -> anyhow::Result<T> {
    let response =
        http.request(method.clone(), url).header("cookie", cookie).header(CSRF_HEADER, "1").json(body).send().await?;
    let status = response.status();
    if !status.is_success() {
        let text = response.text().await.unwrap_or_default();
        anyhow::bail!("{method} {url}: {status} {text}");
    }
    response.json().await.with_context(|| format!("reading the answer to {method} {url}"))
}

/// A socket following its inbox: what the run sends on it (nothing after subscribing: it is kept
/// so the socket stays open) and its reader.
pub type Open = (futures_util::stream::SplitSink<Socket, Message>, JoinHandle<()>);

/// Logs `who` in (8 at a time: every login is a password hash), opens a socket for each, follows
/// the inbox and waits until every subscription is acknowledged.
pub async fn connect_all(
    http: &reqwest::Client,
    base: &str,
    who: Vec<(String, Watcher)>,
    epoch: Instant,
    seen: &Shared,
) -> anyhow::Result<Vec<Open>> {
    let gate = Arc::new(Semaphore::new(8));
    let mut tasks = Vec::new();
    for (email, watcher) in who {
        let (http, base, gate, seen) = (http.clone(), base.to_owned(), gate.clone(), seen.clone());
        tasks.push(tokio::spawn(async move {
            let cookie = {
                let _permit = gate.acquire_owned().await?;
                login(&http, &base, &email).await?
            };
            let socket = connect(&base, &cookie).await.with_context(|| format!("{email}'s socket"))?;
            let (mut sink, stream) = socket.split();
            let (subscribed, acknowledged) = oneshot::channel();
            let reader = tokio::spawn(watch::read(stream, watcher, email.clone(), epoch, seen, subscribed));
            let follow = ClientMsg::SubscribeInbox { req_id: 1, cursors: vec![] };
            sink.send(Message::Text(serde_json::to_string(&follow)?.into())).await?;
            tokio::time::timeout(Duration::from_secs(30), acknowledged)
                .await
                .with_context(|| format!("{email}'s subscribe_inbox was not acknowledged"))?
                .with_context(|| format!("{email}'s socket closed before subscribing"))?;
            anyhow::Ok((sink, reader))
        }));
    }
    let mut open = Vec::new();
    for task in tasks {
        open.push(task.await??);
    }
    Ok(open)
}
