//! Every report figure, computed once (`docs/reports.md` defines them) from the facts of a
//! period: the overview (its figures beside the previous period's, days, heatmap, distribution)
//! and the tables per agent, team and label — the same numbers for JSON, CSV and the page. Who may
//! read reports is decided here too ([`readable_teams`]).

use std::collections::BTreeMap;

use baton_shared::api::Role;
use baton_shared::model::normalize_label;
use baton_shared::reports::{
    CsatFigures, DayVolumes, Durations, Figures, LoadHour, MAX_PERIOD_MS, NOW_WINDOW_MS, Overview, RESPONSE_BINS_MS,
    RecentResponses, RecentSpan, ReportRequest, ReportRow, SlaFigures, TABLE_CSV_COLUMNS, TimeOnline, Volumes,
};
use baton_shared::{TeamId, UserId};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ZonedDateTime};

use super::track::{Metric, SpanKind};
use crate::conversations::{Actor, Refusal};
use crate::store::Store;
use crate::store::reports::{BUCKET_MS, CountRow, FactFilter, FactsBy, SpanLengths};

/// A table's rows: one per agent, team or label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableBy {
    Agent,
    Team,
    Label,
}

/// Whose facts `actor` may read: every team's (`None`) for supervisors and admins, their own
/// teams' for leads; agents read no reports.
pub fn readable_teams(actor: &Actor) -> Result<Option<Vec<TeamId>>, Refusal> {
    if actor.is_supervisor() {
        Ok(None)
    } else if actor.role() == Role::Lead {
        Ok(Some(actor.teams().to_vec()))
    } else {
        Err(Refusal::forbidden("read reports"))
    }
}

/// The request checked for `actor`: its period, time zone and filters as the store reads them.
fn checked(actor: &Actor, request: &ReportRequest) -> Result<(FactFilter, TimeZone), Refusal> {
    if request.from >= request.to {
        return Err(Refusal::invalid("The period ends before it starts."));
    }
    if request.to - request.from > MAX_PERIOD_MS {
        return Err(Refusal::invalid("A report covers at most a year."));
    }
    let name = request.tz.as_deref().map(str::trim).filter(|name| !name.is_empty()).unwrap_or("UTC");
    let zone = TimeZone::get(name).map_err(|_| {
        Refusal::invalid(format!("\"{name}\" is not a time zone (use an IANA name such as Europe/Berlin)."))
    })?;
    let teams = readable_teams(actor)?;
    if let (Some(team), Some(teams)) = (request.team, &teams)
        && !teams.contains(&team)
    {
        return Err(Refusal::forbidden("read the reports of a team you do not lead"));
    }
    // Counts are kept per quarter hour: a period is whole quarter hours, for spans alike.
    let quarter = |at: i64| at - at.rem_euclid(BUCKET_MS);
    let (from, to) = (quarter(request.from), quarter(request.to));
    if from >= to {
        return Err(Refusal::invalid("A report covers at least a quarter of an hour."));
    }
    // Labels are kept normalized (lowercase): so is the one asked for, or it is refused.
    let label = match request.label.as_deref().map(str::trim).filter(|label| !label.is_empty()) {
        Some(label) => Some(normalize_label(label).map_err(Refusal::invalid)?),
        None => None,
    };
    // Offsets for the previous period too (an overview's comparison).
    let offsets = offsets(&zone, from - (to - from), to);
    let filter = FactFilter { from, to, team: request.team, agent: request.agent, label, teams, offsets };
    Ok((filter, zone))
}

