//! The agent's inbox: the conversation list (Mine / Unassigned / All, status and label filters,
//! search, live unread counts, previews, labels and waiting times), the team's presence, and the open conversation
//! beside it. Keyboard: Alt+↑ / Alt+↓ move between conversations.

use baton_shared::api::Role;
use baton_shared::model::{ConversationStatus, Direction};
use baton_shared::protocol::PresenceStatus;
use baton_shared::{ConversationId, UserId};
use leptos::html::Input;
use leptos::prelude::*;

use crate::components::queues::Queues;
use crate::context::Ctx;
use crate::format::{clock_time, initials, waited};
use crate::icons::{Icon, icon};
use crate::pages::conversation::ConversationPane;
use crate::state::ConversationView;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Folder {
    Mine,
    Unassigned,
    All,
}

impl Folder {
    /// Whether this folder lists a conversation assigned to `assignee`, for user `me`.
    fn lists(self, assignee: Option<UserId>, me: UserId) -> bool {
        match self {
            Folder::Mine => assignee == Some(me),
            Folder::Unassigned => assignee.is_none(),
            Folder::All => true,
        }
    }

    /// The folder to show a conversation in when the current one does not list it: the user's
    /// own, else the unassigned ones, else all.
    fn listing(assignee: Option<UserId>, me: UserId) -> Folder {
        [Folder::Mine, Folder::Unassigned].into_iter().find(|folder| folder.lists(assignee, me)).unwrap_or(Folder::All)
    }
}

/// One row of the list, as rendered.
#[derive(Clone, PartialEq)]
struct Row {
    id: ConversationId,
    name: String,
    preview: String,
    at: Option<i64>,
    waiting_since: Option<i64>,
    unread: u32,
    status: ConversationStatus,
    holder: Option<String>,
    labels: Vec<String>,
    team: Option<baton_shared::TeamId>,
    priority: baton_shared::model::Priority,
    sla: Option<baton_shared::sla::SlaDue>,
}

fn row(view: &ConversationView) -> Row {
    let preview = view.preview.as_ref().map(|message| {
        let text = if message.body.is_empty() { format!("[{}]", message.kind) } else { message.body.clone() };
        match (message.direction, message.automation) {
            (Direction::Outbound, Some(_)) => t!("inbox.baton", text = text).to_string(),
            (Direction::Outbound, None) => t!("inbox.you", text = text).to_string(),
            (Direction::Inbound, _) => text,
        }
    });
    // Waiting: the customer wrote last.
    let waiting_since = view
        .preview
        .as_ref()
        .filter(|message| message.direction == Direction::Inbound)
        .map(|message| message.created_at);
    Row {
        id: view.conversation.id,
        name: view.customer_name(),
        preview: preview.unwrap_or_default(),
        at: view.conversation.last_message_at,
        waiting_since,
        unread: view.unread,
        status: view.conversation.status,
        holder: view.conversation.claim.as_ref().map(|claim| {
            if claim.yields_to_people() { t!("composer.bot_name").to_string() } else { claim.holder_name.clone() }
        }),
        labels: view.conversation.labels.clone(),
        team: view.conversation.team,
        priority: view.conversation.priority,
        sla: view.conversation.sla,
    }
}

