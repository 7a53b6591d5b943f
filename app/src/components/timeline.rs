//! The WhatsApp timeline of one conversation: every message kind rendered faithfully (text with
//! line breaks and safe links, media inline, documents, voice notes, locations, contact cards,
//! choices, quoted replies, reactions on their message, unsupported messages explained), with
//! delivery ticks that change live and a failed message's reason and retry button. Long histories
//! show their newest 100 messages first; earlier ones load on request.
//!
//! Everything from the customer is rendered as text nodes: Leptos escapes it, and only `http(s)`
//! URLs ever become links.

use std::collections::HashMap;

use baton_shared::ConversationId;
use baton_shared::model::{DeliveryStatus, Direction, Message, MessageContent};
use baton_shared::protocol::ClientMsg;
use leptos::prelude::*;

use crate::context::Ctx;
use crate::format::{Segment, clock_time, segments, ticks};
use crate::icons::{Icon, icon};

const PAGE: usize = 100;
/// Messages shown before a search hit brought into view.
const FOCUS_CONTEXT: usize = 20;

/// Message text: plain text nodes and `http(s)` links that open in a new tab without a referrer.
pub fn rich_text(text: &str) -> impl IntoView + use<> {
    segments(text)
        .into_iter()
        .map(|segment| match segment {
            Segment::Text(text) => view! { <span>{text}</span> }.into_any(),
            Segment::Link(url) => {
                let href = url.clone();
                view! { <a href=href target="_blank" rel="noopener noreferrer nofollow">{url}</a> }.into_any()
            }
        })
        .collect_view()
}

/// One bubble as rendered: the message, the one it quotes, and the reactions on it.
#[derive(Clone, PartialEq)]
struct Shown {
    message: Message,
    quoted: Option<Message>,
    reactions: Vec<String>,
}

/// One row of the timeline: a message, or a line saying where the conversation went.
#[derive(Clone, PartialEq)]
enum Entry {
    Message(Box<Shown>),
    Line { seq: u64, at: i64, text: String },
}

/// What makes a row rebuild when it changes (a message's status or reactions, a line's text).
#[derive(Clone, PartialEq, Eq, Hash)]
enum EntryKey {
    Message(baton_shared::MessageId, DeliveryStatus, Vec<String>, bool),
    Line(u64, String),
}

impl Entry {
    fn at(&self) -> i64 {
        match self {
            Entry::Message(shown) => shown.message.sent_at,
            Entry::Line { at, .. } => *at,
        }
    }

    fn key(&self) -> EntryKey {
        match self {
            Entry::Message(shown) => EntryKey::Message(
                shown.message.id,
                shown.message.status,
                shown.reactions.clone(),
                shown.quoted.is_some(),
            ),
            Entry::Line { seq, text, .. } => EntryKey::Line(*seq, text.clone()),
        }
    }
}

/// The visible messages (reactions become decorations of their target), newest `limit`.
fn shown_messages(all: &[Message], limit: usize) -> Vec<Shown> {
    let by_wamid: HashMap<&str, &Message> =
        all.iter().filter_map(|message| message.wa_message_id.as_deref().map(|wamid| (wamid, message))).collect();
    // The newest reaction from each side on each message counts; an empty one takes it back.
    let mut latest: HashMap<(&str, Direction), Option<&str>> = HashMap::new();
    for message in all {
        if let Some(MessageContent::Reaction { target, emoji }) = message.content.as_deref() {
            latest.insert((target.as_str(), message.direction), emoji.as_deref().filter(|emoji| !emoji.is_empty()));
        }
    }
    let visible: Vec<&Message> = all.iter().filter(|message| !is_reaction(message)).collect();
    let skip = visible.len().saturating_sub(limit);
    visible
        .into_iter()
        .skip(skip)
        .map(|message| {
            let wamid = message.wa_message_id.as_deref().unwrap_or_default();
            let reactions = [Direction::Inbound, Direction::Outbound]
                .into_iter()
                .filter_map(|side| latest.get(&(wamid, side)).copied().flatten().map(str::to_owned))
                .collect();
            let quoted = message.reply_to.as_deref().and_then(|quoted| by_wamid.get(quoted)).map(|m| (*m).clone());
            Shown { message: message.clone(), quoted, reactions }
        })
        .collect()
}

