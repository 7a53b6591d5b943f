//! An inbound message as it appears in `value.messages[]` (contract §3): the common fields, plus one object
//! named after its `type`. Every type object is read tolerantly: one of an unexpected shape reads as `None`
//! and the message then surfaces as unsupported, raw JSON included, instead of failing.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ErrorDetail;
use crate::lenient::{is_false, string_or_integer, tolerant};

/// One inbound message. Fields are declared in the order Meta writes them, so a payload built from these
/// types looks like the fixtures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    #[serde(default, deserialize_with = "tolerant", skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// The sender's `wa_id` (phone digits; some Meta examples write a leading `+`).
    pub from: String,
    /// Business-scoped user id of the sender (2026, contract §12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_user_id: Option<String>,
    /// The wamid: an opaque key, the deduplication key for inbound messages.
    pub id: String,
    /// Unix seconds, as a string.
    #[serde(deserialize_with = "string_or_integer")]
    pub timestamp: String,
    /// The message type; names the object that carries the content. Kept as text: new types keep coming.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, deserialize_with = "tolerant", skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
    #[serde(default, deserialize_with = "tolerant", skip_serializing_if = "Option::is_none")]
    pub image: Option<MediaObject>,
    #[serde(default, deserialize_with = "tolerant", skip_serializing_if = "Option::is_none")]
    pub video: Option<MediaObject>,
    #[serde(default, deserialize_with = "tolerant", skip_serializing_if = "Option::is_none")]
    pub audio: Option<MediaObject>,
    #[serde(default, deserialize_with = "tolerant", skip_serializing_if = "Option::is_none")]
    pub document: Option<MediaObject>,
    #[serde(default, deserialize_with = "tolerant", skip_serializing_if = "Option::is_none")]
    pub sticker: Option<MediaObject>,
    #[serde(default, deserialize_with = "tolerant", skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Shared contact cards (not the sender).
    #[serde(default, deserialize_with = "tolerant", skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Vec<ContactCard>>,
    #[serde(default, deserialize_with = "tolerant", skip_serializing_if = "Option::is_none")]
    pub interactive: Option<Interactive>,
    #[serde(default, deserialize_with = "tolerant", skip_serializing_if = "Option::is_none")]
    pub button: Option<Button>,
    #[serde(default, deserialize_with = "tolerant", skip_serializing_if = "Option::is_none")]
    pub reaction: Option<Reaction>,
    #[serde(default, deserialize_with = "tolerant", skip_serializing_if = "Option::is_none")]
    pub order: Option<Order>,
    #[serde(default, deserialize_with = "tolerant", skip_serializing_if = "Option::is_none")]
    pub system: Option<System>,
    /// On `unsupported` messages: what WhatsApp could not pass on (`poll_creation`, `edit`…).
    #[serde(default, deserialize_with = "tolerant", skip_serializing_if = "Option::is_none")]
    pub unsupported: Option<UnsupportedObject>,
    #[serde(default, deserialize_with = "tolerant", skip_serializing_if = "Option::is_none")]
    pub referral: Option<Referral>,
    /// Only on `unsupported`/`unknown` messages (e.g. 131051 "Message type unknown").
    #[serde(default, deserialize_with = "tolerant", skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<ErrorDetail>>,
}

/// `context`: what the message replies to, or how it was forwarded.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    /// For a quote reply or a button tap: usually the business's display number (a user quoting their own
    /// message probably has their own number here; unconfirmed, contract §16.6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The wamid of the message quoted, or of the message that held the tapped button (`context.id`).
    #[serde(rename = "id", default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Forwarded five times or fewer.
    #[serde(default, skip_serializing_if = "is_false")]
    pub forwarded: bool,
    /// Forwarded more than five times.
    #[serde(default, skip_serializing_if = "is_false")]
    pub frequently_forwarded: bool,
    /// Set when the user tapped "Message business" on a product.
    #[serde(default, deserialize_with = "tolerant", skip_serializing_if = "Option::is_none")]
    pub referred_product: Option<ReferredProduct>,
}

