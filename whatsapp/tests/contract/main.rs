//! The contract's own examples, checked against the crate's public API: signature test vectors, every
//! webhook fixture, every request body shown in the contract, and the error-code table. One test binary, so
//! the crate links once.

mod fixtures_in_sync;
mod graph_bodies;
mod graph_errors;
mod signature;
mod webhook_edge_cases;
mod webhook_fixtures;

use baton_whatsapp::webhook::{self, Item, Origin};

/// Business `15550001111`, phone number id `106000000000001`, WABA `102000000000001` (contract §14).
pub fn fixture_origin() -> Origin {
    Origin {
        business_account_id: "102000000000001".to_owned(),
        phone_number_id: "106000000000001".to_owned(),
        display_phone_number: Some("15550001111".to_owned()),
    }
}

/// Parses and flattens a body, failing the test on a parse error.
pub fn items_of(body: &[u8]) -> Vec<Item> {
    webhook::parse(body).expect("the body parses").into_items()
}

/// The single item a body yields, failing the test otherwise.
pub fn only_item(body: &[u8]) -> Item {
    let mut items = items_of(body);
    assert_eq!(items.len(), 1, "{items:?}");
    items.remove(0)
}
