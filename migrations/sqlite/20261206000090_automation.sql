-- Automation: the Automation actor's account, what tags the messages it sends, its settings and
-- its durable timers.

-- The `Automation` actor: events, messages, notes and claims made by Baton itself carry this
-- account. It has no password (no hash verifies '!') and is disabled, so nobody can log in as it;
-- the store never lists, counts or assigns it.
INSERT INTO users (id, email, name, role, password_hash, disabled, created_at, updated_at)
VALUES (0, 'automation@baton.invalid', 'Baton', 'agent', '!', 1, 0, 0);

-- What sent an outbound message by itself (greeting, away, queue_ack …); NULL: a person.
ALTER TABLE messages ADD COLUMN automation TEXT;
CREATE INDEX messages_automated ON messages (conversation_id, created_at) WHERE automation IS NOT NULL;

-- Settings documents edited by admins (business hours, auto-replies …), each JSON with a version
-- that every saved change moves on (an edit based on an older version is refused).
CREATE TABLE automation_settings (
    key        TEXT    NOT NULL PRIMARY KEY,
    version    INTEGER NOT NULL,
    definition TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- Work automation owes a conversation, kept in the database so that no timer lives only in one
-- process: what a customer message asks of the auto-replies, a snooze's end, an SLA deadline.
-- A node takes a due job by setting `locked_until` (another node may take it once that passed:
-- its taker died) and deletes it when done; what it does is idempotent, so a job done twice
-- (taken again after a crash) changes nothing the second time.
CREATE TABLE automation_jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    key             TEXT    NOT NULL UNIQUE,          -- 'message:<id>', 'snooze:<conversation>' …
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    kind            TEXT    NOT NULL,
    payload         TEXT    NOT NULL DEFAULT '{}',
    due_at          INTEGER NOT NULL,
    locked_until    INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX automation_jobs_due ON automation_jobs (due_at);
