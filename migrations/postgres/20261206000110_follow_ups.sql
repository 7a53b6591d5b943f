-- Follow-ups and service levels: a snoozed conversation's wake-up time, and the clocks that
-- measure the teams' targets (first response, next response, resolution).

-- Pending until then: automation reopens it (its job is in automation_jobs).
ALTER TABLE conversations ADD COLUMN snoozed_until BIGINT;
-- The most urgent running clock, kept with the clocks in the same transactions so the inbox
-- list reads it without a join: its kind, deadline, and when it was missed (if it was).
ALTER TABLE conversations ADD COLUMN sla_kind TEXT;
ALTER TABLE conversations ADD COLUMN sla_due_at BIGINT;
ALTER TABLE conversations ADD COLUMN sla_breached_at BIGINT;

-- At most one response clock (first or next response) and one resolution clock per
-- conversation. A clock runs until met; one missed stays running (breached) until met.
CREATE TABLE sla_clocks (
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    slot            TEXT NOT NULL CHECK (slot IN ('response', 'resolution')),
    kind            TEXT NOT NULL CHECK (kind IN ('first_response', 'next_response', 'resolution')),
    started_at      BIGINT NOT NULL,
    due_at          BIGINT NOT NULL,
    met_at          BIGINT,
    breached_at     BIGINT,
    PRIMARY KEY (conversation_id, slot)
);
