//! Group commit: concurrent callers of one write share a transaction. A caller queues its request
//! and waits for its answer or a turn (a few turns at once, one where the database serialises
//! writers); the caller whose turn comes while its request is still queued takes every request
//! queued by then, and runs them together in a task of their own, which answers everyone. Nobody
//! waits for a batch to fill: a lone request runs at once, and a burst is taken in as few
//! transactions as the turns allow — while one batch commits, the next gathers.
//!
//! A batch runs in its own task so that no caller's cancellation (a client gone mid-request) can
//! abandon it half-way, after it committed but before it answered the others. A caller cancelled
//! while its request waits takes it back out of the queue; once taken, it runs.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::{Semaphore, oneshot};

use super::{StoreError, StoreResult};

/// Requests of type `R` waiting to be run together, each answered with a `StoreResult<T>`.
pub struct GroupCommit<R, T> {
    pending: Arc<Mutex<Vec<Queued<R, T>>>>,
    turns: Arc<Semaphore>,
    next_ticket: AtomicU64,
}

struct Queued<R, T> {
    ticket: u64,
    request: R,
    answer: oneshot::Sender<StoreResult<T>>,
}

/// Takes a cancelled caller's request back out of the queue.
struct Withdraw<'a, R, T> {
    pending: &'a Mutex<Vec<Queued<R, T>>>,
    ticket: u64,
    armed: bool,
}

impl<R, T> Drop for Withdraw<'_, R, T> {
    fn drop(&mut self) {
        if self.armed {
            lock(self.pending).retain(|queued| queued.ticket != self.ticket);
        }
    }
}

fn lock<Q>(pending: &Mutex<Vec<Q>>) -> MutexGuard<'_, Vec<Q>> {
    pending.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<R: Send + 'static, T: Send + 'static> GroupCommit<R, T> {
    /// `leaders`: how many batches may run at once.
    pub fn new(leaders: usize) -> Self {
        GroupCommit {
            pending: Arc::default(),
            turns: Arc::new(Semaphore::new(leaders.max(1))),
            next_ticket: AtomicU64::new(0),
        }
    }

    /// Runs `request` in a batch with whatever else is queued. `run` gets a batch in the order
    /// its requests came and answers each, in the same order.
    pub async fn submit<F, Fut>(&self, request: R, run: F) -> StoreResult<T>
    where
        F: FnOnce(Vec<R>) -> Fut,
        Fut: Future<Output = Vec<StoreResult<T>>> + Send + 'static,
    {
        let ticket = self.next_ticket.fetch_add(1, Ordering::Relaxed);
        let (answer, mut answered) = oneshot::channel();
        lock(&self.pending).push(Queued { ticket, request, answer });
        let mut withdraw = Withdraw { pending: &self.pending, ticket, armed: true };
        // Wait for the answer, or for a turn while the request is still queued: then lead.
        let (turn, batch) = loop {
            // An answer ready is taken before a turn: a batch just answered its followers, who
            // need not queue for the turn to find out.
            let turn = tokio::select! {
                biased;
                answer = &mut answered => {
                    withdraw.armed = false;
                    return answer.unwrap_or(Err(StoreError::Unanswered));
                }
                turn = self.turns.clone().acquire_owned() => turn,
            };
            let Ok(turn) = turn else { return Err(StoreError::Unanswered) };
            let mut pending = lock(&self.pending);
            if pending.iter().any(|queued| queued.ticket == ticket) {
                break (turn, std::mem::take(&mut *pending));
            }
            // Another leader took it: its answer comes.
        };
        withdraw.armed = false;
        let (requests, answers): (Vec<R>, Vec<oneshot::Sender<StoreResult<T>>>) =
            batch.into_iter().map(|queued| (queued.request, queued.answer)).unzip();
        let running = run(requests);
        tokio::spawn(async move {
            let mut results = running.await.into_iter();
            for answer in answers {
                // A caller that stopped waiting is no error. One the batch did not answer (a bug)
                // gets an error, not a panic.
                let _ = answer.send(results.next().unwrap_or(Err(StoreError::Unanswered)));
            }
            drop(turn);
        });
        // Unanswered only if the batch's task panicked.
        answered.await.unwrap_or(Err(StoreError::Unanswered))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn a_lone_request_runs_alone_at_once() {
        let group = GroupCommit::<u32, u32>::new(1);
        let batches = Arc::new(Mutex::new(Vec::new()));
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
    async fn a_batch_outlives_its_cancelled_leader_and_answers_the_others() {
        let group = Arc::new(GroupCommit::<u32, u32>::new(1));
        // Both queue while the only turn is taken; the first then leads a batch of both and is
        // cancelled while the batch runs.
        let held = group.turns.clone().acquire_owned().await.expect("open");
        let (started, mut start) = tokio::sync::mpsc::unbounded_channel();
        let (finish, finishing) = oneshot::channel::<()>();
        let leader = {
            let group = group.clone();
            tokio::spawn(async move {
                group
                    .submit(1, |batch| {
                        let _ = started.send(batch.clone());
                        async move {
                            let _ = finishing.await;
                            batch.into_iter().map(|request| Ok(request * 10)).collect()
                        }
                    })
                    .await
            })
        };
        let follower = {
            let group = group.clone();
            tokio::spawn(async move { group.submit(3, |_| async { Vec::new() }).await })
        };
        while lock(&group.pending).len() < 2 {
            tokio::task::yield_now().await;
        }
        drop(held);
        assert_eq!(start.recv().await, Some(vec![1, 3]), "the leader took both");
        leader.abort();
        let _ = finish.send(());
        assert_eq!(follower.await.expect("follower").ok(), Some(30), "answered by the batch's own task");
    }

    #[tokio::test]
    async fn a_cancelled_caller_takes_its_request_back() {
        let group = Arc::new(GroupCommit::<u32, u32>::new(1));
        let held = group.turns.clone().acquire_owned().await.expect("open");
        let waiting = {
            let group = group.clone();
            tokio::spawn(async move { group.submit(5, |_| async { Vec::new() }).await })
        };
        while lock(&group.pending).is_empty() {
            tokio::task::yield_now().await;
        }
        waiting.abort();
        let _ = waiting.await;
        assert!(lock(&group.pending).is_empty(), "nobody will run a request nobody waits for");
        drop(held);
    }

    #[tokio::test]
    async fn a_runner_that_answers_short_gives_an_error_not_a_panic() {
        let group = GroupCommit::<u32, u32>::new(1);
        let answer = group.submit(1, |_| async { Vec::new() }).await;
        assert!(answer.is_err());
    }
}
