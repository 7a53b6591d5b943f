//! Search's text rules, one implementation for both databases and the app: how text becomes the
//! terms it is indexed under ([`index_terms`]), how a query becomes what each database matches
//! ([`Query`]), and how a hit's snippet marks the words that matched ([`snippet`]).
//!
//! **Terms.** Text is folded as the rules' keywords are ([`fold`]: case, Latin/Greek/Cyrillic
//! accents, Arabic's short vowels and letter forms aside; Devanagari's vowel signs kept), then cut
//! into words at everything that is neither a letter, a digit nor a combining mark. Scripts
//! written without spaces between words — Chinese (Han), Japanese kana — are cut into single
//! characters: "退款申请" is indexed as 退 款 申 请, and a query for "退款" matches those two
//! characters side by side (a phrase), wherever they stand. That finds every word of a Chinese or
//! Japanese text without a dictionary; it also finds a sequence across a word boundary, which a
//! dictionary would not. Thai, also written without spaces, is kept in space-separated runs: a
//! query finds a run by its beginning only (a stated limit).
//!
//! **Matching.** Every word of a query must match (AND); a word matches any indexed word that
//! starts with it ("refu" finds "refund", "ana" finds "Ana Lima"); a run of Han or kana must
//! appear as written. The databases get exactly these terms — SQLite's FTS5 splits only at the
//! spaces between them, PostgreSQL's `tsvector` is built from them — so both find the same.

use serde::{Deserialize, Serialize};

use crate::ids::{ConversationId, TeamId, UserId};
use crate::model::{ConversationStatus, Direction};
use crate::routing_rules::fold;

/// The longest query looked at (characters); the rest is ignored.
pub const MAX_QUERY_CHARS: usize = 200;
/// The most words of a query used.
pub const MAX_QUERY_TERMS: usize = 12;
/// The longest term kept (characters): a longer word (a link, a code) is indexed and looked for
/// by its first ones — PostgreSQL refuses lexemes over 2 KB, and nobody types more.
pub const MAX_TERM_CHARS: usize = 60;

/// `word` cut to [`MAX_TERM_CHARS`].
fn clamp(word: &str) -> String {
    match word.char_indices().nth(MAX_TERM_CHARS) {
        Some((at, _)) => word[..at].to_owned(),
        None => word.to_owned(),
    }
}

/// Whether a character is written without spaces between words and indexed on its own.
fn stands_alone(character: char) -> bool {
    matches!(u32::from(character),
        0x3040..=0x30FF        // Hiragana, Katakana
        | 0x3400..=0x4DBF      // CJK extension A
        | 0x4E00..=0x9FFF      // CJK unified ideographs
        | 0xF900..=0xFAFF      // CJK compatibility ideographs
        | 0x20000..=0x2EBEF) // CJK extensions B–F
}

/// Whether a character belongs to a word: a letter, a digit, or a mark on one.
fn in_word(character: char) -> bool {
    character.is_alphanumeric() || crate::routing_rules::is_combining(character)
}

/// A piece of text cut into words: each word's byte range in the text, and whether it stands
/// alone (Han, kana).
fn words(text: &str) -> Vec<(usize, usize, bool)> {
    let mut found = Vec::new();
    let mut start: Option<usize> = None;
    for (at, character) in text.char_indices() {
        let end = at + character.len_utf8();
        if stands_alone(character) && in_word(character) {
            if let Some(begun) = start.take() {
                found.push((begun, at, false));
            }
            found.push((at, end, true));
        } else if in_word(character) {
            start.get_or_insert(at);
        } else if let Some(begun) = start.take() {
            found.push((begun, at, false));
        }
    }
    if let Some(begun) = start {
        found.push((begun, text.len(), false));
    }
    found
}

/// The terms `text` is indexed under, in order.
pub fn index_terms(text: &str) -> Vec<String> {
    let folded = fold(text);
    words(&folded).into_iter().map(|(start, end, _)| clamp(&folded[start..end])).collect()
}

/// [`index_terms`] as one string, the terms separated by single spaces: what the databases store.
pub fn index_text(text: &str) -> String {
    index_terms(text).join(" ")
}

/// Positions PostgreSQL keeps in a `tsvector` (later words share the last).
const MAX_POSITION: usize = 16_383;

/// `terms` as a PostgreSQL `tsvector` literal with positions (`'refund':1 'late':2`): built by
/// Baton, not parsed by PostgreSQL, so it holds exactly Baton's terms. Terms hold only letters,
/// digits and marks: quoting them is enough.
pub fn tsvector_literal(terms: &[String]) -> String {
    let mut literal = String::new();
    for (index, term) in terms.iter().enumerate() {
        if !literal.is_empty() {
            literal.push(' ');
        }
        literal.push_str(&format!("'{term}':{}", (index + 1).min(MAX_POSITION)));
    }
    literal
}

