//! The Rules page: the ordered rules — routing and automation, one engine — which admins edit and
//! supervisors read, each with its firing count; the default team; and the "test a message" box,
//! which asks the server what the rules on screen — saved or not — would do for a trigger and a
//! message. Each rule's card is [`super::rules_form::RuleCard`].

use baton_shared::TeamId;
use baton_shared::api::Role;
use baton_shared::routing_rules::{Action, Decision, Rule, RuleFired, RuleSet, RuleTest, StoredRules, Trigger};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::rules_form::{Draft, RuleCard};
use crate::api;
use crate::context::Ctx;

#[component]
pub fn RulesPage() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let editable = ctx.me.with_value(|me| me.role.at_least(Role::Admin));
    let version = RwSignal::new(0_u32);
    let default_team = RwSignal::new(None::<TeamId>);
    let drafts = RwSignal::new(Vec::<Draft>::new());
    let next_key = StoredValue::new(0_usize);
    let error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(false);
    let fired = RwSignal::new(Vec::<RuleFired>::new());
    ctx.reload_canned();
    let load = move |stored: StoredRules| {
        version.set(stored.version);
        fired.set(stored.fired.clone());
        default_team.set(stored.set.default_team);
        let list: Vec<Draft> = stored
            .set
            .rules
            .iter()
            .map(|rule| {
                let key = next_key.get_value();
                next_key.set_value(key + 1);
                Draft::of(key, rule)
            })
            .collect();
        drafts.set(list);
    };
    spawn_local(async move {
        match api::routing_rules().await {
            Ok(stored) => load(stored),
            Err(failure) => error.set(Some(failure.message)),
        }
    });
    let current = move || RuleSet {
        default_team: default_team.get_untracked(),
        rules: drafts.with_untracked(|drafts| drafts.iter().map(Draft::rule).collect()),
    };
    let add = move |_| {
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        let rule = Rule::new(String::new(), vec![Trigger::NewConversation, Trigger::CustomerMessage], vec![], vec![]);
        drafts.update(|drafts| drafts.push(Draft::of(key, &rule)));
    };
    let save = move |_| {
        let rules = StoredRules { version: version.get_untracked(), set: current(), fired: Vec::new() };
        spawn_local(async move {
            match api::save_routing_rules(&rules).await {
                Ok(stored) => {
                    error.set(None);
                    saved.set(true);
                    load(stored);
                }
                Err(failure) => {
                    saved.set(false);
                    error.set(Some(failure.message));
                }
            }
        });
    };
    let shift = move |key: usize, by: isize| {
        drafts.update(|drafts| {
            let Some(at) = drafts.iter().position(|draft| draft.key == key) else { return };
            let to = at.saturating_add_signed(by).min(drafts.len().saturating_sub(1));
            let draft = drafts.remove(at);
            drafts.insert(to, draft);
        });
    };
    let team_options = move |chosen: Option<TeamId>, none: String| {
        view! {
            <option value="" selected=chosen.is_none()>{none}</option>
            {ctx.teams.get().into_iter().map(|team| view! {
                <option value=team.id.to_string() selected=chosen == Some(team.id)>{team.name.clone()}</option>
            }).collect_view()}
        }
    };
    let parse_team = |event: &leptos::ev::Event| event_target_value(event).parse::<i64>().ok().map(TeamId);

    view! {
        <section class="admin rules-page" id="rules-page">
            <h1>{t!("rules.title").to_string()}</h1>
            <p class="hint">{t!("rules.intro").to_string()}</p>
            <label class="default-team">
                {t!("rules.default_team").to_string()}
                <select id="default-team" disabled=!editable on:change=move |event| default_team.set(parse_team(&event))>
                    {move || team_options(default_team.get(), t!("rules.none").to_string())}
                </select>
            </label>
            <ol class="rules" id="rules">
                <For each=move || drafts.get() key=|draft| draft.key let:draft>
                    {
                        let count = fired.with_untracked(|fired| {
                            let id = draft.rule().id;
                            fired.iter().find(|fired| id != 0 && fired.rule == id).cloned()
                        });
                        view! {
                            <RuleCard draft=draft editable=editable fired=count
                                on_shift=Callback::new(move |(key, by)| shift(key, by))
                                on_remove=Callback::new(move |key| drafts.update(|drafts| drafts.retain(|other: &Draft| other.key != key))) />
                        }
                    }
                </For>
            </ol>
            <Show when=move || editable>
                <div class="rules-buttons">
                    <button id="add-rule" class="secondary" on:click=add>{t!("rules.add").to_string()}</button>
                    <button id="save-rules" class="primary" on:click=save>{t!("rules.save").to_string()}</button>
                    {move || saved.get().then(|| view! { <span class="saved" role="status">{t!("teams.saved").to_string()}</span> })}
                </div>
            </Show>
            {move || error.get().map(|message| view! { <p class="alert" role="alert">{message}</p> })}
            <TestBox current=Callback::new(move |()| current()) pending_hours=Signal::derive(move || {
                let mut hours: Vec<u32> = drafts.with(|drafts| drafts.iter().filter_map(Draft::pending_hours).collect());
                hours.sort_unstable();
                hours.dedup();
                hours
            }) />
        </section>
    }
}

