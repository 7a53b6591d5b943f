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

/// The last listing and when it was fetched.
#[derive(Default)]
pub struct TemplateCatalog {
    cached: Mutex<Option<(Instant, Arc<Vec<MessageTemplate>>)>>,
}

impl TemplateCatalog {
    /// The approved templates: the cached listing while it is fresh, otherwise a new one. One
    /// caller fetches at a time; the others wait for its answer.
    pub async fn list(&self, graph: &GraphClient) -> Result<Arc<Vec<MessageTemplate>>, GraphCallError> {
        let mut cached = self.cached.lock().await;
        if let Some((fetched_at, templates)) = cached.as_ref()
            && fetched_at.elapsed() < KEEP_FOR
        {
            return Ok(templates.clone());
        }
        let templates = Arc::new(graph.templates().await?);
        *cached = Some((Instant::now(), templates.clone()));
        Ok(templates)
    }
}
