//! A customer's profile: their card (edited in place, live), every conversation with them the
//! user may see — newest first, with status, team, who handled it, the first and last message —
//! each opening in the inbox, and the record's audited changes.

use baton_shared::ContactId;
use baton_shared::contacts::{ContactChange, ContactProfile};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::contact_card::ContactCard;
use crate::context::Ctx;
use crate::format::clock_time;
use crate::route::Place;

#[component]
pub fn ContactProfilePage(id: ContactId) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let profile = RwSignal::new(None::<ContactProfile>);
    let changes = RwSignal::new(Vec::<ContactChange>::new());
    let error = RwSignal::new(None::<String>);
    spawn_local(async move {
        match api::contact(id).await {
            Ok(loaded) => {
                ctx.link.inbox.update(|inbox| inbox.learn_contact(loaded.record.clone()));
                profile.set(Some(loaded));
            }
            Err(failure) => error.set(Some(failure.message)),
        }
    });
    // The audit list follows the record: a change (here or a teammate's) is read again.
    let updated =
        Memo::new(move |_| ctx.link.inbox.with(|inbox| inbox.contacts.get(&id).and_then(|record| record.updated_at)));
    Effect::new(move |_| {
        updated.track();
        spawn_local(async move {
            if let Ok(loaded) = api::contact_changes(id).await {
                changes.set(loaded);
            }
        });
    });
    let editable =
        Signal::derive(move || profile.with(|profile| profile.as_ref().is_some_and(|profile| profile.editable)));
    let name = move || {
        ctx.link
            .inbox
            .with(|inbox| inbox.contacts.get(&id).map(|record| baton_shared::contacts::shown_name(&record.contact)))
            .unwrap_or_default()
    };
    view! {
        <section class="page contact-profile" id="contact-profile" data-contact=id.to_string()>
            <header class="page-head">
                <button class="link-button" on:click=move |_| ctx.go(Place::Contacts(None))>{t!("contacts.back").to_string()}</button>
                <h2>{name}</h2>
            </header>
            {move || error.get().map(|message| view! { <p class="alert" role="alert">{message}</p> })}
            <div class="profile-columns">
                <div class="profile-card">
                    <Show when=move || profile.with(|profile| profile.is_some())>
                        <ContactCard id=id editable=editable />
                    </Show>
                </div>
                <div class="profile-history">
                    <h3>{t!("contacts.conversations").to_string()}</h3>
                    <ul class="profile-conversations" id="profile-conversations">
                        {move || profile.get().map(|profile| profile.conversations.into_iter().map(|listed| {
                            let conversation = listed.id;
                            let status = listed.status.as_str();
                            let first = listed.first.map(|first| first.text).unwrap_or_default();
                            let last = listed.last.map(|last| (last.text, last.at));
                            let created = listed.created_at;
                            view! {
                                <li data-conversation=conversation.to_string()>
                                    <button class="link-button" on:click=move |_| ctx.select(Some(conversation))>
                                        <span class="status-chip" data-status=status>{t!(format!("status.{status}")).to_string()}</span>
                                        <time>{clock_time(created, ctx.now.get_untracked())}</time>
                                        {listed.team.map(|team| view! { <span class="team-chip">{ctx.team_name(team)}</span> })}
                                        {listed.handled_by.map(|name| view! { <span class="handled-by">{name}</span> })}
                                    </button>
                                    <p class="earlier-first">{first}</p>
                                    {last.map(|(text, at)| view! { <p class="hint">{format!("{} · {text}", clock_time(at, ctx.now.get_untracked()))}</p> })}
                                </li>
                            }
                        }).collect_view())}
                    </ul>
                    <h3>{t!("contacts.changes").to_string()}</h3>
                    <ul class="contact-changes" id="contact-changes">
                        {move || changes.get().into_iter().map(|change| view! {
                            <li>{t!("contacts.change",
                                by = change.by,
                                field = change.field,
                                old = change.old.unwrap_or_else(|| "—".into()),
                                new = change.new.unwrap_or_else(|| "—".into()),
                                at = clock_time(change.at, ctx.now.get_untracked())).to_string()}</li>
                        }).collect_view()}
                    </ul>
                </div>
            </div>
        </section>
    }
}
