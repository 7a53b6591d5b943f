//! Internal notes beside the timeline: add, edit, delete, with teammates' edits arriving live.
//! An edit names the version it was based on; when a teammate changed the note meanwhile the
//! server refuses it, and the panel shows their text next to yours — yours stays in the editor,
//! nothing is lost — so you can merge and save again. `@name` mentions notify that teammate.

use baton_shared::protocol::{ClientMsg, ErrorDetail};
use baton_shared::{ConversationId, NoteId};
use leptos::prelude::*;

use crate::context::Ctx;
use crate::format::clock_time;
use crate::ws::Answer;

#[component]
pub fn NotesPanel(id: ConversationId) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let link = ctx.link;
    let new_note = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    link.forget_when_live(error);
    let notes = Memo::new(move |_| {
        link.inbox.with(|inbox| {
            inbox
                .conversations
                .get(&id)
                .map(|view| view.notes.values().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
        })
    });
    let adding = StoredValue::new(false);
    let add = move |_| {
        let body = new_note.get_untracked();
        // A double click adds the note once.
        if body.trim().is_empty() || adding.get_value() {
            return;
        }
        adding.set_value(true);
        link.request(
            move |req_id| ClientMsg::AddNote { req_id, conversation_id: id, body },
            move |answer: Answer| {
                adding.set_value(false);
                match answer {
                    Ok(_) => {
                        new_note.set(String::new());
                        error.set(None);
                    }
                    Err(refused) => error.set(Some(refused.message)),
                }
            },
        );
    };
    view! {
        <section class="notes" id="notes" aria-label=t!("notes.panel").to_string()>
            <h3>{t!("notes.title").to_string()}</h3>
            <p class="hint">{t!("notes.hint").to_string()}</p>
            <ul class="note-list">
                // Keyed by id only: a teammate's edit updates the item in place, so an editor that
                // is open keeps what its user typed.
                <For each=move || notes.get() key=|note| note.id let:note>
                    <NoteItem id=id note_id=note.id />
                </For>
            </ul>
            <textarea
                id="new-note"
                rows="3"
                aria-label=t!("notes.new").to_string()
                placeholder=t!("notes.placeholder").to_string()
                prop:value=new_note
                on:input=move |event| new_note.set(event_target_value(&event))
            ></textarea>
            <button id="add-note" class="secondary" on:click=add>{t!("notes.add").to_string()}</button>
            <Show when=move || error.get().is_some()>
                <p class="alert" role="alert">{move || error.get()}</p>
            </Show>
        </section>
    }
}

#[component]
fn NoteItem(id: ConversationId, note_id: NoteId) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let link = ctx.link;
    let current = Memo::new(move |_| {
        link.inbox.with(|inbox| inbox.conversations.get(&id).and_then(|view| view.notes.get(&note_id).cloned()))
    });
    let editing = RwSignal::new(false);
    let text = RwSignal::new(String::new());
    let base_version = RwSignal::new(0);
    let theirs = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let start_editing = move |_| {
        if let Some(note) = current.get_untracked() {
            text.set(note.body);
            base_version.set(note.version);
            theirs.set(None);
            editing.set(true);
        }
    };
    let save = move |_| {
        let body = text.get_untracked();
        let base = base_version.get_untracked();
        link.request(
            move |req_id| ClientMsg::EditNote { req_id, note_id, body, base_version: base },
            move |answer: Answer| match answer {
                Ok(_) => {
                    editing.set(false);
                    theirs.set(None);
                    error.set(None);
                }
                Err(refused) => match refused.detail {
                    Some(ErrorDetail::CurrentNote { note }) => {
                        // Keep the user's words; show the teammate's and base the next save on them.
                        base_version.set(note.version);
                        theirs.set(Some(note.body));
                    }
                    _ => error.set(Some(refused.message)),
                },
            },
        );
    };
    let delete = move |_| {
        link.request(
            move |req_id| ClientMsg::DeleteNote { req_id, note_id },
            move |answer: Answer| {
                if let Err(refused) = answer {
                    error.set(Some(refused.message));
                }
            },
        );
    };
    let me = ctx.me().id;
    let may_change =
        move || ctx.is_supervisor() || current.with(|note| note.as_ref().is_some_and(|note| note.author == me));
    let author = move || current.with(|note| note.as_ref().map(|note| ctx.name_of(note.author))).unwrap_or_default();
    let updated = move || current.with(|note| note.as_ref().map(|note| note.updated_at)).unwrap_or_default();
    let edited = move || current.with(|note| note.as_ref().is_some_and(|note| note.version > 1));
    let body = move || current.with(|note| note.as_ref().map(|note| note.body.clone())).unwrap_or_default();
    view! {
        <li class="note" data-note=note_id.to_string()>
            <div class="note-meta">
                <strong>{author}</strong>
                " · "
                <time>{move || clock_time(updated(), ctx.now.get())}</time>
                {move || edited().then_some(" · edited")}
            </div>
            <Show
                when=move || editing.get()
                fallback=move || view! {
                    <p class="note-body">{body}</p>
                    // Agents change their own notes; supervisors anyone's (as the server checks).
                    <Show when=may_change>
                        <div class="note-actions">
                            <button class="link-button edit-note" on:click=start_editing>{t!("notes.edit").to_string()}</button>
                            <button class="link-button delete-note" on:click=delete>{t!("notes.delete").to_string()}</button>
                        </div>
                    </Show>
                }
            >
                <textarea class="note-editor" rows="3" aria-label=t!("notes.editor").to_string() prop:value=text on:input=move |event| text.set(event_target_value(&event))></textarea>
                {move || theirs.get().map(|theirs| view! {
                    <div class="conflict" role="alert">
                        <p>{t!("notes.conflict").to_string()}</p>
                        <blockquote>{theirs}</blockquote>
                        <p>{t!("notes.conflict_keep").to_string()}</p>
                    </div>
                })}
                <div class="note-actions">
                    <button class="secondary save-note" on:click=save>{t!("notes.save").to_string()}</button>
                    <button class="link-button" on:click=move |_| editing.set(false)>{t!("notes.cancel").to_string()}</button>
                </div>
            </Show>
            <Show when=move || error.get().is_some()>
                <p class="alert" role="alert">{move || error.get()}</p>
            </Show>
        </li>
    }
}
