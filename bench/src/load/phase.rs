//! One server's phase of a run, the same for Baton and the peer: the connect storm (with the
//! server's memory read before, after a tenth of the sockets and after all of them), the claims
//! (Baton only: the peer has none), then typing at each rate. Each step prints its figures as
//! it ends; all of them come back as a [`PhaseFigures`] for the summary.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::report::{fmt_ratio, print_claims, print_rate};
use super::server_log::ServerLog;
use super::sockets::{Client, Mark, Plan, Role, Storm, Tally, presence_quiet};
use super::typing::{ClaimFigures, RateFigures, claim_burst, lone_claims, release_all, type_at};

/// What a phase is asked to do.
pub struct Settings {
    /// Printed before each figure: "Baton" or "peer".
    pub name: &'static str,
    pub connect_concurrency: usize,
    /// Claims: how many lone ones (0: no claims at all), and how long the burst is spread over.
    pub lone_claims: usize,
    pub burst_spread: Duration,
    pub rates: Vec<f64>,
    pub seconds: u64,
}

/// The connect storm's figures.
#[derive(Clone, Debug, Default)]
pub struct ConnectFigures {
    pub sockets: usize,
    pub failed: usize,
    /// Time spent connecting (the pause to read memory after a tenth not counted).
    pub elapsed: Duration,
    /// Where it stood at half the sockets.
    pub half: Option<Mark>,
    /// `presence` frames received by all sockets until presence was quiet for a second.
    pub presence: u64,
    /// How long presence frames kept coming after the last socket was acked.
    pub presence_tail: Duration,
}

/// The server's resident set, in KiB: before any socket, after a tenth, after all (idle).
#[derive(Clone, Copy, Debug, Default)]
pub struct Memory {
    pub before: u64,
    pub tenth: u64,
    pub tenth_sockets: usize,
    pub after: u64,
    pub sockets: usize,
}

impl Memory {
    /// KiB per socket connected after the first tenth.
    pub fn marginal(&self) -> f64 {
        self.after.saturating_sub(self.tenth) as f64 / self.sockets.saturating_sub(self.tenth_sockets).max(1) as f64
    }

    /// KiB per socket, fixed costs included.
    pub fn per_socket(&self) -> f64 {
        self.after.saturating_sub(self.before) as f64 / self.sockets.max(1) as f64
    }
}

/// Everything one phase measured.
#[derive(Debug, Default)]
pub struct PhaseFigures {
    pub connect: ConnectFigures,
    pub memory: Memory,
    pub lone: Option<ClaimFigures>,
    pub burst: Option<ClaimFigures>,
    pub rates: Vec<RateFigures>,
    /// Sockets closed and errors nobody waited for, as the tally says at the end.
    pub trouble: String,
    /// The length of a draft frame as received (for the floor's messages).
    pub draft_bytes: usize,
}

/// Prints what the server logged since the last step, if anything.
fn tell(name: &str, log: &mut Option<&mut ServerLog>) {
    if let Some(log) = log {
        let news = log.news();
        if !news.is_empty() {
            println!("{name}: server log ({}): {news}", log.path().display());
        }
    }
}

