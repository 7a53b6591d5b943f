//! The menu bot's editor on the Automation page: the prompt, 2–10 options (each an id, a title,
//! keywords, and the team, priority and label it leads to), the "talk to a person" choice, the
//! words that hand over at once and the text that asks again. Admins edit; supervisors read. The
//! server checks WhatsApp's limits (titles, counts) and answers with a sentence.

use baton_shared::TeamId;
use baton_shared::api::Role;
use baton_shared::automation::Versioned;
use baton_shared::menu::{Menu, MenuOption};
use baton_shared::model::Priority;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::context::Ctx;

/// A comma-separated list.
fn split(list: &str) -> Vec<String> {
    list.split([',', '،', '，', '、']).map(str::trim).filter(|item| !item.is_empty()).map(str::to_owned).collect()
}

/// One option as the form edits it.
#[derive(Clone, Copy)]
struct OptionForm {
    key: usize,
    id: RwSignal<String>,
    title: RwSignal<String>,
    description: RwSignal<String>,
    keywords: RwSignal<String>,
    team: RwSignal<Option<TeamId>>,
    priority: RwSignal<Option<Priority>>,
    label: RwSignal<String>,
}

impl OptionForm {
    fn of(key: usize, option: &MenuOption) -> Self {
        OptionForm {
            key,
            id: RwSignal::new(option.id.clone()),
            title: RwSignal::new(option.title.clone()),
            description: RwSignal::new(option.description.clone().unwrap_or_default()),
            keywords: RwSignal::new(option.keywords.join(", ")),
            team: RwSignal::new(Some(option.team)),
            priority: RwSignal::new(option.priority),
            label: RwSignal::new(option.label.clone().unwrap_or_default()),
        }
    }

    fn option(&self) -> Option<MenuOption> {
        let text =
            |signal: RwSignal<String>| Some(signal.get_untracked().trim().to_owned()).filter(|text| !text.is_empty());
        Some(MenuOption {
            id: self.id.get_untracked().trim().to_owned(),
            title: self.title.get_untracked().trim().to_owned(),
            description: text(self.description),
            keywords: split(&self.keywords.get_untracked()),
            team: self.team.get_untracked()?,
            priority: self.priority.get_untracked(),
            label: text(self.label),
        })
    }
}

