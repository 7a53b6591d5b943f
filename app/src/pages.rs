//! The app's screens: login, the shell around everything after it, the inbox with its
//! conversation view (header, timeline, composer, templates, notes), the supervisor wall and the
//! admin's user list.

pub mod admin;
pub mod composer;
pub mod conversation;
pub mod inbox;
pub mod labels;
pub mod login;
pub mod notes;
pub mod replies;
pub mod shell;
pub mod templates;
pub mod timeline;
pub mod wall;
