//! Bad input gets a clear 4xx in the `{code, message}` shape — never a 500, never a panic — and
//! every answer carries a request id.

use baton_shared::ErrorCode;
use baton_shared::api::{Health, Role};
use baton_tests::client::{expect_error, json};
use baton_tests::server::TestServer;
use reqwest::{Method, StatusCode};

#[tokio::test]
async fn malformed_bodies_get_typed_errors() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (admin, _) = server.logged_in("Admin", Role::Admin).await?;
    let cases: Vec<(&str, Option<&str>, String, StatusCode, ErrorCode)> = vec![
        (
            "not json",
            Some("application/json"),
            "{\"email\": ".into(),
            StatusCode::BAD_REQUEST,
            ErrorCode::MalformedJson,
        ),
        (
            "trailing garbage",
            Some("application/json"),
            r#"{"email": "x@test.baton", "name": "X", "role": "agent", "password": "long-enough"} x"#.into(),
            StatusCode::BAD_REQUEST,
            ErrorCode::MalformedJson,
        ),
        (
            "missing field",
            Some("application/json"),
            r#"{"email": "x@test.baton", "name": "X", "role": "agent"}"#.into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidInput,
        ),
        (
            "wrong type",
            Some("application/json"),
            r#"{"email": 5, "name": "X", "role": "agent", "password": "long-enough"}"#.into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidInput,
        ),
        (
            "unknown role",
            Some("application/json"),
            r#"{"email": "x@test.baton", "name": "X", "role": "owner", "password": "long-enough"}"#.into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidInput,
        ),
        ("no content type", None, "{}".into(), StatusCode::UNSUPPORTED_MEDIA_TYPE, ErrorCode::UnsupportedMediaType),
        (
            "text body",
            Some("text/plain"),
            "{}".into(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
        ),
        (
            "oversized",
            Some("application/json"),
            format!(
                r#"{{"email": "x@test.baton", "name": "{}", "role": "agent", "password": "p"}}"#,
                "x".repeat(200_000)
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
        ),
    ];
    for (label, content_type, body, status, code) in cases {
        let mut request = admin.request(Method::POST, "/api/users").body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let error = expect_error(request.send().await?, status).await.map_err(|e| anyhow::anyhow!("{label}: {e}"))?;
        assert_eq!(error.code, code, "{label}: {}", error.message);
    }
    let missing =
        admin.request(Method::POST, "/api/users").body("").header("content-type", "application/json").send().await?;
    expect_error(missing, StatusCode::BAD_REQUEST).await?;
    assert_eq!(server.state.store.user_count().await?, 1, "nothing was created");
    Ok(())
}

#[tokio::test]
async fn a_missing_field_is_named_in_the_message() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let response = server
        .client()
        .request(Method::POST, "/api/auth/login")
        .header("content-type", "application/json")
        .body(r#"{"email": "a@test.baton"}"#)
        .send()
        .await?;
    let error = expect_error(response, StatusCode::UNPROCESSABLE_ENTITY).await?;
    assert!(error.message.contains("password"), "{}", error.message);
    Ok(())
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_json() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (admin, _) = server.logged_in("Admin", Role::Admin).await?;
    let client = server.client();
    assert_eq!(expect_error(client.get("/api/nope").await?, StatusCode::NOT_FOUND).await?.code, ErrorCode::NotFound);
    assert_eq!(expect_error(client.get("/api").await?, StatusCode::NOT_FOUND).await?.code, ErrorCode::NotFound);
    let wrong_method = client.request(Method::DELETE, "/api/me").send().await?;
    assert_eq!(expect_error(wrong_method, StatusCode::METHOD_NOT_ALLOWED).await?.code, ErrorCode::MethodNotAllowed);
    let post_health = client.request(Method::POST, "/healthz").send().await?;
    expect_error(post_health, StatusCode::METHOD_NOT_ALLOWED).await?;
    let not_an_id = admin.get("/api/users/abc").await?;
    assert_eq!(expect_error(not_an_id, StatusCode::NOT_FOUND).await?.code, ErrorCode::NotFound);
    let huge_id = admin.get("/api/users/99999999999999999999999").await?;
    expect_error(huge_id, StatusCode::NOT_FOUND).await?;
    let post_page = client.request(Method::POST, "/some/page").send().await?;
    expect_error(post_page, StatusCode::NOT_FOUND).await?;
    Ok(())
}

#[tokio::test]
async fn every_response_has_a_request_id() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let client = server.client();
    let mut seen = std::collections::HashSet::new();
    for path in ["/healthz", "/api/me", "/api/nope", "/"] {
        let response = client.get(path).await?;
        let id = response.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let id = id.ok_or_else(|| anyhow::anyhow!("{path} has no x-request-id"))?;
        assert!(seen.insert(id), "request ids are unique");
    }
    let echoed = client.request(Method::GET, "/healthz").header("x-request-id", "trace-me-123").send().await?;
    assert_eq!(echoed.headers().get("x-request-id").and_then(|v| v.to_str().ok()), Some("trace-me-123"));
    Ok(())
}

#[tokio::test]
async fn health_reports_the_database() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let response = server.client().get("/healthz").await?;
    assert_eq!(response.status(), StatusCode::OK);
    let health: Health = json(response).await?;
    assert_eq!(health.status, "ok");
    assert_eq!(health.database, "sqlite");
    Ok(())
}

#[tokio::test]
async fn api_answers_are_never_cached_and_carry_security_headers() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let response = server.client().get("/api/me").await?;
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert_eq!(header("cache-control"), "no-store");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("x-frame-options"), "DENY");
    Ok(())
}

/// A file over the upload limit is refused with the limit as people say it ("16 MB"), not in KiB.
#[tokio::test]
async fn an_oversized_upload_names_the_limit_in_megabytes() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (agent, _) = server.logged_in("Agent", Role::Agent).await?;
    let body = vec![0_u8; baton_shared::api::MAX_UPLOAD_BYTES + 1];
    let response = agent
        .request(Method::POST, "/api/uploads?filename=huge.mp4")
        .header("content-type", "video/mp4")
        .body(body)
        .send()
        .await?;
    let error = expect_error(response, StatusCode::PAYLOAD_TOO_LARGE).await?;
    assert_eq!(error.code, ErrorCode::PayloadTooLarge);
    assert_eq!(error.message, "The file is larger than 16 MB, the most WhatsApp accepts.");
    Ok(())
}
