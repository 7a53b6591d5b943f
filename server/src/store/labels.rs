//! [`LabelStore`]: editing a conversation's labels under its lock.

use async_trait::async_trait;
use baton_shared::model::ConversationEvent;
use baton_shared::{ConversationId, UserId};

use super::StoreResult;

/// What an edit of labels did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelOutcome {
    /// Stored, with the `labeled` event that tells everyone.
    Changed(Box<ConversationEvent>),
    /// The labels were already so.
    Unchanged,
    /// Not applied: why (a bad label, too many).
    Refused(String),
}

#[async_trait]
pub trait LabelStore {
    /// Removes `remove` and adds `add` to the labels as stored now
    /// ([`baton_shared::model::edit_labels`]), in one transaction under the conversation's lock.
    async fn edit_labels(
        &self,
        id: ConversationId,
        actor: UserId,
        add: &[String],
        remove: &[String],
        now: i64,
    ) -> StoreResult<LabelOutcome>;
}
