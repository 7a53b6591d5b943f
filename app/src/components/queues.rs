//! The agent's queues, above their inbox list: for each of their teams, how many conversations
//! wait and for how long; their own load against their capacity ("4 / 10"); and Take next
//! (Alt+N), which assigns them the most urgent, then longest waiting, conversation of their teams.

use baton_shared::model::ConversationStatus;
use baton_shared::protocol::{AckDetail, ClientMsg};
use baton_shared::teams::Team;
use leptos::prelude::*;

use crate::context::Ctx;
use crate::format::waited;

/// One of the agent's queues as shown.
#[derive(Clone, PartialEq)]
struct Queue {
    name: String,
    waiting: usize,
    oldest: Option<i64>,
}

#[component]
pub fn Queues() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let me = ctx.me().id;
    let inbox = ctx.link.inbox;
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let my_teams = Memo::new(move |_| {
        ctx.teams.with(|teams| {
            teams
                .iter()
                .filter(|team| team.members.iter().any(|member| member.user == me))
                .cloned()
                .collect::<Vec<Team>>()
        })
    });
    let queues = Memo::new(move |_| {
        my_teams.with(|teams| {
            inbox.with(|inbox| {
                teams
                    .iter()
                    .map(|team| {
                        let waiting: Vec<i64> = inbox
                            .conversations
                            .values()
                            .filter(|view| {
                                let conversation = &view.conversation;
                                conversation.team == Some(team.id)
                                    && conversation.assignee.is_none()
                                    && conversation.status != ConversationStatus::Resolved
                            })
                            .map(|view| view.conversation.queued_at.unwrap_or(view.conversation.created_at))
                            .collect();
                        Queue { name: team.name.clone(), waiting: waiting.len(), oldest: waiting.into_iter().min() }
                    })
                    .collect::<Vec<_>>()
            })
        })
    });
    let load = Memo::new(move |_| {
        inbox.with(|inbox| {
            inbox
                .conversations
                .values()
                .filter(|view| {
                    view.conversation.assignee == Some(me) && view.conversation.status != ConversationStatus::Resolved
                })
                .count()
        })
    });
    // The most any team of theirs lets them hold.
    let capacity = Memo::new(move |_| {
        my_teams.with(|teams| {
            teams
                .iter()
                .flat_map(|team| team.members.iter().filter(|member| member.user == me).map(|member| member.capacity))
                .max()
        })
    });
    let take_next = move || {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        ctx.link.request(
            |req_id| ClientMsg::TakeNext { req_id },
            move |answer| {
                busy.set(false);
                match answer {
                    Ok(Some(AckDetail::Conversation { conversation })) => {
                        error.set(None);
                        ctx.select(Some(conversation.id));
                    }
                    Ok(_) => error.set(None),
                    Err(refused) => error.set(Some(refused.message)),
                }
            },
        );
    };
    let keys = window_event_listener(leptos::ev::keydown, move |event| {
        if event.alt_key() && event.key().eq_ignore_ascii_case("n") && !my_teams.with_untracked(Vec::is_empty) {
            event.prevent_default();
            take_next();
        }
    });
    on_cleanup(move || keys.remove());

    view! {
        <Show when=move || !my_teams.with(Vec::is_empty)>
            <section class="queues" id="queues" aria-label=t!("queues.title").to_string()>
                <div class="queues-top">
                    <h2>{t!("queues.title").to_string()}</h2>
                    <span class="load" id="my-load">
                        {move || capacity.get().map(|capacity| t!("queues.load", load = load.get(), capacity = capacity).to_string())}
                    </span>
                </div>
                <ul>
                    {move || queues.get().into_iter().map(|queue| {
                        let oldest = queue.oldest.map(|since| move || t!("queues.oldest", time = waited(since, ctx.now.get())).to_string());
                        view! {
                            <li class="queue" data-team=queue.name.clone() data-waiting=queue.waiting.to_string()>
                                <span class="queue-name">{queue.name.clone()}</span>
                                <span class="queue-count">{t!("queues.waiting", count = queue.waiting).to_string()}</span>
                                {oldest.map(|oldest| view! { <span class="queue-oldest">{oldest}</span> })}
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <button id="take-next" class="primary" title=t!("queues.take_next_hint").to_string() disabled=move || busy.get() on:click=move |_| take_next()>
                    {t!("queues.take_next").to_string()}
                </button>
                {move || error.get().map(|message| view! { <p class="alert" role="alert">{message}</p> })}
            </section>
        </Show>
    }
}
