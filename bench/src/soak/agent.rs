//! An agent's socket: it keeps a few conversations open (every other agent also follows the
//! inbox, as the web app does; the others receive only what they open), and at random moments (at the rate the
//! run asks for) types a reply keystroke by keystroke (the first claims the conversation), sends
//! it (again with `force` when the customer wrote meanwhile), lets the claim go, or adds a note;
//! now and then it closes one conversation and opens another from the seq it holds there. Its
//! connection is cut at random moments, in the middle of typing too; it then reopens each
//! conversation from the seq it holds.

use std::sync::Arc;
use std::time::Duration;

use baton_shared::ConversationId;
use baton_shared::error::ErrorCode;
use baton_shared::protocol::ClientMsg;
use tokio::time::Instant;

use crate::link::{Answer, Link, Peer, open, subscribe};
use crate::random::Random;
use crate::session::{Session, reconnect};

/// What agents do, and how often.
pub struct Work {
    pub conversations: Arc<Vec<ConversationId>>,
    pub open_per_agent: usize,
    /// The mean time between two actions (a reply or a note) of one agent.
    pub act_every: Duration,
    /// The share of actions that are replies (the others are notes).
    pub reply_share: f64,
    pub keystroke: Duration,
    /// The mean time between two switches (close one conversation, open another).
    pub switch_every: Duration,
}

/// What one agent's task keeps between its actions.
struct Agent {
    peer: Arc<Peer>,
    work: Arc<Work>,
    random: Random,
    /// When the connection is cut next.
    cut_at: Instant,
    /// Replies made, for their idempotency keys.
    replies: u64,
}

/// Runs until the session stops; acts, switches and cuts only while the load runs.
pub async fn run(session: Session, peer: Arc<Peer>, work: Arc<Work>) -> anyhow::Result<()> {
    let mut random = Random::new(session.seed, session.stream);
    {
        let mut state = peer.lock();
        let wanted = work.open_per_agent.min(work.conversations.len());
        while state.open.len() < wanted {
            state.open.insert(work.conversations[random.below(work.conversations.len())]);
        }
    }
    let conversations = work.conversations.clone();
    let resume = |link: Link| reopen(link, peer.clone(), conversations.clone());
    let mut link = reconnect(&session, &peer, &resume, false).await?;
    let now = Instant::now();
    let cut_at = now + random.wait(session.reconnect_every);
    let mut act_at = now + random.wait(work.act_every);
    let mut switch_at = now + random.wait(work.switch_every);
    let mut agent = Agent { peer: peer.clone(), work, random, cut_at, replies: 0 };
    let mut stop = session.stop.clone();
    loop {
        let loading = Instant::now() < session.until;
        tokio::select! {
            ended = link.ended() => {
                session.server_closed(&ended);
                link = reconnect(&session, &peer, &resume, true).await?;
            }
            () = tokio::time::sleep_until(agent.cut_at), if loading => {
                session.tally.lock().cuts += 1;
                link.cut();
                link = reconnect(&session, &peer, &resume, true).await?;
                agent.cut_at = Instant::now() + agent.random.wait(session.reconnect_every);
            }
            () = tokio::time::sleep_until(act_at), if loading => {
                agent.act(&mut link).await?;
                act_at = Instant::now() + agent.random.wait(agent.work.act_every);
            }
            () = tokio::time::sleep_until(switch_at), if loading => {
                agent.switch(&mut link).await?;
                switch_at = Instant::now() + agent.random.wait(agent.work.switch_every);
            }
            // Wakes the loop when the load stops, so the branches above are turned off.
            () = tokio::time::sleep_until(session.until), if loading => {}
            _ = stop.changed() => break,
        }
    }
    link.cut();
    Ok(())
}

/// Follows the inbox if the agent does, then opens every conversation it had open, each from the
/// seq it holds; the link, or `None` when the connection was lost meanwhile (the caller connects
/// again).
async fn reopen(
    mut link: Link,
    peer: Arc<Peer>,
    conversations: Arc<Vec<ConversationId>>,
) -> anyhow::Result<Option<Link>> {
    if peer.follows_inbox && !matches!(subscribe(&mut link, &peer, &conversations).await?, Answer::Done) {
        link.cut();
        return Ok(None);
    }
    let mut open_now: Vec<ConversationId> = peer.lock().open.iter().copied().collect();
    open_now.sort_unstable();
    for conversation_id in open_now {
        match open(&mut link, &peer, conversation_id).await? {
            Answer::Done => {}
            Answer::Refused(_) => {
                peer.lock().open.remove(&conversation_id);
            }
            Answer::Unanswered => {
                link.cut();
                return Ok(None);
            }
        }
    }
    Ok(Some(link))
}

