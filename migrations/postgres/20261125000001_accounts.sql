-- Accounts, sessions and the audit trail. Times are Unix milliseconds, as in the SQLite schema.

CREATE TABLE users (
    id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,          -- normalised: trimmed, lower case
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('agent', 'lead', 'supervisor', 'admin')),
    password_hash TEXT    NOT NULL,                 -- argon2id PHC string
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);

-- A session is stored under the SHA-256 of its token: a copy of this table logs nobody in.
CREATE TABLE sessions (
    token_hash TEXT   PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE audit_log (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at       BIGINT NOT NULL,
    actor_id BIGINT REFERENCES users (id),         -- NULL: the command line or the demo seed
    action   TEXT   NOT NULL,
    subject  TEXT   NOT NULL,
    detail   TEXT   NOT NULL DEFAULT ''
);
