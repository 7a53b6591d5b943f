//! The Reports page's charts, drawn by Plotters to SVG in the browser: conversations per day, the
//! weekday × hour heatmap of customer messages, the distribution of first responses and agent load
//! over the day. Each is a
//! `<figure>` with its title, axis labels, the figure of every bar or cell on hover (an SVG
//! `<title>` laid over it, for the mouse) and the same numbers in a table beneath (for the keyboard
//! and assistive technology, which skip the drawing).
//!
//! Why Plotters: it is the charting library of the Rust ecosystem, compiles to WASM, and its SVG
//! backend draws a chart as text — sharp at any size, coloured by the page's theme, no canvas.
//! Plotters draws; the hover titles are added over the bars it drew, at the coordinates its chart
//! reports ([`ChartContext::backend_coord`]).

use baton_shared::reports::{DayVolumes, LoadHour, RESPONSE_BINS_MS};
use leptos::prelude::*;
use plotters::coord::Shift;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

/// Plotters' text colour, replaced by the page's own (`currentColor`) once drawn.
const TEXT: RGBColor = RGBColor(1, 1, 1);
const ACCENT: RGBColor = RGBColor(15, 123, 108);
const SECOND: RGBColor = RGBColor(105, 65, 198);
const GRID: RGBColor = RGBColor(148, 163, 184);

/// A chart's size in SVG units (it scales to its box).
const SIZE: (u32, u32) = (480, 280);

/// A hover target: a rectangle (x, y, width, height) and what it says.
struct Hover {
    area: (i32, i32, i32, i32),
    says: String,
}

/// The SVG Plotters drew, with `hovers` laid over it and its text in the page's colour.
fn finished(mut svg: String, hovers: Vec<Hover>) -> String {
    let overlay: String = hovers
        .into_iter()
        .map(|Hover { area: (x, y, width, height), says }| {
            format!(
                r#"<rect class="hover" x="{x}" y="{y}" width="{}" height="{}"><title>{}</title></rect>"#,
                width.max(1),
                height.max(1),
                escape(&says)
            )
        })
        .collect();
    if let Some(end) = svg.rfind("</svg>") {
        svg.insert_str(end, &overlay);
    }
    svg.replace("#010101", "currentColor")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn font(size: u32) -> TextStyle<'static> {
    ("sans-serif", size).into_font().color(&TEXT)
}

