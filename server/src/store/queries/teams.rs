//! Teams and their members.

use async_trait::async_trait;
use baton_shared::model::{Change, ConversationEvent, Priority};
use baton_shared::teams::{AssignmentModel, Membership, Team, TeamRequest};
use baton_shared::{ConversationId, TeamId, UserId};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Transaction, Type};

use super::{Sql, SqlStore, rows, unique_as};
use crate::store::teams::TeamStore;
use crate::store::{StoreError, StoreResult};

const TEAM_COLUMNS: &str = "id, name, model, sticky, sticky_days, grace_minutes";

#[derive(sqlx::FromRow)]
struct TeamRow {
    id: i64,
    name: String,
    model: String,
    sticky: bool,
    sticky_days: i64,
    grace_minutes: i64,
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    team_id: i64,
    user_id: i64,
    capacity: i64,
}

/// A count stored as a non-negative integer.
fn count(value: i64, what: &str) -> StoreResult<u32> {
    u32::try_from(value).map_err(|_| rows::corrupt(format!("{what} {value}")))
}

fn team_of(row: TeamRow, members: &[MemberRow]) -> StoreResult<Team> {
    let model = AssignmentModel::parse(&row.model).ok_or_else(|| rows::corrupt(format!("model {}", row.model)))?;
    let members = members
        .iter()
        .filter(|member| member.team_id == row.id)
        .map(|member| Ok(Membership { user: UserId(member.user_id), capacity: count(member.capacity, "capacity")? }))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Team {
        id: TeamId(row.id),
        name: row.name,
        model,
        sticky: row.sticky,
        sticky_days: count(row.sticky_days, "sticky_days")?,
        grace_minutes: count(row.grace_minutes, "grace_minutes")?,
        members,
    })
}

/// What an audit line says of a team's settings.
fn settings_detail(settings: &TeamRequest) -> String {
    format!(
        "{} model={} sticky={} sticky_days={} grace_minutes={}",
        settings.name,
        settings.model.as_str(),
        settings.sticky,
        settings.sticky_days,
        settings.grace_minutes
    )
}

