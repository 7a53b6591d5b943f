//! The Automation page: business hours (the inbox's, and each team's own), the auto-replies
//! (greeting, away message, queue acknowledgement, the hourly cap per customer) and the menu bot
//! ([`crate::pages::automation_menu`]). Admins edit;
//! supervisors read. Each part is saved whole, based on the version read: if another admin saved
//! meanwhile, the server refuses and says so. Whether each schedule is open now, and when it
//! next opens, comes from the server, which holds the time-zone database.

use baton_shared::TeamId;
use baton_shared::api::Role;
use baton_shared::automation::{
    AutoReplies, AutoReply, BusinessHours, HoursNow, HoursSettings, OpeningInterval, TeamHours, Versioned, Weekday,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::context::Ctx;

/// Time zones offered first (any IANA name may be typed).
const ZONES: [&str; 12] = [
    "Europe/Berlin",
    "Europe/London",
    "Europe/Lisbon",
    "America/Sao_Paulo",
    "America/New_York",
    "America/Mexico_City",
    "Asia/Kolkata",
    "Asia/Dubai",
    "Asia/Singapore",
    "Africa/Lagos",
    "Australia/Sydney",
    "UTC",
];

/// One day's intervals as typed: `09:00-12:00, 13:00-17:00`.
pub fn intervals_text(hours: &BusinessHours, day: Weekday) -> String {
    hours
        .weekly
        .iter()
        .filter(|interval| interval.day == day)
        .map(|interval| format!("{}-{}", interval.from, interval.to))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A day's typed intervals; the server checks the times themselves and says what is wrong.
pub fn parse_intervals(day: Weekday, text: &str) -> Vec<OpeningInterval> {
    text.split([',', ';'])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (from, to) = part.split_once(['-', '–']).unwrap_or((part, ""));
            OpeningInterval { day, from: from.trim().to_owned(), to: to.trim().to_owned() }
        })
        .collect()
}

/// A list typed with commas or new lines.
fn parse_list(text: &str) -> Vec<String> {
    text.split([',', '\n']).map(str::trim).filter(|item| !item.is_empty()).map(str::to_owned).collect()
}

/// One schedule as the form edits it.
#[derive(Clone, Copy)]
struct ScheduleForm {
    /// Whether this scope has hours of its own (the inbox: any; a team: its own).
    set: RwSignal<bool>,
    zone: RwSignal<String>,
    days: [RwSignal<String>; 7],
    holidays: RwSignal<String>,
}

impl ScheduleForm {
    fn new(hours: Option<&BusinessHours>) -> Self {
        let form = ScheduleForm {
            set: RwSignal::new(false),
            zone: RwSignal::new("Europe/Berlin".to_owned()),
            days: std::array::from_fn(|_| RwSignal::new(String::new())),
            holidays: RwSignal::new(String::new()),
        };
        form.load(hours);
        form
    }

    fn load(&self, hours: Option<&BusinessHours>) {
        self.set.set(hours.is_some());
        if let Some(hours) = hours {
            self.zone.set(hours.time_zone.clone());
            for (index, day) in Weekday::ALL.into_iter().enumerate() {
                self.days[index].set(intervals_text(hours, day));
            }
            self.holidays.set(hours.holidays.join(", "));
        }
    }

    fn hours(&self) -> Option<BusinessHours> {
        self.set.get_untracked().then(|| BusinessHours {
            time_zone: self.zone.get_untracked().trim().to_owned(),
            weekly: Weekday::ALL
                .into_iter()
                .enumerate()
                .flat_map(|(index, day)| parse_intervals(day, &self.days[index].get_untracked()))
                .collect(),
            holidays: parse_list(&self.holidays.get_untracked()),
        })
    }
}

#[component]
pub fn AutomationPage() -> impl IntoView {
    view! {
        <section class="admin automation-page" id="automation-page">
            <h1>{t!("automation.title").to_string()}</h1>
            <p class="hint">{t!("automation.intro").to_string()}</p>
            <HoursSection />
            <RepliesSection />
            <crate::pages::automation_sla::SlaSection />
            <crate::pages::automation_menu::MenuSection />
            <crate::pages::automation_csat::CsatSection />
        </section>
    }
}

