//! The supervisor's live wall: every open conversation as a card — the customer, how long they
//! have waited since their last message, who is viewing, who holds the claim and the draft being
//! typed right now, or how long the claim has gone unused — with take-over and transfer; beside it
//! each team's queue and each teammate's presence and load.

use baton_shared::UserId;
use baton_shared::model::{ConversationStatus, Direction};
use baton_shared::protocol::ClientMsg;
use baton_shared::{ConversationId, api::Role};
use leptos::prelude::*;

use crate::context::Ctx;
use crate::format::{idle_for, initials, now_ms, presence_label, waited};
use crate::ws::Answer;

#[derive(Clone, PartialEq)]
struct Card {
    id: ConversationId,
    name: String,
    waiting_since: Option<i64>,
    /// Who holds the claim, and when the server last saw them use it.
    holder: Option<(UserId, String, i64)>,
    last: String,
    assignee: Option<UserId>,
    team: Option<baton_shared::TeamId>,
    sla: Option<baton_shared::sla::SlaDue>,
}

/// A card's live part: who views it, who types and what. It follows the conversation's own
/// trigger ([`crate::ws::Link::track_live`]), so a draft frame re-renders this card only.
#[derive(Clone, Default, PartialEq)]
struct Live {
    viewers: Vec<String>,
    drafts: Vec<(String, String)>,
    typing: Vec<String>,
}

