//! The reusable pieces the pages are built from: the timeline, the composer (with its template
//! picker), the notes panel and the labels editor, and the quoted message they share.

pub mod composer;
pub mod labels;
pub mod notes;
pub mod quote;
pub mod templates;
pub mod timeline;
