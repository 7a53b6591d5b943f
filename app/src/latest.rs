//! Asking the server again whenever what a page shows depends on changes, keeping only the
//! newest answer: answers can come back out of order, and one overtaken by a newer question must
//! not overwrite it.

use std::future::Future;

use leptos::prelude::*;
use leptos::task::spawn_local;

/// An effect: whenever what `question` reads changes, asks `ask` with its value and hands the
/// answer to `apply` — unless a newer question was asked meanwhile.
pub fn ask_latest<Q, A, Fut>(
    question: impl Fn() -> Q + 'static,
    ask: impl Fn(Q) -> Fut + 'static,
    apply: impl Fn(A) + Copy + 'static,
) where
    Q: 'static,
    A: 'static,
    Fut: Future<Output = A> + 'static,
{
    let generation = StoredValue::new(0_u64);
    Effect::new(move |_| {
        let asked = question();
        generation.update_value(|value| *value += 1);
        let mine = generation.get_value();
        let answer = ask(asked);
        spawn_local(async move {
            let answer = answer.await;
            if generation.get_value() == mine {
                apply(answer);
            }
        });
    });
}
