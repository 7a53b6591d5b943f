//! The rating request on the Automation page: on or off, three levels (reply buttons) or five (a
//! list), the question and the answers' titles, best first. Admins edit; supervisors read.

use baton_shared::api::Role;
use baton_shared::automation::Versioned;
use baton_shared::csat::{CsatSettings, Scale};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::context::Ctx;

#[component]
pub fn CsatSection() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let editable = ctx.me.with_value(|me| me.role.at_least(Role::Admin));
    let version = RwSignal::new(0_u32);
    let enabled = RwSignal::new(false);
    let five = RwSignal::new(false);
    let question = RwSignal::new(String::new());
    let labels = RwSignal::new(String::new());
    let list_button = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(false);
    let load = move |stored: Versioned<CsatSettings>| {
        let csat = stored.value;
        version.set(stored.version);
        enabled.set(csat.enabled);
        five.set(csat.scale == Scale::Five);
        question.set(csat.question);
        labels.set(csat.labels.join(", "));
        list_button.set(csat.list_button);
    };
    spawn_local(async move {
        match api::csat().await {
            Ok(stored) => load(stored),
            Err(failure) => error.set(Some(failure.message)),
        }
    });
    let save = move |_| {
        let request = Versioned {
            version: version.get_untracked(),
            value: CsatSettings {
                enabled: enabled.get_untracked(),
                scale: if five.get_untracked() { Scale::Five } else { Scale::Three },
                question: question.get_untracked(),
                labels: labels
                    .get_untracked()
                    .split(',')
                    .map(str::trim)
                    .filter(|label| !label.is_empty())
                    .map(str::to_owned)
                    .collect(),
                list_button: list_button.get_untracked(),
            },
        };
        spawn_local(async move {
            match api::save_csat(&request).await {
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
    let text = move |signal: RwSignal<String>, id: &'static str, label: String| {
        view! {
            <label class="menu-line">
                {label}
                <input id=id disabled=!editable prop:value=signal on:input=move |event| signal.set(event_target_value(&event)) />
            </label>
        }
    };
    view! {
        <div class="automation-part" id="csat">
            <h2>{t!("automation.csat").to_string()}</h2>
            <p class="hint">{t!("automation.csat_hint").to_string()}</p>
            <label class="check">
                <input type="checkbox" id="csat-enabled" disabled=!editable prop:checked=enabled
                    on:change=move |event| enabled.set(event_target_checked(&event)) />
                {t!("automation.csat_enabled").to_string()}
            </label>
            <label class="check">
                <input type="checkbox" id="csat-five" disabled=!editable prop:checked=five
                    on:change=move |event| five.set(event_target_checked(&event)) />
                {t!("automation.csat_five").to_string()}
            </label>
            {text(question, "csat-question", t!("automation.csat_question").to_string())}
            {text(labels, "csat-labels", t!("automation.csat_labels").to_string())}
            {text(list_button, "csat-list-button", t!("automation.list_button").to_string())}
            <crate::pages::automation::SaveBar id="save-csat" label=t!("automation.save_csat").to_string() editable=editable saved=saved error=error
                on_save=Callback::new(move |()| save(())) />
        </div>
    }
}
