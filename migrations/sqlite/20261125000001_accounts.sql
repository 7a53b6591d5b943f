-- Accounts, sessions and the audit trail. Times are Unix milliseconds.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL UNIQUE,          -- normalised: trimmed, lower case
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('agent', 'lead', 'supervisor', 'admin')),
    password_hash TEXT    NOT NULL,                 -- argon2id PHC string
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

-- A session is stored under the SHA-256 of its token: a copy of this table logs nobody in.
CREATE TABLE sessions (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       INTEGER NOT NULL,
    actor_id INTEGER REFERENCES users (id),       -- NULL: the command line or the demo seed
    action   TEXT    NOT NULL,
    subject  TEXT    NOT NULL,
    detail   TEXT    NOT NULL DEFAULT ''
) STRICT;
