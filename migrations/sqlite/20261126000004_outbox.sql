-- Replies on their way to WhatsApp, written in the transaction that stores the reply: a reply is
-- never stored without being queued, nor sent without being stored.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id      INTEGER NOT NULL UNIQUE REFERENCES messages (id),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    done_at         INTEGER,                          -- accepted by WhatsApp, or given up
    last_error      TEXT
) STRICT;

CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE done_at IS NULL;
