-- Contacts as the team keeps them: a display name the team may set, email, company, labels,
-- custom attributes (JSON by key, defined in `contact_attributes`), a blocked flag; every edit
-- audited in `contact_changes`; and their search terms (names, email, company, attribute values,
-- labels — cut and folded by Baton, `shared/src/search.rs`) as a `tsvector` (GIN), kept in the
-- transaction that writes them. `terms` is NULL until the contact is indexed (contacts stored
-- before this migration are indexed by the server's search backlog). Numbers are found by any
-- run of their digits through a trigram index (`pg_trgm`).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE contacts ADD COLUMN display_name TEXT;
ALTER TABLE contacts ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN company TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN labels TEXT NOT NULL DEFAULT '[]';
ALTER TABLE contacts ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';
ALTER TABLE contacts ADD COLUMN blocked BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE contacts ADD COLUMN updated_at BIGINT;
ALTER TABLE contacts ADD COLUMN terms TEXT;
ALTER TABLE contacts ADD COLUMN vector TSVECTOR NOT NULL DEFAULT ''::tsvector;

CREATE INDEX contacts_by_activity ON contacts (last_inbound_at);
CREATE INDEX contacts_vector ON contacts USING GIN (vector);
CREATE INDEX contacts_digits ON contacts USING GIN (wa_id gin_trgm_ops);

CREATE TABLE contact_attributes (
    key      TEXT   PRIMARY KEY,
    position BIGINT NOT NULL,
    label    TEXT   NOT NULL,
    kind     TEXT   NOT NULL                          -- `AttributeKind` as JSON
);

CREATE TABLE contact_changes (
    id         BIGSERIAL PRIMARY KEY,
    contact_id BIGINT    NOT NULL REFERENCES contacts (id),
    at         BIGINT    NOT NULL,
    actor_id   BIGINT,                                -- NULL for Baton itself
    actor_name TEXT      NOT NULL,
    field      TEXT      NOT NULL,
    old_value  TEXT,
    new_value  TEXT
);

CREATE INDEX contact_changes_by_contact ON contact_changes (contact_id, id);