/// `GET /api/reports/overview`.
pub async fn overview(store: &dyn Store, actor: &Actor, request: &ReportRequest) -> Result<Overview, Refusal> {
    let (filter, zone) = checked(actor, request)?;
    let length = filter.to - filter.from;
    let before = FactFilter { from: filter.from - length, to: filter.from, ..filter.clone() };
    // The period per local hour (its days and hours), the previous one summed (its figures
    // only): read at once, on connections of their own.
    let (spans, counts, spans_before, counts_before, load) = tokio::try_join!(
        store.report_span_lengths(&filter, FactsBy::All),
        store.report_counts(&filter, FactsBy::Hour),
        store.report_span_lengths(&before, FactsBy::All),
        store.report_counts(&before, FactsBy::All),
        store.report_load(&filter),
    )?;
    let previous = figures(&spans_before, &counts_before, before.from, before.to);

    let mut days: BTreeMap<String, Tally> = BTreeMap::new();
    for day in local_days(&zone, filter.from, filter.to) {
        days.insert(day, Tally::default());
    }
    let mut heatmap = vec![[0_u64; 24]; 7];
    for row in &counts {
        // Summed per local hour, its start in local milliseconds.
        let Some(local) = local(&TimeZone::UTC, row.bucket) else { continue };
        if let Some(tally) = days.get_mut(&local.date().to_string()) {
            tally.add(row.metric, row.count);
        }
        if row.metric == Metric::MessagesIn {
            let weekday = usize::try_from(local.weekday().to_monday_zero_offset()).unwrap_or(0);
            let hour = usize::try_from(local.hour()).unwrap_or(0);
            heatmap[weekday.min(6)][hour.min(23)] += row.count;
        }
    }
    let mut first_response_bins = vec![0_u32; RESPONSE_BINS_MS.len() + 1];
    for wall in spans.iter().filter(|group| group.kind == Some(SpanKind::FirstResponse)).flat_map(|group| &group.wall) {
        let bin = RESPONSE_BINS_MS.iter().position(|bound| wall < bound).unwrap_or(RESPONSE_BINS_MS.len());
        first_response_bins[bin] += 1;
    }
    Ok(Overview {
        current: figures(&spans, &counts, filter.from, filter.to),
        previous,
        days: days.into_iter().map(|(day, tally)| DayVolumes { day, volumes: tally.volumes }).collect(),
        heatmap,
        first_response_bins,
        load: load_over_the_day(&filter, &load),
    })
}

/// `GET /api/reports/now`: the first responses of the last hour, of the teams `actor` may read.
pub async fn recent_responses(store: &dyn Store, actor: &Actor, now: i64) -> Result<RecentResponses, Refusal> {
    let teams = readable_teams(actor)?;
    let spans = store.report_recent_spans(SpanKind::FirstResponse, now - NOW_WINDOW_MS, teams.as_deref()).await?;
    Ok(RecentResponses {
        as_of: now,
        first_responses: spans.into_iter().map(|(ended_at, wall_ms)| RecentSpan { ended_at, wall_ms }).collect(),
    })
}

/// `GET /api/reports/{agents,teams,labels}`: a row per agent, team or label with facts in the
/// period, sorted by name.
pub async fn table(
    store: &dyn Store,
    actor: &Actor,
    request: &ReportRequest,
    by: TableBy,
) -> Result<Vec<ReportRow>, Refusal> {
    let (filter, _) = checked(actor, request)?;
    let facts_by = match by {
        TableBy::Agent => FactsBy::Agent,
        TableBy::Team => FactsBy::Team,
        TableBy::Label => FactsBy::Label,
    };
    // A row's key: the person's or team's id, or the label; facts of nobody and no team have
    // no row.
    let key = |team: Option<TeamId>, agent: Option<UserId>, label: &str| match by {
        TableBy::Agent => agent.map(|agent| agent.0.to_string()),
        TableBy::Team => team.map(|team| team.0.to_string()),
        TableBy::Label => Some(label.to_owned()).filter(|label| !label.is_empty()),
    };
    // Read at once, on connections of their own (as an overview's are).
    let names = async {
        let names: BTreeMap<String, String> = match by {
            TableBy::Agent => store.users().await?.into_iter().map(|user| (user.id.0.to_string(), user.name)).collect(),
            TableBy::Team => store.teams().await?.into_iter().map(|team| (team.id.0.to_string(), team.name)).collect(),
            TableBy::Label => BTreeMap::new(),
        };
        Ok::<_, Refusal>(names)
    };
    let time_online = async {
        match by {
            TableBy::Agent => time_online(store, &filter).await,
            TableBy::Team | TableBy::Label => Ok(BTreeMap::new()),
        }
    };
    let (spans, counts, names, time_online) = tokio::try_join!(
        async { Ok::<_, Refusal>(store.report_span_lengths(&filter, facts_by).await?) },
        async { Ok::<_, Refusal>(store.report_counts(&filter, facts_by).await?) },
        names,
        time_online,
    )?;
    let mut rows: BTreeMap<String, (Vec<&SpanLengths>, Tally)> = BTreeMap::new();
    for row in counts {
        if let Some(key) = key(row.team, row.agent, &row.label) {
            rows.entry(key).or_default().1.add(row.metric, row.count);
        }
    }
    for group in &spans {
        if let Some(key) = key(group.team, group.agent, &group.label) {
            rows.entry(key).or_default().0.push(group);
        }
    }
    // Time online is a person's, whatever labels their conversations had: it joins the rows of a
    // label's people, and without a label it gives a row to people who were online with no facts.
    if filter.label.is_none() {
        for key in time_online.keys() {
            rows.entry(key.clone()).or_default();
        }
    }
    let mut table: Vec<ReportRow> = rows
        .into_iter()
        .map(|(key, (spans, tally))| {
            let name = names.get(&key).cloned().unwrap_or_else(|| key.clone());
            let of = |kind| durations(spans.iter().copied(), kind);
            ReportRow {
                first_response: of(SpanKind::FirstResponse),
                next_response: of(SpanKind::NextResponse),
                resolution: of(SpanKind::Resolution),
                time_online: match by {
                    TableBy::Agent => Some(time_online.get(&key).copied().unwrap_or_default()),
                    TableBy::Team | TableBy::Label => None,
                },
                key,
                name,
                volumes: tally.volumes,
                sla: tally.sla,
                csat: tally.csat,
            }
        })
        .collect();
    table.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then(a.key.cmp(&b.key)));
    Ok(table)
}

