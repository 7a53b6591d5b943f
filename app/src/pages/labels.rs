//! A conversation's labels in its header: chips with a remove button, and a field that adds one
//! (Enter). Every change sends the whole new list ([`ClientMsg::SetLabels`]); what is shown is
//! what the server's `labeled` event said, so teammates' changes appear live and a refused label
//! never looks saved.

use baton_shared::ConversationId;
use baton_shared::protocol::ClientMsg;
use leptos::prelude::*;

use crate::pages::shell::Ctx;

#[component]
pub fn Labels(id: ConversationId, error: RwSignal<Option<String>>) -> impl IntoView {
    let link = expect_context::<Ctx>().link;
    let labels = Memo::new(move |_| {
        link.inbox.with(|inbox| inbox.conversations.get(&id).map(|view| view.conversation.labels.clone()))
    });
    let adding = RwSignal::new(String::new());
    let send = move |labels: Vec<String>| {
        link.request(
            move |req_id| ClientMsg::SetLabels { req_id, conversation_id: id, labels },
            move |answer| error.set(answer.err().map(|refused| refused.message)),
        );
    };
    let add = move || {
        let label = adding.get_untracked();
        if label.trim().is_empty() {
            return;
        }
        let mut next = labels.get_untracked().unwrap_or_default();
        next.push(label);
        adding.set(String::new());
        send(next);
    };
    let remove = move |label: String| {
        let next = labels.get_untracked().unwrap_or_default().into_iter().filter(|kept| *kept != label).collect();
        send(next);
    };
    view! {
        <div class="labels" id="labels" aria-label="Labels">
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
                placeholder="+ label"
                maxlength="32"
                prop:value=adding
                on:input=move |event| adding.set(event_target_value(&event))
                on:keydown=move |event: web_sys::KeyboardEvent| {
                    if event.key() == "Enter" && !event.is_composing() {
                        event.prevent_default();
                        add();
                    }
                }
            />
        </div>
    }
}
