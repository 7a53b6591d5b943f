//! A conversation's service-level countdown ("First response due in 4 min", red once missed:
//! "overdue by 2 min"), and the snooze picker (for an hour, tomorrow 09:00, next Monday 09:00, or
//! a moment chosen), both in the user's own time zone.

use baton_shared::ConversationId;
use baton_shared::model::ConversationStatus;
use baton_shared::protocol::ClientMsg;
use baton_shared::sla::SlaDue;
use leptos::prelude::*;

use crate::context::Ctx;
use crate::format::span;

/// The countdown of `sla`, moving with the app's clock.
#[component]
pub fn SlaChip(sla: SlaDue) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let target = t!(format!("sla.{}", sla.kind.as_str())).to_string();
    let text = move || {
        let now = ctx.now.get().max(crate::format::now_ms());
        let late = sla.breached || now >= sla.due_at;
        if late && now - sla.due_at < 60_000 {
            t!("sla.overdue_now", target = target.clone()).to_string()
        } else if late {
            t!("sla.overdue", target = target.clone(), late = span(sla.due_at, now)).to_string()
        } else if sla.due_at - now < 60_000 {
            t!("sla.due_soon", target = target.clone()).to_string()
        } else {
            t!("sla.due_in", target = target.clone(), left = span(sla.due_at, now)).to_string()
        }
    };
    let late = move || sla.breached || ctx.now.get().max(crate::format::now_ms()) >= sla.due_at;
    view! {
        <span class="sla-chip" class:breached=late data-breached=move || late().to_string() data-kind=sla.kind.as_str()>
            {text}
        </span>
    }
}

/// Unix ms of the next `hour`:00 local time `days` days from today.
fn local_at(days: u32, hour: f64) -> i64 {
    let date = js_sys::Date::new_0();
    date.set_date(date.get_date() + days);
    date.set_hours(hour as u32);
    date.set_minutes(0);
    date.set_seconds(0);
    date.set_milliseconds(0);
    date.get_time() as i64
}

/// The snooze picker of conversation `id`.
#[component]
pub fn SnoozePicker(id: ConversationId, #[prop(into)] on_answer: Callback<crate::ws::Answer>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let custom = RwSignal::new(false);
    let snooze = move |until: i64| {
        ctx.link.request(
            move |req_id| ClientMsg::SetStatus {
                req_id,
                conversation_id: id,
                status: ConversationStatus::Pending,
                until: Some(until),
            },
            move |answer| on_answer.run(answer),
        );
    };
    let choose = move |event: leptos::ev::Event| {
        let now = crate::format::now_ms();
        let until = match event_target_value(&event).as_str() {
            "hour" => Some(now + 3_600_000),
            "tomorrow" => Some(local_at(1, 9.0)),
            "monday" => {
                // Days from today to next Monday (a week on a Monday).
                let weekday = js_sys::Date::new_0().get_day(); // 0 = Sunday
                let days = (8 - weekday) % 7;
                Some(local_at(if days == 0 { 7 } else { days }, 9.0))
            }
            "custom" => {
                custom.set(true);
                None
            }
            _ => None,
        };
        if let Some(until) = until {
            snooze(until);
        }
    };
    let pick = move |event: leptos::ev::Event| {
        // `datetime-local` gives local wall time ("2026-12-11T10:00"): the browser's Date reads it
        // in the user's time zone.
        let at = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(&event_target_value(&event))).get_time();
        if at.is_finite() {
            custom.set(false);
            snooze(at as i64);
        }
    };
    view! {
        <select id="snooze" class="secondary snooze" aria-label=t!("conversation.snooze").to_string() on:change=choose prop:value="">
            <option value="" selected=true>{t!("conversation.snooze").to_string()}</option>
            <option value="hour">{t!("conversation.snooze_hour").to_string()}</option>
            <option value="tomorrow">{t!("conversation.snooze_tomorrow").to_string()}</option>
            <option value="monday">{t!("conversation.snooze_monday").to_string()}</option>
            <option value="custom">{t!("conversation.snooze_custom").to_string()}</option>
        </select>
        <Show when=move || custom.get()>
            <input id="snooze-until" type="datetime-local" aria-label=t!("conversation.snooze_custom").to_string() on:change=pick />
        </Show>
    }
}
