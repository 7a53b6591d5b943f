//! Account operations: validate, hash, go to the store. Shared by the REST handlers, the
//! `baton user add` command and the demo seed, so every path applies the same rules.

use std::net::IpAddr;
use std::time::Instant;

use baton_shared::api::{Role, User};
use baton_shared::{ErrorCode, UserId};

use crate::clock::now_ms;
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
        && !email.chars().any(char::is_whitespace)
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
pub async fn create(
    store: &dyn Store,
    passwords: &Passwords,
    account: NewAccount,
    actor: Option<UserId>,
) -> Result<User, AppError> {
    let email = normalize_email(&account.email);
    let name = account.name.trim().to_owned();
    check_email(&email).map_err(AppError::invalid)?;
    check_name(&name).map_err(AppError::invalid)?;
    check_new_password(&account.password).map_err(AppError::invalid)?;
    let password_hash = passwords.hash(account.password).await?;
    let new = NewUser { email, name, role: account.role, password_hash };
    Ok(store.create_user(&new, actor, now_ms()).await?)
}

/// Changes a user's role and/or disabled flag. Disabling ends the user's sessions at once.
pub async fn update(state: &AppState, id: UserId, patch: UserPatch, actor: UserId) -> Result<User, AppError> {
    Ok(state.store.update_user(id, patch, Some(actor), now_ms()).await?)
}

/// The one answer for every wrong email/password combination.
fn invalid_credentials() -> AppError {
    AppError::new(ErrorCode::InvalidCredentials, "The email or password is incorrect.")
}

/// Checks a login. Unknown emails, wrong passwords and disabled accounts get the same answer after
/// the same work; repeated failures are throttled per email and per client address.
pub async fn login(state: &AppState, email: &str, password: String, client: IpAddr) -> Result<User, AppError> {
    let email = normalize_email(email);
    let address = client.to_string();
    let throttle = &state.login_throttle;
    let now = Instant::now();
    for check in [throttle.accounts.check(&email, now), throttle.addresses.check(&address, now)] {
        if let Err(wait) = check {
            return Err(AppError::Throttled { retry_after_secs: wait.as_secs().max(1) });
        }
    }
    if password.len() > crate::passwords::MAX_LENGTH {
        return Err(invalid_credentials());
    }
    let credentials = state.store.credentials(&email).await?;
    let (user, stored) = match credentials {
        Some(found) => (Some(found.user), Some(found.password_hash)),
        None => (None, None),
    };
    let verified = state.passwords.verify(password, stored).await?;
    match user {
        Some(user) if verified && !user.disabled => {
            throttle.accounts.record_success(&email);
            Ok(user)
        }
        _ => {
            let now = Instant::now();
            throttle.accounts.record_failure(&email, now);
            throttle.addresses.record_failure(&address, now);
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
        for bad in ["", "alice", "@example.com", "alice@", "alice@localhost", "a b@example.com", "a@b@c.com"] {
            assert!(check_email(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("Alice Agent").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name(&"x".repeat(101)).is_err());
        assert!(check_name("line\nbreak").is_err());
    }
}