#[component]
pub fn MenuSection() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let editable = ctx.me.with_value(|me| me.role.at_least(Role::Admin));
    let version = RwSignal::new(0_u32);
    let enabled = RwSignal::new(false);
    let prompt = RwSignal::new(String::new());
    let list_button = RwSignal::new(String::new());
    let person = RwSignal::new(String::new());
    let handoff_words = RwSignal::new(String::new());
    let retry = RwSignal::new(String::new());
    let options = RwSignal::new(Vec::<OptionForm>::new());
    let next_key = StoredValue::new(0_usize);
    let error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(false);
    let fresh_key = move || {
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        key
    };
    let load = move |stored: Versioned<Menu>| {
        let menu = stored.value;
        version.set(stored.version);
        enabled.set(menu.enabled);
        prompt.set(menu.prompt);
        list_button.set(menu.list_button);
        person.set(menu.person.unwrap_or_default());
        handoff_words.set(menu.handoff_words.join(", "));
        retry.set(menu.retry);
        options.set(menu.options.iter().map(|option| OptionForm::of(fresh_key(), option)).collect());
    };
    spawn_local(async move {
        match api::menu().await {
            Ok(stored) => load(stored),
            Err(failure) => error.set(Some(failure.message)),
        }
    });
    let save = move |_| {
        let Some(chosen) =
            options.with_untracked(|forms| forms.iter().map(OptionForm::option).collect::<Option<Vec<_>>>())
        else {
            saved.set(false);
            error.set(Some(t!("automation.option_needs_team").to_string()));
            return;
        };
        let person = person.get_untracked().trim().to_owned();
        let request = Versioned {
            version: version.get_untracked(),
            value: Menu {
                enabled: enabled.get_untracked(),
                prompt: prompt.get_untracked(),
                list_button: list_button.get_untracked(),
                options: chosen,
                person: (!person.is_empty()).then_some(person),
                handoff_words: split(&handoff_words.get_untracked()),
                retry: retry.get_untracked(),
            },
        };
        spawn_local(async move {
            match api::save_menu(&request).await {
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
    let add = move |_| {
        let team = ctx.teams.with_untracked(|teams| teams.first().map(|team| team.id));
        let blank = OptionForm::of(
            fresh_key(),
            &MenuOption {
                id: String::new(),
                title: String::new(),
                description: None,
                keywords: Vec::new(),
                team: team.unwrap_or(TeamId(0)),
                priority: None,
                label: None,
            },
        );
        blank.team.set(team);
        options.update(|forms| forms.push(blank));
    };
    let field = move |signal: RwSignal<String>, class: &'static str, label: String| {
        view! {
            <input class=class aria-label=label.clone() placeholder=label disabled=!editable
                prop:value=signal on:input=move |event| signal.set(event_target_value(&event)) />
        }
    };
    view! {
        <div class="automation-part" id="menu-bot">
            <h2>{t!("automation.menu").to_string()}</h2>
            <p class="hint">{t!("automation.menu_hint").to_string()}</p>
            <label class="check">
                <input type="checkbox" id="menu-enabled" disabled=!editable prop:checked=enabled
                    on:change=move |event| enabled.set(event_target_checked(&event)) />
                {t!("automation.menu_enabled").to_string()}
            </label>
            <label class="menu-line">
                {t!("automation.prompt").to_string()}
                <textarea id="menu-prompt" rows="2" disabled=!editable prop:value=prompt
                    on:input=move |event| prompt.set(event_target_value(&event))></textarea>
            </label>
            <ol class="menu-options" id="menu-options">
                <For each=move || options.get() key=|form| form.key let:form>
                    <li class="menu-option">
                        {field(form.id, "option-id", t!("automation.option_id").to_string())}
                        {field(form.title, "option-title", t!("automation.option_title").to_string())}
                        {field(form.description, "option-description", t!("automation.option_description").to_string())}
                        {field(form.keywords, "option-keywords", t!("automation.option_keywords").to_string())}
                        <select class="option-team" aria-label=t!("automation.option_team").to_string() disabled=!editable
                            on:change=move |event| form.team.set(event_target_value(&event).parse::<i64>().ok().map(TeamId))>
                            {move || ctx.teams.get().into_iter().map(|team| view! {
                                <option value=team.id.to_string() selected=form.team.get() == Some(team.id)>{team.name.clone()}</option>
                            }).collect_view()}
                        </select>
                        <select class="option-priority" aria-label=t!("automation.option_priority").to_string() disabled=!editable
                            on:change=move |event| form.priority.set(Priority::parse(&event_target_value(&event)))>
                            <option value="" selected=move || form.priority.get().is_none()>{t!("automation.keep").to_string()}</option>
                            {Priority::ALL.into_iter().map(|option| view! {
                                <option value=option.as_str() selected=move || form.priority.get() == Some(option)>
                                    {t!(format!("priority.{}", option.as_str())).to_string()}
                                </option>
                            }).collect_view()}
                        </select>
                        {field(form.label, "option-label", t!("automation.option_label").to_string())}
                        <Show when=move || editable>
                            <button class="link-button" on:click=move |_| options.update(|forms| forms.retain(|other| other.key != form.key))>
                                {t!("automation.remove_option").to_string()}
                            </button>
                        </Show>
                    </li>
                </For>
            </ol>
            <Show when=move || editable>
                <button id="add-option" class="secondary" on:click=add>{t!("automation.add_option").to_string()}</button>
            </Show>
            <div class="menu-settings">
                <label>{t!("automation.list_button").to_string()} {field(list_button, "menu-list-button", t!("automation.list_button").to_string())}</label>
                <label>{t!("automation.person").to_string()} {field(person, "menu-person", t!("automation.person").to_string())}</label>
                <label>{t!("automation.handoff_words").to_string()} {field(handoff_words, "menu-handoff", t!("automation.handoff_words").to_string())}</label>
                <label>{t!("automation.retry").to_string()} {field(retry, "menu-retry", t!("automation.retry").to_string())}</label>
            </div>
            <crate::pages::automation::SaveBar id="save-menu" label=t!("automation.save_menu").to_string() editable=editable saved=saved error=error
                on_save=Callback::new(move |()| save(())) />
        </div>
    }
}
