//! The Routing rules page: the ordered rules (admins edit them; supervisors read them), the
//! default team, and the "test a message" box, which asks the server what the rules on screen —
//! saved or not — would do with a message. The form edits keyword rules (keywords, team,
//! priority, labels); conditions it has no field for are kept as they are and named.

use baton_shared::api::Role;
use baton_shared::model::Priority;
use baton_shared::routing_rules::{
    Action, Combine, Condition, Decision, Rule, RuleSet, RuleTest, StoredRules, Trigger,
};
use baton_shared::{TeamId, UserId};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::context::Ctx;

/// One rule as the form edits it.
#[derive(Clone)]
struct Draft {
    key: usize,
    name: RwSignal<String>,
    enabled: RwSignal<bool>,
    keywords: RwSignal<String>,
    team: RwSignal<Option<TeamId>>,
    priority: RwSignal<Option<Priority>>,
    labels: RwSignal<String>,
    /// What the form has no field for, kept as it was.
    other_conditions: Vec<Condition>,
    assign_to: Option<UserId>,
    triggers: Vec<Trigger>,
    combine: Combine,
}

/// A comma-separated list, in any script's comma (Latin, Arabic, full-width, ideographic).
fn split(list: &str) -> Vec<String> {
    list.split([',', '،', '，', '、']).map(str::trim).filter(|item| !item.is_empty()).map(str::to_owned).collect()
}

impl Draft {
    fn of(key: usize, rule: &Rule) -> Self {
        // The first keyword condition is edited here; any other condition (a second keyword
        // list, which with "all" means something else) is kept as it is.
        let mut keywords: Option<Vec<String>> = None;
        let mut other_conditions = Vec::new();
        for condition in &rule.conditions {
            match condition {
                Condition::TextContains { keywords: words } if keywords.is_none() => keywords = Some(words.clone()),
                other => other_conditions.push(other.clone()),
            }
        }
        let keywords = keywords.unwrap_or_default();
        let (mut team, mut priority, mut labels, mut assign_to) = (None, None, Vec::new(), None);
        for action in &rule.actions {
            match action {
                Action::SetTeam { team: chosen } => team = Some(*chosen),
                Action::SetPriority { priority: chosen } => priority = Some(*chosen),
                Action::AddLabels { labels: added } => labels.extend(added.iter().cloned()),
                Action::AssignTo { user } => assign_to = Some(*user),
            }
        }
        Draft {
            key,
            name: RwSignal::new(rule.name.clone()),
            enabled: RwSignal::new(rule.enabled),
            keywords: RwSignal::new(keywords.join(", ")),
            team: RwSignal::new(team),
            priority: RwSignal::new(priority),
            labels: RwSignal::new(labels.join(", ")),
            other_conditions,
            assign_to,
            triggers: rule.triggers.clone(),
            combine: rule.combine,
        }
    }

