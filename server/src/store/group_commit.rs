//! Group commit: concurrent callers of one write share a transaction. A caller queues its request
//! and waits for a turn (a few turns at once, one where the database serialises writers); the
//! caller whose turn comes takes every request queued by then and runs them together, and the
//! others find their answers ready. Nobody waits for a batch to fill: a lone request runs at once,
//! and a burst is taken in as few transactions as the turns allow — while one batch commits, the
//! next gathers.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::{Semaphore, oneshot};

use super::{StoreError, StoreResult};

/// Requests of type `R` waiting to be run together, each answered with a `StoreResult<T>`.
pub struct GroupCommit<R, T> {
    pending: Mutex<Vec<Queued<R, T>>>,
    turns: Semaphore,
    next_ticket: AtomicU64,
}

struct Queued<R, T> {
    ticket: u64,
    request: R,
    answer: oneshot::Sender<StoreResult<T>>,
}

impl<R: Clone, T> GroupCommit<R, T> {
    /// `leaders`: how many batches may run at once.
    pub fn new(leaders: usize) -> Self {
        GroupCommit {
            pending: Mutex::new(Vec::new()),
            turns: Semaphore::new(leaders.max(1)),
            next_ticket: AtomicU64::new(0),
        }
    }

    fn pending(&self) -> MutexGuard<'_, Vec<Queued<R, T>>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `request` in a batch with whatever else is queued. `run` gets a batch in the order
    /// its requests came and answers each, in the same order.
    pub async fn submit<F, Fut>(&self, request: R, run: F) -> StoreResult<T>
    where
        F: Fn(Vec<R>) -> Fut,
        Fut: Future<Output = Vec<StoreResult<T>>>,
    {
        loop {
            let ticket = self.next_ticket.fetch_add(1, Ordering::Relaxed);
            let (answer, mut answered) = oneshot::channel();
            self.pending().push(Queued { ticket, request: request.clone(), answer });
            let Ok(turn) = self.turns.acquire().await else {
                return Err(no_answer());
            };
            match answered.try_recv() {
                Ok(answer) => return answer,
                // The leader that took it was dropped before answering (its task was cancelled):
                // queue it again.
                Err(oneshot::error::TryRecvError::Closed) => continue,
                Err(oneshot::error::TryRecvError::Empty) => {}
            }
            let taken = {
                let mut pending = self.pending();
                let queued = pending.iter().any(|queued| queued.ticket == ticket);
                queued.then(|| std::mem::take(&mut *pending))
            };
            let Some(batch) = taken else {
                // Another leader is running it now.
                drop(turn);
                match answered.await {
                    Ok(answer) => return answer,
                    Err(_) => continue,
                }
            };
            let (requests, answers): (Vec<R>, Vec<Answer<T>>) =
                batch.into_iter().map(|queued| (queued.request, (queued.ticket, queued.answer))).unzip();
            let mut results = run(requests).await.into_iter();
            let mut mine = Err(no_answer());
            for (queued_ticket, answer) in answers {
                let result = results.next().unwrap_or_else(|| Err(no_answer()));
                if queued_ticket == ticket {
                    mine = result;
                } else {
                    // A caller that stopped waiting is no error.
                    let _ = answer.send(result);
                }
            }
            drop(turn);
            return mine;
        }
    }
}

type Answer<T> = (u64, oneshot::Sender<StoreResult<T>>);

/// What a request gets if the batch's runner did not answer it (a bug, never a panic).
fn no_answer() -> StoreError {
    StoreError::Database(sqlx::Error::Protocol("a group commit left a request unanswered".into()))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn a_lone_request_runs_alone_at_once() {
        let group = GroupCommit::<u32, u32>::new(1);
        let batches = Mutex::new(Vec::new());
        let answer = group
            .submit(7, |batch| {
                batches.lock().expect("not poisoned").push(batch.clone());
                async move { batch.into_iter().map(|request| Ok(request * 2)).collect() }
            })
            .await;
        assert_eq!(answer.ok(), Some(14));
        assert_eq!(*batches.lock().expect("not poisoned"), [vec![7]]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_shares_batches_and_everyone_gets_their_own_answer() {
        let group = Arc::new(GroupCommit::<u32, u32>::new(1));
        let batches = Arc::new(Mutex::new(Vec::<usize>::new()));
        let mut callers = Vec::new();
        for request in 0..200u32 {
            let (group, batches) = (group.clone(), batches.clone());
            callers.push(tokio::spawn(async move {
                group
                    .submit(request, |batch| {
                        let batches = batches.clone();
                        async move {
                            batches.lock().expect("not poisoned").push(batch.len());
                            // A commit takes a while: the next batch gathers meanwhile.
                            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                            batch.into_iter().map(|request| Ok(request + 1000)).collect()
                        }
                    })
                    .await
            }));
        }
        for (request, caller) in callers.into_iter().enumerate() {
            assert_eq!(caller.await.expect("caller").ok(), Some(request as u32 + 1000));
        }
        let batches = batches.lock().expect("not poisoned");
        assert_eq!(batches.iter().sum::<usize>(), 200, "each request ran once");
        assert!(batches.len() < 100, "requests shared transactions: {} batches", batches.len());
    }

    #[tokio::test]
    async fn a_request_whose_leader_was_cancelled_runs_again() {
        let group = Arc::new(GroupCommit::<u32, u32>::new(1));
        // Both queue while the only turn is taken; the first then leads a batch of both and is
        // cancelled mid-batch.
        let held = group.turns.acquire().await.expect("open");
        let (started, mut start) = tokio::sync::mpsc::unbounded_channel();
        let leader = {
            let group = group.clone();
            tokio::spawn(async move {
                group
                    .submit(1, |batch| {
                        let started = started.clone();
                        async move {
                            let _ = started.send(batch);
                            std::future::pending::<()>().await;
                            Vec::new()
                        }
                    })
                    .await
            })
        };
        let follower = {
            let group = group.clone();
            tokio::spawn(async move {
                group
                    .submit(3, |batch| async move { batch.into_iter().map(|request| Ok(request * 10)).collect() })
                    .await
            })
        };
        while group.pending().len() < 2 {
            tokio::task::yield_now().await;
        }
        drop(held);
        assert_eq!(start.recv().await, Some(vec![1, 3]), "the leader took both");
        leader.abort();
        assert_eq!(follower.await.expect("follower").ok(), Some(30), "queued again and answered");
    }

    #[tokio::test]
    async fn a_runner_that_answers_short_gives_an_error_not_a_panic() {
        let group = GroupCommit::<u32, u32>::new(1);
        let answer = group.submit(1, |_| async { Vec::new() }).await;
        assert!(answer.is_err());
    }
}
