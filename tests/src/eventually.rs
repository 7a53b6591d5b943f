//! [`eventually`]: waits for something the test cannot be told about (an asynchronous save, a
//! page's redraw) by asking again until it holds or a deadline passes; the failure names what was
//! last seen. Only for outcomes with no signal to await: readiness is awaited, never slept on.

use std::fmt::Debug;
use std::future::Future;
use std::time::{Duration, Instant};

/// What one look found: a value (done) or what was seen instead (look again).
pub trait Outcome {
    type Value;
    fn into_result(self) -> Result<Self::Value, String>;
}

impl<T> Outcome for Option<T> {
    type Value = T;
    fn into_result(self) -> Result<T, String> {
        self.ok_or_else(|| "nothing yet".to_owned())
    }
}

impl<T, E: Debug> Outcome for Result<T, E> {
    type Value = T;
    fn into_result(self) -> Result<T, String> {
        self.map_err(|seen| format!("{seen:?}"))
    }
}

/// How to let the rest of the test run between two looks.
#[derive(Clone, Copy, Debug)]
pub enum Between {
    /// Sleep on tokio's clock (a real one: the wait is short and grows to 50 ms).
    Sleep,
    /// Only yield: on a paused, held clock ([`crate::paused`]) a sleep would never end.
    Yield,
}

/// Calls `check` until it answers `Some`/`Ok`, for at most `within` of real time; an error of
/// `check` itself ends the wait at once. Fails with the last observation (`Err`'s value).
pub async fn eventually<O: Outcome, F: Future<Output = anyhow::Result<O>>>(
    within: Duration,
    check: impl FnMut() -> F,
) -> anyhow::Result<O::Value> {
    eventually_with(within, Between::Sleep, check).await
}

/// [`eventually`], letting other tasks run between looks as `between` says.
pub async fn eventually_with<O: Outcome, F: Future<Output = anyhow::Result<O>>>(
    within: Duration,
    between: Between,
    mut check: impl FnMut() -> F,
) -> anyhow::Result<O::Value> {
    // Real time: the paused clock's tests bound their waits for I/O with it too.
    let started = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        let seen = match check().await?.into_result() {
            Ok(value) => return Ok(value),
            Err(seen) => seen,
        };
        anyhow::ensure!(started.elapsed() < within, "still not so after {within:?}; last seen: {seen}");
        match between {
            Between::Sleep => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Between::Yield => tokio::task::yield_now().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn returns_the_value_once_the_check_holds() -> anyhow::Result<()> {
        let mut looks = 0;
        let value = eventually(Duration::from_secs(5), || {
            looks += 1;
            let looked = looks;
            async move { Ok(if looked < 3 { Err(format!("look {looked}")) } else { Ok(looked) }) }
        })
        .await?;
        assert_eq!(value, 3);
        Ok(())
    }

    #[tokio::test]
    async fn fails_with_the_last_observation() {
        let outcome = eventually(Duration::from_millis(30), || async { Ok(Err::<(), _>("still 2 of 3")) }).await;
        let message = outcome.err().map(|error| error.to_string()).unwrap_or_default();
        assert!(message.contains("\"still 2 of 3\""), "{message}");
    }

    #[tokio::test]
    async fn an_error_of_the_check_ends_the_wait() {
        let started = Instant::now();
        let outcome: anyhow::Result<()> =
            eventually(Duration::from_secs(60), || async { Err::<Option<()>, _>(anyhow::anyhow!("database gone")) })
                .await;
        assert!(outcome.is_err_and(|error| error.to_string() == "database gone"));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn nothing_found_reads_as_such() {
        let outcome = eventually(Duration::ZERO, || async { Ok(None::<()>) }).await;
        assert!(outcome.is_err_and(|error| error.to_string().ends_with("last seen: nothing yet")));
    }
}
