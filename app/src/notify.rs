//! Telling the user about things outside the conversation they look at: a browser notification
//! and a short chime for a new customer message in a conversation assigned to them or in a new
//! unassigned one (only after they turned it on — permission is asked when they click the bell,
//! never on page load), and in-page toasts for @mentions and channel alerts.

use std::collections::HashSet;

use baton_shared::MessageId;
use baton_shared::model::Direction;
use leptos::prelude::*;

use crate::context::Ctx;
use crate::icons::{Icon, icon};
use crate::state::Notice;

const SETTING: &str = "baton.notifications";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn enabled() -> bool {
    storage().and_then(|storage| storage.get_item(SETTING).ok().flatten()).as_deref() == Some("on")
}

fn remember(on: bool) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(SETTING, if on { "on" } else { "off" });
    }
}

/// Watches the inbox and notifies about new customer messages the user should see to.
pub fn watch(ctx: Ctx) {
    let me = ctx.me().id;
    // Messages already known when the app loaded are not news.
    let mut seen: Option<HashSet<MessageId>> = None;
    Effect::new(move |_| {
        let fresh: Option<Vec<(MessageId, String, String)>> = ctx.link.inbox.with(|inbox| {
            // Until the list is loaded, what arrives is what was already there, not news.
            inbox.list_loaded.then(|| {
                inbox
                    .conversations
                    .values()
                    .filter(|view| view.conversation.assignee.is_none_or(|assignee| assignee == me))
                    // A blocked customer's messages are kept, not announced.
                    .filter(|view| !view.conversation.contact.blocked)
                    .filter_map(|view| {
                        let message = view.preview.as_ref()?;
                        (message.direction == Direction::Inbound).then(|| {
                            let who = view.customer_name();
                            (message.id, who, message.body.clone())
                        })
                    })
                    .collect()
            })
        });
        let Some(fresh) = fresh else { return };
        let known = seen.get_or_insert_with(|| fresh.iter().map(|(id, ..)| *id).collect());
        for (id, who, body) in fresh {
            if known.insert(id) && enabled() {
                show(&who, &body);
            }
        }
    });
}

fn show(title: &str, body: &str) {
    let options = web_sys::NotificationOptions::new();
    options.set_body(body);
    options.set_tag("baton-message");
    let _ = web_sys::Notification::new_with_options(title, &options);
    chime();
}

/// A short two-note chime, made on the spot (no sound file to fetch).
fn chime() {
    let Ok(audio) = web_sys::AudioContext::new() else { return };
    for (index, frequency) in [880.0_f32, 1320.0].into_iter().enumerate() {
        let (Ok(oscillator), Ok(gain)) = (audio.create_oscillator(), audio.create_gain()) else { return };
        oscillator.frequency().set_value(frequency);
        let start = audio.current_time() + index as f64 * 0.12;
        let _ = gain.gain().set_value_at_time(0.15, start);
        let _ = gain.gain().exponential_ramp_to_value_at_time(0.001, start + 0.25);
        let _ = oscillator.connect_with_audio_node(&gain);
        let _ = gain.connect_with_audio_node(&audio.destination());
        let _ = oscillator.start_with_when(start);
        let _ = oscillator.stop_with_when(start + 0.3);
    }
}

/// The bell in the top bar: turns notifications on (asking the browser's permission then) or off.
#[component]
pub fn Toggle() -> impl IntoView {
    let on = RwSignal::new(enabled());
    let toggle = move |_| {
        if on.get_untracked() {
            remember(false);
            on.set(false);
            return;
        }
        remember(true);
        on.set(true);
        let _ = web_sys::Notification::request_permission();
    };
    view! {
        <button
            id="notifications"
            class="icon-button"
            title=move || if on.get() { t!("notify.on") } else { t!("notify.off") }.to_string()
            aria-pressed=move || on.get().to_string()
            on:click=toggle
        >
            {move || if on.get() { icon(Icon::Bell) } else { icon(Icon::BellOff) }}
        </button>
    }
}

/// How long a mention's notice stays: long enough to read, not so long that notices pile up.
const MENTION_SHOWN_FOR: std::time::Duration = std::time::Duration::from_secs(8);

/// Mentions (each names its conversation, opens it when clicked, and goes away by itself) and
/// channel alerts (until dismissed), clear of the composer and the conversation header (`style.css`).
#[component]
pub fn Toasts() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let inbox = ctx.link.inbox;
    // Each mention's notice expires once: its timer is set when it first shows.
    let timed = StoredValue::new(HashSet::<u64>::new());
    Effect::new(move |_| {
        let mentions: Vec<u64> = inbox.with(|inbox| {
            inbox
                .notices
                .iter()
                .filter(|posted| matches!(posted.notice, Notice::Mentioned { .. }))
                .map(|posted| posted.id)
                .collect()
        });
        for id in mentions {
            if timed.try_update_value(|timed| timed.insert(id)).unwrap_or(false) {
                set_timeout(move || inbox.update(|inbox| inbox.dismiss(id)), MENTION_SHOWN_FOR);
            }
        }
    });
    view! {
        <div class="toasts" aria-live="polite">
            <For each=move || inbox.with(|inbox| inbox.notices.clone()) key=|posted| posted.id let:posted>
                {
                    let id = posted.id;
                    let dismiss = move |_| inbox.update(|inbox| inbox.dismiss(id));
                    let text = match &posted.notice {
                        Notice::Mentioned { conversation, customer, by } => {
                            let conversation = *conversation;
                            let place = customer.clone().unwrap_or_else(|| t!("notify.a_conversation").to_string());
                            let open = move |_| {
                                ctx.open_conversation(conversation);
                                inbox.update(|inbox| inbox.dismiss(id));
                            };
                            view! {
                                <button class="link-button toast-open" data-conversation=conversation.to_string() on:click=open>
                                    {t!("notify.mentioned", name = by.name, place = place).to_string()}
                                </button>
                            }
                            .into_any()
                        }
                        Notice::ChannelAlert { message, .. } => view! { <span>{message.clone()}</span> }.into_any(),
                        Notice::FollowUp { conversation, customer } => {
                            let conversation = *conversation;
                            let open = move |_| {
                                ctx.open_conversation(conversation);
                                inbox.update(|inbox| inbox.dismiss(id));
                            };
                            view! {
                                <button class="link-button toast-open" data-conversation=conversation.to_string() on:click=open>
                                    {t!("notify.follow_up", customer = customer.clone()).to_string()}
                                </button>
                            }
                            .into_any()
                        }
                        Notice::SlaBreached { conversation, customer, target } => {
                            let conversation = *conversation;
                            let open = move |_| {
                                ctx.open_conversation(conversation);
                                inbox.update(|inbox| inbox.dismiss(id));
                            };
                            let target = t!(format!("sla.{}", target.as_str())).to_string();
                            view! {
                                <button class="link-button toast-open sla-alert" data-conversation=conversation.to_string() on:click=open>
                                    {t!("notify.sla_breached", customer = customer.clone(), target = target).to_string()}
                                </button>
                            }
                            .into_any()
                        }
                    };
                    view! {
                        <div class="toast" role="status" data-notice=id.to_string()>
                            {text}
                            <button class="link-button dismiss" aria-label=t!("notify.dismiss").to_string() on:click=dismiss>"×"</button>
                        </div>
                    }
                }
            </For>
        </div>
    }
}
