//! How things read on screen: times in the viewer's time zone, waiting times, delivery ticks,
//! and message text split into plain text and safe links. The pure parts are tested natively.

use baton_shared::model::DeliveryStatus;
use baton_shared::protocol::{Presence, PresenceStatus};

/// Every way presence is shown, in the order the wall counts them.
pub const PRESENCE_LABELS: [&str; 4] = ["available", "busy", "away", "offline"];

/// How someone's presence is shown (its CSS class, and the key of its `presence.*` text): the
/// status they chose while a socket is open, else offline.
pub fn presence_label(presence: Option<&Presence>) -> &'static str {
    match presence.filter(|presence| presence.online).map(|presence| presence.status) {
        None => "offline",
        Some(PresenceStatus::Available) => "available",
        Some(PresenceStatus::Busy) => "busy",
        Some(PresenceStatus::Away) => "away",
    }
}

/// A piece of message text: shown as text, or as a link when it is an `http(s)` URL. Anything
/// else that looks like a link (`javascript:`, `data:`…) stays text, so it can never run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    Text(String),
    Link(String),
}

/// Splits `text` into text and `http(s)://` links (trailing punctuation stays outside the link).
pub fn segments(text: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut plain = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        let next = ["https://", "http://"].iter().filter_map(|scheme| rest.find(scheme)).min();
        let Some(start) = next else {
            plain.push_str(rest);
            break;
        };
        let before_is_boundary =
            rest[..start].chars().next_back().is_none_or(|c| c.is_whitespace() || "([<>\"'".contains(c));
        let tail = &rest[start..];
        let mut end = tail.find(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"').unwrap_or(tail.len());
        while end > 0 && tail[..end].ends_with(['.', ',', ';', ':', '!', '?', ')', '\'']) {
            end -= 1;
        }
        let url = &tail[..end];
        let scheme_only = url == "https://" || url == "http://";
        if !before_is_boundary || scheme_only {
            let step = start + tail.find("//").map_or(1, |i| i + 2);
            plain.push_str(&rest[..step]);
            rest = &rest[step..];
            continue;
        }
        plain.push_str(&rest[..start]);
        if !plain.is_empty() {
            out.push(Segment::Text(std::mem::take(&mut plain)));
        }
        out.push(Segment::Link(url.to_owned()));
        rest = &tail[end..];
    }
    if !plain.is_empty() {
        out.push(Segment::Text(plain));
    }
    out
}

/// "just now", "4 min", "2 h 5 min", "3 d": how long since `since` (Unix ms).
pub fn waited(since: i64, now: i64) -> String {
    let minutes = (now - since).max(0) / 60_000;
    match minutes {
        0 => t!("time.just_now").to_string(),
        1..=59 => t!("time.minutes", n = minutes).to_string(),
        60..=1439 if minutes % 60 == 0 => t!("time.hours", h = minutes / 60).to_string(),
        60..=1439 => t!("time.hours_minutes", h = minutes / 60, m = minutes % 60).to_string(),
        _ => t!("time.days", n = minutes / 1440).to_string(),
    }
}

/// "12 s", "4 min", "2 h 5 min": how long a claim has gone unused (seconds matter: an unused
/// claim lapses after a minute).
pub fn idle_for(since: i64, now: i64) -> String {
    let seconds = (now - since).max(0) / 1000;
    if seconds < 60 { t!("time.seconds", n = seconds).to_string() } else { waited(since, now) }
}

/// The tick marks of an outbound message and what they mean.
pub fn ticks(status: DeliveryStatus) -> (&'static str, String) {
    match status {
        DeliveryStatus::Received => ("", String::new()),
        DeliveryStatus::Pending => ("…", t!("ticks.pending").to_string()),
        DeliveryStatus::Sent => ("✓", t!("ticks.sent").to_string()),
        DeliveryStatus::Delivered => ("✓✓", t!("ticks.delivered").to_string()),
        DeliveryStatus::Read => ("✓✓", t!("ticks.read").to_string()),
        DeliveryStatus::Played => ("✓✓", t!("ticks.played").to_string()),
        DeliveryStatus::Failed => ("!", t!("ticks.failed").to_string()),
    }
}

/// Up to two initials for an avatar.
pub fn initials(name: &str) -> String {
    name.split_whitespace().filter_map(|word| word.chars().next()).take(2).flat_map(char::to_uppercase).collect()
}