#[component]
fn HoursSection() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let editable = ctx.me.with_value(|me| me.role.at_least(Role::Admin));
    let version = RwSignal::new(0_u32);
    let inbox = ScheduleForm::new(None);
    // Each team's form, made once per team as teams arrive.
    let teams = RwSignal::new(Vec::<(TeamId, ScheduleForm)>::new());
    let stored = RwSignal::new(HoursSettings::default());
    let now = RwSignal::new(None::<HoursNow>);
    let error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(false);
    let refresh_now = move || {
        spawn_local(async move {
            if let Ok(answer) = api::hours_now().await {
                now.set(Some(answer));
            }
        });
    };
    let load = move |settings: Versioned<HoursSettings>| {
        version.set(settings.version);
        inbox.load(settings.value.inbox.as_ref());
        teams.with_untracked(|forms| {
            for (team, form) in forms {
                let own = settings.value.teams.iter().find(|own| own.team == *team).map(|own| &own.hours);
                form.load(own);
            }
        });
        stored.set(settings.value);
    };
    // A form for every team, loaded from what was read.
    Effect::new(move |_| {
        let known = ctx.teams.get();
        let settings = stored.get();
        teams.update(|forms| {
            for team in &known {
                if !forms.iter().any(|(id, _)| *id == team.id) {
                    let own = settings.teams.iter().find(|own| own.team == team.id).map(|own| &own.hours);
                    forms.push((team.id, ScheduleForm::new(own)));
                }
            }
        });
    });
    spawn_local(async move {
        match api::business_hours().await {
            Ok(settings) => load(settings),
            Err(failure) => error.set(Some(failure.message)),
        }
    });
    refresh_now();
    let save = move |_| {
        let value = HoursSettings {
            inbox: inbox.hours(),
            teams: teams.with_untracked(|forms| {
                forms
                    .iter()
                    .filter_map(|(team, form)| form.hours().map(|hours| TeamHours { team: *team, hours }))
                    .collect()
            }),
        };
        let request = Versioned { version: version.get_untracked(), value };
        spawn_local(async move {
            match api::save_business_hours(&request).await {
                Ok(settings) => {
                    error.set(None);
                    saved.set(true);
                    load(settings);
                    refresh_now();
                }
                Err(failure) => {
                    saved.set(false);
                    error.set(Some(failure.message));
                }
            }
        });
    };
    let status_of = move |team: Option<TeamId>| {
        move || {
            now.with(|now| {
                let scope = now.as_ref()?.scopes.iter().find(|scope| scope.team == team)?;
                Some(if scope.open {
                    view! { <span class="open-now open">{t!("automation.open_now").to_string()}</span> }.into_any()
                } else {
                    let next = scope.next_opening_text.clone().unwrap_or_else(|| t!("automation.never").to_string());
                    view! { <span class="open-now closed">{t!("automation.closed_until", next = next).to_string()}</span> }
                        .into_any()
                })
            })
        }
    };
    view! {
        <div class="automation-part" id="business-hours">
            <h2>{t!("automation.hours").to_string()}</h2>
            <p class="hint">{t!("automation.hours_hint").to_string()}</p>
            <datalist id="time-zones">
                {ZONES.into_iter().map(|zone| view! { <option value=zone></option> }).collect_view()}
            </datalist>
            <fieldset class="schedule" data-scope="inbox">
                <legend>{t!("automation.inbox_hours").to_string()} " " {status_of(None)}</legend>
                <ScheduleEditor form=inbox editable=editable own_label=t!("automation.inbox_set").to_string() />
            </fieldset>
            <For each=move || teams.get() key=|(team, _)| *team let:entry>
                {
                    let (team, form) = entry;
                    view! {
                        <fieldset class="schedule" data-scope=team.to_string()>
                            <legend>{move || ctx.team_name(team)} " " {status_of(Some(team))}</legend>
                            <ScheduleEditor form=form editable=editable own_label=t!("automation.team_set").to_string() />
                        </fieldset>
                    }
                }
            </For>
            <crate::pages::automation::SaveBar id="save-hours" label=t!("automation.save_hours").to_string() editable=editable saved=saved error=error
                on_save=Callback::new(move |()| save(())) />
        </div>
    }
}

/// The save button of one part of the page (admins only), what saving said, and why it failed.
#[component]
pub fn SaveBar(
    id: &'static str,
    label: String,
    editable: bool,
    saved: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    on_save: Callback<()>,
) -> impl IntoView {
    view! {
        <Show when=move || editable>
            <div class="rules-buttons">
                <button id=id class="primary" on:click=move |_| on_save.run(())>{label.clone()}</button>
                {move || saved.get().then(|| view! { <span class="saved" role="status">{t!("teams.saved").to_string()}</span> })}
            </div>
        </Show>
        {move || error.get().map(|message| view! { <p class="alert" role="alert">{message}</p> })}
    }
}

#[component]
fn ScheduleEditor(form: ScheduleForm, editable: bool, own_label: String) -> impl IntoView {
    view! {
        <label class="check">
            <input type="checkbox" class="schedule-set" disabled=!editable prop:checked=form.set
                on:change=move |event| form.set.set(event_target_checked(&event)) />
            {own_label}
        </label>
        <Show when=move || form.set.get()>
            <label class="zone">
                {t!("automation.time_zone").to_string()}
                <input class="schedule-zone" list="time-zones" disabled=!editable prop:value=form.zone
                    on:input=move |event| form.zone.set(event_target_value(&event)) />
            </label>
            <div class="week">
                {Weekday::ALL.into_iter().enumerate().map(|(index, day)| {
                    let text = form.days[index];
                    view! {
                        <label class="day" data-day=day.as_str()>
                            <span>{t!(format!("automation.day_{}", day.as_str())).to_string()}</span>
                            <input class="day-hours" placeholder=t!("automation.closed").to_string() disabled=!editable
                                prop:value=text on:input=move |event| text.set(event_target_value(&event)) />
                        </label>
                    }
                }).collect_view()}
            </div>
            <label class="holidays">
                {t!("automation.holidays").to_string()}
                <input class="schedule-holidays" placeholder="2026-12-25, 2027-01-01" disabled=!editable
                    prop:value=form.holidays on:input=move |event| form.holidays.set(event_target_value(&event)) />
            </label>
        </Show>
    }
}

