//! Baton's web app: a Leptos client compiled to WASM and served by the Baton server. It speaks
//! only the `baton-shared` types: REST ([`api`]) for login, the inbox list and histories, and the
//! WebSocket ([`ws`]) for everything live; [`state`] is the inbox model the socket's messages are
//! applied to, [`format`] how things read, [`notify`] browser notifications and toasts.
//!
//! [`App`] decides between the login page and the inbox shell from `GET /api/me`.

// `t!` in every module.
#[macro_use]
extern crate rust_i18n;

// The catalogue (`app/locales/*.yml`), compiled in; English fills any gap.
rust_i18n::i18n!("locales", fallback = "en");

pub mod api;
pub mod components;
pub mod context;
pub mod format;
pub mod i18n;
pub mod icons;
pub mod latest;
pub mod notify;
pub mod pages;
pub mod route;
pub mod state;
pub mod theme;
pub mod ws;

use baton_shared::api::Me;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::Router;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::pages::login::Login;
use crate::pages::shell::Shell;

/// What the app knows about who is using it.
#[derive(Clone, Debug, PartialEq)]
pub enum Session {
    /// Asking the server.
    Checking,
    LoggedOut,
    LoggedIn(Me),
}

#[component]
pub fn App() -> impl IntoView {
    let session = RwSignal::new(Session::Checking);
    spawn_local(async move {
        let known = match api::me().await {
            Ok(Some(me)) => Session::LoggedIn(me),
            Ok(None) | Err(_) => Session::LoggedOut,
        };
        session.set(known);
    });
    let on_login = Callback::new(move |me: Me| session.set(Session::LoggedIn(me)));
    let on_logout = Callback::new(move |()| session.set(Session::LoggedOut));
    // The router wraps login too: a shared link (`/c/{id}`) opened logged out shows the
    // conversation once logged in.
    view! {
        <Router>
            {move || match session.get() {
                Session::Checking => view! { <div class="splash">{t!("app.loading").to_string()}</div> }.into_any(),
                Session::LoggedOut => view! { <Login on_login=on_login /> }.into_any(),
                Session::LoggedIn(me) => view! { <Shell me=me on_logout=on_logout /> }.into_any(),
            }}
        </Router>
    }
}

/// Runs when the WASM module is instantiated.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    i18n::init();
    leptos::mount::mount_to_body(App);
}
