-- Search: one document per searchable thing (a message, a note), holding the terms it is found
-- under — cut and folded by Baton (`shared/src/search.rs`), the same for both databases — kept
-- in the transaction that writes the thing, so it is searchable as soon as it is acknowledged.
-- SQLite's FTS5 index is an external-content table over `search_docs`, kept by triggers.
CREATE TABLE search_docs (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL,                 -- 'message', 'note'
    ref_id          INTEGER NOT NULL,                 -- the message's or note's id
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    direction       TEXT,                             -- a message's: 'inbound' or 'outbound'
    at              INTEGER NOT NULL,                 -- when it was written (Unix ms)
    terms           TEXT    NOT NULL,
    UNIQUE (kind, ref_id)
) STRICT;

CREATE INDEX search_docs_conversation ON search_docs (conversation_id, at);

-- Terms are separated by single spaces and hold only letters, digits and marks: the tokenizer
-- cuts at the spaces and nowhere else (marks count as word characters: Devanagari's vowel signs
-- stay in their word), and folds nothing (Baton folded already).
CREATE VIRTUAL TABLE search_fts USING fts5(
    terms,
    content = 'search_docs',
    content_rowid = 'id',
    tokenize = "unicode61 remove_diacritics 0 categories 'L* N* Co M*'",
    -- Prefix indexes for the beginnings people type most (two and three characters): a short
    -- prefix is looked up, not walked term by term.
    prefix = '2 3'
);

CREATE TRIGGER search_docs_inserted AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_fts (rowid, terms) VALUES (new.id, new.terms);
END;

CREATE TRIGGER search_docs_deleted AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, terms) VALUES ('delete', old.id, old.terms);
END;

CREATE TRIGGER search_docs_updated AFTER UPDATE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, terms) VALUES ('delete', old.id, old.terms);
    INSERT INTO search_fts (rowid, terms) VALUES (new.id, new.terms);
END;
