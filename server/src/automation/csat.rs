//! The rating request: when a conversation is resolved (by anyone, auto-resolve included), Baton
//! asks the customer how it went — reply buttons for three levels, a list for five — if CSAT is on
//! and WhatsApp's window is open. The request is kept with the resolution it rates (when, and who
//! held the conversation); the customer's tap is recorded in that conversation as it arrives,
//! attributed to that resolution even if the conversation was reopened or reassigned since.

use baton_shared::automation::Automated;
use baton_shared::csat::{CsatSettings, Scale};
use baton_shared::model::MessageContent;
use baton_shared::{ConversationId, UserId};

use super::settings;
use crate::conversations::{Refusal, publish};
use crate::state::AppState;
use crate::store::automation::{AutomatedOutcome, AutomatedReply};

/// Sends the rating request for the resolution at `resolved_at`, held by `assignee`.
pub async fn request(
    state: &AppState,
    id: ConversationId,
    resolved_at: i64,
    assignee: Option<UserId>,
) -> Result<(), Refusal> {
    let csat: CsatSettings = settings::load(state.store.as_ref(), settings::CSAT).await?.value;
    if !csat.enabled || csat.problem().is_some() {
        return Ok(());
    }
    let request = AutomatedReply {
        conversation: id,
        automated: Automated::Csat,
        body: csat.question.clone(),
        idempotency_key: format!("csat:{id}:{resolved_at}"),
        hourly_cap: super::replies::hourly_cap(state).await?,
        not_within: None,
        not_since: None,
        content: Some(MessageContent::Interactive {
            list_button: (csat.scale == Scale::Five).then(|| csat.list_button.clone()),
            choices: csat.choices(),
        }),
    };
    let outcome = state.store.send_csat_request(&request, csat.scale, resolved_at, assignee, state.now()).await?;
    match outcome {
        AutomatedOutcome::Sent { event } => {
            publish(state, std::slice::from_ref(&event));
            state.whatsapp.sender.wake();
        }
        skipped => tracing::debug!(conversation = %id, ?skipped, "no rating request"),
    }
    Ok(())
}
