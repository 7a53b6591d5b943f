//! How common a query's words are, from PostgreSQL's own statistics of the search index
//! (`pg_stats.most_common_elems` of `search_docs.vector`, which `ANALYZE` and autovacuum keep):
//! read every few minutes and kept here, so deciding whether a search takes the rare or the common
//! path costs nothing per query.
//!
//! Why not ask the index: counting a common word's documents in a GIN index builds a bitmap of all
//! of them (tens of milliseconds for a word in most messages) even under `LIMIT`, and the planner
//! cannot tell a common prefix (`'pedi':*`) from a rare one. The statistics list the most common
//! lexemes with their frequencies, so a prefix's share is the sum of the lexemes it starts.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use baton_shared::search::{Part, Query};

/// How long statistics read once are used before they are read again.
const FRESH_FOR: Duration = Duration::from_secs(300);

/// The lexemes PostgreSQL counts as most common in the search documents, and how many there are.
#[derive(Debug, Default)]
pub(super) struct TermFrequencies {
    /// Search documents in all (`pg_class.reltuples`).
    documents: f64,
    /// Each common lexeme with the share of documents holding it.
    common: Vec<(String, f64)>,
    /// The smallest share listed: a lexeme not listed is rarer.
    least: f64,
}

impl TermFrequencies {
    /// From `pg_stats` rows (lexeme, frequency in millionths) and the documents in all; `None` when
    /// the table was never analyzed (no estimate beats a wrong one).
    pub(super) fn new(documents: i64, rows: Vec<(String, i64)>) -> Option<TermFrequencies> {
        if documents <= 0 || rows.is_empty() {
            return None;
        }
        let common: Vec<(String, f64)> =
            rows.into_iter().map(|(lexeme, millionths)| (lexeme, millionths as f64 / 1e6)).collect();
        let least = common.iter().map(|(_, share)| *share).fold(1.0, f64::min);
        Some(TermFrequencies { documents: documents as f64, common, least })
    }

    /// About how many documents match `query`: each part's share (a prefix: the lexemes it
    /// starts; a phrase: its rarest character; unlisted: half the least listed share), multiplied
    /// as if the parts were independent, as PostgreSQL's own estimate does.
    pub(super) fn documents_matching(&self, query: &Query) -> f64 {
        let share_of = |lexeme: &str, exact: bool| {
            let share: f64 = self
                .common
                .iter()
                .filter(|(listed, _)| if exact { listed == lexeme } else { listed.starts_with(lexeme) })
                .map(|(_, share)| share)
                .sum();
            if share > 0.0 { share.min(1.0) } else { self.least / 2.0 }
        };
        let share: f64 = query
            .parts
            .iter()
            .map(|part| match part {
                Part::Prefix(word) => share_of(word, false),
                Part::Phrase(characters) => {
                    characters.iter().map(|character| share_of(character, true)).fold(1.0, f64::min)
                }
            })
            .product();
        share * self.documents
    }
}

/// The statistics last read, shared by every search.
#[derive(Default)]
pub(super) struct TermStats {
    read: Mutex<Option<(Instant, Option<Arc<TermFrequencies>>)>>,
}

impl TermStats {
    /// The statistics if read within [`FRESH_FOR`]: `Some(None)` when they were read and there
    /// were none; `None` when they must be read (again).
    pub(super) fn fresh(&self) -> Option<Option<Arc<TermFrequencies>>> {
        let read = self.read.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        read.as_ref().filter(|(at, _)| at.elapsed() < FRESH_FOR).map(|(_, frequencies)| frequencies.clone())
    }

    pub(super) fn keep(&self, frequencies: Option<TermFrequencies>) -> Option<Arc<TermFrequencies>> {
        let frequencies = frequencies.map(Arc::new);
        let mut read = self.read.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *read = Some((Instant::now(), frequencies.clone()));
        frequencies
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frequencies() -> TermFrequencies {
        let rows = vec![("pedido".to_owned(), 720_000), ("pedir".to_owned(), 10_000), ("prazo".to_owned(), 270_000)];
        TermFrequencies::new(1_000_000, rows).expect("analyzed")
    }

    #[test]
    fn a_prefix_counts_every_listed_lexeme_it_starts() {
        let estimate = frequencies().documents_matching(&Query::parse("pedi"));
        assert!((estimate - 730_000.0).abs() < 1.0, "{estimate}");
    }

    #[test]
    fn an_unlisted_word_is_rarer_than_the_least_listed() {
        let estimate = frequencies().documents_matching(&Query::parse("zq123"));
        assert!((estimate - 5_000.0).abs() < 1.0, "{estimate}");
    }

    #[test]
    fn parts_multiply_and_a_phrase_is_as_rare_as_its_rarest_character() {
        let both = frequencies().documents_matching(&Query::parse("pedido prazo"));
        assert!((both - 194_400.0).abs() < 1.0, "{both}");
        let rows = vec![("退".to_owned(), 100_000), ("款".to_owned(), 20_000)];
        let cjk = TermFrequencies::new(1_000_000, rows).expect("analyzed");
        assert!((cjk.documents_matching(&Query::parse("退款")) - 20_000.0).abs() < 1.0);
    }

    #[test]
    fn a_table_never_analyzed_has_no_estimate() {
        assert!(TermFrequencies::new(-1, vec![("a".to_owned(), 1)]).is_none());
        assert!(TermFrequencies::new(10, Vec::new()).is_none());
    }
}
