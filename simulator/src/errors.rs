//! The error catalogue (contract §7): for each code the title and `details` Meta uses, the Graph API error
//! body with its HTTP status for synchronous failures, and the error object `failed` status webhooks carry
//! for asynchronous ones.

use baton_whatsapp::graph::{ErrorResponse, suggested_http_status};
use baton_whatsapp::webhook::{ErrorData, ErrorDetail};

use crate::ids;

/// Where Meta's error-code page lives; `failed` statuses link to it.
const ERROR_CODES_PAGE: &str = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/";

/// Title and default details for a code. Unknown codes get a generic pair, so a test can force any code.
pub(crate) fn describe(code: i64) -> (&'static str, &'static str) {
    match code {
        1 => ("An unknown error occurred", "An unknown error occurred."),
        2 => ("Service temporarily unavailable", "Service temporarily unavailable."),
        4 => ("Application request limit reached", "Too many API calls from this app."),
        100 => ("Invalid parameter", "Invalid parameter."),
        190 => ("Invalid OAuth access token - Cannot parse access token", "The access token is invalid or expired."),
        368 => ("Temporarily blocked for policies violations", "The account is restricted for policy reasons."),
        80007 => ("Rate limit issues", "The WhatsApp Business Account reached its rate limit."),
        130429 => ("Rate limit hit", "Cloud API message throughput has been reached."),
        131000 => ("Something went wrong", "Message failed to send due to an unknown error."),
        131016 => ("Service unavailable", "A service is temporarily unavailable."),
        131021 => ("Recipient cannot be sender", "Sender and recipient phone number is the same."),
        131026 => (
            "Message undeliverable",
            "Message failed to send because the recipient cannot receive it (not on WhatsApp, old client, or \
             terms not accepted).",
        ),
        131031 => ("Account has been locked", "The business account has been locked."),
        131047 => (
            "Re-engagement message",
            "Message failed to send because more than 24 hours have passed since the customer last replied to \
             this number.",
        ),
        131048 => (
            "Spam rate limit hit",
            "Message failed to send because there are restrictions on how many \
                     messages can be sent from this phone number.",
        ),
        131049 => (
            "This message was not delivered to maintain healthy ecosystem engagement.",
            "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
        ),
        131050 => ("User has stopped marketing messages", "The user has opted out of marketing messages."),
        131051 => ("Unsupported message type", "Message type is not currently supported."),
        131052 => ("Media download error", "Unable to download the media sent by the user."),
        131053 => ("Media upload error", "Unable to upload the media used in the message."),
        131056 => (
            "(Business Account, Consumer Account) pair rate limit hit",
            "Too many messages sent from the sender phone number to the same recipient phone number in a short \
             period of time.",
        ),
        131057 => ("Account in maintenance mode", "Business Account is in maintenance mode."),
        132000 => (
            "Number of parameters does not match the expected number of params",
            "The number of template parameters does not match the template.",
        ),
        132001 => ("Template name does not exist in the translation", "The template does not exist."),
        132012 => ("Parameter format does not match format in the created template", "Wrong parameter format."),
        132015 => ("Template is Paused", "The template is paused due to low quality."),
        132016 => ("Template is Disabled", "The template is disabled due to low quality."),
        _ => ("Error", "The simulator was told to fail with this code."),
    }
}

/// A synchronous Graph API error: the HTTP status the contract suggests for the code (§7.2) and the body in
/// the contract's shape (§7.1), with a fresh `fbtrace_id`. `details` replaces the catalogue's default.
pub(crate) fn graph_error(code: i64, details: Option<String>) -> (u16, ErrorResponse) {
    let (title, default_details) = describe(code);
    let mut response = ErrorResponse::new(code, title, details.unwrap_or_else(|| default_details.to_owned()));
    response.error.fbtrace_id = Some(ids::fbtrace_id());
    if code == 130429 {
        // Meta's own example of this error still carries the (deprecated) subcode.
        response.error.error_subcode = Some(2494055);
    }
    if code == 190 {
        // Meta answers a bad token without `error_data`; the code is what matters.
        response.error.error_data = None;
        response.error.message = title.to_owned();
    }
    (suggested_http_status(code), response)
}

/// The error object of a `failed` status (contract §4): `message` equals `title`, plus details and `href`.
pub(crate) fn webhook_error(code: i64) -> ErrorDetail {
    let (title, details) = describe(code);
    ErrorDetail {
        code,
        title: Some(title.to_owned()),
        message: Some(title.to_owned()),
        error_data: Some(ErrorData { details: Some(details.to_owned()) }),
        href: Some(ERROR_CODES_PAGE.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_131047_status_error_matches_fixture_17() {
        let payload =
            baton_whatsapp::webhook::parse(baton_whatsapp::fixtures::STATUS_FAILED_131047).expect("fixture 17 parses");
        let items = payload.into_items();
        let Some(baton_whatsapp::webhook::Item::Status(status)) = items.first() else {
            panic!("fixture 17 holds a status: {items:?}");
        };
        assert_eq!(status.errors, vec![webhook_error(131047)]);
    }

    #[test]
    fn graph_errors_use_the_suggested_statuses() {
        let (status, body) = graph_error(130429, None);
        assert_eq!(status, 429);
        assert_eq!(body.error.message, "(#130429) Rate limit hit");
        assert_eq!(body.error.error_subcode, Some(2494055));
        assert_eq!(graph_error(190, None).0, 401);
        assert_eq!(graph_error(131047, None).0, 400);
        assert_eq!(graph_error(131000, None).0, 500);
    }
}
