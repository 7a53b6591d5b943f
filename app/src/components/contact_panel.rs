//! The customer beside a conversation: their card ([`ContactCard`], edited in place, live) and
//! their earlier conversations — status, team, who handled it, when, the first message — each
//! expandable inline into its messages, or opened.

use baton_shared::contacts::{ContactConversation, ContactProfile};
use baton_shared::model::{Direction, Message};
use baton_shared::search::message_text;
use baton_shared::{ContactId, ConversationId};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::contact_card::ContactCard;
use crate::api;
use crate::context::Ctx;
use crate::format::clock_time;

#[component]
pub fn ContactPanel(id: ConversationId) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let contact = Memo::new(move |_| {
        ctx.link.inbox.with(|inbox| inbox.conversations.get(&id).map(|view| view.conversation.contact.id))
    });
    let profile = RwSignal::new(None::<ContactProfile>);
    let error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        let Some(contact) = contact.get() else { return };
        spawn_local(async move {
            match api::contact(contact).await {
                Ok(loaded) => {
                    ctx.link.inbox.update(|inbox| inbox.learn_contact(loaded.record.clone()));
                    error.set(None);
                    profile.set(Some(loaded));
                }
                Err(failure) => error.set(Some(failure.message)),
            }
        });
    });
    let editable =
        Signal::derive(move || profile.with(|profile| profile.as_ref().is_some_and(|profile| profile.editable)));
    let earlier = move || {
        profile.with(|profile| {
            profile
                .as_ref()
                .map(|profile| {
                    profile.conversations.iter().filter(|listed| listed.id != id).cloned().collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    view! {
        <section class="contact-panel" id="contact-panel" aria-label=t!("contact.panel").to_string()>
            <h3>
                {t!("contact.title").to_string()}
                {move || contact.get().map(|contact| view! {
                    <button class="link-button open-profile" on:click=move |_| ctx.go(crate::route::Place::Contacts(Some(contact)))>
                        {t!("contact.open_profile").to_string()}
                    </button>
                })}
            </h3>
            {move || error.get().map(|message| view! { <p class="alert" role="alert">{message}</p> })}
            {move || contact.get().map(|contact: ContactId| view! { <ContactCard id=contact editable=editable /> })}
            <h3>{t!("contact.earlier").to_string()}</h3>
            <ul class="earlier-conversations" id="earlier-conversations">
                <For each=earlier key=|listed| listed.id let:listed>
                    <EarlierConversation listed=listed />
                </For>
            </ul>
            <Show when=move || profile.with(|profile| profile.is_some()) && earlier().is_empty()>
                <p class="hint">{t!("contact.no_earlier").to_string()}</p>
            </Show>
        </section>
    }
}

/// One earlier conversation: a summary line, its messages shown inline on request.
#[component]
pub fn EarlierConversation(listed: ContactConversation) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let id = listed.id;
    let open = RwSignal::new(false);
    let messages = RwSignal::new(None::<Result<Vec<Message>, String>>);
    let toggle = move |_| {
        open.update(|open| *open = !*open);
        if open.get_untracked() && messages.get_untracked().is_none() {
            spawn_local(async move {
                let loaded =
                    api::conversation(id).await.map(|detail| detail.messages).map_err(|failure| failure.message);
                messages.set(Some(loaded));
            });
        }
    };
    let when = listed.created_at;
    let first = listed.first.as_ref().map(|first| first.text.clone()).unwrap_or_default();
    let handled = listed.handled_by.clone();
    let team = listed.team.map(|team| ctx.team_name(team));
    view! {
        <li class="earlier" data-conversation=id.to_string()>
            <div class="earlier-line">
                <span class="status-chip" data-status=listed.status.as_str()>{t!(format!("status.{}", listed.status.as_str())).to_string()}</span>
                <time>{move || clock_time(when, ctx.now.get())}</time>
                {team.map(|team| view! { <span class="team-chip">{team}</span> })}
                {handled.map(|name| view! { <span class="handled-by">{name}</span> })}
            </div>
            <p class="earlier-first">{first}</p>
            <div class="earlier-actions">
                <button class="link-button expand" aria-expanded=move || open.get().to_string() on:click=toggle>
                    {move || if open.get() { t!("contact.hide_messages") } else { t!("contact.show_messages") }.to_string()}
                </button>
                <button class="link-button" on:click=move |_| ctx.select(Some(id))>{t!("contact.open").to_string()}</button>
            </div>
            <Show when=move || open.get()>
                {move || match messages.get() {
                    None => view! { <p class="hint">{t!("contact.loading").to_string()}</p> }.into_any(),
                    Some(Err(message)) => view! { <p class="alert" role="alert">{message}</p> }.into_any(),
                    Some(Ok(list)) => view! {
                        <ol class="earlier-messages">
                            {list.into_iter().map(|message| {
                                let inbound = message.direction == Direction::Inbound;
                                view! { <li class:inbound=inbound class:outbound=!inbound>{message_text(&message)}</li> }
                            }).collect_view()}
                        </ol>
                    }.into_any(),
                }}
            </Show>
        </li>
    }
}