#[component]
pub fn Timeline(id: ConversationId) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let shown = RwSignal::new(PAGE);
    let messages = Memo::new(move |_| {
        ctx.link.inbox.with(|inbox| inbox.conversations.get(&id).map(|view| view.messages.clone()).unwrap_or_default())
    });
    let total = move || messages.with(|messages| messages.iter().filter(|m| !is_reaction(m)).count());
    let has_earlier = Memo::new(move |_| {
        ctx.link.inbox.with(|inbox| inbox.conversations.get(&id).is_some_and(|view| view.has_earlier))
    });
    let fetching = RwSignal::new(false);
    let earlier_error = RwSignal::new(None::<String>);
    // Older messages: first those held but not shown, then a page from the server.
    let show_earlier = move |_| {
        let held_hidden = total() > shown.get_untracked();
        shown.update(|n| *n += PAGE);
        if held_hidden || fetching.get_untracked() {
            return;
        }
        // The earliest held in timeline order: the server's page is what is placed before it.
        let Some(first) = messages.with_untracked(|messages| messages.first().map(|message| message.seq)) else {
            return;
        };
        fetching.set(true);
        leptos::task::spawn_local(async move {
            match crate::api::messages_before(id, first).await {
                Ok(page) => {
                    earlier_error.set(None);
                    ctx.link.inbox.update(|inbox| inbox.prepend_earlier(id, page));
                }
                Err(failure) => earlier_error.set(Some(failure.message)),
            }
            fetching.set(false);
        });
    };
    let bubbles = Memo::new(move |_| messages.with(|all| shown_messages(all, shown.get())));
    let routing = Memo::new(move |_| {
        ctx.link.inbox.with(|inbox| inbox.conversations.get(&id).map(|view| view.routing.clone()).unwrap_or_default())
    });
    // The messages with the routing lines between them, by time; lines from before the first
    // message shown wait until earlier messages are.
    let entries = Memo::new(move |_| {
        let bubbles = bubbles.get();
        let earlier = has_earlier.get() || total() > shown.get();
        let from = bubbles.first().map(|first| first.message.sent_at).filter(|_| earlier).unwrap_or(i64::MIN);
        let mut entries: Vec<Entry> = routing.with(|events| {
            events
                .iter()
                .filter(|event| event.at >= from)
                .filter_map(|event| {
                    super::routing_line::describe(&ctx, event).map(|text| Entry::Line {
                        seq: event.seq,
                        at: event.at,
                        text,
                    })
                })
                .collect()
        });
        entries.extend(bubbles.into_iter().map(|shown| Entry::Message(Box::new(shown))));
        entries.sort_by_key(Entry::at);
        entries
    });
    let scroller = NodeRef::<leptos::html::Div>::new();
    // Follow new messages only while the agent is at the bottom: someone reading older messages
    // is not pulled away, by a new message or a tick changing.
    let at_bottom = StoredValue::new(true);
    let on_scroll = move |_| {
        if let Some(element) = scroller.get_untracked() {
            at_bottom.set_value(element.scroll_height() - element.scroll_top() - element.client_height() < 80);
        }
    };
    Effect::new(move |previous: Option<usize>| {
        let count = messages.with(Vec::len);
        if previous.is_none_or(|previous| count > previous)
            && at_bottom.get_value()
            && let Some(element) = scroller.get()
        {
            request_animation_frame(move || element.set_scroll_top(element.scroll_height()));
        }
        count
    });
    // A search hit to show: the history around it is loaded (earlier pages until it is held),
    // then it is scrolled to the middle and marked.
    let loaded = Memo::new(move |_| {
        ctx.link.inbox.with(|inbox| inbox.conversations.get(&id).is_some_and(|view| view.history_loaded))
    });
    // Scrolled to once: what arrives afterwards does not pull the view back.
    let scrolled = StoredValue::new(None::<baton_shared::MessageId>);
    Effect::new(move |_| {
        let Some((conversation, target)) = ctx.focus_message.get() else { return };
        if conversation != id || !loaded.get() || scrolled.get_value() == Some(target) {
            return;
        }
        // (messages from it to the newest, messages held before it)
        let position = messages.with(|all| {
            let visible: Vec<&Message> = all.iter().filter(|message| !is_reaction(message)).collect();
            visible.iter().position(|message| message.id == target).map(|at| (visible.len() - at, at))
        });
        let fetch_earlier = move || {
            let Some(first) = messages.with_untracked(|all| all.first().map(|message| message.seq)) else { return };
            fetching.set(true);
            leptos::task::spawn_local(async move {
                match crate::api::messages_before(id, first).await {
                    Ok(page) => ctx.link.inbox.update(|inbox| inbox.prepend_earlier(id, page)),
                    Err(failure) => earlier_error.set(Some(failure.message)),
                }
                fetching.set(false);
            });
        };
        match position {
            // Some of what came before it too, so the hit is read in its context.
            Some((_, before)) if before < FOCUS_CONTEXT && has_earlier.get() && !fetching.get_untracked() => {
                fetch_earlier()
            }
            Some((from_end, before)) => {
                let wanted = from_end + before.min(FOCUS_CONTEXT);
                if wanted > shown.get_untracked() {
                    shown.set(wanted);
                }
                at_bottom.set_value(false);
                scrolled.set_value(Some(target));
                request_animation_frame(move || {
                    let selector = format!("[data-message=\"{target}\"]");
                    let found =
                        scroller.get_untracked().and_then(|element| element.query_selector(&selector).ok().flatten());
                    if let Some(bubble) = found {
                        let options = web_sys::ScrollIntoViewOptions::new();
                        options.set_block(web_sys::ScrollLogicalPosition::Center);
                        bubble.scroll_into_view_with_scroll_into_view_options(&options);
                    }
                });
            }
            None if has_earlier.get() && !fetching.get_untracked() => fetch_earlier(),
            None => {}
        }
    });
    // Leaving the conversation forgets its mark (another's, just chosen, stays).
    on_cleanup(move || {
        if ctx.focus_message.get_untracked().is_some_and(|(conversation, _)| conversation == id) {
            ctx.focus_message.set(None);
        }
    });
    view! {
        <div class="timeline" id="timeline" node_ref=scroller on:scroll=on_scroll>
            <Show when=move || { total() > shown.get() || has_earlier.get() }>
                <button id="earlier" class="link-button earlier" on:click=show_earlier disabled=move || fetching.get()>
                    {move || if fetching.get() { t!("timeline.loading_earlier") } else { t!("timeline.earlier") }.to_string()}
                </button>
            </Show>
            {move || earlier_error.get().map(|message| view! { <p class="alert" role="alert">{message}</p> })}
            // Keyed by what a bubble shows: a new message or a tick adds or rebuilds one bubble,
            // and a voice note playing in another keeps playing.
            <For each=move || entries.get() key=Entry::key let:entry>
                {match entry {
                    Entry::Message(shown) => {
                        let Shown { message, quoted, reactions } = *shown;
                        view! { <Bubble message=message quoted=quoted reactions=reactions /> }
                    }
                    .into_any(),
                    Entry::Line { text, .. } => view! { <p class="routing-line" role="note">{text}</p> }.into_any(),
                }}
            </For>
        </div>
    }
}

