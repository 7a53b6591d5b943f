//! The reusable pieces the pages are built from: the timeline (with its routing lines), the
//! composer (with its template picker), the notes panel and the labels editor, the quoted message
//! they share, the agent's queues with Take next, the customer's card and side panel, and the
//! search box.

pub mod composer;
pub mod contact_card;
pub mod contact_panel;
pub mod labels;
pub mod notes;
pub mod now_panel;
pub mod queues;
pub mod quote;
pub mod report_charts;
pub mod report_tables;
pub mod routing_line;
pub mod search;
pub mod sla;
pub mod team_queues;
pub mod templates;
pub mod timeline;
