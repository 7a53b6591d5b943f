//! One rule as the Rules page edits it ([`Draft`]) and its card ([`RuleCard`]): when it runs (new
//! conversation, customer message, resolved, SLA breached, pending for N hours), what it looks at
//! (keywords, a label), what it does (team, priority, labels added and removed, a canned reply, a
//! note, a snooze, a resolve), whether the look goes on after it, and how often it fired. What
//! the form has no field for (a second keyword list, a named agent) is kept as it is.

use baton_shared::TeamId;
use baton_shared::model::Priority;
use baton_shared::routing_rules::{Action, Combine, Condition, Rule, RuleFired, Trigger};
use leptos::prelude::*;

use crate::context::Ctx;

/// One rule as the form edits it.
#[derive(Clone)]
pub struct Draft {
    pub key: usize,
    id: u32,
    pub name: RwSignal<String>,
    enabled: RwSignal<bool>,
    keep_going: RwSignal<bool>,
    on_new: RwSignal<bool>,
    on_message: RwSignal<bool>,
    on_resolved: RwSignal<bool>,
    on_breach: RwSignal<bool>,
    /// Hours for the time rule; empty: no time rule.
    pending_hours: RwSignal<String>,
    /// Time rules beyond the first (kept).
    other_triggers: Vec<Trigger>,
    keywords: RwSignal<String>,
    has_label: RwSignal<String>,
    other_conditions: Vec<Condition>,
    team: RwSignal<Option<TeamId>>,
    priority: RwSignal<Option<Priority>>,
    labels: RwSignal<String>,
    remove_labels: RwSignal<String>,
    canned: RwSignal<Option<i64>>,
    note: RwSignal<String>,
    snooze_hours: RwSignal<String>,
    resolve: RwSignal<bool>,
    /// The actions in their saved order: each form field where its first action stood, and what
    /// the form has no field for (a named agent, a second note) kept as it was.
    layout: Vec<Slot>,
    combine_any: RwSignal<bool>,
}

/// A place in a rule's list of actions.
#[derive(Clone, Debug, PartialEq)]
enum Slot {
    Field(Field),
    Kept(Action),
}

/// The action kinds the form edits, in the order it adds new ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Team,
    Priority,
    AddLabels,
    RemoveLabels,
    Canned,
    Note,
    Snooze,
    Resolve,
}

const FIELDS: [Field; 8] = [
    Field::Team,
    Field::Priority,
    Field::AddLabels,
    Field::RemoveLabels,
    Field::Canned,
    Field::Note,
    Field::Snooze,
    Field::Resolve,
];

/// A comma-separated list, in any script's comma (Latin, Arabic, full-width, ideographic).
fn split(list: &str) -> Vec<String> {
    list.split([',', '،', '，', '、']).map(str::trim).filter(|item| !item.is_empty()).map(str::to_owned).collect()
}

/// Hours typed in a box: what is no number is sent as 0, which the server refuses with a sentence.
fn hours(text: &str) -> u32 {
    text.trim().parse().unwrap_or(0)
}

