//! What Baton does about each Graph API error code (contract §7.2, §9), and the sentence agents see.
//!
//! Errors arrive synchronously (an HTTP error on the send call), asynchronously (a `failed` status webhook
//! or `value.errors`), or both, so [`classify`] takes the HTTP status as optional. The code decides; the
//! HTTP status is only a fallback for codes the table does not know, because Meta says not to build logic
//! on it. `error_subcode` is not an input: Meta deprecated it in v16.0 and says to branch on the code.

use std::time::Duration;

/// The sender's reaction to a failed send.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Behaviour {
    /// Meta-side trouble or a throughput/call-rate limit: retry the same request with exponential backoff
    /// and slow the whole queue down.
    RetryWithBackoff,
    /// The pair rate limit (131056): retry this recipient only, after [`pair_rate_limit_delay`]; messages to
    /// other customers are unaffected.
    RetryRecipientLater,
    /// The 24-hour customer-service window is closed (131047): never retry free text; offer a template.
    WindowClosed,
    /// The template is missing, unapproved, paused, disabled or was given the wrong parameters: never retry;
    /// an admin has to fix the template (or the agent pick another).
    FixTemplate,
    /// Nothing will get through until an admin acts (token expired, account restricted): pause the whole
    /// outbox and alert the admins.
    PauseSendingAndAlert,
    /// This message will never go through as it is: mark it failed and tell the agent.
    NeverRetry,
}

impl Behaviour {
    /// Whether the sender retries by itself.
    pub fn retries_automatically(self) -> bool {
        matches!(self, Behaviour::RetryWithBackoff | Behaviour::RetryRecipientLater)
    }
}

/// A behaviour, and the sentence to show agents next to the failed (or delayed) message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Classification {
    pub behaviour: Behaviour,
    pub sentence: &'static str,
}

struct Rule {
    codes: &'static [i64],
    behaviour: Behaviour,
    sentence: &'static str,
}

/// The contract's code table (§7.2), one row per distinct behaviour-and-sentence.
const RULES: &[Rule] = &[
    Rule {
        codes: &[131047],
        behaviour: Behaviour::WindowClosed,
        sentence: "More than 24 hours have passed since the customer last wrote, so WhatsApp only accepts an \
                   approved template now.",
    },
    Rule {
        codes: &[131026],
        behaviour: Behaviour::NeverRetry,
        sentence: "WhatsApp could not deliver this message: the number may not use WhatsApp, or the customer \
                   has not accepted the latest terms or runs an outdated app.",
    },
    Rule {
        codes: &[130429],
        behaviour: Behaviour::RetryWithBackoff,
        sentence: "WhatsApp is limiting how fast this number can send; the message will be retried shortly.",
    },
    Rule {
        codes: &[131056],
        behaviour: Behaviour::RetryRecipientLater,
        sentence: "Too many messages went to this customer in a short time; this one will be retried in a \
                   moment.",
    },
    Rule {
        codes: &[190],
        behaviour: Behaviour::PauseSendingAndAlert,
        sentence: "Sending is paused: the WhatsApp access token has expired or is invalid. An administrator has \
                   to renew it.",
    },
    Rule {
        codes: &[100],
        behaviour: Behaviour::NeverRetry,
        sentence: "WhatsApp rejected the message as invalid (for example a value that is too long).",
    },
    Rule {
        codes: &[131048],
        behaviour: Behaviour::RetryWithBackoff,
        sentence: "WhatsApp is slowing this number down because of spam reports; the message will be retried \
                   later.",
    },
    Rule {
        codes: &[131049],
        behaviour: Behaviour::NeverRetry,
        sentence: "WhatsApp held this message back to protect the customer from too many marketing messages; \
                   try again in a day or more.",
    },
    Rule {
        codes: &[131050],
        behaviour: Behaviour::NeverRetry,
        sentence: "The customer has opted out of marketing messages from this business.",
    },
    Rule {
        codes: &[131051],
        behaviour: Behaviour::NeverRetry,
        sentence: "WhatsApp does not support this type of message.",
    },
    Rule {
        codes: &[131052],
        behaviour: Behaviour::NeverRetry,
        sentence: "WhatsApp could not download the media of this message.",
    },
    Rule {
        codes: &[131053],
        behaviour: Behaviour::NeverRetry,
        sentence: "WhatsApp could not process the attached media; check its type and size and send it again.",
    },
    Rule {
        codes: &[131000, 1, 2, 131016],
        behaviour: Behaviour::RetryWithBackoff,
        sentence: "WhatsApp had a temporary problem; the message will be retried.",
    },
    Rule {
        codes: &[131021],
        behaviour: Behaviour::NeverRetry,
        sentence: "The recipient is this business's own WhatsApp number.",
    },
    Rule {
        codes: &[131057],
        behaviour: Behaviour::RetryWithBackoff,
        sentence: "The WhatsApp account is briefly in maintenance; the message will be retried in a minute.",
    },
    Rule {
        codes: &[132000],
        behaviour: Behaviour::FixTemplate,
        sentence: "The number of template values does not match the template's placeholders.",
    },
    Rule {
        codes: &[132001],
        behaviour: Behaviour::FixTemplate,
        sentence: "This template does not exist in this language or is not approved yet.",
    },
    Rule { codes: &[132012], behaviour: Behaviour::FixTemplate, sentence: "A template value has the wrong format." },
    Rule {
        codes: &[132015],
        behaviour: Behaviour::FixTemplate,
        sentence: "This template is paused because of low quality; pick another one.",
    },
    Rule {
        codes: &[132016],
        behaviour: Behaviour::FixTemplate,
        sentence: "This template is disabled because of low quality; pick another one.",
    },
    Rule {
        codes: &[4, 80007],
        behaviour: Behaviour::RetryWithBackoff,
        sentence: "Baton reached WhatsApp's API call limit; the message will be retried shortly.",
    },
    Rule {
        codes: &[368, 131031],
        behaviour: Behaviour::PauseSendingAndAlert,
        sentence: "Sending is paused: the WhatsApp Business Account is restricted or locked for policy \
                   reasons. An administrator has to check it in Meta Business Manager.",
    },
];