impl Agent {
    fn tally(&self) -> std::sync::MutexGuard<'_, crate::stream::Figures> {
        self.peer.tally.lock()
    }

    /// One action in one of the open conversations: a reply or a note.
    async fn act(&mut self, link: &mut Link) -> anyhow::Result<()> {
        let open: Vec<ConversationId> = self.peer.lock().open.iter().copied().collect();
        if open.is_empty() {
            return Ok(());
        }
        let conversation = open[self.random.below(open.len())];
        if self.random.unit() < self.work.reply_share {
            self.reply(link, conversation).await
        } else {
            self.note(link, conversation).await
        }
    }

    /// Types a reply (claiming the conversation), sends it, and lets the claim go. Stops early
    /// when the conversation is someone else's, or when the connection is due to be cut: the
    /// cut then comes in the middle of the typing.
    async fn reply(&mut self, link: &mut Link, conversation_id: ConversationId) -> anyhow::Result<()> {
        const WORDS: [&str; 8] = ["Thanks ", "for ", "writing, ", "we ", "are ", "on ", "it ", "now."];
        let strokes = 3 + self.random.below(WORDS.len() - 3);
        let mut draft = String::new();
        // What was on screen when the agent started writing: a customer message that arrives
        // while they type is what the traffic cop is for.
        let seen = self.peer.lock().positions.held(conversation_id);
        for word in &WORDS[..strokes] {
            if Instant::now() >= self.cut_at {
                return Ok(());
            }
            draft.push_str(word);
            let typed = draft.clone();
            match link.request(|req_id| ClientMsg::Typing { req_id, conversation_id, draft: typed }).await? {
                Answer::Done => self.tally().keystrokes += 1,
                // Counted by code as it arrived (mostly `claimed_by_other`).
                Answer::Refused(_) => return Ok(()),
                Answer::Unanswered => return self.unanswered(),
            }
            tokio::time::sleep(self.work.keystroke).await;
        }
        self.replies += 1;
        let idempotency_key = format!("{}-{}", self.peer.name, self.replies);
        let send = |force: bool, seen_seq: u64| {
            let (body, idempotency_key) = (draft.clone(), idempotency_key.clone());
            move |req_id| ClientMsg::Reply {
                req_id,
                conversation_id,
                body,
                idempotency_key,
                seen_seq,
                force,
                reply_to: None,
            }
        };
        let mut answer = link.request(send(false, seen)).await?;
        if let Answer::Refused(ErrorCode::ConversationChanged) = answer {
            // What the customer wrote meanwhile is on screen now: send anyway, deliberately.
            self.tally().replies_forced += 1;
            let seen = self.peer.lock().positions.held(conversation_id);
            answer = link.request(send(true, seen)).await?;
        }
        match answer {
            Answer::Done => self.tally().replies_sent += 1,
            Answer::Refused(_) => {}
            Answer::Unanswered => return self.unanswered(),
        }
        match link.request(|req_id| ClientMsg::Release { req_id, conversation_id }).await? {
            Answer::Unanswered => self.unanswered(),
            Answer::Done | Answer::Refused(_) => Ok(()),
        }
    }

    async fn note(&mut self, link: &mut Link, conversation_id: ConversationId) -> anyhow::Result<()> {
        let body =
            format!("{} looked at this ({:.1} s in)", self.peer.name, self.peer.tally.started.elapsed().as_secs_f64());
        match link.request(|req_id| ClientMsg::AddNote { req_id, conversation_id, body }).await? {
            Answer::Done => self.tally().notes_added += 1,
            Answer::Refused(_) => {}
            Answer::Unanswered => return self.unanswered(),
        }
        Ok(())
    }

    /// Closes one open conversation and opens another from the seq held there.
    async fn switch(&mut self, link: &mut Link) -> anyhow::Result<()> {
        let open_now: Vec<ConversationId> = self.peer.lock().open.iter().copied().collect();
        if let Some(&leaving) = open_now.get(self.random.below(open_now.len())) {
            match link.request(|req_id| ClientMsg::Close { req_id, conversation_id: leaving }).await? {
                Answer::Done => {
                    self.peer.lock().open.remove(&leaving);
                    self.tally().closes_sent += 1;
                }
                Answer::Refused(_) => {}
                Answer::Unanswered => return self.unanswered(),
            }
        }
        let closed: Vec<ConversationId> = {
            let state = self.peer.lock();
            self.work.conversations.iter().copied().filter(|conversation| !state.open.contains(conversation)).collect()
        };
        let Some(&conversation_id) = closed.get(self.random.below(closed.len())) else { return Ok(()) };
        // Open before asking: its events may arrive before the answer.
        self.peer.lock().open.insert(conversation_id);
        match open(link, &self.peer, conversation_id).await? {
            Answer::Done => self.tally().opens += 1,
            Answer::Refused(_) => {
                self.peer.lock().open.remove(&conversation_id);
            }
            // Still open as far as the agent knows: reconnecting opens it again.
            Answer::Unanswered => return self.unanswered(),
        }
        Ok(())
    }

    /// A request got no answer (its connection was cut, or the server was too slow).
    fn unanswered(&self) -> anyhow::Result<()> {
        self.tally().unanswered += 1;
        Ok(())
    }
}
