//! The Reports page (supervisors and admins; leads for their own teams): a period in the
//! viewer's time zone (today, 7 or 30 days, or custom days) compared with the one before it,
//! filters by team, agent and label, the overview tiles, the charts
//! ([`crate::components::report_charts`]) and the tables per agent, team and label
//! ([`crate::components::report_tables`]). Every figure is the server's (`GET /api/reports/…`,
//! defined in `docs/reports.md`); the page only lays them out.

use baton_shared::api::Role;
use baton_shared::reports::{Figures, Overview, ReportRequest};
use baton_shared::{TeamId, UserId};
use leptos::prelude::*;

use crate::api;
use crate::components::report_charts::{HeatmapChart, LoadChart, ResponseChart, VolumeChart};
use crate::components::report_tables::ReportTables;
use crate::context::Ctx;
use crate::latest::ask_latest;

/// The period asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Range {
    Today,
    Days7,
    Days30,
    Custom,
}

/// Local midnight `days` from today's (negative: before), in Unix ms, by the browser's clock and
/// time zone (a day with a clock change is 23 or 25 hours, as the server counts it).
fn local_midnight(days: i32) -> i64 {
    let today = js_sys::Date::new_0();
    local_date(today.get_full_year(), today.get_month(), i32::try_from(today.get_date()).unwrap_or(1) + days)
}

/// Local midnight of a date (month 0-based; days beyond the month roll over, as JavaScript does).
fn local_date(year: u32, month: u32, day: i32) -> i64 {
    let date = js_sys::Date::new_with_year_month_day(year, i32::try_from(month).unwrap_or(0), day);
    date.get_time() as i64
}

/// The local midnight `after` days after the day `YYYY-MM-DD` (a date input's value) began: the
/// next day's midnight is not always 24 hours on (a clock change).
fn parse_day(value: &str, after: i32) -> Option<i64> {
    let mut parts = value.split('-');
    let year: u32 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: i32 = parts.next()?.parse().ok()?;
    Some(local_date(year, month.checked_sub(1)?, day + after))
}

/// The browser's IANA time zone (`Europe/Berlin`).
fn browser_zone() -> Option<String> {
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
    js_sys::Reflect::get(&format.resolved_options(), &"timeZone".into()).ok()?.as_string()
}

/// A length of time as people read it: `45 s`, `4 min 12 s`, `2 h 5 min`, `3 d 4 h`.
pub fn duration(ms: i64) -> String {
    let seconds = ms / 1000;
    match seconds {
        ..60 => format!("{} s", seconds.max(0)),
        60..3_600 => format!("{} min {} s", seconds / 60, seconds % 60),
        3_600..86_400 => format!("{} h {} min", seconds / 3_600, seconds % 3_600 / 60),
        _ => format!("{} d {} h", seconds / 86_400, seconds % 86_400 / 3_600),
    }
}

/// A long time in hours and minutes (`37 h 5 min`), as time online reads best over days.
pub fn hours(ms: i64) -> String {
    let minutes = ms.max(0) / 60_000;
    format!("{} h {} min", minutes / 60, minutes % 60)
}

/// A share as a percentage (`87%`), or a dash without answers.
pub fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "—".to_owned(), |share| format!("{:.0}%", share * 100.0))
}

/// The share of service-level clocks met.
pub fn sla_share(figures: &Figures) -> Option<f64> {
    let all = figures.sla.met + figures.sla.breached;
    (all > 0).then(|| figures.sla.met as f64 / all as f64)
}

