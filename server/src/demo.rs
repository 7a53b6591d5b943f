//! Demo mode: on an empty database, `baton demo` creates a small team so Baton can be tried at
//! once: four accounts, two teams (Billing, round-robin, with Alice and Bob; Sales, a queue, with
//! Alice) and a routing rule that sends billing questions to Billing. The passwords are fixed and published in the README — demo data is for a laptop, never
//! for production. On a database that already has users nothing is created or changed.

use baton_shared::UserId;
use baton_shared::api::Role;
use baton_shared::routing_rules::{Action, Combine, Condition, Rule, RuleSet, Trigger};
use baton_shared::teams::{
    AssignmentModel, DEFAULT_CAPACITY, DEFAULT_GRACE_MINUTES, DEFAULT_STICKY_DAYS, Membership, TeamRequest,
};

use crate::accounts::{self, NewAccount};
use crate::clock::Clock;
use crate::passwords::Passwords;
use crate::store::Store;

/// A demo account: email, name, role, password.
pub struct DemoAccount {
    pub email: &'static str,
    pub name: &'static str,
    pub role: Role,
    pub password: &'static str,
}

pub const ACCOUNTS: [DemoAccount; 4] = [
    DemoAccount { email: "admin@demo.baton", name: "Ada Admin", role: Role::Admin, password: "demo-admin-pass" },
    DemoAccount { email: "alice@demo.baton", name: "Alice Agent", role: Role::Agent, password: "demo-alice-pass" },
    DemoAccount { email: "bob@demo.baton", name: "Bob Agent", role: Role::Agent, password: "demo-bob-pass" },
    DemoAccount { email: "sam@demo.baton", name: "Sam Supervisor", role: Role::Supervisor, password: "demo-sam-pass" },
];

/// Creates the demo accounts when the database has no user yet. Returns whether it did.
pub async fn seed(store: &dyn Store, passwords: &Passwords) -> anyhow::Result<bool> {
    if store.user_count().await? > 0 {
        return Ok(false);
    }
    let mut users = Vec::new();
    for account in &ACCOUNTS {
        let new = NewAccount {
            email: account.email.into(),
            name: account.name.into(),
            role: account.role,
            password: account.password.into(),
        };
        // Before any server runs: the wall clock's time.
        let user = accounts::create(store, passwords, new, None, Clock::Wall)
            .await
            .map_err(|error| anyhow::anyhow!("{error}"))?;
        users.push(user.id);
    }
    seed_routing(store, users[0], users[1], users[2]).await?;
    Ok(true)
}

/// Billing (round-robin: Alice and Bob), Sales (a queue: Alice), and a rule for billing words.
async fn seed_routing(store: &dyn Store, admin: UserId, alice: UserId, bob: UserId) -> anyhow::Result<()> {
    let now = crate::clock::now_ms();
    let team = |name: &str, model| TeamRequest {
        name: name.into(),
        model,
        sticky: true,
        sticky_days: DEFAULT_STICKY_DAYS,
        grace_minutes: DEFAULT_GRACE_MINUTES,
    };
    let member = |user| Membership { user, capacity: DEFAULT_CAPACITY };
    let billing = store.create_team(&team("Billing", AssignmentModel::RoundRobin), admin, now).await?;
    store.set_team_members(billing.id, &[member(alice), member(bob)], admin, now).await?;
    let sales = store.create_team(&team("Sales", AssignmentModel::Queue), admin, now).await?;
    store.set_team_members(sales.id, &[member(alice)], admin, now).await?;
    let words =
        |words: &[&str]| Condition::TextContains { keywords: words.iter().map(|word| (*word).into()).collect() };
    let rule = |name: &str, condition, actions| Rule {
        combine: Combine::Any,
        ..Rule::new(name, vec![Trigger::NewConversation, Trigger::CustomerMessage], vec![condition], actions)
    };
    let rules = RuleSet {
        default_team: None,
        rules: vec![
            rule(
                "Billing questions",
                words(&["charged", "invoice", "refund", "cobrança", "fatura", "reembolso"]),
                vec![Action::SetTeam { team: billing.id }, Action::AddLabels { labels: vec!["billing".into()] }],
            ),
            rule("Sales", words(&["price", "buy", "preço", "comprar"]), vec![Action::SetTeam { team: sales.id }]),
        ],
    };
    store.save_routing_rules(&rules, 0, admin, now).await?;
    Ok(())
}

/// The credentials table printed at start.
pub fn credentials_table() -> String {
    let mut table = String::from("  role        email               password\n");
    for account in &ACCOUNTS {
        table.push_str(&format!("  {:<11} {:<19} {}\n", account.role.as_str(), account.email, account.password));
    }
    table
}
