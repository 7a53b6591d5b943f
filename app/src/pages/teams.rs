//! The Teams page (admins): every team with its assignment model, sticky window and offline
//! grace, and its members with their capacities; a new team by name. Each change is saved over
//! REST and the teams everyone sees are loaded again.

use baton_shared::TeamId;
use baton_shared::teams::{
    AssignmentModel, DEFAULT_CAPACITY, MembershipRequest, MembershipsRequest, Team, TeamRequest,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::context::Ctx;

#[component]
pub fn TeamsPage() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let create = move |_| {
        let request = TeamRequest {
            name: name.get_untracked(),
            model: AssignmentModel::Manual,
            sticky: true,
            sticky_days: baton_shared::teams::DEFAULT_STICKY_DAYS,
            grace_minutes: baton_shared::teams::DEFAULT_GRACE_MINUTES,
        };
        spawn_local(async move {
            match api::create_team(&request).await {
                Ok(_) => {
                    name.set(String::new());
                    error.set(None);
                    ctx.reload_teams();
                }
                Err(failure) => error.set(Some(failure.message)),
            }
        });
    };
    view! {
        <section class="admin teams-page" id="teams-page">
            <h1>{t!("teams.title").to_string()}</h1>
            <p class="hint">{t!("teams.intro").to_string()}</p>
            <div class="new-team">
                <input id="new-team-name" aria-label=t!("teams.name").to_string() placeholder=t!("teams.new").to_string()
                    prop:value=name on:input=move |event| name.set(event_target_value(&event)) />
                <button id="create-team" class="primary" on:click=create>{t!("teams.create").to_string()}</button>
            </div>
            {move || error.get().map(|message| view! { <p class="alert" role="alert">{message}</p> })}
            <Show when=move || ctx.teams.with(Vec::is_empty)>
                <p class="list-empty">{t!("teams.empty").to_string()}</p>
            </Show>
            // Built again when the directory of teammates arrives (the member lists come from it).
            {move || {
                ctx.team.track();
                view! {
                    <For each=move || ctx.teams.get() key=|team| format!("{team:?}") let:team>
                        <TeamCard team=team />
                    </For>
                }
            }}
        </section>
    }
}

#[component]
fn TeamCard(team: Team) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let id: TeamId = team.id;
    let name = RwSignal::new(team.name.clone());
    let model = RwSignal::new(team.model);
    let sticky = RwSignal::new(team.sticky);
    let sticky_days = RwSignal::new(team.sticky_days.to_string());
    let grace = RwSignal::new(team.grace_minutes.to_string());
    // Every active teammate, with their capacity here if they are a member.
    let capacities: Vec<(baton_shared::UserId, String, RwSignal<bool>, RwSignal<String>)> = ctx
        .team
        .get_untracked()
        .into_iter()
        .map(|member| {
            let held = team.members.iter().find(|membership| membership.user == member.id);
            let capacity = held.map_or(DEFAULT_CAPACITY, |membership| membership.capacity);
            (member.id, member.name, RwSignal::new(held.is_some()), RwSignal::new(capacity.to_string()))
        })
        .collect();
    let capacities = StoredValue::new(capacities);
    let status = RwSignal::new(None::<Result<(), String>>);
    let settle = move |outcome: Result<Team, api::Failure>| match outcome {
        Ok(_) => {
            status.set(Some(Ok(())));
            ctx.reload_teams();
        }
        Err(failure) => status.set(Some(Err(failure.message))),
    };
    let save_settings = move |_| {
        let request = TeamRequest {
            name: name.get_untracked(),
            model: model.get_untracked(),
            sticky: sticky.get_untracked(),
            sticky_days: sticky_days.get_untracked().trim().parse().unwrap_or(u32::MAX),
            grace_minutes: grace.get_untracked().trim().parse().unwrap_or(u32::MAX),
        };
        spawn_local(async move { settle(api::update_team(id, &request).await) });
    };
    let save_members = move |_| {
        let members = capacities.with_value(|all| {
            all.iter()
                .filter(|(_, _, member, _)| member.get_untracked())
                .map(|(user, _, _, capacity)| MembershipRequest {
                    user: *user,
                    capacity: capacity.get_untracked().trim().parse().ok(),
                })
                .collect()
        });
        let request = MembershipsRequest { members };
        spawn_local(async move { settle(api::set_members(id, &request).await) });
    };
    let model_option = |option: AssignmentModel| {
        let label = t!(format!("teams.model_{}", option.as_str())).to_string();
        view! { <option value=option.as_str() selected=move || model.get() == option>{label}</option> }
    };
    view! {
        <article class="team-card" data-team=team.name.clone()>
            <div class="team-settings">
                <input class="team-name" aria-label=t!("teams.name").to_string() prop:value=name
                    on:input=move |event| name.set(event_target_value(&event)) />
                <label>
                    {t!("teams.model").to_string()}
                    <select class="team-model" on:change=move |event| {
                        if let Some(chosen) = AssignmentModel::parse(&event_target_value(&event)) {
                            model.set(chosen);
                        }
                    }>
                        {AssignmentModel::ALL.into_iter().map(model_option).collect_view()}
                    </select>
                </label>
                <label class="check">
                    <input type="checkbox" prop:checked=sticky on:change=move |event| sticky.set(event_target_checked(&event)) />
                    {t!("teams.sticky").to_string()}
                </label>
                <label>
                    {t!("teams.sticky_days").to_string()}
                    <input class="number" type="number" min="0" prop:value=sticky_days
                        on:input=move |event| sticky_days.set(event_target_value(&event)) />
                </label>
                <label>
                    {t!("teams.grace").to_string()}
                    <input class="number" type="number" min="0" prop:value=grace
                        on:input=move |event| grace.set(event_target_value(&event)) />
                </label>
                <button class="secondary save-team" on:click=save_settings>{t!("teams.save").to_string()}</button>
            </div>
            <h3>{t!("teams.members").to_string()}</h3>
            <ul class="team-members">
                {capacities.with_value(|all| all.iter().map(|(user, member_name, member, capacity)| {
                    let (member, capacity) = (*member, *capacity);
                    view! {
                        <li data-user=user.to_string()>
                            <label class="check">
                                <input type="checkbox" prop:checked=member on:change=move |event| member.set(event_target_checked(&event)) />
                                {member_name.clone()}
                            </label>
                            <input class="number capacity" type="number" min="0"
                                aria-label=t!("teams.capacity", name = member_name.clone()).to_string()
                                prop:value=capacity on:input=move |event| capacity.set(event_target_value(&event)) />
                        </li>
                    }
                }).collect_view())}
            </ul>
            <button class="secondary save-members" on:click=save_members>{t!("teams.save_members").to_string()}</button>
            {move || status.get().map(|outcome| match outcome {
                Ok(()) => view! { <span class="saved" role="status">{t!("teams.saved").to_string()}</span> }.into_any(),
                Err(message) => view! { <p class="alert" role="alert">{message}</p> }.into_any(),
            })}
        </article>
    }
}