#[component]
pub fn InboxPage() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let inbox = ctx.link.inbox;
    let folder = RwSignal::new(Folder::Mine);
    let status_filter = RwSignal::new(Some(ConversationStatus::Open));
    // Empty: any label.
    let label_filter = RwSignal::new(String::new());
    let search = RwSignal::new(String::new());
    let search_box = NodeRef::<Input>::new();
    let selected = ctx.selected;
    // A conversation opened by its address (a link, a reload, a notice) is shown in a folder
    // that lists it, once the inbox holds it; a folder the user picks afterwards stays theirs.
    let placed = StoredValue::new(None::<ConversationId>);
    let me = ctx.me.with_value(|me| me.id);
    Effect::new(move |_| {
        let Some(id) = selected.get() else { return };
        if placed.get_value() == Some(id) {
            return;
        }
        let Some(assignee) = inbox.with(|inbox| inbox.conversations.get(&id).map(|view| view.conversation.assignee))
        else {
            return;
        };
        placed.set_value(Some(id));
        if !folder.get_untracked().lists(assignee, me) {
            folder.set(Folder::listing(assignee, me));
        }
    });

    let rows = Memo::new(move |_| {
        let wanted = search.get().to_lowercase();
        let status = status_filter.get();
        let label = label_filter.get();
        inbox.with(|inbox| {
            let listed = match folder.get() {
                Folder::Mine => inbox.mine(),
                Folder::Unassigned => inbox.unassigned(),
                Folder::All => inbox.all(),
            };
            listed
                .into_iter()
                .filter(|view| status.is_none_or(|status| view.conversation.status == status))
                .filter(|view| label.is_empty() || view.conversation.labels.contains(&label))
                .map(row)
                .filter(|row| {
                    wanted.is_empty()
                        || row.name.to_lowercase().contains(&wanted)
                        || row.preview.to_lowercase().contains(&wanted)
                })
                .collect::<Vec<_>>()
        })
    });
    // Every label in use, for the filter; a chosen label stays offered while no row carries it.
    let labels_in_use = Memo::new(move |_| {
        let mut labels: Vec<String> =
            inbox.with(|inbox| inbox.all().iter().flat_map(|view| view.conversation.labels.iter().cloned()).collect());
        let chosen = label_filter.get();
        if !chosen.is_empty() {
            labels.push(chosen);
        }
        labels.sort();
        labels.dedup();
        labels
    });
    let count = move |which: Folder| {
        inbox.with(|inbox| {
            let listed = match which {
                Folder::Mine => inbox.mine(),
                Folder::Unassigned => inbox.unassigned(),
                Folder::All => inbox.all(),
            };
            listed.iter().map(|view| view.unread).sum::<u32>()
        })
    };

    // Keyboard: Alt+↑/↓ to move through the list (`/` belongs to the search box in the top bar).
    let keys = window_event_listener(leptos::ev::keydown, move |event| {
        if event.alt_key() && (event.key() == "ArrowDown" || event.key() == "ArrowUp") {
            event.prevent_default();
            let ids: Vec<ConversationId> = rows.with_untracked(|rows| rows.iter().map(|row| row.id).collect());
            let at = selected.get_untracked().and_then(|id| ids.iter().position(|other| *other == id));
            let next = match (at, event.key() == "ArrowDown") {
                (None, _) => ids.first(),
                (Some(at), true) => ids.get(at + 1).or(ids.get(at)),
                (Some(at), false) => ids.get(at.saturating_sub(1)),
            };
            if let Some(next) = next {
                ctx.select(Some(*next));
            }
        }
    });
    on_cleanup(move || keys.remove());

    let folder_tab = move |which: Folder, label: String, id: &'static str| {
        view! {
            <button
                id=id
                class="folder"
                class:active=move || folder.get() == which
                on:click=move |_| folder.set(which)
            >
                {label}
                {move || {
                    let unread = count(which);
                    (unread > 0).then(|| view! { <span class="badge">{unread}</span> })
                }}
            </button>
        }
    };
    let choose_status = move |event: leptos::ev::Event| {
        status_filter.set(match event_target_value(&event).as_str() {
            "open" => Some(ConversationStatus::Open),
            "pending" => Some(ConversationStatus::Pending),
            "resolved" => Some(ConversationStatus::Resolved),
            _ => None,
        });
    };

    view! {
        <div class="inbox">
            <aside class="sidebar">
                <Queues />
                <div class="folders" role="tablist">
                    {folder_tab(Folder::Mine, t!("inbox.mine").to_string(), "folder-mine")}
                    {folder_tab(Folder::Unassigned, t!("inbox.unassigned").to_string(), "folder-unassigned")}
                    {folder_tab(Folder::All, t!("inbox.all").to_string(), "folder-all")}
                </div>
                <div class="list-tools">
                    <input
                        id="list-filter"
                        type="search"
                        aria-label=t!("inbox.search").to_string()
                        placeholder=t!("inbox.search_placeholder").to_string()
                        node_ref=search_box
                        prop:value=search
                        on:input=move |event| search.set(event_target_value(&event))
                    />
                    <select id="status-filter" aria-label=t!("inbox.status").to_string() on:change=choose_status>
                        <option value="open" selected=true>{t!("inbox.status_open").to_string()}</option>
                        <option value="pending">{t!("inbox.status_pending").to_string()}</option>
                        <option value="resolved">{t!("inbox.status_resolved").to_string()}</option>
                        <option value="any">{t!("inbox.status_any").to_string()}</option>
                    </select>
                    <select id="label-filter" aria-label=t!("inbox.label").to_string() on:change=move |event| label_filter.set(event_target_value(&event))>
                        <option value="" selected=move || label_filter.with(String::is_empty)>{t!("inbox.any_label").to_string()}</option>
                        {move || labels_in_use.get().into_iter().map(|label| {
                            let selected = label_filter.with(|chosen| *chosen == label);
                            view! { <option value=label.clone() selected=selected>{label.clone()}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <ul class="conversation-list" id="conversation-list">
                    <For each=move || rows.get() key=|row| (row.id, row.name.clone(), row.unread, row.preview.clone(), row.status, row.holder.clone(), row.at, row.labels.clone(), row.team, row.priority, row.sla) let:row>
                        <ListRow row=row selected=selected />
                    </For>
                </ul>
                <Show when=move || rows.with(Vec::is_empty)>
                    <p class="list-empty">{t!("inbox.empty").to_string()}</p>
                </Show>
                <TeamPresence />
            </aside>
            {move || match selected.get() {
                Some(id) => view! { <ConversationPane id=id on_back=Callback::new(move |()| ctx.select(None)) /> }.into_any(),
                None => view! {
                    <section class="no-conversation">
                        <p>{t!("inbox.pick").to_string()}</p>
                        <p class="hint keyboard-hint">{t!("inbox.keys").to_string()}</p>
                    </section>
                }
                .into_any(),
            }}
        </div>
    }
}

#[component]
fn ListRow(row: Row, selected: Memo<Option<ConversationId>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let id = row.id;
    let waiting = row.waiting_since.map(|since| move || waited(since, ctx.now.get()));
    let at = row.at.map(|at| move || clock_time(at, ctx.now.get()));
    view! {
        <li>
            <button
                class="conversation-row"
                class:selected=move || selected.get() == Some(id)
                data-conversation=id.to_string()
                on:click=move |_| ctx.select(Some(id))
            >
                <span class="avatar small" aria-hidden="true">{initials(&row.name)}</span>
                <span class="row-main">
                    <span class="row-top">
                        <span class="row-name">{row.name.clone()}</span>
                        <span class="row-time">{at}</span>
                    </span>
                    <span class="row-preview">{row.preview.clone()}</span>
                    <span class="row-meta">
                        <span class="status-chip" data-status=row.status.as_str()>{t!(format!("status.{}", row.status.as_str())).to_string()}</span>
                        {(row.priority != baton_shared::model::Priority::Normal).then(|| view! {
                            <span class="priority-chip" data-priority=row.priority.as_str()>{t!(format!("priority.{}", row.priority.as_str())).to_string()}</span>
                        })}
                        {row.team.map(|team| view! { <span class="team-chip">{move || ctx.team_name(team)}</span> })}
                        {row.holder.clone().map(|holder| view! { <span class="holder-chip">{icon(Icon::Lock)} {holder}</span> })}
                        {row.labels.iter().map(|label| view! { <span class="label-chip small">{label.clone()}</span> }).collect_view()}
                        {waiting.map(|waiting| view! { <span class="waiting">{move || t!("inbox.waiting", time = waiting()).to_string()}</span> })}
                        {row.sla.map(|sla| view! { <crate::components::sla::SlaChip sla=sla /> })}
                    </span>
                </span>
                {(row.unread > 0).then(|| view! { <span class="badge unread">{row.unread}</span> })}
            </button>
        </li>
    }
}

/// Teammates with their presence dots.
#[component]
fn TeamPresence() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let members = move || {
        let presence = ctx.link.inbox.with(|inbox| inbox.presence.clone());
        ctx.team
            .get()
            .into_iter()
            .map(|member| {
                let state = presence.get(&member.id);
                let dot = match state {
                    Some(presence) if presence.online => match presence.status {
                        PresenceStatus::Available => "available",
                        PresenceStatus::Busy => "busy",
                        PresenceStatus::Away => "away",
                    },
                    _ => "offline",
                };
                (member, dot)
            })
            .collect::<Vec<_>>()
    };
    view! {
        <section class="team" aria-label=t!("inbox.team").to_string()>
            <h3>{t!("inbox.team").to_string()}</h3>
            <ul>
                {move || {
                    members()
                        .into_iter()
                        .map(|(member, dot)| {
                            view! {
                                <li class="teammate" data-user=member.id.to_string() data-presence=dot>
                                    <span class=format!("dot {dot}") title=dot></span>
                                    <span>{member.name.clone()}</span>
                                    {(member.role != Role::Agent).then(|| view! { <span class="role-mini">{t!(format!("role.{}", member.role.as_str())).to_string()}</span> })}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </section>
    }
}

#[cfg(test)]
mod folder_tests {
    use super::{Folder, UserId};

    #[test]
    fn a_conversation_is_shown_in_a_folder_that_lists_it() {
        let (me, teammate) = (UserId(1), UserId(2));
        assert_eq!(Folder::listing(Some(me), me), Folder::Mine);
        assert_eq!(Folder::listing(None, me), Folder::Unassigned);
        assert_eq!(Folder::listing(Some(teammate), me), Folder::All, "a supervisor opening a teammate's");
        assert!(Folder::All.lists(Some(teammate), me));
        assert!(!Folder::Mine.lists(None, me));
    }
}
