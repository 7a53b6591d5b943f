//! Service-level targets on the Automation page: first response, next response and resolution
//! (minutes of business hours), and auto-resolve (hours without a customer message, with an
//! optional closing message) — the inbox's, and any team's own. Admins edit; supervisors read.

use baton_shared::TeamId;
use baton_shared::api::Role;
use baton_shared::automation::Versioned;
use baton_shared::sla::{SlaSettings, SlaTargets, TeamSla};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::context::Ctx;

/// One scope's targets as the form edits them (empty: no target).
#[derive(Clone, Copy)]
struct TargetsForm {
    own: RwSignal<bool>,
    first: RwSignal<String>,
    next: RwSignal<String>,
    resolution: RwSignal<String>,
    auto_resolve: RwSignal<String>,
    closing: RwSignal<String>,
}

fn number(value: Option<u32>) -> String {
    value.map(|value| value.to_string()).unwrap_or_default()
}

impl TargetsForm {
    fn new() -> Self {
        TargetsForm {
            own: RwSignal::new(false),
            first: RwSignal::new(String::new()),
            next: RwSignal::new(String::new()),
            resolution: RwSignal::new(String::new()),
            auto_resolve: RwSignal::new(String::new()),
            closing: RwSignal::new(String::new()),
        }
    }

    fn load(&self, targets: Option<&SlaTargets>) {
        self.own.set(targets.is_some());
        let targets = targets.cloned().unwrap_or_default();
        self.first.set(number(targets.first_response_minutes));
        self.next.set(number(targets.next_response_minutes));
        self.resolution.set(number(targets.resolution_minutes));
        self.auto_resolve.set(number(targets.auto_resolve_hours));
        self.closing.set(targets.closing_message.unwrap_or_default());
    }

    fn targets(&self) -> SlaTargets {
        let read = |signal: RwSignal<String>| signal.get_untracked().trim().parse::<u32>().ok();
        let closing = self.closing.get_untracked();
        SlaTargets {
            first_response_minutes: read(self.first),
            next_response_minutes: read(self.next),
            resolution_minutes: read(self.resolution),
            auto_resolve_hours: read(self.auto_resolve),
            closing_message: Some(closing.trim().to_owned()).filter(|text| !text.is_empty()),
        }
    }
}

#[component]
pub fn SlaSection() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let editable = ctx.me.with_value(|me| me.role.at_least(Role::Admin));
    let version = RwSignal::new(0_u32);
    let inbox = TargetsForm::new();
    let teams = RwSignal::new(Vec::<(TeamId, TargetsForm)>::new());
    let stored = RwSignal::new(SlaSettings::default());
    let error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(false);
    let load = move |settings: Versioned<SlaSettings>| {
        version.set(settings.version);
        inbox.load(Some(&settings.value.inbox));
        teams.with_untracked(|forms| {
            for (team, form) in forms {
                form.load(settings.value.teams.iter().find(|own| own.team == *team).map(|own| &own.targets));
            }
        });
        stored.set(settings.value);
    };
    Effect::new(move |_| {
        let known = ctx.teams.get();
        let settings = stored.get();
        teams.update(|forms| {
            for team in &known {
                if !forms.iter().any(|(id, _)| *id == team.id) {
                    let form = TargetsForm::new();
                    form.load(settings.teams.iter().find(|own| own.team == team.id).map(|own| &own.targets));
                    forms.push((team.id, form));
                }
            }
        });
    });
    spawn_local(async move {
        match api::sla().await {
            Ok(settings) => load(settings),
            Err(failure) => error.set(Some(failure.message)),
        }
    });
    let save = move |_| {
        let value = SlaSettings {
            inbox: inbox.targets(),
            teams: teams.with_untracked(|forms| {
                forms
                    .iter()
                    .filter(|(_, form)| form.own.get_untracked())
                    .map(|(team, form)| TeamSla { team: *team, targets: form.targets() })
                    .collect()
            }),
        };
        let request = Versioned { version: version.get_untracked(), value };
        spawn_local(async move {
            match api::save_sla(&request).await {
                Ok(settings) => {
                    error.set(None);
                    saved.set(true);
                    load(settings);
                }
                Err(failure) => {
                    saved.set(false);
                    error.set(Some(failure.message));
                }
            }
        });
    };
    view! {
        <div class="automation-part" id="sla-targets">
            <h2>{t!("automation.sla").to_string()}</h2>
            <p class="hint">{t!("automation.sla_hint").to_string()}</p>
            <fieldset class="schedule" data-scope="inbox">
                <legend>{t!("automation.inbox_hours").to_string()}</legend>
                <TargetsEditor form=inbox editable=editable />
            </fieldset>
            <For each=move || teams.get() key=|(team, _)| *team let:entry>
                {
                    let (team, form) = entry;
                    view! {
                        <fieldset class="schedule" data-scope=team.to_string()>
                            <legend>{move || ctx.team_name(team)}</legend>
                            <label class="check">
                                <input type="checkbox" disabled=!editable prop:checked=form.own
                                    on:change=move |event| form.own.set(event_target_checked(&event)) />
                                {t!("automation.team_targets").to_string()}
                            </label>
                            <Show when=move || form.own.get()>
                                <TargetsEditor form=form editable=editable />
                            </Show>
                        </fieldset>
                    }
                }
            </For>
            <crate::pages::automation::SaveBar id="save-sla" label=t!("automation.save_sla").to_string() editable=editable saved=saved error=error
                on_save=Callback::new(move |()| save(())) />
        </div>
    }
}

#[component]
fn TargetsEditor(form: TargetsForm, editable: bool) -> impl IntoView {
    let field = move |signal: RwSignal<String>, class: &'static str, label: String| {
        view! {
            <label class="target">
                <span>{label}</span>
                <input class=class type="number" min="1" disabled=!editable placeholder="—"
                    prop:value=signal on:input=move |event| signal.set(event_target_value(&event)) />
            </label>
        }
    };
    view! {
        <div class="targets">
            {field(form.first, "sla-first", t!("automation.first_response").to_string())}
            {field(form.next, "sla-next", t!("automation.next_response").to_string())}
            {field(form.resolution, "sla-resolution", t!("automation.resolution").to_string())}
            {field(form.auto_resolve, "sla-auto-resolve", t!("automation.auto_resolve").to_string())}
        </div>
        <label class="holidays">
            {t!("automation.closing").to_string()}
            <input class="sla-closing" disabled=!editable prop:value=form.closing
                on:input=move |event| form.closing.set(event_target_value(&event)) />
        </label>
    }
}
