//! Business hours as the domain uses them: a [`Schedule`] parsed from the wire's
//! [`BusinessHours`] answers "open now?" and "when does it next open?" for any instant, with the
//! time zone's daylight-saving rules from jiff's compiled-in copy of the IANA database — never by
//! hand. Weekly intervals are wall-clock times in the schedule's zone, so "09:00" is 09:00 there in
//! summer and in winter; on the night the clocks jump forward an interval's start that does not
//! exist opens at the first instant after the jump, and on the night they fall back a wall time
//! that happens twice is open both times.

use std::collections::BTreeSet;

use baton_shared::automation::{BusinessHours, Weekday};
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ZonedDateTime};

/// Minutes in a day: an interval may end at `24:00`.
const DAY_MINUTES: u16 = 24 * 60;
/// How far ahead the next opening is looked for (a year, and a week for the weekly cycle).
const LOOKAHEAD_DAYS: usize = 366 + 7;

/// A schedule, checked and ready to answer.
#[derive(Clone, Debug)]
pub struct Schedule {
    zone: TimeZone,
    zone_name: String,
    /// Per weekday (Monday first): open `[from, to)` in minutes after local midnight, sorted.
    days: [Vec<(u16, u16)>; 7],
    holidays: BTreeSet<Date>,
}

impl Schedule {
    /// Checks `hours`: a known time zone, `HH:MM` times with `from` before `to`, intervals of one
    /// day not overlapping, holidays as `YYYY-MM-DD`. The error is a sentence for the admin.
    pub fn parse(hours: &BusinessHours) -> Result<Schedule, String> {
        let zone = TimeZone::get(hours.time_zone.trim()).map_err(|_| {
            format!("\"{}\" is not a time zone (use an IANA name such as Europe/Berlin).", hours.time_zone)
        })?;
        let mut days: [Vec<(u16, u16)>; 7] = Default::default();
        for interval in &hours.weekly {
            let from = minutes(&interval.from)?;
            let to = minutes(&interval.to)?;
            if from >= to {
                return Err(format!(
                    "On {}, {}–{} ends before it starts (an interval past midnight is two: one to 24:00, one from 00:00).",
                    interval.day.as_str(),
                    interval.from,
                    interval.to
                ));
            }
            days[day_index(interval.day)].push((from, to));
        }
        for (index, intervals) in days.iter_mut().enumerate() {
            intervals.sort_unstable();
            if intervals.windows(2).any(|pair| pair[1].0 < pair[0].1) {
                return Err(format!("The intervals of {} overlap.", Weekday::ALL[index].as_str()));
            }
        }
        let mut holidays = BTreeSet::new();
        for holiday in &hours.holidays {
            let date: Date =
                holiday.trim().parse().map_err(|_| format!("\"{holiday}\" is not a date (use YYYY-MM-DD)."))?;
            holidays.insert(date);
        }
        Ok(Schedule { zone, zone_name: hours.time_zone.trim().to_owned(), days, holidays })
    }

    /// Whether it is open at `at` (Unix ms).
    pub fn is_open(&self, at: i64) -> bool {
        let Some(local) = self.local(at) else { return false };
        if self.holidays.contains(&local.date()) {
            return false;
        }
        let minute = u16::try_from(local.hour()).unwrap_or(0) * 60 + u16::try_from(local.minute()).unwrap_or(0);
        self.days[weekday_index(&local)].iter().any(|(from, to)| *from <= minute && minute < *to)
    }

    /// When it next opens at or after `at` (Unix ms): `at` itself if open then; `None` if it never
    /// opens (no intervals, or only holidays for a year).
    pub fn next_opening(&self, at: i64) -> Option<i64> {
        if self.is_open(at) {
            return Some(at);
        }
        let by_start = self.next_interval_start(at);
        // The clocks falling back can land inside an interval without any interval starting
        // (02:30 CEST → 02:00 CET in 01:00–02:30): that jump is an opening too.
        let from = Timestamp::from_millisecond(at).ok()?;
        let by_jump = self
            .zone
            .following(from)
            .map(|jump| jump.timestamp().as_millisecond())
            .take_while(|jump| by_start.is_none_or(|start| *jump < start))
            .take(4)
            .find(|jump| *jump > at && self.is_open(*jump));
        by_jump.or(by_start)
    }

    /// When the next interval starts after `at` (and is open then).
    fn next_interval_start(&self, at: i64) -> Option<i64> {
        let mut date = self.local(at)?.date();
        for _ in 0..LOOKAHEAD_DAYS {
            if !self.holidays.contains(&date) {
                for (from, _) in &self.days[day_index(weekday_of(date))] {
                    let start = date.to_datetime(time_of(*from)?);
                    // A start inside a gap opens at the jump; inside a fold, at either pass.
                    for opening in self.instants_of(start) {
                        // An interval swallowed by the gap (02:00–03:00 that night) never opens.
                        if opening > at && self.is_open(opening) {
                            return Some(opening);
                        }
                    }
                }
            }
            date = date.tomorrow().ok()?;
        }
        None
    }

    /// How long it is open between `from` and `to` (Unix ms): the business time that passes.
    pub fn open_between(&self, from: i64, to: i64) -> i64 {
        let mut open = 0;
        let mut at = from;
        while at < to {
            if self.is_open(at) {
                let closes = self.next_closing(at).unwrap_or(to).min(to);
                open += closes - at;
                at = closes;
            } else {
                match self.next_opening(at) {
                    Some(opening) if opening < to => at = opening,
                    _ => break,
                }
            }
        }
        open
    }