#[component]
pub fn Wall() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let inbox = ctx.link.inbox;
    let error = RwSignal::new(None::<String>);
    // Claims' idle times count seconds (an unused claim lapses after a minute): a clock of the
    // wall's own, ticking every second while it is shown.
    let now = RwSignal::new(now_ms());
    if let Ok(ticker) = set_interval_with_handle(move || now.set(now_ms()), std::time::Duration::from_secs(1)) {
        on_cleanup(move || ticker.clear());
    }
    let cards = Memo::new(move |_| {
        inbox.with(|inbox| {
            let mut cards: Vec<Card> = inbox
                .conversations
                .values()
                .filter(|view| view.conversation.status != ConversationStatus::Resolved)
                .map(|view| {
                    let name = view.customer_name();
                    let waiting_since =
                        view.preview.as_ref().filter(|m| m.direction == Direction::Inbound).map(|m| m.created_at);
                    Card {
                        id: view.conversation.id,
                        name,
                        waiting_since,
                        holder: view.conversation.claim.as_ref().map(|claim| {
                            let name = if claim.yields_to_people() {
                                t!("composer.bot_name").to_string()
                            } else {
                                claim.holder_name.clone()
                            };
                            (claim.holder, name, claim.active_at)
                        }),
                        last: view.preview.as_ref().map(|m| m.body.clone()).unwrap_or_default(),
                        assignee: view.conversation.assignee,
                        team: view.conversation.team,
                        sla: view.conversation.sla,
                    }
                })
                .collect();
            // Longest-waiting customers first.
            cards.sort_by_key(|card| card.waiting_since.unwrap_or(i64::MAX));
            cards
        })
    });
    let load = move || {
        let presence = inbox.with(|inbox| inbox.presence.clone());
        let (assigned, claimed) = inbox.with(|inbox| {
            let mut assigned = std::collections::HashMap::<UserId, u32>::new();
            let mut claimed = std::collections::HashMap::<UserId, u32>::new();
            for view in
                inbox.conversations.values().filter(|view| view.conversation.status != ConversationStatus::Resolved)
            {
                if let Some(user) = view.conversation.assignee {
                    *assigned.entry(user).or_default() += 1;
                }
                if let Some(claim) = &view.conversation.claim {
                    *claimed.entry(claim.holder).or_default() += 1;
                }
            }
            (assigned, claimed)
        });
        ctx.team
            .get()
            .into_iter()
            .filter(|member| member.role != Role::Admin || presence.contains_key(&member.id))
            .map(|member| {
                let label = presence_label(presence.get(&member.id));
                (
                    member.name,
                    label,
                    assigned.get(&member.id).copied().unwrap_or(0),
                    claimed.get(&member.id).copied().unwrap_or(0),
                )
            })
            .collect::<Vec<_>>()
    };
    view! {
        <div class="wall-page">
            <section class="wall" id="wall" aria-label=t!("wall.cards").to_string()>
                <Show when=move || error.get().is_some()>
                    <p class="alert" role="alert">{move || error.get()}</p>
                </Show>
                // Keyed by conversation: a card stays (and a menu open on it stays open) while its
                // draft, viewers and claim change inside it.
                <For each=move || cards.with(|cards| cards.iter().map(|card| card.id).collect::<Vec<_>>()) key=|id| *id let:id>
                    <WallCard id=id cards=cards error=error now=now />
                </For>
                <Show when=move || cards.with(Vec::is_empty)>
                    <p class="list-empty">{t!("wall.empty").to_string()}</p>
                </Show>
            </section>
            <aside class="load" aria-label=t!("wall.load").to_string()>
                <crate::components::now_panel::NowPanel />
                <crate::components::team_queues::TeamQueues />
                <h3>{t!("wall.team").to_string()}</h3>
                <table>
                    <thead><tr><th>{t!("wall.agent").to_string()}</th><th>{t!("wall.status").to_string()}</th><th>{t!("wall.assigned").to_string()}</th><th>{t!("wall.replying").to_string()}</th></tr></thead>
                    <tbody>
                        {move || load().into_iter().map(|(name, label, assigned, claimed)| view! {
                            <tr>
                                <td>{name}</td>
                                <td><span class=format!("dot {label}")></span> {t!(format!("presence.{label}")).to_string()}</td>
                                <td>{assigned}</td>
                                <td>{claimed}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </aside>
        </div>
    }
}

#[component]
fn WallCard(
    id: ConversationId,
    cards: Memo<Vec<Card>>,
    error: RwSignal<Option<String>>,
    now: RwSignal<i64>,
) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let link = ctx.link;
    let card = Memo::new(move |_| cards.with(|cards| cards.iter().find(|card| card.id == id).cloned()));
    let live = Memo::new(move |_| {
        link.track_live(id);
        link.inbox.with(|inbox| {
            inbox
                .conversations
                .get(&id)
                .map(|view| Live {
                    viewers: view.viewers.iter().map(|viewer| viewer.name.clone()).collect(),
                    drafts: view
                        .typing
                        .iter()
                        .filter_map(|typist| {
                            view.drafts.get(&typist.id).map(|draft| (typist.name.clone(), draft.clone()))
                        })
                        .collect(),
                    typing: view.typing.iter().map(|typist| typist.name.clone()).collect(),
                })
                .unwrap_or_default()
        })
    });
    let field = move |read: fn(&Card) -> String| move || card.with(|card| card.as_ref().map(read).unwrap_or_default());
    let report = move |answer: Answer| {
        if let Err(refused) = answer {
            error.set(Some(refused.message));
        }
    };
    let take_over = move |_| link.request(move |req_id| ClientMsg::TakeOver { req_id, conversation_id: id }, report);
    let transfer = move |event: leptos::ev::Event| {
        let Ok(to) = event_target_value(&event).parse::<i64>() else { return };
        link.request(move |req_id| ClientMsg::Transfer { req_id, conversation_id: id, to: UserId(to) }, report);
    };
    // Pick to reassign: to a teammate, or back to its queue.
    let reassign = move |event: leptos::ev::Event| {
        let value = event_target_value(&event);
        let assignee = match value.as_str() {
            "" => return,
            "none" => None,
            id => match id.parse::<i64>() {
                Ok(id) => Some(UserId(id)),
                Err(_) => return,
            },
        };
        link.request(move |req_id| ClientMsg::Assign { req_id, conversation_id: id, assignee, note: None }, report);
    };
    let assignee = move || card.with(|card| card.as_ref().and_then(|card| card.assignee));
    let placed = move || {
        card.with(|card| {
            let card = card.as_ref()?;
            let team = card.team.map(|team| ctx.team_name(team));
            let who = card.assignee.map(|user| ctx.name_of(user));
            Some(match (who, team) {
                (Some(who), Some(team)) => format!("{who} · {team}"),
                (Some(who), None) => who,
                (None, Some(team)) => team,
                (None, None) => t!("conversation.unassigned").to_string(),
            })
        })
    };
    let waiting = move || {
        card.with(|card| card.as_ref().and_then(|card| card.waiting_since)).map(|since| waited(since, ctx.now.get()))
    };
    let held = move || card.with(|card| card.as_ref().is_some_and(|card| card.holder.is_some()));
    let sla = move || card.with(|card| card.as_ref().and_then(|card| card.sla));
    // Red once a target is missed (the server's breach), or its deadline passed on this clock.
    let breached = move || sla().is_some_and(|sla| sla.breached || now.get() >= sla.due_at);
    // The holder's keystrokes reach the wall as drafts, not as claim events: the last one seen
    // here counts as use too (the server counts it the same way).
    let holder_typed_at = RwSignal::new(0_i64);
    Effect::new(move |_| {
        let holder_typing = card.with(|card| {
            card.as_ref().and_then(|card| {
                let (_, holder, _) = card.holder.as_ref()?;
                Some(live.with(|live| {
                    live.typing.contains(holder) || live.drafts.iter().any(|(typist, _)| typist == holder)
                }))
            })
        });
        if holder_typing == Some(true) {
            holder_typed_at.set(now_ms());
        }
    });
    let claim_state = move || {
        card.with(|card| {
            let card = card.as_ref()?;
            let (_, holder, active_at) = card.holder.as_ref()?;
            if live.with(|live| live.typing.contains(holder)) {
                return Some(t!("wall.holder_typing", name = holder).to_string());
            }
            let used = (*active_at).max(holder_typed_at.get());
            Some(t!("wall.holder_idle", name = holder, time = idle_for(used, now.get())).to_string())
        })
    };
    let drafts = move || live.with(|live| live.drafts.clone());
    let typing_only =
        move || live.with(|live| (live.drafts.is_empty() && !live.typing.is_empty()).then(|| live.typing.join(", ")));
    let viewers = move || {
        live.with(|live| if live.viewers.is_empty() { t!("wall.nobody").to_string() } else { live.viewers.join(", ") })
    };
    view! {
        <article class="wall-card" class:breached=breached data-conversation=id.to_string()>
            <header>
                <span class="avatar small" aria-hidden="true">{move || initials(&field(|card| card.name.clone())())}</span>
                <strong>{field(|card| card.name.clone())}</strong>
                {move || waiting().map(|waiting| view! { <span class="waiting">{t!("inbox.waiting", time = waiting).to_string()}</span> })}
            </header>
            {move || sla().map(|sla| view! { <crate::components::sla::SlaChip sla=sla /> })}
            <p class="wall-last">{field(|card| card.last.clone())}</p>
            <div class="wall-row">
                <span class="label">{t!("wall.assigned").to_string()}</span>
                <span class="wall-assignee">{placed}</span>
            </div>
            <div class="wall-row">
                <span class="label">{t!("wall.viewing").to_string()}</span>
                <span class="wall-viewers">{viewers}</span>
            </div>
            <div class="wall-row">
                <span class="label">{t!("wall.claim").to_string()}</span>
                <span class="wall-holder">{move || claim_state().unwrap_or_else(|| t!("wall.free").to_string())}</span>
            </div>
            {move || drafts().into_iter().map(|(name, draft)| view! {
                <div class="live-draft wall-draft">
                    <span class="typist">{t!("wall.is_typing", name = name).to_string()}</span>
                    <span class="draft-text">{draft}</span>
                </div>
            }).collect_view()}
            {move || typing_only().map(|names| view! { <div class="typist">{t!("wall.typing", names = names).to_string()}</div> })}
            <div class="wall-actions">
                <button class="secondary take-over" on:click=take_over>{t!("wall.take_over").to_string()}</button>
                <select class="reassign" aria-label=t!("conversation.assign_to").to_string() on:change=reassign>
                    <option value="" selected=true>{t!("conversation.assign_to").to_string()}</option>
                    {move || assignee().is_some().then(|| view! { <option value="none">{t!("conversation.unassign").to_string()}</option> })}
                    {move || ctx.team.get().into_iter().filter(|member| Some(member.id) != assignee()).map(|member| view! {
                        <option value=member.id.to_string()>{member.name}</option>
                    }).collect_view()}
                </select>
                <select class="transfer-claim" aria-label=t!("wall.transfer").to_string() on:change=transfer disabled=move || !held()>
                    <option value="">{t!("wall.transfer_to").to_string()}</option>
                    {move || ctx.team.get().into_iter().map(|member| view! {
                        <option value=member.id.to_string()>{member.name}</option>
                    }).collect_view()}
                </select>
            </div>
        </article>
    }
}
