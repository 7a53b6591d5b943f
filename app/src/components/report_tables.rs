//! The Reports page's tables: a row per agent, team or label with the period's figures, sorted by
//! any column (a header's button; `aria-sort` says how), and each exported as CSV — the server's
//! CSV of the same request, in the same numbers (its header is documented in `docs/reports.md`).

use baton_shared::reports::{ReportRequest, ReportRow};
use leptos::prelude::*;

use crate::api;
use crate::latest::ask_latest;
use crate::pages::reports::{duration, hours, percent};

/// What a table's rows are.
const TABLES: [(&str, &str); 3] =
    [("agents", "reports.by_agent"), ("teams", "reports.by_team"), ("labels", "reports.by_label")];

/// A column: its id, its header's text key, and a row's value in it (for sorting: a number or
/// text) and as shown.
struct Column {
    id: &'static str,
    header: &'static str,
    key: fn(&ReportRow) -> SortKey,
    shown: fn(&ReportRow) -> String,
    /// Only people have it (time online).
    agents_only: bool,
}

impl Column {
    fn shown_in(&self, table: &str) -> bool {
        !self.agents_only || table == "agents"
    }
}

#[derive(Clone, Debug, PartialEq, PartialOrd)]
enum SortKey {
    /// Absent figures sort first (ascending).
    Number(Option<f64>),
    Text(String),
}

fn time(ms: Option<i64>) -> String {
    ms.map_or_else(|| "—".to_owned(), duration)
}

fn sla(row: &ReportRow) -> Option<f64> {
    let all = row.sla.met + row.sla.breached;
    (all > 0).then(|| row.sla.met as f64 / all as f64)
}

fn number(value: u64) -> SortKey {
    SortKey::Number(Some(value as f64))
}

fn ms(value: Option<i64>) -> SortKey {
    SortKey::Number(value.map(|value| value as f64))
}

fn online(row: &ReportRow) -> Option<i64> {
    row.time_online.map(|time| time.online_ms)
}

fn available(row: &ReportRow) -> Option<i64> {
    row.time_online.map(|time| time.available_ms)
}

const COLUMNS: [Column; 12] = [
    Column {
        id: "name",
        header: "reports.col_name",
        key: |row| SortKey::Text(row.name.to_lowercase()),
        shown: |row| row.name.clone(),
        agents_only: false,
    },
    Column {
        id: "created",
        header: "reports.created",
        key: |row| number(row.volumes.created),
        shown: |row| row.volumes.created.to_string(),
        agents_only: false,
    },
    Column {
        id: "resolved",
        header: "reports.resolved",
        key: |row| number(row.volumes.resolved),
        shown: |row| row.volumes.resolved.to_string(),
        agents_only: false,
    },
    Column {
        id: "messages-out",
        header: "reports.messages_out",
        key: |row| number(row.volumes.messages_out),
        shown: |row| row.volumes.messages_out.to_string(),
        agents_only: false,
    },
    Column {
        id: "frt-median",
        header: "reports.col_frt_median",
        key: |row| ms(row.first_response.median_ms),
        shown: |row| time(row.first_response.median_ms),
        agents_only: false,
    },
    Column {
        id: "frt-p90",
        header: "reports.col_frt_p90",
        key: |row| ms(row.first_response.p90_ms),
        shown: |row| time(row.first_response.p90_ms),
        agents_only: false,
    },
    Column {
        id: "next-median",
        header: "reports.col_next_median",
        key: |row| ms(row.next_response.median_ms),
        shown: |row| time(row.next_response.median_ms),
        agents_only: false,
    },
    Column {
        id: "resolution-median",
        header: "reports.col_resolution_median",
        key: |row| ms(row.resolution.median_ms),
        shown: |row| time(row.resolution.median_ms),
        agents_only: false,
    },
    Column {
        id: "sla",
        header: "reports.col_sla",
        key: |row| SortKey::Number(sla(row)),
        shown: |row| percent(sla(row)),
        agents_only: false,
    },
    Column {
        id: "csat",
        header: "reports.col_csat",
        key: |row| SortKey::Number(row.csat.positive_share()),
        shown: |row| percent(row.csat.positive_share()),
        agents_only: false,
    },
    Column {
        id: "online",
        header: "reports.col_online",
        key: |row| ms(online(row)),
        shown: |row| online(row).map_or_else(|| "—".to_owned(), hours),
        agents_only: true,
    },
    Column {
        id: "available",
        header: "reports.col_available",
        key: |row| ms(available(row)),
        shown: |row| available(row).map_or_else(|| "—".to_owned(), hours),
        agents_only: true,
    },
];

