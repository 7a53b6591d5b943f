//! Accounts over real HTTP: login, sessions, disabling, throttling, and who may call what.

use baton_server::config::parse_origins;
use baton_shared::ErrorCode;
use baton_shared::api::{CreateUserRequest, Me, Role, UpdateUserRequest, User};
use baton_tests::client::{expect_error, json, session_cookie_of};
use baton_tests::database::Kind;
use baton_tests::server::TestServer;
use reqwest::header::SET_COOKIE;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn login_sets_an_http_only_session_cookie_and_me_answers() -> anyhow::Result<()> {
    for kind in [Kind::Sqlite, Kind::Postgres] {
        let server = TestServer::start_with(kind, |_| {}).await?;
        let (user, password) = server.create_user("Alice Agent", Role::Agent).await?;
        let mut client = server.client();
        let response = client.login(&user.email.to_uppercase(), &password).await?;
        let set_cookie = response.headers().get(SET_COOKIE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        assert!(set_cookie.starts_with("baton_session="), "{set_cookie}");
        assert!(set_cookie.contains("; HttpOnly"), "{set_cookie}");
        assert!(set_cookie.contains("; SameSite=Lax"), "{set_cookie}");
        assert!(set_cookie.contains("; Path=/"), "{set_cookie}");
        assert!(!set_cookie.contains("Secure"), "plain http origin: {set_cookie}");
        let me: Me = json(response).await?;
        assert_eq!(
            me,
            Me { id: user.id, name: "Alice Agent".into(), email: user.email.clone(), role: Role::Agent, teams: vec![] }
        );

        let me: Me = json(client.get("/api/me").await?).await?;
        assert_eq!(me.id, user.id, "{kind:?}");
        expect_error(server.client().get("/api/me").await?, StatusCode::UNAUTHORIZED).await?;
        server.stop().await?;
    }
    Ok(())
}

#[tokio::test]
async fn cookies_are_secure_when_the_public_origin_is_https() -> anyhow::Result<()> {
    let server = TestServer::start_with(Kind::Sqlite, |config| {
        config.public_origins = parse_origins("https://inbox.example.com").unwrap_or_default();
    })
    .await?;
    let (user, password) = server.create_user("Sec", Role::Agent).await?;
    let response = server
        .client()
        .request(Method::POST, "/api/auth/login")
        .header("origin", "https://inbox.example.com")
        .json(&json!({"email": user.email, "password": password}))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let set_cookie = response.headers().get(SET_COOKIE).and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(set_cookie.ends_with("; Secure"), "{set_cookie}");
    Ok(())
}

#[tokio::test]
async fn wrong_password_unknown_user_and_disabled_user_get_the_same_answer() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (_admin, _) = server.create_user("Admin", Role::Admin).await?;
    let (user, _password) = server.create_user("Known", Role::Agent).await?;
    let (disabled, disabled_password) = server.create_user("Gone", Role::Agent).await?;
    server
        .state
        .store
        .update_user(disabled.id, baton_server::store::UserPatch { disabled: Some(true), role: None }, None, 0)
        .await?;

    let mut answers = Vec::new();
    for (email, password) in [
        (user.email.as_str(), "not-the-password"),
        ("nobody@test.baton", "not-the-password"),
        (disabled.email.as_str(), disabled_password.as_str()),
    ] {
        let mut client = server.client();
        let response = client.try_login(email, password).await?;
        assert!(session_cookie_of(&response).is_none(), "no session for {email}");
        let status = response.status();
        answers.push((status, response.text().await?));
    }
    assert_eq!(answers[0].0, StatusCode::UNAUTHORIZED);
    assert!(answers[0].1.contains("\"code\":\"invalid_credentials\""), "{}", answers[0].1);
    assert_eq!(answers[0], answers[1], "unknown user answered differently");
    assert_eq!(answers[0], answers[2], "disabled user answered differently");
    Ok(())
}

#[tokio::test]
async fn a_disabled_users_session_stops_working_at_once() -> anyhow::Result<()> {
    for kind in [Kind::Sqlite, Kind::Postgres] {
        let server = TestServer::start_with(kind, |_| {}).await?;
        let (admin, _) = server.logged_in("Admin", Role::Admin).await?;
        let (agent, agent_user) = server.logged_in("Agent", Role::Agent).await?;
        assert_eq!(agent.get("/api/me").await?.status(), StatusCode::OK);

        let body = UpdateUserRequest { disabled: Some(true), role: None };
        let updated: User = json(admin.patch(&format!("/api/users/{}", agent_user.id), &body).await?).await?;
        assert!(updated.disabled);
        let error = expect_error(agent.get("/api/me").await?, StatusCode::UNAUTHORIZED).await?;
        assert_eq!(error.code, ErrorCode::Unauthenticated, "{kind:?}");
        server.stop().await?;
    }
    Ok(())
}

