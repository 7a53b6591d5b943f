//! The search box in the top bar: `/` focuses it from anywhere (outside a text field), Enter
//! searches, Escape closes. Results drop below it: matching customers first, then conversations
//! grouped, the one with the newest hit first, each hit's snippet with the matching words marked.
//! Opening a message hit shows its conversation scrolled to that message, marked, with the
//! history around it loaded.

use baton_shared::MessageId;
use baton_shared::contacts::shown_name;
use baton_shared::search::{HitKind, Piece, SearchGroup, SearchRequest, SearchResults};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crate::api;
use crate::context::Ctx;
use crate::format::clock_time;
use crate::route::Place;

/// A snippet with its matching words in `<mark>`.
fn snippet_view(pieces: Vec<Piece>) -> impl IntoView {
    pieces
        .into_iter()
        .map(|piece| {
            if piece.hit {
                view! { <mark>{piece.text}</mark> }.into_any()
            } else {
                view! { <span>{piece.text}</span> }.into_any()
            }
        })
        .collect_view()
}

/// Whether the key event comes from a place where `/` is typed, not a shortcut.
fn typing_in_a_field(event: &web_sys::KeyboardEvent) -> bool {
    event.target().and_then(|target| target.dyn_into::<web_sys::Element>().ok()).is_some_and(|element| {
        matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
            || element.has_attribute("contenteditable")
    })
}

#[component]
pub fn SearchBox() -> impl IntoView {
    let query = RwSignal::new(String::new());
    let results = RwSignal::new(None::<Result<SearchResults, String>>);
    let open = RwSignal::new(false);
    let input = NodeRef::<leptos::html::Input>::new();
    // Answers may come back out of order: only the latest search's is shown.
    let generation = StoredValue::new(0_u64);
    let handle = window_event_listener(leptos::ev::keydown, move |event| {
        if event.key() == "/" && !event.ctrl_key() && !event.meta_key() && !typing_in_a_field(&event) {
            event.prevent_default();
            if let Some(input) = input.get_untracked() {
                let _ = input.focus();
                input.select();
            }
        }
    });
    on_cleanup(move || handle.remove());
    let run = move || {
        let q = query.get_untracked();
        generation.update_value(|value| *value += 1);
        if q.trim().is_empty() {
            results.set(None);
            return;
        }
        let mine = generation.get_value();
        open.set(true);
        spawn_local(async move {
            let answer =
                api::search(&SearchRequest { q, ..Default::default() }).await.map_err(|failure| failure.message);
            if generation.get_value() == mine {
                results.set(Some(answer));
            }
        });
    };
    let on_key = move |event: web_sys::KeyboardEvent| match event.key().as_str() {
        // Enter that confirms a word being composed (Chinese, Japanese) is not a search.
        "Enter" if !event.is_composing() => run(),
        "Escape" => {
            open.set(false);
            if let Some(input) = input.get_untracked() {
                let _ = input.blur();
            }
        }
        _ => {}
    };
    let close = move || open.set(false);
    view! {
        <div class="search" role="search">
            <input
                id="search"
                type="search"
                node_ref=input
                placeholder=t!("search.placeholder").to_string()
                aria-label=t!("search.label").to_string()
                aria-keyshortcuts="/"
                prop:value=move || query.get()
                on:input=move |event| query.set(event_target_value(&event))
                on:keydown=on_key
            />
            <Show when=move || open.get() && results.with(Option::is_some)>
                <div class="search-results" id="search-results" role="region" aria-label=t!("search.results").to_string()>
                    <button class="link-button close-results" aria-label=t!("search.close").to_string() on:click=move |_| close()>"×"</button>
                    {move || match results.get() {
                        Some(Err(message)) => view! { <p class="alert" role="alert">{message}</p> }.into_any(),
                        Some(Ok(found)) => view! { <Found found=found on_pick=Callback::new(move |()| close()) /> }.into_any(),
                        None => ().into_any(),
                    }}
                </div>
            </Show>
        </div>
    }
}

#[component]
fn Found(found: SearchResults, on_pick: Callback<()>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let nothing = found.groups.is_empty() && found.contacts.is_empty();
    let contacts = found.contacts.clone();
    view! {
        {nothing.then(|| view! { <p class="hint">{t!("search.nothing").to_string()}</p> })}
        {(!contacts.is_empty()).then(|| view! {
            <h4>{t!("search.customers").to_string()}</h4>
            <ul class="found-contacts">
                {contacts.into_iter().map(|record| {
                    let id = record.contact.id;
                    view! {
                        <li>
                            <button class="link-button found-contact" on:click=move |_| { on_pick.run(()); ctx.go(Place::Contacts(Some(id))); }>
                                <strong>{shown_name(&record.contact)}</strong>
                                <span class="phone">{record.phone.clone()}</span>
                            </button>
                        </li>
                    }
                }).collect_view()}
            </ul>
        })}
        {(!found.groups.is_empty()).then(|| view! {
            <h4>{t!("search.conversations", count = if found.total_capped { format!("{}+", found.total) } else { found.total.to_string() }).to_string()}</h4>
            <ul class="found-groups">
                {found.groups.into_iter().map(|group| view! { <Group group=group on_pick=on_pick /> }).collect_view()}
            </ul>
        })}
    }
}

#[component]
fn Group(group: SearchGroup, on_pick: Callback<()>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let conversation = group.conversation;
    let status = group.status.as_str();
    view! {
        <li class="found-group" data-conversation=conversation.to_string()>
            <div class="found-head">
                <strong>{group.customer.clone()}</strong>
                <span class="status-chip" data-status=status>{t!(format!("status.{status}")).to_string()}</span>
                {(group.hit_count > 1).then(|| view! { <span class="hint">{t!("search.hits", count = group.hit_count).to_string()}</span> })}
            </div>
            <ul class="hits">
                {group.hits.into_iter().map(|hit| {
                    let kind = hit.kind;
                    let at = hit.at;
                    let pick = move |_| {
                        on_pick.run(());
                        match kind {
                            HitKind::Message => ctx.open_at_message(conversation, MessageId(hit.id)),
                            _ => ctx.select(Some(conversation)),
                        }
                    };
                    view! {
                        <li>
                            <button class="hit" data-kind=kind.as_str() data-hit=hit.id.to_string() on:click=pick>
                                <span class="hit-kind">{t!(format!("search.kind_{}", kind.as_str())).to_string()}</span>
                                <span class="snippet">{snippet_view(hit.snippet)}</span>
                                <time>{move || clock_time(at, ctx.now.get())}</time>
                            </button>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </li>
    }
}
