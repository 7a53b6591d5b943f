//! The wall's "now" panel: customers waiting for someone (and the longest wait), the team by
//! presence (available, busy, away, offline), and the first-response median of the last hour.
//! Waits and presence come from the live inbox model; the first responses from
//! `GET /api/reports/now`, asked again whenever a person's reply reaches the inbox (a possible
//! first response) and recomputed as the page's clock ticks (every 15 s) and old ones leave the
//! hour — no polling.

use baton_shared::api::Role;
use baton_shared::model::{ConversationStatus, Direction};
use baton_shared::reports::RecentResponses;
use leptos::prelude::*;

use crate::api;
use crate::context::Ctx;
use crate::format::{PRESENCE_LABELS, presence_label, waited};
use crate::latest::ask_latest;
use crate::pages::reports::duration;

#[component]
pub fn NowPanel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let inbox = ctx.link.inbox;
    // Open unassigned conversations (not pending: those wait for the customer): how many, since
    // when the longest.
    let waiting = Memo::new(move |_| {
        inbox.with(|inbox| {
            let since: Vec<i64> = inbox
                .conversations
                .values()
                .filter(|view| view.conversation.status == ConversationStatus::Open)
                .filter(|view| view.conversation.assignee.is_none())
                .map(|view| view.conversation.queued_at.unwrap_or(view.conversation.created_at))
                .collect();
            (since.len(), since.into_iter().min())
        })
    });
    // The team by presence: available, busy, away, offline (admins only while connected, as
    // the wall's team table has them).
    let presence = Memo::new(move |_| {
        let members = ctx.team.get();
        inbox.with(|inbox| {
            let mut counts = [0_usize; 4];
            for member in
                members.iter().filter(|member| member.role != Role::Admin || inbox.presence.contains_key(&member.id))
            {
                let label = presence_label(inbox.presence.get(&member.id));
                if let Some(slot) = PRESENCE_LABELS.iter().position(|shown| *shown == label) {
                    counts[slot] += 1;
                }
            }
            counts
        })
    });
    // The newest reply by a person anywhere in view: when it changes, a first response may have
    // ended, and the last hour's are asked for again.
    let last_reply = Memo::new(move |_| {
        inbox.with(|inbox| {
            inbox
                .conversations
                .values()
                .filter_map(|view| view.preview.as_ref())
                .filter(|message| message.direction == Direction::Outbound && message.author.is_some())
                .map(|message| message.id)
                .max()
        })
    });
    let recent = RwSignal::new(None::<RecentResponses>);
    ask_latest(
        // Read, not only tracked: a memo nobody has read never computes, so never changes.
        move || last_reply.get(),
        |_| api::report_now(),
        move |answer| {
            if let Ok(found) = answer {
                recent.set(Some(found));
            }
        },
    );
    let median = Memo::new(move |_| {
        // The page's clock ticks every 15 s; the answer's own time is newer at first.
        recent.with(|recent| {
            recent.as_ref().map_or((None, 0), |recent| recent.median_at(ctx.now.get().max(recent.as_of)))
        })
    });
    view! {
        <section class="now-panel" id="now-panel" aria-label=t!("now.title").to_string()>
            <div class="tile" id="now-waiting">
                <span class="tile-name">{t!("now.waiting").to_string()}</span>
                <strong class="tile-value">{move || waiting.get().0}</strong>
                <span class="tile-note">{move || waiting.get().1.map(|since| {
                    t!("now.longest", value = waited(since, ctx.now.get())).to_string()
                })}</span>
            </div>
            <div class="tile" id="now-agents">
                <span class="tile-name">{t!("now.agents").to_string()}</span>
                <ul class="now-presence">
                    {PRESENCE_LABELS.into_iter().enumerate().map(|(index, status)| view! {
                        <li data-status=status>
                            <span class=format!("dot {status}")></span>
                            <strong>{move || presence.get()[index]}</strong>
                            " " {t!(format!("presence.{status}")).to_string()}
                        </li>
                    }).collect_view()}
                </ul>
            </div>
            <div class="tile" id="now-first-response">
                <span class="tile-name">{t!("now.first_response").to_string()}</span>
                <strong class="tile-value">{move || median.get().0.map_or_else(|| "—".to_owned(), duration)}</strong>
                <span class="tile-note">{move || t!("now.responses", count = median.get().1).to_string()}</span>
            </div>
        </section>
    }
}