#[tokio::test]
async fn logout_ends_the_session_and_clears_the_cookie() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (client, _) = server.logged_in("Leaving", Role::Agent).await?;
    let response = client.request(Method::POST, "/api/auth/logout").send().await?;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let set_cookie = response.headers().get(SET_COOKIE).and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(set_cookie.contains("Max-Age=0"), "{set_cookie}");
    expect_error(client.get("/api/me").await?, StatusCode::UNAUTHORIZED).await?;
    let again = client.request(Method::POST, "/api/auth/logout").send().await?;
    assert_eq!(again.status(), StatusCode::NO_CONTENT, "logging out twice is fine");
    Ok(())
}

#[tokio::test]
async fn repeated_failures_are_throttled_per_account() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (user, password) = server.create_user("Target", Role::Agent).await?;
    let (other, other_password) = server.create_user("Bystander", Role::Agent).await?;
    let mut client = server.client();
    for attempt in 1..=4 {
        let response = client.try_login(&user.email, "wrong-password").await?;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let fifth = client.try_login(&user.email, "wrong-password").await?;
    assert_eq!(fifth.status(), StatusCode::UNAUTHORIZED, "the fifth failure is still judged, then locks (README)");
    let locked = client.try_login(&user.email, &password).await?;
    let retry_after: u64 =
        locked.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).unwrap_or(0);
    assert!((1..=30).contains(&retry_after), "Retry-After {retry_after}");
    let error = expect_error(locked, StatusCode::TOO_MANY_REQUESTS).await?;
    assert_eq!(error.code, ErrorCode::TooManyRequests, "even the right password waits");

    let unknown = server.client().try_login("ghost@test.baton", "x").await?.status();
    assert_eq!(unknown, StatusCode::UNAUTHORIZED);
    server.client().login(&other.email, &other_password).await?;
    Ok(())
}

/// Parallel guesses are counted before their (slow) verdict: of 20 at once, only the free
/// attempts and the one that locks are judged; the rest wait.
#[tokio::test]
async fn parallel_guesses_are_throttled_too() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (user, _) = server.create_user("Parallel Target", Role::Agent).await?;
    let guesses = (0..20).map(|index| {
        let mut client = server.client();
        let email = user.email.clone();
        tokio::spawn(async move { client.try_login(&email, &format!("guess-{index}")).await.map(|r| r.status()) })
    });
    let mut judged = 0;
    let mut throttled = 0;
    for guess in guesses {
        match guess.await?? {
            StatusCode::UNAUTHORIZED => judged += 1,
            StatusCode::TOO_MANY_REQUESTS => throttled += 1,
            other => anyhow::bail!("unexpected {other}"),
        }
    }
    assert_eq!((judged, throttled), (5, 15));
    Ok(())
}

/// Unknown emails are throttled exactly like known ones, so the lockout reveals nothing either.
#[tokio::test]
async fn unknown_emails_are_throttled_like_known_ones() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let mut client = server.client();
    for _ in 0..5 {
        client.try_login("ghost@test.baton", "wrong-password").await?;
    }
    let locked = client.try_login("ghost@test.baton", "wrong-password").await?;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    Ok(())
}

