//! The timeline's lines between messages that say where a conversation went and why: "Assigned
//! to Ann by round-robin (Billing)", "Returned to the queue: Ann went offline", "The rule
//! “Billing keywords” put this in Billing (high priority)". Built from the conversation's
//! `assigned` and `triaged` events.

use baton_shared::TeamId;
use baton_shared::model::{Change, ConversationEvent};
use baton_shared::teams::RoutedBy;

use crate::context::Ctx;

/// The sentence for one event, or `None` for an event that is no such line.
pub fn describe(ctx: &Ctx, event: &ConversationEvent) -> Option<String> {
    let team_name = |team: Option<TeamId>| match team {
        Some(team) => ctx.team_name(team),
        None => t!("routing.general").to_string(),
    };
    let actor = || event.actor.map_or_else(|| t!("routing.someone").to_string(), |actor| ctx.name_of(actor));
    let line = match &event.change {
        Change::Assigned { assignee, routing: Some(routing) } => {
            let team = team_name(routing.team);
            let name = assignee.map(|user| ctx.name_of(user)).unwrap_or_default();
            match &routing.by {
                RoutedBy::RoundRobin => t!("routing.by_round_robin", name = name, team = team),
                RoutedBy::Balanced => t!("routing.by_balanced", name = name, team = team),
                RoutedBy::Sticky => t!("routing.by_sticky", name = name, team = team),
                RoutedBy::TakeNext => t!("routing.by_take_next", name = name, team = team),
                RoutedBy::Rule { rule } => t!("routing.by_rule", name = name, rule = rule),
                RoutedBy::WentOffline { from } => t!("routing.went_offline", name = ctx.name_of(*from)),
                RoutedBy::WentAway { from } => t!("routing.went_away", name = ctx.name_of(*from)),
            }
        }
        Change::Assigned { assignee: Some(user), routing: None } => {
            t!("routing.assigned_by", actor = actor(), name = ctx.name_of(*user))
        }
        Change::Assigned { assignee: None, routing: None } => t!("routing.unassigned_by", actor = actor()),
        Change::Triaged { team, priority, rule, by_default } => {
            let (team, priority) = (team_name(*team), t!(format!("priority.{}", priority.as_str())).to_string());
            let by_bot = event.actor == Some(baton_shared::automation::AUTOMATION_USER);
            match rule {
                // The menu bot names why ("Menu: Billing") as its rule.
                Some(reason) if by_bot => t!("routing.triaged_bot", reason = reason, team = team, priority = priority),
                Some(rule) => t!("routing.triaged_rule", rule = rule, team = team, priority = priority),
                None if *by_default => t!("routing.triaged_default", team = team),
                None => t!("routing.triaged_by", actor = actor(), team = team, priority = priority),
            }
        }
        Change::Snoozed { until } => {
            t!("routing.snoozed", actor = actor(), until = crate::format::date_time(*until))
        }
        Change::CsatAnswered { score, scale, .. } => {
            t!("routing.csat", score = score, levels = scale.levels())
        }
        Change::SlaBreached { target, due_at } => {
            let target = t!(format!("sla.{}", target.as_str())).to_string();
            t!("routing.sla_breached", target = target, due = crate::format::date_time(*due_at))
        }
        _ => return None,
    };
    Some(line.to_string())
}
