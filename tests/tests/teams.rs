//! Teams over real HTTP, on SQLite and PostgreSQL: admins create, rename, set members with their
//! capacities, and delete; everyone reads; agents and supervisors may change nothing; names are
//! unique whatever their case; bad input is refused with a sentence and stores nothing; every
//! change is audited. Several admins replacing one team's members at once each apply whole.

use baton_shared::ErrorCode;
use baton_shared::api::Role;
use baton_shared::teams::{
    AssignmentModel, DEFAULT_CAPACITY, Membership, MembershipRequest, MembershipsRequest, Team, TeamRequest,
};
use baton_tests::client::{TestClient, expect_error, json};
use baton_tests::database::Kind;
use baton_tests::server::TestServer;
use reqwest::{Method, StatusCode};

baton_tests::on_both_kinds!(admins_set_teams_up_and_everyone_reads_them, members_set_at_once_each_apply_whole);

fn settings(name: &str, model: AssignmentModel) -> TeamRequest {
    TeamRequest { name: name.into(), model, sticky: true, sticky_days: 30, grace_minutes: 5 }
}

async fn teams(client: &TestClient) -> anyhow::Result<Vec<Team>> {
    let response = client.get("/api/teams").await?;
    anyhow::ensure!(response.status() == StatusCode::OK, "list answered {}", response.status());
    json(response).await
}

async fn put_members(
    client: &TestClient,
    team: baton_shared::TeamId,
    members: &[(baton_shared::UserId, Option<u32>)],
) -> anyhow::Result<reqwest::Response> {
    let body = MembershipsRequest {
        members: members
            .iter()
            .map(|(user, capacity)| MembershipRequest { user: *user, capacity: *capacity })
            .collect(),
    };
    Ok(client.request(Method::PUT, &format!("/api/teams/{team}/members")).json(&body).send().await?)
}

