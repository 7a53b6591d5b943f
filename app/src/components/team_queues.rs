//! The wall's queues: per team, how many conversations wait and the longest wait, and each member
//! with their presence and their load against their capacity there — live, from the inbox model.

use std::collections::HashMap;

use baton_shared::UserId;
use baton_shared::model::ConversationStatus;
use leptos::prelude::*;

use crate::context::Ctx;
use crate::format::{presence_label, waited};

/// One team as the wall shows it.
#[derive(Clone, PartialEq)]
struct TeamRow {
    name: String,
    waiting: usize,
    oldest: Option<i64>,
    /// Each member: name, presence, load, capacity.
    members: Vec<(String, &'static str, usize, u32)>,
}

#[component]
pub fn TeamQueues() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let inbox = ctx.link.inbox;
    let rows = Memo::new(move |_| {
        let teams = ctx.teams.get();
        inbox.with(|inbox| {
            let open =
                || inbox.conversations.values().filter(|view| view.conversation.status != ConversationStatus::Resolved);
            let mut loads: HashMap<UserId, usize> = HashMap::new();
            for view in open() {
                if let Some(user) = view.conversation.assignee {
                    *loads.entry(user).or_default() += 1;
                }
            }
            teams
                .iter()
                .map(|team| {
                    let waiting: Vec<i64> = open()
                        .filter(|view| view.conversation.team == Some(team.id) && view.conversation.assignee.is_none())
                        .map(|view| view.conversation.queued_at.unwrap_or(view.conversation.created_at))
                        .collect();
                    let members = team
                        .members
                        .iter()
                        .map(|member| {
                            let label = presence_label(inbox.presence.get(&member.user));
                            let load = loads.get(&member.user).copied().unwrap_or(0);
                            (ctx.name_of(member.user), label, load, member.capacity)
                        })
                        .collect();
                    TeamRow {
                        name: team.name.clone(),
                        waiting: waiting.len(),
                        oldest: waiting.into_iter().min(),
                        members,
                    }
                })
                .collect::<Vec<_>>()
        })
    });
    view! {
        <Show when=move || !rows.with(Vec::is_empty)>
            <h3>{t!("wall.queues").to_string()}</h3>
            <div class="team-queues" id="team-queues">
                {move || rows.get().into_iter().map(|row| {
                    let oldest = row.oldest.map(|since| move || waited(since, ctx.now.get()));
                    view! {
                        <article class="team-queue" data-team=row.name.clone() data-waiting=row.waiting.to_string()>
                            <header>
                                <strong>{row.name.clone()}</strong>
                                <span>{t!("wall.queue_waiting").to_string()} ": " {row.waiting}</span>
                                {oldest.map(|oldest| view! { <span>{t!("wall.queue_oldest").to_string()} ": " {oldest}</span> })}
                            </header>
                            <ul>
                                {row.members.into_iter().map(|(name, label, load, capacity)| {
                                    let full = load >= capacity as usize;
                                    view! {
                                    <li class:full=full>
                                        <span class=format!("dot {label}") title=t!(format!("presence.{label}")).to_string()></span>
                                        {name}
                                        <span class="load-of">{t!("wall.load_of", load = load, capacity = capacity).to_string()}</span>
                                    </li>
                                    }
                                }).collect_view()}
                            </ul>
                        </article>
                    }
                }).collect_view()}
            </div>
        </Show>
    }
}
