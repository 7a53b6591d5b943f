//! Baton's end-to-end tests, as one test binary: each file beside this one is a module (run one
//! with a filter, `cargo test -p baton-tests --test baton auth::`). One binary links the server
//! once instead of once per file; the tests of every file run in parallel in it.
//!
//! Nothing here may rely on being alone in its process: no environment variables set, no global
//! subscriber; the paused-clock tests build their own runtimes ([`baton_tests::paused`]).

mod assignment;
mod auth;
mod automation;
mod automation_nodes;
mod automation_rules;
mod browser;
mod browser_app;
mod browser_automation;
mod browser_contacts;
mod browser_inbox;
mod browser_reports;
mod browser_routing;
mod browser_walk;
mod canned;
mod claim_lifecycle;
mod close_handshake;
mod contacts;
mod conversations;
mod conversations_api;
mod csat;
mod csrf;
mod domain;
mod errors;
mod follow_ups;
mod handover;
mod ingest_batch;
mod ingest_set;
mod input;
mod labels;
mod late_messages;
mod leases;
mod live_order;
mod mentions;
mod menu_bot;
mod protocol_doc;
mod realtime;
mod reopen;
mod report_hours;
mod report_presence;
mod reports;
mod routing;
mod routing_rules;
mod search;
mod shutdown;
mod store;
mod teams;
mod visibility;
mod web;
mod webhooks;
mod whatsapp_backoff;
mod whatsapp_channel;
mod whatsapp_crash;
mod whatsapp_e2e;
mod whatsapp_in_flight;

/// Every file beside this one is one of its modules: with `autotests = false` cargo builds no
/// file on its own, so a file left out here would have its tests silently never run.
#[test]
fn every_test_file_is_a_module() -> anyhow::Result<()> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let main = std::fs::read_to_string(dir.join("main.rs"))?;
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let Some(module) = name.strip_suffix(".rs") else { continue };
        if module != "main" && !main.lines().any(|line| line == format!("mod {module};")) {
            missing.push(name);
        }
    }
    assert!(missing.is_empty(), "add `mod …;` to tests/tests/main.rs for {missing:?}");
    Ok(())
}
