//! Top-level screens.

pub mod login;
pub mod shell;
