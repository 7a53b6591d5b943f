//! Automation's settings over REST. Supervisors and admins read them; admins replace each
//! document whole, based on the version they read (409 `conflict` if another admin saved since):
//!
//! - `GET|PUT /api/automation/hours`: the inbox's business hours and the teams' own;
//! - `GET /api/automation/hours/now`: for the inbox and each team, open now? and next opening;
//! - `GET|PUT /api/automation/replies`: the greeting, away message, queue acknowledgement and the
//!   hourly cap per customer;
//! - `GET|PUT /api/automation/menu`: the menu bot's menu;
//! - `GET|PUT /api/automation/sla`: service-level targets and auto-resolve, the inbox's and each
//!   team's own;
//! - `GET|PUT /api/automation/csat`: the rating request on resolve.

use std::collections::HashSet;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use baton_shared::api::{Role, User};
use baton_shared::automation::{AutoReplies, HoursNow, HoursSettings, OpenNow, Versioned};
use baton_shared::csat::CsatSettings;
use baton_shared::menu::Menu;
use baton_shared::sla::SlaSettings;

use super::extract::ApiJson;
use crate::automation::hours::Schedule;
use crate::automation::settings;
use crate::error::AppError;
use crate::sessions::CurrentUser;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/automation/hours", get(read_hours).put(save_hours))
        .route("/automation/hours/now", get(hours_now))
        .route("/automation/replies", get(read_replies).put(save_replies))
        .route("/automation/menu", get(read_menu).put(save_menu))
        .route("/automation/sla", get(read_sla).put(save_sla))
        .route("/automation/csat", get(read_csat).put(save_csat))
}

fn at_least(user: &User, role: Role) -> Result<(), AppError> {
    if user.role.at_least(role) { Ok(()) } else { Err(AppError::forbidden()) }
}