/// Each person's time online and available in the filter's period, by the person's row key.
async fn time_online(store: &dyn Store, filter: &FactFilter) -> Result<BTreeMap<String, TimeOnline>, Refusal> {
    Ok(store
        .report_presence(filter)
        .await?
        .into_iter()
        .map(|(person, online_ms, available_ms)| (person.0.to_string(), TimeOnline { online_ms, available_ms }))
        .collect())
}

/// A table as CSV: the header [`TABLE_CSV_COLUMNS`], then a line per row, in the JSON's numbers.
pub fn table_csv(rows: &[ReportRow]) -> Result<String, Refusal> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let failed = |_| Refusal::invalid("The table could not be written as CSV.");
    writer.write_record(TABLE_CSV_COLUMNS).map_err(failed)?;
    for row in rows {
        writer.write_record(row.csv_cells()).map_err(failed)?;
    }
    let bytes = writer.into_inner().map_err(|_| Refusal::invalid("The table could not be written as CSV."))?;
    String::from_utf8(bytes).map_err(|_| Refusal::invalid("The table could not be written as CSV."))
}

/// The figures of the period `[from, to)` from its facts.
fn figures(spans: &[SpanLengths], counts: &[CountRow], from: i64, to: i64) -> Figures {
    let mut tally = Tally::default();
    for row in counts {
        tally.add(row.metric, row.count);
    }
    let of = |kind| durations(spans.iter(), kind);
    Figures {
        from,
        to,
        volumes: tally.volumes,
        sla: tally.sla,
        csat: tally.csat,
        first_response: of(SpanKind::FirstResponse),
        next_response: of(SpanKind::NextResponse),
        resolution: of(SpanKind::Resolution),
    }
}

/// The figures of the `kind` spans among `groups`.
fn durations<'a>(groups: impl Iterator<Item = &'a SpanLengths>, kind: SpanKind) -> Durations {
    let (mut wall, mut business) = (Vec::new(), Vec::new());
    for group in groups.filter(|group| group.kind == Some(kind)) {
        wall.extend_from_slice(&group.wall);
        business.extend_from_slice(&group.business);
    }
    Durations::of(wall, business)
}

/// What a period's (or a row's) counts add up to.
#[derive(Default)]
struct Tally {
    volumes: Volumes,
    sla: SlaFigures,
    csat: CsatFigures,
}

impl Tally {
    fn add(&mut self, metric: Metric, count: u64) {
        let volumes = &mut self.volumes;
        let slot = match metric {
            Metric::Created => &mut volumes.created,
            Metric::Reopened => &mut volumes.reopened,
            Metric::Resolved => &mut volumes.resolved,
            Metric::MessagesIn => &mut volumes.messages_in,
            Metric::MessagesOut => &mut volumes.messages_out,
            Metric::SlaMet => &mut self.sla.met,
            Metric::SlaBreached => &mut self.sla.breached,
            Metric::Csat { five, score } => {
                let csat = &mut self.csat;
                csat.answers += count;
                // Positive: the top of the scale — Good of three, 4 or 5 of five.
                if (five && score >= 4) || (!five && score >= 3) {
                    csat.positive += count;
                }
                let scores: &mut [u64] = if five { &mut csat.five } else { &mut csat.three };
                let index = usize::from(score.max(1) - 1).min(scores.len() - 1);
                &mut scores[index]
            }
        };
        *slot += count;
    }
}

