//! The contact attributes admins and supervisors define: key, label, type (text, number, date,
//! one of a list, yes/no) and a list's choices. Saved as a whole; the server checks them and
//! refuses a bad one with a sentence.

use baton_shared::contacts::{AttributeDef, AttributeDefinitions, AttributeKind};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::context::Ctx;

/// A type's name in the form.
fn kind_name(kind: &AttributeKind) -> &'static str {
    match kind {
        AttributeKind::Text => "text",
        AttributeKind::Number => "number",
        AttributeKind::Date => "date",
        AttributeKind::Choice { .. } => "choice",
        AttributeKind::YesNo => "yes_no",
    }
}

#[component]
pub fn AttributesEditor() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let rows = RwSignal::new(Vec::<AttributeDef>::new());
    let message = RwSignal::new(None::<(bool, String)>);
    Effect::new(move |_| rows.set(ctx.attributes.get()));
    let save = move |_| {
        let attributes = rows.get_untracked();
        spawn_local(async move {
            match api::save_attributes(&AttributeDefinitions { attributes }).await {
                Ok(saved) => {
                    ctx.attributes.set(saved.attributes);
                    message.set(Some((true, t!("attributes.saved").to_string())));
                }
                Err(failure) => message.set(Some((false, failure.message))),
            }
        });
    };
    let add = move |_| {
        rows.update(|rows| {
            rows.push(AttributeDef { key: String::new(), label: String::new(), kind: AttributeKind::Text });
        })
    };
    let edit = move |index: usize, change: Box<dyn Fn(&mut AttributeDef)>| {
        rows.update(|rows| {
            if let Some(row) = rows.get_mut(index) {
                change(row);
            }
        })
    };
    view! {
        <section class="attributes" id="attributes-editor">
            <h3>{t!("attributes.title").to_string()}</h3>
            <p class="hint">{t!("attributes.hint").to_string()}</p>
            <table class="attributes-table">
                <tbody>
                    {move || rows.get().into_iter().enumerate().map(|(index, row)| {
                        let options = match &row.kind { AttributeKind::Choice { options } => options.join(", "), _ => String::new() };
                        let is_choice = matches!(row.kind, AttributeKind::Choice { .. });
                        view! {
                            <tr>
                                <td><input type="text" aria-label=t!("attributes.key").to_string() placeholder="plan" prop:value=row.key.clone()
                                    on:change=move |event| { let value = event_target_value(&event); edit(index, Box::new(move |row| row.key = value.trim().to_owned())) } /></td>
                                <td><input type="text" aria-label=t!("attributes.label").to_string() placeholder=t!("attributes.label").to_string() prop:value=row.label.clone()
                                    on:change=move |event| { let value = event_target_value(&event); edit(index, Box::new(move |row| row.label = value.clone())) } /></td>
                                <td>
                                    <select aria-label=t!("attributes.type").to_string() prop:value=kind_name(&row.kind)
                                        on:change=move |event| {
                                            let value = event_target_value(&event);
                                            edit(index, Box::new(move |row| row.kind = match value.as_str() {
                                                "number" => AttributeKind::Number,
                                                "date" => AttributeKind::Date,
                                                "choice" => AttributeKind::Choice { options: Vec::new() },
                                                "yes_no" => AttributeKind::YesNo,
                                                _ => AttributeKind::Text,
                                            }))
                                        }>
                                        {["text", "number", "date", "choice", "yes_no"].into_iter().map(|kind| view! {
                                            <option value=kind>{t!(format!("attributes.kind_{kind}")).to_string()}</option>
                                        }).collect_view()}
                                    </select>
                                </td>
                                <td>{is_choice.then(|| view! {
                                    <input type="text" aria-label=t!("attributes.options").to_string() placeholder=t!("attributes.options").to_string() prop:value=options
                                        on:change=move |event| {
                                            let value = event_target_value(&event);
                                            edit(index, Box::new(move |row| row.kind = AttributeKind::Choice {
                                                options: value.split(',').map(str::trim).filter(|option| !option.is_empty()).map(str::to_owned).collect(),
                                            }))
                                        } />
                                })}</td>
                                <td><button class="link-button" aria-label=t!("attributes.remove").to_string()
                                    on:click=move |_| rows.update(|rows| { if index < rows.len() { rows.remove(index); } })>"×"</button></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <button class="secondary" id="add-attribute" on:click=add>{t!("attributes.add").to_string()}</button>
            <button id="save-attributes" on:click=save>{t!("attributes.save").to_string()}</button>
            {move || message.get().map(|(good, text)| view! { <p class:alert=!good class:hint=good role="status">{text}</p> })}
        </section>
    }
}