    /// The instant business time `open` has passed after `from`: a deadline counted in business
    /// hours only (`None` if it never opens long enough).
    pub fn after_open(&self, from: i64, mut open: i64) -> Option<i64> {
        let mut at = from;
        loop {
            if !self.is_open(at) {
                at = self.next_opening(at)?;
            }
            // Open all the time ahead (no closing within the look-ahead): the span ends in it.
            let Some(closes) = self.next_closing(at) else { return Some(at.saturating_add(open)) };
            if closes - at >= open {
                return Some(at + open);
            }
            open -= closes - at;
            at = closes;
        }
    }

    /// When it closes next, when open at `at`: the end of the interval `at` is in, carried over
    /// midnight when the next day opens at 00:00.
    fn next_closing(&self, at: i64) -> Option<i64> {
        let mut at = at;
        for _ in 0..LOOKAHEAD_DAYS {
            let local = self.local(at)?;
            let minute = u16::try_from(local.hour()).ok()? * 60 + u16::try_from(local.minute()).ok()?;
            let (_, to) = self.days[weekday_index(&local)].iter().find(|(from, to)| *from <= minute && minute < *to)?;
            let end = if *to == DAY_MINUTES {
                local.date().tomorrow().ok()?.to_datetime(Time::midnight())
            } else {
                local.date().to_datetime(time_of(*to)?)
            };
            // The first instant of that wall time after `at` (the second pass, inside a fold).
            let end = self.instants_of(end).into_iter().find(|end| *end > at)?;
            if !self.is_open(end) {
                return Some(end);
            }
            at = end;
        }
        None
    }

    /// `at` (an opening) as a customer reads it: "today at 09:00", "tomorrow at 09:00" or
    /// "Monday at 09:00", relative to `now`, with the zone's city ("(Berlin time)").
    pub fn describe(&self, at: i64, now: i64) -> String {
        let (Some(when), Some(today)) = (self.local(at), self.local(now)) else { return String::new() };
        let day = if when.date() == today.date() {
            "today".to_owned()
        } else if today.date().tomorrow().ok() == Some(when.date()) {
            "tomorrow".to_owned()
        } else {
            when.strftime("%A").to_string()
        };
        let city = self.zone_name.rsplit('/').next().unwrap_or(&self.zone_name).replace('_', " ");
        format!("{day} at {} ({city} time)", when.strftime("%H:%M"))
    }

    /// The instant a wall-clock time happens. Inside a fall-back fold, the first of the two; inside
    /// a spring-forward gap (a time that never happens), the jump itself: the first instant whose
    /// wall time is past it.
    fn instant_of(&self, local: DateTime) -> Option<i64> {
        let zoned = local.to_zoned_datetime(self.zone.clone()).ok()?;
        if zoned.datetime() == local {
            return Some(zoned.timestamp().as_millisecond());
        }
        // Shifted forward past the gap: the jump is the last transition at or before the shifted
        // instant (which is the jump itself when the wall time was the gap's start).
        let just_after = zoned.timestamp().checked_add(jiff::SignedDuration::from_millis(1)).ok()?;
        let jump = self.zone.preceding(just_after).next()?;
        Some(jump.timestamp().as_millisecond())
    }

    /// Every instant a wall-clock time happens, in order: two inside a fall-back fold, one
    /// otherwise (the jump itself for a time in a spring-forward gap, as [`Self::instant_of`]).
    fn instants_of(&self, local: DateTime) -> Vec<i64> {
        let ambiguous = self.zone.to_ambiguous_timestamp(local);
        let (Ok(first), Ok(second)) = (ambiguous.earlier(), ambiguous.later()) else {
            return self.instant_of(local).into_iter().collect();
        };
        let happens = |at: Timestamp| at.to_zoned_datetime(self.zone.clone()).datetime() == local;
        if first != second && happens(first) && happens(second) {
            vec![first.as_millisecond(), second.as_millisecond()]
        } else {
            self.instant_of(local).into_iter().collect()
        }
    }

    fn local(&self, at: i64) -> Option<ZonedDateTime> {
        Some(Timestamp::from_millisecond(at).ok()?.to_zoned_datetime(self.zone.clone()))
    }
}

/// `"09:30"` as minutes after midnight; `"24:00"` is the end of the day.
fn minutes(text: &str) -> Result<u16, String> {
    let text = text.trim();
    if text == "24:00" {
        return Ok(DAY_MINUTES);
    }
    let bad = || format!("\"{text}\" is not a time of day (use HH:MM, 00:00 to 24:00).");
    let (hours, minutes) = text.split_once(':').ok_or_else(bad)?;
    let (hours, minutes): (u16, u16) = (hours.parse().map_err(|_| bad())?, minutes.parse().map_err(|_| bad())?);
    if hours > 23 || minutes > 59 || text.len() != 5 {
        return Err(bad());
    }
    Ok(hours * 60 + minutes)
}

fn time_of(minutes: u16) -> Option<Time> {
    let minutes = minutes.min(DAY_MINUTES - 1);
    Time::new(i8::try_from(minutes / 60).ok()?, i8::try_from(minutes % 60).ok()?, 0, 0).ok()
}

fn day_index(day: Weekday) -> usize {
    Weekday::ALL.iter().position(|each| *each == day).unwrap_or(0)
}

fn weekday_of(date: Date) -> Weekday {
    // jiff numbers Monday 1 … Sunday 7.
    let index = usize::try_from(date.weekday().to_monday_one_offset() - 1).unwrap_or(0);
    Weekday::ALL[index.min(6)]
}

fn weekday_index(local: &ZonedDateTime) -> usize {
    day_index(weekday_of(local.date()))
}

#[cfg(test)]
mod tests;