/// A part of a query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// Matches any word starting with it.
    Prefix(String),
    /// Characters that stand alone, which must appear side by side, in this order.
    Phrase(Vec<String>),
}

/// A search query, as the databases match it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    pub parts: Vec<Part>,
}

impl Query {
    pub fn parse(text: &str) -> Query {
        let text: String = text.chars().take(MAX_QUERY_CHARS).collect();
        let folded = fold(&text);
        let mut parts: Vec<Part> = Vec::new();
        let mut run: Vec<String> = Vec::new();
        let mut last_end = 0;
        for (start, end, alone) in words(&folded) {
            let word = clamp(&folded[start..end]);
            // A run of characters that stand alone continues only without a gap between them.
            let continues = alone && start == last_end && !run.is_empty();
            if !continues && !run.is_empty() {
                parts.push(Part::Phrase(std::mem::take(&mut run)));
            }
            if alone {
                run.push(word);
            } else {
                parts.push(Part::Prefix(word));
            }
            last_end = end;
        }
        if !run.is_empty() {
            parts.push(Part::Phrase(run));
        }
        parts.dedup();
        parts.truncate(MAX_QUERY_TERMS);
        Query { parts }
    }

    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// The FTS5 match expression: `"refu"* "退 款"`.
    pub fn fts5(&self) -> String {
        let parts: Vec<String> = self
            .parts
            .iter()
            .map(|part| match part {
                Part::Prefix(word) => format!("\"{word}\"*"),
                Part::Phrase(characters) => format!("\"{}\"", characters.join(" ")),
            })
            .collect();
        parts.join(" ")
    }

    /// The PostgreSQL `tsquery`: `'refu':* & '退' <-> '款'`. Terms hold no quote or backslash
    /// (only letters, digits and marks), so quoting them is enough.
    pub fn tsquery(&self) -> String {
        let parts: Vec<String> = self
            .parts
            .iter()
            .map(|part| match part {
                Part::Prefix(word) => format!("'{word}':*"),
                Part::Phrase(characters) => {
                    let quoted: Vec<String> = characters.iter().map(|character| format!("'{character}'")).collect();
                    format!("({})", quoted.join(" <-> "))
                }
            })
            .collect();
        parts.join(" & ")
    }

    /// Whether a document indexed under `terms` (space-separated, as stored) matches: every part
    /// does — a prefix starts some term, a phrase's characters stand side by side — exactly as
    /// FTS5 and the `tsquery` decide. For looking through a few documents already at hand (a
    /// conversation's), where asking the index again would cost more.
    pub fn matches_terms(&self, terms: &str) -> bool {
        let terms: Vec<&str> = terms.split(' ').filter(|term| !term.is_empty()).collect();
        self.parts.iter().all(|part| match part {
            Part::Prefix(word) => terms.iter().any(|term| term.starts_with(word.as_str())),
            Part::Phrase(characters) => {
                !characters.is_empty()
                    && terms.windows(characters.len()).any(|window| {
                        window.iter().zip(characters).all(|(term, character)| *term == character.as_str())
                    })
            }
        })
    }

    /// Whether the word `folded` (one indexed term) is one this query looks for.
    fn matches(&self, folded: &str) -> bool {
        self.parts.iter().any(|part| match part {
            Part::Prefix(word) => folded.starts_with(word.as_str()),
            Part::Phrase(characters) => characters.iter().any(|character| character == folded),
        })
    }
}

/// Characters of context kept before the first matching word of a snippet.
const CONTEXT_BEFORE: usize = 40;

/// A piece of a snippet; `hit` marks the words the query matched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Piece {
    pub text: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hit: bool,
}

/// A snippet of `text` of about `length` characters around the first word `query` matches, the
/// matching words marked; "…" where it was cut.
pub fn snippet(text: &str, query: &Query, length: usize) -> Vec<Piece> {
    let marked: Vec<(usize, usize)> = words(text)
        .into_iter()
        .filter(|(start, end, _)| {
            let word = fold(&text[*start..*end]);
            query.matches(&word)
        })
        .map(|(start, end, _)| (start, end))
        .collect();
    // The window: from a little before the first hit, `length` characters on.
    let first = marked.first().map_or(0, |(start, _)| *start);
    let before: Vec<(usize, char)> = text[..first].char_indices().collect();
    let context = CONTEXT_BEFORE.min(length / 3);
    let mut from = before.len().checked_sub(context).and_then(|index| before.get(index)).map_or(0, |(at, _)| *at);
    // Start at a word's beginning.
    if from > 0
        && let Some((space, character)) =
            text[from..first].char_indices().find(|(_, character)| character.is_whitespace())
    {
        from += space + character.len_utf8();
    }
    let to = text[from..].char_indices().nth(length).map_or(text.len(), |(at, _)| from + at);
    let mut pieces = Vec::new();
    if from > 0 {
        pieces.push(Piece { text: "…".into(), hit: false });
    }
    let mut at = from;
    for (start, end) in marked.into_iter().filter(|(start, end)| *start >= from && *end <= to) {
        if start > at {
            pieces.push(Piece { text: text[at..start].to_owned(), hit: false });
        }
        pieces.push(Piece { text: text[start..end].to_owned(), hit: true });
        at = end;
    }
    if to > at {
        pieces.push(Piece { text: text[at..to].to_owned(), hit: false });
    }
    if to < text.len() {
        pieces.push(Piece { text: "…".into(), hit: false });
    }
    pieces
}