impl<DB: Sql> SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'r> i64: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    for<'r> bool: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    for<'r> String: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    for<'r> &'r str: Encode<'r, DB> + Type<DB> + ColumnIndex<DB::Row>,
    for<'r> &'r [u8]: Encode<'r, DB> + Type<DB>,
    for<'r> Vec<u8>: Decode<'r, DB> + Type<DB>,
    for<'r> Option<i64>: Encode<'r, DB>,
    for<'r> Option<bool>: Encode<'r, DB>,
    for<'r> Option<String>: Encode<'r, DB>,
    for<'r> Option<&'r str>: Encode<'r, DB>,
    usize: ColumnIndex<DB::Row>,
{
    async fn team_in(tx: &mut Transaction<'static, DB>, id: TeamId) -> StoreResult<Option<Team>> {
        let row: Option<TeamRow> = sqlx::query_as(&format!("SELECT {TEAM_COLUMNS} FROM teams WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&mut **tx)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let members: Vec<MemberRow> =
            sqlx::query_as("SELECT team_id, user_id, capacity FROM team_members WHERE team_id = $1 ORDER BY user_id")
                .bind(id.0)
                .fetch_all(&mut **tx)
                .await?;
        team_of(row, &members).map(Some)
    }
}

#[async_trait]
impl<DB: Sql> TeamStore for SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'r> i64: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    for<'r> bool: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    for<'r> String: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    for<'r> &'r str: Encode<'r, DB> + Type<DB> + ColumnIndex<DB::Row>,
    for<'r> &'r [u8]: Encode<'r, DB> + Type<DB>,
    for<'r> Vec<u8>: Decode<'r, DB> + Type<DB>,
    for<'r> Option<i64>: Encode<'r, DB>,
    for<'r> Option<bool>: Encode<'r, DB>,
    for<'r> Option<String>: Encode<'r, DB>,
    for<'r> Option<&'r str>: Encode<'r, DB>,
    usize: ColumnIndex<DB::Row>,
{
    async fn teams(&self) -> StoreResult<Vec<Team>> {
        let rows: Vec<TeamRow> =
            sqlx::query_as(&format!("SELECT {TEAM_COLUMNS} FROM teams")).fetch_all(&self.pool).await?;
        let members: Vec<MemberRow> =
            sqlx::query_as("SELECT team_id, user_id, capacity FROM team_members ORDER BY team_id, user_id")
                .fetch_all(&self.pool)
                .await?;
        let mut teams = rows.into_iter().map(|row| team_of(row, &members)).collect::<StoreResult<Vec<_>>>()?;
        // Sorted here: the two databases collate text differently.
        teams.sort_by_cached_key(|team| (team.name.to_lowercase(), team.id));
        Ok(teams)
    }

    async fn team(&self, id: TeamId) -> StoreResult<Option<Team>> {
        let mut tx = self.pool.begin().await?;
        let team = Self::team_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(team)
    }

    async fn create_team(&self, settings: &TeamRequest, actor: UserId, now: i64) -> StoreResult<Team> {
        let mut tx = self.write_transaction().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO teams (name, name_key, model, sticky, sticky_days, grace_minutes, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(&settings.name)
        .bind(settings.name.to_lowercase())
        .bind(settings.model.as_str())
        .bind(settings.sticky)
        .bind(i64::from(settings.sticky_days))
        .bind(i64::from(settings.grace_minutes))
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|error| unique_as(error, StoreError::NameTaken))?;
        Self::insert_audit(&mut tx, now, Some(actor), "team.create", &format!("team:{id}"), &settings_detail(settings))
            .await?;
        let team = Self::team_in(&mut tx, TeamId(id)).await?.ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(team)
    }

    async fn update_team(&self, id: TeamId, settings: &TeamRequest, actor: UserId, now: i64) -> StoreResult<Team> {
        let mut tx = self.write_transaction().await?;
        let updated = sqlx::query(
            "UPDATE teams SET name = $2, name_key = $3, model = $4, sticky = $5, sticky_days = $6, \
             grace_minutes = $7, updated_at = $8 WHERE id = $1",
        )
        .bind(id.0)
        .bind(&settings.name)
        .bind(settings.name.to_lowercase())
        .bind(settings.model.as_str())
        .bind(settings.sticky)
        .bind(i64::from(settings.sticky_days))
        .bind(i64::from(settings.grace_minutes))
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|error| unique_as(error, StoreError::NameTaken))?;
        if DB::rows_affected(&updated) == 0 {
            return Err(StoreError::NotFound);
        }
        Self::insert_audit(&mut tx, now, Some(actor), "team.update", &format!("team:{id}"), &settings_detail(settings))
            .await?;
        let team = Self::team_in(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(team)
    }

    async fn delete_team(&self, id: TeamId, actor: UserId, now: i64) -> StoreResult<Vec<ConversationEvent>> {
        let mut tx = self.write_transaction().await?;
        let found: Option<i64> = sqlx::query_scalar(DB::LOCK_TEAM).bind(id.0).fetch_optional(&mut *tx).await?;
        found.ok_or(StoreError::NotFound)?;
        // Its conversations stay where they are, with whoever holds them, in the general inbox.
        let moved: Vec<(i64, i64)> =
            sqlx::query_as("SELECT id, priority FROM conversations WHERE team_id = $1 ORDER BY id")
                .bind(id.0)
                .fetch_all(&mut *tx)
                .await?;
        let mut events = Vec::with_capacity(moved.len());
        for (conversation, rank) in moved {
            let conversation = ConversationId(conversation);
            Self::lock_conversation(&mut tx, conversation).await?;
            // Moved to another team since it was listed: not this team's any more.
            let moved = sqlx::query("UPDATE conversations SET team_id = NULL WHERE id = $1 AND team_id = $2")
                .bind(conversation.0)
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
            if DB::rows_affected(&moved) == 0 {
                continue;
            }
            let priority = Priority::from_rank(rank).ok_or_else(|| rows::corrupt(format!("priority {rank}")))?;
            let change = Change::Triaged { team: None, priority, rule: None, by_default: false };
            events.push(Self::append_event(&mut tx, conversation, Some(actor), change, now).await?);
        }
        let name: String =
            sqlx::query_scalar("DELETE FROM teams WHERE id = $1 RETURNING name").bind(id.0).fetch_one(&mut *tx).await?;
        Self::insert_audit(&mut tx, now, Some(actor), "team.delete", &format!("team:{id}"), &name).await?;
        tx.commit().await?;
        Ok(events)
    }

    async fn set_team_members(&self, id: TeamId, members: &[Membership], actor: UserId, now: i64) -> StoreResult<Team> {
        let mut tx = self.write_transaction().await?;
        // Read under the write lock (PostgreSQL: the team's row), so two edits apply one after the
        // other, each to the list as the other left it.
        let found: Option<i64> = sqlx::query_scalar(DB::LOCK_TEAM).bind(id.0).fetch_optional(&mut *tx).await?;
        if found.is_none() {
            return Err(StoreError::NotFound);
        }
        let before: Vec<(i64, Option<i64>)> =
            sqlx::query_as("SELECT user_id, last_assigned_at FROM team_members WHERE team_id = $1")
                .bind(id.0)
                .fetch_all(&mut *tx)
                .await?;
        sqlx::query("DELETE FROM team_members WHERE team_id = $1").bind(id.0).execute(&mut *tx).await?;
        for member in members {
            // A member who stays keeps when they were last given work (balanced's tie-break).
            let last_assigned = before.iter().find(|(user, _)| *user == member.user.0).and_then(|(_, at)| *at);
            sqlx::query(
                "INSERT INTO team_members (team_id, user_id, capacity, last_assigned_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(id.0)
            .bind(member.user.0)
            .bind(i64::from(member.capacity))
            .bind(last_assigned)
            .execute(&mut *tx)
            .await
            .map_err(|error| unique_as(error, StoreError::Changed))?;
        }
        let detail =
            members.iter().map(|member| format!("{}:{}", member.user, member.capacity)).collect::<Vec<_>>().join(" ");
        Self::insert_audit(&mut tx, now, Some(actor), "team.members", &format!("team:{id}"), &detail).await?;
        let team = Self::team_in(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(team)
    }
}
