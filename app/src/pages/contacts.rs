//! The Contacts page: every customer the user may see, searched (words of a name, email, company,
//! label or attribute; any run of digits of the number), filtered by label, attribute value and
//! blocked, sorted; a row opens the profile. Supervisors and admins also import (a preview first,
//! problems by line, all or nothing), export, and define the attributes.

use baton_shared::contacts::{ContactList, ContactListRequest, ContactSort, ImportAction, ImportReport, shown_name};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::context::Ctx;
use crate::format::clock_time;
use crate::latest::ask_latest;
use crate::route::Place;

#[component]
pub fn ContactsPage() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    move || match ctx.place.get() {
        Place::Contacts(Some(id)) => view! { <super::contact_profile::ContactProfilePage id=id /> }.into_any(),
        _ => view! { <ContactList /> }.into_any(),
    }
}

/// Contacts on a page of the list.
const PAGE: u32 = 50;

#[component]
fn ContactList() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let request = RwSignal::new(ContactListRequest { limit: Some(PAGE), ..Default::default() });
    let list = RwSignal::new(None::<ContactList>);
    let error = RwSignal::new(None::<String>);
    // Every change of the filters asks again; only the latest answer is shown.
    ask_latest(
        move || request.get(),
        |asked| async move { api::contacts(&asked).await },
        move |answer| match answer {
            Ok(found) => {
                error.set(None);
                list.set(Some(found));
            }
            Err(failure) => error.set(Some(failure.message)),
        },
    );
    let set = move |change: fn(&mut ContactListRequest, String)| {
        move |event: leptos::ev::Event| {
            let value = event_target_value(&event);
            // A new filter or order starts from the first page.
            request.update(|request| {
                change(request, value);
                request.offset = None;
            });
        }
    };
    let attribute_options = move || {
        ctx.attributes
            .get()
            .into_iter()
            .map(|definition| view! { <option value=definition.key.clone()>{definition.label.clone()}</option> })
            .collect_view()
    };
    view! {
        <section class="page contacts-page" id="contacts-page">
            <header class="page-head">
                <h2>{t!("contacts.title").to_string()}</h2>
                {ctx.is_supervisor().then(|| view! {
                    <a class="button secondary" id="export-contacts" href="/api/contacts/export" download="contacts.csv">
                        {t!("contacts.export").to_string()}
                    </a>
                })}
            </header>
            <div class="filters" role="group" aria-label=t!("contacts.filters").to_string()>
                <input id="contacts-q" type="search" placeholder=t!("contacts.search").to_string() aria-label=t!("contacts.search").to_string()
                    on:input=set(|request, value| request.q = Some(value)) />
                <input id="contacts-label" type="text" placeholder=t!("contacts.label").to_string() aria-label=t!("contacts.label").to_string()
                    on:change=set(|request, value| request.label = Some(value).filter(|value| !value.trim().is_empty())) />
                <select id="contacts-attribute" aria-label=t!("contacts.attribute").to_string()
                    on:change=set(|request, value| request.attribute = Some(value).filter(|value| !value.is_empty()))>
                    <option value="">{t!("contacts.any_attribute").to_string()}</option>
                    {attribute_options}
                </select>
                <input id="contacts-value" type="text" placeholder=t!("contacts.value").to_string() aria-label=t!("contacts.value").to_string()
                    on:change=set(|request, value| request.value = Some(value).filter(|value| !value.trim().is_empty())) />
                <select id="contacts-blocked" aria-label=t!("contacts.blocked").to_string()
                    on:change=set(|request, value| request.blocked = match value.as_str() { "yes" => Some(true), "no" => Some(false), _ => None })>
                    <option value="">{t!("contacts.blocked_any").to_string()}</option>
                    <option value="no">{t!("contacts.blocked_no").to_string()}</option>
                    <option value="yes">{t!("contacts.blocked_yes").to_string()}</option>
                </select>
                <select id="contacts-sort" aria-label=t!("contacts.sort").to_string()
                    on:change=set(|request, value| request.sort = match value.as_str() { "name" => ContactSort::Name, "created" => ContactSort::Created, _ => ContactSort::Recent })>
                    <option value="recent">{t!("contacts.sort_recent").to_string()}</option>
                    <option value="name">{t!("contacts.sort_name").to_string()}</option>
                    <option value="created">{t!("contacts.sort_created").to_string()}</option>
                </select>
            </div>
            {move || error.get().map(|message| view! { <p class="alert" role="alert">{message}</p> })}
            {move || list.get().map(|found| {
                let total = found.total;
                let from = request.with_untracked(|request| request.offset.unwrap_or(0));
                let to = from + u32::try_from(found.contacts.len()).unwrap_or(u32::MAX);
                let turn = move |forward: bool| {
                    request.update(|request| {
                        let at = request.offset.unwrap_or(0);
                        request.offset = Some(if forward { at + PAGE } else { at.saturating_sub(PAGE) }).filter(|at| *at > 0);
                    });
                };
                view! {
                    <p class="hint" id="contacts-total">{match total {
                        1 => t!("contacts.total_one").to_string(),
                        _ if total > to - from => t!("contacts.showing", from = from + 1, to = to, count = total).to_string(),
                        _ => t!("contacts.total", count = total).to_string(),
                    }}</p>
                    {(total > to - from).then(|| view! {
                        <nav class="pager" aria-label=t!("contacts.pages").to_string()>
                            <button class="secondary" id="contacts-previous" disabled={from == 0} on:click=move |_| turn(false)>
                                {t!("contacts.previous").to_string()}
                            </button>
                            <button class="secondary" id="contacts-next" disabled={to >= total} on:click=move |_| turn(true)>
                                {t!("contacts.next").to_string()}
                            </button>
                        </nav>
                    })}
                    <table class="contacts-table" id="contacts-table">
                        <thead><tr>
                            <th>{t!("contact.name").to_string()}</th>
                            <th>{t!("contacts.phone").to_string()}</th>
                            <th>{t!("contact.email").to_string()}</th>
                            <th>{t!("contact.company").to_string()}</th>
                            <th>{t!("contact.labels").to_string()}</th>
                            <th>{t!("contacts.conversations").to_string()}</th>
                            <th>{t!("contacts.last_seen").to_string()}</th>
                        </tr></thead>
                        <tbody>
                            {found.contacts.into_iter().map(|record| {
                                let id = record.contact.id;
                                let seen = record.contact.last_inbound_at;
                                view! {
                                    <tr data-contact=id.to_string() class:blocked=record.contact.blocked>
                                        <td><button class="link-button" on:click=move |_| ctx.go(Place::Contacts(Some(id)))>{shown_name(&record.contact)}</button></td>
                                        <td class="phone">{record.phone.clone()}</td>
                                        <td>{record.email.clone()}</td>
                                        <td>{record.company.clone()}</td>
                                        <td>{record.labels.iter().map(|label| view! { <span class="label-chip">{label.clone()}</span> }).collect_view()}</td>
                                        <td>{record.conversations.unwrap_or_default()}</td>
                                        <td>{seen.map(|seen| clock_time(seen, ctx.now.get_untracked()))}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }
            })}
            {ctx.is_supervisor().then(|| view! {
                <Import on_done=Callback::new(move |()| request.update(|_| {})) />
                <super::contact_attributes::AttributesEditor />
            })}
        </section>
    }
}

/// CSV import: choose a file, see the preview (what each row does, every problem by line), then
/// import — offered only when no row has a problem.
#[component]
fn Import(on_done: Callback<()>) -> impl IntoView {
    let report = RwSignal::new(None::<ImportReport>);
    let error = RwSignal::new(None::<String>);
    let file = StoredValue::new_local(None::<web_sys::File>);
    let busy = RwSignal::new(false);
    let send = move |commit: bool| {
        let Some(chosen) = file.get_value() else { return };
        busy.set(true);
        spawn_local(async move {
            match api::import_contacts(chosen, commit).await {
                Ok(answer) => {
                    error.set(None);
                    if answer.committed {
                        on_done.run(());
                    }
                    report.set(Some(answer));
                }
                Err(failure) => error.set(Some(failure.message)),
            }
            busy.set(false);
        });
    };
    let chosen = move |event: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&event);
        file.set_value(input.files().and_then(|files| files.get(0)));
        report.set(None);
        send(false);
    };
    view! {
        <section class="import" id="import-contacts">
            <h3>{t!("contacts.import").to_string()}</h3>
            <p class="hint">{t!("contacts.import_hint").to_string()}</p>
            <input type="file" id="import-file" accept=".csv,text/csv" aria-label=t!("contacts.import_file").to_string() on:change=chosen />
            {move || error.get().map(|message| view! { <p class="alert" role="alert">{message}</p> })}
            {move || report.get().map(|report| {
                let problems = report.problems.clone();
                let clean = problems.is_empty();
                view! {
                    <div class="import-report" id="import-report">
                        <p>{if report.committed {
                            t!("contacts.imported", creates = report.creates, updates = report.updates).to_string()
                        } else {
                            t!("contacts.preview", rows = report.rows, creates = report.creates, updates = report.updates).to_string()
                        }}</p>
                        {(!clean).then(|| view! {
                            <p class="alert" role="alert">{t!("contacts.refused", count = problems.len()).to_string()}</p>
                            <ul class="problems" id="import-problems">
                                {problems.into_iter().map(|problem| view! {
                                    <li data-line=problem.line.to_string()>{t!("contacts.line", line = problem.line, message = problem.message).to_string()}</li>
                                }).collect_view()}
                            </ul>
                        })}
                        {(!report.committed).then(|| view! {
                            <table class="import-preview">
                                <tbody>
                                    {report.preview.iter().map(|row| view! {
                                        <tr>
                                            <td>{row.line}</td>
                                            <td class="phone">{row.phone.clone()}</td>
                                            <td>{row.name.clone()}</td>
                                            <td>{match row.action { ImportAction::Create => t!("contacts.create"), ImportAction::Update => t!("contacts.update") }.to_string()}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <button id="import-commit" disabled=move || !clean || busy.get() on:click=move |_| send(true)>
                                {t!("contacts.import_now").to_string()}
                            </button>
                        })}
                    </div>
                }
            })}
        </section>
    }
}
