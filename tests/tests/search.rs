//! Search, the conformance suite: the same cases on SQLite (FTS5) and PostgreSQL (`tsvector`),
//! with the same expected hits — accents and case aside, Arabic, Hindi, Greek and Chinese words,
//! prefixes, snippets with the matching words marked, notes (edited and deleted), the filters
//! (direction, status, label, team, dates), the backlog indexed at startup, and visibility: each viewer's hits and counts are
//! exactly the conversations the visibility rule lets them see, nothing of the others.

use std::collections::BTreeSet;

use baton_server::config::DatabaseUrl;
use baton_shared::api::{NoteRequest, Role, User};
use baton_shared::rules::{Viewer, visible_to};
use baton_shared::search::{HitKind, SearchResults};
use baton_shared::teams::AssignmentModel;
use baton_shared::{ConversationId, TeamId, UserId};
use baton_tests::client::{TestClient, json};
use baton_tests::database::{Kind, TestDatabase};
use baton_tests::eventually::eventually;
use baton_tests::server::TestServer;
use baton_tests::teams::{create_team, put};
use reqwest::StatusCode;

baton_tests::on_both_kinds!(words_in_any_script_are_found_the_same_way_on_both_databases);
baton_tests::on_both_kinds!(each_viewer_finds_exactly_what_they_may_see);
baton_tests::on_both_kinds!(notes_and_filters_narrow_the_hits);

/// `text` percent-encoded for a query string (every byte but ASCII letters and digits).
fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| if byte.is_ascii_alphanumeric() { char::from(byte).to_string() } else { format!("%{byte:02X}") })
        .collect()
}

async fn search(client: &TestClient, query: &str) -> anyhow::Result<SearchResults> {
    json(client.get(&format!("/api/search?q={}", encode(query))).await?).await
}

/// The conversations found for `query` with `extra` filters (`&team=1`…).
async fn found(client: &TestClient, query: &str, extra: &str) -> anyhow::Result<BTreeSet<ConversationId>> {
    let url = format!("/api/search?q={}{extra}", encode(query));
    let results: SearchResults = json(client.get(&url).await?).await?;
    anyhow::ensure!(results.total as usize == results.groups.len(), "a page held every conversation");
    Ok(results.groups.into_iter().map(|group| group.conversation).collect())
}