/// One auto-reply as the form edits it.
#[derive(Clone, Copy)]
struct ReplyForm {
    enabled: RwSignal<bool>,
    text: RwSignal<String>,
}

impl ReplyForm {
    fn new() -> Self {
        ReplyForm { enabled: RwSignal::new(false), text: RwSignal::new(String::new()) }
    }

    fn load(&self, reply: &AutoReply) {
        self.enabled.set(reply.enabled);
        self.text.set(reply.text.clone());
    }

    fn reply(&self) -> AutoReply {
        AutoReply { enabled: self.enabled.get_untracked(), text: self.text.get_untracked() }
    }
}

#[component]
fn RepliesSection() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let editable = ctx.me.with_value(|me| me.role.at_least(Role::Admin));
    let version = RwSignal::new(0_u32);
    let (greeting, away, queue_ack) = (ReplyForm::new(), ReplyForm::new(), ReplyForm::new());
    let cap = RwSignal::new(3_u32);
    let error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(false);
    let load = move |settings: Versioned<AutoReplies>| {
        version.set(settings.version);
        greeting.load(&settings.value.greeting);
        away.load(&settings.value.away);
        queue_ack.load(&settings.value.queue_ack);
        cap.set(settings.value.hourly_cap);
    };
    spawn_local(async move {
        match api::auto_replies().await {
            Ok(settings) => load(settings),
            Err(failure) => error.set(Some(failure.message)),
        }
    });
    let save = move |_| {
        let request = Versioned {
            version: version.get_untracked(),
            value: AutoReplies {
                greeting: greeting.reply(),
                away: away.reply(),
                queue_ack: queue_ack.reply(),
                hourly_cap: cap.get_untracked(),
            },
        };
        spawn_local(async move {
            match api::save_auto_replies(&request).await {
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
    let block = move |form: ReplyForm, id: &'static str| {
        view! {
            <div class="auto-reply" id=id>
                <label class="check">
                    <input type="checkbox" class="reply-enabled" disabled=!editable prop:checked=form.enabled
                        on:change=move |event| form.enabled.set(event_target_checked(&event)) />
                    <strong>{t!(format!("automation.{id}")).to_string()}</strong>
                </label>
                <p class="hint">{t!(format!("automation.{id}_hint")).to_string()}</p>
                <textarea class="reply-text" rows="3" aria-label=t!(format!("automation.{id}")).to_string() disabled=!editable
                    prop:value=form.text on:input=move |event| form.text.set(event_target_value(&event))></textarea>
            </div>
        }
    };
    view! {
        <div class="automation-part" id="auto-replies">
            <h2>{t!("automation.replies").to_string()}</h2>
            <p class="hint">{t!("automation.placeholders").to_string()}</p>
            {block(greeting, "greeting")}
            {block(away, "away")}
            {block(queue_ack, "queue_ack")}
            <label class="cap">
                {t!("automation.cap").to_string()}
                <input id="hourly-cap" type="number" min="1" max="20" disabled=!editable prop:value=move || cap.get().to_string()
                    on:input=move |event| if let Ok(value) = event_target_value(&event).parse() { cap.set(value) } />
            </label>
            <crate::pages::automation::SaveBar id="save-replies" label=t!("automation.save_replies").to_string() editable=editable saved=saved error=error
                on_save=Callback::new(move |()| save(())) />
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_intervals_read_back() {
        let parsed = parse_intervals(Weekday::Monday, " 09:00-12:00, 13:00 – 17:30 ;");
        assert_eq!(
            parsed,
            vec![
                OpeningInterval { day: Weekday::Monday, from: "09:00".into(), to: "12:00".into() },
                OpeningInterval { day: Weekday::Monday, from: "13:00".into(), to: "17:30".into() },
            ]
        );
        let hours = BusinessHours { time_zone: "UTC".into(), weekly: parsed, holidays: vec![] };
        assert_eq!(intervals_text(&hours, Weekday::Monday), "09:00-12:00, 13:00-17:30");
        assert_eq!(intervals_text(&hours, Weekday::Tuesday), "");
        assert_eq!(parse_list("2026-12-25,\n2027-01-01, "), vec!["2026-12-25".to_owned(), "2027-01-01".to_owned()]);
    }
}