/// What of a message is searchable: its text or caption, and a file's name or a place's; nothing
/// for a reaction.
pub fn message_text(message: &crate::model::Message) -> String {
    use crate::model::MessageContent;
    let mut text = message.body.clone();
    let extra = match message.content.as_deref() {
        Some(MessageContent::Reaction { .. }) => return String::new(),
        Some(MessageContent::Media { filename: Some(name), .. }) => Some(name.clone()),
        Some(MessageContent::Location { name, address, .. }) => {
            Some([name.as_deref(), address.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" "))
        }
        _ => None,
    };
    if let Some(extra) = extra.filter(|extra| !extra.is_empty() && !text.contains(extra.as_str())) {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&extra);
    }
    text
}

/// The digits of a phone number or a query ("+91 98765-43210" → "919876543210"); a query with
/// at least [`MIN_DIGITS`] of them also finds contacts whose number contains them anywhere.
pub fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// The fewest digits that search numbers by any run of them.
pub const MIN_DIGITS: usize = 3;

/// What a hit is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HitKind {
    Message,
    Note,
    Contact,
    Labels,
}

impl HitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HitKind::Message => "message",
            HitKind::Note => "note",
            HitKind::Contact => "contact",
            HitKind::Labels => "labels",
        }
    }

    pub fn parse(text: &str) -> Option<HitKind> {
        [HitKind::Message, HitKind::Note, HitKind::Contact, HitKind::Labels]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// `GET /api/search`: the query and its filters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchRequest {
    pub q: String,
    #[serde(default)]
    pub team: Option<TeamId>,
    #[serde(default)]
    pub assignee: Option<UserId>,
    #[serde(default)]
    pub status: Option<ConversationStatus>,
    #[serde(default)]
    pub label: Option<String>,
    /// Unix ms, inclusive.
    #[serde(default)]
    pub from: Option<i64>,
    /// Unix ms, exclusive.
    #[serde(default)]
    pub to: Option<i64>,
    /// Messages in or out only (notes, contacts and labels are neither, and are left out).
    #[serde(default)]
    pub direction: Option<Direction>,
    /// Conversations per page (default 20, at most 50).
    #[serde(default)]
    pub limit: Option<u32>,
}

impl SearchRequest {
    /// Whether no conversation filter is set (the query alone).
    pub fn is_unfiltered(&self) -> bool {
        self.team.is_none()
            && self.assignee.is_none()
            && self.status.is_none()
            && self.label.is_none()
            && self.from.is_none()
            && self.to.is_none()
            && self.direction.is_none()
    }
}

/// One hit in a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    pub kind: HitKind,
    /// The message's or note's id (the contact's for a contact, the conversation's for labels).
    pub id: i64,
    /// When it was written (Unix ms).
    pub at: i64,
    pub snippet: Vec<Piece>,
}

/// A conversation with hits, newest hit first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchGroup {
    pub conversation: ConversationId,
    pub customer: String,
    pub status: ConversationStatus,
    pub team: Option<TeamId>,
    pub assignee: Option<UserId>,
    /// The newest hits (at most five).
    pub hits: Vec<SearchHit>,
    /// How many hits the conversation has in all.
    pub hit_count: u32,
}

