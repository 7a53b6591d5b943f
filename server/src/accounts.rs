//! Account operations: validate, hash, go to the store. Shared by the REST handlers, the
//! `baton user add` command and the demo seed, so every path applies the same rules.

use std::net::IpAddr;
use std::time::Instant;

use baton_shared::api::{Role, User};
use baton_shared::model::display_text;
use baton_shared::{ErrorCode, UserId};

use crate::clock::Clock;
use crate::error::AppError;
use crate::passwords::{Passwords, check_new_password};
use crate::state::AppState;
use crate::store::{NewUser, Store, UserPatch};

/// Longest display name accepted.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest email accepted (RFC 5321's path limit).
pub const MAX_EMAIL_BYTES: usize = 254;

/// Trims and lower-cases an email; emails are compared in this form everywhere.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A plausible email: one `@` with something on both sides and a dot in the domain. Deliverability
/// is not Baton's business; typos are.
pub fn check_email(email: &str) -> Result<(), String> {
    let plausible = email.len() <= MAX_EMAIL_BYTES
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.contains('@'));
    if plausible { Ok(()) } else { Err(format!("{email:?} is not a valid email address.")) }
}

pub fn check_name(name: &str) -> Result<(), String> {
    let chars = name.chars().count();
    if chars == 0 {
        Err("The name must not be empty.".into())
    } else if chars > MAX_NAME_CHARS {
        Err(format!("The name must have at most {MAX_NAME_CHARS} characters."))
    } else if name.chars().any(char::is_control) {
        Err("The name must not contain control characters.".into())
    } else {
        Ok(())
    }
}

/// A new account as asked for (by an admin, the command line or the demo seed).
pub struct NewAccount {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password: String,
}

/// Validates and creates an account; `actor` is the admin who asked, `None` from the command line.
/// Its creation time comes from `clock` (the server's, or the wall clock's outside a server).
pub async fn create(
    store: &dyn Store,
    passwords: &Passwords,
    account: NewAccount,
    actor: Option<UserId>,
    clock: Clock,
) -> Result<User, AppError> {
    let email = normalize_email(&account.email);
    // Characters that could make the name pass for a teammate's are dropped, not refused.
    let name = display_text(&account.name).trim().to_owned();
    check_email(&email).map_err(AppError::invalid)?;
    check_name(&name).map_err(AppError::invalid)?;
    check_new_password(&account.password).map_err(AppError::invalid)?;
    let password_hash = passwords.hash(account.password).await?;
    let new = NewUser { email, name, role: account.role, password_hash };
    Ok(store.create_user(&new, actor, clock.now_ms()).await?)
}

/// Changes a user's role and/or disabled flag. Disabling ends the user's sessions at once.
pub async fn update(
    store: &dyn Store,
    id: UserId,
    patch: UserPatch,
    actor: UserId,
    clock: Clock,
) -> Result<User, AppError> {
    Ok(store.update_user(id, patch, Some(actor), clock.now_ms()).await?)
}

/// The one answer for every wrong email/password combination.
fn invalid_credentials() -> AppError {
    AppError::new(ErrorCode::InvalidCredentials, "The email or password is incorrect.")
}

/// The throttle key of a client: its IPv4 address, or its IPv6 /64 (one customer line hands out a
/// whole /64, so single IPv6 addresses are free to an attacker). `None` for loopback: that is a
/// reverse proxy in front of Baton (or a local tool), and locking it would lock out everyone.
pub fn network_key(client: IpAddr) -> Option<String> {
    let client = match client {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    if client.is_loopback() {
        return None;
    }
    Some(match client {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let [a, b, c, d, ..] = v6.segments();
            format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
        }
    })
}

/// Checks a login. Unknown emails, malformed emails, wrong passwords and disabled accounts get the
/// same answer after the same argon2 work. Each attempt is counted, per email and per client
/// network, before the password is checked (see [`crate::throttle`]).
pub async fn login(state: &AppState, email: &str, password: String, client: Option<IpAddr>) -> Result<User, AppError> {
    let email = normalize_email(email);
    // A malformed email is never looked up (PostgreSQL refuses some bytes SQLite accepts), and its
    // throttle key is bounded in size.
    let plausible = check_email(&email).is_ok();
    let account_key = if plausible { email.clone() } else { format!("malformed:{}", email.len()) };
    let network = client.and_then(network_key);
    let throttle = &state.login_throttle;
    let now = Instant::now();
    let locked = throttle
        .accounts
        .attempt(&account_key, now)
        .and_then(|()| network.as_deref().map_or(Ok(()), |key| throttle.addresses.attempt(key, now)));
    if let Err(wait) = locked {
        tracing::warn!(client = ?client, "login refused: too many failed attempts");
        return Err(AppError::Throttled { retry_after_secs: wait.as_secs_f64().ceil() as u64 });
    }
    let credentials = if plausible && password.len() <= crate::passwords::MAX_LENGTH {
        state.store.credentials(&email).await?
    } else {
        None
    };
    let (user, stored) = match credentials {
        Some(found) => (Some(found.user), Some(found.password_hash)),
        None => (None, None),
    };
    let verified = state.passwords.verify(password, stored).await?;
    match user {
        Some(user) if verified && !user.disabled => {
            throttle.accounts.record_success(&account_key);
            if let Some(network) = &network {
                throttle.addresses.forgive_one(network);
            }
            Ok(user)
        }
        user => {
            tracing::warn!(client = ?client, user_id = ?user.map(|user| user.id), "login failed");
            Err(invalid_credentials())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(normalize_email("  Alice@Example.COM "), "alice@example.com");
        assert!(check_email("alice@example.com").is_ok());
        for bad in
            ["", "alice", "@example.com", "alice@", "alice@localhost", "a b@example.com", "a@b@c.com", "a\0@b.com"]
        {
            assert!(check_email(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn clients_are_keyed_by_network_and_loopback_is_exempt() {
        let key = |text: &str| network_key(text.parse().expect("address"));
        assert_eq!(key("203.0.113.7").as_deref(), Some("203.0.113.7"));
        assert_eq!(key("::ffff:203.0.113.7").as_deref(), Some("203.0.113.7"));
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:bbbb::2"), "one /64, one key");
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("127.0.0.1"), None);
        assert_eq!(key("::1"), None);
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("Alice Agent").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name(&"x".repeat(101)).is_err());
        assert!(check_name("line\nbreak").is_err());
    }
}