async fn read_hours(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<ApiJson<Versioned<HoursSettings>>, AppError> {
    at_least(&user, Role::Supervisor)?;
    Ok(ApiJson(settings::load(state.store.as_ref(), settings::HOURS).await?))
}

async fn save_hours(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(request): ApiJson<Versioned<HoursSettings>>,
) -> Result<ApiJson<Versioned<HoursSettings>>, AppError> {
    at_least(&user, Role::Admin)?;
    let hours = request.value;
    let teams: HashSet<_> = state.store.teams().await?.into_iter().map(|team| (team.id, team.name)).collect();
    if let Some(inbox) = &hours.inbox {
        Schedule::parse(inbox).map_err(|problem| AppError::invalid(format!("The inbox's hours: {problem}")))?;
    }
    let mut seen = HashSet::new();
    for own in &hours.teams {
        let Some((_, name)) = teams.iter().find(|(id, _)| *id == own.team) else {
            return Err(AppError::invalid("Hours are set for a team that does not exist."));
        };
        if !seen.insert(own.team) {
            return Err(AppError::invalid(format!("{name} has hours set twice.")));
        }
        Schedule::parse(&own.hours).map_err(|problem| AppError::invalid(format!("{name}'s hours: {problem}")))?;
    }
    let saved =
        settings::save(state.store.as_ref(), settings::HOURS, &hours, request.version, user.id, state.now()).await?;
    tracing::info!(version = saved.version, by = %user.id, "business hours saved");
    Ok(ApiJson(saved))
}

async fn hours_now(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<ApiJson<HoursNow>, AppError> {
    at_least(&user, Role::Supervisor)?;
    let hours: HoursSettings = settings::load(state.store.as_ref(), settings::HOURS).await?.value;
    let now = state.now();
    let scopes = std::iter::once(None)
        .chain(state.store.teams().await?.into_iter().map(|team| Some(team.id)))
        .map(|team| {
            let schedule = hours.for_team(team).and_then(|hours| Schedule::parse(hours).ok());
            match schedule {
                None => OpenNow { team, open: true, next_opening: None, next_opening_text: None },
                Some(schedule) => {
                    let next = schedule.next_opening(now);
                    OpenNow {
                        team,
                        open: schedule.is_open(now),
                        next_opening: next,
                        next_opening_text: next.map(|at| schedule.describe(at, now)),
                    }
                }
            }
        })
        .collect();
    Ok(ApiJson(HoursNow { at: now, scopes }))
}

async fn read_replies(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<ApiJson<Versioned<AutoReplies>>, AppError> {
    at_least(&user, Role::Supervisor)?;
    Ok(ApiJson(settings::load(state.store.as_ref(), settings::AUTO_REPLIES).await?))
}

async fn save_replies(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(request): ApiJson<Versioned<AutoReplies>>,
) -> Result<ApiJson<Versioned<AutoReplies>>, AppError> {
    at_least(&user, Role::Admin)?;
    if let Some(problem) = request.value.problem() {
        return Err(AppError::invalid(problem));
    }
    let saved = settings::save(
        state.store.as_ref(),
        settings::AUTO_REPLIES,
        &request.value,
        request.version,
        user.id,
        state.now(),
    )
    .await?;
    tracing::info!(version = saved.version, by = %user.id, "auto-replies saved");
    Ok(ApiJson(saved))
}

async fn read_menu(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<ApiJson<Versioned<Menu>>, AppError> {
    at_least(&user, Role::Supervisor)?;
    Ok(ApiJson(settings::load(state.store.as_ref(), settings::MENU).await?))
}

async fn save_menu(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(request): ApiJson<Versioned<Menu>>,
) -> Result<ApiJson<Versioned<Menu>>, AppError> {
    at_least(&user, Role::Admin)?;
    let mut menu = request.value;
    for option in &mut menu.options {
        option.id = option.id.trim().to_owned();
        option.title = baton_shared::model::display_text(option.title.trim());
    }
    if let Some(problem) = menu.problem() {
        return Err(AppError::invalid(problem));
    }
    let teams: HashSet<_> = state.store.teams().await?.into_iter().map(|team| team.id).collect();
    if let Some(option) = menu.options.iter().find(|option| !teams.contains(&option.team)) {
        return Err(AppError::invalid(format!("\"{}\" leads to a team that does not exist.", option.title)));
    }
    let saved =
        settings::save(state.store.as_ref(), settings::MENU, &menu, request.version, user.id, state.now()).await?;
    tracing::info!(version = saved.version, by = %user.id, "menu saved");
    Ok(ApiJson(saved))
}

async fn read_sla(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<ApiJson<Versioned<SlaSettings>>, AppError> {
    at_least(&user, Role::Supervisor)?;
    Ok(ApiJson(settings::load(state.store.as_ref(), settings::SLA).await?))
}

async fn save_sla(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(request): ApiJson<Versioned<SlaSettings>>,
) -> Result<ApiJson<Versioned<SlaSettings>>, AppError> {
    at_least(&user, Role::Admin)?;
    let sla = request.value;
    if let Some(problem) = sla.inbox.problem() {
        return Err(AppError::invalid(format!("The inbox's targets: {problem}")));
    }
    let teams: Vec<_> = state.store.teams().await?;
    let mut seen = HashSet::new();
    for own in &sla.teams {
        let Some(team) = teams.iter().find(|team| team.id == own.team) else {
            return Err(AppError::invalid("Targets are set for a team that does not exist."));
        };
        if !seen.insert(own.team) {
            return Err(AppError::invalid(format!("{} has targets set twice.", team.name)));
        }
        if let Some(problem) = own.targets.problem() {
            return Err(AppError::invalid(format!("{}'s targets: {problem}", team.name)));
        }
    }
    let saved =
        settings::save(state.store.as_ref(), settings::SLA, &sla, request.version, user.id, state.now()).await?;
    tracing::info!(version = saved.version, by = %user.id, "service-level targets saved");
    Ok(ApiJson(saved))
}

async fn read_csat(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<ApiJson<Versioned<CsatSettings>>, AppError> {
    at_least(&user, Role::Supervisor)?;
    Ok(ApiJson(settings::load(state.store.as_ref(), settings::CSAT).await?))
}

async fn save_csat(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(request): ApiJson<Versioned<CsatSettings>>,
) -> Result<ApiJson<Versioned<CsatSettings>>, AppError> {
    at_least(&user, Role::Admin)?;
    if let Some(problem) = request.value.problem() {
        return Err(AppError::invalid(problem));
    }
    let saved =
        settings::save(state.store.as_ref(), settings::CSAT, &request.value, request.version, user.id, state.now())
            .await?;
    tracing::info!(version = saved.version, by = %user.id, "rating request saved");
    Ok(ApiJson(saved))
}
