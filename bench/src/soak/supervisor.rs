//! A supervisor's socket: it follows the whole inbox and resumes it, with a cursor per
//! conversation, every time its connection is cut (by this tool, at random moments) or closed by
//! the server.

use std::sync::Arc;

use baton_shared::ConversationId;
use baton_shared::protocol::{ClientMsg, Cursor};

use crate::link::{Answer, Link, Peer};
use crate::random::Random;
use crate::session::{Session, reconnect};

/// Runs until the session stops; cuts only while the load runs.
pub async fn run(session: Session, peer: Arc<Peer>, conversations: Arc<Vec<ConversationId>>) -> anyhow::Result<()> {
    let mut random = Random::new(session.seed, session.stream);
    let resume = |link: Link| follow(link, peer.clone(), conversations.clone());
    let mut link = reconnect(&session, &peer, &resume, false).await?;
    let mut stop = session.stop.clone();
    loop {
        let cut_at = tokio::time::Instant::now() + random.wait(session.reconnect_every);
        tokio::select! {
            ended = link.ended() => {
                session.server_closed(&ended);
                link = reconnect(&session, &peer, &resume, true).await?;
            }
            () = tokio::time::sleep_until(cut_at), if cut_at < session.until => {
                session.tally.lock().cuts += 1;
                link.cut();
                link = reconnect(&session, &peer, &resume, true).await?;
            }
            _ = stop.changed() => break,
        }
    }
    link.cut();
    Ok(())
}

/// Follows the inbox from the seq held in every conversation; the link, or `None` when the
/// request was refused or lost (the caller connects again).
async fn follow(
    mut link: Link,
    peer: Arc<Peer>,
    conversations: Arc<Vec<ConversationId>>,
) -> anyhow::Result<Option<Link>> {
    let cursors: Vec<Cursor> = {
        let state = peer.lock();
        conversations
            .iter()
            .map(|&conversation_id| Cursor { conversation_id, after_seq: state.positions.held(conversation_id) })
            .collect()
    };
    match link.request(|req_id| ClientMsg::SubscribeInbox { req_id, cursors }).await? {
        Answer::Done => Ok(Some(link)),
        Answer::Refused(_) | Answer::Unanswered => {
            link.cut();
            Ok(None)
        }
    }
}
