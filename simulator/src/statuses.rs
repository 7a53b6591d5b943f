//! Status webhooks for the messages Baton sent (contract §4): building each status element (pricing on
//! `sent` and `delivered`, `conversation` up to v23.0, errors on `failed`), the automatic `sent` →
//! `delivered` → `read` (→ `played` for audio, when asked) progression after an accepted send, and scripted
//! statuses in any order — one per webhook, or batched ([`crate::status_batch`]).

use std::sync::Arc;
use std::time::Duration;

use baton_whatsapp::webhook::{Conversation, ConversationOrigin, DeliveryStatus, ErrorDetail, Pricing, Status};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::customers::{OutboundRecord, WINDOW};
use crate::errors;
use crate::ids;
use crate::journal::DeliveryKind;
use crate::state::Shared;
use crate::status_batch;
use crate::webhook::{self, DeliveryOutcome};

/// In which order scripted statuses go out (Meta does not guarantee any, contract §2.5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusOrder {
    #[default]
    AsGiven,
    Reversed,
    Shuffled,
}

/// What follows an accepted send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FollowUp {
    /// The configured progression (possibly nothing).
    Progress,
    /// A `failed` status with this code, after one step delay.
    Fail(i64),
}

/// Starts the follow-up of an accepted send in the background.
pub(crate) fn schedule(shared: &Arc<Shared>, message_id: String, follow_up: FollowUp) {
    let progression = shared.settings().statuses;
    if follow_up == FollowUp::Progress && !progression.automatic {
        return;
    }
    let audio = shared.customers.outbound(&message_id).is_some_and(|record| record.audio);
    let background = Arc::clone(shared);
    shared.spawn(async move {
        match follow_up {
            FollowUp::Fail(code) => {
                tokio::time::sleep(progression.step_delay).await;
                report(&background, &message_id, DeliveryStatus::Failed, Some(code)).await;
            }
            FollowUp::Progress => {
                for status in progression.steps(audio) {
                    tokio::time::sleep(progression.step_delay).await;
                    // A test may have failed the message meanwhile: failed is terminal, stop there.
                    if background.customers.status_of(&message_id) == Some(DeliveryStatus::Failed) {
                        return;
                    }
                    report(&background, &message_id, *status, None).await;
                }
            }
        }
    });
}

/// One step of a follow-up. With batching on it only joins the pending batch and does not wait for the
/// webhook, so the steps keep their pace and the steps of one message can share a webhook.
async fn report(shared: &Arc<Shared>, message_id: &str, status: DeliveryStatus, code: Option<i64>) {
    // Read the setting into a local first: a guard in the `match` scrutinee would live across the await.
    let batch_window = shared.settings().status_batching.window();
    let result = match batch_window {
        Some(window) => queue_statuses(shared, message_id, &[status], code, window).map(drop),
        None => send_statuses(shared, message_id, &[status], code, StatusOrder::AsGiven).await.map(drop),
    };
    if let Err(error) = result {
        tracing::warn!(%error, message_id, "could not send a status webhook");
    }
}

/// Sends statuses for a message the simulator accepted, in the requested order: one webhook per status,
/// each after the previous one was answered, or with status batching on, all of them in the pending batch
/// (one webhook, possibly shared with other messages' statuses). `failed` statuses carry `failure_code`
/// (131047 by default); `played` is refused for anything but audio, as only voice messages can be played.
/// Returns how each webhook that carried them was answered.
pub(crate) async fn send_statuses(
    shared: &Arc<Shared>,
    message_id: &str,
    statuses: &[DeliveryStatus],
    failure_code: Option<i64>,
    order: StatusOrder,
) -> anyhow::Result<Vec<DeliveryOutcome>> {
    let mut statuses = statuses.to_vec();
    match order {
        StatusOrder::AsGiven => {}
        StatusOrder::Reversed => statuses.reverse(),
        StatusOrder::Shuffled => shuffle(&mut statuses),
    }
    let batch_window = shared.settings().status_batching.window();
    if let Some(window) = batch_window {
        let outcome = queue_statuses(shared, message_id, &statuses, failure_code, window)?;
        return outcome.await.map_err(|_| anyhow::anyhow!("the simulator stopped before the statuses went out"));
    }
    let record = outbound_record(shared, message_id, &statuses)?;
    let mut outcomes = Vec::with_capacity(statuses.len());
    for status in statuses {
        let element = apply(shared, message_id, &record, status, failure_code);
        let format = shared.config.webhook.format;
        let body = crate::envelope::statuses(&shared.config, format, std::slice::from_ref(&element))?;
        outcomes.push(webhook::deliver(shared, DeliveryKind::Statuses, body, None).await);
    }
    Ok(outcomes)
}

