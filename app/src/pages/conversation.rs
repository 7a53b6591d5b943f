//! One open conversation: its header (customer, status, who is viewing, who holds the claim,
//! assignment actions), the timeline, the composer and the notes beside them. Opening it tells
//! the server (viewers, read receipts) and loads its history; closing it says so too.

use baton_shared::ConversationId;
use baton_shared::UserId;
use baton_shared::model::{ConversationStatus, Priority};
use baton_shared::protocol::ClientMsg;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::composer::Composer;
use crate::components::contact_panel::ContactPanel;
use crate::components::labels::Labels;
use crate::components::notes::NotesPanel;
use crate::components::quote::QuoteTarget;
use crate::components::timeline::Timeline;
use crate::context::Ctx;
use crate::format::initials;

/// Loads the conversation's history into the inbox, again while the stream has moved past what
/// was read (each answer is at least as new as the request, so this ends quickly).
async fn load_history(ctx: Ctx, id: ConversationId, error: RwSignal<Option<String>>, loading: StoredValue<bool>) {
    for _ in 0..20 {
        match api::conversation(id).await {
            Ok(detail) => {
                let mut accepted = false;
                ctx.link.inbox.update(|inbox| accepted = inbox.load_detail(detail));
                if accepted {
                    error.set(None);
                    break;
                }
            }
            Err(failure) => {
                error.set(Some(failure.message));
                break;
            }
        }
    }
    loading.set_value(false);
}

#[component]
pub fn ConversationPane(id: ConversationId, on_back: Callback<()>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let link = ctx.link;
    let error = RwSignal::new(None::<String>);
    link.forget_when_live(error);
    provide_context(QuoteTarget(RwSignal::new(None)));
    link.inbox.update(|inbox| inbox.set_open(Some(id)));
    link.announce_open(id);
    // Loaded now, again after a reconnect, and again when a resync dropped it — one load at a time.
    let loading = StoredValue::new(false);
    let loaded = Memo::new(move |_| {
        link.inbox.with(|inbox| inbox.conversations.get(&id).is_some_and(|view| view.history_loaded))
    });
    Effect::new(move |previous: Option<u32>| {
        let resumed = link.resumed.get();
        let reconnected = previous.is_some_and(|was| was != resumed);
        if (reconnected || !loaded.get()) && !loading.get_value() {
            loading.set_value(true);
            spawn_local(load_history(ctx, id, error, loading));
        }
        resumed
    });
    on_cleanup(move || {
        link.inbox.update(|inbox| {
            if inbox.open == Some(id) {
                inbox.set_open(None);
            }
        });
        link.send(|req_id| ClientMsg::Close { req_id, conversation_id: id });
    });

    let exists = move || link.inbox.with(|inbox| inbox.conversations.contains_key(&id));
    let blocked = move || {
        link.inbox.with(|inbox| inbox.conversations.get(&id).is_some_and(|view| view.conversation.contact.blocked))
    };
    view! {
        <Show
            when=exists
            fallback=|| view! { <section class="no-conversation"><p>{t!("conversation.gone").to_string()}</p></section> }
        >
            <section class="conversation" data-conversation=id.to_string()>
                <Header id=id error=error on_back=on_back />
                <Show when=move || error.get().is_some()>
                    <p class="alert" role="alert">{move || error.get()}</p>
                </Show>
                <Show when=blocked>
                    <p class="blocked-banner" id="blocked-banner" role="status">{t!("contact.blocked_banner").to_string()}</p>
                </Show>
                <Timeline id=id />
                <Composer id=id />
            </section>
            <aside class="side" aria-label=t!("conversation.side").to_string()>
                <ContactPanel id=id />
                <NotesPanel id=id />
            </aside>
        </Show>
    }
}

