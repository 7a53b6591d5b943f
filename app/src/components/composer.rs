//! The composer and what surrounds it: who holds the claim, who is typing (and, for
//! supervisors, the draft they are writing), the typing lock (the first keystroke claims; when a
//! teammate holds the claim the composer is read-only, with take-over for supervisors), the
//! traffic-cop refusal with the missed messages and a deliberate "send anyway", the template
//! picker outside the 24-hour window, attachments, canned responses, and the draft that survives
//! reloads (kept by the server). Enter sends, Shift+Enter starts a new line.

use baton_shared::ConversationId;
use baton_shared::ErrorCode;
use baton_shared::model::{Message, MessageTemplate};
use baton_shared::protocol::{AckDetail, ClientMsg, ErrorDetail};
use leptos::prelude::*;

use crate::api;
use crate::components::quote::QuoteTarget;
use crate::components::templates::TemplatePicker;
use crate::context::Ctx;
use crate::icons::{Icon, icon};
use crate::ws::Answer;

/// A file on its way to Baton.
#[derive(Clone, Debug, PartialEq)]
struct Uploading {
    name: String,
    percent: u8,
}

#[component]
pub fn Composer(id: ConversationId) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let link = ctx.link;
    let me = ctx.me().id;
    let draft = RwSignal::new(String::new());
    let notice = RwSignal::new(None::<String>);
    let missed = RwSignal::new(None::<Vec<Message>>);
    let templates = RwSignal::new(None::<Vec<MessageTemplate>>);
    let sending = RwSignal::new(false);
    let uploading = RwSignal::new(None::<Uploading>);
    link.forget_when_live(notice);
    // The key of the reply being sent: a resend after an error reuses it, so it is sent once.
    let pending_key = StoredValue::new(None::<String>);
    // What the agent had seen when they started this draft: the traffic cop compares with it, so
    // a customer message that arrived while they were writing is pointed out before sending.
    let seen_at_start = StoredValue::new(None::<u64>);
    let quote = expect_context::<QuoteTarget>().0;
    let last_seq = move || {
        link.inbox.with_untracked(|inbox| inbox.conversations.get(&id).map_or(0, |view| view.conversation.last_seq))
    };

    // The saved draft comes with the history.
    let restored = StoredValue::new(false);
    Effect::new(move |_| {
        let saved = link.inbox.with(|inbox| {
            inbox.conversations.get(&id).filter(|view| view.history_loaded).map(|view| view.saved_draft.clone())
        });
        if let Some(saved) = saved
            && !restored.get_value()
        {
            restored.set_value(true);
            if draft.get_untracked().is_empty() {
                draft.set(saved);
            }
        }
    });

    // Memos, so the composer is rebuilt only when what it shows changes (not on every event:
    // a rebuilt textarea would lose the agent's focus).
    let claim = Memo::new(move |_| {
        link.inbox.with(|inbox| inbox.conversations.get(&id).and_then(|view| view.conversation.claim.clone()))
    });
    let claim = move || claim.get();
    let mine = move || claim().is_some_and(|claim| claim.holder == me);
    let holder_name = Memo::new(move |_| {
        claim()
            .filter(|claim| claim.holder != me)
            .map(|claim| if claim.yields_to_people() { t!("composer.bot_name").to_string() } else { claim.holder_name })
    });
    let holder_name = move || holder_name.get();
    let window_open = Memo::new(move |_| {
        let now = ctx.now.get().max(crate::format::now_ms());
        link.inbox
            .with(|inbox| inbox.conversations.get(&id).is_some_and(|view| view.conversation.contact.window_open(now)))
    });
    let window_open = move || window_open.get();
    let typists = move || {
        link.track_live(id);
        link.inbox.with(|inbox| {
            inbox
                .conversations
                .get(&id)
                .map(|view| {
                    view.typing
                        .iter()
                        .filter(|typist| typist.id != me)
                        .map(|typist| (typist.name.clone(), view.drafts.get(&typist.id).cloned()))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };

    // A change to the draft, typed or inserted: it claims the conversation if nobody holds it,
    // tells the team, and saves the draft on the server.
    let typed = move |text: String| {
        if seen_at_start.get_value().is_none() || text.is_empty() {
            seen_at_start.set_value((!text.is_empty()).then(last_seq));
        }
        draft.set(text.clone());
        link.request(
            move |req_id| ClientMsg::Typing { req_id, conversation_id: id, draft: text },
            move |answer: Answer| match answer {
                Err(refused) if refused.code == ErrorCode::ClaimedByOther => notice.set(Some(refused.message)),
                Err(refused) => notice.set(Some(refused.message)),
                Ok(_) => notice.set(None),
            },
        );
    };
    let on_input = move |event: leptos::ev::Event| typed(event_target_value(&event));

    let claim_first = move || link.claim_unless_held(id);
    // `sent` is the text that went out: what was typed after it, while the answer was on its
    // way, stays in the composer.
    let after_send = move |sent: String, answer: Answer| {
        sending.set(false);
        match answer {
            Ok(Some(AckDetail::Message { .. })) | Ok(_) => {
                pending_key.set_value(None);
                seen_at_start.set_value(None);
                quote.set(None);
                if draft.get_untracked() == sent {
                    draft.set(String::new());
                }
                missed.set(None);
                notice.set(None);
            }
            Err(refused) => {
                // Refused for sure: the next send is a new message with a new key. (When the
                // socket dropped before the answer, the outcome is unknown: the retry keeps the
                // key, so the server sends it at most once.)
                if refused.code != ErrorCode::Unavailable {
                    pending_key.set_value(None);
                }
                match refused.detail {
                    Some(ErrorDetail::Missed { messages }) => {
                        missed.set(Some(messages));
                        notice.set(None);
                    }
                    Some(ErrorDetail::Templates { templates: offered }) => {
                        templates.set(Some(offered));
                        notice.set(Some(refused.message));
                    }
                    _ => notice.set(Some(refused.message)),
                }
            }
        }
    };
    let send = move |force: bool| {
        let body = draft.get_untracked();
        if body.trim().is_empty() || sending.get_untracked() {
            return;
        }
        let key = pending_key.get_value().unwrap_or_else(crate::ws::idempotency_key);
        pending_key.set_value(Some(key.clone()));
        let seen_seq = seen_at_start.get_value().unwrap_or_else(last_seq);
        let reply_to = quote.get_untracked().map(|message| message.id);
        sending.set(true);
        claim_first();
        let sent = body.clone();
        link.request(
            move |req_id| ClientMsg::Reply {
                req_id,
                conversation_id: id,
                body,
                idempotency_key: key,
                seen_seq,
                force,
                reply_to,
            },
            move |answer| after_send(sent, answer),
        );
    };
    let on_keydown = move |event: leptos::ev::KeyboardEvent| {
        // An Enter that confirms an input method's composition (keyCode 229 in Safari) is not a send.
        if event.key() == "Enter" && !event.shift_key() && !event.is_composing() && event.key_code() != 229 {
            event.prevent_default();
            send(false);
        }
    };
    let take_over = move |_| {
        link.request(
            move |req_id| ClientMsg::TakeOver { req_id, conversation_id: id },
            move |answer: Answer| {
                if let Err(refused) = answer {
                    notice.set(Some(refused.message));
                }
            },
        );
    };
    let release = move |_| {
        link.request(
            move |req_id| ClientMsg::Release { req_id, conversation_id: id },
            move |answer: Answer| {
                if let Err(refused) = answer {
                    notice.set(Some(refused.message));
                }
            },
        );
    };
    let attach = move |event: leptos::ev::Event| {
        let Some(input) =
            event.target().and_then(|target| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(target).ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|files| files.get(0)) else { return };
        input.set_value("");
        // The draft goes as the caption, and is cleared once sent (unless edited meanwhile).
        let caption = draft.get_untracked();
        let sent = caption.clone();
        claim_first();
        let seen_seq = link
            .inbox
            .with_untracked(|inbox| inbox.conversations.get(&id).map_or(0, |view| view.conversation.last_seq));
        sending.set(true);
        notice.set(None);
        uploading.set(Some(Uploading { name: file.name(), percent: 0 }));
        let on_progress = move |progress: api::Progress| {
            let percent = (progress.sent / progress.total.max(1.0) * 100.0).clamp(0.0, 100.0) as u8;
            uploading.update(|uploading| {
                if let Some(uploading) = uploading {
                    uploading.percent = percent;
                }
            });
        };
        api::upload(file, on_progress, move |uploaded| {
            uploading.set(None);
            match uploaded {
                Ok(upload) => link.request(
                    move |req_id| ClientMsg::SendMedia {
                        req_id,
                        conversation_id: id,
                        upload_id: upload.upload_id,
                        caption,
                        idempotency_key: crate::ws::idempotency_key(),
                        seen_seq,
                        force: true,
                    },
                    move |answer| after_send(sent, answer),
                ),
                Err(failure) => {
                    sending.set(false);
                    notice.set(Some(failure.message));
                }
            }
        });
    };
    let use_canned = move |event: leptos::ev::Event| {
        let Ok(chosen) = event_target_value(&event).parse::<i64>() else { return };
        let text = ctx.canned.with_untracked(|canned| {
            canned.iter().find(|canned| canned.id == chosen).map(|canned| canned.body.clone())
        });
        if let Some(text) = text {
            let mut with_canned = draft.get_untracked();
            if !with_canned.is_empty() && !with_canned.ends_with(' ') {
                with_canned.push(' ');
            }
            with_canned.push_str(&text);
            // Exactly as if typed: claims, and saves the draft.
            typed(with_canned);
        }
        // Back to the menu's title, so the same response can be chosen again.
        if let Some(select) =
            event.target().and_then(|target| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlSelectElement>(target).ok())
        {
            select.set_value("");
        }
    };

    view! {
        <div class="composer-area">
            <div class="typing-line" id="typing" aria-live="polite">
                {move || {
                    typists()
                        .into_iter()
                        .map(|(name, text)| match text.filter(|_| ctx.is_supervisor()) {
                            Some(text) => view! {
                                <div class="live-draft">
                                    <span class="typist">{t!("composer.is_typing", name = name).to_string()}</span>
                                    <span class="draft-text">{text}</span>
                                </div>
                            }
                            .into_any(),
                            None => view! { <div class="typist">{t!("composer.typing", name = name).to_string()}</div> }.into_any(),
                        })
                        .collect_view()
                }}
            </div>
            {move || missed.get().map(|messages| view! {
                <div class="missed" id="missed" role="alert">
                    <p><strong>{t!("composer.missed").to_string()}</strong></p>
                    <ul>{messages.into_iter().map(|message| view! { <li>{message.body}</li> }).collect_view()}</ul>
                    <button id="send-anyway" class="primary" on:click=move |_| send(true)>{t!("composer.send_anyway").to_string()}</button>
                    <button class="secondary" on:click=move |_| {
                        // Now they have read them: the next send compares with what is there now.
                        seen_at_start.set_value(Some(last_seq()));
                        missed.set(None);
                    }>{t!("composer.reread").to_string()}</button>
                </div>
            })}
            {move || quote.get().map(|message| view! {
                <div class="quoting" id="quoting">
                    <blockquote class="quote">{message.body}</blockquote>
                    <button class="link-button" aria-label=t!("composer.unquote").to_string() on:click=move |_| quote.set(None)>"×"</button>
                </div>
            })}
            <Show when=move || notice.get().is_some()>
                <p class="alert" id="composer-notice" role="alert">{move || notice.get()}</p>
            </Show>
            {move || uploading.get().map(|Uploading { name, percent }| view! {
                <div class="uploading" id="uploading" role="status">
                    <span>{t!("composer.uploading", name = name, percent = percent).to_string()}</span>
                    <progress max="100" value=percent.to_string() aria-label=t!("composer.uploading_file", name = name).to_string()></progress>
                </div>
            })}
            <div class="claim-line" id="claim-line">
                {move || match (claim(), mine()) {
                    (Some(_), true) => view! {
                        <span class="claim mine">{t!("composer.mine").to_string()}</span>
                        <button id="release" class="link-button" on:click=release>{t!("composer.release").to_string()}</button>
                    }
                    .into_any(),
                    // The menu bot: anyone who may see the conversation takes it over.
                    (Some(claim), false) if claim.yields_to_people() => view! {
                        <span class="claim bot" id="holder">{icon(Icon::Lock)} {t!("composer.bot").to_string()}</span>
                        <button id="take-over-bot" class="link-button" on:click=move |_| link.send(move |req_id| ClientMsg::Claim { req_id, conversation_id: id })>
                            {t!("composer.take_over").to_string()}
                        </button>
                    }
                    .into_any(),
                    (Some(claim), false) => view! {
                        <span class="claim other" id="holder">{icon(Icon::Lock)} {t!("composer.replying", name = claim.holder_name).to_string()}</span>
                        {ctx.is_supervisor().then(|| view! {
                            <button id="take-over" class="link-button" on:click=take_over>{t!("composer.take_over").to_string()}</button>
                        })}
                    }
                    .into_any(),
                    (None, _) => view! {
                        <span class="claim free">{t!("composer.free").to_string()}</span>
                        <button id="claim" class="link-button" on:click=move |_| claim_first()>{t!("composer.claim").to_string()}</button>
                    }
                    .into_any(),
                }}
            </div>
            {move || if window_open() {
                view! {
                    <div class="composer" class:locked=move || holder_name().is_some()>
                        <textarea
                            id="composer"
                            rows="3"
                            aria-label=t!("composer.reply").to_string()
                            placeholder=move || holder_name().map(|name| t!("composer.replying", name = name)).unwrap_or_else(|| t!("composer.placeholder")).to_string()
                            readonly=move || holder_name().is_some()
                            prop:value=draft
                            on:input=on_input
                            on:keydown=on_keydown
                        ></textarea>
                        <div class="composer-tools">
                            <label class="secondary attach" class:disabled=move || holder_name().is_some()>
                                {icon(Icon::Paperclip)} " " {t!("composer.attach").to_string()}
                                <input id="attach" type="file" hidden=true on:change=attach disabled=move || holder_name().is_some() />
                            </label>
                            <select id="canned" aria-label=t!("composer.canned").to_string() on:change=use_canned on:focus=move |_| ctx.reload_canned() disabled=move || holder_name().is_some()>
                                <option value="">{t!("composer.canned_menu").to_string()}</option>
                                {move || ctx.canned.get().into_iter().map(|canned| view! { <option value=canned.id.to_string()>{canned.title}</option> }).collect_view()}
                            </select>
                            <button
                                id="send"
                                class="primary"
                                disabled=move || holder_name().is_some() || sending.get() || draft.with(|draft| draft.trim().is_empty())
                                on:click=move |_| send(false)
                            >
                                {t!("composer.send").to_string()}
                            </button>
                        </div>
                    </div>
                }
                .into_any()
            } else {
                view! { <TemplatePicker id=id offered=templates locked=Signal::derive(move || holder_name().is_some()) /> }.into_any()
            }}
        </div>
    }
}
