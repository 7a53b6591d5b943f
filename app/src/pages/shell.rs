//! The frame shown after login: the top bar (brand, connection banner, own status, who is logged
//! in, notifications, logout) and the sections the role allows (inbox, supervisor wall, canned
//! responses, users). It builds the shared [`Ctx`] every view reads.

use baton_shared::api::{Me, Role};
use baton_shared::protocol::{ClientMsg, PresenceStatus};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::context::Ctx;
use crate::format::{initials, now_ms};
use crate::notify;
use crate::pages::admin::Users;
use crate::pages::inbox::InboxPage;
use crate::pages::replies::Replies;
use crate::pages::wall::Wall;
use crate::route::Section;
use crate::state::Inbox;
use crate::ws::{Link, LinkStatus};

#[component]
pub fn Shell(me: Me, on_logout: Callback<()>) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let link = Link::start(Inbox::new(me.clone()));
    let ctx = Ctx::new(me.clone(), link, now_ms());
    provide_context(ctx);
    if let Ok(ticker) = set_interval_with_handle(move || ctx.now.set(now_ms()), std::time::Duration::from_secs(15)) {
        on_cleanup(move || ticker.clear());
    }
    spawn_local(async move {
        if let Ok(team) = api::team().await {
            ctx.team.set(team);
        }
    });
    ctx.reload_canned();
    ctx.reload_teams();
    ctx.reload_attributes();
    // Memberships change rarely and the server filters by them live; the app catches up within a
    // minute (its queues, and which events it keeps).
    if let Ok(refresher) = set_interval_with_handle(move || ctx.reload_teams(), std::time::Duration::from_secs(60)) {
        on_cleanup(move || refresher.clear());
    }
    on_cleanup(move || link.stop());
    notify::watch(ctx);
    Effect::new(move |_| {
        if link.status.get() == LinkStatus::SessionEnded {
            on_logout.run(());
        }
    });

    // A memo: moving from one conversation to another is no change of section (the inbox stays).
    let section = Memo::new(move |_| ctx.section());
    let logout = move |_| {
        spawn_local(async move {
            match api::logout().await {
                Ok(()) => on_logout.run(()),
                Err(failure) => error.set(Some(failure.message)),
            }
        });
    };
    let role = me.role;
    let my_id = me.id;
    let my_status = move || {
        link.inbox
            .with(|inbox| inbox.presence.get(&my_id).map(|presence| presence.status))
            .unwrap_or(PresenceStatus::Available)
    };
    let choose_status = move |event: leptos::ev::Event| {
        let status = match event_target_value(&event).as_str() {
            "busy" => PresenceStatus::Busy,
            "away" => PresenceStatus::Away,
            _ => PresenceStatus::Available,
        };
        link.send(|req_id| ClientMsg::SetPresence { req_id, status });
    };
    let tab = move |target: Section, label: String, id: &'static str| {
        view! {
            <button
                id=id
                class="nav-tab"
                class:active=move || section.get() == target
                on:click=move |_| ctx.go_to_section(target)
            >
                {label}
            </button>
        }
    };
    view! {
        <div class="shell">
            <header class="topbar">
                <div class="brand">
                    <span class="brand-mark" aria-hidden="true">"B"</span>
                    "Baton"
                </div>
                <nav class="nav">
                    {tab(Section::Inbox, t!("nav.inbox").to_string(), "nav-inbox")}
                    {tab(Section::Contacts, t!("nav.contacts").to_string(), "nav-contacts")}
                    {role.at_least(Role::Supervisor).then(|| tab(Section::Wall, t!("nav.wall").to_string(), "nav-wall"))}
                    {role.at_least(Role::Lead).then(|| tab(Section::Reports, t!("nav.reports").to_string(), "nav-reports"))}
                    {role.at_least(Role::Supervisor).then(|| tab(Section::Replies, t!("nav.replies").to_string(), "nav-replies"))}
                    {role.at_least(Role::Admin).then(|| tab(Section::Users, t!("nav.users").to_string(), "nav-users"))}
                    {role.at_least(Role::Admin).then(|| tab(Section::Teams, t!("nav.teams").to_string(), "nav-teams"))}
                    {role.at_least(Role::Supervisor).then(|| tab(Section::Rules, t!("nav.rules").to_string(), "nav-rules"))}
                    {role.at_least(Role::Supervisor).then(|| tab(Section::Automation, t!("nav.automation").to_string(), "nav-automation"))}
                </nav>
                <crate::components::search::SearchBox />
                <ConnectionBanner status=link.status />
                <div class="who">
                    <notify::Toggle />
                    <crate::theme::ThemeMenu />
                    <crate::i18n::LanguageMenu />
                    <select id="my-status" class="status-select" aria-label=t!("me.status").to_string() on:change=choose_status>
                        <option value="available" selected=move || my_status() == PresenceStatus::Available>
                            {t!("me.available").to_string()}
                        </option>
                        <option value="busy" selected=move || my_status() == PresenceStatus::Busy>{t!("me.busy").to_string()}</option>
                        <option value="away" selected=move || my_status() == PresenceStatus::Away>{t!("me.away").to_string()}</option>
                    </select>
                    <span class="avatar" aria-hidden="true">{initials(&me.name)}</span>
                    <div>
                        <div class="who-name" id="me-name">{me.name.clone()}</div>
                        <span class="role-badge" id="me-role" data-role=role.as_str()>{t!(format!("role.{}", role.as_str())).to_string()}</span>
                    </div>
                    <button id="logout" class="secondary" on:click=logout>{t!("me.logout").to_string()}</button>
                </div>
            </header>
            <Show when=move || error.get().or(link.list_error.get()).is_some()>
                <p class="alert" role="alert">{move || error.get().or(link.list_error.get())}</p>
            </Show>
            <notify::Toasts />
            // A section the role does not allow (a link shared by a supervisor) shows the inbox.
            {move || match section.get() {
                Section::Wall if role.at_least(Role::Supervisor) => view! { <Wall /> }.into_any(),
                Section::Replies if role.at_least(Role::Supervisor) => view! { <Replies /> }.into_any(),
                Section::Users if role.at_least(Role::Admin) => view! { <Users /> }.into_any(),
                Section::Teams if role.at_least(Role::Admin) => view! { <crate::pages::teams::TeamsPage /> }.into_any(),
                Section::Rules if role.at_least(Role::Supervisor) => view! { <crate::pages::rules::RulesPage /> }.into_any(),
                Section::Automation if role.at_least(Role::Supervisor) => {
                    view! { <crate::pages::automation::AutomationPage /> }.into_any()
                }
                Section::Contacts => view! { <crate::pages::contacts::ContactsPage /> }.into_any(),
                Section::Reports if role.at_least(Role::Lead) => {
                    view! { <crate::pages::reports::ReportsPage /> }.into_any()
                }
                _ => view! { <InboxPage /> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn ConnectionBanner(status: RwSignal<LinkStatus>) -> impl IntoView {
    move || match status.get() {
        LinkStatus::Live => {
            view! { <span id="link-live" class="link-state live">{t!("link.live").to_string()}</span> }.into_any()
        }
        LinkStatus::Connecting => {
            view! { <span class="link-state">{t!("link.connecting").to_string()}</span> }.into_any()
        }
        LinkStatus::Reconnecting(_) => view! {
            <span id="reconnecting" class="link-state down" role="status">{t!("link.reconnecting").to_string()}</span>
        }
        .into_any(),
        LinkStatus::SessionEnded => {
            view! { <span class="link-state down">{t!("link.signed_out").to_string()}</span> }.into_any()
        }
    }
}