fn is_reaction(message: &Message) -> bool {
    matches!(message.content.as_deref(), Some(MessageContent::Reaction { .. }))
}

#[component]
fn Bubble(message: Message, quoted: Option<Message>, reactions: Vec<String>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let outbound = message.direction == Direction::Outbound;
    // Baton's own messages say what sent them ("Baton sent the away message").
    let author = match message.automation {
        Some(automated) => Some(t!(format!("timeline.automated_{}", automated.as_str())).to_string()),
        None => message.author.filter(|_| outbound).map(|user| ctx.name_of(user)),
    };
    let automated = message.automation.is_some();
    let at = message.created_at;
    let status = message.status;
    let (tick, meaning) = ticks(status);
    let id = message.id;
    let retry_error = RwSignal::new(None::<String>);
    let retry = move |_| {
        ctx.link.request(
            move |req_id| ClientMsg::RetryMessage { req_id, message_id: id },
            move |answer| {
                retry_error.set(answer.err().map(|refused| refused.message));
            },
        );
    };
    let failure = message.error.clone();
    let conversation = message.conversation_id;
    ctx.link.forget_when_live(retry_error);
    let choose_template = move |_| {
        let picker = web_sys::window()
            .and_then(|window| window.document())
            .and_then(|document| document.get_element_by_id("template"));
        if let Some(picker) =
            picker.and_then(|element| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(element).ok())
        {
            picker.scroll_into_view();
            if let Err(error) = picker.focus() {
                web_sys::console::warn_1(&error);
            }
        }
    };
    let quote = use_context::<crate::components::quote::QuoteTarget>();
    let quotable = message.wa_message_id.is_some().then(|| message.clone());
    let quote_it = move |_| {
        if let (Some(quote), Some(message)) = (quote, quotable.clone()) {
            quote.0.set(Some(message));
        }
    };
    view! {
        <article
            class="bubble"
            class:outbound=outbound
            class:inbound=!outbound
            class:automated=automated
            class:focused=move || ctx.focus_message.get().is_some_and(|(_, focused)| focused == id)
            data-message=message.id.to_string()
            data-kind=message.kind.as_str()
        >
            {quoted.map(|quoted| view! { <blockquote class="quote">{quoted.body.clone()}</blockquote> })}
            {author.map(|author| view! { <div class="author">{author}</div> })}
            <Content message=message.clone() />
            <footer class="meta">
                <button class="link-button quote-reply" title=t!("timeline.reply_hint").to_string() on:click=quote_it>{t!("timeline.reply").to_string()}</button>
                <time>{move || clock_time(at, ctx.now.get())}</time>
                {outbound.then(|| view! {
                    <span class="ticks" data-status=status.as_str() title=meaning.clone() aria-label=meaning>{tick}</span>
                })}
            </footer>
            {(!reactions.is_empty()).then(|| view! { <div class="reactions">{reactions.join(" ")}</div> })}
            {(status == DeliveryStatus::Failed).then(|| {
                // Outside the customer's 24-hour window a retry of free text cannot succeed:
                // the composer has become the template picker, so the bubble points there.
                let window_open = Memo::new(move |_| {
                    let now = ctx.now.get().max(crate::format::now_ms());
                    ctx.link.inbox.with(|inbox| {
                        inbox.conversations.get(&conversation).is_some_and(|view| view.conversation.contact.window_open(now))
                    })
                });
                view! {
                    <div class="failure" role="alert">
                        <span>{failure.map(|error| error.message).unwrap_or_else(|| t!("timeline.undelivered").to_string())}</span>
                        {move || if window_open.get() {
                            view! { <button class="link-button retry" on:click=retry>{t!("timeline.retry").to_string()}</button> }.into_any()
                        } else {
                            view! { <button class="link-button use-template" on:click=choose_template>{t!("timeline.use_template").to_string()}</button> }.into_any()
                        }}
                        {move || retry_error.get().map(|message| view! { <span class="retry-error">{message}</span> })}
                    </div>
                }
            })}
        </article>
    }
}

