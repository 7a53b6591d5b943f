//! What every soak socket's task shares: the server, the run's clock (load until `until`, then
//! quiet until `stop`), how often connections are cut, and getting connected again.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::link::{Link, Peer};
use crate::stream::Tally;

/// How many times in a row connecting (and resuming) may fail before the task gives up.
const CONNECT_ATTEMPTS: u32 = 100;
/// The pause between two attempts.
const CONNECT_PAUSE: Duration = Duration::from_millis(100);

#[derive(Clone)]
pub struct Session {
    pub base: String,
    /// When the load stops: no more actions or cuts after it.
    pub until: Instant,
    /// Set when the run is over: the task closes its socket and returns.
    pub stop: watch::Receiver<bool>,
    /// The mean time between two cuts of one socket.
    pub reconnect_every: Duration,
    pub seed: u64,
    /// This task's number, for its own random stream.
    pub stream: u64,
    pub tally: Arc<Tally>,
}

impl Session {
    /// The same session for another task.
    pub fn for_task(&self, stream: u64) -> Session {
        Session { stream, ..self.clone() }
    }

    /// Counts a connection the server ended.
    pub fn server_closed(&self, ended: &str) {
        *self.tally.lock().closes.entry(ended.to_owned()).or_default() += 1;
    }
}

/// Connects `peer` and resumes its streams with `resume` (which gives the link back, or `None`
/// when resuming failed), retrying a bounded number of times.
pub async fn reconnect<Resume, Resumed>(
    session: &Session,
    peer: &Arc<Peer>,
    resume: &Resume,
    again: bool,
) -> anyhow::Result<Link>
where
    Resume: Fn(Link) -> Resumed,
    Resumed: Future<Output = anyhow::Result<Option<Link>>>,
{
    let mut last_error = None;
    for _ in 0..CONNECT_ATTEMPTS {
        match Link::connect(&session.base, peer).await {
            Ok(link) => {
                if let Some(link) = resume(link).await? {
                    if again {
                        session.tally.lock().reconnects += 1;
                    }
                    return Ok(link);
                }
            }
            Err(error) => last_error = Some(error),
        }
        tokio::time::sleep(CONNECT_PAUSE).await;
    }
    match last_error {
        Some(error) => Err(error.context(format!("{} could not connect", peer.name))),
        None => anyhow::bail!("{} could not resume its streams", peer.name),
    }
}
