//! Webhooks from Meta (contract §1–§5): the POST envelope as lenient serde types, its reading as a flat list
//! of [`Item`]s ([`Payload::into_items`]), the monotonic order of delivery statuses ([`DeliveryStatus`]), and
//! the GET verification handshake ([`subscription`]).
//!
//! Reading a webhook is two steps, after [`crate::signature::verify`] has passed on the raw bytes:
//!
//! ```
//! use baton_whatsapp::{fixtures, webhook};
//!
//! let payload = webhook::parse(fixtures::TEXT)?;
//! for item in payload.into_items() {
//!     if let webhook::Item::Message(message) = item {
//!         assert_eq!(message.profile_name.as_deref(), Some("Alice Example"));
//!     }
//! }
//! # Ok::<(), webhook::ParseError>(())
//! ```
//!
//! [`parse`] only fails when the body is not JSON or not a WhatsApp payload at all. Below the envelope
//! every element is [`Lenient`]: an element of a shape this crate does not know is kept as raw JSON and
//! surfaces as [`MessageKind::Unsupported`] or [`Item::Unrecognized`], never as an error for the batch.

mod items;
mod message;
mod status;
pub mod subscription;

use serde::{Deserialize, Serialize};

use crate::Lenient;
use crate::lenient::tolerant;

pub use items::{
    Ignored, InboundMessage, Item, MediaAttachment, MediaKind, MessageKind, Origin, StatusUpdate, Unrecognized,
    Unsupported, UnsupportedReason, ValueError,
};
pub use message::{
    Button, ContactAddress, ContactCard, ContactEmail, ContactName, ContactOrganization, ContactPhone, ContactUrl,
    Context, Interactive, InteractiveReply, Location, MediaObject, Message, Order, ProductItem, Reaction, Referral,
    ReferredProduct, System, Text, UnsupportedObject, WelcomeMessage,
};
pub use status::{Conversation, ConversationOrigin, DeliveryStatus, Pricing, Status};

/// `object` is always this for WhatsApp (contract §2.3).
pub const OBJECT: &str = "whatsapp_business_account";

/// The only `field` an inbox handles; other fields are acknowledged and ignored (contract §2.3).
pub const MESSAGES_FIELD: &str = "messages";

/// The whole POST body: `{object, entry[]}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Payload {
    pub object: String,
    #[serde(default)]
    pub entry: Vec<Entry>,
}

/// One WhatsApp Business Account's part of a delivery.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The WABA id. Meta always sends it; an absent one reads as empty rather than failing the batch.
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub changes: Vec<Change>,
}

/// One change: a `field` name and its `value`. Declared in the order Meta writes them (value, then field).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Lenient because other fields (`account_update`, `message_template_status_update`…) carry values of
    /// entirely different shapes under the same key.
    pub value: Lenient<ChangeValue>,
    pub field: String,
}

/// The `value` of a `messages` change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChangeValue {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_product: Option<String>,
    #[serde(default, deserialize_with = "tolerant", skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// The senders of `messages` (inbound only; status changes usually have none, system messages never).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Lenient<Contact>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<Lenient<Message>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<Lenient<Status>>,
    /// System-, app- or account-level errors (contract §5).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Lenient<ErrorDetail>>,
}

/// Which business number a change is about. Route on `phone_number_id`: one WABA can have several numbers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_phone_number: Option<String>,
    pub phone_number_id: String,
}

/// The sender of inbound messages in the same change, joined to them on `wa_id` (never on position).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    #[serde(default, deserialize_with = "tolerant", skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    /// Usually the phone digits. May be absent in future for users with a username only (contract §12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wa_id: Option<String>,
    /// Business-scoped user id (BSUID, 2026), e.g. `US.13491208655302741918`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_key_hash: Option<String>,
}

/// A contact's WhatsApp profile.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// An error object as webhooks carry it: in `value.errors`, in a failed status, in an unsupported message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, deserialize_with = "tolerant", skip_serializing_if = "Option::is_none")]
    pub error_data: Option<ErrorData>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
}

impl ErrorDetail {
    /// `error_data.details`: what Meta says to branch on, together with the code.
    pub fn details(&self) -> Option<&str> {
        self.error_data.as_ref().and_then(|data| data.details.as_deref())
    }
}

/// `error_data` of a webhook error.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

/// Why a webhook body cannot be read at all. (Anything less is kept and reported per item.)
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("the webhook body is not a JSON object of the expected envelope: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the webhook is for `{0}`, not `{OBJECT}`")]
    UnexpectedObject(String),
}

/// Reads a verified webhook body. Fails only on invalid JSON, a body that is not an `{object, entry}`
/// envelope, or an `object` other than [`OBJECT`].
pub fn parse(body: &[u8]) -> Result<Payload, ParseError> {
    let payload: Payload = serde_json::from_slice(body)?;
    if payload.object != OBJECT {
        return Err(ParseError::UnexpectedObject(payload.object));
    }
    Ok(payload)
}
