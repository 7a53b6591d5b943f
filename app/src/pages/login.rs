//! The login screen.

use baton_shared::api::Me;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;

#[component]
pub fn Login(on_login: Callback<Me>) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let (typed_email, typed_password) = (email.get_untracked(), password.get_untracked());
        spawn_local(async move {
            let outcome = api::login(typed_email, typed_password).await;
            busy.set(false);
            match outcome {
                Ok(me) => on_login.run(me),
                Err(failure) => {
                    password.set(String::new());
                    error.set(Some(failure.message));
                }
            }
        });
    };

    view! {
        <main class="login">
            <form class="login-card" on:submit=submit aria-labelledby="login-title">
                <div class="brand">
                    <span class="brand-mark" aria-hidden="true">"B"</span>
                    <span id="login-title">"Baton"</span>
                </div>
                <p class="lead">{t!("login.lead").to_string()}</p>
                <label class="field">
                    {t!("login.email").to_string()}
                    <input
                        id="login-email"
                        type="email"
                        autocomplete="username"
                        required
                        prop:value=email
                        on:input=move |event| email.set(event_target_value(&event))
                    />
                </label>
                <label class="field">
                    {t!("login.password").to_string()}
                    <input
                        id="login-password"
                        type="password"
                        autocomplete="current-password"
                        required
                        prop:value=password
                        on:input=move |event| password.set(event_target_value(&event))
                    />
                </label>
                <Show when=move || error.get().is_some()>
                    <p class="alert" role="alert" id="login-error">{move || error.get()}</p>
                </Show>
                <button id="login-submit" class="primary" type="submit" disabled=move || busy.get()>
                    {move || if busy.get() { t!("login.busy") } else { t!("login.submit") }.to_string()}
                </button>
            </form>
        </main>
    }
}
