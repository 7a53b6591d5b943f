-- Contacts as the team keeps them: a display name the team may set, email, company, labels,
-- custom attributes (JSON by key, defined in `contact_attributes`), a blocked flag; every edit
-- audited in `contact_changes`; and their search terms (names, email, company, attribute values,
-- labels — cut and folded by Baton, `shared/src/search.rs`), kept in the transaction that writes
-- them. `terms` is NULL until the contact is indexed (contacts stored before this migration are
-- indexed by the server's search backlog).
ALTER TABLE contacts ADD COLUMN display_name TEXT;
ALTER TABLE contacts ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN company TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN labels TEXT NOT NULL DEFAULT '[]';
ALTER TABLE contacts ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';
ALTER TABLE contacts ADD COLUMN blocked INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1));
ALTER TABLE contacts ADD COLUMN updated_at INTEGER;
ALTER TABLE contacts ADD COLUMN terms TEXT;

CREATE INDEX contacts_by_activity ON contacts (last_inbound_at);

CREATE TABLE contact_attributes (
    key      TEXT    PRIMARY KEY,
    position INTEGER NOT NULL,
    label    TEXT    NOT NULL,
    kind     TEXT    NOT NULL                         -- `AttributeKind` as JSON
) STRICT;

CREATE TABLE contact_changes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id INTEGER NOT NULL REFERENCES contacts (id),
    at         INTEGER NOT NULL,
    actor_id   INTEGER,                               -- NULL for Baton itself
    actor_name TEXT    NOT NULL,
    field      TEXT    NOT NULL,
    old_value  TEXT,
    new_value  TEXT
) STRICT;

CREATE INDEX contact_changes_by_contact ON contact_changes (contact_id, id);

-- Words: an external-content FTS5 index over `contacts.terms`, tokenized as `search_fts` is.
CREATE VIRTUAL TABLE contact_fts USING fts5(
    terms,
    content = 'contacts',
    content_rowid = 'id',
    tokenize = "unicode61 remove_diacritics 0 categories 'L* N* Co M*'",
    prefix = '2 3'
);

-- Numbers: a trigram index over the number's digits, so any run of three or more digits finds
-- the contacts whose number holds it ("9876" finds +91 98765 43210).
CREATE VIRTUAL TABLE contact_digits USING fts5(
    wa_id,
    content = 'contacts',
    content_rowid = 'id',
    tokenize = 'trigram'
);

-- Every contact in both indexes from the start (with no terms until indexed), so the triggers'
-- deletes always remove what was inserted.
INSERT INTO contact_fts (contact_fts) VALUES ('rebuild');
INSERT INTO contact_digits (contact_digits) VALUES ('rebuild');

CREATE TRIGGER contacts_inserted AFTER INSERT ON contacts BEGIN
    INSERT INTO contact_fts (rowid, terms) VALUES (new.id, COALESCE(new.terms, ''));
    INSERT INTO contact_digits (rowid, wa_id) VALUES (new.id, new.wa_id);
END;

-- Only when the terms change: a customer message updates its contact's row on every delivery.
CREATE TRIGGER contacts_terms_updated AFTER UPDATE OF terms ON contacts BEGIN
    INSERT INTO contact_fts (contact_fts, rowid, terms) VALUES ('delete', old.id, COALESCE(old.terms, ''));
    INSERT INTO contact_fts (rowid, terms) VALUES (new.id, COALESCE(new.terms, ''));
END;

CREATE TRIGGER contacts_deleted AFTER DELETE ON contacts BEGIN
    INSERT INTO contact_fts (contact_fts, rowid, terms) VALUES ('delete', old.id, COALESCE(old.terms, ''));
    INSERT INTO contact_digits (contact_digits, rowid, wa_id) VALUES ('delete', old.id, old.wa_id);
END;