fn local(zone: &TimeZone, at: i64) -> Option<ZonedDateTime> {
    Some(Timestamp::from_millisecond(at).ok()?.to_zoned_datetime(zone.clone()))
}

/// Agent load per local hour of the day: the samples' sums (`load`: local hour start in local ms,
/// sum) added up per hour of the day, beside how many quarter hours of the period fall in each.
fn load_over_the_day(filter: &FactFilter, load: &[(i64, i64)]) -> Vec<LoadHour> {
    const HOUR: i64 = 3_600_000;
    let mut hours: Vec<LoadHour> = (0..24_u8).map(|hour| LoadHour { hour, samples: 0, conversations: 0 }).collect();
    let hour_of_day = |local: i64| usize::try_from(local.div_euclid(HOUR).rem_euclid(24)).unwrap_or(0);
    let offset_at = |at: i64| filter.offsets.iter().find(|(until, _)| at < *until).map_or(0, |(_, offset)| *offset);
    let mut quarter = filter.from;
    while quarter < filter.to {
        hours[hour_of_day(quarter + offset_at(quarter))].samples += 1;
        quarter += BUCKET_MS;
    }
    for (local, sum) in load {
        hours[hour_of_day(*local)].conversations += u64::try_from(*sum).unwrap_or(0);
    }
    hours
}

/// `zone`'s UTC offsets over `[from, to)` as the store sums local hours by them: (until, offset
/// ms), the last until `i64::MAX`.
fn offsets(zone: &TimeZone, from: i64, to: i64) -> Vec<(i64, i64)> {
    let Ok(start) = Timestamp::from_millisecond(from) else { return Vec::new() };
    let millis = |offset: jiff::tz::Offset| i64::from(offset.seconds()) * 1000;
    let mut offsets = Vec::new();
    let mut current = millis(zone.to_offset(start));
    for transition in zone.following(start) {
        let at = transition.timestamp().as_millisecond();
        if at >= to {
            break;
        }
        offsets.push((at, current));
        current = millis(transition.offset());
    }
    offsets.push((i64::MAX, current));
    offsets
}

/// Every local day (`YYYY-MM-DD`) that `[from, to)` touches, in order.
fn local_days(zone: &TimeZone, from: i64, to: i64) -> Vec<String> {
    let (Some(first), Some(last)) = (local(zone, from), local(zone, to - 1)) else { return Vec::new() };
    let (mut day, last) = (first.date(), last.date());
    let mut days = Vec::new();
    while day <= last {
        days.push(day.to_string());
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    days
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_are_positive_at_the_top_of_their_scale() {
        let mut tally = Tally::default();
        for (five, score) in [(true, 5), (true, 4), (true, 3), (false, 3), (false, 2), (false, 1)] {
            tally.add(Metric::Csat { five, score }, 1);
        }
        assert_eq!((tally.csat.answers, tally.csat.positive), (6, 3));
        assert_eq!((tally.csat.three, tally.csat.five), ([1, 1, 1], [0, 0, 1, 1, 1]));
        assert_eq!(tally.csat.positive_share(), Some(0.5));
    }

    #[test]
    fn a_period_touches_its_local_days_and_a_spring_sunday_is_one() {
        let zone = TimeZone::get("Europe/Berlin").expect("a zone");
        // 2027-03-28 00:00 to 2027-03-29 00:00 Berlin: 23 hours, one day.
        let (from, to) = (1_806_188_400_000, 1_806_188_400_000 + 23 * 3_600_000);
        assert_eq!(local_days(&zone, from, to), vec!["2027-03-28".to_owned()]);
    }

    #[test]
    fn offsets_change_where_the_zone_does() {
        let zone = TimeZone::get("Europe/Berlin").expect("a zone");
        let hour = 3_600_000;
        // Summer time began at 2027-03-28 01:00 UTC, two hours after that day began in Berlin.
        let change = 1_806_188_400_000 + 2 * hour;
        assert_eq!(offsets(&zone, change - 5 * hour, change + 5 * hour), vec![(change, hour), (i64::MAX, 2 * hour)]);
        assert_eq!(offsets(&TimeZone::UTC, 0, 1_000_000), vec![(i64::MAX, 0)]);
    }
}
