//! The team's canned responses over real HTTP, on SQLite and PostgreSQL: every user reads the
//! list; supervisors (and admins) create, edit and delete; agents may not; a title is unique;
//! empty or oversized ones are refused with a sentence; a cookie without the CSRF header changes
//! nothing.

use baton_shared::ErrorCode;
use baton_shared::api::{CannedResponse, CannedResponseRequest, Role};
use baton_tests::client::{TestClient, expect_error, json};
use baton_tests::database::Kind;
use baton_tests::server::TestServer;
use reqwest::{Method, StatusCode};

baton_tests::on_both_kinds!(supervisors_keep_the_list_and_everyone_reads_it);

fn request(title: &str, body: &str) -> CannedResponseRequest {
    CannedResponseRequest { title: title.into(), body: body.into() }
}

async fn list(client: &TestClient) -> anyhow::Result<Vec<(String, String)>> {
    let response = client.get("/api/canned-responses").await?;
    anyhow::ensure!(response.status() == StatusCode::OK, "list answered {}", response.status());
    let list: Vec<CannedResponse> = json(response).await?;
    Ok(list.into_iter().map(|canned| (canned.title, canned.body)).collect())
}

async fn supervisors_keep_the_list_and_everyone_reads_it(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (agent, _) = server.logged_in("Alice", Role::Agent).await?;
    let (supervisor, _) = server.logged_in("Sam", Role::Supervisor).await?;
    assert!(list(&agent).await?.is_empty());

    let created = supervisor.post("/api/canned-responses", &request("  Greeting ", "Hello! How can I help?")).await?;
    assert_eq!(created.status(), StatusCode::CREATED);
    let greeting: CannedResponse = json(created).await?;
    assert_eq!(greeting.title, "Greeting", "trimmed");
    let shipping = supervisor.post("/api/canned-responses", &request("Shipping", "Orders ship in 2 days.")).await?;
    let shipping: CannedResponse = json(shipping).await?;
    let lowercase = supervisor.post("/api/canned-responses", &request("after hours", "We are back at 9.")).await?;
    let lowercase: CannedResponse = json(lowercase).await?;
    assert_eq!(
        list(&agent).await?,
        [
            ("after hours".into(), "We are back at 9.".into()),
            ("Greeting".into(), "Hello! How can I help?".into()),
            ("Shipping".into(), "Orders ship in 2 days.".into())
        ],
        "agents read the list, by title whatever the case (on both databases)"
    );
    let deleted = supervisor.request(Method::DELETE, &format!("/api/canned-responses/{}", lowercase.id)).send().await?;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);

    // Agents may not change it.
    let refused = agent.post("/api/canned-responses", &request("Mine", "text")).await?;
    assert_eq!(expect_error(refused, StatusCode::FORBIDDEN).await?.code, ErrorCode::Forbidden);
    let path = format!("/api/canned-responses/{}", greeting.id);
    let refused = agent.request(Method::DELETE, &path).send().await?;
    expect_error(refused, StatusCode::FORBIDDEN).await?;

    // Bad input: a sentence, nothing stored.
    for (title, body) in [("", "text"), ("Title", "   "), (&*"t".repeat(61), "text")] {
        let refused = supervisor.post("/api/canned-responses", &request(title, body)).await?;
        assert_eq!(expect_error(refused, StatusCode::UNPROCESSABLE_ENTITY).await?.code, ErrorCode::InvalidInput);
    }
    let taken = supervisor.post("/api/canned-responses", &request("Shipping", "again")).await?;
    assert_eq!(expect_error(taken, StatusCode::CONFLICT).await?.code, ErrorCode::Conflict);
    // The CSRF header is required of a cookie-authenticated change.
    let forged = supervisor.bare(Method::DELETE, &path).send().await?;
    expect_error(forged, StatusCode::FORBIDDEN).await?;
    assert_eq!(list(&agent).await?.len(), 2);

    // Edit and delete.
    let edited = supervisor
        .request(Method::PUT, &path)
        .json(&request("Greeting", "Hi, thanks for writing to us!"))
        .send()
        .await?;
    assert_eq!(edited.status(), StatusCode::OK);
    let renamed = supervisor
        .request(Method::PUT, &format!("/api/canned-responses/{}", shipping.id))
        .json(&request("Greeting", "clash"))
        .send()
        .await?;
    expect_error(renamed, StatusCode::CONFLICT).await?;
    let deleted = supervisor.request(Method::DELETE, &format!("/api/canned-responses/{}", shipping.id)).send().await?;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let again = supervisor.request(Method::DELETE, &format!("/api/canned-responses/{}", shipping.id)).send().await?;
    expect_error(again, StatusCode::NOT_FOUND).await?;
    assert_eq!(list(&agent).await?, [("Greeting".into(), "Hi, thanks for writing to us!".into())]);
    server.stop().await
}
