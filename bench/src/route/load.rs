//! The open-loop generator: new customers writing in at a fixed rate, each with a signed webhook
//! whose text names one team's keyword. Sending never waits for answers (beyond `in_flight`
//! webhooks at once), so a slow server shows as latency, not as a lower rate.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use baton_bench::{APP_SECRET, text_webhook};
use baton_whatsapp::signature::{AppSecret, SIGNATURE_HEADER, sign};
use tokio::sync::Semaphore;

use super::watch::since;

/// The prefix of the customers' `wa_id`s; the rest is the webhook's number.
const WA_PREFIX: &str = "1777";

/// One webhook sent.
#[derive(Clone, Copy, Default)]
pub struct Sent {
    /// The team its text names (index in the layout).
    pub team: usize,
    /// When it was due and its POST began (ns since the epoch).
    pub posted: u64,
    /// How long the server took to answer 200 (ns); `None`: not accepted.
    pub answered: Option<u64>,
}

/// The `wa_id` of webhook `index`, and back.
pub fn wa_id(index: usize) -> String {
    format!("{WA_PREFIX}{index:08}")
}

pub fn webhook_index(wa_id: &str) -> Option<usize> {
    wa_id.strip_prefix(WA_PREFIX)?.parse().ok()
}

/// The team of each webhook: team `i` of `n` is chosen with weight `n + 1 - i` (5 teams: 30%,
/// 25%, 20%, 15%, 10%), in a fixed pseudo-random order, so the busiest teams outgrow their
/// members' capacity while the others do not.
pub fn teams_for(count: usize, teams: usize) -> Vec<usize> {
    let weights: Vec<u64> = (0..teams).map(|index| (teams + 1 - index) as u64).collect();
    let total: u64 = weights.iter().sum();
    let mut state: u64 = 0x5EED_0014;
    (0..count)
        .map(|_| {
            // splitmix64
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut mixed = state;
            mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            let mut pick = (mixed ^ (mixed >> 31)) % total;
            weights
                .iter()
                .position(|weight| {
                    if pick < *weight {
                        true
                    } else {
                        pick -= weight;
                        false
                    }
                })
                .unwrap_or(0)
        })
        .collect()
}

/// Posts one webhook per entry of `teams` at `rate` per second, each a new customer whose text
/// carries `keywords[team]`; returns what was sent, indexed as the webhooks.
pub async fn send(
    http: &reqwest::Client,
    base: &str,
    teams: &[usize],
    keywords: &[String],
    rate: u32,
    in_flight: usize,
    epoch: Instant,
) -> anyhow::Result<Vec<Sent>> {
    let secret = Arc::new(AppSecret::new(APP_SECRET).map_err(|error| anyhow::anyhow!("{error}"))?);
    let url = Arc::new(format!("{base}/webhooks/whatsapp"));
    let gate = Arc::new(Semaphore::new(in_flight.max(1)));
    let sent = Arc::new(Mutex::new(vec![Sent::default(); teams.len()]));
    let mut tasks = Vec::with_capacity(teams.len());
    // Paced in 1 ms slices: the webhooks due by then, at the start of each slice.
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut next = 0;
    while next < teams.len() {
        tick.tick().await;
        let due = ((started.elapsed().as_secs_f64() * f64::from(rate)) as usize + 1).min(teams.len());
        while next < due {
            let (index, team) = (next, teams[next]);
            next += 1;
            let posted = since(epoch);
            let customer = wa_id(index);
            let text = format!("Hello, I have a question about {} (order {index})", keywords[team]);
            let body = text_webhook(
                &customer,
                &format!("Customer {index}"),
                &format!("wamid.route.{index}"),
                1_767_258_000 + index as u64,
                &text,
            );
            let signature = sign(&secret, body.as_bytes());
            let (http, url, gate, sent) = (http.clone(), url.clone(), gate.clone(), sent.clone());
            tasks.push(tokio::spawn(async move {
                let answered = {
                    let _permit = gate.acquire_owned().await?;
                    let response = http
                        .post(url.as_str())
                        .header("content-type", "application/json")
                        .header(SIGNATURE_HEADER, signature)
                        .body(body)
                        .send()
                        .await;
                    match response {
                        Ok(response) if response.status().is_success() => Some(since(epoch).saturating_sub(posted)),
                        _ => None,
                    }
                };
                let mut sent = sent.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(slot) = sent.get_mut(index) {
                    *slot = Sent { team, posted, answered };
                }
                anyhow::Ok(())
            }));
        }
    }
    for task in tasks {
        task.await??;
    }
    let sent = std::mem::take(&mut *sent.lock().unwrap_or_else(PoisonError::into_inner));
    Ok(sent)
}