#[component]
pub fn ReportsPage() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let range = RwSignal::new(Range::Days7);
    let custom_from = RwSignal::new(String::new());
    let custom_to = RwSignal::new(String::new());
    let team = RwSignal::new(None::<TeamId>);
    let agent = RwSignal::new(None::<UserId>);
    let label = RwSignal::new(String::new());
    let zone = browser_zone();
    let request = Memo::new(move |_| {
        let (from, to) = match range.get() {
            Range::Today => (local_midnight(0), local_midnight(1)),
            Range::Days7 => (local_midnight(-6), local_midnight(1)),
            Range::Days30 => (local_midnight(-29), local_midnight(1)),
            Range::Custom => {
                let from = parse_day(&custom_from.get(), 0).unwrap_or_else(|| local_midnight(-6));
                // The last day is included: the period ends at the next midnight.
                let to = parse_day(&custom_to.get(), 1).unwrap_or_else(|| local_midnight(1));
                (from, to)
            }
        };
        ReportRequest {
            from,
            to,
            tz: zone.clone(),
            team: team.get(),
            agent: agent.get(),
            label: Some(label.get()).filter(|label| !label.trim().is_empty()),
        }
    });
    let overview = RwSignal::new(None::<Overview>);
    let error = RwSignal::new(None::<String>);
    // Every change of period or filters asks again; only the latest answer is shown.
    ask_latest(
        move || request.get(),
        |asked| async move { api::report_overview(&asked).await },
        move |answer| match answer {
            Ok(found) => {
                error.set(None);
                overview.set(Some(found));
            }
            Err(failure) => error.set(Some(failure.message)),
        },
    );

    let choose_range = move |event: leptos::ev::Event| {
        range.set(match event_target_value(&event).as_str() {
            "today" => Range::Today,
            "30" => Range::Days30,
            "custom" => Range::Custom,
            _ => Range::Days7,
        });
    };
    // A lead reads their own teams only: those, and their members, are what they may pick.
    let lead = ctx.me.with_value(|me| me.role == Role::Lead);
    let readable = move || {
        let mut teams = ctx.teams.get();
        if lead {
            ctx.me.with_value(|me| teams.retain(|team| me.teams.contains(&team.id)));
        }
        teams
    };
    let team_options = move || {
        readable()
            .into_iter()
            .map(|team| view! { <option value=team.id.0.to_string()>{team.name.clone()}</option> })
            .collect_view()
    };
    let agent_options = move || {
        let mut members = ctx.team.get();
        if lead {
            let teams = readable();
            members.retain(|member| {
                teams.iter().any(|team| team.members.iter().any(|membership| membership.user == member.id))
            });
        }
        members.sort_by_key(|member| member.name.to_lowercase());
        members
            .into_iter()
            .map(|member| view! { <option value=member.id.0.to_string()>{member.name.clone()}</option> })
            .collect_view()
    };
    view! {
        <section class="page reports-page" id="reports-page">
            <header class="page-head">
                <h2>{t!("reports.title").to_string()}</h2>
                <p class="hint" id="reports-zone">{browser_zone().unwrap_or_else(|| "UTC".to_owned())}</p>
            </header>
            <div class="filters" role="group" aria-label=t!("reports.filters").to_string()>
                <select id="reports-range" aria-label=t!("reports.period").to_string() on:change=choose_range>
                    <option value="today">{t!("reports.today").to_string()}</option>
                    <option value="7" selected>{t!("reports.days7").to_string()}</option>
                    <option value="30">{t!("reports.days30").to_string()}</option>
                    <option value="custom">{t!("reports.custom").to_string()}</option>
                </select>
                <Show when=move || range.get() == Range::Custom>
                    <label class="inline">{t!("reports.from").to_string()}
                        <input id="reports-from" type="date" prop:value=move || custom_from.get()
                            on:change=move |event| custom_from.set(event_target_value(&event)) />
                    </label>
                    <label class="inline">{t!("reports.to").to_string()}
                        <input id="reports-to" type="date" prop:value=move || custom_to.get()
                            on:change=move |event| custom_to.set(event_target_value(&event)) />
                    </label>
                </Show>
                <select id="reports-team" aria-label=t!("reports.team").to_string()
                    on:change=move |event| team.set(event_target_value(&event).parse().ok().map(TeamId))>
                    <option value="">{t!("reports.any_team").to_string()}</option>
                    {team_options}
                </select>
                <select id="reports-agent" aria-label=t!("reports.agent").to_string()
                    on:change=move |event| agent.set(event_target_value(&event).parse().ok().map(UserId))>
                    <option value="">{t!("reports.any_agent").to_string()}</option>
                    {agent_options}
                </select>
                <input id="reports-label" type="text" placeholder=t!("reports.label").to_string() aria-label=t!("reports.label").to_string()
                    on:change=move |event| label.set(event_target_value(&event)) />
            </div>
            {move || error.get().map(|message| view! { <p class="alert" role="alert">{message}</p> })}
            {move || overview.get().map(|found| view! {
                <Tiles current=found.current.clone() previous=found.previous.clone() />
                <div class="charts">
                    <VolumeChart days=found.days.clone() />
                    <ResponseChart bins=found.first_response_bins.clone() />
                    <HeatmapChart heatmap=found.heatmap.clone() />
                    <LoadChart load=found.load.clone() />
                </div>
            })}
            <ReportTables request=request />
        </section>
    }
}