/// The time today (`14:05`, or `2:05 PM` where the locale says so), weekday and time this week,
/// day, month and time before — written by the browser's `Intl` in the user's locale
/// ([`crate::i18n::date_locale`]) and time zone.
pub fn clock_time(at: i64, now: i64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at as f64));
    let today = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(now as f64));
    let same_day = date.get_full_year() == today.get_full_year()
        && date.get_month() == today.get_month()
        && date.get_date() == today.get_date();
    let parts: &[(&str, &str)] = if same_day {
        &[("hour", "2-digit"), ("minute", "2-digit")]
    } else if now - at < 6 * 86_400_000 {
        WEEKDAY_AND_TIME
    } else {
        DAY_MONTH_AND_TIME
    };
    locale_string(&date, parts)
}

const WEEKDAY_AND_TIME: &[(&str, &str)] = &[("weekday", "short"), ("hour", "2-digit"), ("minute", "2-digit")];
const DAY_MONTH_AND_TIME: &[(&str, &str)] =
    &[("day", "numeric"), ("month", "short"), ("hour", "2-digit"), ("minute", "2-digit")];

/// `date` written by the browser's `Intl` with these options, in the user's locale and time zone.
fn locale_string(date: &js_sys::Date, parts: &[(&str, &str)]) -> String {
    let options = js_sys::Object::new();
    for (key, value) in parts {
        let _ = js_sys::Reflect::set(&options, &(*key).into(), &(*value).into());
    }
    date.to_locale_string(&crate::i18n::date_locale(), &options).into()
}

/// A moment ahead or behind as "Fri 10:00" (within a week) or "12 Dec 10:00", in the user's locale
/// and time zone: a snooze's end, a deadline.
pub fn date_time(at: i64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at as f64));
    let close = (at - now_ms()).abs() < 6 * 86_400_000;
    locale_string(&date, if close { WEEKDAY_AND_TIME } else { DAY_MONTH_AND_TIME })
}

/// "4 min", "2 h 5 min": how long until `until`, or since it if it passed.
pub fn span(until: i64, now: i64) -> String {
    waited(now.min(until), now.max(until))
}

/// Now, in Unix ms.
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_links_become_links() {
        assert_eq!(
            segments("see https://example.com/a?b=1. or http://x.io"),
            vec![
                Segment::Text("see ".into()),
                Segment::Link("https://example.com/a?b=1".into()),
                Segment::Text(". or ".into()),
                Segment::Link("http://x.io".into()),
            ]
        );
        assert_eq!(segments("javascript:alert(1)"), vec![Segment::Text("javascript:alert(1)".into())]);
        assert_eq!(
            segments("<a href=\"javascript:x\">https://ok.example</a>"),
            vec![
                Segment::Text("<a href=\"javascript:x\">".into()),
                Segment::Link("https://ok.example".into()),
                Segment::Text("</a>".into()),
            ]
        );
        assert_eq!(segments("xhttps://a.b"), vec![Segment::Text("xhttps://a.b".into())]);
        assert_eq!(segments("https:// nothing"), vec![Segment::Text("https:// nothing".into())]);
        assert_eq!(segments(""), vec![]);
    }

    #[test]
    fn idle_times_count_seconds_for_the_first_minute() {
        assert_eq!(idle_for(1_000, 1_500), "0 s");
        assert_eq!(idle_for(0, 59_999), "59 s");
        assert_eq!(idle_for(0, 60_000), "1 min");
        assert_eq!(idle_for(5_000, 0), "0 s", "a clock behind the server's reads as now");
    }

    #[test]
    fn waiting_times_read_naturally() {
        assert_eq!(waited(0, 30_000), "just now");
        assert_eq!(waited(0, 4 * 60_000), "4 min");
        assert_eq!(waited(0, 125 * 60_000), "2 h 5 min");
        assert_eq!(waited(0, 120 * 60_000), "2 h");
        assert_eq!(waited(0, 3 * 1440 * 60_000), "3 d");
        assert_eq!(waited(10, 0), "just now");
    }

    #[test]
    fn initials_take_two_words() {
        assert_eq!(initials("ada lovelace byron"), "AL");
        assert_eq!(initials(""), "");
    }
}
