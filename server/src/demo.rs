//! Demo mode: on an empty database, `baton demo` creates a small team so Baton can be tried at
//! once. The passwords are fixed and published in the README — demo data is for a laptop, never
//! for production. On a database that already has users nothing is created or changed.

use baton_shared::api::Role;

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
    for account in &ACCOUNTS {
        let new = NewAccount {
            email: account.email.into(),
            name: account.name.into(),
            role: account.role,
            password: account.password.into(),
        };
        // Before any server runs: the wall clock's time.
        accounts::create(store, passwords, new, None, Clock::Wall).await.map_err(|error| anyhow::anyhow!("{error}"))?;
    }
    Ok(true)
}

/// The credentials table printed at start.
pub fn credentials_table() -> String {
    let mut table = String::from("  role        email               password\n");
    for account in &ACCOUNTS {
        table.push_str(&format!("  {:<11} {:<19} {}\n", account.role.as_str(), account.email, account.password));
    }
    table
}