const OTHER_TEMPLATE_ERROR: Classification =
    Classification { behaviour: Behaviour::FixTemplate, sentence: "WhatsApp refused the template or its values." };
const TEMPORARY: Classification = Classification {
    behaviour: Behaviour::RetryWithBackoff,
    sentence: "WhatsApp is temporarily unavailable; the message will be retried.",
};
const UNAUTHORIZED: Classification = Classification {
    behaviour: Behaviour::PauseSendingAndAlert,
    sentence: "Sending is paused: WhatsApp refused Baton's credentials. An administrator has to check them.",
};
const REFUSED: Classification =
    Classification { behaviour: Behaviour::NeverRetry, sentence: "WhatsApp refused this message." };

/// What to do about an error with Graph `code` (when the body had one) answered with `http_status` (`None`
/// for errors from webhooks).
///
/// Known codes follow the contract's table whatever the status. Unknown ones fall back to the status:
/// other `132xxx` are template errors; 429 and 5xx are retried with backoff; 401 pauses sending (the
/// credentials are wrong); anything else, including an unknown code from a webhook, is not retried: a
/// duplicate message to a customer is worse than an agent pressing "retry".
pub fn classify(http_status: Option<u16>, code: Option<i64>) -> Classification {
    match code {
        Some(code) => classify_graph_error(http_status, code, false),
        None => by_http_status(http_status),
    }
}

/// [`classify`] for a parsed Graph error; `transient` is its `is_transient` flag, trusted for unknown codes.
pub(super) fn classify_graph_error(http_status: Option<u16>, code: i64, transient: bool) -> Classification {
    if let Some(rule) = RULES.iter().find(|rule| rule.codes.contains(&code)) {
        return Classification { behaviour: rule.behaviour, sentence: rule.sentence };
    }
    if (132_000..133_000).contains(&code) {
        return OTHER_TEMPLATE_ERROR;
    }
    if transient {
        return TEMPORARY;
    }
    by_http_status(http_status)
}

fn by_http_status(http_status: Option<u16>) -> Classification {
    match http_status {
        Some(429 | 500..=599) => TEMPORARY,
        Some(401) => UNAUTHORIZED,
        _ => REFUSED,
    }
}

/// Meta's advice for the pair rate limit (131056): wait 4^attempt seconds (1 s, 4 s, 16 s…), `attempt`
/// counting from 0. Capped at one day so a runaway counter cannot overflow.
pub fn pair_rate_limit_delay(attempt: u32) -> Duration {
    const ONE_DAY: u64 = 24 * 60 * 60;
    Duration::from_secs(4_u64.checked_pow(attempt).map_or(ONE_DAY, |seconds| seconds.min(ONE_DAY)))
}

/// The HTTP status a fake Graph server answers with for an error code (contract §7.2, "for the fake
/// server"). Only 130429 → 429 and 100 → 400 come from a (mirrored, older) Meta table; 131047, 131056 and
/// 190 are the contract's unconfirmed suggestion. Unlisted codes get 400.
pub fn suggested_http_status(code: i64) -> u16 {
    match code {
        190 => 401,
        130429 | 4 | 80007 => 429,
        131000 => 500,
        2 => 503,
        _ => 400,
    }
}
