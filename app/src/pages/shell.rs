//! The inbox shell shown after login: who is logged in, their role, and a way out. The inbox
//! itself fills the main area in a later issue.

use baton_shared::api::Me;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;

/// Up to two initials for the avatar.
pub fn initials(name: &str) -> String {
    name.split_whitespace().filter_map(|word| word.chars().next()).take(2).flat_map(char::to_uppercase).collect()
}

#[component]
pub fn Shell(me: Me, on_logout: Callback<()>) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let logout = move |_| {
        spawn_local(async move {
            match api::logout().await {
                Ok(()) => on_logout.run(()),
                Err(failure) => error.set(Some(failure.message)),
            }
        });
    };
    let role = me.role;
    view! {
        <div class="shell">
            <header class="topbar">
                <div class="brand">
                    <span class="brand-mark" aria-hidden="true">"B"</span>
                    "Baton"
                </div>
                <div class="who">
                    <span class="avatar" aria-hidden="true">{initials(&me.name)}</span>
                    <div>
                        <div class="who-name" id="me-name">{me.name.clone()}</div>
                        <span class="role-badge" id="me-role" data-role=role.as_str()>{role.label()}</span>
                    </div>
                    <button id="logout" class="secondary" on:click=logout>"Log out"</button>
                </div>
            </header>
            <Show when=move || error.get().is_some()>
                <p class="alert" role="alert">{move || error.get()}</p>
            </Show>
            <main class="inbox-placeholder">
                <section class="empty">
                    <h2>"Your inbox"</h2>
                    <p>
                        "Signed in as " <strong>{me.email.clone()}</strong> " ("{role.label()}"). "
                        "Conversations assigned to you and your team will appear here."
                    </p>
                </section>
            </main>
        </div>
    }
}
