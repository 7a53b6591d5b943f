//! Password hashing: argon2id with OWASP's parameters (m = 19456 KiB, t = 2, p = 1), stored as PHC
//! strings. Hashing is deliberately slow, so it runs on the blocking pool, never on a runtime
//! thread, and at most one hash per core runs at once: a burst of logins queues (briefly) instead
//! of taking 19 MiB and a thread each; past [`QUEUE_PATIENCE`] the caller is told to retry. A login for an unknown email still verifies against a fixed dummy hash, so the answer
//! takes as long as for a real account and timing does not reveal which emails exist.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

/// OWASP's recommended argon2id configuration (Password Storage Cheat Sheet).
pub const MEMORY_KIB: u32 = 19_456;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;

/// Shortest password accepted (NIST SP 800-63B asks for at least 8).
pub const MIN_LENGTH: usize = 8;
/// Longest password accepted: bounds the work one login request can cause.
pub const MAX_LENGTH: usize = 1024;

/// How long a hash waits for a free core before giving up.
pub const QUEUE_PATIENCE: Duration = Duration::from_secs(5);

/// Every hashing slot was busy for [`QUEUE_PATIENCE`].
#[derive(Debug, thiserror::Error)]
#[error("password hashing is saturated")]
pub struct Saturated;

/// Hashes and verifies passwords. Cheap to clone.
#[derive(Clone)]
pub struct Passwords {
    inner: Arc<Inner>,
}

struct Inner {
    argon2: Argon2<'static>,
    /// One permit per core.
    slots: Semaphore,
    /// A hash of a random password, verified against when the account does not exist.
    dummy_hash: String,
}

impl Passwords {
    pub fn new() -> anyhow::Result<Self> {
        let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
            .map_err(|error| anyhow::anyhow!("argon2 parameters: {error}"))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut random = [0u8; 24];
        getrandom::fill(&mut random).map_err(|error| anyhow::anyhow!("random source: {error}"))?;
        let dummy_hash = hash_with(&argon2, &hex::encode(random))?;
        let cores = std::thread::available_parallelism().map(usize::from).unwrap_or(2);
        Ok(Passwords { inner: Arc::new(Inner { argon2, slots: Semaphore::new(cores), dummy_hash }) })
    }

    /// Runs `work` on the blocking pool once a hashing slot is free.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Inner) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let permit = tokio::time::timeout(QUEUE_PATIENCE, self.inner.slots.acquire())
            .await
            .map_err(|_elapsed| anyhow::Error::new(Saturated))?
            .context("hashing slots closed")?;
        let inner = self.inner.clone();
        let outcome = tokio::task::spawn_blocking(move || work(&inner)).await.context("password hashing task")?;
        drop(permit);
        outcome
    }

    /// Hashes `password` into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
    pub async fn hash(&self, password: String) -> anyhow::Result<String> {
        self.run(move |inner| hash_with(&inner.argon2, &password)).await
    }

    /// Checks `password` against `stored` (or against the dummy hash when `stored` is `None`, in
    /// which case the answer is always `false`, after the same amount of work).
    pub async fn verify(&self, password: String, stored: Option<String>) -> anyhow::Result<bool> {
        self.run(move |inner| {
            let real = stored.is_some();
            let hash = stored.as_deref().unwrap_or(&inner.dummy_hash);
            let parsed = PasswordHash::new(hash).map_err(|error| anyhow::anyhow!("stored hash: {error}"))?;
            let matches = inner.argon2.verify_password(password.as_bytes(), &parsed).is_ok();
            Ok(real && matches)
        })
        .await
    }
}

fn hash_with(argon2: &Argon2<'static>, password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|error| anyhow::anyhow!("random source: {error}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|error| anyhow::anyhow!("salt: {error}"))?;
    let hash = argon2.hash_password(password.as_bytes(), &salt).map_err(|error| anyhow::anyhow!("hashing: {error}"))?;
    Ok(hash.to_string())
}

/// Checks a new password against the length rules; the error is a sentence for the user.
pub fn check_new_password(password: &str) -> Result<(), String> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        Err(format!("The password must have at least {MIN_LENGTH} characters."))
    } else if password.len() > MAX_LENGTH {
        Err(format!("The password must have at most {MAX_LENGTH} bytes."))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_phc_strings_with_owasp_parameters() -> anyhow::Result<()> {
        let passwords = Passwords::new()?;
        let hash = passwords.hash("correct horse".into()).await?;
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(passwords.verify("correct horse".into(), Some(hash.clone())).await?);
        assert!(!passwords.verify("wrong horse".into(), Some(hash.clone())).await?);
        let again = passwords.hash("correct horse".into()).await?;
        assert_ne!(hash, again, "every hash has its own salt");
        Ok(())
    }

    #[tokio::test]
    async fn unknown_accounts_never_verify() -> anyhow::Result<()> {
        let passwords = Passwords::new()?;
        assert!(!passwords.verify(String::new(), None).await?);
        assert!(!passwords.verify("anything".into(), None).await?);
        Ok(())
    }

    #[test]
    fn new_passwords_have_bounded_length() {
        assert!(check_new_password("short").is_err());
        assert!(check_new_password("long enough").is_ok());
        assert!(check_new_password(&"x".repeat(MAX_LENGTH + 1)).is_err());
    }
}
