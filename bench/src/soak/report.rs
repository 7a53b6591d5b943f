//! The end of a run: how far each socket got against the store, and the figures printed.

use std::collections::HashMap;
use std::sync::Arc;

use baton_shared::ConversationId;

use crate::link::Peer;
use crate::stream::{Defect, Figures, Role};

/// One socket that ended a conversation at another seq than the store's.
pub struct Ending {
    pub socket: String,
    pub role: Role,
    pub conversation: ConversationId,
    pub held: u64,
    pub stored: u64,
}

/// Every (socket, conversation) whose last seq held differs from the store's: sockets that
/// follow the inbox in every conversation, the others in those they have open.
pub fn endings(peers: &[Arc<Peer>], store: &HashMap<ConversationId, u64>) -> Vec<Ending> {
    let mut endings = Vec::new();
    for peer in peers {
        let state = peer.lock();
        let followed: Vec<ConversationId> = match peer.follows_inbox {
            true => store.keys().copied().collect(),
            false => state.open.iter().copied().collect(),
        };
        for conversation in followed {
            let held = state.positions.held(conversation);
            let stored = store.get(&conversation).copied().unwrap_or(0);
            if held != stored {
                endings.push(Ending { socket: peer.name.clone(), role: peer.role, conversation, held, stored });
            }
        }
    }
    endings
}

/// What the run did, besides the figures every task counted.
pub struct Run {
    pub load_seconds: f64,
    pub sockets: usize,
    pub conversations: usize,
    pub skipped_webhooks: u64,
    pub server_cpu_percent: f64,
    pub endings: Vec<Ending>,
    pub failed_tasks: Vec<String>,
}

/// Prints every figure; returns the number of defects (gaps, duplicates, out-of-order events,
/// sockets that ended behind or ahead of the store, tasks that failed), which must be 0.
pub fn print(figures: &Figures, run: &Run) -> u64 {
    let seconds = run.load_seconds.max(f64::EPSILON);
    let events: u64 = figures.events.values().sum();
    println!();
    println!(
        "== baton-soak: {:.1} min of load, {} sockets, {} conversations ==",
        seconds / 60.0,
        run.sockets,
        run.conversations
    );
    println!(
        "webhooks sent {} ({:.1}/s; {} not answered 200, {} skipped: too many waiting for an answer)",
        figures.webhooks_sent,
        figures.webhooks_sent as f64 / seconds,
        figures.webhooks_refused,
        run.skipped_webhooks,
    );
    println!(
        "replies sent {} ({:.1}/s; {} sent again with force after conversation_changed), notes {}, keystrokes {}",
        figures.replies_sent,
        figures.replies_sent as f64 / seconds,
        figures.replies_forced,
        figures.notes_added,
        figures.keystrokes
    );
    println!("agents opened {} and closed {} conversations", figures.opens, figures.closes_sent);
    println!(
        "events received {events} ({:.0}/s over all sockets); server CPU {:.0}% of a core",
        events as f64 / seconds,
        run.server_cpu_percent
    );
    for ((role, kind), count) in &figures.events {
        println!("  {:<10} {kind:<15} {count}", role.name());
    }
    let signals: Vec<String> = figures.signals.iter().map(|(kind, count)| format!("{kind} {count}")).collect();
    println!("other frames: {}", signals.join(", "));
    println!(
        "connections cut by the soak {}, reconnects {}, resyncs {}, requests unanswered {}",
        figures.cuts, figures.reconnects, figures.resyncs, figures.unanswered
    );
    let closes: Vec<String> = figures.closes.iter().map(|(code, count)| format!("{code}: {count}")).collect();
    let slow = figures.closes.get(&baton_shared::protocol::CLOSE_SLOW_CONSUMER.to_string()).copied().unwrap_or(0);
    println!(
        "connections ended by the server {} (slow consumer {slow})",
        if closes.is_empty() { "none".to_owned() } else { closes.join(", ") }
    );
    let refusals: Vec<String> = figures.refusals.iter().map(|(code, count)| format!("{code} {count}")).collect();
    println!("refusals by code: {}", if refusals.is_empty() { "none".to_owned() } else { refusals.join(", ") });
    println!("events for a conversation an agent had closed (strays after close): {}", figures.after_close);
    println!(
        "supervisors looked at {} conversations; events repeated after an open of a conversation followed through the inbox (allowed until its answer): {}",
        figures.supervisor_opens, figures.repeats
    );

    let count = |wanted: Defect| -> u64 {
        figures.defects.iter().filter(|((_, defect, _), _)| *defect == wanted).map(|(_, count)| count).sum()
    };
    let behind = run.endings.iter().filter(|ending| ending.held < ending.stored).count() as u64;
    let ahead = run.endings.iter().filter(|ending| ending.held > ending.stored).count() as u64;
    let (gaps, duplicates, out_of_order) = (count(Defect::Gap), count(Defect::Duplicate), count(Defect::OutOfOrder));
    println!();
    println!("gaps           {gaps}");
    println!("duplicates     {duplicates}");
    println!("out-of-order   {out_of_order}");
    println!("ended behind   {behind}");
    println!("ended ahead    {ahead}");
    println!("failed tasks   {}", run.failed_tasks.len());
    for ((role, defect, kind), count) in &figures.defects {
        println!("  {} {} on {kind}: {count}", role.name(), defect.name());
    }
    for sighting in &figures.sightings {
        println!(
            "  {:>7.1} s {} {}: conversation {} held {} got {} ({}), {} events into its connection",
            sighting.seconds,
            sighting.socket,
            sighting.defect.name(),
            sighting.conversation.0,
            sighting.held,
            sighting.seq,
            sighting.kind,
            sighting.since_connect
        );
    }
    for ending in run.endings.iter().take(20) {
        println!(
            "  {} ({}) ended conversation {} at seq {}, the store at {}",
            ending.socket,
            ending.role.name(),
            ending.conversation.0,
            ending.held,
            ending.stored
        );
    }
    for failure in &run.failed_tasks {
        println!("  task failed: {failure}");
    }
    gaps + duplicates + out_of_order + behind + ahead + run.failed_tasks.len() as u64
}
