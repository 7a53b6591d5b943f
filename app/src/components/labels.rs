//! A conversation's labels in its header: chips with a remove button, and a field that adds one
//! (Enter). Each change is an edit ([`ClientMsg::EditLabels`]: add this, remove that) applied to
//! the labels as the server holds them, so teammates labelling at once keep each other's. What is
//! shown is what the server's `labeled` event said; a refused label (too long, too many) stays in the
//! field, whole, with the server's sentence saying why.

use baton_shared::ConversationId;
use baton_shared::protocol::ClientMsg;
use leptos::prelude::*;

use crate::context::Ctx;

#[component]
pub fn Labels(id: ConversationId, error: RwSignal<Option<String>>) -> impl IntoView {
    let link = expect_context::<Ctx>().link;
    let labels = Memo::new(move |_| {
        link.inbox.with(|inbox| inbox.conversations.get(&id).map(|view| view.conversation.labels.clone()))
    });
    let adding = RwSignal::new(String::new());
    let edit = move |add: Vec<String>, remove: Vec<String>| {
        let added = !add.is_empty();
        link.request(
            move |req_id| ClientMsg::EditLabels { req_id, conversation_id: id, add, remove },
            move |answer| match answer {
                Ok(_) => {
                    error.set(None);
                    if added {
                        adding.set(String::new());
                    }
                }
                Err(refused) => error.set(Some(refused.message)),
            },
        );
    };
    let add = move || {
        let label = adding.get_untracked();
        if !label.trim().is_empty() {
            edit(vec![label], Vec::new());
        }
    };
    let remove = move |label: String| edit(Vec::new(), vec![label]);
    view! {
        <div class="labels" id="labels" aria-label=t!("labels.title").to_string()>
            <For each=move || labels.get().unwrap_or_default() key=|label| label.clone() let:label>
                <span class="label-chip" data-label=label.clone()>
                    {label.clone()}
                    <button
                        class="link-button remove-label"
                        aria-label=format!("Remove label {label}")
                        on:click={
                            let label = label.clone();
                            move |_| remove(label.clone())
                        }
                    >
                        "×"
                    </button>
                </span>
            </For>
            <input
                id="add-label"
                class="add-label"
                placeholder=t!("labels.placeholder").to_string()
                aria-label=t!("labels.add").to_string()
                prop:value=adding
                on:input=move |event| adding.set(event_target_value(&event))
                on:keydown=move |event: web_sys::KeyboardEvent| {
                    // An IME's confirming Enter (229 on Safari) finishes a word, not the label.
                    if event.key() == "Enter" && !event.is_composing() && event.key_code() != 229 {
                        event.prevent_default();
                        add();
                    }
                }
            />
        </div>
    }
}