#[component]
fn Header(id: ConversationId, error: RwSignal<Option<String>>, on_back: Callback<()>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let link = ctx.link;
    let me = ctx.me().id;
    // What the header shows, without `last_seq`: it is rebuilt when that changes, not per event.
    let conversation = Memo::new(move |_| {
        link.inbox.with(|inbox| {
            inbox.conversations.get(&id).map(|view| {
                let mut conversation = view.conversation.clone();
                conversation.last_seq = 0;
                conversation.last_message_at = None;
                conversation.claim = None;
                conversation
            })
        })
    });
    let conversation = move || conversation.get();
    let viewers = move || {
        link.track_live(id);
        link.inbox.with(|inbox| inbox.conversations.get(&id).map(|view| view.viewers.clone()).unwrap_or_default())
    };
    let report = move |answer: crate::ws::Answer| {
        if let Err(refused) = answer {
            error.set(Some(refused.message));
        } else {
            error.set(None);
        }
    };
    let set_status = move |status: ConversationStatus| {
        link.request(move |req_id| ClientMsg::SetStatus { req_id, conversation_id: id, status, until: None }, report);
    };
    let assign = move |assignee: Option<UserId>, note: Option<String>| {
        link.request(move |req_id| ClientMsg::Assign { req_id, conversation_id: id, assignee, note }, report);
    };
    let transfer_to = RwSignal::new(String::new());
    let transfer_note = RwSignal::new(String::new());
    let do_transfer = move |_| {
        let Ok(to) = transfer_to.get_untracked().parse::<i64>() else { return };
        let note = Some(transfer_note.get_untracked()).filter(|note| !note.trim().is_empty());
        assign(Some(UserId(to)), note);
        transfer_note.set(String::new());
    };
    view! {
        {move || {
            conversation()
                .map(|conversation| {
                    let contact = conversation.contact.clone();
                    let name = crate::state::customer_name(&contact);
                    let assignee = conversation.assignee.map(|user| ctx.name_of(user));
                    let status = conversation.status;
                    view! {
                        <header class="conversation-header">
                            <button class="back-button link-button" aria-label=t!("conversation.back").to_string() on:click=move |_| on_back.run(())>"←"</button>
                            <span class="avatar" aria-hidden="true">{initials(&name)}</span>
                            <div class="customer">
                                <div class="customer-name" id="customer-name">{name.clone()}</div>
                                <div class="customer-phone">{format!("+{}", contact.wa_id)}</div>
                            </div>
                            <span class="status-chip" data-status=status.as_str()>{t!(format!("status.{}", status.as_str())).to_string()}</span>
                            {conversation.snoozed_until.map(|until| view! {
                                <span class="snoozed" id="snoozed-until">{t!("conversation.snoozed_until", until = crate::format::date_time(until)).to_string()}</span>
                            })}
                            {conversation.sla.map(|sla| view! { <crate::components::sla::SlaChip sla=sla /> })}
                            <span class="assignee" id="assignee">
                                {assignee.map(|name| t!("conversation.assigned_to", name = name).to_string()).unwrap_or_else(|| t!("conversation.unassigned").to_string())}
                            </span>
                            <div class="actions">
                                {(conversation.assignee != Some(me)).then(|| view! {
                                    <button id="assign-me" class="secondary" on:click=move |_| assign(Some(me), None)>{t!("conversation.assign_me").to_string()}</button>
                                })}
                                // Open → pending (waiting on someone) or resolved; both reopen.
                                {(status == ConversationStatus::Open).then(|| view! {
                                    <button id="set-pending" class="secondary" title=t!("conversation.pending_hint").to_string() on:click=move |_| set_status(ConversationStatus::Pending)>{t!("conversation.set_pending").to_string()}</button>
                                })}
                                {(status != ConversationStatus::Resolved).then(|| view! {
                                    <crate::components::sla::SnoozePicker id=id on_answer=report />
                                })}
                                {(status != ConversationStatus::Open).then(|| view! {
                                    <button id="reopen" class="secondary" on:click=move |_| set_status(ConversationStatus::Open)>{t!("conversation.reopen").to_string()}</button>
                                })}
                                {(status != ConversationStatus::Resolved).then(|| view! {
                                    <button id="resolve" class="secondary" on:click=move |_| set_status(ConversationStatus::Resolved)>{t!("conversation.resolve").to_string()}</button>
                                })}
                            </div>
                        </header>
                    }
                })
        }}
        <div class="subheader">
            <div class="viewers" id="viewers" aria-label=t!("conversation.viewing").to_string()>
                {move || {
                    viewers()
                        .into_iter()
                        .filter(|viewer| viewer.id != me)
                        .map(|viewer| view! {
                            <span class="avatar tiny viewer" title=t!("conversation.is_viewing", name = viewer.name).to_string() data-user=viewer.id.to_string()>
                                {initials(&viewer.name)}
                            </span>
                        })
                        .collect_view()
                }}
            </div>
            <Placement id=id error=error />
            <Labels id=id error=error />
            <details class="transfer">
                <summary>{t!("conversation.assign_to").to_string()}</summary>
                <select id="transfer-to" aria-label=t!("conversation.teammate").to_string() on:change=move |event| transfer_to.set(event_target_value(&event))>
                    <option value="">{t!("conversation.choose").to_string()}</option>
                    {move || ctx.team.get().into_iter().map(|member| view! {
                        <option value=member.id.to_string()>{member.name.clone()}</option>
                    }).collect_view()}
                </select>
                <input
                    id="transfer-note"
                    aria-label=t!("conversation.note_for_them").to_string()
                    placeholder=t!("conversation.note_for_them").to_string()
                    prop:value=transfer_note
                    on:input=move |event| transfer_note.set(event_target_value(&event))
                />
                <button id="transfer" class="secondary" on:click=do_transfer>{t!("conversation.assign").to_string()}</button>
                <button class="link-button" on:click=move |_| assign(None, None)>{t!("conversation.unassign").to_string()}</button>
            </details>
        </div>
    }
}