/// `context.referred_product`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferredProduct {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_retailer_id: Option<String>,
}

/// `referral`: the message came through a Click-to-WhatsApp ad or post.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    /// `ad` or `post`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headline: Option<String>,
    /// `image` or `video`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
    /// Absent for Status-ad placements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ctwa_clid: Option<String>,
    #[serde(default, deserialize_with = "tolerant", skip_serializing_if = "Option::is_none")]
    pub welcome_message: Option<WelcomeMessage>,
}

/// `referral.welcome_message`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WelcomeMessage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// `text`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    pub body: String,
}

/// `image`, `video`, `audio`, `document` or `sticker`. Only `id` is required: without it the media cannot
/// be fetched, and the message is better shown as unsupported with its raw JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaObject {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Base64 in Meta's examples; opaque.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The media id; webhook media ids expire after 7 days.
    pub id: String,
    /// Download URL, rolling out since Nov 2025 (fetch it with the Bearer token); always optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Audio only: a recorded voice note.
    #[serde(default, skip_serializing_if = "is_false")]
    pub voice: bool,
    /// Sticker only.
    #[serde(default, skip_serializing_if = "is_false")]
    pub animated: bool,
}

/// `location`: coordinates are JSON numbers; name and address are absent for a shared current location.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// One shared contact card. Any part may be missing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactCard {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<ContactName>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<ContactPhone>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<ContactEmail>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<ContactAddress>,
    #[serde(rename = "org", default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<ContactOrganization>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<ContactUrl>,
    /// `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birthday: Option<String>,
}

/// `contacts[].name`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactName {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
}

/// `contacts[].phones[]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactPhone {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wa_id: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// `contacts[].emails[]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactEmail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// `contacts[].addresses[]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactAddress {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// `contacts[].org`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactOrganization {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// `contacts[].urls[]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactUrl {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// `interactive`: the user's answer to an interactive message. `type` names which reply object is set;
/// subtypes other than `button_reply` and `list_reply` (Flows' `nfm_reply`…) read as unsupported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interactive {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, deserialize_with = "tolerant", skip_serializing_if = "Option::is_none")]
    pub button_reply: Option<InteractiveReply>,
    #[serde(default, deserialize_with = "tolerant", skip_serializing_if = "Option::is_none")]
    pub list_reply: Option<InteractiveReply>,
}

/// `interactive.button_reply` or `interactive.list_reply`: the id and title the business gave the option.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractiveReply {
    pub id: String,
    pub title: String,
    /// List rows only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `button`: a tap on a template's quick-reply button.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    pub text: String,
}

/// `reaction`. `emoji` is left out (or, per pywa, empty) when the user removes their reaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    /// The wamid reacted to.
    pub message_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emoji: Option<String>,
}

/// `order`: a cart sent from a catalog.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Order {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub product_items: Vec<ProductItem>,
}

/// `order.product_items[]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProductItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_retailer_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_price: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// `system`: e.g. the user changed their number (`user_changed_number`, new number in `wa_id`) or their
/// business-scoped id (`user_changed_user_id`). System messages come without `contacts`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct System {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wa_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_parent_user_id: Option<String>,
    /// Older `customer_identity_changed` variant: `{acknowledged, created_timestamp, hash}`, kept as is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Value>,
}

/// `unsupported`: what WhatsApp did not pass on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnsupportedObject {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_unexpected_type_object_reads_as_absent_and_keeps_the_message() {
        let message: Message = serde_json::from_value(json!({
            "from": "15550002222", "id": "wamid.X", "timestamp": 1767258000, "type": "image",
            "image": {"caption": "no id here"}, "brand_new_field": {"x": 1}
        }))
        .expect("the common fields are there");
        assert_eq!(message.kind, "image");
        assert_eq!(message.timestamp, "1767258000");
        assert_eq!(message.image, None);
    }
}
