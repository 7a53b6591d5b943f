//! Claim upkeep queries, expanded once per backend by [`claim_queries!`] like
//! [`super::conversation_queries`] (see there for why a macro): who holds leases, renewals, and
//! which claims are due to end.
//!
//! A claim ends by itself in two ways: its lease runs out (the holder has been gone that long), or
//! it lapses — no activity since `idle_before` and no draft waiting. Activity is the claim taken
//! (`claims.active_at`) or the holder's draft saved (`drafts.updated_at`: every keystroke, and the
//! send that empties it). Reading the draft's time, rather than copying it onto the claim, keeps
//! draft saves off the claims rows (the lease keeper updates those several at a time; two
//! multi-row writers in different orders deadlock on PostgreSQL). A draft keeps a claim however
//! long it waits: its holder means to come back to it.

/// The `WHERE` condition of a claims row that is due to end: its lease ran out by `$now`, or it has
/// not been used since `$idle_before` and no draft waits. Shared by the scan and the delete, so
/// both judge alike.
macro_rules! due_condition {
    ($now:literal, $idle_before:literal) => {
        concat!(
            "(lease_until <= ",
            $now,
            " OR (active_at <= ",
            $idle_before,
            " AND NOT EXISTS (SELECT 1 FROM drafts d WHERE d.conversation_id = claims.conversation_id \
             AND d.user_id = claims.holder_id AND (d.body <> '' OR d.updated_at > ",
            $idle_before,
            "))))"
        )
    };
}
pub(super) use due_condition;

/// Expands `mod claim_queries_impl` for a backend whose pool is `sqlx::Pool<$db>`.
macro_rules! claim_queries {
    ($db:ty) => {
        mod claim_queries_impl {
            use baton_shared::{ConversationId, UserId};

            use $crate::store::StoreResult;
            use $crate::store::claim_queries::due_condition;

            /// See `ConversationStore::claim_holders`.
            pub(in super::super) async fn holders(pool: &sqlx::Pool<$db>, now: i64) -> StoreResult<Vec<UserId>> {
                let holders: Vec<i64> =
                    sqlx::query_scalar("SELECT DISTINCT holder_id FROM claims WHERE lease_until > $1")
                        .bind(now)
                        .fetch_all(pool)
                        .await?;
                Ok(holders.into_iter().map(UserId).collect())
            }

            /// See `ConversationStore::renew_claims`.
            pub(in super::super) async fn renew(
                pool: &sqlx::Pool<$db>,
                agent: UserId,
                lease_until: i64,
                now: i64,
            ) -> StoreResult<u64> {
                let renewed = sqlx::query(
                    "UPDATE claims SET lease_until = $1 WHERE holder_id = $2 AND lease_until > $3 AND lease_until < $1",
                )
                .bind(lease_until)
                .bind(agent.0)
                .bind(now)
                .execute(pool)
                .await?;
                Ok(renewed.rows_affected())
            }

            /// The conversations whose claims are due to end (checked again under each one's lock).
            pub(in super::super) async fn due(
                pool: &sqlx::Pool<$db>,
                now: i64,
                idle_before: i64,
            ) -> StoreResult<Vec<ConversationId>> {
                let due: Vec<i64> = sqlx::query_scalar(concat!(
                    "SELECT conversation_id FROM claims WHERE ",
                    due_condition!("$1", "$2")
                ))
                .bind(now)
                .bind(idle_before)
                .fetch_all(pool)
                .await?;
                Ok(due.into_iter().map(ConversationId).collect())
            }

            /// Ends the claim on `id` if it is still due; its holder, if it ended.
            pub(in super::super) async fn end_if_due(
                tx: &mut sqlx::Transaction<'static, $db>,
                id: ConversationId,
                now: i64,
                idle_before: i64,
            ) -> StoreResult<Option<UserId>> {
                let holder: Option<i64> = sqlx::query_scalar(concat!(
                    "DELETE FROM claims WHERE conversation_id = $1 AND ",
                    due_condition!("$2", "$3"),
                    " RETURNING holder_id"
                ))
                .bind(id.0)
                .bind(now)
                .bind(idle_before)
                .fetch_optional(&mut **tx)
                .await?;
                Ok(holder.map(UserId))
            }
        }
    };
}

pub(crate) use claim_queries;
