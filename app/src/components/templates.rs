//! Outside the customer's 24-hour window only an approved template may be sent: this picker
//! lists them (from the server, which asks WhatsApp), asks for each `{{n}}` parameter, previews
//! the message and sends it.

use baton_shared::ConversationId;
use baton_shared::model::MessageTemplate;
use baton_shared::protocol::{AckDetail, ClientMsg};
use leptos::prelude::*;

use crate::context::Ctx;
use crate::ws::Answer;

#[component]
pub fn TemplatePicker(
    id: ConversationId,
    offered: RwSignal<Option<Vec<MessageTemplate>>>,
    locked: Signal<bool>,
) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let link = ctx.link;
    let chosen = RwSignal::new(None::<usize>);
    let parameters = RwSignal::new(Vec::<String>::new());
    let error = RwSignal::new(None::<String>);
    let sent = RwSignal::new(false);
    let sending = RwSignal::new(false);
    link.forget_when_live(error);
    // One key per filled-in form: a double click, or a retry after a dropped answer, sends once.
    let key = StoredValue::new(crate::ws::idempotency_key());
    if offered.get_untracked().is_none() {
        link.request(
            |req_id| ClientMsg::ListTemplates { req_id },
            move |answer: Answer| match answer {
                Ok(Some(AckDetail::Templates { templates })) => offered.set(Some(templates)),
                Ok(_) => offered.set(Some(Vec::new())),
                Err(refused) => error.set(Some(refused.message)),
            },
        );
    }
    let template = move || chosen.get().and_then(|index| offered.with(|offered| offered.as_ref()?.get(index).cloned()));
    let choose = move |event: leptos::ev::Event| {
        let index = event_target_value(&event).parse::<usize>().ok();
        chosen.set(index);
        key.set_value(crate::ws::idempotency_key());
        let count = template().map_or(0, |template| template.parameters as usize);
        parameters.set(vec![String::new(); count]);
        sent.set(false);
    };
    let send = move |_| {
        let Some(template) = template() else { return };
        if sending.get_untracked() {
            return;
        }
        let values = parameters.get_untracked();
        if values.iter().any(|value| value.trim().is_empty()) {
            error.set(Some(t!("templates.fill").to_string()));
            return;
        }
        sending.set(true);
        link.claim_unless_held(id);
        let idempotency_key = key.get_value();
        let seen_seq = link
            .inbox
            .with_untracked(|inbox| inbox.conversations.get(&id).map_or(0, |view| view.conversation.last_seq));
        link.request(
            move |req_id| ClientMsg::SendTemplate {
                req_id,
                conversation_id: id,
                name: template.name,
                language: template.language,
                parameters: values,
                idempotency_key,
                seen_seq,
                force: true,
            },
            move |answer: Answer| {
                sending.set(false);
                match answer {
                    Ok(_) => {
                        sent.set(true);
                        error.set(None);
                        chosen.set(None);
                        key.set_value(crate::ws::idempotency_key());
                    }
                    Err(refused) => error.set(Some(refused.message)),
                }
            },
        );
    };
    view! {
        <div class="template-picker" id="template-picker">
            <p class="window-closed">
                {t!("templates.window_closed").to_string()}
            </p>
            <select id="template" aria-label=t!("templates.label").to_string() on:change=choose disabled=move || locked.get()>
                <option value="">{t!("templates.choose").to_string()}</option>
                {move || offered.get().unwrap_or_default().into_iter().enumerate().map(|(index, template)| view! {
                    <option value=index.to_string()>{format!("{} ({})", template.name, template.language)}</option>
                }).collect_view()}
            </select>
            {move || template().map(|template| {
                let inputs = (0..template.parameters as usize).map(|index| view! {
                    <input
                        class="template-parameter"
                        aria-label=format!("Parameter {{{{{}}}}}", index + 1)
                        placeholder=format!("{{{{{}}}}}", index + 1)
                        prop:value=move || parameters.with(|values| values.get(index).cloned().unwrap_or_default())
                        on:input=move |event| {
                            let value = event_target_value(&event);
                            parameters.update(|values| if let Some(slot) = values.get_mut(index) { *slot = value; });
                        }
                    />
                }).collect_view();
                let preview_template = template.clone();
                view! {
                    <div class="template-form">
                        {inputs}
                        <p class="template-preview">{move || preview_template.render(&parameters.get())}</p>
                        <button id="send-template" class="primary" on:click=send disabled=move || locked.get() || sending.get()>{t!("templates.send").to_string()}</button>
                    </div>
                }
            })}
            <Show when=move || sent.get()><p class="hint">{t!("templates.sent").to_string()}</p></Show>
            <Show when=move || error.get().is_some()><p class="alert" role="alert">{move || error.get()}</p></Show>
        </div>
    }
}
