-- Replies on their way to WhatsApp, written in the transaction that stores the reply: a reply is
-- never stored without being queued, nor sent without being stored.
CREATE TABLE outbox (
    id              BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id      BIGINT  NOT NULL UNIQUE REFERENCES messages (id),
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    done_at         BIGINT,                           -- accepted by WhatsApp, or given up
    last_error      TEXT
);

CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE done_at IS NULL;