#[component]
pub fn ReportTables(request: Memo<ReportRequest>) -> impl IntoView {
    let by = RwSignal::new("agents");
    let rows = RwSignal::new(None::<Vec<ReportRow>>);
    let error = RwSignal::new(None::<String>);
    // (column index, descending)
    let sort = RwSignal::new((0_usize, false));
    ask_latest(
        move || (request.get(), by.get()),
        |(asked, table)| async move { api::report_table(table, &asked).await },
        move |answer| match answer {
            Ok(found) => {
                error.set(None);
                rows.set(Some(found));
            }
            Err(failure) => error.set(Some(failure.message)),
        },
    );
    let tabs = TABLES
        .into_iter()
        .map(|(table, name)| {
            view! {
                <button type="button" role="tab" id=format!("report-tab-{table}") class="tab" aria-controls="report-panel"
                    aria-selected=move || (by.get() == table).to_string()
                    on:click=move |_| {
                        // The other table's rows are not this one's: none until it answers.
                        if by.get_untracked() != table {
                            rows.set(None);
                            if COLUMNS.get(sort.get_untracked().0).is_some_and(|column| !column.shown_in(table)) {
                                sort.set((0, false));
                            }
                        }
                        by.set(table)
                    }>
                    {t!(name).to_string()}
                </button>
            }
        })
        .collect_view();
    let csv = move || format!("/api/reports/{}?{}&format=csv", by.get(), api::report_query(&request.get()));
    let header = move || {
        let (sorted, descending) = sort.get();
        let table = by.get();
        COLUMNS
            .iter()
            .enumerate()
            .filter(|(_, column)| column.shown_in(table))
            .map(|(index, column)| {
                let state = match (index == sorted, descending) {
                    (false, _) => "none",
                    (true, false) => "ascending",
                    (true, true) => "descending",
                };
                view! {
                    <th scope="col" aria-sort=state>
                        <button type="button" class="sort" id=format!("sort-{}", column.id)
                            on:click=move |_| sort.update(|(at, descending)| {
                                *descending = *at == index && !*descending;
                                *at = index;
                            })>
                            {t!(column.header).to_string()}
                        </button>
                    </th>
                }
            })
            .collect_view()
    };
    let body = move || {
        // Until the table answers, nothing (not "nothing happened").
        let Some(mut found) = rows.get() else { return ().into_any() };
        let (sorted, descending) = sort.get();
        if let Some(column) = COLUMNS.get(sorted) {
            found.sort_by(|a, b| {
                let order = (column.key)(a).partial_cmp(&(column.key)(b)).unwrap_or(std::cmp::Ordering::Equal);
                if descending { order.reverse() } else { order }
            });
        }
        let table = by.get();
        if found.is_empty() {
            let columns = COLUMNS.iter().filter(|column| column.shown_in(table)).count();
            return view! { <tr><td colspan=columns.to_string() class="empty">{t!("reports.empty_table").to_string()}</td></tr> }.into_any();
        }
        found
            .into_iter()
            .map(|row| {
                let cells = COLUMNS
                    .iter()
                    .enumerate()
                    .filter(|(_, column)| column.shown_in(table))
                    .map(|(index, column)| {
                        let shown = (column.shown)(&row);
                        if index == 0 {
                            view! { <th scope="row">{shown}</th> }.into_any()
                        } else {
                            view! { <td>{shown}</td> }.into_any()
                        }
                    })
                    .collect_view();
                view! { <tr data-key=row.key.clone()>{cells}</tr> }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <section class="report-tables" id="report-tables" aria-labelledby="report-tables-title">
            <header class="page-head">
                <h3 id="report-tables-title">{t!("reports.tables").to_string()}</h3>
                <div role="tablist" class="tabs">{tabs}</div>
                <a class="button secondary" id="report-csv" href=csv download=move || format!("{}.csv", by.get())>
                    {t!("reports.export_csv").to_string()}
                </a>
            </header>
            {move || error.get().map(|message| view! { <p class="alert" role="alert">{message}</p> })}
            <div class="table-scroll" role="tabpanel" id="report-panel"
                aria-labelledby=move || format!("report-tab-{}", by.get())>
                <table class="data report-table" id="report-table">
                    <thead><tr>{header}</tr></thead>
                    <tbody>{body}</tbody>
                </table>
            </div>
        </section>
    }
}