/// The bars of a chart: one per label, `values[i]` high (the y axis reaching `floor` at least,
/// its numbers written by `y_label`); hovers say `says(i)`.
fn bar_chart(
    labels: &[String],
    series: &[(&[u64], RGBColor)],
    axes: (&str, &str),
    (floor, y_label): (u64, &dyn Fn(&u64) -> String),
    says: impl Fn(usize) -> String,
) -> Option<String> {
    let mut svg = String::new();
    let mut hovers = Vec::new();
    {
        let root: DrawingArea<SVGBackend, Shift> = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        let count = labels.len().max(1);
        let top = series.iter().flat_map(|(values, _)| values.iter().copied()).max().unwrap_or(0).max(floor);
        let top = top + top.div_ceil(10);
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(52)
            .build_cartesian_2d((0..count).into_segmented(), 0_u64..top)
            .ok()?;
        // Every label fits up to 12 bars; beyond, about 10 are shown.
        let step = count.div_ceil(12).max(1);
        let label_of = |value: &SegmentValue<usize>| match value {
            SegmentValue::CenterOf(index) | SegmentValue::Exact(index) if index % step == 0 => {
                labels.get(*index).cloned().unwrap_or_default()
            }
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .bold_line_style(GRID.mix(0.35))
            .light_line_style(GRID.mix(0.12))
            .axis_style(GRID)
            .x_labels(count)
            .y_labels(6)
            .x_label_formatter(&label_of)
            .y_label_formatter(y_label)
            .x_desc(axes.0)
            .y_desc(axes.1)
            .label_style(font(13))
            .axis_desc_style(font(14))
            .draw()
            .ok()?;
        // A second series is drawn narrower, inside the first's bars.
        let segment = u32::try_from(chart.plotting_area().dim_in_pixel().0 as usize / count).unwrap_or(8);
        for (position, (values, colour)) in series.iter().enumerate() {
            let margin = if position == 0 { (segment / 10).max(1) } else { segment * 3 / 10 };
            chart
                .draw_series(
                    Histogram::vertical(&chart)
                        .style(colour.filled())
                        .margin(margin)
                        .data(values.iter().enumerate().map(|(index, value)| (index, *value))),
                )
                .ok()?;
        }
        let (bottom, top_pixel) = {
            let range = chart.plotting_area().get_pixel_range();
            (range.1.end, range.1.start)
        };
        for index in 0..labels.len() {
            let (left, _) = chart.backend_coord(&(SegmentValue::Exact(index), 0));
            let (right, _) = chart.backend_coord(&(SegmentValue::Exact(index + 1), 0));
            hovers.push(Hover { area: (left, top_pixel, right - left, bottom - top_pixel), says: says(index) });
        }
        root.present().ok()?;
    }
    Some(finished(svg, hovers))
}

/// A figure: title, the chart (or, when it cannot be drawn, nothing but the table), and its
/// numbers as a table.
fn figure(
    id: &'static str,
    title: String,
    svg: Option<String>,
    legend: Option<AnyView>,
    table: AnyView,
) -> impl IntoView {
    view! {
        <figure class="chart" id=id aria-labelledby=format!("{id}-title")>
            <figcaption id=format!("{id}-title")>{title}</figcaption>
            // The drawing is for the eye; its numbers are the table's.
            {svg.map(|svg| view! { <div class="chart-svg" aria-hidden="true" inner_html=svg></div> })}
            {legend}
            <details class="chart-table">
                <summary>{t!("reports.as_table").to_string()}</summary>
                {table}
            </details>
        </figure>
    }
}

/// Conversations created and resolved per local day.
#[component]
pub fn VolumeChart(days: Vec<DayVolumes>) -> impl IntoView {
    let labels: Vec<String> = days.iter().map(|day| short_day(&day.day)).collect();
    let created: Vec<u64> = days.iter().map(|day| day.volumes.created).collect();
    let resolved: Vec<u64> = days.iter().map(|day| day.volumes.resolved).collect();
    let says = |index: usize| {
        days.get(index).map_or_else(String::new, |day| {
            t!(
                "reports.day_hover",
                day = day.day,
                created = day.volumes.created,
                resolved = day.volumes.resolved,
                reopened = day.volumes.reopened,
                messages_in = day.volumes.messages_in,
                messages_out = day.volumes.messages_out
            )
            .to_string()
        })
    };
    let svg = bar_chart(
        &labels,
        &[(&created, ACCENT), (&resolved, SECOND)],
        (&t!("reports.axis_day"), &t!("reports.axis_conversations")),
        (1, &|value| value.to_string()),
        says,
    );
    let rows = days
        .iter()
        .map(|day| {
            let volumes = &day.volumes;
            view! {
                <tr>
                    <th scope="row">{day.day.clone()}</th>
                    <td>{volumes.created}</td>
                    <td>{volumes.reopened}</td>
                    <td>{volumes.resolved}</td>
                    <td>{volumes.messages_in}</td>
                    <td>{volumes.messages_out}</td>
                </tr>
            }
        })
        .collect_view();
    let table = view! {
        <table class="data">
            <thead><tr>
                <th scope="col">{t!("reports.axis_day").to_string()}</th>
                <th scope="col">{t!("reports.created").to_string()}</th>
                <th scope="col">{t!("reports.reopened").to_string()}</th>
                <th scope="col">{t!("reports.resolved").to_string()}</th>
                <th scope="col">{t!("reports.messages_in").to_string()}</th>
                <th scope="col">{t!("reports.messages_out").to_string()}</th>
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any();
    let legend = view! {
        <p class="legend" aria-hidden="true">
            <span class="swatch accent"></span>{t!("reports.created").to_string()}
            <span class="swatch second"></span>{t!("reports.resolved").to_string()}
        </p>
    }
    .into_any();
    figure("chart-volume", t!("reports.chart_volume").to_string(), svg, Some(legend), table)
}

/// `2027-03-26` as `26/03`.
fn short_day(day: &str) -> String {
    match (day.get(8..10), day.get(5..7)) {
        (Some(date), Some(month)) => format!("{date}/{month}"),
        _ => day.to_owned(),
    }
}

/// First responses per bin of time.
#[component]
pub fn ResponseChart(bins: Vec<u32>) -> impl IntoView {
    let labels = response_bin_labels();
    let values: Vec<u64> = bins.iter().map(|count| u64::from(*count)).collect();
    let says = |index: usize| {
        let label = labels.get(index).cloned().unwrap_or_default();
        t!("reports.bin_hover", bin = label, count = bins.get(index).copied().unwrap_or(0)).to_string()
    };
    let svg = bar_chart(
        &labels,
        &[(&values, ACCENT)],
        (&t!("reports.axis_waited"), &t!("reports.axis_first_responses")),
        (1, &|value| value.to_string()),
        says,
    );
    let rows = labels
        .iter()
        .zip(&bins)
        .map(|(label, count)| view! { <tr><th scope="row">{label.clone()}</th><td>{*count}</td></tr> })
        .collect_view();
    let table = view! {
        <table class="data">
            <thead><tr>
                <th scope="col">{t!("reports.axis_waited").to_string()}</th>
                <th scope="col">{t!("reports.axis_first_responses").to_string()}</th>
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any();
    figure("chart-first-response", t!("reports.chart_first_response").to_string(), svg, None, table)
}

/// The bins' names: under a minute, 1–5 min, …, over a day.
fn response_bin_labels() -> Vec<String> {
    let name = |ms: i64| {
        if ms < 3_600_000 { format!("{} min", ms / 60_000) } else { format!("{} h", ms / 3_600_000) }
    };
    const HOUR: i64 = 3_600_000;
    let mut labels = vec![format!("< {}", name(RESPONSE_BINS_MS[0]))];
    for pair in RESPONSE_BINS_MS.windows(2) {
        let (from, to) = (pair[0], pair[1]);
        labels.push(match (from < HOUR, to < HOUR) {
            (true, true) => format!("{}–{} min", from / 60_000, to / 60_000),
            (false, _) => format!("{}–{} h", from / HOUR, to / HOUR),
            (true, false) => format!("{}–{}", name(from), name(to)),
        });
    }
    labels.push(format!("> {}", name(RESPONSE_BINS_MS[RESPONSE_BINS_MS.len() - 1])));
    labels
}

/// Agent load over the day: open conversations assigned, on average, at each local hour.
#[component]
pub fn LoadChart(load: Vec<LoadHour>) -> impl IntoView {
    let labels: Vec<String> = load.iter().map(|hour| format!("{:02}", hour.hour)).collect();
    let average = |hour: &LoadHour| hour.average().map_or_else(|| "—".to_owned(), |average| format!("{average:.1}"));
    // Hundredths, so the bars keep the averages' decimals.
    let values: Vec<u64> = load.iter().map(|hour| (hour.average().unwrap_or(0.0) * 100.0).round() as u64).collect();
    let says = |index: usize| {
        load.get(index).map_or_else(String::new, |hour| {
            t!(
                "reports.load_hover",
                from = format!("{:02}:00", hour.hour),
                to = format!("{:02}:00", (hour.hour + 1) % 24),
                value = average(hour)
            )
            .to_string()
        })
    };
    let svg = bar_chart(
        &labels,
        &[(&values, ACCENT)],
        (&t!("reports.axis_hour"), &t!("reports.axis_load")),
        (100, &|value| format!("{:.1}", *value as f64 / 100.0)),
        says,
    );
    let rows = load
        .iter()
        .map(|hour| view! { <tr><th scope="row">{format!("{:02}:00", hour.hour)}</th><td>{average(hour)}</td></tr> })
        .collect_view();
    let table = view! {
        <table class="data">
            <thead><tr>
                <th scope="col">{t!("reports.axis_hour").to_string()}</th>
                <th scope="col">{t!("reports.axis_load").to_string()}</th>
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any();
    figure("chart-load", t!("reports.chart_load").to_string(), svg, None, table)
}

/// Customer messages by local weekday (Monday first) and hour.
#[component]
pub fn HeatmapChart(heatmap: Vec<[u64; 24]>) -> impl IntoView {
    let weekdays: Vec<String> = (0..7).map(|day| t!(format!("reports.weekday_{day}")).to_string()).collect();
    let svg = heatmap_svg(&heatmap, &weekdays);
    let rows = heatmap
        .iter()
        .zip(&weekdays)
        .map(|(hours, weekday)| {
            let cells = hours.iter().map(|count| view! { <td>{*count}</td> }).collect_view();
            view! { <tr><th scope="row">{weekday.clone()}</th>{cells}</tr> }
        })
        .collect_view();
    let hours = (0..24).map(|hour| view! { <th scope="col">{format!("{hour:02}")}</th> }).collect_view();
    let table = view! {
        <table class="data compact">
            <thead><tr><th scope="col"></th>{hours}</tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any();
    figure("chart-heatmap", t!("reports.chart_heatmap").to_string(), svg, None, table)
}

fn heatmap_svg(heatmap: &[[u64; 24]], weekdays: &[String]) -> Option<String> {
    let mut svg = String::new();
    let mut hovers = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        let top = heatmap.iter().flatten().copied().max().unwrap_or(0).max(1);
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(104)
            .build_cartesian_2d((0_usize..24).into_segmented(), (0_usize..7).into_segmented())
            .ok()?;
        // Monday on top: row 6 is Monday.
        let weekday_of = |value: &SegmentValue<usize>| match value {
            SegmentValue::CenterOf(row) | SegmentValue::Exact(row) if *row < 7 => {
                weekdays.get(6 - *row).cloned().unwrap_or_default()
            }
            _ => String::new(),
        };
        let hour_of = |value: &SegmentValue<usize>| match value {
            SegmentValue::CenterOf(hour) | SegmentValue::Exact(hour) if hour % 3 == 0 => format!("{hour:02}"),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .axis_style(GRID)
            .x_labels(24)
            .y_labels(7)
            .x_label_formatter(&hour_of)
            .y_label_formatter(&weekday_of)
            .x_desc(t!("reports.axis_hour").to_string())
            .y_desc(t!("reports.axis_weekday").to_string())
            .label_style(font(13))
            .axis_desc_style(font(14))
            .draw()
            .ok()?;
        let cells = heatmap
            .iter()
            .take(7)
            .enumerate()
            .flat_map(|(day, hours)| hours.iter().enumerate().map(move |(hour, count)| (day, hour, *count)));
        let mut rectangles = Vec::new();
        for (day, hour, count) in cells {
            let row = 6 - day;
            let corners = [
                (SegmentValue::Exact(hour), SegmentValue::Exact(row)),
                (SegmentValue::Exact(hour + 1), SegmentValue::Exact(row + 1)),
            ];
            // Empty cells are faint; the busiest is the accent at full strength.
            let strength = if count == 0 { 0.06 } else { 0.15 + 0.85 * count as f64 / top as f64 };
            rectangles.push(Rectangle::new(corners.clone(), ACCENT.mix(strength).filled()));
            let (left, bottom) = chart.backend_coord(&corners[0]);
            let (right, top_pixel) = chart.backend_coord(&corners[1]);
            let weekday = weekdays.get(day).cloned().unwrap_or_default();
            hovers.push(Hover {
                area: (left, top_pixel, right - left, bottom - top_pixel),
                says: t!(
                    "reports.heat_hover",
                    weekday = weekday,
                    from = format!("{hour:02}:00"),
                    to = format!("{:02}:00", (hour + 1) % 24),
                    count = count
                )
                .to_string(),
            });
        }
        chart.draw_series(rectangles).ok()?;
        root.present().ok()?;
    }
    Some(finished(svg, hovers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_bins_are_named_from_a_minute_to_a_day() {
        assert_eq!(
            response_bin_labels(),
            vec!["< 1 min", "1–5 min", "5–15 min", "15 min–1 h", "1–4 h", "4–24 h", "> 24 h"]
        );
    }
}
