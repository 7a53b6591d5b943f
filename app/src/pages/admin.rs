//! Users and roles, for admins: the accounts, a form to create one, and per account its role
//! and whether it is disabled (the foundation's `/api/users` endpoints).

use baton_shared::api::{CreateUserRequest, Role, UpdateUserRequest, User};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;

const ROLES: [Role; 4] = [Role::Agent, Role::Lead, Role::Supervisor, Role::Admin];

fn role_of(text: &str) -> Role {
    ROLES.into_iter().find(|role| role.as_str() == text).unwrap_or(Role::Agent)
}

#[component]
pub fn Users() -> impl IntoView {
    let users = RwSignal::new(Vec::<User>::new());
    let error = RwSignal::new(None::<String>);
    let reload = move || {
        spawn_local(async move {
            match api::users().await {
                Ok(list) => users.set(list),
                Err(failure) => error.set(Some(failure.message)),
            }
        });
    };
    reload();
    let (name, email, password, role) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(Role::Agent),
    );
    let create = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let request = CreateUserRequest {
            name: name.get_untracked(),
            email: email.get_untracked(),
            password: password.get_untracked(),
            role: role.get_untracked(),
        };
        spawn_local(async move {
            match api::create_user(&request).await {
                Ok(_) => {
                    name.set(String::new());
                    email.set(String::new());
                    password.set(String::new());
                    error.set(None);
                    reload();
                }
                Err(failure) => error.set(Some(failure.message)),
            }
        });
    };
    let update = move |user: User, request: UpdateUserRequest| {
        spawn_local(async move {
            match api::update_user(user.id, &request).await {
                Ok(_) => {
                    error.set(None);
                    reload();
                }
                Err(failure) => {
                    // Show what the server holds, not the choice it refused.
                    error.set(Some(failure.message));
                    reload();
                }
            }
        });
    };
    view! {
        <main class="admin">
            <h2>{t!("users.title").to_string()}</h2>
            <Show when=move || error.get().is_some()>
                <p class="alert" role="alert">{move || error.get()}</p>
            </Show>
            <table class="users" id="users">
                <thead><tr><th>{t!("users.name").to_string()}</th><th>{t!("users.email").to_string()}</th><th>{t!("users.role").to_string()}</th><th>{t!("users.status").to_string()}</th><th></th></tr></thead>
                <tbody>
                    {move || users.get().into_iter().map(|user| {
                        let for_role = user.clone();
                        let for_toggle = user.clone();
                        view! {
                            <tr data-user=user.id.to_string() class:disabled=user.disabled>
                                <td>{user.name.clone()}</td>
                                <td>{user.email.clone()}</td>
                                <td>
                                    <select class="user-role" aria-label=format!("Role of {}", user.name) on:change=move |event| {
                                        let request = UpdateUserRequest { role: Some(role_of(&event_target_value(&event))), disabled: None };
                                        update(for_role.clone(), request);
                                    }>
                                        {ROLES.into_iter().map(|option| view! {
                                            <option value=option.as_str() selected=option == user.role>{t!(format!("role.{}", option.as_str())).to_string()}</option>
                                        }).collect_view()}
                                    </select>
                                </td>
                                <td>{if user.disabled { t!("users.disabled") } else { t!("users.active") }.to_string()}</td>
                                <td>
                                    <button class="secondary" on:click=move |_| {
                                        let request = UpdateUserRequest { role: None, disabled: Some(!for_toggle.disabled) };
                                        update(for_toggle.clone(), request);
                                    }>
                                        {if user.disabled { t!("users.enable") } else { t!("users.disable") }.to_string()}
                                    </button>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <form class="create-user" on:submit=create>
                <h3>{t!("users.add").to_string()}</h3>
                <input id="new-user-name" aria-label=t!("users.name").to_string() placeholder=t!("users.name").to_string() required=true prop:value=name on:input=move |event| name.set(event_target_value(&event)) />
                <input id="new-user-email" type="email" aria-label=t!("users.email").to_string() placeholder=t!("users.email").to_string() required=true prop:value=email on:input=move |event| email.set(event_target_value(&event)) />
                <input id="new-user-password" type="password" aria-label=t!("users.password").to_string() placeholder=t!("users.password").to_string() required=true prop:value=password on:input=move |event| password.set(event_target_value(&event)) />
                <select id="new-user-role" aria-label=t!("users.role").to_string() on:change=move |event| role.set(role_of(&event_target_value(&event)))>
                    {ROLES.into_iter().map(|option| view! { <option value=option.as_str()>{t!(format!("role.{}", option.as_str())).to_string()}</option> }).collect_view()}
                </select>
                <button class="primary" type="submit">{t!("users.create").to_string()}</button>
            </form>
        </main>
    }
}
