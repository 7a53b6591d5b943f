//! The contract's webhook fixtures (handbook `whatsapp/fixtures/`, contract §14), byte-exact.
//!
//! They are copied into this crate (under `fixtures/`) rather than read from the handbook at run time, so
//! the server's and the simulator's tests can replay real Meta-shaped bodies anywhere. Byte-exactness
//! matters: the contract's signature test vectors are computed over these files, and this crate's tests
//! check both the vectors and (when the handbook is present beside the repository) that the copies have
//! not drifted.
//!
//! Business `15550001111`, phone number id `106000000000001`, WABA `102000000000001`; customers Alice
//! `15550002222` and Bob `15550003333`.

/// Plain inbound text from Alice.
pub const TEXT: &[u8] = include_bytes!("../fixtures/01_text.json");
/// Alice quote-replies to outbound wamid A.
pub const TEXT_REPLY_WITH_CONTEXT: &[u8] = include_bytes!("../fixtures/02_text_reply_with_context.json");
/// Image with caption and the new optional `url`.
pub const IMAGE_WITH_CAPTION: &[u8] = include_bytes!("../fixtures/03_image_with_caption.json");
/// A PDF from Bob with filename and caption (no `url`).
pub const DOCUMENT: &[u8] = include_bytes!("../fixtures/04_document.json");
/// A voice note from Bob: `audio/ogg; codecs=opus`, `voice: true`.
pub const AUDIO_VOICE_NOTE: &[u8] = include_bytes!("../fixtures/05_audio_voice_note.json");
/// A location with name, address and url.
pub const LOCATION: &[u8] = include_bytes!("../fixtures/06_location.json");
/// A tap on an interactive reply button.
pub const INTERACTIVE_BUTTON_REPLY: &[u8] = include_bytes!("../fixtures/08_interactive_button_reply.json");
/// 👍 on outbound wamid A.
pub const REACTION: &[u8] = include_bytes!("../fixtures/11_reaction.json");
/// Outbound wamid A sent (with PMP pricing).
pub const STATUS_SENT: &[u8] = include_bytes!("../fixtures/14_status_sent.json");
/// Outbound wamid A delivered (with PMP pricing).
pub const STATUS_DELIVERED: &[u8] = include_bytes!("../fixtures/15_status_delivered.json");
/// Outbound wamid A read (no pricing).
pub const STATUS_READ: &[u8] = include_bytes!("../fixtures/16_status_read.json");
/// Outbound wamid B failed with 131047 (re-engagement: the 24-hour window is closed).
pub const STATUS_FAILED_131047: &[u8] = include_bytes!("../fixtures/17_status_failed_131047.json");
/// A redelivery: byte-identical to [`TEXT`].
pub const DUPLICATE_REDELIVERY_OF_TEXT: &[u8] = include_bytes!("../fixtures/19_duplicate_redelivery_of_01_text.json");
/// One entry, two changes (a status, then an inbound text with non-ASCII written as `\u` escapes).
pub const MIXED_STATUS_AND_MESSAGE_NON_ASCII: &[u8] =
    include_bytes!("../fixtures/20_mixed_status_and_message_non_ascii.json");

/// Every fixture with its file name, in the handbook's order.
pub const ALL: &[(&str, &[u8])] = &[
    ("01_text.json", TEXT),
    ("02_text_reply_with_context.json", TEXT_REPLY_WITH_CONTEXT),
    ("03_image_with_caption.json", IMAGE_WITH_CAPTION),
    ("04_document.json", DOCUMENT),
    ("05_audio_voice_note.json", AUDIO_VOICE_NOTE),
    ("06_location.json", LOCATION),
    ("08_interactive_button_reply.json", INTERACTIVE_BUTTON_REPLY),
    ("11_reaction.json", REACTION),
    ("14_status_sent.json", STATUS_SENT),
    ("15_status_delivered.json", STATUS_DELIVERED),
    ("16_status_read.json", STATUS_READ),
    ("17_status_failed_131047.json", STATUS_FAILED_131047),
    ("19_duplicate_redelivery_of_01_text.json", DUPLICATE_REDELIVERY_OF_TEXT),
    ("20_mixed_status_and_message_non_ascii.json", MIXED_STATUS_AND_MESSAGE_NON_ASCII),
];