/// `GET /api/search`'s answer: conversations with hits, the one with the newest hit first, only
/// those the asker may see (nothing of the others is counted or shown).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResults {
    pub groups: Vec<SearchGroup>,
    /// Conversations with hits, in all — or, with `total_capped`, found so far: a common word's
    /// conversations are found newest first until the page is full, not all counted.
    pub total: u32,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub total_capped: bool,
    /// Customers whose name, number, email, company, labels or attributes match (the first
    /// few, only those the asker may see; none when a conversation filter is set).
    #[serde(default)]
    pub contacts: Vec<crate::contacts::ContactRecord>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_fold_accents_and_cut_chinese_into_characters() {
        assert_eq!(index_terms("Cobrança INDEVIDA, pedido #12-34!"), ["cobranca", "indevida", "pedido", "12", "34"]);
        assert_eq!(index_terms("我要退款申请"), ["我", "要", "退", "款", "申", "请"]);
        assert_eq!(index_terms("注文はキャンセル"), ["注", "文", "は", "キ", "ャ", "ン", "セ", "ル"]);
        assert_eq!(index_terms("ン・ス"), ["ン", "ス"], "the katakana middle dot is no word");
        assert_eq!(index_terms("refund退款now"), ["refund", "退", "款", "now"]);
        assert_eq!(index_terms("أريد الفَاتُورَة"), ["اريد", "الفاتورة"], "Arabic short vowels aside");
        assert_eq!(index_terms("मुझे रिफंड चाहिए"), ["मुझे", "रिफंड", "चाहिए"], "Devanagari signs stay in the word");
        assert_eq!(index_text("Ελληνικά, ΛΟΓΑΡΙΑΣΜΟΣ"), "ελληνικα λογαριασμοσ");
    }

    #[test]
    fn a_query_is_prefixes_and_phrases_of_characters() {
        let query = Query::parse("Refu 退款 申请, ANA");
        assert_eq!(
            query.parts,
            [
                Part::Prefix("refu".into()),
                Part::Phrase(vec!["退".into(), "款".into()]),
                Part::Phrase(vec!["申".into(), "请".into()]),
                Part::Prefix("ana".into()),
            ]
        );
        assert_eq!(query.fts5(), "\"refu\"* \"退 款\" \"申 请\" \"ana\"*");
        assert_eq!(query.tsquery(), "'refu':* & ('退' <-> '款') & ('申' <-> '请') & 'ana':*");
        assert!(Query::parse(" ,.!? ").is_empty());
        assert_eq!(Query::parse("o'brien \\ \"x\"").tsquery(), "'o':* & 'brien':* & 'x':*", "no quote survives");
    }

    #[test]
    fn snippets_mark_the_matching_words_in_the_original_text() {
        let text = "Olá! Recebi uma COBRANÇA indevida no cartão, podem estornar a cobrança?";
        let pieces = snippet(text, &Query::parse("cobranca"), 200);
        let hits: Vec<&str> = pieces.iter().filter(|piece| piece.hit).map(|piece| piece.text.as_str()).collect();
        assert_eq!(hits, ["COBRANÇA", "cobrança"]);
        assert_eq!(pieces.iter().map(|piece| piece.text.as_str()).collect::<String>(), text);
        let long = format!("{} the refund is late {}", "word ".repeat(40), "tail ".repeat(40));
        let cut = snippet(&long, &Query::parse("refund"), 60);
        assert_eq!(cut.first().map(|piece| piece.text.as_str()), Some("…"));
        assert_eq!(cut.last().map(|piece| piece.text.as_str()), Some("…"));
        assert!(cut.iter().any(|piece| piece.hit && piece.text == "refund"));
        let spaced = format!("{}\u{a0}refund", "x\u{202f}".repeat(60));
        assert!(snippet(&spaced, &Query::parse("refund"), 30).iter().any(|piece| piece.hit), "wide spaces cut safely");
        let chinese = snippet("我要退款，谢谢", &Query::parse("退款"), 50);
        let hits: Vec<&str> = chinese.iter().filter(|piece| piece.hit).map(|piece| piece.text.as_str()).collect();
        assert_eq!(hits, ["退", "款"]);
    }

    #[test]
    fn a_long_word_is_kept_by_its_beginning_in_the_index_and_the_query() {
        let link = format!("https://example.com/{}", "a".repeat(3000));
        let terms = index_terms(&link);
        assert!(terms.iter().all(|term| term.chars().count() <= MAX_TERM_CHARS));
        let query = Query::parse(&"a".repeat(500));
        assert_eq!(query.parts, [Part::Prefix("a".repeat(MAX_TERM_CHARS))]);
        assert!(terms.contains(&"a".repeat(MAX_TERM_CHARS)), "so it still finds the word");
    }

    #[test]
    fn a_query_matches_terms_as_the_indexes_do() {
        let terms = index_text("Quero o reembolso: 我要退款申请 agora");
        assert!(Query::parse("reemb").matches_terms(&terms));
        assert!(Query::parse("退款 agora").matches_terms(&terms));
        assert!(!Query::parse("款退").matches_terms(&terms), "in order");
        assert!(!Query::parse("reemb nunca").matches_terms(&terms), "every part");
        assert!(!Query::parse("mbolso").matches_terms(&terms), "from a word's beginning");
    }

    #[test]
    fn digits_are_kept_from_any_number_format() {
        assert_eq!(digits("+91 98765-43210"), "919876543210");
        assert_eq!(digits("(11) 9 8765"), "1198765");
    }
}
