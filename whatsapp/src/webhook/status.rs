//! Delivery statuses of messages Baton sent (`value.statuses[]`, contract §4), and the rule for applying them
//! in whatever order they arrive ([`DeliveryStatus::merge`]).

use serde::{Deserialize, Serialize};

use super::ErrorDetail;
use crate::lenient::{optional_string_or_integer, string_or_integer, tolerant};

/// One status webhook element. A status value this crate does not know fails to parse and surfaces as
/// [`super::Item::Unrecognized`], raw JSON included.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// The wamid returned by the send call.
    pub id: String,
    pub status: DeliveryStatus,
    /// Unix seconds, as a string.
    #[serde(deserialize_with = "string_or_integer")]
    pub timestamp: String,
    /// The user's phone digits (or a group id). Optional: users with a username only may lack one (§12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_user_id: Option<String>,
    /// `group` for group sends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_participant_id: Option<String>,
    /// Echoed from the send request, if it set one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biz_opaque_callback_data: Option<String>,
    /// Omitted entirely from v24.0 on (outside free-entry-point windows).
    #[serde(default, deserialize_with = "tolerant", skip_serializing_if = "Option::is_none")]
    pub conversation: Option<Conversation>,
    /// Only on `sent` plus one of `delivered`/`read`.
    #[serde(default, deserialize_with = "tolerant", skip_serializing_if = "Option::is_none")]
    pub pricing: Option<Pricing>,
    /// On `failed`: why (e.g. 131047, the 24-hour window is closed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorDetail>,
}

/// `statuses[].conversation` (v23.0 and below).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Only on `sent`.
    #[serde(default, deserialize_with = "optional_string_or_integer", skip_serializing_if = "Option::is_none")]
    pub expiration_timestamp: Option<String>,
    #[serde(default, deserialize_with = "tolerant", skip_serializing_if = "Option::is_none")]
    pub origin: Option<ConversationOrigin>,
}

/// `conversation.origin`. Its type is a free string (`service`, `authentication_international`…).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationOrigin {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// `statuses[].pricing`. All free strings: Meta spells the same category differently in different places.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pricing {
    /// Slated for deprecation; use `kind` and `category`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billable: Option<bool>,
    /// `PMP` since 1 Jul 2025; `CBP` on older webhooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing_model: Option<String>,
    /// `regular`, `free_customer_service` or `free_entry_point`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

/// Where an outbound message stands.
///
/// The variants are deliberately not `Ord`: the progression is sent < delivered < read < played, but
/// `failed` does not sit at one end of it. Use [`DeliveryStatus::merge`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Sent,
    Delivered,
    Read,
    /// A voice message was played for the first time: it was therefore also delivered and read.
    Played,
    Failed,
}

impl DeliveryStatus {
    /// The strength of the evidence a status carries about the message. Statuses only ever move to a
    /// higher rank, which makes applying them commutative: the result does not depend on arrival order
    /// (Meta does not guarantee it, and sends only `read` when delivery and reading coincide).
    ///
    /// - sent (1) < delivered (3) < read (4) < played (5): each implies the ones before it.
    /// - failed (2) is terminal against `sent`: a late `sent` never revives a failed message.
    /// - but a `delivered`/`read`/`played` outranks `failed`: the contract says failed is terminal "unless a
    ///   later delivered/read shows otherwise", and proof that the customer got the message wins over a
    ///   failure report, whichever arrives first.
    pub fn rank(self) -> u8 {
        match self {
            DeliveryStatus::Sent => 1,
            DeliveryStatus::Failed => 2,
            DeliveryStatus::Delivered => 3,
            DeliveryStatus::Read => 4,
            DeliveryStatus::Played => 5,
        }
    }

    /// The status to keep when `incoming` arrives for a message whose stored status is `current` (`None`
    /// when none arrived yet, e.g. right after the send call returned).
    pub fn merge(current: Option<DeliveryStatus>, incoming: DeliveryStatus) -> DeliveryStatus {
        match current {
            Some(current) if current.rank() >= incoming.rank() => current,
            _ => incoming,
        }
    }

    /// Whether storing `incoming` over `self` changes anything; `false` means the webhook is stale or a
    /// duplicate and can be acknowledged without an update.
    pub fn is_superseded_by(self, incoming: DeliveryStatus) -> bool {
        incoming.rank() > self.rank()
    }

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Read => "read",
            DeliveryStatus::Played => "played",
            DeliveryStatus::Failed => "failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DeliveryStatus::{self, Delivered, Failed, Played, Read, Sent};

    const ALL: [DeliveryStatus; 5] = [Sent, Delivered, Read, Played, Failed];

    #[test]
    fn progresses_and_never_goes_back() {
        assert_eq!(DeliveryStatus::merge(None, Sent), Sent);
        assert_eq!(DeliveryStatus::merge(Some(Sent), Delivered), Delivered);
        assert_eq!(DeliveryStatus::merge(Some(Delivered), Read), Read);
        assert_eq!(DeliveryStatus::merge(Some(Read), Delivered), Read);
        assert_eq!(DeliveryStatus::merge(Some(Read), Sent), Read);
        assert_eq!(DeliveryStatus::merge(Some(Sent), Read), Read, "read alone when delivered and read coincide");
        assert_eq!(DeliveryStatus::merge(Some(Read), Played), Played);
        assert_eq!(DeliveryStatus::merge(Some(Played), Read), Played);
    }

    #[test]
    fn failed_is_terminal_unless_delivery_is_proven() {
        assert_eq!(DeliveryStatus::merge(None, Failed), Failed);
        assert_eq!(DeliveryStatus::merge(Some(Sent), Failed), Failed);
        assert_eq!(DeliveryStatus::merge(Some(Failed), Sent), Failed);
        assert_eq!(DeliveryStatus::merge(Some(Failed), Delivered), Delivered);
        assert_eq!(DeliveryStatus::merge(Some(Failed), Read), Read);
        assert_eq!(DeliveryStatus::merge(Some(Delivered), Failed), Delivered);
    }

    #[test]
    fn arrival_order_does_not_matter() {
        for first in ALL {
            for second in ALL {
                let one_way = DeliveryStatus::merge(Some(DeliveryStatus::merge(None, first)), second);
                let other_way = DeliveryStatus::merge(Some(DeliveryStatus::merge(None, second)), first);
                assert_eq!(one_way, other_way, "{first:?} then {second:?}");
                assert_eq!(first.is_superseded_by(second), DeliveryStatus::merge(Some(first), second) != first);
            }
        }
    }

    #[test]
    fn wire_spelling_matches_serde() {
        for status in ALL {
            let json = serde_json::to_string(&status).expect("serializes");
            assert_eq!(json, format!("\"{}\"", status.as_str()));
        }
    }
}
