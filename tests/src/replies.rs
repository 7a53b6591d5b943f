//! A teammate answering a customer over REST, as the reports' histories need it: the claim taken,
//! the reply sent (forced past the view check: the test knows what it answers), the claim let go.

use baton_shared::ConversationId;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::client::TestClient;

/// `client` claims the conversation `id`, replies `body` and releases it.
pub async fn replies(client: &TestClient, id: ConversationId, body: &str) -> anyhow::Result<()> {
    let claimed = client.post(&format!("/api/conversations/{id}/claim"), &json!({})).await?;
    anyhow::ensure!(claimed.status() == StatusCode::OK, "claim: {}", claimed.status());
    let replied = client
        .post(
            &format!("/api/conversations/{id}/replies"),
            &json!({"body": body, "idempotency_key": uuid::Uuid::new_v4().to_string(), "seen_seq": 0, "force": true}),
        )
        .await?;
    anyhow::ensure!(replied.status() == StatusCode::CREATED, "reply: {:?}", replied.text().await);
    let released = client.request(Method::DELETE, &format!("/api/conversations/{id}/claim")).send().await?;
    anyhow::ensure!(released.status().is_success(), "release: {}", released.status());
    Ok(())
}