fn media_url(message: &Message) -> String {
    format!("/api/messages/{}/media", message.id)
}

#[component]
fn Content(message: Message) -> impl IntoView {
    let body = message.body.clone();
    // For a location, contact cards or a tapped choice the body only repeats what the content
    // shows (WhatsApp gives no text of its own): shown once, by the content.
    let body_repeats_content = matches!(
        message.content.as_deref(),
        Some(MessageContent::Location { .. } | MessageContent::Contacts { .. } | MessageContent::Choice { .. })
    );
    let text =
        (!body.is_empty() && !body_repeats_content).then(|| view! { <div class="text">{rich_text(&body)}</div> });
    let extra = match message.content.as_deref().cloned() {
        None => None,
        Some(MessageContent::Media { media_kind, filename, voice, mime_type, .. }) => {
            let url = media_url(&message);
            Some(match media_kind.as_str() {
                "image" | "sticker" => {
                    view! { <img class=format!("media {media_kind}") src=url alt=if media_kind == "sticker" { "Sticker" } else { "Image" } loading="lazy" /> }.into_any()
                }
                "audio" => view! {
                    <div class="audio">
                        <span>{if voice { icon(Icon::Mic) } else { icon(Icon::Music) }} " " {if voice { t!("timeline.voice") } else { t!("timeline.audio") }.to_string()}</span>
                        <audio controls=true preload="none" src=url></audio>
                    </div>
                }
                .into_any(),
                "video" => view! { <video class="media" controls=true preload="metadata" src=url></video> }.into_any(),
                _ => {
                    let name = filename.unwrap_or_else(|| mime_type.unwrap_or_else(|| t!("timeline.document").to_string()));
                    view! { <a class="document" href=url target="_blank" rel="noopener" download=name.clone()>{icon(Icon::Document)} " " {name.clone()}</a> }.into_any()
                }
            })
        }
        Some(MessageContent::Location { latitude, longitude, name, address, .. }) => {
            let map = format!(
                "https://www.openstreetmap.org/?mlat={latitude}&mlon={longitude}#map=16/{latitude}/{longitude}"
            );
            Some(view! {
                <div class="location">
                    <div>{icon(Icon::Pin)} " " {name.unwrap_or_else(|| t!("timeline.location").to_string())}</div>
                    {address.map(|address| view! { <div class="address">{address}</div> })}
                    <a href=map target="_blank" rel="noopener noreferrer">{format!("{latitude}, {longitude} — open map")}</a>
                </div>
            }
            .into_any())
        }
        Some(MessageContent::Contacts { cards }) => Some(
            view! {
                <div class="cards">
                    {cards.into_iter().map(|card| view! {
                        <div class="card">{icon(Icon::Person)} " " <strong>{card.name}</strong> " " {card.phones.join(", ")}</div>
                    }).collect_view()}
                </div>
            }
            .into_any(),
        ),
        Some(MessageContent::Interactive { list_button, choices }) => Some({
            let as_list = list_button.is_some().to_string();
            view! {
                <div class="choices" data-list=as_list>
                    {list_button.map(|button| view! { <span class="list-button">"☰ " {button}</span> })}
                    {choices.into_iter().map(|choice| view! { <span class="choice-chip" data-choice=choice.id>{choice.title}</span> }).collect_view()}
                </div>
            }
            .into_any()
        }),
        Some(MessageContent::Choice { title, source, .. }) => {
            Some(view! { <div class="choice" title=source>{t!("timeline.tapped").to_string()} " " <strong>{title}</strong></div> }.into_any())
        }
        Some(MessageContent::Unsupported { what, reason }) => Some(
            view! {
                <div class="unsupported">
                    <strong>{unsupported_title(&what)}</strong>
                    <div class="reason">{reason}</div>
                </div>
            }
            .into_any(),
        ),
        Some(MessageContent::Template { name, .. }) => {
            Some(view! { <div class="template-tag">{t!("timeline.template", name = name).to_string()}</div> }.into_any())
        }
        Some(MessageContent::Reaction { .. }) => None,
    };
    // A menu reads prompt first, then its choices; anything else shows what it carries first.
    if matches!(message.content.as_deref(), Some(MessageContent::Interactive { .. })) {
        view! { {text} {extra} }.into_any()
    } else {
        view! { {extra} {text} }.into_any()
    }
}

/// An unsupported message's title, naming its kind in words: the server names it by WhatsApp's
/// type and subtype (`unsupported (poll_creation)`, `order`), shown as "(poll creation)", "(order)".
fn unsupported_title(what: &str) -> String {
    let kind = what.strip_prefix("unsupported (").and_then(|rest| rest.strip_suffix(')')).unwrap_or(what);
    if kind.is_empty() || kind == "unsupported" {
        t!("timeline.unsupported").to_string()
    } else {
        t!("timeline.unsupported_kind", kind = kind.replace('_', " ")).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::unsupported_title;

    #[test]
    fn an_unsupported_message_is_named_once_in_words() {
        assert_eq!(unsupported_title("unsupported (poll_creation)"), "Unsupported message (poll creation)");
        assert_eq!(unsupported_title("order"), "Unsupported message (order)");
        assert_eq!(unsupported_title("unsupported"), "Unsupported message");
        assert_eq!(unsupported_title("revoke"), "Unsupported message (revoke)");
    }
}
