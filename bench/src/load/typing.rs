//! The typing load: the claim taken by a first keystroke, alone ([`lone_claims`]) and in a burst
//! ([`claim_burst`]), and keystrokes at a steady total rate ([`type_at`]), whose drafts' delivery
//! latency, per-second maxima and CPU cost per delivery make a [`RateFigures`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_shared::ConversationId;
use baton_shared::protocol::ClientMsg;

use super::sockets::{Client, Tally, lock};

/// Latency percentiles of a set of samples, in ms.
#[derive(Clone, Copy, Debug, Default)]
pub struct Percentiles {
    pub count: usize,
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Percentiles {
    /// Of `nanos`, which it sorts.
    pub fn of(nanos: &mut [u64]) -> Percentiles {
        nanos.sort_unstable();
        let at = |p| baton_bench::percentile_ms(nanos, p);
        Percentiles { count: nanos.len(), p50: at(0.50), p99: at(0.99), p999: at(0.999), max: at(1.0) }
    }
}

/// Claims taken by first keystrokes: their ack latency, and what went otherwise.
#[derive(Debug, Default)]
pub struct ClaimFigures {
    pub latency: Percentiles,
    /// Acked without a claim (someone held it already?).
    pub unclaimed: usize,
    /// Refused, by error code.
    pub refused: Vec<String>,
}

fn draft(tally: &Tally) -> String {
    format!("t:{}", tally.now_ns())
}

/// Gives up `conversation`'s claim if `client` holds it (a refusal, when it does not, is expected).
async fn release(client: &mut Client, conversation: i64) -> anyhow::Result<()> {
    let req_id = client.req_id();
    client.request(&ClientMsg::Release { req_id, conversation_id: ConversationId(conversation) }).await?;
    Ok(())
}

/// The first keystroke in an unclaimed conversation: sent, and its answer awaited. Returns the
/// latency in ns, whether it took the claim, and its error code if refused.
async fn first_keystroke(
    client: &mut Client,
    conversation: i64,
    tally: &Tally,
) -> anyhow::Result<(u64, bool, Option<String>)> {
    let req_id = client.req_id();
    let typing = ClientMsg::Typing { req_id, conversation_id: ConversationId(conversation), draft: draft(tally) };
    let (sent, answer) = client.request(&typing).await?;
    let latency = u64::try_from(answer.at.saturating_duration_since(sent).as_nanos()).unwrap_or(u64::MAX);
    let refused = (!answer.is_ack()).then(|| answer.code.clone().unwrap_or_default());
    Ok((latency, answer.took_claim(), refused))
}

/// Tallies first keystrokes' outcomes.
fn claim_figures(outcomes: Vec<(u64, bool, Option<String>)>) -> ClaimFigures {
    let mut figures = ClaimFigures::default();
    let mut nanos = Vec::with_capacity(outcomes.len());
    for (latency, took, refused) in outcomes {
        match refused {
            Some(code) => figures.refused.push(code),
            None => {
                nanos.push(latency);
                figures.unclaimed += usize::from(!took);
            }
        }
    }
    figures.latency = Percentiles::of(&mut nanos);
    figures
}

/// `count` claims one at a time, by `clients` in turn in the conversation each views (released
/// before, so it is unclaimed, and after, so the next run finds it so), `gap` apart so each one's
/// fan-out is over before the next.
pub async fn lone_claims(
    clients: &mut [&mut Client],
    count: usize,
    gap: Duration,
    tally: &Tally,
) -> anyhow::Result<ClaimFigures> {
    let mut outcomes = Vec::with_capacity(count);
    if clients.is_empty() {
        return Ok(claim_figures(outcomes));
    }
    for index in 0..count {
        let client = &mut clients[index % clients.len()];
        let super::sockets::Role::Viewer { conversation, .. } = client.role else { continue };
        release(client, conversation).await?;
        tokio::time::sleep(gap).await;
        outcomes.push(first_keystroke(client, conversation, tally).await?);
        release(client, conversation).await?;
        tokio::time::sleep(gap).await;
    }
    Ok(claim_figures(outcomes))
}

/// Every typist gives up its conversation's claim, if it holds one (left by an earlier run).
pub async fn release_all(typists: Vec<(Client, i64)>) -> anyhow::Result<Vec<(Client, i64)>> {
    let mut tasks = Vec::with_capacity(typists.len());
    for (mut client, conversation) in typists {
        tasks.push(tokio::spawn(async move {
            release(&mut client, conversation).await?;
            anyhow::Ok((client, conversation))
        }));
    }
    let mut typists = Vec::with_capacity(tasks.len());
    for task in tasks {
        typists.push(task.await??);
    }
    Ok(typists)
}

/// Every typist's first keystroke in its (unclaimed) conversation, spread evenly over `spread`.
pub async fn claim_burst(
    typists: Vec<(Client, i64)>,
    spread: Duration,
    tally: &Arc<Tally>,
) -> anyhow::Result<(ClaimFigures, Vec<(Client, i64)>)> {
    let count = u32::try_from(typists.len().max(1)).unwrap_or(u32::MAX);
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    let mut tasks = Vec::with_capacity(typists.len());
    for (index, (mut client, conversation)) in typists.into_iter().enumerate() {
        let at = start + spread / count * u32::try_from(index).unwrap_or(u32::MAX);
        let tally = tally.clone();
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(at).await;
            let outcome = first_keystroke(&mut client, conversation, &tally).await?;
            anyhow::Ok((outcome, (client, conversation)))
        }));
    }
    let (mut outcomes, mut typists) = (Vec::with_capacity(tasks.len()), Vec::with_capacity(tasks.len()));
    for task in tasks {
        let (outcome, typist) = task.await??;
        outcomes.push(outcome);
        typists.push(typist);
    }
    Ok((claim_figures(outcomes), typists))
}

