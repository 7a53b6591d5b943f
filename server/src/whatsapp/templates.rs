//! The approved message templates, listed from the Graph API and kept for a few minutes: the
//! template endpoints are rate-limited per business account (contract §9), and the list changes
//! only when someone edits templates in Meta's manager.

use std::sync::Arc;
use std::time::Duration;

use baton_shared::model::MessageTemplate;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::graph::{GraphCallError, GraphClient};

/// How long a listing is reused.
const KEEP_FOR: Duration = Duration::from_secs(300);
/// How long a failure to list is answered from memory: while Graph is down, requests are refused
/// at once instead of each waiting for its own timeout.
const KEEP_FAILURE_FOR: Duration = Duration::from_secs(30);

type Listing = Result<Arc<Vec<MessageTemplate>>, String>;

/// The last listing (or why there was none) and when it was fetched.
#[derive(Default)]
pub struct TemplateCatalog {
    cached: Mutex<Option<(Instant, Listing)>>,
}

impl TemplateCatalog {
    /// The approved templates: the cached listing while it is fresh, otherwise a new one. One
    /// caller fetches at a time; the others wait for its answer.
    pub async fn list(&self, graph: &GraphClient) -> Result<Arc<Vec<MessageTemplate>>, GraphCallError> {
        let mut cached = self.cached.lock().await;
        if let Some((fetched_at, listing)) = cached.as_ref() {
            let fresh_for = if listing.is_ok() { KEEP_FOR } else { KEEP_FAILURE_FOR };
            if fetched_at.elapsed() < fresh_for {
                return listing.clone().map_err(GraphCallError::Transport);
            }
        }
        let listing = graph.templates().await.map(Arc::new).map_err(|error| error.to_string());
        *cached = Some((Instant::now(), listing.clone()));
        listing.map_err(GraphCallError::Transport)
    }
}
