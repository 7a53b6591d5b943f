//! The rules (routing and automation) over REST: supervisors and admins read them (`GET /api/routing/rules`) and try
//! a message on them (`POST /api/routing/rules/test`, with the saved rules or unsaved ones); admins
//! replace them whole (`PUT`, based on the version they read: 409 `conflict` if another admin saved
//! since).

use std::collections::HashSet;

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use baton_shared::api::{Role, User};
use baton_shared::routing_rules::{Action, Decision, Facts, RuleSet, RuleTest, StoredRules};

use super::extract::ApiJson;
use crate::error::AppError;
use crate::sessions::CurrentUser;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/routing/rules", get(read).put(save)).route("/routing/rules/test", post(test))
}

fn at_least(user: &User, role: Role) -> Result<(), AppError> {
    if user.role.at_least(role) { Ok(()) } else { Err(AppError::forbidden()) }
}

async fn read(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> Result<ApiJson<StoredRules>, AppError> {
    at_least(&user, Role::Supervisor)?;
    Ok(ApiJson(state.store.routing_rules().await?))
}

async fn save(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(request): ApiJson<StoredRules>,
) -> Result<ApiJson<StoredRules>, AppError> {
    at_least(&user, Role::Admin)?;
    let mut set = request.set;
    for rule in &mut set.rules {
        rule.name = baton_shared::model::display_text(rule.name.trim());
    }
    if let Some(problem) = set.problem() {
        return Err(AppError::invalid(problem));
    }
    check_references(&state, &set).await?;
    let saved = state.store.save_routing_rules(&set, request.version, user.id, state.now()).await?;
    tracing::info!(version = saved.version, rules = saved.set.rules.len(), by = %user.id, "routing rules saved");
    Ok(ApiJson(saved))
}

/// Every team and agent a rule names exists (and the agent is active).
async fn check_references(state: &AppState, set: &RuleSet) -> Result<(), AppError> {
    let teams: HashSet<_> = state.store.teams().await?.into_iter().map(|team| team.id).collect();
    let users: HashSet<_> =
        state.store.users().await?.into_iter().filter(|user| !user.disabled).map(|user| user.id).collect();
    let canned: HashSet<_> = state.store.canned_responses().await?.into_iter().map(|canned| canned.id).collect();
    if set.default_team.is_some_and(|team| !teams.contains(&team)) {
        return Err(AppError::invalid("The default team does not exist."));
    }
    for rule in &set.rules {
        for action in &rule.actions {
            match action {
                Action::SetTeam { team } if !teams.contains(team) => {
                    return Err(AppError::invalid(format!("Rule \"{}\" names a team that does not exist.", rule.name)));
                }
                Action::AssignTo { user } if !users.contains(user) => {
                    return Err(AppError::invalid(format!("Rule \"{}\" names no active teammate.", rule.name)));
                }
                Action::SendCanned { canned: id } if !canned.contains(id) => {
                    return Err(AppError::invalid(format!(
                        "Rule \"{}\" names a canned response that does not exist.",
                        rule.name
                    )));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

async fn test(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(request): ApiJson<RuleTest>,
) -> Result<ApiJson<Option<Decision>>, AppError> {
    at_least(&user, Role::Supervisor)?;
    let set = match request.rules {
        Some(set) => set,
        None => state.store.routing_rules().await?.set,
    };
    let facts = Facts {
        trigger: request.trigger,
        text: &request.text,
        choice: request.choice.as_deref(),
        labels: &request.labels,
        returning: request.returning,
        has_team: false,
    };
    Ok(ApiJson(set.decide(&facts)))
}