    fn rule(&self) -> Rule {
        let mut conditions = self.other_conditions.clone();
        let keywords = split(&self.keywords.get_untracked());
        if !keywords.is_empty() {
            conditions.insert(0, Condition::TextContains { keywords });
        }
        let mut actions = Vec::new();
        if let Some(team) = self.team.get_untracked() {
            actions.push(Action::SetTeam { team });
        }
        if let Some(priority) = self.priority.get_untracked() {
            actions.push(Action::SetPriority { priority });
        }
        let labels = split(&self.labels.get_untracked());
        if !labels.is_empty() {
            actions.push(Action::AddLabels { labels });
        }
        if let Some(user) = self.assign_to {
            actions.push(Action::AssignTo { user });
        }
        Rule {
            name: self.name.get_untracked(),
            enabled: self.enabled.get_untracked(),
            triggers: self.triggers.clone(),
            combine: self.combine,
            conditions,
            actions,
        }
    }
}

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
    let load = move |stored: StoredRules| {
        version.set(stored.version);
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
        let rule = Rule {
            name: String::new(),
            enabled: true,
            triggers: vec![Trigger::NewConversation, Trigger::CustomerMessage],
            combine: Combine::Any,
            conditions: Vec::new(),
            actions: Vec::new(),
        };
        drafts.update(|drafts| drafts.push(Draft::of(key, &rule)));
    };
    let save = move |_| {
        let rules = StoredRules { version: version.get_untracked(), set: current() };
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
                        let key = draft.key;
                        let others = draft.other_conditions.len();
                        view! {
                            <li class="rule" data-rule=move || draft.name.get()>
                                <div class="rule-top">
                                    <input class="rule-name" aria-label=t!("rules.name").to_string() placeholder=t!("rules.name").to_string()
                                        disabled=!editable prop:value=draft.name on:input=move |event| draft.name.set(event_target_value(&event)) />
                                    <label class="check">
                                        <input type="checkbox" disabled=!editable prop:checked=draft.enabled
                                            on:change=move |event| draft.enabled.set(event_target_checked(&event)) />
                                        {t!("rules.enabled").to_string()}
                                    </label>
                                    <Show when=move || editable>
                                        <button class="link-button" aria-label=t!("rules.up").to_string() on:click=move |_| shift(key, -1)>"↑"</button>
                                        <button class="link-button" aria-label=t!("rules.down").to_string() on:click=move |_| shift(key, 1)>"↓"</button>
                                        <button class="link-button" on:click=move |_| drafts.update(|drafts| drafts.retain(|other| other.key != key))>
                                            {t!("rules.remove").to_string()}
                                        </button>
                                    </Show>
                                </div>
                                <input class="rule-keywords" aria-label=t!("rules.keywords").to_string() placeholder=t!("rules.keywords").to_string()
                                    disabled=!editable prop:value=draft.keywords on:input=move |event| draft.keywords.set(event_target_value(&event)) />
                                <div class="rule-actions">
                                    <label>
                                        {t!("rules.to_team").to_string()}
                                        <select class="rule-team" disabled=!editable on:change=move |event| draft.team.set(parse_team(&event))>
                                            {move || team_options(draft.team.get(), t!("rules.keep").to_string())}
                                        </select>
                                    </label>
                                    <label>
                                        {t!("rules.set_priority").to_string()}
                                        <select class="rule-priority" disabled=!editable on:change=move |event| draft.priority.set(Priority::parse(&event_target_value(&event)))>
                                            <option value="" selected=move || draft.priority.get().is_none()>{t!("rules.keep").to_string()}</option>
                                            {Priority::ALL.into_iter().map(|option| view! {
                                                <option value=option.as_str() selected=move || draft.priority.get() == Some(option)>
                                                    {t!(format!("priority.{}", option.as_str())).to_string()}
                                                </option>
                                            }).collect_view()}
                                        </select>
                                    </label>
                                    <input class="rule-labels" aria-label=t!("rules.labels").to_string() placeholder=t!("rules.labels").to_string()
                                        disabled=!editable prop:value=draft.labels on:input=move |event| draft.labels.set(event_target_value(&event)) />
                                </div>
                                {(others > 0).then(|| view! { <p class="hint">{t!("rules.other_conditions", count = others).to_string()}</p> })}
                            </li>
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
            <TestBox current=Callback::new(move |()| current()) />
        </section>
    }
}

/// "Test a message": what the rules on screen would do with it.
#[component]
fn TestBox(current: Callback<(), RuleSet>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let text = RwSignal::new(String::new());
    let outcome = RwSignal::new(None::<String>);
    let describe = move |decision: Option<Decision>, default_team: Option<TeamId>| -> String {
        let Some(decision) = decision else { return t!("rules.would_nothing").to_string() };
        let actions: Vec<String> = decision
            .actions
            .iter()
            .map(|action| match action {
                Action::SetTeam { team } => t!("rules.action_team", team = ctx.team_name(*team)).to_string(),
                Action::SetPriority { priority } => {
                    let priority = t!(format!("priority.{}", priority.as_str())).to_string();
                    t!("rules.action_priority", priority = priority).to_string()
                }
                Action::AddLabels { labels } => t!("rules.action_labels", labels = labels.join(", ")).to_string(),
                Action::AssignTo { user } => t!("rules.action_assign", name = ctx.name_of(*user)).to_string(),
            })
            .collect();
        match decision.rule {
            Some((_, rule)) => t!("rules.would_fire", rule = rule, actions = actions.join(", ")).to_string(),
            None => {
                let team = default_team.map(|team| ctx.team_name(team)).unwrap_or_default();
                t!("rules.would_default", team = team).to_string()
            }
        }
    };
    let try_it = move |_| {
        let rules = current.run(());
        let default_team = rules.default_team;
        let test = RuleTest {
            text: text.get_untracked(),
            choice: None,
            labels: Vec::new(),
            returning: false,
            trigger: Trigger::NewConversation,
            rules: Some(rules),
        };
        spawn_local(async move {
            match api::test_routing_rules(&test).await {
                Ok(decision) => outcome.set(Some(describe(decision, default_team))),
                Err(failure) => outcome.set(Some(failure.message)),
            }
        });
    };
    view! {
        <div class="test-box" id="test-box">
            <h2>{t!("rules.test").to_string()}</h2>
            <input id="test-text" aria-label=t!("rules.test_text").to_string() placeholder=t!("rules.test_text").to_string()
                prop:value=text on:input=move |event| text.set(event_target_value(&event)) />
            <button id="test-rules" class="secondary" on:click=try_it>{t!("rules.try").to_string()}</button>
            {move || outcome.get().map(|outcome| view! { <p class="test-outcome" id="test-outcome" role="status">{outcome}</p> })}
        </div>
    }
}
