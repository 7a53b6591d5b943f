//! The outbound side (contract §6, §7, §10): request bodies for `POST /{version}/{phone_number_id}/messages`
//! ([`SendMessage`], [`MarkRead`]), the answers ([`SendResponse`], [`SuccessResponse`], [`MediaInfo`],
//! [`ErrorResponse`]), and what Baton does about each error code ([`classify`]).
//!
//! Baton's sender serializes the request types; the simulator reads them back with [`parse_request`] and
//! answers with the response types. Building URLs is left to the caller's HTTP client; [`messages_path`]
//! and [`media_path`] only spell the paths, because both the base URL and the version must be configurable
//! (the simulator replaces the base).
//!
//! A 200 from the send call means *accepted*, not delivered: delivery arrives later as status webhooks, and
//! errors can arrive on either path (or both), so [`classify`] serves both.

mod classification;
mod request;
mod response;

pub use classification::{Behaviour, Classification, classify, pair_rate_limit_delay, suggested_http_status};
pub use request::{
    ButtonAction, ButtonSubType, Component, ComponentKind, Content, Currency, DateTime, Interactive, InteractiveHeader,
    InteractiveText, InvalidRequest, Language, LanguagePolicy, ListAction, ListRow, ListSection, MarkRead, Media,
    MediaSource, MessagesRequest, MessagingProduct, Parameter, Reaction, ReadStatus, RecipientType, ReplyButton,
    ReplyOption, ReplyTo, SendMessage, Template, Text, TypingIndicator, TypingIndicatorKind, parse_request,
};
pub use response::{
    ErrorResponse, GraphError, GraphErrorData, MediaInfo, MediaUploaded, SendResponse, SentContact, SentMessage,
    SuccessResponse,
};

/// Meta's Graph API host. The simulator substitutes its own address.
pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com";

/// The version of Meta's OpenAPI spec the contract was written against. Status webhooks differ by version
/// (`conversation` is gone from v24.0), so keep it configurable.
pub const DEFAULT_VERSION: &str = "v23.0";

/// The longest `text.body` Meta accepts, in characters.
pub const TEXT_BODY_MAX_CHARS: usize = 4096;

/// The most reply buttons one interactive message may carry.
pub const REPLY_BUTTONS_MAX: usize = 3;

/// `/{version}/{phone_number_id}/messages`: sends, mark-as-read and the typing indicator.
pub fn messages_path(version: &str, phone_number_id: &str) -> String {
    format!("/{version}/{phone_number_id}/messages")
}

/// `/{version}/{media_id}`: the media metadata (`GET`, answers [`MediaInfo`]) or its deletion (`DELETE`).
pub fn media_path(version: &str, media_id: &str) -> String {
    format!("/{version}/{media_id}")
}

/// `/{version}/{phone_number_id}/media`: multipart upload (`file`, `type`, `messaging_product`), answers
/// [`MediaUploaded`].
pub fn media_upload_path(version: &str, phone_number_id: &str) -> String {
    format!("/{version}/{phone_number_id}/media")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(messages_path("v23.0", "106000000000001"), "/v23.0/106000000000001/messages");
        assert_eq!(media_path("v23.0", "1234567890123401"), "/v23.0/1234567890123401");
        assert_eq!(media_upload_path("v23.0", "106000000000001"), "/v23.0/106000000000001/media");
    }
}
