//! What the Graph API answers (contract §6.3, §7.1, §10): a send's success body, `{success: true}`, media
//! metadata and uploads, and the error body.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::MessagingProduct;
use super::classification::{Classification, classify_graph_error};
use crate::lenient::string_or_integer;

/// HTTP 200 to a send: the message was **accepted**, not delivered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendResponse {
    pub messaging_product: MessagingProduct,
    #[serde(default)]
    pub contacts: Vec<SentContact>,
    #[serde(default)]
    pub messages: Vec<SentMessage>,
}

impl SendResponse {
    /// The answer for one accepted message (what the simulator returns).
    pub fn new(input: impl Into<String>, wa_id: impl Into<String>, message_id: impl Into<String>) -> Self {
        Self {
            messaging_product: MessagingProduct::WhatsApp,
            contacts: vec![SentContact { input: input.into(), wa_id: wa_id.into() }],
            messages: vec![SentMessage { id: message_id.into(), message_status: None, group_id: None }],
        }
    }

    /// The wamid of the sent message: the key its status webhooks will carry.
    pub fn message_id(&self) -> Option<&str> {
        self.messages.first().map(|message| message.id.as_str())
    }
}

/// `contacts[]` of a send response: the `to` as given, and the `wa_id` it resolved to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentContact {
    pub input: String,
    pub wa_id: String,
}

/// `messages[]` of a send response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentMessage {
    /// The wamid.
    pub id: String,
    /// Templates under pacing only: `accepted`, `held_for_quality_assessment` or `paused`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_status: Option<String>,
    /// Group sends only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
}

/// `{"success": true}`: the answer to mark-as-read, the typing indicator and media deletion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuccessResponse {
    pub success: bool,
}

/// `GET /{media_id}`: where to download the media. The `url` needs the same Bearer header and is valid
/// for 5 minutes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_product: Option<String>,
    pub url: String,
    pub mime_type: String,
    /// Hex or base64: Meta's examples disagree (contract §16.9), so it stays an opaque string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Bytes. Meta's OpenAPI example writes a string, pywa's an integer: both are read, a string is written.
    #[serde(deserialize_with = "size_from_text_or_number", serialize_with = "size_as_text")]
    pub file_size: u64,
    pub id: String,
}

fn size_from_text_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    let text = string_or_integer(deserializer)?;
    text.parse().map_err(|_| serde::de::Error::custom(format!("file_size {text:?} is not a byte count")))
}

fn size_as_text<S: Serializer>(size: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(size)
}

/// `POST /{phone_number_id}/media`: the new media id (valid 30 days).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaUploaded {
    pub id: String,
}

/// The body of any Graph API error: `{"error": {…}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    pub error: GraphError,
}

impl ErrorResponse {
    /// An error as Meta writes it: `message` is `(#code) title`, `type` is `OAuthException` (also on
    /// 131047/131056 samples), and `error_data` carries the details.
    pub fn new(code: i64, title: &str, details: impl Into<String>) -> Self {
        Self {
            error: GraphError {
                message: format!("(#{code}) {title}"),
                kind: Some("OAuthException".to_owned()),
                code,
                error_data: Some(GraphErrorData {
                    messaging_product: Some("whatsapp".to_owned()),
                    details: Some(details.into()),
                }),
                error_subcode: None,
                fbtrace_id: None,
                is_transient: None,
                error_user_title: None,
                error_user_msg: None,
                href: None,
            },
        }
    }
}

/// The `error` object. Branch on `code` and `error_data.details`, never on the title (Meta's advice).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphError {
    #[serde(default)]
    pub message: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub code: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_data: Option<GraphErrorData>,
    /// Officially deprecated since v16.0, yet in Meta's own example. Informational only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_subcode: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fbtrace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_transient: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_user_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_user_msg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
}

impl GraphError {
    /// `error_data.details`.
    pub fn details(&self) -> Option<&str> {
        self.error_data.as_ref().and_then(|data| data.details.as_deref())
    }

    /// What to do about this error, answered with `http_status`. Like [`super::classify`], but an unknown
    /// code that Meta flags `is_transient` is retried.
    pub fn classify(&self, http_status: u16) -> Classification {
        classify_graph_error(Some(http_status), self.code, self.is_transient == Some(true))
    }
}

/// `error.error_data`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphErrorData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_product: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}
