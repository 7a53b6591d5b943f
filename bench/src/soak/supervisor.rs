//! A supervisor's socket, as the web app drives it: it follows the whole inbox and, every now and
//! then, looks at one conversation (`open` from the seq it holds there, `close` when it moves on)
//! while still following the inbox. Every time its connection is cut (by this tool, at random
//! moments) or closed by the server, it follows the inbox again with a cursor per conversation
//! and reopens the conversation it was looking at.

use std::sync::Arc;
use std::time::Duration;

use baton_shared::ConversationId;
use baton_shared::protocol::ClientMsg;
use tokio::time::Instant;

use crate::link::{Answer, Link, Peer, open, subscribe};
use crate::random::Random;
use crate::session::{Session, reconnect};

/// Runs until the session stops; cuts and looks only while the load runs. `look_every`: the
/// mean time between two conversations looked at (`None`: it only follows the inbox).
pub async fn run(
    session: Session,
    peer: Arc<Peer>,
    conversations: Arc<Vec<ConversationId>>,
    look_every: Option<Duration>,
) -> anyhow::Result<()> {
    let mut random = Random::new(session.seed, session.stream);
    let resume = |link: Link| follow(link, peer.clone(), conversations.clone());
    let mut link = reconnect(&session, &peer, &resume, false).await?;
    let mut stop = session.stop.clone();
    let mut look_at = Instant::now() + look_every.map_or(Duration::ZERO, |every| random.wait(every));
    loop {
        let loading = Instant::now() < session.until;
        let cut_at = Instant::now() + random.wait(session.reconnect_every);
        tokio::select! {
            ended = link.ended() => {
                session.server_closed(&ended);
                link = reconnect(&session, &peer, &resume, true).await?;
            }
            () = tokio::time::sleep_until(cut_at), if loading && cut_at < session.until => {
                session.tally.lock().cuts += 1;
                link.cut();
                link = reconnect(&session, &peer, &resume, true).await?;
            }
            () = tokio::time::sleep_until(look_at), if loading && look_every.is_some() => {
                let next = conversations[random.below(conversations.len())];
                look(&mut link, &peer, next).await?;
                look_at = Instant::now() + look_every.map_or(Duration::ZERO, |every| random.wait(every));
            }
            // Wakes the loop when the load stops, so the branches above are turned off.
            () = tokio::time::sleep_until(session.until), if loading => {}
            _ = stop.changed() => break,
        }
    }
    link.cut();
    Ok(())
}

/// Follows the inbox from the seq held in every conversation, and reopens the conversation
/// looked at; the link, or `None` when a request was refused or lost (the caller connects again).
async fn follow(
    mut link: Link,
    peer: Arc<Peer>,
    conversations: Arc<Vec<ConversationId>>,
) -> anyhow::Result<Option<Link>> {
    if !matches!(subscribe(&mut link, &peer, &conversations).await?, Answer::Done) {
        link.cut();
        return Ok(None);
    }
    let looked_at: Vec<ConversationId> = peer.lock().open.iter().copied().collect();
    for conversation in looked_at {
        if !matches!(open(&mut link, &peer, conversation).await?, Answer::Done) {
            link.cut();
            return Ok(None);
        }
    }
    Ok(Some(link))
}

/// Stops looking at the conversation looked at (still following it through the inbox), and
/// looks at `next`.
async fn look(link: &mut Link, peer: &Arc<Peer>, next: ConversationId) -> anyhow::Result<()> {
    let looked_at: Vec<ConversationId> = peer.lock().open.iter().copied().collect();
    for conversation_id in looked_at {
        match link.request(|req_id| ClientMsg::Close { req_id, conversation_id }).await? {
            Answer::Done => {
                peer.lock().open.remove(&conversation_id);
            }
            Answer::Refused(_) => {}
            Answer::Unanswered => {
                peer.tally.lock().unanswered += 1;
                return Ok(());
            }
        }
    }
    peer.lock().open.insert(next);
    match open(link, peer, next).await? {
        Answer::Done => peer.tally.lock().supervisor_opens += 1,
        Answer::Refused(_) => {
            peer.lock().open.remove(&next);
        }
        // Still looked at as far as the supervisor knows: reconnecting opens it again.
        Answer::Unanswered => peer.tally.lock().unanswered += 1,
    }
    Ok(())
}
