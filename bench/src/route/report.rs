//! Joining what was sent with what the sockets saw, and printing it: the latencies beside the
//! same run's baseline, the decision rate, and the capacity checks (the run fails if an agent
//! ever held more than their capacity).

use std::collections::HashMap;

use baton_bench::percentile_ms;
use baton_shared::teams::AssignmentModel;
use baton_shared::{ConversationId, TeamId, UserId};

use super::load::{Sent, webhook_index};
use super::setup::Layout;
use super::watch::Seen;

/// One row of `GET /api/conversations`, as far as the checks need it.
#[derive(serde::Deserialize)]
pub struct Row {
    pub conversation: Listed,
}

#[derive(serde::Deserialize)]
pub struct Listed {
    pub id: ConversationId,
    pub status: String,
    pub assignee: Option<UserId>,
    pub team: Option<TeamId>,
}

/// The conversations as the server has them after the run.
pub struct Stored<'a> {
    /// Each read alone.
    pub rows: &'a [Row],
    /// Ids with no conversation (yet).
    pub absent: usize,
    /// How many `GET /api/conversations` listed.
    pub listed: usize,
}

/// The run's timing and costs, measured around the sending.
pub struct Timing {
    /// When sending began and ended (ns since the epoch).
    pub send_start: u64,
    pub send_end: u64,
    /// CPU used from the start of sending until the drain ended, in % of one core: Baton, this
    /// generator, and the whole machine (anything else running shows as the difference).
    pub server_cpu: f64,
    pub generator_cpu: f64,
    pub machine_cpu: f64,
    /// PostgreSQL's processes (0 on SQLite, which runs inside Baton).
    pub database_cpu: f64,
    pub cores: f64,
    /// Frames the sockets read in all.
    pub frames: u64,
}

/// Whether routing pushes a team's work to its members.
fn pushes(model: AssignmentModel) -> bool {
    matches!(model, AssignmentModel::RoundRobin | AssignmentModel::Balanced)
}

/// How many accepted conversations team `index` got, and how many of them fit its members'
/// capacity (none for a team routing does not push work in).
fn fit_in(layout: &Layout, capacity: u32, sent: &[Sent], index: usize) -> (usize, usize) {
    let arrived = sent.iter().filter(|sent| sent.team == index && sent.answered.is_some()).count();
    let room = layout
        .teams
        .get(index)
        .filter(|team| pushes(team.model))
        .map_or(0, |team| team.members.len() * capacity as usize);
    (arrived, arrived.min(room))
}

/// How many accepted conversations routing can assign with the capacity there is.
pub fn fits(layout: &Layout, capacity: u32, sent: &[Sent]) -> usize {
    (0..layout.teams.len()).map(|index| fit_in(layout, capacity, sent, index).1).sum()
}

fn stats(mut samples: Vec<u64>) -> (usize, [f64; 5]) {
    samples.sort_unstable();
    let quantiles = [0.5, 0.9, 0.99, 0.999, 1.0].map(|p| percentile_ms(&samples, p));
    (samples.len(), quantiles)
}

fn line(label: &str, samples: Vec<u64>) -> [f64; 5] {
    let (count, [p50, p90, p99, p999, max]) = stats(samples);
    println!(
        "  {label:<34} n={count:<6} p50 {p50:>8.1}  p90 {p90:>8.1}  p99 {p99:>8.1}  p99.9 {p999:>8.1}  max {max:>8.1} ms"
    );
    [p50, p90, p99, p999, max]
}