/// The overview tiles: each figure of the period beside the previous period's.
#[component]
fn Tiles(current: Figures, previous: Figures) -> impl IntoView {
    let time = |ms: Option<i64>| ms.map_or_else(|| "—".to_owned(), duration);
    let business = |ms: Option<i64>| ms.map(|ms| t!("reports.business", value = duration(ms)).to_string());
    let tiles = [
        (
            "tile-conversations",
            t!("reports.tile_conversations").to_string(),
            current.volumes.created.to_string(),
            previous.volumes.created.to_string(),
            None,
        ),
        (
            "tile-frt-median",
            t!("reports.tile_frt_median").to_string(),
            time(current.first_response.median_ms),
            time(previous.first_response.median_ms),
            business(current.first_response.business_median_ms),
        ),
        (
            "tile-frt-p90",
            t!("reports.tile_frt_p90").to_string(),
            time(current.first_response.p90_ms),
            time(previous.first_response.p90_ms),
            business(current.first_response.business_p90_ms),
        ),
        (
            "tile-resolution",
            t!("reports.tile_resolution").to_string(),
            time(current.resolution.median_ms),
            time(previous.resolution.median_ms),
            business(current.resolution.business_median_ms),
        ),
        (
            "tile-csat",
            t!("reports.tile_csat").to_string(),
            percent(current.csat.positive_share()),
            percent(previous.csat.positive_share()),
            Some(t!("reports.answers", count = current.csat.answers).to_string()),
        ),
        (
            "tile-sla",
            t!("reports.tile_sla").to_string(),
            percent(sla_share(&current)),
            percent(sla_share(&previous)),
            Some(t!("reports.sla_counts", met = current.sla.met, breached = current.sla.breached).to_string()),
        ),
    ];
    let tiles = tiles
        .into_iter()
        .map(|(id, name, value, before, note)| {
            view! {
                <div class="tile" id=id>
                    <span class="tile-name">{name}</span>
                    <strong class="tile-value">{value}</strong>
                    {note.map(|note| view! { <span class="tile-note">{note}</span> })}
                    <span class="tile-before">{t!("reports.previous", value = before).to_string()}</span>
                </div>
            }
        })
        .collect_view();
    view! { <div class="tiles" id="report-tiles">{tiles}</div> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_their_largest_units() {
        assert_eq!(duration(45_000), "45 s");
        assert_eq!(duration(252_000), "4 min 12 s");
        assert_eq!(duration(7_500_000), "2 h 5 min");
        assert_eq!(duration(3 * 86_400_000 + 4 * 3_600_000), "3 d 4 h");
        assert_eq!(hours(3 * 86_400_000 + 4 * 3_600_000 + 90_000), "76 h 1 min");
    }
}
