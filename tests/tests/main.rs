//! Baton's end-to-end tests, as one test binary: each file beside this one is a module (run one
//! with a filter, `cargo test -p baton-tests --test baton auth::`). One binary links the server
//! once instead of once per file; the tests of every file run in parallel in it.
//!
//! Nothing here may rely on being alone in its process: no environment variables set, no global
//! subscriber; the paused-clock tests build their own runtimes ([`baton_tests::paused`]).

mod assignment;
mod auth;
mod browser;
mod browser_inbox;
mod browser_walk;
mod canned;
mod claim_lifecycle;
mod close_handshake;
mod conversations;
mod conversations_api;
mod csrf;
mod errors;
mod input;
mod labels;
mod late_messages;
mod leases;
mod live_order;
mod mentions;
mod protocol_doc;
mod realtime;
mod store;
mod web;
mod webhooks;
mod whatsapp_backoff;
mod whatsapp_channel;
mod whatsapp_crash;
mod whatsapp_e2e;
mod whatsapp_in_flight;