/// One rate's figures: drafts delivered, their latency, the worst of each second, and CPU.
#[derive(Clone, Debug, Default)]
pub struct RateFigures {
    /// Keystrokes per second asked for, and sent in all.
    pub rate: f64,
    pub keystrokes: u64,
    pub latency: Percentiles,
    /// The maximum latency of the keystrokes sent in each second, in ms.
    pub timeline: Vec<f64>,
    /// CPU time while typing and delivering, in ms: the server's, the generator's.
    pub server_cpu_ms: f64,
    pub generator_cpu_ms: f64,
    /// Wall time from the first keystroke until deliveries stopped.
    pub wall: Duration,
    /// How busy the whole machine was meanwhile, in cores.
    pub machine_cores: f64,
    /// Deliveries were still arriving when the wait for them ended (a minute after the last
    /// keystroke): the figures stop there.
    pub cut: bool,
}

impl RateFigures {
    /// Deliveries per keystroke (the drafts' fan-out, less any the server coalesced).
    pub fn fan_out(&self) -> f64 {
        self.latency.count as f64 / self.keystrokes.max(1) as f64
    }

    /// CPU time per 1,000 deliveries, in ms: the server's, the generator's.
    pub fn cpu_per_thousand(&self) -> (f64, f64) {
        let deliveries = self.latency.count.max(1) as f64 / 1000.0;
        (self.server_cpu_ms / deliveries, self.generator_cpu_ms / deliveries)
    }
}

/// How long deliveries still arriving after the last keystroke are waited for.
const DRAIN_LIMIT: Duration = Duration::from_secs(60);

/// CPU time of a process so far, in ms (clock ticks are 10 ms).
fn cpu_ms(pid: &str) -> anyhow::Result<f64> {
    Ok(baton_bench::cpu_ticks(pid)? as f64 * 10.0)
}

/// The typists type `rate` keystrokes a second in all for `seconds` (each one every
/// typists/rate seconds, their keystrokes spread evenly), then the drafts still on their way are
/// awaited; `server` is the server's pid for its CPU time.
pub async fn type_at(
    typists: Vec<(Client, i64)>,
    rate: f64,
    seconds: u64,
    tally: &Arc<Tally>,
    server: u32,
) -> anyhow::Result<(RateFigures, Vec<(Client, i64)>)> {
    let count = typists.len().max(1);
    let every = Duration::from_secs_f64(count as f64 / rate.max(0.001));
    let cpu_before = (cpu_ms(&server.to_string())?, cpu_ms("self")?, baton_bench::machine_ticks()?);
    let start = tokio::time::Instant::now() + Duration::from_millis(20);
    let start_ns = tally.now_ns() + 20_000_000;
    let until = start + Duration::from_secs(seconds);
    let mut tasks = Vec::with_capacity(typists.len());
    for (index, (mut client, conversation)) in typists.into_iter().enumerate() {
        let offset = every.mul_f64(index as f64 / count as f64);
        let tally = tally.clone();
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(start + offset, every);
            let mut keystrokes = 0u64;
            loop {
                if tick.tick().await >= until {
                    break;
                }
                let req_id = client.req_id();
                let typing =
                    ClientMsg::Typing { req_id, conversation_id: ConversationId(conversation), draft: draft(&tally) };
                client.send(&typing).await?;
                keystrokes += 1;
            }
            anyhow::Ok((keystrokes, (client, conversation)))
        }));
    }
    let (mut keystrokes, mut typists) = (0, Vec::with_capacity(tasks.len()));
    for task in tasks {
        let (sent, typist) = task.await??;
        keystrokes += sent;
        typists.push(typist);
    }
    let end_ns = tally.now_ns();
    // Drafts still on their way: wait until none arrives for a second (at most a minute).
    let mut seen = lock(&tally.samples).len();
    let deadline = Instant::now() + DRAIN_LIMIT;
    let cut = loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = lock(&tally.samples).len();
        if now == seen {
            break false;
        }
        if Instant::now() >= deadline {
            break true;
        }
        seen = now;
    };
    let wall = start.elapsed();
    let cpu_after = (cpu_ms(&server.to_string())?, cpu_ms("self")?, baton_bench::machine_ticks()?);
    let samples = std::mem::take(&mut *lock(&tally.samples));
    let window: Vec<(u64, u64)> = samples.into_iter().filter(|(sent, _)| (start_ns..=end_ns).contains(sent)).collect();
    let mut timeline = vec![0.0f64; usize::try_from(seconds).unwrap_or(0).max(1)];
    for (sent, latency) in &window {
        let second = usize::try_from((sent - start_ns) / 1_000_000_000).unwrap_or(usize::MAX).min(timeline.len() - 1);
        timeline[second] = timeline[second].max(*latency as f64 / 1e6);
    }
    let mut nanos: Vec<u64> = window.into_iter().map(|(_, latency)| latency).collect();
    let figures = RateFigures {
        rate,
        keystrokes,
        latency: Percentiles::of(&mut nanos),
        timeline,
        server_cpu_ms: cpu_after.0 - cpu_before.0,
        generator_cpu_ms: cpu_after.1 - cpu_before.1,
        wall,
        // Busy ticks are 10 ms of one core.
        machine_cores: cpu_after.2.0.saturating_sub(cpu_before.2.0) as f64 / 100.0 / wall.as_secs_f64().max(1e-9),
        cut,
    };
    Ok((figures, typists))
}
