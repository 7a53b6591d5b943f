//! Automation's settings as admins edit them: one versioned JSON document per subject, read
//! whole and replaced whole (a save based on an older version is refused, so two admins cannot
//! overwrite each other unseen). A document never saved reads as its default at version 0.

use baton_shared::UserId;
use baton_shared::automation::Versioned;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::store::{Store, StoreResult};

/// Business hours: [`baton_shared::automation::HoursSettings`].
pub const HOURS: &str = "hours";
/// The auto-replies: [`baton_shared::automation::AutoReplies`].
pub const AUTO_REPLIES: &str = "auto_replies";
/// The menu bot's menu: [`baton_shared::menu::Menu`].
pub const MENU: &str = "menu";
/// Service-level targets and auto-resolve: [`baton_shared::sla::SlaSettings`].
pub const SLA: &str = "sla";
/// The rating request on resolve: [`baton_shared::csat::CsatSettings`].
pub const CSAT: &str = "csat";

/// The document under `key`, or its default if never saved. One that no longer parses (written
/// by a newer Baton) is logged and read as the default, never an error on the paths that use it.
pub async fn load<T: DeserializeOwned + Default>(store: &dyn Store, key: &str) -> StoreResult<Versioned<T>> {
    Ok(match store.automation_settings(key).await? {
        None => Versioned { version: 0, value: T::default() },
        Some((version, definition)) => match parse(Some(&definition)) {
            Ok(value) => Versioned { version, value },
            Err(error) => {
                tracing::error!(key, %error, "stored automation settings do not parse: defaults used");
                Versioned { version, value: T::default() }
            }
        },
    })
}

/// A document as stored (`None`: never saved, its default), or why it does not parse.
pub fn parse<T: DeserializeOwned + Default>(definition: Option<&str>) -> Result<T, serde_json::Error> {
    definition.map_or_else(|| Ok(T::default()), serde_json::from_str)
}

/// Saves `value` over version `base_version`; answers the document as saved.
pub async fn save<T: Serialize + Clone>(
    store: &dyn Store,
    key: &str,
    value: &T,
    base_version: u32,
    actor: UserId,
    now: i64,
) -> StoreResult<Versioned<T>> {
    let definition = serde_json::to_string(value)
        .map_err(|error| crate::store::StoreError::Database(sqlx::Error::Encode(error.into())))?;
    let version = store.save_automation_settings(key, &definition, base_version, actor, now).await?;
    Ok(Versioned { version, value: value.clone() })
}