impl Draft {
    pub fn of(key: usize, rule: &Rule) -> Self {
        let mut keywords: Option<Vec<String>> = None;
        let mut has_label: Option<String> = None;
        let mut other_conditions = Vec::new();
        for condition in &rule.conditions {
            match condition {
                Condition::TextContains { keywords: words } if keywords.is_none() => keywords = Some(words.clone()),
                Condition::HasLabel { label } if has_label.is_none() => has_label = Some(label.clone()),
                other => other_conditions.push(other.clone()),
            }
        }
        let mut pending = None;
        let mut other_triggers = Vec::new();
        for trigger in &rule.triggers {
            match trigger {
                Trigger::PendingFor { hours } if pending.is_none() => pending = Some(*hours),
                Trigger::PendingFor { .. } => other_triggers.push(*trigger),
                _ => {}
            }
        }
        let (mut team, mut priority, mut labels, mut remove) = (None, None, Vec::new(), Vec::new());
        let (mut canned, mut note, mut snooze, mut resolve) = (None, None::<String>, None, false);
        let mut layout: Vec<Slot> = Vec::new();
        for action in &rule.actions {
            let field = match action {
                Action::SetTeam { team: chosen } if team.is_none() => {
                    team = Some(*chosen);
                    Field::Team
                }
                Action::SetPriority { priority: chosen } if priority.is_none() => {
                    priority = Some(*chosen);
                    Field::Priority
                }
                // Several label actions are one list: adding them all at once is the same.
                Action::AddLabels { labels: added } => {
                    labels.extend(added.iter().cloned());
                    Field::AddLabels
                }
                Action::RemoveLabels { labels: removed } => {
                    remove.extend(removed.iter().cloned());
                    Field::RemoveLabels
                }
                Action::SendCanned { canned: chosen } if canned.is_none() => {
                    canned = Some(*chosen);
                    Field::Canned
                }
                Action::AddNote { text } if note.is_none() => {
                    note = Some(text.clone());
                    Field::Note
                }
                Action::Snooze { hours } if snooze.is_none() => {
                    snooze = Some(*hours);
                    Field::Snooze
                }
                Action::Resolve if !resolve => {
                    resolve = true;
                    Field::Resolve
                }
                other => {
                    layout.push(Slot::Kept(other.clone()));
                    continue;
                }
            };
            if !layout.contains(&Slot::Field(field)) {
                layout.push(Slot::Field(field));
            }
        }
        let note = note.unwrap_or_default();
        let has = |trigger: Trigger| rule.triggers.contains(&trigger);
        Draft {
            key,
            id: rule.id,
            name: RwSignal::new(rule.name.clone()),
            enabled: RwSignal::new(rule.enabled),
            keep_going: RwSignal::new(rule.keep_going),
            on_new: RwSignal::new(has(Trigger::NewConversation)),
            on_message: RwSignal::new(has(Trigger::CustomerMessage)),
            on_resolved: RwSignal::new(has(Trigger::ConversationResolved)),
            on_breach: RwSignal::new(has(Trigger::SlaBreached)),
            pending_hours: RwSignal::new(pending.map(|hours| hours.to_string()).unwrap_or_default()),
            other_triggers,
            keywords: RwSignal::new(keywords.unwrap_or_default().join(", ")),
            has_label: RwSignal::new(has_label.unwrap_or_default()),
            other_conditions,
            combine_any: RwSignal::new(rule.combine == Combine::Any),
            team: RwSignal::new(team),
            priority: RwSignal::new(priority),
            labels: RwSignal::new(labels.join(", ")),
            remove_labels: RwSignal::new(remove.join(", ")),
            canned: RwSignal::new(canned),
            note: RwSignal::new(note),
            snooze_hours: RwSignal::new(snooze.map(|hours| hours.to_string()).unwrap_or_default()),
            resolve: RwSignal::new(resolve),
            layout,
        }
    }

    /// The time rule's hours, read reactively (the test box offers each).
    pub fn pending_hours(&self) -> Option<u32> {
        let text = self.pending_hours.get();
        (!text.trim().is_empty()).then(|| hours(&text))
    }

    /// The action a form field says, if it says one.
    fn action(&self, field: Field) -> Option<Action> {
        match field {
            Field::Team => self.team.get_untracked().map(|team| Action::SetTeam { team }),
            Field::Priority => self.priority.get_untracked().map(|priority| Action::SetPriority { priority }),
            Field::AddLabels => {
                let labels = split(&self.labels.get_untracked());
                (!labels.is_empty()).then_some(Action::AddLabels { labels })
            }
            Field::RemoveLabels => {
                let labels = split(&self.remove_labels.get_untracked());
                (!labels.is_empty()).then_some(Action::RemoveLabels { labels })
            }
            Field::Canned => self.canned.get_untracked().map(|canned| Action::SendCanned { canned }),
            Field::Note => {
                let text = self.note.get_untracked();
                (!text.trim().is_empty()).then_some(Action::AddNote { text })
            }
            Field::Snooze => {
                let snooze = self.snooze_hours.get_untracked();
                (!snooze.trim().is_empty()).then(|| Action::Snooze { hours: hours(&snooze) })
            }
            Field::Resolve => self.resolve.get_untracked().then_some(Action::Resolve),
        }
    }

    pub fn rule(&self) -> Rule {
        let mut triggers = Vec::new();
        for (on, trigger) in [
            (self.on_new, Trigger::NewConversation),
            (self.on_message, Trigger::CustomerMessage),
            (self.on_resolved, Trigger::ConversationResolved),
            (self.on_breach, Trigger::SlaBreached),
        ] {
            if on.get_untracked() {
                triggers.push(trigger);
            }
        }
        let pending = self.pending_hours.get_untracked();
        if !pending.trim().is_empty() {
            triggers.push(Trigger::PendingFor { hours: hours(&pending) });
        }
        triggers.extend(self.other_triggers.iter().copied());
        let mut conditions = Vec::new();
        let keywords = split(&self.keywords.get_untracked());
        if !keywords.is_empty() {
            conditions.push(Condition::TextContains { keywords });
        }
        let label = self.has_label.get_untracked();
        if !label.trim().is_empty() {
            conditions.push(Condition::HasLabel { label: label.trim().to_owned() });
        }
        conditions.extend(self.other_conditions.iter().cloned());
        let mut layout = self.layout.clone();
        for field in FIELDS {
            if !layout.contains(&Slot::Field(field)) {
                layout.push(Slot::Field(field));
            }
        }
        let actions = layout
            .into_iter()
            .filter_map(|slot| match slot {
                Slot::Kept(action) => Some(action),
                Slot::Field(field) => self.action(field),
            })
            .collect();
        Rule {
            id: self.id,
            name: self.name.get_untracked(),
            enabled: self.enabled.get_untracked(),
            triggers,
            combine: if self.combine_any.get_untracked() { Combine::Any } else { Combine::All },
            conditions,
            actions,
            keep_going: self.keep_going.get_untracked(),
        }
    }
}

