//! Canned responses, for supervisors and admins: the team's saved replies, a form to add one, and
//! per response Edit and Delete (the `/api/canned-responses` endpoints). Agents pick them from the
//! composer's menu.

use baton_shared::api::{CannedResponse, CannedResponseRequest, MAX_CANNED_TITLE_CHARS};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::context::Ctx;

#[component]
pub fn Replies() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    ctx.reload_canned();
    let error = RwSignal::new(None::<String>);
    // The response being edited; `None`: the form adds a new one.
    let editing = RwSignal::new(None::<i64>);
    let title = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    // One save at a time: a double click would otherwise add the response twice (and show the
    // second as a duplicate title).
    let saving = RwSignal::new(false);
    let clear = move || {
        editing.set(None);
        title.set(String::new());
        body.set(String::new());
    };
    let save = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if saving.get_untracked() {
            return;
        }
        saving.set(true);
        let request = CannedResponseRequest { title: title.get_untracked(), body: body.get_untracked() };
        let id = editing.get_untracked();
        spawn_local(async move {
            let saved = match id {
                Some(id) => api::update_canned(id, &request).await,
                None => api::create_canned(&request).await,
            };
            match saved {
                Ok(_) => {
                    error.set(None);
                    clear();
                }
                Err(failure) => error.set(Some(failure.message)),
            }
            saving.set(false);
            ctx.reload_canned();
        });
    };
    let edit = move |canned: CannedResponse| {
        editing.set(Some(canned.id));
        title.set(canned.title);
        body.set(canned.body);
    };
    let delete = move |id: i64| {
        spawn_local(async move {
            match api::delete_canned(id).await {
                Ok(()) => error.set(None),
                Err(failure) => error.set(Some(failure.message)),
            }
            if editing.get_untracked() == Some(id) {
                clear();
            }
            ctx.reload_canned();
        });
    };
    view! {
        <main class="admin replies">
            <h2>{t!("replies.title").to_string()}</h2>
            <p class="hint">{t!("replies.hint").to_string()}</p>
            <Show when=move || error.get().is_some()>
                <p class="alert" role="alert">{move || error.get()}</p>
            </Show>
            <form class="card canned-form" on:submit=save>
                <input
                    id="canned-title"
                    aria-label=t!("replies.name").to_string()
                    placeholder=t!("replies.name_placeholder").to_string()
                    maxlength=MAX_CANNED_TITLE_CHARS.to_string()
                    prop:value=title
                    on:input=move |event| title.set(event_target_value(&event))
                />
                <textarea
                    id="canned-body"
                    aria-label=t!("replies.body").to_string()
                    placeholder=t!("replies.body").to_string()
                    rows="3"
                    prop:value=body
                    on:input=move |event| body.set(event_target_value(&event))
                ></textarea>
                <div class="form-actions">
                    <button id="save-canned" class="primary" type="submit" disabled=move || saving.get()>
                        {move || if editing.get().is_some() { t!("replies.save") } else { t!("replies.add") }.to_string()}
                    </button>
                    <Show when=move || editing.get().is_some()>
                        <button type="button" class="secondary" on:click=move |_| clear()>{t!("replies.cancel").to_string()}</button>
                    </Show>
                </div>
            </form>
            <ul class="canned-list" id="canned-list">
                <For each=move || ctx.canned.get() key=|canned| (canned.id, canned.title.clone(), canned.body.clone()) let:canned>
                    <li class="card canned-item" data-canned=canned.id.to_string()>
                        <div class="canned-title">{canned.title.clone()}</div>
                        <div class="canned-body">{canned.body.clone()}</div>
                        <div class="form-actions">
                            <button class="link-button edit-canned" on:click={
                                let canned = canned.clone();
                                move |_| edit(canned.clone())
                            }>{t!("replies.edit").to_string()}</button>
                            <button class="link-button delete-canned" on:click=move |_| delete(canned.id)>{t!("replies.delete").to_string()}</button>
                        </div>
                    </li>
                </For>
            </ul>
            <Show when=move || ctx.canned.with(Vec::is_empty)>
                <p class="list-empty">{t!("replies.empty").to_string()}</p>
            </Show>
        </main>
    }
}
