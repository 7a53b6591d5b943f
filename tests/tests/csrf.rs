//! CSRF defence: a state-changing request with a valid session cookie is still refused when it
//! comes from a foreign Origin, says it is cross-site, or lacks the custom header — and it changes
//! nothing.

use baton_shared::ErrorCode;
use baton_shared::api::Role;
use baton_tests::client::expect_error;
use baton_tests::server::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::json;

fn new_user_body(email: &str) -> serde_json::Value {
    json!({"email": email, "name": "Forged", "role": "admin", "password": "long-enough-password"})
}

async fn user_exists(server: &TestServer, email: &str) -> anyhow::Result<bool> {
    Ok(server.state.store.credentials(email).await?.is_some())
}

#[tokio::test]
async fn foreign_origin_is_refused_even_with_cookie_and_header() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (admin, _) = server.logged_in("Admin", Role::Admin).await?;
    let response = admin
        .request(Method::POST, "/api/users")
        .header("origin", "https://evil.example")
        .json(&new_user_body("a@evil.test"))
        .send()
        .await?;
    assert_eq!(expect_error(response, StatusCode::FORBIDDEN).await?.code, ErrorCode::CsrfRejected);
    assert!(!user_exists(&server, "a@evil.test").await?);

    let null_origin = admin
        .request(Method::POST, "/api/users")
        .header("origin", "null")
        .json(&new_user_body("b@evil.test"))
        .send()
        .await?;
    assert_eq!(expect_error(null_origin, StatusCode::FORBIDDEN).await?.code, ErrorCode::CsrfRejected);
    assert!(!user_exists(&server, "b@evil.test").await?);
    Ok(())
}

#[tokio::test]
async fn missing_custom_header_is_refused() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (admin, _) = server.logged_in("Admin", Role::Admin).await?;
    let (_, agent) = server.logged_in("Agent", Role::Agent).await?;
    let audit_before = server.state.store.audit_log(100).await?.len();

    let create = admin.bare(Method::POST, "/api/users").json(&new_user_body("c@evil.test")).send().await?;
    assert_eq!(expect_error(create, StatusCode::FORBIDDEN).await?.code, ErrorCode::CsrfRejected);
    assert!(!user_exists(&server, "c@evil.test").await?);

    let disable = admin
        .bare(Method::PATCH, &format!("/api/users/{}", agent.id))
        .header("origin", server.origin())
        .json(&json!({"disabled": true}))
        .send()
        .await?;
    assert_eq!(expect_error(disable, StatusCode::FORBIDDEN).await?.code, ErrorCode::CsrfRejected);
    assert_eq!(server.state.store.user(agent.id).await?.map(|user| user.disabled), Some(false));

    let logout = admin.bare(Method::POST, "/api/auth/logout").send().await?;
    expect_error(logout, StatusCode::FORBIDDEN).await?;
    assert_eq!(admin.get("/api/me").await?.status(), StatusCode::OK, "the session survived the forged logout");
    assert_eq!(server.state.store.audit_log(100).await?.len(), audit_before, "nothing was changed");
    Ok(())
}

/// What a malicious page's `<form method=post>` sends: a form body, the browser's cookie, and
/// `Sec-Fetch-Site: cross-site`, but no custom header.
#[tokio::test]
async fn cross_site_form_posts_are_refused() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (admin, _) = server.logged_in("Admin", Role::Admin).await?;
    let form = admin
        .bare(Method::POST, "/api/users")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .body("email=d%40evil.test&name=Forged&role=admin&password=long-enough-password")
        .send()
        .await?;
    assert_eq!(expect_error(form, StatusCode::FORBIDDEN).await?.code, ErrorCode::CsrfRejected);

    let fetch_site_only = admin
        .request(Method::POST, "/api/users")
        .header("sec-fetch-site", "cross-site")
        .json(&new_user_body("e@evil.test"))
        .send()
        .await?;
    assert_eq!(expect_error(fetch_site_only, StatusCode::FORBIDDEN).await?.code, ErrorCode::CsrfRejected);
    assert!(!user_exists(&server, "d@evil.test").await?);
    assert!(!user_exists(&server, "e@evil.test").await?);
    Ok(())
}

#[tokio::test]
async fn login_itself_is_protected() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (user, password) = server.create_user("Victim", Role::Agent).await?;
    let forged = server
        .client()
        .bare(Method::POST, "/api/auth/login")
        .json(&json!({"email": user.email, "password": password}))
        .send()
        .await?;
    assert_eq!(expect_error(forged, StatusCode::FORBIDDEN).await?.code, ErrorCode::CsrfRejected);
    Ok(())
}

#[tokio::test]
async fn same_origin_requests_with_the_header_pass() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (admin, _) = server.logged_in("Admin", Role::Admin).await?;
    for (index, origin) in [server.origin(), format!("http://localhost:{}", server.addr.port())].iter().enumerate() {
        let email = format!("ok{index}@test.baton");
        let response = admin
            .request(Method::POST, "/api/users")
            .header("origin", origin)
            .header("sec-fetch-site", "same-origin")
            .json(&new_user_body(&email))
            .send()
            .await?;
        assert_eq!(response.status(), StatusCode::CREATED, "from {origin}");
        assert!(user_exists(&server, &email).await?);
    }
    let read = admin.bare(Method::GET, "/api/users").header("origin", "https://evil.example").send().await?;
    assert_eq!(
        read.status(),
        StatusCode::OK,
        "reads change nothing and need no header (CORS keeps the answer from the page)"
    );
    assert!(read.headers().get("access-control-allow-origin").is_none());
    Ok(())
}
