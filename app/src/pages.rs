//! The app's screens: login, the shell around everything after it, the inbox with its open
//! conversation, the supervisor wall, the canned responses, the admin's user list, the Teams page
//! and the routing rules with their test box. The pieces
//! they are built from live in [`crate::components`].

pub mod admin;
pub mod automation;
pub mod automation_csat;
pub mod automation_menu;
pub mod automation_sla;
pub mod contact_attributes;
pub mod contact_profile;
pub mod contacts;
pub mod conversation;
pub mod inbox;
pub mod login;
pub mod replies;
pub mod reports;
pub mod rules;
pub mod rules_form;
pub mod shell;
pub mod teams;
pub mod wall;
