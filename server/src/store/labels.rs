//! [`LabelStore`]: editing a conversation's labels under its lock, and [`label_queries!`], its one
//! body for both backends (it uses the row lock and event append of the backend's expanded
//! `conversation_impl`).

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

/// Expands `LabelStore` for `$store`.
macro_rules! label_queries {
    ($store:ident) => {
        mod label_impl {
            use baton_shared::model::{Change, edit_labels};
            use baton_shared::{ConversationId, UserId};

            use super::conversation_impl::{append_event, lock_conversation};
            use super::$store;
            use $crate::store::StoreResult;
            use $crate::store::labels::{LabelOutcome, LabelStore};
            use $crate::store::rows;

            #[async_trait::async_trait]
            impl LabelStore for $store {
                async fn edit_labels(
                    &self,
                    id: ConversationId,
                    actor: UserId,
                    add: &[String],
                    remove: &[String],
                    now: i64,
                ) -> StoreResult<LabelOutcome> {
                    let mut tx = self.write_transaction().await?;
                    lock_conversation(&mut tx, id).await?;
                    let stored: String = sqlx::query_scalar("SELECT labels FROM conversations WHERE id = $1")
                        .bind(id.0)
                        .fetch_one(&mut *tx)
                        .await?;
                    let current: Vec<String> =
                        serde_json::from_str(&stored).map_err(|_| rows::corrupt(format!("labels {stored}")))?;
                    let labels = match edit_labels(&current, add, remove) {
                        Ok(labels) => labels,
                        Err(why) => return Ok(LabelOutcome::Refused(why)),
                    };
                    if labels == current {
                        return Ok(LabelOutcome::Unchanged);
                    }
                    let json = serde_json::to_string(&labels).map_err(|error| rows::corrupt(error.to_string()))?;
                    sqlx::query("UPDATE conversations SET labels = $2 WHERE id = $1")
                        .bind(id.0)
                        .bind(json)
                        .execute(&mut *tx)
                        .await?;
                    let event = append_event(&mut tx, id, Some(actor), Change::Labeled { labels }, now).await?;
                    tx.commit().await?;
                    Ok(LabelOutcome::Changed(Box::new(event)))
                }
            }
        }
    };
}
pub(super) use label_queries;