/// Puts statuses (in this order) into the pending batch; the receiver hears how its webhook went.
fn queue_statuses(
    shared: &Arc<Shared>,
    message_id: &str,
    statuses: &[DeliveryStatus],
    failure_code: Option<i64>,
    window: Duration,
) -> anyhow::Result<oneshot::Receiver<Vec<DeliveryOutcome>>> {
    let record = outbound_record(shared, message_id, statuses)?;
    let elements = statuses.iter().map(|status| apply(shared, message_id, &record, *status, failure_code)).collect();
    Ok(status_batch::enqueue(shared, elements, window))
}

/// What the statuses of `message_id` need, once it is clear they may be sent.
fn outbound_record(shared: &Shared, message_id: &str, statuses: &[DeliveryStatus]) -> anyhow::Result<OutboundRecord> {
    let Some(record) = shared.customers.outbound(message_id) else {
        anyhow::bail!("the simulator never accepted a message {message_id}");
    };
    if statuses.contains(&DeliveryStatus::Played) && !record.audio {
        anyhow::bail!("`played` is only sent for audio messages (contract §4), and {message_id} is not one");
    }
    Ok(record)
}

/// The `statuses[]` element for one status; the status also shows on the customer's phone from now on.
fn apply(
    shared: &Shared,
    message_id: &str,
    record: &OutboundRecord,
    status: DeliveryStatus,
    failure_code: Option<i64>,
) -> Status {
    let errors = match status {
        DeliveryStatus::Failed => vec![errors::webhook_error(failure_code.unwrap_or(131047))],
        _ => Vec::new(),
    };
    let failure = errors.first().map(describe_failure);
    let element = status_element(shared, message_id, record, status, errors);
    shared.customers.apply_status(message_id, status, failure);
    element
}

fn describe_failure(error: &ErrorDetail) -> String {
    format!("{} ({})", error.title.as_deref().unwrap_or("failed"), error.code)
}

/// One `statuses[]` element as Meta writes it for this status.
fn status_element(
    shared: &Shared,
    message_id: &str,
    record: &OutboundRecord,
    status: DeliveryStatus,
    errors: Vec<ErrorDetail>,
) -> Status {
    let now = shared.clock.unix_seconds();
    // Pricing (and, up to v23.0, the conversation) ride on `sent` plus one of delivered/read (§4).
    let billed = matches!(status, DeliveryStatus::Sent | DeliveryStatus::Delivered);
    let pricing = billed.then(|| Pricing {
        billable: Some(record.pricing_type != "free_customer_service"),
        pricing_model: Some("PMP".to_owned()),
        kind: Some(record.pricing_type.clone()),
        category: Some(record.pricing_category.clone()),
    });
    let conversation = (billed && carries_conversation(&shared.config.api_version)).then(|| Conversation {
        id: Some(record.conversation_id.clone()),
        expiration_timestamp: (status == DeliveryStatus::Sent).then(|| (now + WINDOW.as_secs()).to_string()),
        origin: Some(ConversationOrigin { kind: Some(record.pricing_category.clone()) }),
    });
    Status {
        id: message_id.to_owned(),
        status,
        timestamp: now.to_string(),
        recipient_id: Some(record.wa_id.clone()),
        recipient_user_id: None,
        recipient_type: None,
        recipient_participant_id: None,
        biz_opaque_callback_data: record.biz_opaque_callback_data.clone(),
        conversation,
        pricing,
        errors,
    }
}

/// `conversation` is gone from status webhooks from v24.0 on (contract §4).
fn carries_conversation(api_version: &str) -> bool {
    let major = api_version.trim_start_matches('v').split('.').next().and_then(|major| major.parse::<u32>().ok());
    major.is_none_or(|major| major <= 23)
}

/// Fisher–Yates with the simulator's randomness.
fn shuffle<T>(items: &mut [T]) {
    for last in (1..items.len()).rev() {
        let random = ids::random_bytes();
        let pick = usize::from(u16::from_le_bytes([random[0], random[1]])) % (last + 1);
        items.swap(last, pick);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversation_only_up_to_v23() {
        assert!(carries_conversation("v23.0"));
        assert!(carries_conversation("v17.0"));
        assert!(!carries_conversation("v24.0"));
        assert!(!carries_conversation("v26.0"));
    }

    #[test]
    fn shuffling_keeps_every_status() {
        let mut statuses = vec![DeliveryStatus::Sent, DeliveryStatus::Delivered, DeliveryStatus::Read];
        shuffle(&mut statuses);
        statuses.sort_by_key(|status| status.rank());
        assert_eq!(statuses, vec![DeliveryStatus::Sent, DeliveryStatus::Delivered, DeliveryStatus::Read]);
    }
}
