//! A real database per test: SQLite in a temporary directory, or a fresh PostgreSQL database that
//! is dropped when the test ends (even when it fails).

use std::str::FromStr;
use std::sync::Arc;

use baton_server::config::DatabaseUrl;
use baton_server::store::{self, Store};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};

/// The PostgreSQL server tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("BATON_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://127.0.0.1:5432/postgres".into())
}

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// A database that exists for as long as this value does.
pub struct TestDatabase {
    pub url: DatabaseUrl,
    /// Keeps the SQLite file's directory alive.
    pub dir: tempfile::TempDir,
    postgres: Option<PostgresDatabase>,
}

impl TestDatabase {
    pub async fn new(kind: Kind) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        match kind {
            Kind::Sqlite => Ok(TestDatabase { url: DatabaseUrl::in_data_dir(dir.path()), dir, postgres: None }),
            Kind::Postgres => {
                let postgres = PostgresDatabase::create().await?;
                Ok(TestDatabase { url: DatabaseUrl::Postgres(postgres.url.clone()), dir, postgres: Some(postgres) })
            }
        }
    }

    /// Opens the store (applying migrations).
    pub async fn open(&self) -> anyhow::Result<Arc<dyn Store>> {
        Ok(store::open(&self.url).await?)
    }

    /// Another handle on this database, for a second Baton node on it: dropping it drops nothing.
    pub fn another_node(&self) -> anyhow::Result<TestDatabase> {
        Ok(TestDatabase { url: self.url.clone(), dir: tempfile::tempdir()?, postgres: None })
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    /// Runs `statements` on this database, beneath the store (migrated first): a history made to
    /// look older, or a failure planted where only the database can plant it.
    pub async fn execute(&self, statements: &[&str]) -> anyhow::Result<()> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                let store = store::sqlite::open(path).await?;
                for statement in statements {
                    sqlx::raw_sql(statement).execute(store.pool()).await?;
                }
                store.pool().close().await;
            }
            DatabaseUrl::Postgres(url) => {
                let store = store::postgres::open(url).await?;
                for statement in statements {
                    sqlx::raw_sql(statement).execute(store.pool()).await?;
                }
                store.pool().close().await;
            }
        }
        Ok(())
    }
}

/// A fresh, uniquely named PostgreSQL database.
pub struct PostgresDatabase {
    pub name: String,
    pub url: String,
}

impl PostgresDatabase {
    pub async fn create() -> anyhow::Result<Self> {
        let admin_url = postgres_admin_url();
        let options = PgConnectOptions::from_str(&admin_url)?;
        let mut admin = PgConnection::connect_with(&options).await.map_err(|error| {
            anyhow::anyhow!("cannot reach PostgreSQL at {admin_url} ({error}); start it or set BATON_TEST_POSTGRES_URL")
        })?;
        let name = format!("baton_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await?;
        admin.close().await?;
        let base = admin_url.split('?').next().unwrap_or(&admin_url);
        let server = base.rsplit_once('/').map(|(server, _database)| server).unwrap_or(base);
        Ok(PostgresDatabase { url: format!("{server}/{name}"), name })
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside (or outside) a runtime; a thread of its own can always block on one.
        let dropped = std::thread::spawn(move || -> anyhow::Result<()> {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let options = PgConnectOptions::from_str(&postgres_admin_url())?;
                let mut admin = PgConnection::connect_with(&options).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin).await?;
                admin.close().await?;
                Ok(())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(error)) => eprintln!("could not drop test database {}: {error:#}", self.name),
            Err(_) => eprintln!("could not drop test database {}: the dropping thread panicked", self.name),
        }
    }
}