/// Prints the figures; answers the capacity failures (empty: the run passed).
pub fn print(
    layout: &Layout,
    capacity: u32,
    sent: &[Sent],
    seen: &Seen,
    stored: &Stored<'_>,
    timing: &Timing,
) -> Vec<String> {
    let mut failures = Vec::new();
    let team_of: HashMap<TeamId, usize> =
        layout.teams.iter().enumerate().map(|(index, team)| (team.id, index)).collect();
    let member_of: HashMap<UserId, usize> = layout
        .teams
        .iter()
        .enumerate()
        .flat_map(|(index, team)| team.members.iter().map(move |user| (*user, index)))
        .collect();

    // What was sent and accepted, per team; what could be assigned with the capacity there is.
    let accepted: Vec<&Sent> = sent.iter().filter(|sent| sent.answered.is_some()).collect();
    let send_secs = (timing.send_end.saturating_sub(timing.send_start)) as f64 / 1e9;
    println!(
        "sent {} webhooks in {send_secs:.2} s ({:.0}/s), accepted {}",
        sent.len(),
        sent.len() as f64 / send_secs.max(1e-9),
        accepted.len()
    );
    let expected = fits(layout, capacity, sent);
    for (index, team) in layout.teams.iter().enumerate() {
        let (arrived, fit) = fit_in(layout, capacity, sent, index);
        println!(
            "  {} ({}, {} members × capacity {capacity} = {}): {arrived} conversations, {fit} can be assigned",
            team.name,
            team.model.as_str(),
            team.members.len(),
            team.members.len() * capacity as usize,
        );
    }

    // Each conversation: its webhook, when `opened` reached the supervisor, when routing's
    // decision reached the assignee.
    let opened: HashMap<ConversationId, (usize, u64)> = seen
        .opened
        .iter()
        .filter_map(|(conversation, (wa_id, at))| Some((*conversation, (webhook_index(wa_id)?, *at))))
        .collect();
    let mut decided: HashMap<ConversationId, (UserId, u64)> = HashMap::new();
    let mut repeated = 0;
    for (conversation, agent, at) in &seen.decisions {
        if decided.insert(*conversation, (*agent, *at)).is_some() {
            repeated += 1;
        }
    }
    let mut routing = Vec::new();
    let mut baseline = Vec::new();
    let mut step = Vec::new();
    let mut by_model: HashMap<AssignmentModel, Vec<u64>> = HashMap::new();
    let mut in_run = 0;
    let mut unmatched = 0;
    for (conversation, (agent, at)) in &decided {
        let Some((index, opened_at)) = opened.get(conversation) else {
            unmatched += 1;
            continue;
        };
        let Some(sent) = sent.get(*index) else {
            unmatched += 1;
            continue;
        };
        let latency = at.saturating_sub(sent.posted);
        routing.push(latency);
        baseline.push(opened_at.saturating_sub(sent.posted));
        step.push(at.saturating_sub(*opened_at));
        if *at <= timing.send_end {
            in_run += 1;
        }
        if let Some(team) = member_of.get(agent).and_then(|index| layout.teams.get(*index)) {
            by_model.entry(team.model).or_default().push(latency);
        }
    }
    let all_opened: Vec<u64> =
        opened.values().filter_map(|(index, at)| Some(at.saturating_sub(sent.get(*index)?.posted))).collect();
    let first = seen.decisions.iter().map(|(_, _, at)| *at).min().unwrap_or(0);
    let last = seen.decisions.iter().map(|(_, _, at)| *at).max().unwrap_or(0);
    let span = (last.saturating_sub(first)) as f64 / 1e9;
    println!(
        "assigned (routing's `assigned` on the assignee's socket): {} by the end of sending, {} after the drain, \
         of {expected} that fit; {} conversations opened on the supervisor's socket",
        in_run,
        decided.len(),
        opened.len()
    );
    println!(
        "decisions per second: {:.0} ({} decisions between the first and the last, {span:.2} s apart; \
         offered {:.0}/s)",
        decided.len() as f64 / span.max(1e-9),
        decided.len(),
        sent.len() as f64 / send_secs.max(1e-9),
    );
    if decided.len() < expected {
        let message = format!("{} conversations that fit were not assigned", expected - decided.len());
        println!("  WARNING: {message}");
        failures.push(message);
    }
    if repeated > 0 || unmatched > 0 {
        println!("  WARNING: {repeated} conversations routed twice, {unmatched} decisions for no known webhook");
    }

    println!("latency (ms):");
    let answers: Vec<u64> = accepted.iter().filter_map(|sent| sent.answered).collect();
    line("webhook answered (200)", answers);
    let floor = line("baseline: webhook → opened", baseline);
    line("  (every conversation opened)", all_opened);
    let routed = line("webhook → assigned on agent socket", routing);
    line("opened → assigned (routing's share)", step);
    let mut models: Vec<_> = by_model.into_iter().collect();
    models.sort_by_key(|(model, _)| model.as_str());
    for (model, samples) in models {
        line(&format!("  {} teams", model.as_str()), samples);
    }
    println!(
        "routing vs baseline: p50 {:.1}× ({:.1} vs {:.1} ms), p99 {:.1}× ({:.1} vs {:.1} ms)",
        routed[0] / floor[0],
        routed[0],
        floor[0],
        routed[2] / floor[2],
        routed[2],
        floor[2]
    );
    println!(
        "CPU from the start of sending to the end of the drain, in % of a core: server {:.0}, PostgreSQL {:.0}, \
         generator {:.0}, anything else {:.0} (the whole machine: {:.0} of {:.0}); the sockets read {} frames",
        timing.server_cpu,
        timing.database_cpu,
        timing.generator_cpu,
        (timing.machine_cpu - timing.server_cpu - timing.database_cpu - timing.generator_cpu).max(0.0),
        timing.machine_cpu,
        timing.cores.round() * 100.0,
        timing.frames
    );

    // Capacity, three ways: what the server lists now; the supervisor's stream replayed event by
    // event (the highest load each agent ever had); each agent's own socket.
    let mut held: HashMap<UserId, u32> = HashMap::new();
    let mut waiting = vec![0_usize; layout.teams.len()];
    let mut unseen = 0;
    for row in stored.rows {
        let conversation = &row.conversation;
        if !opened.contains_key(&conversation.id) {
            unseen += 1;
        }
        if conversation.status == "resolved" {
            continue;
        }
        match conversation.assignee {
            Some(agent) => *held.entry(agent).or_default() += 1,
            None => {
                if let Some(index) = conversation.team.and_then(|team| team_of.get(&team)) {
                    waiting[*index] += 1;
                }
            }
        }
    }
    let mut load: HashMap<UserId, u32> = HashMap::new();
    let mut peak: HashMap<UserId, u32> = HashMap::new();
    let mut holder: HashMap<ConversationId, UserId> = HashMap::new();
    let mut away: HashMap<UserId, u32> = HashMap::new();
    for assignment in &seen.assignments {
        if let Some(before) = holder.remove(&assignment.conversation) {
            let count = load.entry(before).or_default();
            *count = count.saturating_sub(1);
            if assignment.assignee != Some(before) {
                *away.entry(before).or_default() += 1;
            }
        }
        if let Some(agent) = assignment.assignee {
            holder.insert(assignment.conversation, agent);
            let count = load.entry(agent).or_default();
            *count += 1;
            let highest = peak.entry(agent).or_default();
            *highest = (*highest).max(*count);
        }
    }
    let mut own: HashMap<UserId, u32> = HashMap::new();
    for (agent, _) in decided.values() {
        *own.entry(*agent).or_default() += 1;
    }
    let by_hand = seen.assignments.iter().filter(|assignment| !assignment.routed).count();
    println!(
        "stored: {} conversations ({unseen} not seen opening on the supervisor's socket), {} webhooks not ingested \
         yet; GET /api/conversations lists {}",
        stored.rows.len(),
        stored.absent,
        stored.listed
    );
    println!("capacity {capacity} per agent:");
    for (label, loads) in
        [("held now (each conversation read over REST)", &held), ("highest load (supervisor's events replayed)", &peak)]
    {
        let most = loads.values().copied().max().unwrap_or(0);
        let over: Vec<_> = loads.iter().filter(|(_, count)| **count > capacity).collect();
        let at_capacity = loads.values().filter(|count| **count == capacity).count();
        println!("  {label:<46} max {most:>3}; {at_capacity} agents at capacity, {} over", over.len());
        for (agent, count) in over {
            failures.push(format!("agent {} holds {count} > capacity {capacity} ({label})", agent.0));
        }
    }
    let own_net: Vec<u32> = layout
        .agents
        .iter()
        .map(|(agent, _)| own.get(agent).copied().unwrap_or(0).saturating_sub(away.get(agent).copied().unwrap_or(0)))
        .collect();
    let own_most = own_net.iter().copied().max().unwrap_or(0);
    let own_over = own_net.iter().filter(|count| **count > capacity).count();
    println!("  {:<46} max {own_most:>3}; {own_over} over", "assigned to them on their socket − assigned away");
    if own_over > 0 {
        failures.push(format!("{own_over} agents received more than {capacity} assignments on their socket"));
    }
    let differ = layout
        .agents
        .iter()
        .zip(&own_net)
        .filter(|((agent, _), net)| held.get(agent).copied().unwrap_or(0) != **net)
        .count();
    println!(
        "  agents whose own socket disagrees with the list: {differ}; assignments not made by routing: {by_hand}; \
         waiting per team now: {waiting:?}"
    );
    for team in &layout.teams {
        let loads: Vec<u32> = team.members.iter().map(|agent| held.get(agent).copied().unwrap_or(0)).collect();
        println!(
            "  {}: members hold {}–{} each ({} in all)",
            team.name,
            loads.iter().min().copied().unwrap_or(0),
            loads.iter().max().copied().unwrap_or(0),
            loads.iter().sum::<u32>()
        );
    }

    // Who heard of each conversation: an agent may see the waiting work of their own teams and
    // of the general inbox, and a conversation the rules sent to a team was never in the latter.
    let team_of_conversation = |conversation: &ConversationId| {
        opened.get(conversation).and_then(|(index, _)| sent.get(*index)).map(|sent| sent.team)
    };
    let foreign = seen
        .agent_opened
        .iter()
        .filter(|(conversation, agent)| {
            let theirs = member_of.get(agent);
            team_of_conversation(conversation).is_some_and(|team| theirs != Some(&team))
        })
        .count();
    println!(
        "visibility: agents' sockets received `opened` {} times, {foreign} of them for a conversation the rules sent \
         to another team",
        seen.agent_opened.len()
    );
    if foreign > 0 {
        println!(
            "  WARNING: a conversation triaged to a team as it opens is announced to every agent first (its \
             opened, message and triaged events), as if it had been in the general inbox"
        );
    }

    if !seen.closed.is_empty() || !seen.errors.is_empty() {
        println!("sockets closed by the server: {:?}; error frames: {:?}", seen.closed, seen.errors);
        failures.push(format!("{} sockets were closed during the run", seen.closed.len()));
    }
    failures
}
