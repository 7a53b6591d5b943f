//! The one body of [`super::conversations::ConversationStore`], expanded once per backend by
//! [`conversation_queries!`]. It needs from the backend module: a `pool` field, an inherent
//! `write_transaction()`, the SQL that locks a conversation row until commit (`FOR UPDATE` on
//! PostgreSQL; under SQLite's `BEGIN IMMEDIATE` a plain read suffices) and the expanded
//! [`super::conversation_reads`] queries.
//!
//! Why a macro: the two implementations differ only in their executor types; writing every query
//! twice would let them drift apart, and sqlx's generic bounds would bury the SQL.

/// Expands `ConversationStore` for `$store`, whose transactions are `Transaction<'static, $db>`.
macro_rules! conversation_queries {
    ($store:ident, $db:ty, lock_conversation = $lock:expr) => {
    mod conversation_impl {
        use baton_shared::model::{
            self, Change, Claim, Conversation, ConversationEvent, ConversationStatus, Message, MessageContent, MessageKind,
            Note,
        };
        use baton_shared::rules::{self, ReplyKind};
        use baton_shared::{ConversationId, NoteId, UserId};

        use super::$store;
        use $crate::store::conversations::{
            ClaimOutcome, ConversationStore, DraftWrite, Handover, InboundOutcome, NewInbound, NewReply,
            NoteEditOutcome, ReplyContent, ReplyOutcome,
        };
        use $crate::store::rows;
        use $crate::store::{StoreError, StoreResult};

        type Tx = sqlx::Transaction<'static, $db>;

        /// Locks the conversation until commit; `NotFound` if it does not exist.
        pub(in super::super) async fn lock_conversation(tx: &mut Tx, id: ConversationId) -> StoreResult<()> {
            let found: Option<i64> = sqlx::query_scalar($lock).bind(id.0).fetch_optional(&mut **tx).await?;
            found.map(|_| ()).ok_or(StoreError::NotFound)
        }

        /// Appends an event with the conversation's next seq.
        pub(in super::super) async fn append_event(
            tx: &mut Tx,
            id: ConversationId,
            actor: Option<UserId>,
            change: Change,
            now: i64,
        ) -> StoreResult<ConversationEvent> {
            let seq = next_seq(tx, id, now).await?;
            insert_event(tx, id, seq, actor, change, now).await
        }

        /// Takes the next seq (the caller inserts the event with it).
        async fn next_seq(tx: &mut Tx, id: ConversationId, now: i64) -> StoreResult<u64> {
            let seq: i64 = sqlx::query_scalar(
                "UPDATE conversations SET last_seq = last_seq + 1, updated_at = $2 WHERE id = $1 RETURNING last_seq",
            )
            .bind(id.0)
            .bind(now)
            .fetch_one(&mut **tx)
            .await?;
            rows::seq_of(seq)
        }

        async fn insert_event(
            tx: &mut Tx,
            id: ConversationId,
            seq: u64,
            actor: Option<UserId>,
            change: Change,
            now: i64,
        ) -> StoreResult<ConversationEvent> {
            let json = serde_json::to_string(&change).map_err(|error| rows::corrupt(error.to_string()))?;
            sqlx::query("INSERT INTO events (conversation_id, seq, at, actor_id, change) VALUES ($1, $2, $3, $4, $5)")
                .bind(id.0)
                .bind(rows::seq_param(seq))
                .bind(now)
                .bind(actor.map(|actor| actor.0))
                .bind(json)
                .execute(&mut **tx)
                .await?;
            Ok(ConversationEvent { conversation_id: id, seq, at: now, actor, change })
        }

        /// Whether free text may go to the conversation's customer now (`Contact::window_open`).
        pub(in super::super) async fn window_open(tx: &mut Tx, id: ConversationId, now: i64) -> StoreResult<bool> {
            let (last_inbound_at, window_closed_at): (Option<i64>, Option<i64>) = sqlx::query_as(
                "SELECT k.last_inbound_at, k.window_closed_at FROM conversations c \
                 JOIN contacts k ON k.id = c.contact_id WHERE c.id = $1",
            )
            .bind(id.0)
            .fetch_one(&mut **tx)
            .await?;
            Ok(model::window_open(last_inbound_at, window_closed_at, now))
        }

        pub(in super::super) async fn claim_in(tx: &mut Tx, id: ConversationId) -> StoreResult<Option<Claim>> {
            let row: Option<rows::ClaimRow> =
                sqlx::query_as(rows::CLAIM_SELECT).bind(id.0).fetch_optional(&mut **tx).await?;
            Ok(row.map(Claim::from))
        }

        async fn upsert_claim(
            tx: &mut Tx,
            id: ConversationId,
            holder: UserId,
            lease_until: i64,
            now: i64,
        ) -> StoreResult<Claim> {
            sqlx::query(
                "INSERT INTO claims (conversation_id, holder_id, lease_until, acquired_at, active_at) \
                 VALUES ($1, $2, $3, $4, $4) ON CONFLICT (conversation_id) DO UPDATE SET holder_id = excluded.holder_id, \
                 lease_until = excluded.lease_until, acquired_at = excluded.acquired_at, active_at = excluded.active_at",
            )
            .bind(id.0)
            .bind(holder.0)
            .bind(lease_until)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            claim_in(tx, id).await?.ok_or(StoreError::NotFound)
        }

        /// Keeps a draft unless a newer one (or a newer send, which leaves an empty draft) is
        /// there already: batched saves may arrive late.
        async fn upsert_draft(tx: &mut Tx, draft: &DraftWrite) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO drafts (conversation_id, user_id, body, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (conversation_id, user_id) DO UPDATE SET body = excluded.body, \
                 updated_at = excluded.updated_at \
                 WHERE excluded.updated_at > drafts.updated_at \
                 OR (excluded.updated_at = drafts.updated_at AND drafts.body <> '')",
            )
            .bind(draft.conversation.0)
            .bind(draft.user.0)
            .bind(&draft.body)
            .bind(draft.typed_at)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        pub(in super::super) async fn message_in(tx: &mut Tx, id: i64) -> StoreResult<Message> {
            let row: rows::MessageRow =
                sqlx::query_as(&format!("SELECT {} FROM messages WHERE id = $1", rows::MESSAGE_COLUMNS))
                    .bind(id)
                    .fetch_one(&mut **tx)
                    .await?;
            Message::try_from(row)
        }

        /// A message placed at `sent_at` was added: `last_message_at` moves to it, never back (a
        /// late message older than the newest leaves it).
        async fn message_added_at(tx: &mut Tx, id: ConversationId, sent_at: i64) -> StoreResult<()> {
            sqlx::query(
                "UPDATE conversations SET last_message_at = CASE WHEN last_message_at IS NULL \
                 OR last_message_at < $2 THEN $2 ELSE last_message_at END WHERE id = $1",
            )
            .bind(id.0)
            .bind(sent_at)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        async fn note_in(tx: &mut Tx, id: NoteId) -> StoreResult<Option<Note>> {
            let row: Option<rows::NoteRow> = sqlx::query_as(&format!(
                "SELECT {} FROM notes WHERE id = $1 AND deleted = FALSE",
                rows::NOTE_COLUMNS
            ))
            .bind(id.0)
            .fetch_optional(&mut **tx)
            .await?;
            row.map(Note::try_from).transpose()
        }

        fn is_unique_violation(error: &sqlx::Error) -> bool {
            matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
        }

        /// Records a customer message inside the caller's transaction (which commits it).
        pub(in super::super) async fn record_inbound_in(
            tx: &mut Tx,
            inbound: &NewInbound,
            now: i64,
        ) -> StoreResult<InboundOutcome> {
            let seen: Option<i64> = sqlx::query_scalar("SELECT id FROM messages WHERE wa_message_id = $1")
                .bind(&inbound.wa_message_id)
                .fetch_optional(&mut **tx)
                .await?;
            if seen.is_some() {
                return Ok(InboundOutcome::Duplicate);
            }
            // The upsert locks the contact's row: concurrent messages of one customer queue
            // here, so they cannot open two conversations. A message written since WhatsApp
            // closed the window opens it again; its time is WhatsApp's, in whole seconds, so
            // "since" allows 5 s for the two clocks (a message older than that arrived late).
            let contact: rows::ContactRow = sqlx::query_as(
                "INSERT INTO contacts AS k (wa_id, profile_name, created_at, last_inbound_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (wa_id) DO UPDATE SET \
                 profile_name = CASE WHEN excluded.profile_name <> '' THEN excluded.profile_name \
                                     ELSE k.profile_name END, \
                 last_inbound_at = CASE WHEN k.last_inbound_at IS NULL \
                                          OR excluded.last_inbound_at > k.last_inbound_at \
                                        THEN excluded.last_inbound_at ELSE k.last_inbound_at END, \
                 window_closed_at = CASE WHEN excluded.last_inbound_at >= k.window_closed_at - $5 \
                                         THEN NULL ELSE k.window_closed_at END \
                 RETURNING id AS contact_id, wa_id, profile_name, last_inbound_at, window_closed_at",
            )
            .bind(&inbound.wa_id)
            .bind(&inbound.profile_name)
            .bind(now)
            .bind(inbound.at)
            .bind(model::WINDOW_REOPEN_SLACK_MS)
            .fetch_one(&mut **tx)
            .await?;
            let contact_id = contact.contact_id;
            let open: Option<(i64, String)> = sqlx::query_as(
                "SELECT id, status FROM conversations WHERE contact_id = $1 AND status <> 'resolved' \
                 ORDER BY id DESC LIMIT 1",
            )
            .bind(contact_id)
            .fetch_optional(&mut **tx)
            .await?;
            let mut events = Vec::new();
            let id = match open {
                Some((id, status)) => {
                    let id = ConversationId(id);
                    lock_conversation(tx, id).await?;
                    if status == ConversationStatus::Pending.as_str() {
                        sqlx::query("UPDATE conversations SET status = 'open' WHERE id = $1")
                            .bind(id.0)
                            .execute(&mut **tx)
                            .await?;
                        let change = Change::StatusChanged { status: ConversationStatus::Open };
                        events.push(append_event(tx, id, None, change, now).await?);
                    }
                    id
                }
                None => {
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO conversations (contact_id, status, last_seq, created_at, updated_at) \
                         VALUES ($1, 'open', 0, $2, $2) RETURNING id",
                    )
                    .bind(contact_id)
                    .bind(now)
                    .fetch_one(&mut **tx)
                    .await?;
                    let id = ConversationId(id);
                    let change = Change::Opened { contact: contact.into() };
                    events.push(append_event(tx, id, None, change, now).await?);
                    id
                }
            };
            let seq = next_seq(tx, id, now).await?;
            let inserted: Result<i64, sqlx::Error> = sqlx::query_scalar(
                "INSERT INTO messages (conversation_id, seq, direction, kind, body, wa_message_id, status, \
                 created_at, sent_at, content, reply_to) \
                 VALUES ($1, $2, 'inbound', $3, $4, $5, 'received', $6, $6, $7, $8) RETURNING id",
            )
            .bind(id.0)
            .bind(rows::seq_param(seq))
            .bind(inbound.kind.as_str())
            .bind(&inbound.body)
            .bind(&inbound.wa_message_id)
            .bind(inbound.at)
            .bind(rows::to_json_column(inbound.content.as_ref())?)
            .bind(&inbound.reply_to)
            .fetch_one(&mut **tx)
            .await;
            let message_id = match inserted {
                Ok(message_id) => message_id,
                // A concurrent delivery of the same message committed first.
                Err(error) if is_unique_violation(&error) => return Ok(InboundOutcome::Duplicate),
                Err(error) => return Err(error.into()),
            };
            // Placed by WhatsApp's timestamp: a redelivery after an outage may bring it late.
            message_added_at(tx, id, inbound.at).await?;
            let message = message_in(tx, message_id).await?;
            events.push(insert_event(tx, id, seq, None, Change::MessageAdded { message }, now).await?);
            Ok(InboundOutcome::Recorded { conversation_id: id, events })
        }

        #[async_trait::async_trait]
        impl ConversationStore for $store {
            async fn record_inbound(&self, inbound: &NewInbound, now: i64) -> StoreResult<InboundOutcome> {
                let mut tx = self.write_transaction().await?;
                let outcome = record_inbound_in(&mut tx, inbound, now).await?;
                if matches!(outcome, InboundOutcome::Recorded { .. }) {
                    tx.commit().await?;
                }
                Ok(outcome)
            }

            async fn conversation(&self, id: ConversationId) -> StoreResult<Option<Conversation>> {
                let row: Option<rows::ConversationRow> =
                    sqlx::query_as(&format!("{} WHERE c.id = $1", rows::CONVERSATION_SELECT))
                        .bind(id.0)
                        .fetch_optional(&self.pool)
                        .await?;
                row.map(Conversation::try_from).transpose()
            }

            async fn conversations(&self, include_resolved: bool, limit: i64) -> StoreResult<Vec<Conversation>> {
                let filter = if include_resolved { "" } else { "WHERE c.status <> 'resolved'" };
                let rows: Vec<rows::ConversationRow> = sqlx::query_as(&format!(
                    "{} {filter} ORDER BY COALESCE(c.last_message_at, c.created_at) DESC, c.id DESC LIMIT $1",
                    rows::CONVERSATION_SELECT
                ))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(Conversation::try_from).collect()
            }

            async fn events_after(
                &self,
                id: ConversationId,
                after: u64,
                limit: i64,
            ) -> StoreResult<Vec<ConversationEvent>> {
                let rows: Vec<rows::EventRow> = sqlx::query_as(
                    "SELECT conversation_id, seq, at, actor_id, change FROM events \
                     WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                )
                .bind(id.0)
                .bind(rows::seq_param(after))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(ConversationEvent::try_from).collect()
            }

            async fn messages(&self, id: ConversationId) -> StoreResult<Vec<Message>> {
                let rows: Vec<rows::MessageRow> = sqlx::query_as(&format!(
                    "SELECT {} FROM messages WHERE conversation_id = $1 ORDER BY sent_at, seq",
                    rows::MESSAGE_COLUMNS
                ))
                .bind(id.0)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(Message::try_from).collect()
            }

            async fn newest_messages(&self, id: ConversationId, up_to_seq: u64, limit: i64) -> StoreResult<Vec<Message>> {
                super::conversation_reads_impl::newest_messages(&self.pool, id, up_to_seq, limit).await
            }

            async fn messages_before(
                &self,
                id: ConversationId,
                before_seq: u64,
                limit: i64,
            ) -> StoreResult<Option<Vec<Message>>> {
                super::conversation_reads_impl::messages_before(&self.pool, id, before_seq, limit).await
            }

            async fn last_messages(&self, ids: &[ConversationId]) -> StoreResult<Vec<Message>> {
                super::conversation_reads_impl::last_messages(&self.pool, ids).await
            }

            async fn notes(&self, id: ConversationId) -> StoreResult<Vec<Note>> {
                let rows: Vec<rows::NoteRow> = sqlx::query_as(&format!(
                    "SELECT {} FROM notes WHERE conversation_id = $1 AND deleted = FALSE ORDER BY id",
                    rows::NOTE_COLUMNS
                ))
                .bind(id.0)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(Note::try_from).collect()
            }

            async fn claim(
                &self,
                id: ConversationId,
                agent: UserId,
                lease_until: i64,
                now: i64,
            ) -> StoreResult<ClaimOutcome> {
                let mut tx = self.write_transaction().await?;
                lock_conversation(&mut tx, id).await?;
                let current = claim_in(&mut tx, id).await?;
                let outcome = match current {
                    Some(claim) if claim.is_live(now) && claim.holder != agent => {
                        ClaimOutcome::ClaimedByOther { claim }
                    }
                    Some(claim) if claim.is_held_by(agent, now) => {
                        let claim = upsert_claim(&mut tx, id, agent, lease_until.max(claim.lease_until), now).await?;
                        ClaimOutcome::Held { claim, event: None }
                    }
                    _ => {
                        let claim = upsert_claim(&mut tx, id, agent, lease_until, now).await?;
                        let event = append_event(&mut tx, id, Some(agent), Change::Claimed { claim: claim.clone() }, now).await?;
                        ClaimOutcome::Held { claim, event: Some(event) }
                    }
                };
                tx.commit().await?;
                Ok(outcome)
            }

            async fn release(
                &self,
                id: ConversationId,
                agent: UserId,
                now: i64,
            ) -> StoreResult<Option<ConversationEvent>> {
                let mut tx = self.write_transaction().await?;
                lock_conversation(&mut tx, id).await?;
                let deleted = sqlx::query("DELETE FROM claims WHERE conversation_id = $1 AND holder_id = $2")
                    .bind(id.0)
                    .bind(agent.0)
                    .execute(&mut *tx)
                    .await?;
                if deleted.rows_affected() == 0 {
                    return Ok(None);
                }
                let change = Change::Released { holder: agent, expired: false };
                let event = append_event(&mut tx, id, Some(agent), change, now).await?;
                tx.commit().await?;
                Ok(Some(event))
            }

            async fn hand_over(
                &self,
                id: ConversationId,
                actor: UserId,
                handover: Handover,
                lease_until: i64,
                now: i64,
            ) -> StoreResult<ConversationEvent> {
                let mut tx = self.write_transaction().await?;
                lock_conversation(&mut tx, id).await?;
                if let Handover::Transfer { assignee, .. } = handover {
                    let current: Option<i64> =
                        sqlx::query_scalar("SELECT assignee_id FROM conversations WHERE id = $1")
                            .bind(id.0)
                            .fetch_one(&mut *tx)
                            .await?;
                    if current != assignee.map(|user| user.0) {
                        return Err(StoreError::Changed);
                    }
                }
                let previous = claim_in(&mut tx, id).await?.filter(|claim| claim.is_live(now));
                let to = match handover {
                    Handover::Transfer { to, .. } => to,
                    Handover::TakeOver => actor,
                };
                let claim = upsert_claim(&mut tx, id, to, lease_until, now).await?;
                let change = match (handover, previous) {
                    (Handover::TakeOver, Some(previous)) => Change::TakenOver { from: previous.holder, claim },
                    (Handover::TakeOver, None) => Change::Claimed { claim },
                    (Handover::Transfer { .. }, previous) => {
                        Change::Transferred { from: previous.map(|claim| claim.holder), claim }
                    }
                };
                let event = append_event(&mut tx, id, Some(actor), change, now).await?;
                tx.commit().await?;
                Ok(event)
            }

            async fn claim_holders(&self, now: i64) -> StoreResult<Vec<UserId>> {
                super::claim_queries_impl::holders(&self.pool, now).await
            }

            async fn renew_claims(&self, agent: UserId, lease_until: i64, now: i64) -> StoreResult<u64> {
                super::claim_queries_impl::renew(&self.pool, agent, lease_until, now).await
            }

            async fn expire_claims(&self, now: i64, idle_before: i64) -> StoreResult<Vec<ConversationEvent>> {
                let mut events = Vec::new();
                for id in super::claim_queries_impl::due(&self.pool, now, idle_before).await? {
                    let mut tx = self.write_transaction().await?;
                    lock_conversation(&mut tx, id).await?;
                    // Renewed, re-taken or used since the scan? Then it stays.
                    if let Some(holder) = super::claim_queries_impl::end_if_due(&mut tx, id, now, idle_before).await? {
                        let change = Change::Released { holder, expired: true };
                        events.push(append_event(&mut tx, id, None, change, now).await?);
                    }
                    tx.commit().await?;
                }
                Ok(events)
            }

            async fn send_reply(&self, reply: &NewReply, now: i64) -> StoreResult<ReplyOutcome> {
                let id = reply.conversation_id;
                let mut tx = self.write_transaction().await?;
                lock_conversation(&mut tx, id).await?;
                let earlier: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM messages WHERE author_id = $1 AND idempotency_key = $2")
                        .bind(reply.author.0)
                        .bind(&reply.idempotency_key)
                        .fetch_optional(&mut *tx)
                        .await?;
                if let Some(earlier) = earlier {
                    return Ok(ReplyOutcome::Duplicate { message: message_in(&mut tx, earlier).await? });
                }
                // The send rule, decided on what this transaction holds locked.
                let claim = claim_in(&mut tx, id).await?;
                let reply_kind = match reply.content {
                    ReplyContent::Template(_) => ReplyKind::Template,
                    _ => ReplyKind::FreeForm,
                };
                // A template may go whatever the window: it is only read when it matters.
                let window = reply_kind == ReplyKind::Template || window_open(&mut tx, id, now).await?;
                if let Err(refusal) = rules::may_send(claim.as_ref(), reply.author, reply_kind, window, now) {
                    return Ok(refusal.into());
                }
                let is_reaction = matches!(reply.content, ReplyContent::Reaction { .. });
                if !reply.force && !is_reaction {
                    let missed: Vec<rows::MessageRow> = sqlx::query_as(&format!(
                        "SELECT {} FROM messages WHERE conversation_id = $1 AND seq > $2 \
                         AND (author_id IS NULL OR author_id <> $3) ORDER BY sent_at, seq",
                        rows::MESSAGE_COLUMNS
                    ))
                    .bind(id.0)
                    .bind(rows::seq_param(reply.seen_seq))
                    .bind(reply.author.0)
                    .fetch_all(&mut *tx)
                    .await?;
                    if !missed.is_empty() {
                        let missed = missed.into_iter().map(Message::try_from).collect::<StoreResult<_>>()?;
                        return Ok(ReplyOutcome::Changed { missed });
                    }
                }
                let seq = next_seq(&mut tx, id, now).await?;
                let (kind, content) = match &reply.content {
                    ReplyContent::Text => (MessageKind::Text, None),
                    ReplyContent::Template(template) => (
                        MessageKind::Template,
                        Some(MessageContent::Template {
                            name: template.name.clone(),
                            language: template.language.clone(),
                            parameters: template.parameters.clone(),
                        }),
                    ),
                    ReplyContent::Media { kind, upload, mime_type, filename } => (
                        MessageKind::parse(kind),
                        Some(MessageContent::Media {
                            media_kind: (*kind).to_owned(),
                            media_id: String::new(),
                            mime_type: Some(mime_type.clone()),
                            filename: filename.clone(),
                            voice: false,
                            upload: Some(upload.clone()),
                        }),
                    ),
                    ReplyContent::Reaction { target } => (
                        MessageKind::Reaction,
                        Some(MessageContent::Reaction {
                            target: target.clone(),
                            emoji: Some(reply.body.clone()).filter(|emoji| !emoji.is_empty()),
                        }),
                    ),
                };
                // Placed now, but never before a message already there: WhatsApp's clock may be
                // ahead of ours, and a reply belongs after what it answers.
                let message_id: i64 = sqlx::query_scalar(
                    "INSERT INTO messages (conversation_id, seq, direction, kind, body, author_id, idempotency_key, \
                     status, created_at, sent_at, content, reply_to) \
                     VALUES ($1, $2, 'outbound', $3, $4, $5, $6, 'pending', $7, \
                     (SELECT CASE WHEN MAX(m.sent_at) > $7 THEN MAX(m.sent_at) ELSE $7 END \
                      FROM messages m WHERE m.conversation_id = $1), $8, $9) RETURNING id",
                )
                .bind(id.0)
                .bind(rows::seq_param(seq))
                .bind(kind.as_str())
                .bind(&reply.body)
                .bind(reply.author.0)
                .bind(&reply.idempotency_key)
                .bind(now)
                .bind(rows::to_json_column(content.as_ref())?)
                .bind(&reply.reply_to)
                .fetch_one(&mut *tx)
                .await?;
                // The draft became the reply: an empty draft stamped now, so a save of older
                // keystrokes that is still on its way cannot bring it back. (A reaction is not the
                // draft: it stays.)
                if !is_reaction {
                    let sent = DraftWrite { conversation: id, user: reply.author, body: String::new(), typed_at: now };
                    upsert_draft(&mut tx, &sent).await?;
                }
                // Queued for WhatsApp in the same transaction: stored means it will be sent.
                sqlx::query("INSERT INTO outbox (message_id, next_attempt_at) VALUES ($1, $2)")
                    .bind(message_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                let message = message_in(&mut tx, message_id).await?;
                message_added_at(&mut tx, id, message.sent_at).await?;
                let change = Change::MessageAdded { message: message.clone() };
                let event = insert_event(&mut tx, id, seq, Some(reply.author), change, now).await?;
                tx.commit().await?;
                Ok(ReplyOutcome::Sent { message, event })
            }

            async fn set_status(
                &self,
                id: ConversationId,
                actor: UserId,
                status: ConversationStatus,
                now: i64,
            ) -> StoreResult<Vec<ConversationEvent>> {
                let mut tx = self.write_transaction().await?;
                lock_conversation(&mut tx, id).await?;
                let changed = sqlx::query("UPDATE conversations SET status = $2 WHERE id = $1 AND status <> $2")
                    .bind(id.0)
                    .bind(status.as_str())
                    .execute(&mut *tx)
                    .await?;
                if changed.rows_affected() == 0 {
                    return Ok(Vec::new());
                }
                let mut events = vec![append_event(&mut tx, id, Some(actor), Change::StatusChanged { status }, now).await?];
                // A resolved conversation has nothing left to reply to: nobody keeps it locked.
                if status == ConversationStatus::Resolved {
                    let holder: Option<i64> =
                        sqlx::query_scalar("DELETE FROM claims WHERE conversation_id = $1 RETURNING holder_id")
                            .bind(id.0)
                            .fetch_optional(&mut *tx)
                            .await?;
                    if let Some(holder) = holder {
                        let change = Change::Released { holder: UserId(holder), expired: false };
                        events.push(append_event(&mut tx, id, Some(actor), change, now).await?);
                    }
                }
                tx.commit().await?;
                Ok(events)
            }

            async fn assign(
                &self,
                id: ConversationId,
                actor: UserId,
                assignee: Option<UserId>,
                note: Option<&str>,
                now: i64,
            ) -> StoreResult<Vec<ConversationEvent>> {
                let mut tx = self.write_transaction().await?;
                lock_conversation(&mut tx, id).await?;
                let current: Option<i64> = sqlx::query_scalar("SELECT assignee_id FROM conversations WHERE id = $1")
                    .bind(id.0)
                    .fetch_one(&mut *tx)
                    .await?;
                if current == assignee.map(|user| user.0) {
                    return Ok(Vec::new());
                }
                sqlx::query("UPDATE conversations SET assignee_id = $2 WHERE id = $1")
                    .bind(id.0)
                    .bind(assignee.map(|user| user.0))
                    .execute(&mut *tx)
                    .await?;
                let mut events = vec![append_event(&mut tx, id, Some(actor), Change::Assigned { assignee }, now).await?];
                // Whoever else held the claim may no longer see the conversation: it is released.
                if let (Some(assignee), Some(claim)) = (assignee, claim_in(&mut tx, id).await?)
                    && claim.holder != assignee
                {
                    sqlx::query("DELETE FROM claims WHERE conversation_id = $1").bind(id.0).execute(&mut *tx).await?;
                    let change = Change::Released { holder: claim.holder, expired: false };
                    events.push(append_event(&mut tx, id, Some(actor), change, now).await?);
                }
                if let Some(body) = note.filter(|body| !body.trim().is_empty()) {
                    let note_id: i64 = sqlx::query_scalar(
                        "INSERT INTO notes (conversation_id, author_id, body, version, created_at, updated_at, deleted) \
                         VALUES ($1, $2, $3, 1, $4, $4, FALSE) RETURNING id",
                    )
                    .bind(id.0)
                    .bind(actor.0)
                    .bind(body)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                    let note = note_in(&mut tx, NoteId(note_id)).await?.ok_or(StoreError::NotFound)?;
                    events.push(append_event(&mut tx, id, Some(actor), Change::NoteAdded { note }, now).await?);
                }
                tx.commit().await?;
                Ok(events)
            }

            async fn assignments(&self) -> StoreResult<Vec<(ConversationId, UserId)>> {
                super::conversation_reads_impl::assignments(&self.pool).await
            }

            async fn last_seqs(&self) -> StoreResult<Vec<(ConversationId, u64)>> {
                super::conversation_reads_impl::last_seqs(&self.pool).await
            }

            async fn add_note(
                &self,
                id: ConversationId,
                author: UserId,
                body: &str,
                now: i64,
            ) -> StoreResult<ConversationEvent> {
                let mut tx = self.write_transaction().await?;
                lock_conversation(&mut tx, id).await?;
                let note_id: i64 = sqlx::query_scalar(
                    "INSERT INTO notes (conversation_id, author_id, body, version, created_at, updated_at, deleted) \
                     VALUES ($1, $2, $3, 1, $4, $4, FALSE) RETURNING id",
                )
                .bind(id.0)
                .bind(author.0)
                .bind(body)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                let note = note_in(&mut tx, NoteId(note_id)).await?.ok_or(StoreError::NotFound)?;
                let event = append_event(&mut tx, id, Some(author), Change::NoteAdded { note }, now).await?;
                tx.commit().await?;
                Ok(event)
            }

            async fn note(&self, id: NoteId) -> StoreResult<Option<Note>> {
                let row: Option<rows::NoteRow> = sqlx::query_as(&format!(
                    "SELECT {} FROM notes WHERE id = $1 AND deleted = FALSE",
                    rows::NOTE_COLUMNS
                ))
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
                row.map(Note::try_from).transpose()
            }

            async fn edit_note(
                &self,
                id: NoteId,
                editor: UserId,
                body: &str,
                base_version: u32,
                now: i64,
            ) -> StoreResult<NoteEditOutcome> {
                let mut tx = self.write_transaction().await?;
                let note = note_in(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
                lock_conversation(&mut tx, note.conversation_id).await?;
                // Read again under the lock: the version compared is the one the update replaces.
                let current = note_in(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
                if current.version != base_version {
                    return Ok(NoteEditOutcome::Conflict { current });
                }
                sqlx::query("UPDATE notes SET body = $2, version = version + 1, updated_at = $3 WHERE id = $1")
                    .bind(id.0)
                    .bind(body)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                let note = note_in(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
                let event = append_event(&mut tx, note.conversation_id, Some(editor), Change::NoteEdited { note }, now).await?;
                tx.commit().await?;
                Ok(NoteEditOutcome::Edited { event })
            }

            async fn delete_note(&self, id: NoteId, actor: UserId, now: i64) -> StoreResult<ConversationEvent> {
                let mut tx = self.write_transaction().await?;
                let note = note_in(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
                lock_conversation(&mut tx, note.conversation_id).await?;
                let deleted = sqlx::query("UPDATE notes SET deleted = TRUE, updated_at = $2 WHERE id = $1 AND deleted = FALSE")
                    .bind(id.0)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                if deleted.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                let change = Change::NoteDeleted { note_id: id };
                let event = append_event(&mut tx, note.conversation_id, Some(actor), change, now).await?;
                tx.commit().await?;
                Ok(event)
            }

            async fn save_drafts(&self, drafts: &[DraftWrite]) -> StoreResult<()> {
                if drafts.is_empty() {
                    return Ok(());
                }
                // One transaction for the batch: one writer at a time, one commit for many drafts.
                let mut tx = self.write_transaction().await?;
                for draft in drafts {
                    upsert_draft(&mut tx, draft).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn draft(&self, id: ConversationId, user: UserId) -> StoreResult<Option<String>> {
                super::conversation_reads_impl::draft(&self.pool, id, user).await
            }
        }
    }
    };
}

pub(crate) use conversation_queries;