/// A checkbox bound to `on`.
fn check(on: RwSignal<bool>, editable: bool, label: String, class: &'static str) -> impl IntoView {
    view! {
        <label class=format!("check {class}")>
            <input type="checkbox" disabled=!editable prop:checked=on on:change=move |event| on.set(event_target_checked(&event)) />
            {label}
        </label>
    }
}

/// A text box bound to `value`, with its label shown above it (a filled box keeps saying what
/// it is).
fn text_box(value: RwSignal<String>, editable: bool, label: String, class: &'static str) -> impl IntoView {
    view! {
        <label class=format!("rule-field {class}-field")>
            <span>{label.clone()}</span>
            <input class=class placeholder=label disabled=!editable
                prop:value=value on:input=move |event| value.set(event_target_value(&event)) />
        </label>
    }
}

/// One rule's card.
#[component]
pub fn RuleCard(
    draft: Draft,
    editable: bool,
    fired: Option<RuleFired>,
    on_shift: Callback<(usize, isize)>,
    on_remove: Callback<usize>,
) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let key = draft.key;
    let kept = draft.layout.iter().filter(|slot| matches!(slot, Slot::Kept(_))).count();
    let others = draft.other_conditions.len() + draft.other_triggers.len() + kept;
    let team_options = move |chosen: Option<TeamId>| {
        view! {
            <option value="" selected=chosen.is_none()>{t!("rules.keep").to_string()}</option>
            {ctx.teams.get().into_iter().map(|team| view! {
                <option value=team.id.to_string() selected=chosen == Some(team.id)>{team.name.clone()}</option>
            }).collect_view()}
        }
    };
    let canned_options = move |chosen: Option<i64>| {
        // One deleted since the rule was saved still shows (the save refuses it, saying why).
        let missing = chosen.filter(|id| ctx.canned.with(|all| !all.iter().any(|canned| canned.id == *id)));
        view! {
            <option value="" selected=chosen.is_none()>{t!("rules.no_canned").to_string()}</option>
            {missing.map(|id| view! {
                <option value=id.to_string() selected=true>{t!("rules.canned_missing", id = id).to_string()}</option>
            })}
            {ctx.canned.get().into_iter().map(|canned| view! {
                <option value=canned.id.to_string() selected=chosen == Some(canned.id)>{canned.title.clone()}</option>
            }).collect_view()}
        }
    };
    let fired_text = match fired {
        Some(fired) => t!("rules.fired", count = fired.count, at = crate::format::date_time(fired.last_at)).to_string(),
        None => t!("rules.never_fired").to_string(),
    };
    view! {
        <li class="rule" data-rule=move || draft.name.get()>
            <div class="rule-top">
                <input class="rule-name" aria-label=t!("rules.name").to_string() placeholder=t!("rules.name").to_string()
                    disabled=!editable prop:value=draft.name on:input=move |event| draft.name.set(event_target_value(&event)) />
                {check(draft.enabled, editable, t!("rules.enabled").to_string(), "rule-enabled")}
                <span class="rule-fired hint">{fired_text}</span>
                <Show when=move || editable>
                    <button class="link-button" aria-label=t!("rules.up").to_string() on:click=move |_| on_shift.run((key, -1))>"↑"</button>
                    <button class="link-button" aria-label=t!("rules.down").to_string() on:click=move |_| on_shift.run((key, 1))>"↓"</button>
                    <button class="link-button" on:click=move |_| on_remove.run(key)>{t!("rules.remove").to_string()}</button>
                </Show>
            </div>
            <fieldset class="rule-when">
                <legend>{t!("rules.when").to_string()}</legend>
                {check(draft.on_new, editable, t!("rules.on_new").to_string(), "on-new")}
                {check(draft.on_message, editable, t!("rules.on_message").to_string(), "on-message")}
                {check(draft.on_resolved, editable, t!("rules.on_resolved").to_string(), "on-resolved")}
                {check(draft.on_breach, editable, t!("rules.on_breach").to_string(), "on-breach")}
                <label class="rule-hours">
                    {t!("rules.pending_for").to_string()}
                    <input class="rule-pending" type="number" min="1" aria-label=t!("rules.pending_for").to_string() disabled=!editable
                        prop:value=draft.pending_hours on:input=move |event| draft.pending_hours.set(event_target_value(&event)) />
                    {t!("rules.hours").to_string()}
                </label>
            </fieldset>
            <fieldset class="rule-if">
                <legend>{t!("rules.if").to_string()}</legend>
                {text_box(draft.keywords, editable, t!("rules.keywords").to_string(), "rule-keywords")}
                {text_box(draft.has_label, editable, t!("rules.has_label").to_string(), "rule-has-label")}
                <label>
                    {t!("rules.combine").to_string()}
                    <select class="rule-combine" disabled=!editable on:change=move |event| draft.combine_any.set(event_target_value(&event) == "any")>
                        <option value="all" selected=move || !draft.combine_any.get()>{t!("rules.combine_all").to_string()}</option>
                        <option value="any" selected=move || draft.combine_any.get()>{t!("rules.combine_any").to_string()}</option>
                    </select>
                </label>
            </fieldset>
            <fieldset class="rule-actions">
                <legend>{t!("rules.then").to_string()}</legend>
                <label>
                    {t!("rules.to_team").to_string()}
                    <select class="rule-team" disabled=!editable
                        on:change=move |event| draft.team.set(event_target_value(&event).parse::<i64>().ok().map(TeamId))>
                        {move || team_options(draft.team.get())}
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
                <label>
                    {t!("rules.send_canned").to_string()}
                    <select class="rule-canned" disabled=!editable
                        on:change=move |event| draft.canned.set(event_target_value(&event).parse::<i64>().ok())>
                        {move || canned_options(draft.canned.get())}
                    </select>
                </label>
                <label class="rule-hours">
                    {t!("rules.snooze").to_string()}
                    <input class="rule-snooze" type="number" min="1" aria-label=t!("rules.snooze").to_string() disabled=!editable
                        prop:value=draft.snooze_hours on:input=move |event| draft.snooze_hours.set(event_target_value(&event)) />
                    {t!("rules.hours").to_string()}
                </label>
                {check(draft.resolve, editable, t!("rules.resolve").to_string(), "rule-resolve")}
                {text_box(draft.labels, editable, t!("rules.labels").to_string(), "rule-labels")}
                {text_box(draft.remove_labels, editable, t!("rules.remove_labels").to_string(), "rule-remove-labels")}
                {text_box(draft.note, editable, t!("rules.note").to_string(), "rule-note")}
            </fieldset>
            {check(draft.keep_going, editable, t!("rules.keep_going").to_string(), "rule-keep-going")}
            {(others > 0).then(|| view! { <p class="hint">{t!("rules.other_conditions", count = others).to_string()}</p> })}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use baton_shared::UserId;

    use super::*;

    #[test]
    fn a_rule_loaded_and_saved_unchanged_comes_back_the_same() {
        let owner = Owner::new();
        owner.set();
        let rule = Rule {
            id: 7,
            name: "Wrap up".into(),
            enabled: true,
            triggers: vec![
                Trigger::ConversationResolved,
                Trigger::PendingFor { hours: 24 },
                Trigger::PendingFor { hours: 48 },
            ],
            combine: Combine::Any,
            conditions: vec![
                Condition::TextContains { keywords: vec!["refund".into()] },
                Condition::HasLabel { label: "vip".into() },
                Condition::Customer { returning: true },
            ],
            // Not the form's order, with what it has no field for in between.
            actions: vec![
                Action::Resolve,
                Action::AddNote { text: "first".into() },
                Action::AssignTo { user: UserId(3) },
                Action::SendCanned { canned: 4 },
                Action::AddNote { text: "second".into() },
                Action::RemoveLabels { labels: vec!["new".into()] },
            ],
            keep_going: true,
        };
        let draft = Draft::of(0, &rule);
        assert_eq!(draft.rule(), rule);
        draft.note.set(String::new());
        draft.priority.set(Some(Priority::High));
        let edited = draft.rule();
        assert_eq!(
            edited.actions,
            [
                Action::Resolve,
                Action::AssignTo { user: UserId(3) },
                Action::SendCanned { canned: 4 },
                Action::AddNote { text: "second".into() },
                Action::RemoveLabels { labels: vec!["new".into()] },
                Action::SetPriority { priority: Priority::High },
            ],
            "an emptied field goes, a new one comes last, the rest keep their places"
        );
    }
}
