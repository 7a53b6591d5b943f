//! The message the reply being written quotes: chosen in the timeline, shown in the composer.
//! Provided by the open conversation, so the two components need not know each other.

use leptos::prelude::*;

/// The message the reply being written quotes, chosen in the timeline, shown in the composer.
#[derive(Clone, Copy)]
pub struct QuoteTarget(pub RwSignal<Option<baton_shared::model::Message>>);