async fn admins_set_teams_up_and_everyone_reads_them(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (admin, admin_user) = server.logged_in("Ada", Role::Admin).await?;
    let (agent, bea) = server.logged_in("Bea", Role::Agent).await?;
    let (supervisor, _) = server.logged_in("Sam", Role::Supervisor).await?;
    let (_, ben) = server.logged_in("Ben", Role::Agent).await?;
    assert!(teams(&agent).await?.is_empty());

    let created = admin.post("/api/teams", &settings("  Billing ", AssignmentModel::RoundRobin)).await?;
    assert_eq!(created.status(), StatusCode::CREATED);
    let billing: Team = json(created).await?;
    assert_eq!((billing.name.as_str(), billing.model), ("Billing", AssignmentModel::RoundRobin), "trimmed");
    assert!(billing.members.is_empty());
    // Only a name: the defaults.
    let sales = admin.post("/api/teams", &serde_json::json!({ "name": "sales" })).await?;
    let sales: Team = json(sales).await?;
    assert_eq!(
        (sales.model, sales.sticky, sales.sticky_days, sales.grace_minutes),
        (AssignmentModel::Manual, true, 30, 5)
    );

    // Members with their capacities (the default when none is given), listed by user id.
    let set = put_members(&admin, billing.id, &[(ben.id, Some(4)), (bea.id, None)]).await?;
    assert_eq!(set.status(), StatusCode::OK);
    let billing: Team = json(set).await?;
    let mut expected =
        vec![Membership { user: bea.id, capacity: DEFAULT_CAPACITY }, Membership { user: ben.id, capacity: 4 }];
    expected.sort_by_key(|member| member.user);
    assert_eq!(billing.members, expected);
    let listed = teams(&agent).await?;
    assert_eq!(
        listed.iter().map(|team| (team.name.as_str(), team.members.len())).collect::<Vec<_>>(),
        [("Billing", 2), ("sales", 0)],
        "everyone reads the teams, by name whatever the case (on both databases)"
    );

    // Agents and supervisors may change nothing.
    for client in [&agent, &supervisor] {
        let refused = client.post("/api/teams", &settings("Mine", AssignmentModel::Queue)).await?;
        assert_eq!(expect_error(refused, StatusCode::FORBIDDEN).await?.code, ErrorCode::Forbidden);
        let refused = put_members(client, billing.id, &[]).await?;
        expect_error(refused, StatusCode::FORBIDDEN).await?;
        let refused = client.request(Method::DELETE, &format!("/api/teams/{}", billing.id)).send().await?;
        expect_error(refused, StatusCode::FORBIDDEN).await?;
    }

    // Bad input: a sentence, nothing stored.
    let long_name = "t".repeat(61);
    let bad_settings = [
        settings("", AssignmentModel::Manual),
        settings(&long_name, AssignmentModel::Manual),
        TeamRequest { sticky_days: 366, ..settings("Support", AssignmentModel::Manual) },
        TeamRequest { grace_minutes: 24 * 60 + 1, ..settings("Support", AssignmentModel::Manual) },
    ];
    for bad in bad_settings {
        let refused = admin.post("/api/teams", &bad).await?;
        let error = expect_error(refused, StatusCode::UNPROCESSABLE_ENTITY).await?;
        assert_eq!(error.code, ErrorCode::InvalidInput);
        assert!(!error.message.is_empty());
    }
    let unknown_model = admin.post("/api/teams", &serde_json::json!({ "name": "Support", "model": "lottery" })).await?;
    assert!(unknown_model.status().is_client_error(), "an unknown model is refused: {}", unknown_model.status());
    let nobody = baton_shared::UserId(999_999);
    for bad in [vec![(nobody, None)], vec![(bea.id, None), (bea.id, Some(3))], vec![(bea.id, Some(1001))]] {
        let refused = put_members(&admin, billing.id, &bad).await?;
        assert_eq!(expect_error(refused, StatusCode::UNPROCESSABLE_ENTITY).await?.code, ErrorCode::InvalidInput);
    }
    let taken = admin.post("/api/teams", &settings("BILLING", AssignmentModel::Manual)).await?;
    assert_eq!(expect_error(taken, StatusCode::CONFLICT).await?.code, ErrorCode::Conflict, "unique, case aside");
    let renamed = admin
        .request(Method::PUT, &format!("/api/teams/{}", sales.id))
        .json(&settings("billing", AssignmentModel::Manual))
        .send()
        .await?;
    expect_error(renamed, StatusCode::CONFLICT).await?;
    let missing = put_members(&admin, baton_shared::TeamId(999_999), &[]).await?;
    expect_error(missing, StatusCode::NOT_FOUND).await?;
    assert_eq!(teams(&agent).await?.len(), 2);
    assert_eq!(teams(&agent).await?[0].members.len(), 2, "refused member lists changed nothing");

    // Edit, then delete.
    let edited = admin
        .request(Method::PUT, &format!("/api/teams/{}", billing.id))
        .json(&TeamRequest { grace_minutes: 10, ..settings("Billing", AssignmentModel::Balanced) })
        .send()
        .await?;
    assert_eq!(edited.status(), StatusCode::OK);
    let edited: Team = json(edited).await?;
    assert_eq!((edited.model, edited.grace_minutes, edited.members.len()), (AssignmentModel::Balanced, 10, 2));
    let deleted = admin.request(Method::DELETE, &format!("/api/teams/{}", sales.id)).send().await?;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let again = admin.request(Method::DELETE, &format!("/api/teams/{}", sales.id)).send().await?;
    expect_error(again, StatusCode::NOT_FOUND).await?;
    assert_eq!(teams(&agent).await?.iter().map(|team| team.name.as_str()).collect::<Vec<_>>(), ["Billing"]);

    // Audited: who did what to which team.
    let audit = server.state.store.audit_log(50).await?;
    let actions: Vec<(&str, String)> = audit
        .iter()
        .filter(|entry| entry.actor == Some(admin_user.id) && entry.action.starts_with("team."))
        .map(|entry| (entry.action.as_str(), entry.subject.clone()))
        .collect();
    let billing_subject = format!("team:{}", billing.id);
    let sales_subject = format!("team:{}", sales.id);
    assert_eq!(
        actions,
        [
            ("team.delete", sales_subject.clone()),
            ("team.update", billing_subject.clone()),
            ("team.members", billing_subject.clone()),
            ("team.create", sales_subject),
            ("team.create", billing_subject),
        ],
        "newest first, refusals not audited"
    );
    server.stop().await
}

/// Eight admins each replace one team's members with a different list at the same time: the team
/// ends with exactly one of those lists, never a mix of two.
async fn members_set_at_once_each_apply_whole(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (admin, _) = server.logged_in("Ada", Role::Admin).await?;
    let mut users = Vec::new();
    for n in 0..8 {
        users.push(server.create_user(&format!("Agent {n}"), Role::Agent).await?.0.id);
    }
    let created = admin.post("/api/teams", &settings("Support", AssignmentModel::Queue)).await?;
    let team: Team = json(created).await?;
    // List `n`: users n and n+1 (wrapping), each with capacity n + 1.
    let lists: Vec<Vec<Membership>> = (0..8)
        .map(|n| {
            let capacity = n as u32 + 1;
            let mut list =
                vec![Membership { user: users[n], capacity }, Membership { user: users[(n + 1) % 8], capacity }];
            list.sort_by_key(|member| member.user);
            list
        })
        .collect();
    let writers = lists.iter().map(|list| {
        let body: Vec<_> = list.iter().map(|member| (member.user, Some(member.capacity))).collect();
        let admin = &admin;
        let id = team.id;
        async move { put_members(admin, id, &body).await }
    });
    for answer in futures_util::future::join_all(writers).await {
        assert_eq!(answer?.status(), StatusCode::OK);
    }
    let after = teams(&admin).await?.into_iter().find(|found| found.id == team.id);
    let members = after.map(|team| team.members).unwrap_or_default();
    assert!(lists.contains(&members), "the team holds one whole list, not a mix: {members:?}");
    server.stop().await
}
