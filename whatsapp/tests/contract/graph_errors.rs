//! Contract §7: the error body, and a behaviour for every code in the table.

use baton_whatsapp::graph::{self, Behaviour, ErrorResponse, classify, pair_rate_limit_delay, suggested_http_status};
use serde_json::{Value, json};
use std::time::Duration;

#[test]
fn the_contract_error_example_reads_and_is_retried() {
    let body = r#"{ "error": { "message": "(#130429) Rate limit hit",
             "type": "OAuthException",
             "code": 130429,
             "error_data": { "messaging_product": "whatsapp", "details": "Cloud API message throughput has been reached." },
             "error_subcode": 2494055,
             "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam" } }"#;
    let response: ErrorResponse = serde_json::from_str(body).expect("reads");
    let error = &response.error;
    assert_eq!((error.code, error.error_subcode), (130429, Some(2494055)));
    assert_eq!(error.kind.as_deref(), Some("OAuthException"));
    assert_eq!(error.details(), Some("Cloud API message throughput has been reached."));
    assert_eq!(error.fbtrace_id.as_deref(), Some("Az8or2yhqkZfEZ-_4Qn_Bam"));
    assert_eq!(error.classify(429).behaviour, Behaviour::RetryWithBackoff);
    // Written back, it is the same JSON.
    let written = serde_json::to_value(&response).expect("serializes");
    assert_eq!(written, serde_json::from_str::<Value>(body).expect("JSON"));
}

#[test]
fn the_simulator_writes_errors_the_way_meta_does() {
    let response = ErrorResponse::new(131047, "Re-engagement message", "More than 24 hours have passed.");
    assert_eq!(
        serde_json::to_value(&response).expect("serializes"),
        json!({"error": {
            "message": "(#131047) Re-engagement message",
            "type": "OAuthException",
            "code": 131047,
            "error_data": {"messaging_product": "whatsapp", "details": "More than 24 hours have passed."}
        }})
    );
    assert_eq!(suggested_http_status(131047), 400);
    assert_eq!(suggested_http_status(190), 401);
    assert_eq!(suggested_http_status(130429), 429);
    assert_eq!(suggested_http_status(80007), 429);
    assert_eq!(suggested_http_status(131000), 500);
    assert_eq!(suggested_http_status(131056), 400);
    assert_eq!(suggested_http_status(132001), 400);
}

#[test]
fn every_code_in_the_table_has_its_behaviour_on_both_paths() {
    use Behaviour::*;
    let table: &[(i64, Behaviour)] = &[
        (131047, WindowClosed),
        (131026, NeverRetry),
        (130429, RetryWithBackoff),
        (131056, RetryRecipientLater),
        (190, PauseSendingAndAlert),
        (100, NeverRetry),
        (131048, RetryWithBackoff),
        (131049, NeverRetry),
        (131050, NeverRetry),
        (131051, NeverRetry),
        (131052, NeverRetry),
        (131053, NeverRetry),
        (131000, RetryWithBackoff),
        (1, RetryWithBackoff),
        (2, RetryWithBackoff),
        (131016, RetryWithBackoff),
        (131021, NeverRetry),
        (131057, RetryWithBackoff),
        (132000, FixTemplate),
        (132001, FixTemplate),
        (132012, FixTemplate),
        (132015, FixTemplate),
        (132016, FixTemplate),
        (4, RetryWithBackoff),
        (80007, RetryWithBackoff),
        (368, PauseSendingAndAlert),
        (131031, PauseSendingAndAlert),
    ];
    for &(code, behaviour) in table {
        // The code decides, whichever path the error took and whatever HTTP status came with it.
        for http_status in [None, Some(suggested_http_status(code)), Some(400), Some(500)] {
            let classification = classify(http_status, Some(code));
            assert_eq!(classification.behaviour, behaviour, "code {code}, status {http_status:?}");
            assert!(classification.sentence.ends_with('.'), "code {code}");
        }
    }
}

#[test]
fn the_important_codes_have_their_own_sentence() {
    let sentence = |code| classify(None, Some(code)).sentence;
    assert!(sentence(131047).contains("24 hours") && sentence(131047).contains("template"));
    assert!(sentence(190).contains("access token") && sentence(190).contains("administrator"));
    assert!(sentence(131056).contains("this customer"));
    assert!(sentence(130429).contains("retried"));
    let important = [131047, 131026, 130429, 131056, 190, 100, 131050, 132001, 368];
    let mut sentences: Vec<&str> = important.iter().map(|&code| sentence(code)).collect();
    sentences.sort_unstable();
    sentences.dedup();
    assert_eq!(sentences.len(), important.len(), "each important code explains itself");
}

#[test]
fn unknown_codes_fall_back_on_the_http_status() {
    assert_eq!(classify(Some(400), Some(132005)).behaviour, Behaviour::FixTemplate);
    assert_eq!(classify(Some(429), Some(999_999)).behaviour, Behaviour::RetryWithBackoff);
    assert_eq!(classify(Some(503), Some(999_999)).behaviour, Behaviour::RetryWithBackoff);
    assert_eq!(classify(Some(502), None).behaviour, Behaviour::RetryWithBackoff);
    assert_eq!(classify(Some(401), None).behaviour, Behaviour::PauseSendingAndAlert);
    assert_eq!(classify(Some(400), Some(999_999)).behaviour, Behaviour::NeverRetry);
    assert_eq!(classify(None, Some(999_999)).behaviour, Behaviour::NeverRetry);
    assert_eq!(classify(None, None).behaviour, Behaviour::NeverRetry);

    let mut transient = ErrorResponse::new(999_999, "Something new", "details").error;
    assert_eq!(transient.classify(400).behaviour, Behaviour::NeverRetry);
    transient.is_transient = Some(true);
    assert_eq!(transient.classify(400).behaviour, Behaviour::RetryWithBackoff);
}

#[test]
fn retry_helpers() {
    assert!(Behaviour::RetryWithBackoff.retries_automatically());
    assert!(Behaviour::RetryRecipientLater.retries_automatically());
    for behaviour in
        [Behaviour::WindowClosed, Behaviour::FixTemplate, Behaviour::PauseSendingAndAlert, Behaviour::NeverRetry]
    {
        assert!(!behaviour.retries_automatically());
    }
    assert_eq!(pair_rate_limit_delay(0), Duration::from_secs(1));
    assert_eq!(pair_rate_limit_delay(1), Duration::from_secs(4));
    assert_eq!(pair_rate_limit_delay(2), Duration::from_secs(16));
    assert_eq!(pair_rate_limit_delay(200), Duration::from_secs(24 * 60 * 60));
    assert_eq!(graph::DEFAULT_BASE_URL, "https://graph.facebook.com");
}
