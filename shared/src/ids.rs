//! Id newtypes. Each is a transparent wrapper so JSON carries a bare number, while Rust code can
//! never pass a user id where another kind of id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Declares an `i64` id newtype that serializes as a bare number.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A WhatsApp customer.
    ContactId
);
id_type!(
    /// A conversation with a contact.
    ConversationId
);
id_type!(
    /// A message in a conversation, in either direction.
    MessageId
);
id_type!(
    /// An internal note on a conversation.
    NoteId
);
id_type!(
    /// A Baton account (agent, lead, supervisor or admin).
    UserId
);
id_type!(
    /// A team of agents (Sales, Support, Billing), with its own queue and assignment model.
    TeamId
);