/// The conversation's team (its queue) and priority, each a menu; a move to another team returns
/// it to that team's queue.
#[component]
fn Placement(id: ConversationId, error: RwSignal<Option<String>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let link = ctx.link;
    let placement = Memo::new(move |_| {
        link.inbox
            .with(|inbox| inbox.conversations.get(&id).map(|view| (view.conversation.team, view.conversation.priority)))
    });
    let report = move |answer: crate::ws::Answer| error.set(answer.err().map(|refused| refused.message));
    let set_team = move |event: leptos::ev::Event| {
        let team = event_target_value(&event).parse::<i64>().ok().map(baton_shared::TeamId);
        link.request(move |req_id| ClientMsg::SetTeam { req_id, conversation_id: id, team }, report);
    };
    let set_priority = move |event: leptos::ev::Event| {
        let Some(priority) = Priority::parse(&event_target_value(&event)) else { return };
        link.request(move |req_id| ClientMsg::SetPriority { req_id, conversation_id: id, priority }, report);
    };
    view! {
        {move || placement.get().map(|(team, priority)| view! {
            <span class="placement">
                <select id="team-select" aria-label=t!("conversation.team").to_string() on:change=set_team>
                    <option value="" selected=team.is_none()>{t!("conversation.general").to_string()}</option>
                    {ctx.teams.get().into_iter().map(|known| view! {
                        <option value=known.id.to_string() selected=team == Some(known.id)>{known.name.clone()}</option>
                    }).collect_view()}
                </select>
                <select id="priority-select" aria-label=t!("conversation.priority").to_string() on:change=set_priority>
                    {Priority::ALL.into_iter().map(|option| view! {
                        <option value=option.as_str() selected=option == priority>{t!(format!("priority.{}", option.as_str())).to_string()}</option>
                    }).collect_view()}
                </select>
            </span>
        })}
    }
}