/// Runs the phase against the server at `base` (process `pid`, logging to `log` if Baton) with
/// the sockets `plans`.
pub async fn run(
    settings: &Settings,
    base: &str,
    pid: u32,
    plans: &[Plan],
    mut log: Option<&mut ServerLog>,
) -> anyhow::Result<PhaseFigures> {
    let name = settings.name;
    let tally = Tally::new();
    let mut figures = PhaseFigures::default();
    let (connect, memory, clients) = connect_storm(settings, base, pid, plans, &tally).await?;
    println!(
        "{name}: {} sockets connected in {:.2} s, {} at a time ({} failed); {} presence frames received in all, \
         {:.1} per socket; presence went on for {:.2} s after the last socket connected",
        connect.sockets,
        connect.elapsed.as_secs_f64(),
        settings.connect_concurrency,
        connect.failed,
        connect.presence,
        connect.presence as f64 / connect.sockets.max(1) as f64,
        connect.presence_tail.as_secs_f64(),
    );
    if let Some(half) = connect.half {
        println!(
            "{name}:   at socket {} of {}: {:.2} s, {} presence frames so far ({:.1} per socket); \
             all/half: time ×{:.2}, presence frames ×{:.2} (×2 linear, ×4 quadratic)",
            half.sockets,
            connect.sockets,
            half.elapsed.as_secs_f64(),
            half.presence,
            half.presence as f64 / half.sockets.max(1) as f64,
            connect.elapsed.as_secs_f64() / half.elapsed.as_secs_f64().max(1e-9),
            connect.presence as f64 / half.presence.max(1) as f64,
        );
    }
    println!(
        "{name}: server RSS {} KiB before, {} KiB with {} sockets, {} KiB with {} idle sockets: \
         {:.1} KiB per additional socket ({:.1} KiB per socket including fixed costs)",
        memory.before,
        memory.tenth,
        memory.tenth_sockets,
        memory.after,
        memory.sockets,
        memory.marginal(),
        memory.per_socket(),
    );
    tell(name, &mut log);
    figures.connect = connect;
    figures.memory = memory;

    let (mut typists, mut others): (Vec<(Client, i64)>, Vec<Client>) = (Vec::new(), Vec::new());
    for client in clients {
        match client.role {
            Role::Viewer { conversation, typist: true } => typists.push((client, conversation)),
            _ => others.push(client),
        }
    }
    if settings.lone_claims > 0 {
        let (lone, burst, back) = claims(settings, &mut others, typists, &tally, &mut log).await?;
        typists = back;
        figures.lone = Some(lone);
        figures.burst = Some(burst);
    }
    let closed_before = tally.closed_count();
    for &rate in &settings.rates {
        let (rate_figures, back) = type_at(typists, rate, settings.seconds, &tally, pid).await?;
        typists = back;
        print_rate(name, &rate_figures, typists.len());
        tell(name, &mut log);
        figures.rates.push(rate_figures);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    figures.trouble = tally.trouble();
    figures.draft_bytes = tally.draft_bytes.load(Ordering::Relaxed);
    println!(
        "{name}: sockets closed by the server while typing: {}; closes and errors over the whole phase: {}",
        tally.closed_count() - closed_before,
        figures.trouble
    );
    for client in typists.iter().map(|(client, _)| client).chain(&others) {
        client.stop();
    }
    Ok(figures)
}

/// Connects every socket (a tenth first, then the rest after a pause to read the server's memory),
/// waits until presence is quiet, and reads the memory again.
async fn connect_storm(
    settings: &Settings,
    base: &str,
    pid: u32,
    plans: &[Plan],
    tally: &Arc<Tally>,
) -> anyhow::Result<(ConnectFigures, Memory, Vec<Client>)> {
    let mut memory = Memory { before: baton_bench::rss_kib(pid)?, ..Memory::default() };
    let mut storm = Storm::new(base, tally, settings.connect_concurrency, plans.len() / 2);
    // A tenth first: the server's fixed costs (database cache, first-use allocations) then show
    // in the first reading, and the second one measures what one more socket costs.
    let tenth = plans.len() / 10;
    let mut clients = storm.connect(&plans[..tenth]).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    memory.tenth = baton_bench::rss_kib(pid)?;
    memory.tenth_sockets = clients.len();
    clients.extend(storm.connect(&plans[tenth..]).await);
    let presence_tail = presence_quiet(tally, Duration::from_secs(1), Duration::from_secs(120)).await;
    let presence = tally.presence.load(Ordering::Relaxed);
    if let Some(failure) = &storm.first_failure {
        println!("{}: {} sockets failed to connect; the first: {failure}", settings.name, storm.failed);
    }
    // Let the server settle (answers sent, buffers returned) before reading its memory.
    tokio::time::sleep(Duration::from_secs(2)).await;
    memory.after = baton_bench::rss_kib(pid)?;
    memory.sockets = clients.len();
    let connect = ConnectFigures {
        sockets: clients.len(),
        failed: storm.failed,
        elapsed: storm.elapsed(),
        half: storm.mark(),
        presence,
        presence_tail,
    };
    Ok((connect, memory, clients))
}

/// The lone claims (by viewers of conversations nobody types in, one each; typists if there are
/// none), then the burst of every typist's first keystroke.
async fn claims(
    settings: &Settings,
    others: &mut [Client],
    typists: Vec<(Client, i64)>,
    tally: &Arc<Tally>,
    log: &mut Option<&mut ServerLog>,
) -> anyhow::Result<(ClaimFigures, ClaimFigures, Vec<(Client, i64)>)> {
    let typed_in: HashSet<i64> = typists.iter().map(|(_, conversation)| *conversation).collect();
    let mut seen = HashSet::new();
    let mut lone_by: Vec<&mut Client> = others
        .iter_mut()
        .filter(|client| match client.role {
            Role::Viewer { conversation, .. } => !typed_in.contains(&conversation) && seen.insert(conversation),
            Role::Supervisor => false,
        })
        .collect();
    let mut typists = typists;
    let lone = if lone_by.is_empty() {
        let mut by: Vec<&mut Client> = typists.iter_mut().map(|(client, _)| client).collect();
        lone_claims(&mut by, settings.lone_claims, Duration::from_millis(50), tally).await?
    } else {
        lone_claims(&mut lone_by, settings.lone_claims, Duration::from_millis(50), tally).await?
    };
    print_claims(settings.name, "lone claims (one at a time)", &lone);
    tell(settings.name, log);
    // Claims left by an earlier run on the same data are given up, so every first keystroke
    // takes one; then the server settles.
    let typists = release_all(typists).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let count = typists.len();
    let (burst, typists) = claim_burst(typists, settings.burst_spread, tally).await?;
    let what = format!("claim burst ({count} first keystrokes over {} ms)", settings.burst_spread.as_millis());
    print_claims(settings.name, &what, &burst);
    tell(settings.name, log);
    println!("{}: burst p99 / lone p99 = {} (goal ≤ 5)", settings.name, fmt_ratio(burst.latency.p99, lone.latency.p99));
    // The burst's fan-out (claims, typing, drafts) is over before the steady typing starts.
    tokio::time::sleep(Duration::from_secs(2)).await;
    Ok((lone, burst, typists))
}
