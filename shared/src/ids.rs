//! Id newtypes. Each is a transparent wrapper so JSON carries a bare number, while Rust code can
//! never pass a user id where another kind of id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A Baton account (agent, lead, supervisor or admin).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
