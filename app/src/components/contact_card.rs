//! A customer's card: display name, number, email, company, labels, blocked, and every attribute
//! admins defined, each edited in place and saved on its own (only that field is sent). The card
//! shows the record the inbox holds ([`crate::state::Inbox::contacts`]), which a teammate's edit
//! replaces live (`contact_changed`), so everyone looking sees the same. A refused value shows the
//! server's sentence and the field goes back to what is stored.

use std::collections::BTreeMap;

use baton_shared::ContactId;
use baton_shared::contacts::{AttributeDef, AttributeKind, AttributeValue, ContactPatch, ContactRecord};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::context::Ctx;

/// What a card's fields need to save: where to show a refusal, and a counter bumped when one
/// comes, so every field shows what is stored again.
#[derive(Clone, Copy)]
struct Saving {
    error: RwSignal<Option<String>>,
    refused: RwSignal<u32>,
}

/// Saves one field's edit, and takes in the record the server answers.
fn save(ctx: Ctx, id: ContactId, patch: ContactPatch, saving: Saving) {
    let Saving { error, refused } = saving;
    spawn_local(async move {
        match api::edit_contact(id, &patch).await {
            Ok(record) => {
                error.set(None);
                ctx.link.inbox.update(|inbox| inbox.learn_contact(record));
            }
            Err(failure) => {
                error.set(Some(failure.message));
                refused.update(|count| *count += 1);
            }
        }
    });
}

/// An attribute's value as its input shows it.
fn shown(value: Option<&AttributeValue>) -> String {
    match value {
        Some(AttributeValue::YesNo(true)) => "yes".into(),
        Some(AttributeValue::YesNo(false)) => "no".into(),
        Some(value) => value.display(),
        None => String::new(),
    }
}

#[component]
pub fn ContactCard(id: ContactId, #[prop(into)] editable: Signal<bool>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let error = RwSignal::new(None::<String>);
    let saving = Saving { error, refused: RwSignal::new(0) };
    let record = Memo::new(move |_| ctx.link.inbox.with(|inbox| inbox.contacts.get(&id).cloned()));
    let field = move |read: fn(&ContactRecord) -> String| {
        move || {
            saving.refused.track();
            record.get().map(|record| read(&record)).unwrap_or_default()
        }
    };
    let text_input = move |name: &'static str,
                           label: String,
                           read: fn(&ContactRecord) -> String,
                           write: fn(String) -> ContactPatch| {
        let value = field(read);
        view! {
            <label class="contact-field">
                <span>{label}</span>
                <input
                    type="text"
                    data-field=name
                    prop:value=value
                    disabled=move || !editable.get()
                    on:change=move |event| save(ctx, id, write(event_target_value(&event)), saving)
                />
            </label>
        }
    };
    let blocked = move || record.get().is_some_and(|record| record.contact.blocked);
    view! {
        <div class="contact-fields" data-contact=id.to_string()>
            {move || error.get().map(|message| view! { <p class="alert" role="alert">{message}</p> })}
            <Show when=blocked>
                <p class="blocked-note" role="status">{t!("contact.blocked_note").to_string()}</p>
            </Show>
            {text_input("display_name", t!("contact.name").to_string(), |record| record.contact.display_name.clone().unwrap_or_default(), |value| ContactPatch { display_name: Some(value), ..Default::default() })}
            <p class="contact-meta">
                <span class="phone" data-field="phone">{move || record.get().map(|record| record.phone).unwrap_or_default()}</span>
                {move || record.get().map(|record| record.contact.profile_name).filter(|name| !name.is_empty()).map(|name| view! {
                    <span class="profile-name" title=t!("contact.profile_name").to_string()>{format!(" · “{name}”")}</span>
                })}
            </p>
            {text_input("email", t!("contact.email").to_string(), |record| record.email.clone(), |value| ContactPatch { email: Some(value), ..Default::default() })}
            {text_input("company", t!("contact.company").to_string(), |record| record.company.clone(), |value| ContactPatch { company: Some(value), ..Default::default() })}
            {text_input("labels", t!("contact.labels").to_string(), |record| record.labels.join(", "), |value| ContactPatch {
                labels: Some(value.split([',', ';']).map(str::trim).filter(|label| !label.is_empty()).map(str::to_owned).collect()),
                ..Default::default()
            })}
            <For each=move || ctx.attributes.get() key=|definition| definition.clone() let:definition>
                <AttributeField id=id definition=definition record=record editable=editable saving=saving />
            </For>
            <label class="contact-field check">
                <input
                    type="checkbox"
                    data-field="blocked"
                    prop:checked=move || {
                        saving.refused.track();
                        blocked()
                    }
                    disabled=move || !editable.get()
                    on:change=move |event| {
                        let checked = event_target_checked(&event);
                        save(ctx, id, ContactPatch { blocked: Some(checked), ..Default::default() }, saving);
                    }
                />
                <span>{t!("contact.blocked").to_string()}</span>
            </label>
        </div>
    }
}

#[component]
fn AttributeField(
    id: ContactId,
    definition: AttributeDef,
    record: Memo<Option<ContactRecord>>,
    editable: Signal<bool>,
    saving: Saving,
) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let key = definition.key.clone();
    let value = {
        let key = key.clone();
        move || {
            saving.refused.track();
            record.get().map(|record| shown(record.attributes.get(&key))).unwrap_or_default()
        }
    };
    let on_change = {
        let definition = definition.clone();
        move |text: String| {
            // Read as the attribute's type; a value that does not read goes to the server as
            // text, which refuses it with the sentence.
            let value = match definition.read(&text) {
                Ok(value) => value,
                Err(_) => Some(AttributeValue::Text(text)),
            };
            let patch =
                ContactPatch { attributes: BTreeMap::from([(definition.key.clone(), value)]), ..Default::default() };
            save(ctx, id, patch, saving);
        }
    };
    let input = match &definition.kind {
        AttributeKind::Choice { options } => {
            let options = options.clone();
            view! {
                <select data-attribute=key.clone() prop:value=value disabled=move || !editable.get()
                    on:change=move |event| on_change(event_target_value(&event))>
                    <option value="">"—"</option>
                    {options.into_iter().map(|option| view! { <option value=option.clone()>{option.clone()}</option> }).collect_view()}
                </select>
            }
            .into_any()
        }
        AttributeKind::YesNo => view! {
            <select data-attribute=key.clone() prop:value=value disabled=move || !editable.get()
                on:change=move |event| on_change(event_target_value(&event))>
                <option value="">"—"</option>
                <option value="yes">{t!("contact.yes").to_string()}</option>
                <option value="no">{t!("contact.no").to_string()}</option>
            </select>
        }
        .into_any(),
        kind => {
            let kind = match kind {
                AttributeKind::Number => "number",
                AttributeKind::Date => "date",
                _ => "text",
            };
            view! {
                <input type=kind step="any" data-attribute=key.clone() prop:value=value disabled=move || !editable.get()
                    on:change=move |event| on_change(event_target_value(&event)) />
            }
            .into_any()
        }
    };
    view! {
        <label class="contact-field">
            <span>{definition.label.clone()}</span>
            {input}
        </label>
    }
}