async fn words_in_any_script_are_found_the_same_way_on_both_databases(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (admin, _) = server.logged_in("Ada", Role::Admin).await?;
    let portuguese = server.customer_writes("5511900000001", "Recebi uma COBRANÇA indevida no cartão").await?;
    let arabic = server.customer_writes("966500000002", "أريد الفَاتُورَة من فضلك").await?;
    let hindi = server.customer_writes("919876543210", "मुझे रिफंड चाहिए").await?;
    let chinese = server.customer_writes("8613800000004", "我要申请退款，谢谢").await?;
    let greek = server.customer_writes("306900000005", "ΛΟΓΑΡΙΑΣΜΟΣ κλειδωμένος").await?;
    let english = server.customer_writes("447700000006", "Where is my refund? Order 12-345").await?;
    let one = |id| BTreeSet::from([id]);
    // Searchable as soon as it was acknowledged: no wait here.
    assert_eq!(found(&admin, "cobranca", "").await?, one(portuguese), "accents and case aside");
    assert_eq!(found(&admin, "Cartao indevida", "").await?, one(portuguese), "every word must match");
    assert_eq!(found(&admin, "cobranca refund", "").await?, BTreeSet::new());
    assert_eq!(found(&admin, "الفاتورة", "").await?, one(arabic), "Arabic without its short vowels");
    assert_eq!(found(&admin, "रिफंड", "").await?, one(hindi), "Hindi");
    assert_eq!(found(&admin, "रफंड", "").await?, BTreeSet::new(), "Devanagari's vowel signs tell words apart");
    assert_eq!(found(&admin, "退款", "").await?, one(chinese), "Chinese characters side by side");
    assert_eq!(found(&admin, "款退", "").await?, BTreeSet::new(), "not in another order");
    assert_eq!(found(&admin, "λογαριασμός", "").await?, one(greek), "Greek, final sigma and accent aside");
    assert_eq!(found(&admin, "refu", "").await?, one(english), "a word by its beginning");
    assert_eq!(found(&admin, "345", "").await?, one(english), "numbers are words");
    assert_eq!(found(&admin, "efund", "").await?, BTreeSet::new(), "not from inside a word");

    let results = search(&admin, "refund").await?;
    let snippet = &results.groups[0].hits[0].snippet;
    let marked: Vec<&str> = snippet.iter().filter(|piece| piece.hit).map(|piece| piece.text.as_str()).collect();
    assert_eq!(marked, ["refund"]);
    assert_eq!(snippet.iter().map(|piece| piece.text.as_str()).collect::<String>(), "Where is my refund? Order 12-345");
    assert_eq!(results.groups[0].customer, "Customer 447700000006");
    assert_eq!(results.groups[0].hits[0].kind, HitKind::Message);

    // Nothing to look for, or a filter that does not read: a sentence, not a crash.
    let empty = admin.get("/api/search?q=%20%2C%21").await?;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: serde_json::Value = empty.json().await?;
    assert!(problem["message"].as_str().is_some_and(|message| message.contains("Type a word")), "{problem}");
    assert_eq!(admin.get("/api/search?q=refund&team=billing").await?.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(admin.get("/api/search?q=refund&limit=500").await?.status(), StatusCode::UNPROCESSABLE_ENTITY);
    server.stop().await
}

/// A conversation saying `word`, placed in `team` and assigned to `assignee`.
async fn conversation(
    server: &TestServer,
    admin: &TestClient,
    customer: &str,
    team: Option<TeamId>,
    assignee: Option<UserId>,
) -> anyhow::Result<(ConversationId, Option<TeamId>, Option<UserId>)> {
    let id = server.customer_writes(customer, "The zebra crossing is closed").await?;
    put(admin, &format!("/api/conversations/{id}/team"), &serde_json::json!({ "team": team })).await?;
    put(admin, &format!("/api/conversations/{id}/assignee"), &serde_json::json!({ "assignee": assignee })).await?;
    Ok((id, team, assignee))
}

async fn each_viewer_finds_exactly_what_they_may_see(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (admin, _) = server.logged_in("Ada", Role::Admin).await?;
    let (agent_client, agent) = server.logged_in("Ann", Role::Agent).await?;
    let (lead_client, lead) = server.logged_in("Leo", Role::Lead).await?;
    let (supervisor_client, supervisor) = server.logged_in("Sue", Role::Supervisor).await?;
    let (_, other) = server.logged_in("Oto", Role::Agent).await?;
    let sales =
        create_team(&admin, "Sales", AssignmentModel::Queue, &[(agent.id, None), (lead.id, None), (other.id, None)])
            .await?;
    let billing = create_team(&admin, "Billing", AssignmentModel::Queue, &[(other.id, None)]).await?;
    let placed = [
        conversation(&server, &admin, "100", None, None).await?,
        conversation(&server, &admin, "101", None, Some(other.id)).await?,
        conversation(&server, &admin, "102", Some(sales), None).await?,
        conversation(&server, &admin, "103", Some(sales), Some(other.id)).await?,
        conversation(&server, &admin, "104", Some(sales), Some(agent.id)).await?,
        conversation(&server, &admin, "105", Some(billing), None).await?,
        conversation(&server, &admin, "106", Some(billing), Some(other.id)).await?,
        conversation(&server, &admin, "107", Some(billing), Some(agent.id)).await?,
    ];
    let viewers: [(&TestClient, &User, Vec<TeamId>); 3] = [
        (&agent_client, &agent, vec![sales]),
        (&lead_client, &lead, vec![sales]),
        (&supervisor_client, &supervisor, vec![]),
    ];
    for (client, user, teams) in viewers {
        let viewer = Viewer { id: user.id, role: user.role, teams: &teams };
        let allowed: BTreeSet<ConversationId> = placed
            .iter()
            .filter(|(_, team, assignee)| visible_to(*assignee, *team, &viewer))
            .map(|(id, _, _)| *id)
            .collect();
        let results = search(client, "zebra").await?;
        let seen: BTreeSet<ConversationId> = results.groups.iter().map(|group| group.conversation).collect();
        assert_eq!(seen, allowed, "{} ({:?}) sees what the rule lets them", user.name, user.role);
        assert_eq!(results.total as usize, allowed.len(), "{}: the count tells of nothing else", user.name);
    }
    // The rule's answers, spelled out for the agent: their own (anywhere), Sales' waiting one, and
    // the general inbox's waiting one — not a teammate's, not Billing's.
    let agent_sees = found(&agent_client, "zebra", "").await?;
    let expected: BTreeSet<ConversationId> = [0, 2, 4, 7].iter().map(|index| placed[*index].0).collect();
    assert_eq!(agent_sees, expected);
    server.stop().await
}

async fn notes_and_filters_narrow_the_hits(kind: Kind) -> anyhow::Result<()> {
    let server = TestServer::start_with(kind, |_| {}).await?;
    let (admin, ada) = server.logged_in("Ada", Role::Admin).await?;
    let support = create_team(&admin, "Support", AssignmentModel::Queue, &[(ada.id, None)]).await?;
    let first = server.customer_writes("200", "My parcel never arrived").await?;
    let second = server.customer_writes("201", "Question about a parcel").await?;
    put(&admin, &format!("/api/conversations/{second}/team"), &serde_json::json!({ "team": support })).await?;

    // A note is found; edited, by its new words only; deleted, not at all.
    let request = NoteRequest { body: "Courier lost the parcel in Lisbon".into(), base_version: 0 };
    let created = admin.post(&format!("/api/conversations/{first}/notes"), &request).await?;
    assert_eq!(created.status(), StatusCode::CREATED);
    let note: baton_shared::model::Note = created.json().await?;
    assert_eq!(found(&admin, "lisbon", "").await?, BTreeSet::from([first]));
    let hits = search(&admin, "lisbon").await?.groups[0].hits.clone();
    assert_eq!((hits[0].kind, hits[0].id), (HitKind::Note, note.id.0));
    let edit = NoteRequest { body: "Courier lost the parcel in Porto".into(), base_version: note.version };
    let edited = admin.request(reqwest::Method::PUT, &format!("/api/notes/{}", note.id)).json(&edit).send().await?;
    assert_eq!(edited.status(), StatusCode::OK, "{:?}", edited.text().await);
    assert_eq!(found(&admin, "lisbon", "").await?, BTreeSet::new(), "the old words are gone");
    assert_eq!(found(&admin, "porto", "").await?, BTreeSet::from([first]));
    let deleted = admin.request(reqwest::Method::DELETE, &format!("/api/notes/{}", note.id)).send().await?;
    assert!(deleted.status().is_success(), "{}", deleted.status());
    assert_eq!(found(&admin, "porto", "").await?, BTreeSet::new(), "a deleted note is not found");

    // The filters.
    let both = BTreeSet::from([first, second]);
    assert_eq!(found(&admin, "parcel", "").await?, both);
    assert_eq!(found(&admin, "parcel", &format!("&team={support}")).await?, BTreeSet::from([second]));
    assert_eq!(found(&admin, "parcel", "&direction=outbound").await?, BTreeSet::new(), "no reply says it");
    assert_eq!(found(&admin, "parcel", "&direction=inbound").await?, both);
    put(&admin, &format!("/api/conversations/{first}/status"), &serde_json::json!({"status": "resolved"})).await?;
    assert_eq!(found(&admin, "parcel", "&status=resolved").await?, BTreeSet::from([first]));
    let labelled =
        admin.patch(&format!("/api/conversations/{second}/labels"), &serde_json::json!({"add": ["vip_100%"]})).await?;
    assert_eq!(labelled.status(), StatusCode::OK);
    assert_eq!(found(&admin, "parcel", "&label=vip_100%25").await?, BTreeSet::from([second]));
    assert_eq!(found(&admin, "parcel", "&label=VIP_100%25").await?, BTreeSet::from([second]), "as labels are kept");
    assert_eq!(found(&admin, "parcel", "&label=vip").await?, BTreeSet::new(), "a whole label, not a part");
    let now = baton_server::clock::now_ms();
    assert_eq!(found(&admin, "parcel", &format!("&from={}", now + 60_000)).await?, BTreeSet::new());
    assert_eq!(found(&admin, "parcel", &format!("&from={}&to={}", now - 600_000, now + 60_000)).await?, both);
    server.stop().await
}

baton_tests::on_both_kinds!(what_was_stored_before_the_index_is_indexed_at_startup);

/// Empties the search index beneath the store, as a database from before search was; how many
/// documents it held.
async fn forget_the_index(database: &TestDatabase) -> anyhow::Result<u64> {
    Ok(match &database.url {
        DatabaseUrl::Sqlite(path) => {
            let store = baton_server::store::sqlite::open(path).await?;
            let deleted = sqlx::query("DELETE FROM search_docs").execute(store.pool()).await?.rows_affected();
            store.pool().close().await;
            deleted
        }
        DatabaseUrl::Postgres(url) => {
            let store = baton_server::store::postgres::open(url).await?;
            let deleted = sqlx::query("DELETE FROM search_docs").execute(store.pool()).await?.rows_affected();
            store.pool().close().await;
            deleted
        }
    })
}

async fn what_was_stored_before_the_index_is_indexed_at_startup(kind: Kind) -> anyhow::Result<()> {
    let database = TestDatabase::new(kind).await?;
    let before = TestServer::start_on(database.another_node()?, |_| {}).await?;
    let (admin, _) = before.logged_in("Ada", Role::Admin).await?;
    let mut written = BTreeSet::new();
    for customer in ["300", "301", "302"] {
        written.insert(before.customer_writes(customer, "Is the quokka tour still on?").await?);
    }
    let noted = *written.first().ok_or_else(|| anyhow::anyhow!("no conversation"))?;
    let request = NoteRequest { body: "Wombat tour instead?".into(), base_version: 0 };
    assert_eq!(admin.post(&format!("/api/conversations/{noted}/notes"), &request).await?.status(), StatusCode::CREATED);
    before.stop().await?;
    assert!(forget_the_index(&database).await? >= 4, "three messages and a note were indexed, then forgotten");

    // Started again: the backlog indexes what the index lacks, by itself.
    let after = TestServer::start_on(database.another_node()?, |_| {}).await?;
    let (admin, _) = after.logged_in("Bo", Role::Admin).await?;
    let found_all = eventually(std::time::Duration::from_secs(20), || async {
        let quokka = found(&admin, "quokka", "").await?;
        let wombat = found(&admin, "wombat", "").await?;
        Ok(if quokka == written && wombat == BTreeSet::from([noted]) {
            Ok(())
        } else {
            Err(format!("quokka {quokka:?}, wombat {wombat:?}"))
        })
    })
    .await;
    found_all?;
    after.stop().await
}

baton_tests::on_both_kinds!(a_common_word_is_found_newest_first_the_same_as_a_rare_one);

/// Customer `customer` writes `count` messages saying "parcel", the `n`th at `base + n`.
async fn many(server: &TestServer, customer: String, count: i64, base: i64) -> anyhow::Result<ConversationId> {
    let mut conversation = None;
    for n in 0..count {
        conversation =
            Some(server.customer_writes_at(&customer, &format!("Where is my parcel, day {n}?"), base + n).await?);
    }
    conversation.ok_or_else(|| anyhow::anyhow!("no message"))
}

/// More documents say "parcel" than make a word rare (5,000), so the conversations with it are
/// found by walking documents newest first: the page, its order, the hits counted, the filters
/// and who may see what are as the index gives them for a rare word.
async fn a_common_word_is_found_newest_first_the_same_as_a_rare_one(kind: Kind) -> anyhow::Result<()> {
    let server = std::sync::Arc::new(TestServer::start_with(kind, |_| {}).await?);
    let (admin, _) = server.logged_in("Ada", Role::Admin).await?;
    let (agent_client, _) = server.logged_in("Ann", Role::Agent).await?;
    let (_, other) = server.logged_in("Oto", Role::Agent).await?;
    let base = baton_server::clock::now_ms() - 10_000_000;
    // 40 customers × 130 messages, customer i's all newer than customer i − 1's; written by 8
    // writers at once.
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..8_i64 {
        let server = server.clone();
        writers.spawn(async move {
            let mut written = Vec::new();
            for i in (writer..40).step_by(8) {
                written.push((i, many(&server, format!("4470000{i:05}"), 130, base + i * 100_000).await?));
            }
            anyhow::Ok(written)
        });
    }
    let mut by_age = vec![ConversationId(0); 40];
    while let Some(written) = writers.join_next().await {
        for (i, id) in written?? {
            by_age[i as usize] = id;
        }
    }
    // On PostgreSQL, with the index analyzed: whether a word is common is then read from its
    // statistics ("parcel" is in every document, "dent" in none of those counted) rather than
    // counted in the index — the same answers either way.
    if let DatabaseUrl::Postgres(url) = &server.database.url {
        let store = baton_server::store::postgres::open(url).await?;
        sqlx::query("ANALYZE search_docs").execute(store.pool()).await?;
        store.pool().close().await;
    }
    let newest = |from: usize, count: usize| -> Vec<ConversationId> { (0..count).map(|k| by_age[from - k]).collect() };
    let page = |results: &SearchResults| results.groups.iter().map(|group| group.conversation).collect::<Vec<_>>();

    let results: SearchResults = json(admin.get("/api/search?q=parcel&limit=10").await?).await?;
    assert_eq!(page(&results), newest(39, 10), "the ten with the newest hits, newest first");
    assert!(results.total_capped, "not every conversation was counted");
    assert!(results.groups.iter().all(|group| group.hit_count == 130 && group.hits.len() == 5));
    assert_eq!(
        results.groups[0].hits[0].snippet.iter().map(|piece| piece.text.as_str()).collect::<String>(),
        "Where is my parcel, day 129?"
    );

    // Filters: the five newest resolved, the open ones start below them.
    for id in &by_age[35..40] {
        put(&admin, &format!("/api/conversations/{id}/status"), &serde_json::json!({"status": "resolved"})).await?;
    }
    let open: SearchResults = json(admin.get("/api/search?q=parcel&status=open&limit=10").await?).await?;
    assert_eq!(page(&open), newest(34, 10));
    // Visibility: Oto's ten are not Ann's to see, nor counted.
    for id in &by_age[25..35] {
        put(&admin, &format!("/api/conversations/{id}/assignee"), &serde_json::json!({"assignee": other.id})).await?;
    }
    let hers: SearchResults = json(agent_client.get("/api/search?q=parcel&status=open&limit=10").await?).await?;
    assert_eq!(page(&hers), newest(24, 10));
    // A rare word among them goes by the index, with an exact count.
    server.customer_writes(&format!("4470000{:05}", 3), "The parcel came with a dent").await?;
    let rare: SearchResults = json(admin.get("/api/search?q=dent").await?).await?;
    assert_eq!((page(&rare), rare.total, rare.total_capped), (vec![by_age[3]], 1, false));
    // All of them, when asked for fewer than there are on a page of the walk.
    let all: SearchResults = json(admin.get("/api/search?q=parcel&limit=50").await?).await?;
    assert_eq!((all.groups.len(), all.total, all.total_capped), (40, 40, false), "the walk ended: exact");
    assert_eq!(page(&all)[0], by_age[3], "the dent is the newest parcel now");
    match std::sync::Arc::try_unwrap(server) {
        Ok(server) => server.stop().await,
        Err(_) => anyhow::bail!("a writer still holds the server"),
    }
}