/// Who may call what: every endpoint, every role (and no session at all).
#[tokio::test]
async fn every_endpoint_checks_the_role() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (_, target) = server.logged_in("Target User", Role::Agent).await?;
    let mut clients = vec![(None, server.client())];
    for role in Role::ALL {
        let (client, _) = server.logged_in(&format!("{role} caller"), role).await?;
        clients.push((Some(role), client));
    }

    struct Endpoint {
        method: Method,
        path: String,
        body: Option<serde_json::Value>,
        /// The least role allowed; `None`: any logged-in user.
        least: Option<Role>,
        success: StatusCode,
    }
    let mut created = 0;
    let endpoints = |method: Method, path: String, body: Option<serde_json::Value>, least, success| Endpoint {
        method,
        path,
        body,
        least,
        success,
    };
    let table = vec![
        endpoints(Method::GET, "/api/me".into(), None, None, StatusCode::OK),
        endpoints(Method::GET, "/api/users".into(), None, Some(Role::Admin), StatusCode::OK),
        endpoints(Method::GET, format!("/api/users/{}", target.id), None, Some(Role::Admin), StatusCode::OK),
        endpoints(
            Method::POST,
            "/api/users".into(),
            Some(json!({"email": "new@test.baton", "name": "New", "role": "agent", "password": "long-enough"})),
            Some(Role::Admin),
            StatusCode::CREATED,
        ),
        endpoints(
            Method::PATCH,
            format!("/api/users/{}", target.id),
            Some(json!({"role": "lead"})),
            Some(Role::Admin),
            StatusCode::OK,
        ),
    ];

    for endpoint in &table {
        for (role, client) in &clients {
            let mut request = client.request(endpoint.method.clone(), &endpoint.path);
            if let Some(body) = &endpoint.body {
                request = request.json(body);
            }
            let response = request.send().await?;
            let expected = match (role, endpoint.least) {
                (None, _) => StatusCode::UNAUTHORIZED,
                (Some(_), None) => endpoint.success,
                (Some(role), Some(least)) if role.at_least(least) => endpoint.success,
                (Some(_), Some(_)) => StatusCode::FORBIDDEN,
            };
            let label = format!("{} {} as {role:?}", endpoint.method, endpoint.path);
            if expected.is_success() {
                assert_eq!(response.status(), expected, "{label}");
                if endpoint.success == StatusCode::CREATED {
                    created += 1;
                }
            } else {
                let error = expect_error(response, expected).await.map_err(|e| anyhow::anyhow!("{label}: {e}"))?;
                let code =
                    if expected == StatusCode::FORBIDDEN { ErrorCode::Forbidden } else { ErrorCode::Unauthenticated };
                assert_eq!(error.code, code, "{label}");
            }
        }
    }
    assert_eq!(created, 1, "only the admin created a user");
    let emails: Vec<String> = server.state.store.users().await?.into_iter().map(|user| user.email).collect();
    assert_eq!(emails.iter().filter(|email| *email == "new@test.baton").count(), 1);
    Ok(())
}

#[tokio::test]
async fn admins_manage_users() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (admin, admin_user) = server.logged_in("Root Admin", Role::Admin).await?;

    let request = CreateUserRequest {
        email: "  New.Agent@Test.Baton ".into(),
        name: "New Agent".into(),
        role: Role::Agent,
        password: "a-good-password".into(),
    };
    let response = admin.post("/api/users", &request).await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: User = json(response).await?;
    assert_eq!(created.email, "new.agent@test.baton", "emails are normalised");
    let mut newcomer = server.client();
    newcomer.login("new.agent@test.baton", "a-good-password").await?;

    let duplicate = admin.post("/api/users", &request).await?;
    assert_eq!(expect_error(duplicate, StatusCode::CONFLICT).await?.code, ErrorCode::EmailTaken);
    let mut bad_email = request.clone();
    bad_email.email = "not-an-email".into();
    assert_eq!(
        expect_error(admin.post("/api/users", &bad_email).await?, StatusCode::UNPROCESSABLE_ENTITY).await?.code,
        ErrorCode::InvalidInput
    );
    let mut short_password = request.clone();
    short_password.email = "short@test.baton".into();
    short_password.password = "short".into();
    let error =
        expect_error(admin.post("/api/users", &short_password).await?, StatusCode::UNPROCESSABLE_ENTITY).await?;
    assert!(error.message.contains("at least 8"), "{}", error.message);

    let promoted: User =
        json(admin.patch(&format!("/api/users/{}", created.id), &json!({"role": "supervisor"})).await?).await?;
    assert_eq!(promoted.role, Role::Supervisor);
    let me: Me = json(newcomer.get("/api/me").await?).await?;
    assert_eq!(me.role, Role::Supervisor, "a role change applies to the live session");

    let listed: Vec<User> = json(admin.get("/api/users").await?).await?;
    assert_eq!(listed.len(), 2);

    let demote_self = admin.patch(&format!("/api/users/{}", admin_user.id), &json!({"role": "agent"})).await?;
    assert_eq!(expect_error(demote_self, StatusCode::CONFLICT).await?.code, ErrorCode::LastAdmin);
    let missing = admin.patch("/api/users/999999", &json!({"disabled": true})).await?;
    assert_eq!(expect_error(missing, StatusCode::NOT_FOUND).await?.code, ErrorCode::NotFound);
    let unknown_field = admin.patch(&format!("/api/users/{}", created.id), &json!({"rol": "admin"})).await?;
    expect_error(unknown_field, StatusCode::UNPROCESSABLE_ENTITY).await?;

    let audit = server.state.store.audit_log(10).await?;
    assert!(audit.iter().any(|entry| entry.action == "user.role" && entry.actor == Some(admin_user.id)));
    Ok(())
}
