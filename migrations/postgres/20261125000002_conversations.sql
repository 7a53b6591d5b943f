-- Contacts, conversations, messages, notes, claims and drafts, and the per-conversation event log.
-- Every change to a conversation appends an event numbered last_seq + 1 in the same transaction.

CREATE TABLE contacts (
    id              BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    wa_id           TEXT    NOT NULL UNIQUE,
    profile_name    TEXT    NOT NULL DEFAULT '',
    created_at      BIGINT  NOT NULL,
    last_inbound_at BIGINT                           -- the 24-hour service window starts here
);

CREATE TABLE conversations (
    id              BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id      BIGINT  NOT NULL REFERENCES contacts (id),
    status          TEXT    NOT NULL CHECK (status IN ('open', 'pending', 'resolved')),
    assignee_id     BIGINT  REFERENCES users (id),
    last_seq        BIGINT  NOT NULL DEFAULT 0,      -- the newest event's seq
    last_message_at BIGINT,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);

CREATE INDEX conversations_by_contact ON conversations (contact_id, id);
CREATE INDEX conversations_by_activity ON conversations (status, last_message_at);

CREATE TABLE events (
    conversation_id BIGINT  NOT NULL REFERENCES conversations (id),
    seq             BIGINT  NOT NULL,
    at              BIGINT  NOT NULL,
    actor_id        BIGINT  REFERENCES users (id),
    change          TEXT    NOT NULL,                -- JSON of baton_shared::model::Change
    PRIMARY KEY (conversation_id, seq)
);

CREATE TABLE messages (
    id              BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id BIGINT  NOT NULL REFERENCES conversations (id),
    seq             BIGINT  NOT NULL,                -- the event that added it
    direction       TEXT    NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    kind            TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    author_id       BIGINT  REFERENCES users (id),
    wa_message_id   TEXT    UNIQUE,                  -- inbound: WhatsApp's id, the dedupe key
    idempotency_key TEXT,                            -- outbound: the client's key
    status          TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL
);

CREATE INDEX messages_by_conversation ON messages (conversation_id, seq);
CREATE UNIQUE INDEX messages_by_idempotency_key ON messages (author_id, idempotency_key);

CREATE TABLE notes (
    id              BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id BIGINT  NOT NULL REFERENCES conversations (id),
    author_id       BIGINT  NOT NULL REFERENCES users (id),
    body            TEXT    NOT NULL,
    version         BIGINT  NOT NULL,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    deleted         BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE INDEX notes_by_conversation ON notes (conversation_id, id);

-- At most one holder per conversation: a lease, taken by compare-and-set.
CREATE TABLE claims (
    conversation_id BIGINT  PRIMARY KEY REFERENCES conversations (id),
    holder_id       BIGINT  NOT NULL REFERENCES users (id),
    lease_until     BIGINT  NOT NULL,
    acquired_at     BIGINT  NOT NULL
);

-- What each user is typing, kept so it survives a reload or a change of device.
CREATE TABLE drafts (
    conversation_id BIGINT  NOT NULL REFERENCES conversations (id),
    user_id         BIGINT  NOT NULL REFERENCES users (id),
    body            TEXT    NOT NULL,
    updated_at      BIGINT  NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
