-- Search: one document per searchable thing (a message, a note), holding the terms it is found
-- under — cut and folded by Baton (`shared/src/search.rs`), the same for both databases — kept
-- in the transaction that writes the thing, so it is searchable as soon as it is acknowledged.
-- PostgreSQL indexes them as a `tsvector` (GIN), built with the `simple` configuration from the
-- space-separated terms, which hold only letters, digits and marks.
CREATE TABLE search_docs (
    id              BIGSERIAL PRIMARY KEY,
    kind            TEXT      NOT NULL,               -- 'message', 'note'
    ref_id          BIGINT    NOT NULL,               -- the message's or note's id
    conversation_id BIGINT    NOT NULL REFERENCES conversations (id),
    direction       TEXT,                             -- a message's: 'inbound' or 'outbound'
    at              BIGINT    NOT NULL,               -- when it was written (Unix ms)
    terms           TEXT      NOT NULL,
    vector          TSVECTOR  NOT NULL,
    UNIQUE (kind, ref_id)
);

CREATE INDEX search_docs_conversation ON search_docs (conversation_id, at);
CREATE INDEX search_docs_vector ON search_docs USING GIN (vector);