/// The triggers the test box offers, by their value in its select.
fn trigger_of(value: &str) -> Trigger {
    match value {
        "customer_message" => Trigger::CustomerMessage,
        "conversation_resolved" => Trigger::ConversationResolved,
        "sla_breached" => Trigger::SlaBreached,
        other => match other.strip_prefix("pending:").and_then(|hours| hours.parse().ok()) {
            Some(hours) => Trigger::PendingFor { hours },
            None => Trigger::NewConversation,
        },
    }
}

/// An action as the test box says it.
fn describe_action(ctx: Ctx, action: &Action) -> String {
    match action {
        Action::SetTeam { team } => t!("rules.action_team", team = ctx.team_name(*team)).to_string(),
        Action::SetPriority { priority } => {
            let priority = t!(format!("priority.{}", priority.as_str())).to_string();
            t!("rules.action_priority", priority = priority).to_string()
        }
        Action::AddLabels { labels } => t!("rules.action_labels", labels = labels.join(", ")).to_string(),
        Action::RemoveLabels { labels } => t!("rules.action_unlabel", labels = labels.join(", ")).to_string(),
        Action::AssignTo { user } => t!("rules.action_assign", name = ctx.name_of(*user)).to_string(),
        Action::SendCanned { canned } => {
            let title =
                ctx.canned.with(|all| all.iter().find(|item| item.id == *canned).map(|item| item.title.clone()));
            t!("rules.action_canned", title = title.unwrap_or_else(|| format!("#{canned}"))).to_string()
        }
        Action::AddNote { .. } => t!("rules.action_note").to_string(),
        Action::Snooze { hours } => t!("rules.action_snooze", hours = hours).to_string(),
        Action::Resolve => t!("rules.action_resolve").to_string(),
    }
}

/// "Test a message": what the rules on screen would do for a trigger, a message and a label.
#[component]
fn TestBox(current: Callback<(), RuleSet>, pending_hours: Signal<Vec<u32>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let text = RwSignal::new(String::new());
    let label = RwSignal::new(String::new());
    let trigger = RwSignal::new("new_conversation".to_owned());
    let outcome = RwSignal::new(None::<String>);
    let describe = move |decision: Option<Decision>, default_team: Option<TeamId>| -> String {
        let Some(decision) = decision else { return t!("rules.would_nothing").to_string() };
        let actions: Vec<String> = decision.actions.iter().map(|action| describe_action(ctx, action)).collect();
        let names: Vec<String> = decision.fired.iter().map(|(_, name)| name.clone()).collect();
        if names.is_empty() {
            let team = default_team.map(|team| ctx.team_name(team)).unwrap_or_default();
            return t!("rules.would_default", team = team).to_string();
        }
        t!("rules.would_fire", rule = names.join("”, “"), actions = actions.join(", ")).to_string()
    };
    let try_it = move |_| {
        let rules = current.run(());
        let default_team = rules.default_team;
        let labels: Vec<String> = label
            .get_untracked()
            .split(',')
            .map(str::trim)
            .filter(|label| !label.is_empty())
            .map(str::to_owned)
            .collect();
        let test = RuleTest {
            text: text.get_untracked(),
            choice: None,
            labels,
            returning: false,
            trigger: trigger_of(&trigger.get_untracked()),
            rules: Some(rules),
        };
        spawn_local(async move {
            match api::test_routing_rules(&test).await {
                Ok(decision) => outcome.set(Some(describe(decision, default_team))),
                Err(failure) => outcome.set(Some(failure.message)),
            }
        });
    };
    let pending_choices = move || {
        pending_hours.get().into_iter().map(|hours| view! {
            <option value=format!("pending:{hours}")>{t!("rules.test_pending", hours = hours).to_string()}</option>
        }).collect_view()
    };
    view! {
        <div class="test-box" id="test-box">
            <h2>{t!("rules.test").to_string()}</h2>
            <div class="test-row">
                <select id="test-trigger" aria-label=t!("rules.when").to_string() on:change=move |event| trigger.set(event_target_value(&event))>
                    <option value="new_conversation">{t!("rules.on_new").to_string()}</option>
                    <option value="customer_message">{t!("rules.on_message").to_string()}</option>
                    <option value="conversation_resolved">{t!("rules.on_resolved").to_string()}</option>
                    <option value="sla_breached">{t!("rules.on_breach").to_string()}</option>
                    {pending_choices}
                </select>
                <input id="test-text" aria-label=t!("rules.test_text").to_string() placeholder=t!("rules.test_text").to_string()
                    prop:value=text on:input=move |event| text.set(event_target_value(&event)) />
                <input id="test-label" aria-label=t!("rules.test_labels").to_string() placeholder=t!("rules.test_labels").to_string()
                    prop:value=label on:input=move |event| label.set(event_target_value(&event)) />
                <button id="test-rules" class="secondary" on:click=try_it>{t!("rules.try").to_string()}</button>
            </div>
            {move || outcome.get().map(|outcome| view! { <p class="test-outcome" id="test-outcome" role="status">{outcome}</p> })}
        </div>
    }
}
